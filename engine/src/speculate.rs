//! Running independent template executions side by side while keeping the meaning of running
//! them one after another.
//!
//! Helm executes a chart's templates in a fixed order, and a template may change what later
//! ones see: Go maps are shared references, so `{{ $_ := set .Values "x" 1 }}` or cilium's
//! `set . "commonCA" $ca` in one template is visible in every template after it. Most templates
//! never write to a map that existed before they started, and those can run in any order, on
//! any thread, with the same result.
//!
//! A [`Round`] tells the two apart at run time. Every [`crate::Map`] records the epoch it was
//! made in; a round starts a new epoch, and an execution run with [`Round::run`] that tries to
//! write to a map from an earlier epoch is stopped *before* the write (the map is left as it
//! was) and reported as [`Outcome::Conflict`]. The caller keeps the results of the executions
//! before the first conflict in its order, runs the conflicting one alone and for real, and
//! starts a new round for the rest: exactly what running them in order would have produced.

use std::cell::Cell;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, Ordering};

/// The current epoch. Maps made now are stamped with it; 0 is reserved for maps that must be
/// treated as shared whatever round is running (see [`crate::Map::into_shared`]).
static EPOCH: AtomicU32 = AtomicU32::new(1);

thread_local! {
    /// The epoch of the round this thread is executing in, 0 when it is not speculating.
    static ACTIVE: Cell<u32> = const { Cell::new(0) };
}

/// The unwinding payload that ends a speculative execution at its first shared write.
struct SharedWrite;

/// The epoch a new map is stamped with.
pub(crate) fn epoch() -> u32 {
    EPOCH.load(Ordering::Relaxed)
}

/// Whether this thread runs a speculative execution (key generation notes what it takes).
pub(crate) fn active() -> bool {
    ACTIVE.with(|a| a.get() != 0)
}

/// Called before every map write: a map born before the running round is shared with the
/// executions around this one, so the speculative execution ends here, the map untouched.
#[inline]
pub(crate) fn check_write(born: u32) {
    let round = ACTIVE.with(|a| a.get());
    if round != 0 && born < round {
        // `resume_unwind` does not run the panic hook: nothing is printed.
        resume_unwind(Box::new(SharedWrite));
    }
}

/// How a speculative execution ended.
pub enum Outcome<T> {
    /// It ran to the end without writing to a shared map. Its result stands if the caller
    /// [`Done::keep`]s it; dropped, whatever it consumed that can be handed back is (the primes
    /// of the RSA keys it made, which are slow to find).
    Done(T, Done),
    /// It tried to write to a map made before the round; nothing it did is visible.
    Conflict,
}

/// What a finished speculative execution consumed, returned unless kept.
pub struct Done(crate::funcs::crypto::Noted);

impl Done {
    /// The caller uses the execution's result.
    pub fn keep(self) {
        self.0.keep();
    }
}

/// One round of speculative executions, all seeing the maps as they were when it began.
pub struct Round {
    epoch: u32,
}

impl Round {
    /// Starts a round: maps made from now on are private to the execution that makes them.
    pub fn begin() -> Round {
        Round { epoch: EPOCH.fetch_add(1, Ordering::Relaxed) + 1 }
    }

    /// Runs `f` on this thread as a speculative execution of this round. Panics other than the
    /// shared-write stop are passed on.
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> Outcome<T> {
        let before = ACTIVE.with(|a| a.replace(self.epoch));
        let result = catch_unwind(AssertUnwindSafe(f));
        ACTIVE.with(|a| a.set(before));
        // Dropped unless the caller keeps the result: a conflict hands the primes back now.
        let noted = crate::funcs::crypto::take_noted_primes();
        match result {
            Ok(v) => Outcome::Done(v, Done(noted)),
            Err(payload) if payload.is::<SharedWrite>() => Outcome::Conflict,
            Err(payload) => resume_unwind(payload),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{funcs, TemplateSet, Value};

    fn set_of(text: &str) -> TemplateSet {
        let mut set = TemplateSet::new(funcs::helm());
        set.parse("t", text).unwrap();
        set
    }

    #[test]
    fn writes_to_older_maps_stop_and_leave_them_unchanged() {
        let shared = Value::empty_map();
        let set = set_of(r#"{{ $d := dict "a" 1 }}{{ $_ := set $d "b" 2 }}{{ len $d }}{{ $_ := set . "x" 1 }}"#);
        let round = Round::begin();
        assert!(matches!(round.run(|| set.execute("t", &shared)), Outcome::Conflict));
        let Value::Map(m) = &shared else { unreachable!() };
        assert!(m.is_empty(), "the shared map was written to");
        // Outside a round the same execution writes, as Go does.
        assert_eq!(set.execute("t", &shared).unwrap(), "2");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn private_maps_and_reads_run_to_the_end() {
        let shared = Value::empty_map();
        let set = set_of(r#"{{ $d := dict }}{{ $_ := set $d "k" (len .) }}{{ $d = merge $d (dict "z" 1) }}{{ toJson $d }}"#);
        let round = Round::begin();
        match round.run(|| set.execute("t", &shared)) {
            Outcome::Done(r, done) => {
                done.keep();
                assert_eq!(r.unwrap(), r#"{"k":0,"z":1}"#)
            }
            Outcome::Conflict => panic!("no shared map was written"),
        }
    }

    #[test]
    fn maps_marked_shared_stop_writes_in_any_round() {
        let set = set_of(r#"{{ $_ := set . "x" 1 }}"#);
        let round = Round::begin();
        // Made inside the round, but marked: a per-execution copy of a map the executions share.
        let Value::Map(m) = Value::empty_map() else { unreachable!() };
        let top = Value::Map(std::sync::Arc::new(m.shallow_copy().into_shared()));
        assert!(matches!(round.run(|| set.execute("t", &top)), Outcome::Conflict));
    }
}
