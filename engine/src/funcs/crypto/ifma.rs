//! Fermat tests to base 2 of eight prime candidates at once, with AVX-512 IFMA (52-bit
//! multiply-add on eight 64-bit lanes), for the RSA prime search.
//!
//! Nearly every candidate that survives the sieve is composite and fails its first modular
//! exponentiation, so that exponentiation is most of a key's cost. Here eight candidates share
//! each vector instruction, one per lane ("vertical" layout: limb j of every candidate in one
//! register), in Montgomery form with radix 2^52 and R = 2^1040:
//! - a product of numbers below 4n is below 2n (as 16n < R for n < 2^1036), so no step needs a
//!   conditional subtraction, and doubling (the multiply by the base 2) needs none either;
//! - accumulators are 64-bit lanes summing 52-bit halves of products, with room for the twenty
//!   rounds of a product before carries are propagated once at its end.
//!
//! The test computes 2^(n−1)·R mod n per lane; a candidate passes when that is R mod n (only
//! then does the caller run its Miller-Rabin rounds, which decide). Machines without IFMA (and
//! other architectures) use the scalar search in `prime.rs`. Not constant-time: it only sees
//! random candidates, never a finished key.

use num_bigint_dig::BigUint;
use num_traits::One;

/// Candidates tested together.
pub const LANES: usize = 8;
/// 52-bit limbs per number: 1040 bits.
const LIMBS: usize = 20;
const MASK: u64 = (1 << 52) - 1;
/// The largest candidate size the batch takes (16n < R = 2^1040 needs n < 2^1036).
pub const MAX_BITS: usize = 1024;

/// Whether this machine runs the batch test (AVX-512 F and IFMA).
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f") && std::arch::is_x86_feature_detected!("avx512ifma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `x` in 64-bit words, little-endian.
fn words(x: &BigUint) -> Vec<u64> {
    x.to_bytes_le()
        .chunks(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            u64::from_le_bytes(w)
        })
        .collect()
}

/// `x` in 52-bit limbs, little-endian (`x` < 2^1040).
fn to_limbs(x: &BigUint) -> [u64; LIMBS] {
    let words = words(x);
    let mut out = [0u64; LIMBS];
    for (j, limb) in out.iter_mut().enumerate() {
        let bit = 52 * j;
        let (w, off) = (bit / 64, bit % 64);
        let lo = words.get(w).copied().unwrap_or(0) >> off;
        let hi = if off > 12 { words.get(w + 1).copied().unwrap_or(0) << (64 - off) } else { 0 };
        *limb = (lo | hi) & MASK;
    }
    out
}

fn from_limbs(l: &[u64; LIMBS]) -> BigUint {
    let mut x = BigUint::default();
    for &v in l.iter().rev() {
        x = (x << 52usize) + BigUint::from(v);
    }
    x
}

/// −n⁻¹ mod 2^52 for odd `n0` (the low word of n).
fn neg_inverse(n0: u64) -> u64 {
    let mut inv: u64 = 1;
    for _ in 0..6 {
        inv = inv.wrapping_mul(2u64.wrapping_sub(n0.wrapping_mul(inv)));
    }
    inv.wrapping_neg() & MASK
}

/// For each of `ns` (at most [`LANES`] odd numbers of at most [`MAX_BITS`] bits, each above
/// 2^64), whether 2^(n−1) ≡ 1 (mod n). `None` where the machine lacks IFMA or a number is
/// outside that range.
pub fn fermat_base_two(ns: &[BigUint]) -> Option<Vec<bool>> {
    let fits = |x: &BigUint| x.bits() > 64 && x.bits() <= MAX_BITS && x.to_bytes_le().first().is_some_and(|b| b & 1 == 1);
    if ns.is_empty() || ns.len() > LANES || !ns.iter().all(fits) || !available() {
        return None;
    }
    let r: BigUint = BigUint::one() << (52 * LIMBS);
    let mut n = [[0u64; LANES]; LIMBS];
    let mut one = [[0u64; LANES]; LIMBS];
    let mut n0 = [0u64; LANES];
    let mut exps: Vec<Vec<u64>> = Vec::with_capacity(LANES);
    let mut ones = Vec::with_capacity(LANES);
    for lane in 0..LANES {
        // Unused lanes repeat the first candidate; their results are dropped.
        let x = &ns[lane.min(ns.len() - 1)];
        let nl = to_limbs(x);
        let rm = &r % x;
        let ol = to_limbs(&rm);
        for j in 0..LIMBS {
            n[j][lane] = nl[j];
            one[j][lane] = ol[j];
        }
        n0[lane] = neg_inverse(nl[0] | nl[1] << 52);
        exps.push(words(&(x - 1u32)));
        ones.push(rm);
    }
    let bits = ns.iter().map(|x| x.bits()).max().unwrap_or(0);
    // Which lanes double after the square for exponent bit k.
    let masks: Vec<u8> = (0..bits)
        .map(|k| {
            (0..LANES).fold(0u8, |m, lane| {
                let bit = exps[lane].get(k / 64).is_some_and(|w| w >> (k % 64) & 1 == 1);
                m | (u8::from(bit) << lane)
            })
        })
        .collect();
    #[cfg(target_arch = "x86_64")]
    let acc = {
        // SAFETY: `available` checked that the CPU has AVX-512 F and IFMA.
        unsafe { imp::pow2(&n, &n0, &one, &masks) }
    };
    #[cfg(not(target_arch = "x86_64"))]
    let acc: [[u64; LANES]; LIMBS] = {
        let _ = (&n0, &one, &masks);
        return None;
    };
    Some(
        (0..ns.len())
            .map(|lane| {
                let mut l = [0u64; LIMBS];
                for j in 0..LIMBS {
                    l[j] = acc[j][lane];
                }
                from_limbs(&l) % &ns[lane] == ones[lane]
            })
            .collect(),
    )
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use super::{LANES, LIMBS, MASK};
    use std::arch::x86_64::*;

    type V = __m512i;

    /// a·b·R⁻¹ mod n (below 2n for a, b below 4n), per lane; limbs below 2^52 in and out.
    ///
    /// Round i adds a·b_i and m_i·n at limb offset i of a double-width accumulator, where m_i
    /// clears limb i modulo 2^52 (every contribution to limb i is in by then), whose carry
    /// moves up; the result is the upper half. Nothing is shifted, so nothing is copied.
    #[inline]
    #[target_feature(enable = "avx512f,avx512ifma")]
    unsafe fn mont_mul(a: &[V; LIMBS], b: &[V; LIMBS], n: &[V; LIMBS], n0: V) -> [V; LIMBS] {
        let zero = _mm512_setzero_si512();
        let mut t = [zero; 2 * LIMBS + 1];
        for i in 0..LIMBS {
            let bi = b[i];
            for j in 0..LIMBS {
                t[i + j] = _mm512_madd52lo_epu64(t[i + j], a[j], bi);
                t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], a[j], bi);
            }
            // m makes limb i vanish modulo 2^52 (only t[i]'s low 52 bits count).
            let m = _mm512_madd52lo_epu64(zero, t[i], n0);
            for j in 0..LIMBS {
                t[i + j] = _mm512_madd52lo_epu64(t[i + j], n[j], m);
                t[i + j + 1] = _mm512_madd52hi_epu64(t[i + j + 1], n[j], m);
            }
            t[i + 1] = _mm512_add_epi64(t[i + 1], _mm512_srli_epi64::<52>(t[i]));
        }
        let mask = _mm512_set1_epi64(MASK as i64);
        let mut out = [zero; LIMBS];
        let mut carry = zero;
        for j in 0..LIMBS {
            let v = _mm512_add_epi64(t[LIMBS + j], carry);
            out[j] = _mm512_and_si512(v, mask);
            carry = _mm512_srli_epi64::<52>(v);
        }
        out
    }

    /// 2·x in the lanes of `k` (x below 2n, so 2x is below 4n and fits), limbs normalised.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn double(x: &mut [V; LIMBS], k: __mmask8) {
        let mask = _mm512_set1_epi64(MASK as i64);
        let mut carry = _mm512_setzero_si512();
        for limb in x.iter_mut() {
            let v = _mm512_add_epi64(_mm512_slli_epi64::<1>(*limb), carry);
            carry = _mm512_srli_epi64::<52>(v);
            *limb = _mm512_mask_mov_epi64(*limb, k, _mm512_and_si512(v, mask));
        }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn load(x: &[[u64; LANES]; LIMBS]) -> [V; LIMBS] {
        let mut out = [_mm512_setzero_si512(); LIMBS];
        for (o, row) in out.iter_mut().zip(x) {
            // SAFETY: each row is eight u64s, an unaligned 512-bit load.
            *o = unsafe { _mm512_loadu_si512(row.as_ptr().cast()) };
        }
        out
    }

    /// Per lane, 2^e·R mod n (below 2n) where bit k of e is lane's bit in `masks[k]`, from
    /// `one` = R mod n.
    #[target_feature(enable = "avx512f,avx512ifma")]
    pub unsafe fn pow2(n: &[[u64; LANES]; LIMBS], n0: &[u64; LANES], one: &[[u64; LANES]; LIMBS], masks: &[u8]) -> [[u64; LANES]; LIMBS] {
        let nv = unsafe { load(n) };
        let n0v = unsafe { _mm512_loadu_si512(n0.as_ptr().cast()) };
        let mut acc = unsafe { load(one) };
        for &k in masks.iter().rev() {
            acc = unsafe { mont_mul(&acc, &acc, &nv, n0v) };
            if k != 0 {
                unsafe { double(&mut acc, k) };
            }
        }
        let mut out = [[0u64; LANES]; LIMBS];
        for j in 0..LIMBS {
            unsafe { _mm512_storeu_si512(out[j].as_mut_ptr().cast(), acc[j]) };
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use num_bigint_dig::RandBigInt;
    use rand::rngs::OsRng;

    #[test]
    fn limbs_round_trip() {
        let mut rng = OsRng;
        for bits in [65usize, 600, 1023, 1024, 1039] {
            let x = rng.gen_biguint(bits);
            assert_eq!(from_limbs(&to_limbs(&x)), x);
        }
    }

    /// The batch agrees with `BigUint::modpow` on primes, composites, Carmichael-free random
    /// odd numbers and partly filled batches (where the machine has IFMA; elsewhere it says so).
    #[test]
    fn fermat_matches_modpow() {
        if !available() {
            assert!(fermat_base_two(&[BigUint::from(1_000_003u32) << 100usize | BigUint::one()]).is_none());
            return;
        }
        let mut rng = OsRng;
        let two = BigUint::from(2u32);
        for bits in [300usize, 512, 1000, 1024] {
            for count in [1usize, 3, 8] {
                let mut ns: Vec<BigUint> = (0..count)
                    .map(|_| rng.gen_biguint(bits) | BigUint::one() | (BigUint::one() << (bits - 1)))
                    .collect();
                // From 521 bits on, the first is the Mersenne prime 2^521 − 1.
                if bits >= 521 {
                    ns[0] = (BigUint::one() << 521usize) - 1u32;
                }
                let got = fermat_base_two(&ns).expect("IFMA available");
                for (x, g) in ns.iter().zip(got) {
                    let want = two.modpow(&(x - 1u32), x) == BigUint::one();
                    assert_eq!(g, want, "{x}");
                }
            }
        }
        // Mersenne primes 2^521 − 1 and 2^607 − 1, and a product of the first with 2^61 − 1.
        let p = (BigUint::one() << 521usize) - 1u32;
        let q = (BigUint::one() << 607usize) - 1u32;
        let pm = &p * ((BigUint::one() << 61usize) - 1u32);
        assert_eq!(fermat_base_two(&[p.clone(), q, pm]), Some(vec![true, true, false]));
        // Outside the batch's range: even, too small, too big.
        assert_eq!(fermat_base_two(&[&p + 1u32]), None);
        assert_eq!(fermat_base_two(&[BigUint::from(1_000_003u32)]), None);
        assert_eq!(fermat_base_two(&[(BigUint::one() << 1100usize) + 1u32]), None);
    }
}
