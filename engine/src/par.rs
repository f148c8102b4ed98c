//! A small parallel map for pure, independent work items (parsing a chart's templates,
//! reading the heads of its rendered documents): results come back in input order, so callers
//! stay deterministic and report the first failure in order, as the sequential loop would.

use std::sync::atomic::{AtomicUsize, Ordering};

/// The work recurses (the parsers do, once per nesting level, as Go's do): worker threads get
/// the main thread's usual stack size.
const STACK: usize = 8 << 20;

/// Threads worth using on this machine, at most `max`. The machine's count is asked once:
/// `available_parallelism` reads the cgroup files on every call (three opens and reads, as
/// long as a small template's whole parse), and a render asks at every parallel step.
pub fn threads(max: usize) -> usize {
    static CPUS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    (*CPUS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))).min(max)
}

/// Runs `one(i)` for every `i < n` on `threads` threads (the caller's included), each taking
/// the next index from a shared counter, and returns the results in index order. With fewer
/// than two threads it is a plain loop.
pub fn map_indexed<T: Send>(n: usize, threads: usize, one: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    if threads < 2 || n < 2 {
        return (0..n).map(one).collect();
    }
    let (slots, _) = map_until(0..n, threads, one, &|_| false);
    // A thread that panicked leaves its items empty; they are done again here, where the
    // panic (if it repeats) surfaces on the caller's thread.
    slots.into_iter().enumerate().map(|(i, r)| r.unwrap_or_else(|| one(i))).collect()
}

/// Like [`map_indexed`] over the indices `range`, but once an item's result satisfies `stops`
/// no item after it is started (those already running finish). Returns the results by
/// position in `range` (`None` for items not run, and for those of a thread that panicked)
/// and whether a thread panicked. Every item before the first stopping one is run.
pub fn map_until<T: Send>(
    range: std::ops::Range<usize>,
    threads: usize,
    one: &(dyn Fn(usize) -> T + Sync),
    stops: &(dyn Fn(&T) -> bool + Sync),
) -> (Vec<Option<T>>, bool) {
    let base = range.start;
    let next = AtomicUsize::new(range.start);
    let stop = AtomicUsize::new(usize::MAX);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= range.end || i > stop.load(Ordering::Relaxed) {
                return done;
            }
            let r = one(i);
            if stops(&r) {
                stop.fetch_min(i, Ordering::Relaxed);
            }
            done.push((i, r));
        }
    };
    let mut slots: Vec<Option<T>> = range.clone().map(|_| None).collect();
    let mut panicked = false;
    std::thread::scope(|s| {
        let handles: Vec<_> = (1..threads.min(range.len()))
            .filter_map(|_| std::thread::Builder::new().stack_size(STACK).spawn_scoped(s, work).ok())
            .collect();
        for (i, r) in work() {
            slots[i - base] = Some(r);
        }
        for h in handles {
            match h.join() {
                Ok(done) => {
                    for (i, r) in done {
                        slots[i - base] = Some(r);
                    }
                }
                Err(_) => panicked = true,
            }
        }
    });
    (slots, panicked)
}
