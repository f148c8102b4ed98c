//! Miller-Rabin rounds in Montgomery arithmetic on fixed-size arrays of `u64` limbs, for the
//! RSA prime search.
//!
//! A round is one modular exponentiation of a candidate (1024 bits for the RSA-2048 keys of
//! `genCA`/`genSignedCert`), a key takes about a hundred of them, and so their speed decides
//! the render time of charts like cilium. `num_bigint_dig::BigUint::modpow` works on heap
//! vectors of any length; here the limb count is a constant (the modulus is padded with zero
//! limbs up to 8, 16, 32 or 64: Montgomery form only needs R = 2^(64·N) > n), so each
//! multiply-and-reduce step (CIOS) is a fully known loop on stack arrays, about twice as fast.
//! Larger moduli fall back to `BigUint::modpow`.
//!
//! It is not constant-time: it only ever sees random candidates, never a finished key.
//! Unoptimised builds (tests) also take the `BigUint` path: this code is only fast when
//! optimised, and `num-bigint-dig` is built optimised even in dev (see the workspace profile).

use num_bigint_dig::BigUint;
use num_traits::One;

/// A Miller-Rabin round of odd `n = 2^s·d + 1` with witness `base` in [2, n−2]: false when
/// `base` proves `n` composite.
pub fn passes_round(n: &BigUint, base: &BigUint, d: &BigUint, s: usize) -> bool {
    passes(n, Witness::Base(base), d, s)
}

/// A Miller-Rabin round of odd `n = 2^s·d + 1` with witness 2: false when 2 proves `n`
/// composite. Cheaper than [`passes_round`] with any other base: multiplying by 2 is a shift,
/// so the exponentiation is squarings and doublings only. The prime search runs it first on
/// every candidate, and nearly every composite fails it.
pub fn passes_base_two(n: &BigUint, d: &BigUint, s: usize) -> bool {
    passes(n, Witness::Two, d, s)
}

/// A round's witness.
#[derive(Clone, Copy)]
enum Witness<'a> {
    Two,
    Base(&'a BigUint),
}

/// A round with witness `w`, in the limb count that fits `n`.
fn passes(n: &BigUint, w: Witness<'_>, d: &BigUint, s: usize) -> bool {
    let limbs = n.bits().div_ceil(64);
    if cfg!(debug_assertions) || limbs > 64 {
        let base = match w {
            Witness::Two => &BigUint::from(2u32),
            Witness::Base(b) => b,
        };
        return passes_round_big(n, base, d, s);
    }
    match limbs {
        0..=8 => Mont::<8>::new(n).passes(w, d, s),
        9..=16 => Mont::<16>::new(n).passes(w, d, s),
        17..=32 => Mont::<32>::new(n).passes(w, d, s),
        _ => Mont::<64>::new(n).passes(w, d, s),
    }
}

/// The same round on `BigUint`s.
fn passes_round_big(n: &BigUint, base: &BigUint, d: &BigUint, s: usize) -> bool {
    let one = BigUint::one();
    let n1 = n - &one;
    let mut x = base.modpow(d, n);
    if x == one || x == n1 {
        return true;
    }
    for _ in 1..s {
        x = (&x * &x) % n;
        if x == n1 {
            return true;
        }
        if x == one {
            return false;
        }
    }
    false
}

/// The limbs of `x` (which must fit), little-endian, zero-padded.
fn limbs<const N: usize>(x: &BigUint) -> [u64; N] {
    let mut out = [0u64; N];
    for (i, chunk) in x.to_bytes_le().chunks(8).enumerate().take(N) {
        let mut v = [0u8; 8];
        v[..chunk.len()].copy_from_slice(chunk);
        out[i] = u64::from_le_bytes(v);
    }
    out
}

/// An odd modulus `n < 2^(64·N)` prepared for Montgomery multiplication.
struct Mont<const N: usize> {
    n: [u64; N],
    /// −n⁻¹ mod 2^64.
    n0: u64,
    /// R² mod n, to move numbers into Montgomery form.
    r2: [u64; N],
}

#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let uv = u128::from(a) * u128::from(b) + u128::from(c) + u128::from(carry);
    (uv as u64, (uv >> 64) as u64)
}

impl<const N: usize> Mont<N> {
    fn new(n: &BigUint) -> Self {
        let nl = limbs::<N>(n);
        // Newton's iteration doubles the correct low bits of the inverse each step: 1 → 64.
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(nl[0].wrapping_mul(inv)));
        }
        let r2 = (BigUint::one() << (128 * N)) % n;
        Mont { n: nl, n0: inv.wrapping_neg(), r2: limbs::<N>(&r2) }
    }

    /// a·b·R⁻¹ mod n, for a, b < n.
    #[inline(never)]
    fn mul(&self, a: &[u64; N], b: &[u64; N]) -> [u64; N] {
        let n = &self.n;
        let mut t = [0u64; N];
        let mut t_hi: u64 = 0;
        for &bi in b {
            let mut c = 0u64;
            for j in 0..N {
                (t[j], c) = mac(a[j], bi, t[j], c);
            }
            let (hi, over) = t_hi.overflowing_add(c);
            let m = t[0].wrapping_mul(self.n0);
            let (_, mut c) = mac(m, n[0], t[0], 0);
            for j in 1..N {
                (t[j - 1], c) = mac(m, n[j], t[j], c);
            }
            let (top, over2) = hi.overflowing_add(c);
            t[N - 1] = top;
            t_hi = u64::from(over) + u64::from(over2);
        }
        self.below_n(t, t_hi)
    }

    /// `t + hi·2^(64·N)`, known to be below 2n, reduced below n: n subtracted once unless it
    /// is below n already.
    #[inline(always)]
    fn below_n(&self, t: [u64; N], hi: u64) -> [u64; N] {
        let mut out = [0u64; N];
        let mut borrow = false;
        for j in 0..N {
            let (d1, b1) = t[j].overflowing_sub(self.n[j]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            out[j] = d2;
            borrow = b1 | b2;
        }
        if hi == 0 && borrow {
            t
        } else {
            out
        }
    }

    /// a·a·R⁻¹ mod n, for a < n: the square in full (each cross product computed once and
    /// doubled, about half the multiplications of [`Mont::mul`]'s), then a Montgomery
    /// reduction. Exponentiation is mostly squarings, so this is where the prime search spends
    /// its time.
    #[inline(never)]
    fn sqr(&self, a: &[u64; N]) -> [u64; N] {
        let n = &self.n;
        // The 2N-limb square (N is at most 64).
        let mut t = [0u64; 128];
        for i in 0..N {
            let mut c = 0u64;
            for j in (i + 1)..N {
                (t[i + j], c) = mac(a[i], a[j], t[i + j], c);
            }
            t[i + N] = c;
        }
        let mut top = 0u64;
        for v in t.iter_mut().take(2 * N) {
            let x = *v;
            *v = (x << 1) | top;
            top = x >> 63;
        }
        let mut carry: u128 = 0;
        for i in 0..N {
            let sq = u128::from(a[i]) * u128::from(a[i]);
            let lo = u128::from(t[2 * i]) + (sq & u128::from(u64::MAX)) + carry;
            t[2 * i] = lo as u64;
            let hi = u128::from(t[2 * i + 1]) + (sq >> 64) + (lo >> 64);
            t[2 * i + 1] = hi as u64;
            carry = hi >> 64;
        }
        // Reduction: each step clears limb i; its carry lands on limb i+N, where the next
        // step's carry also goes, so one running carry (`extra`) suffices.
        let mut extra = 0u64;
        for i in 0..N {
            let m = t[i].wrapping_mul(self.n0);
            let mut c = 0u64;
            for j in 0..N {
                (t[i + j], c) = mac(m, n[j], t[i + j], c);
            }
            let (s1, o1) = t[i + N].overflowing_add(c);
            let (s2, o2) = s1.overflowing_add(extra);
            t[i + N] = s2;
            extra = u64::from(o1) + u64::from(o2);
        }
        let mut r = [0u64; N];
        r.copy_from_slice(&t[N..2 * N]);
        self.below_n(r, extra)
    }

    /// 2·a mod n, for a < n (in Montgomery form or not: doubling commutes with R).
    #[inline(always)]
    fn double(&self, a: &[u64; N]) -> [u64; N] {
        let mut t = [0u64; N];
        let mut top = 0u64;
        for j in 0..N {
            t[j] = (a[j] << 1) | top;
            top = a[j] >> 63;
        }
        self.below_n(t, top)
    }

    /// R mod n (one in Montgomery form) and n − (R mod n) (minus one).
    fn one_and_minus_one(&self) -> ([u64; N], [u64; N]) {
        let mut unit = [0u64; N];
        unit[0] = 1;
        let one = self.mul(&unit, &self.r2);
        let mut minus_one = [0u64; N];
        let mut borrow = false;
        for j in 0..N {
            let (d1, b1) = self.n[j].overflowing_sub(one[j]);
            let (d2, b2) = d1.overflowing_sub(u64::from(borrow));
            minus_one[j] = d2;
            borrow = b1 | b2;
        }
        (one, minus_one)
    }

    /// The round's end: x = base^d (Montgomery form) squared up to s − 1 times, looking for −1.
    fn round_ends(&self, mut x: [u64; N], s: usize) -> bool {
        let (one, minus_one) = self.one_and_minus_one();
        if x == one || x == minus_one {
            return true;
        }
        for _ in 1..s {
            x = self.sqr(&x);
            if x == minus_one {
                return true;
            }
            if x == one {
                return false;
            }
        }
        false
    }

    fn passes_base_two(&self, d: &BigUint, s: usize) -> bool {
        // Left to right over d's bits: square, and double where the bit is set.
        let (one, _) = self.one_and_minus_one();
        let mut acc = one;
        let mut started = false;
        for byte in d.to_bytes_be() {
            for bit in (0..8).rev() {
                if started {
                    acc = self.sqr(&acc);
                }
                if byte >> bit & 1 == 1 {
                    acc = self.double(&acc);
                    started = true;
                }
            }
        }
        self.round_ends(acc, s)
    }

    /// base^exp in Montgomery form (base < n), by fixed 4-bit windows.
    fn pow(&self, base: &[u64; N], exp: &BigUint) -> [u64; N] {
        let mut table = [[0u64; N]; 16];
        let mut unit = [0u64; N];
        unit[0] = 1;
        table[0] = self.mul(&unit, &self.r2);
        table[1] = self.mul(base, &self.r2);
        for i in 2..16 {
            table[i] = self.mul(&table[i - 1], &table[1]);
        }
        let mut acc = table[0];
        let mut started = false;
        for byte in exp.to_bytes_be() {
            for w in [byte >> 4, byte & 0xf] {
                if started {
                    for _ in 0..4 {
                        acc = self.sqr(&acc);
                    }
                }
                if w != 0 {
                    acc = self.mul(&acc, &table[usize::from(w)]);
                    started = true;
                }
            }
        }
        acc
    }

    fn passes(&self, w: Witness<'_>, d: &BigUint, s: usize) -> bool {
        match w {
            Witness::Two => self.passes_base_two(d, s),
            Witness::Base(base) => self.round_ends(self.pow(&limbs::<N>(base), d), s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::RandBigInt;
    use num_traits::Zero;
    use rand::rngs::OsRng;

    /// base^exp mod n through the Montgomery path.
    fn modpow<const N: usize>(base: &BigUint, exp: &BigUint, n: &BigUint) -> BigUint {
        let m = Mont::<N>::new(n);
        let mut unit = [0u64; N];
        unit[0] = 1;
        let plain = m.mul(&m.pow(&limbs::<N>(&(base % n)), exp), &unit);
        let bytes: Vec<u8> = plain.iter().flat_map(|l| l.to_le_bytes()).collect();
        BigUint::from_bytes_le(&bytes)
    }

    #[test]
    fn modpow_matches_biguint() {
        let mut rng = OsRng;
        for bits in [2usize, 63, 64, 65, 127, 128, 129, 300, 511, 512] {
            for _ in 0..6 {
                let n = rng.gen_biguint(bits) | BigUint::from(1u32);
                if n.bits() < 2 {
                    continue;
                }
                let a = rng.gen_biguint(bits + 7);
                let e = rng.gen_biguint(bits);
                assert_eq!(modpow::<8>(&a, &e, &n), a.modpow(&e, &n), "bits {bits}");
                assert_eq!(modpow::<16>(&a, &e, &n), a.modpow(&e, &n), "bits {bits}, padded");
            }
        }
        for _ in 0..3 {
            let n = rng.gen_biguint(1024) | BigUint::from(1u32);
            let a = rng.gen_biguint(1024);
            let e = rng.gen_biguint(1024);
            assert_eq!(modpow::<16>(&a, &e, &n), a.modpow(&e, &n));
        }
        let p = BigUint::from(0xffff_ffff_ffff_ffc5u64); // the largest 64-bit prime
        let three = BigUint::from(3u32);
        assert_eq!(modpow::<8>(&three, &(&p - 1u32), &p), BigUint::one());
        assert_eq!(modpow::<8>(&three, &BigUint::zero(), &p), BigUint::one());
    }

    /// Squaring agrees with multiplying a number by itself, at the edges too (0, 1, n−1).
    #[test]
    fn sqr_matches_mul() {
        fn check<const N: usize>(n: &BigUint, rng: &mut OsRng) {
            let m = Mont::<N>::new(n);
            let mut xs: Vec<BigUint> = (0..20).map(|_| rng.gen_biguint_below(n)).collect();
            xs.extend([BigUint::zero(), BigUint::one(), n - 1u32]);
            for x in xs {
                let a = limbs::<N>(&x);
                assert_eq!(m.sqr(&a), m.mul(&a, &a), "{x} mod {n}");
            }
        }
        let mut rng = OsRng;
        for bits in [3usize, 64, 65, 200, 511, 512] {
            for _ in 0..4 {
                let n = rng.gen_biguint(bits) | BigUint::from(1u32);
                check::<8>(&n, &mut rng);
                check::<16>(&n, &mut rng);
            }
        }
        for bits in [1023usize, 1024] {
            let n = (rng.gen_biguint(bits) | BigUint::from(1u32)) | (BigUint::one() << (bits - 1));
            check::<16>(&n, &mut rng);
        }
        // All-ones limbs: the largest carries.
        let n = (BigUint::one() << 1024) - 1u32;
        check::<16>(&n, &mut rng);
    }

    /// Both round implementations agree on primes, Carmichael numbers and random odd numbers.
    #[test]
    fn rounds_agree() {
        let mut rng = OsRng;
        let mut ns: Vec<BigUint> =
            [561u64, 41041, 825265, 321197185, 5394826801, 4_294_967_291, 0xffff_ffff_ffff_ffc5]
                .iter()
                .map(|&v| BigUint::from(v))
                .collect();
        for bits in [70usize, 600, 1024] {
            ns.extend((0..4).map(|_| rng.gen_biguint(bits) | BigUint::from(1u32)));
        }
        for n in ns {
            let n1 = &n - 1u32;
            let s = n1.trailing_zeros().unwrap();
            let d = &n1 >> s;
            for _ in 0..3 {
                let a = rng.gen_biguint_range(&BigUint::from(2u32), &n1);
                let want = passes_round_big(&n, &a, &d, s);
                let got = match n.bits().div_ceil(64) {
                    0..=8 => Mont::<8>::new(&n).passes(Witness::Base(&a), &d, s),
                    _ => Mont::<16>::new(&n).passes(Witness::Base(&a), &d, s),
                };
                assert_eq!(got, want, "{n} base {a}");
            }
        }
    }

    /// The base-2 round agrees with the general one, on strong pseudoprimes to base 2 (which
    /// pass it), on primes, and on random odd numbers.
    #[test]
    fn base_two_agrees() {
        let mut rng = OsRng;
        let mut ns: Vec<BigUint> = [2047u64, 3277, 4033, 4681, 8321, 15841, 29341, 42799, 3_215_031_751, 4_294_967_291, 0xffff_ffff_ffff_ffc5]
            .iter()
            .map(|&v| BigUint::from(v))
            .collect();
        for bits in [70usize, 600, 1023, 1024] {
            ns.extend((0..6).map(|_| rng.gen_biguint(bits) | BigUint::from(1u32)));
        }
        let two = BigUint::from(2u32);
        for n in ns {
            let n1 = &n - 1u32;
            let s = n1.trailing_zeros().unwrap();
            let d = &n1 >> s;
            let want = passes_round_big(&n, &two, &d, s);
            let got = match n.bits().div_ceil(64) {
                0..=8 => Mont::<8>::new(&n).passes(Witness::Two, &d, s),
                _ => Mont::<16>::new(&n).passes(Witness::Two, &d, s),
            };
            assert_eq!(got, want, "{n}");
            if n.bits() < 40 && n != BigUint::from(4_294_967_291u64) {
                assert!(got, "{n} is a strong pseudoprime to base 2");
            }
        }
    }
}
