//! Random primes for RSA keys (`genPrivateKey "rsa"`, `genCA`, `genSelfSignedCert`,
//! `genSignedCert`), found as fast as Go's `crypto/rsa` finds them.
//!
//! Charts like cilium generate several 2048-bit keys on every render, so prime search decides
//! their render time. `num_bigint_dig`'s `gen_prime` sieves with the primes up to 53 only and
//! then runs 20 Miller-Rabin rounds plus a Lucas test on the winner; most of its time goes into
//! modular exponentiations of candidates a wider sieve would have thrown out, and into rounds
//! Go does not run. This search instead:
//! - takes a random odd start with the top two bits set (as Go's `randomPrime`, so two such
//!   primes always make a modulus of the full size),
//! - sieves the candidates start, start+2, ... with the odd primes below 2^16 (its remainders
//!   are computed once per start, then stepped with small-integer arithmetic),
//! - runs a Miller-Rabin round with base 2 first (squarings and doublings only, about a fifth
//!   cheaper than a round with another base; nearly every composite fails it),
//! - then Go's number of Miller-Rabin rounds for the size (FIPS 186-5 / BoringSSL's table, as
//!   `crypto/internal/fips140/rsa.isPrime`: 5 rounds for the 1024-bit primes of RSA-2048) with
//!   random bases, the candidates being random and not adversarial.
//!
//! Candidates with p ≡ 1 (mod 65537) are skipped, so e = 65537 is always invertible.

use std::sync::OnceLock;

use num_bigint_dig::{BigUint, RandBigInt};
use num_traits::{One, ToPrimitive, Zero};
use rand::RngCore;

/// The sieve bound: odd primes below it rule candidates out before any exponentiation.
/// Raising it from 2^14 to 2^16 saves about one in nine Miller-Rabin rounds for a 1024-bit
/// prime at the cost of one remainder pass per start (well below one round).
const SIEVE_BOUND: u32 = 1 << 16;
/// Candidates sieved at once from one start: start, start+2, ..., start+2·(WINDOW−1). A
/// 1024-bit prime is expected every ~710 numbers, so one window of 2048 numbers usually holds
/// one; if not, the window moves on.
const WINDOW: usize = 1024;
/// How far from one random start the search steps before it draws a new start.
const MAX_DELTA: u64 = 1 << 20;
/// The public exponent every generated key uses.
const E: u64 = 65_537;

/// The odd primes below [`SIEVE_BOUND`] (Eratosthenes, once).
fn sieve_primes() -> &'static [u32] {
    static PRIMES: OnceLock<Vec<u32>> = OnceLock::new();
    PRIMES.get_or_init(|| {
        let n = SIEVE_BOUND as usize;
        let mut composite = vec![false; n];
        let mut out = Vec::new();
        for i in 3..n {
            if composite[i] || i % 2 == 0 {
                continue;
            }
            out.push(i as u32);
            let mut j = i * i;
            while j < n {
                composite[j] = true;
                j += i;
            }
        }
        out
    })
}

/// The sieve primes in runs whose product stays below 2^32, with that product: one pass of
/// 32-bit steps over a big number gives its remainder modulo the whole run.
fn prime_groups() -> &'static [(u64, std::ops::Range<usize>)] {
    static GROUPS: OnceLock<Vec<(u64, std::ops::Range<usize>)>> = OnceLock::new();
    GROUPS.get_or_init(|| {
        let primes = sieve_primes();
        let mut out = Vec::new();
        let (mut start, mut product) = (0, 1u64);
        for (i, &p) in primes.iter().enumerate() {
            if product * u64::from(p) >= 1 << 32 {
                out.push((product, start..i));
                (start, product) = (i, 1);
            }
            product *= u64::from(p);
        }
        out.push((product, start..primes.len()));
        out
    })
}

/// Go's Miller-Rabin iteration count for a prime of `bits` bits.
fn rounds(bits: usize) -> usize {
    match bits {
        b if b >= 3747 => 3,
        b if b >= 1345 => 4,
        b if b >= 476 => 5,
        b if b >= 400 => 6,
        b if b >= 347 => 7,
        b if b >= 308 => 8,
        b if b >= 55 => 27,
        _ => 34,
    }
}

/// `x mod m` for `m < 2^32`, from big-endian 32-bit words (no big-integer division).
fn rem_small(words: &[u32], m: u64) -> u64 {
    words.iter().fold(0u64, |r, &w| ((r << 32) | u64::from(w)) % m)
}

/// A random prime of exactly `bits` bits (`bits` >= 16) with p - 1 coprime to 65537.
#[cfg(test)]
pub fn random_prime<R: RngCore + ?Sized>(rng: &mut R, bits: usize) -> BigUint {
    match search(rng, bits, &|| false) {
        Some(p) => p,
        None => unreachable!("a search that is never stopped ends with a prime"),
    }
}

/// A random prime of exactly `bits` bits (`bits` >= 16) with p - 1 coprime to 65537, given
/// up (`None`) as soon as `stop` says so; it is asked before each candidate's exponentiation. Giving up loses nothing but the current start's sieve: the
/// search has no memory (every candidate is as likely prime as the next), so the expected time
/// to a prime is the same from any point of it.
fn search<R: RngCore + ?Sized>(rng: &mut R, bits: usize, stop: &dyn Fn() -> bool) -> Option<BigUint> {
    // Unoptimised builds (tests) leave the vector batch to its own tests: intrinsics that are
    // not inlined make it slower there than the scalar path (as `mont` takes `BigUint` then).
    let batched = (256..=super::ifma::MAX_BITS).contains(&bits) && super::ifma::available() && !cfg!(debug_assertions);
    search_with(rng, bits, stop, batched)
}

/// [`search`], with or without the batched Fermat test (`batched` needs IFMA and at most
/// [`super::ifma::MAX_BITS`] bits).
fn search_with<R: RngCore + ?Sized>(rng: &mut R, bits: usize, stop: &dyn Fn() -> bool, batched: bool) -> Option<BigUint> {
    assert!(bits >= 16, "prime size must be at least 16 bits");
    let primes = sieve_primes();
    // Candidates are at least 2^(bits-1) + 2^(bits-2): sieve only with primes below that, so
    // a small candidate is never thrown out for being one of the sieve primes itself.
    let usable = primes.partition_point(|&p| (u64::from(p)) < 1u64 << (bits - 2).min(40));
    let mut bytes = vec![0u8; bits.div_ceil(8)];
    let mut rems = vec![0u32; primes.len()];
    let mut composite = [false; WINDOW];
    // With AVX-512 IFMA, sieve survivors are first put to a Fermat test base 2 eight at a time;
    // only those passing (nearly always primes) get the Miller-Rabin rounds.
    let mut pending: Vec<BigUint> = Vec::with_capacity(super::ifma::LANES);
    loop {
        rng.fill_bytes(&mut bytes);
        let excess = bytes.len() * 8 - bits;
        bytes[0] &= 0xff >> excess;
        if excess < 7 {
            bytes[0] |= 0b1100_0000 >> excess;
        } else {
            bytes[0] |= 1;
            bytes[1] |= 0x80;
        }
        let last = bytes.len() - 1;
        bytes[last] |= 1;
        let mut words = vec![0u32; bytes.len().div_ceil(4)];
        let pad = words.len() * 4 - bytes.len();
        for (i, &b) in bytes.iter().enumerate() {
            let k = i + pad;
            words[k / 4] |= u32::from(b) << (8 * (3 - k % 4));
        }
        for (product, range) in prime_groups() {
            let r = rem_small(&words, *product);
            for i in range.clone() {
                rems[i] = (r % u64::from(primes[i])) as u32;
            }
        }
        let rem_e = rem_small(&words, E);
        let start = BigUint::from_bytes_be(&bytes);
        let mut base: u64 = 0; // the window's first delta
        'windows: while base < MAX_DELTA {
            // composite[i]: start + base + 2i has a factor among the usable primes.
            composite.fill(false);
            for (&p, &r) in primes[..usable].iter().zip(&rems) {
                let p = u64::from(p);
                // The first i with r + base + 2i ≡ 0 (mod p): 2i ≡ −(r + base), i.e.
                // i ≡ (p − (r + base) mod p) · 2⁻¹, and 2⁻¹ = (p + 1) / 2 for odd p.
                let neg = (p - (u64::from(r) + base) % p) % p;
                let mut i = (neg * ((p + 1) / 2) % p) as usize;
                while i < WINDOW {
                    composite[i] = true;
                    i += p as usize;
                }
            }
            for (i, &c) in composite.iter().enumerate() {
                let d = base + 2 * i as u64;
                if c || (rem_e + d) % E == 1 {
                    continue;
                }
                if stop() {
                    return None;
                }
                let candidate = &start + BigUint::from(d);
                if candidate.bits() != bits {
                    break 'windows; // stepped past the size: draw a new start
                }
                if batched {
                    pending.push(candidate);
                    if pending.len() == super::ifma::LANES {
                        if let Some(p) = first_prime(rng, &mut pending, bits) {
                            return Some(p);
                        }
                    }
                    continue;
                }
                if miller_rabin(rng, &candidate, rounds(bits)) {
                    return Some(candidate);
                }
            }
            base += 2 * WINDOW as u64;
        }
        if let Some(p) = first_prime(rng, &mut pending, bits) {
            return Some(p);
        }
    }
}

/// The first of `pending` (emptied) that passes the batch Fermat test and then the
/// Miller-Rabin rounds.
fn first_prime<R: RngCore + ?Sized>(rng: &mut R, pending: &mut Vec<BigUint>, bits: usize) -> Option<BigUint> {
    if pending.is_empty() {
        return None;
    }
    let passed = super::ifma::fermat_base_two(pending).unwrap_or_else(|| vec![true; pending.len()]);
    let found = pending
        .drain(..)
        .zip(passed)
        .filter(|(_, ok)| *ok)
        .map(|(c, _)| c)
        .find(|c| miller_rabin(rng, c, rounds(bits)));
    found
}

/// Primes of one size: those found and not yet used, how many more are expected to be asked
/// for, and how many background searchers are running.
struct Supply {
    bits: usize,
    pool: Vec<BigUint>,
    /// Primes of this size expected to be taken still: what [`prefetch`] announced, less those
    /// handed out since (and plus those given back).
    expected: usize,
    /// Background searchers running for this size.
    searchers: usize,
}

impl Supply {
    /// Whether the background searchers outnumber the primes still expected beyond the pool.
    fn too_many_searchers(&self) -> bool {
        self.pool.len() + self.searchers > self.expected
    }
}

/// The supplies, one per prime size asked for (in practice one: RSA-2048's 1024 bits).
static SUPPLIES: std::sync::Mutex<Vec<Supply>> = std::sync::Mutex::new(Vec::new());
/// At most this many primes of a size are expected ahead of need.
const PREFETCH_MAX: usize = 8;

/// Runs `f` on the supply of `bits`-bit primes (made empty if there is none yet).
fn with_supply<T>(bits: usize, f: impl FnOnce(&mut Supply) -> T) -> T {
    let mut all = SUPPLIES.lock().unwrap_or_else(|e| e.into_inner());
    let i = match all.iter().position(|s| s.bits == bits) {
        Some(i) => i,
        None => {
            all.push(Supply { bits, pool: Vec::new(), expected: 0, searchers: 0 });
            all.len() - 1
        }
    };
    f(&mut all[i])
}

/// Whether background searchers are running (for any size).
pub fn searching() -> bool {
    SUPPLIES.lock().unwrap_or_else(|e| e.into_inner()).iter().any(|s| s.searchers > 0)
}

/// Announces that `count` primes of `bits` bits will be asked for, and starts searching for
/// them on background threads, which a later key generation takes from ([`take_or_search`]).
///
/// A chart whose templates call `genCA`/`genSignedCert` (cilium: a CA and a certificate on
/// every render) otherwise spends most of its render searching for primes on the rendering
/// thread; started when the templates are known, the search overlaps their parsing and
/// execution. The searchers stop as soon as the primes still expected are in the pool or
/// being searched for by enough threads (a key generation that finds its own prime first
/// counts), so nothing is searched for twice. Primes are drawn from the operating system's
/// random source either way, and nothing about which key gets which prime is observable.
/// Unused primes are dropped at exit.
pub fn prefetch(bits: usize, count: usize) {
    if count == 0 || bits < 16 {
        return;
    }
    // One searcher per two cores (the rendering threads need the rest), at least one.
    let most = (crate::par::threads(PREFETCH_MAX) / 2).max(1);
    let spawn = with_supply(bits, |s| {
        s.expected = (s.expected + count).min(PREFETCH_MAX);
        let wanted = s.expected.saturating_sub(s.pool.len()).min(most);
        let spawn = wanted.saturating_sub(s.searchers);
        s.searchers += spawn;
        spawn
    });
    for _ in 0..spawn {
        let spawned = std::thread::Builder::new().name("prime-prefetch".into()).spawn(move || background(bits));
        if spawned.is_err() {
            with_supply(bits, |s| s.searchers -= 1);
        }
    }
}

/// A background searcher: finds primes of `bits` bits for the pool until there are enough.
fn background(bits: usize) {
    // Leaving is decided and counted under one lock, so that of two searchers one too many
    // only one leaves.
    let leave = || {
        with_supply(bits, |s| {
            let leave = s.too_many_searchers();
            if leave {
                s.searchers -= 1;
            }
            leave
        })
    };
    while !leave() {
        match search(&mut rand::rngs::OsRng, bits, &leave) {
            Some(p) => with_supply(bits, |s| s.pool.push(p)),
            None => return,
        }
    }
}

/// A prime of `bits` bits: from the pool if one is ready, otherwise searched for now, taking
/// one from the pool instead as soon as a background searcher puts one there.
pub fn take_or_search(bits: usize) -> BigUint {
    loop {
        if let Some(p) = take(bits) {
            return p;
        }
        let ready = || with_supply(bits, |s| !s.pool.is_empty());
        if let Some(p) = search(&mut rand::rngs::OsRng, bits, &ready) {
            with_supply(bits, |s| s.expected = s.expected.saturating_sub(1));
            return p;
        }
    }
}

/// A ready prime of `bits` bits from the pool.
pub fn take(bits: usize) -> Option<BigUint> {
    with_supply(bits, |s| {
        let p = s.pool.pop()?;
        s.expected = s.expected.saturating_sub(1);
        Some(p)
    })
}

/// Primes handed out whose key was thrown away: back into the pool, expected again.
fn give_back(primes: Vec<(usize, BigUint)>) {
    for (bits, p) in primes {
        with_supply(bits, |s| {
            s.pool.push(p);
            s.expected += 1;
        });
    }
}

thread_local! {
    /// The primes this thread's speculative execution has put into keys so far.
    static NOTED: std::cell::RefCell<Vec<(usize, BigUint)>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Records that a speculative execution used prime `p` of `bits` bits (see
/// [`crate::speculate`]); outside one, nothing is recorded.
pub fn note_used(bits: usize, p: &BigUint) {
    if crate::speculate::active() {
        NOTED.with(|n| n.borrow_mut().push((bits, p.clone())));
    }
}

/// The primes one speculative execution put into keys, taken from the thread's record when it
/// ended. Dropped, they go back to the pool: the execution's result was not used, so running
/// it again for real need not search for them again. [`Noted::keep`] marks them used.
#[must_use]
pub struct Noted(Vec<(usize, BigUint)>);

impl Noted {
    /// The execution's result is used: so are its primes.
    pub fn keep(mut self) {
        self.0.clear();
    }
}

impl Drop for Noted {
    fn drop(&mut self) {
        if !self.0.is_empty() {
            give_back(std::mem::take(&mut self.0));
        }
    }
}

/// What this thread's speculative execution noted so far, cleared from the record.
pub fn take_noted() -> Noted {
    Noted(NOTED.with(|n| std::mem::take(&mut *n.borrow_mut())))
}

/// `rounds` Miller-Rabin rounds with random bases in [2, n-2]; false when `n` is composite.
fn miller_rabin<R: RngCore + ?Sized>(rng: &mut R, n: &BigUint, rounds: usize) -> bool {
    let one = BigUint::one();
    let n1 = n - &one;
    let s = n1.trailing_zeros().unwrap_or(0);
    let d = &n1 >> s;
    let two = BigUint::from(2u32);
    let upper = n - &two; // bases below n-2, plus 2 below: [2, n-2)
    // Base 2 first, the cheapest witness: nearly every composite candidate fails it. The
    // random bases follow, as many as Go's table asks for.
    if n.bits() > 2 && !super::mont::passes_base_two(n, &d, s) {
        return false;
    }
    let mut rng = RngAdapter(rng);
    for _ in 0..rounds {
        let a = rng.gen_biguint_range(&two, &upper);
        if !super::mont::passes_round(n, &a, &d, s) {
            return false;
        }
    }
    !n.is_zero() && n.to_u64().is_none_or(|v| v > 3)
}

/// `num_bigint_dig` wants a sized `Rng`; this lends it any byte source.
struct RngAdapter<'a, R: RngCore + ?Sized>(&'a mut R);

impl<R: RngCore + ?Sized> RngCore for RngAdapter<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.0.fill_bytes(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand::Error> {
        self.0.try_fill_bytes(dest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    /// Deterministic Miller-Rabin with the first 12 prime bases is exact below 3.3e24; the
    /// search's answers on small sizes are checked against it, and every answer has its size.
    #[test]
    fn primes_are_prime_and_sized() {
        for bits in [16usize, 17, 31, 32, 33, 63, 64, 65, 80] {
            for _ in 0..30 {
                let p = random_prime(&mut OsRng, bits);
                assert_eq!(p.bits(), bits);
                let v = p.to_u128().unwrap();
                assert!(is_prime_u128(v), "{v} ({bits} bits) is composite");
                assert_ne!(v % 65_537, 1);
            }
        }
        let p = random_prime(&mut OsRng, 1024);
        assert_eq!(p.bits(), 1024);
    }

    /// Announced primes are handed out (from the pool or searched for by the taker), the
    /// background searchers stop once nothing more is expected, and given-back primes are
    /// handed out again.
    #[test]
    fn supply_hands_out_and_stops() {
        const BITS: usize = 44; // a size no other test asks for
        prefetch(BITS, 3);
        let got: Vec<BigUint> = (0..3).map(|_| take_or_search(BITS)).collect();
        for p in &got {
            assert_eq!(p.bits(), BITS);
            assert!(is_prime_u128(p.to_u128().unwrap()));
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let (searchers, pooled, expected) = with_supply(BITS, |s| (s.searchers, s.pool.len(), s.expected));
            assert_eq!(expected, 0);
            if searchers == 0 {
                // At most one prime per searcher that was racing the last taker.
                let most = (crate::par::threads(PREFETCH_MAX) / 2).max(1);
                assert!(pooled <= most, "{pooled} primes searched for in excess");
                break;
            }
            assert!(std::time::Instant::now() < deadline, "background searchers did not stop");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        with_supply(BITS, |s| s.pool.clear());
        give_back(vec![(BITS, got[0].clone())]);
        assert_eq!(take(BITS), Some(got[0].clone()));
        assert_eq!(take(BITS), None);
    }

    /// The batched search finds primes of the size asked for, with p − 1 coprime to 65537, as
    /// the scalar one does: with IFMA through the vector test, without it through the batch's
    /// fallback (every candidate on to the Miller-Rabin rounds).
    #[test]
    fn batched_search_finds_primes() {
        for bits in [256usize, 512] {
            let p = search_with(&mut OsRng, bits, &|| false, true).expect("a prime");
            assert_eq!(p.bits(), bits);
            assert!(miller_rabin(&mut OsRng, &p, 27), "{p}");
            assert_ne!(&p % BigUint::from(E), BigUint::one());
        }
    }

    #[test]
    fn miller_rabin_rejects_composites() {
        // Carmichael numbers and a product of two large primes.
        for c in [561u64, 41041, 825265, 321197185, 5394826801, 4_294_967_291 * 65_521] {
            assert!(!miller_rabin(&mut OsRng, &BigUint::from(c), 27), "{c}");
        }
        assert!(miller_rabin(&mut OsRng, &BigUint::from(4_294_967_291u64), 27));
    }

    fn is_prime_u128(n: u128) -> bool {
        if n < 2 {
            return false;
        }
        let small = [2u128, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
        for p in small {
            if n % p == 0 {
                return n == p;
            }
        }
        let big = BigUint::from(n);
        let n1 = &big - BigUint::one();
        let s = n1.trailing_zeros().unwrap();
        let d = &n1 >> s;
        'bases: for a in small {
            let mut x = BigUint::from(a).modpow(&d, &big);
            if x.is_one() || x == n1 {
                continue;
            }
            for _ in 1..s {
                x = (&x * &x) % &big;
                if x == n1 {
                    continue 'bases;
                }
            }
            return false;
        }
        true
    }
}
