//! 8- and 16-lane routes for the mt19937 twist and tempering.
//!
//! These are faster routes only. Each computes, word for word, what the scalar code in
//! [`super`] (`engine::mt19937`) computes (its twin); tests run every route the host has and compare the
//! whole state and every output word.
//!
//! Why the twist vectorises: word `i` of the new state is `mix(s[i], s[i+1], s[(i+397) % 624])`,
//! computed in increasing `i`, in place. For `i < 227` the far word `s[i+397]` is still old; for
//! `i >= 227` the far word `s[i-227]` is already new. A block of `L <= 227` consecutive words
//! reads its far words either all from the old part (ahead of the block) or all from the new part
//! (at least 227 words behind it), and reads `s[i+1]` before the block is stored, so processing
//! `[i, i + L)` at once gives the sequential result as long as the block does not straddle
//! `i = 227` or reach `i = 623` (whose next word is the new `s[0]`); those few words take the
//! scalar step.

use super::{mix, temper, MERSENNE_STATE_M, MERSENNE_STATE_N};
use crate::simd::Lanes;

const NM: usize = MERSENNE_STATE_N - MERSENNE_STATE_M; // 227

#[cfg(target_arch = "x86_64")]
pub(crate) use x86::temper8;

/// The portable twist (the reference's `next_state`), word by word.
pub(crate) fn twist_scalar(s: &mut [u32; MERSENNE_STATE_N]) {
    for i in 0..NM {
        s[i] = mix(s[i], s[i + 1], s[i + MERSENNE_STATE_M]);
    }
    for i in NM..MERSENNE_STATE_N - 1 {
        s[i] = mix(s[i], s[i + 1], s[i - NM]);
    }
    s[MERSENNE_STATE_N - 1] = mix(s[MERSENNE_STATE_N - 1], s[0], s[MERSENNE_STATE_M - 1]);
}

/// The twist on the given route (`lanes` must be supported by this CPU).
#[inline]
pub(crate) fn twist(s: &mut [u32; MERSENNE_STATE_N], lanes: Lanes) {
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::twist_avx512(s) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::twist_avx2(s) },
        _ => twist_scalar(s),
    }
}

/// `dst[k] = temper(src[k])` for every `k` (equal lengths) on the given route.
#[inline]
pub(crate) fn temper_into(src: &[u32], dst: &mut [u32], lanes: Lanes) {
    debug_assert_eq!(src.len(), dst.len());
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::temper_avx512(src, dst) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::temper_avx2(src, dst) },
        _ => {
            for (d, &w) in dst.iter_mut().zip(src) {
                *d = temper(w);
            }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{mix, temper, MERSENNE_STATE_M, MERSENNE_STATE_N, NM};
    use crate::engine::mt19937::{LOWER_MASK, MATRIX_A, UPPER_MASK};
    use std::arch::x86_64::{
        __m256i, __m512i, _mm256_and_si256, _mm256_loadu_si256, _mm256_or_si256, _mm256_set1_epi32,
        _mm256_slli_epi32, _mm256_srai_epi32, _mm256_srli_epi32, _mm256_storeu_si256,
        _mm256_xor_si256, _mm512_and_si512, _mm512_loadu_si512, _mm512_or_si512, _mm512_set1_epi32,
        _mm512_slli_epi32, _mm512_srai_epi32, _mm512_srli_epi32, _mm512_storeu_si512,
        _mm512_xor_si512,
    };

    /// The scalar step for the words a vector block may not cover.
    #[inline(always)]
    fn step(s: &mut [u32; MERSENNE_STATE_N], i: usize) {
        s[i] = mix(
            s[i],
            s[(i + 1) % MERSENNE_STATE_N],
            s[(i + MERSENNE_STATE_M) % MERSENNE_STATE_N],
        );
    }

    /// Runs `block(i)` for every vector block of `L` words and `step` for the rest, in order.
    #[inline(always)]
    fn drive<const L: usize>(
        s: &mut [u32; MERSENNE_STATE_N],
        mut block: impl FnMut(&mut [u32; MERSENNE_STATE_N], usize),
    ) {
        let mut i = 0;
        while i + L <= NM {
            block(s, i);
            i += L;
        }
        while i < NM {
            step(s, i);
            i += 1;
        }
        while i + L < MERSENNE_STATE_N {
            block(s, i);
            i += L;
        }
        while i < MERSENNE_STATE_N {
            step(s, i);
            i += 1;
        }
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    fn mix8(cur: __m256i, next: __m256i, far: __m256i) -> __m256i {
        let y = _mm256_or_si256(
            _mm256_and_si256(cur, _mm256_set1_epi32(UPPER_MASK as i32)),
            _mm256_and_si256(next, _mm256_set1_epi32(LOWER_MASK as i32)),
        );
        // All ones where y is odd: shift the low bit to the top, then arithmetic shift back.
        let odd = _mm256_srai_epi32::<31>(_mm256_slli_epi32::<31>(y));
        let mag = _mm256_and_si256(odd, _mm256_set1_epi32(MATRIX_A as i32));
        _mm256_xor_si256(far, _mm256_xor_si256(_mm256_srli_epi32::<1>(y), mag))
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn mix16(cur: __m512i, next: __m512i, far: __m512i) -> __m512i {
        let y = _mm512_or_si512(
            _mm512_and_si512(cur, _mm512_set1_epi32(UPPER_MASK as i32)),
            _mm512_and_si512(next, _mm512_set1_epi32(LOWER_MASK as i32)),
        );
        let odd = _mm512_srai_epi32::<31>(_mm512_slli_epi32::<31>(y));
        let mag = _mm512_and_si512(odd, _mm512_set1_epi32(MATRIX_A as i32));
        _mm512_xor_si512(far, _mm512_xor_si512(_mm512_srli_epi32::<1>(y), mag))
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn twist_avx2(s: &mut [u32; MERSENNE_STATE_N]) {
        drive::<8>(s, |s, i| {
            let p = s.as_mut_ptr();
            let far = if i < NM { i + MERSENNE_STATE_M } else { i - NM };
            // SAFETY: `drive` passes blocks with `i + 8 <= 623`, so words `i..i + 9` are in
            // bounds, and `far + 8 <= 624` (far = i + 397 with i + 8 <= 227, or i - 227).
            unsafe {
                let cur = _mm256_loadu_si256(p.add(i).cast());
                let next = _mm256_loadu_si256(p.add(i + 1).cast());
                let far = _mm256_loadu_si256(p.add(far).cast());
                _mm256_storeu_si256(p.add(i).cast(), mix8(cur, next, far));
            }
        });
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn twist_avx512(s: &mut [u32; MERSENNE_STATE_N]) {
        drive::<16>(s, |s, i| {
            let p = s.as_mut_ptr();
            let far = if i < NM { i + MERSENNE_STATE_M } else { i - NM };
            // SAFETY: as in `twist_avx2`, with blocks of 16 (`i + 16 <= 623`).
            unsafe {
                let cur = _mm512_loadu_si512(p.add(i).cast());
                let next = _mm512_loadu_si512(p.add(i + 1).cast());
                let far = _mm512_loadu_si512(p.add(far).cast());
                _mm512_storeu_si512(p.add(i).cast(), mix16(cur, next, far));
            }
        });
    }

    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn temper8(y: __m256i) -> __m256i {
        let y = _mm256_xor_si256(y, _mm256_srli_epi32::<11>(y));
        let y = _mm256_xor_si256(
            y,
            _mm256_and_si256(
                _mm256_slli_epi32::<7>(y),
                _mm256_set1_epi32(0x9d2c_5680u32 as i32),
            ),
        );
        let y = _mm256_xor_si256(
            y,
            _mm256_and_si256(
                _mm256_slli_epi32::<15>(y),
                _mm256_set1_epi32(0xefc6_0000u32 as i32),
            ),
        );
        _mm256_xor_si256(y, _mm256_srli_epi32::<18>(y))
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn temper16(y: __m512i) -> __m512i {
        let y = _mm512_xor_si512(y, _mm512_srli_epi32::<11>(y));
        let y = _mm512_xor_si512(
            y,
            _mm512_and_si512(
                _mm512_slli_epi32::<7>(y),
                _mm512_set1_epi32(0x9d2c_5680u32 as i32),
            ),
        );
        let y = _mm512_xor_si512(
            y,
            _mm512_and_si512(
                _mm512_slli_epi32::<15>(y),
                _mm512_set1_epi32(0xefc6_0000u32 as i32),
            ),
        );
        _mm512_xor_si512(y, _mm512_srli_epi32::<18>(y))
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn temper_avx2(src: &[u32], dst: &mut [u32]) {
        let n = src.len().min(dst.len());
        let mut k = 0;
        while k + 8 <= n {
            // SAFETY: `k + 8 <= n` words of both slices are in bounds.
            unsafe {
                let v = _mm256_loadu_si256(src.as_ptr().add(k).cast());
                _mm256_storeu_si256(dst.as_mut_ptr().add(k).cast(), temper8(v));
            }
            k += 8;
        }
        for j in k..n {
            dst[j] = temper(src[j]);
        }
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn temper_avx512(src: &[u32], dst: &mut [u32]) {
        let n = src.len().min(dst.len());
        let mut k = 0;
        while k + 16 <= n {
            // SAFETY: `k + 16 <= n` words of both slices are in bounds.
            unsafe {
                let v = _mm512_loadu_si512(src.as_ptr().add(k).cast());
                _mm512_storeu_si512(dst.as_mut_ptr().add(k).cast(), temper16(v));
            }
            k += 16;
        }
        for j in k..n {
            dst[j] = temper(src[j]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Mt19937;

    #[test]
    fn every_twist_route_matches_the_scalar_twist() {
        for seed in [0u64, 1, 5489, 0xdead_beef] {
            let mut want = *Mt19937::new(seed).state();
            let mut got: Vec<[u32; MERSENNE_STATE_N]> = Lanes::available()
                .iter()
                .map(|_| *Mt19937::new(seed).state())
                .collect();
            for _ in 0..5 {
                twist_scalar(&mut want);
                for (s, &l) in got.iter_mut().zip(&Lanes::available()) {
                    twist(s, l);
                    if let Some(i) = (0..MERSENNE_STATE_N).find(|&i| s[i] != want[i]) {
                        panic!(
                            "{l:?} seed {seed}: word {i} {:08x} != {:08x}",
                            s[i], want[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn every_temper_route_matches_the_scalar_temper() {
        let src: Vec<u32> = (0..1000u32)
            .map(|k| k.wrapping_mul(0x9e37_79b9) ^ (k << 7))
            .collect();
        for l in Lanes::available() {
            for n in [0usize, 1, 7, 8, 15, 16, 17, 624, 1000] {
                let mut dst = vec![0u32; n];
                temper_into(&src[..n], &mut dst, l);
                for k in 0..n {
                    assert_eq!(dst[k], temper(src[k]), "{l:?} n {n} k {k}");
                }
            }
        }
    }
}
