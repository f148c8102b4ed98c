//! A small parallel map for pure, independent work items (parsing a chart's templates,
//! reading the heads of its rendered documents): results come back in input order, so callers
//! stay deterministic and report the first failure in order, as the sequential loop would.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The work recurses (the parsers do, once per nesting level, as Go's do): worker threads get
/// the main thread's usual stack size.
const STACK: usize = 8 << 20;

/// Threads worth using on this machine, at most `max`.
pub fn threads(max: usize) -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(max)
}

/// Runs `one(i)` for every `i < n` on `threads` threads (the caller's included), each taking
/// the next index from a shared counter, and returns the results in index order. With fewer
/// than two threads it is a plain loop.
pub fn map_indexed<T: Send>(n: usize, threads: usize, one: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    if threads < 2 || n < 2 {
        return (0..n).map(one).collect();
    }
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= n {
                return done;
            }
            done.push((i, one(i)));
        }
    };
    let mut slots: Vec<Option<T>> = (0..n).map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads.min(n))
            .filter_map(|_| std::thread::Builder::new().stack_size(STACK).spawn_scoped(s, work).ok())
            .collect();
        for (i, r) in work() {
            slots[i] = Some(r);
        }
        for h in handles {
            // A thread that panicked leaves its items empty; they are done again below, where
            // the panic (if it repeats) surfaces on the caller's thread.
            if let Ok(done) = h.join() {
                for (i, r) in done {
                    slots[i] = Some(r);
                }
            }
        }
    });
    slots.into_iter().enumerate().map(|(i, r)| r.unwrap_or_else(|| one(i))).collect()
}
