//! Which SIMD width the fast routes may use on this host (STYLE rule 7: the host picks a faster
//! route, never different bits).
//!
//! Every vectorised kernel in the crate (the mt19937 twist and tempering, the word → float
//! conversions, the libm twins and the Box–Muller blocks) has a portable scalar twin, and tests
//! run every level the host has and compare bits. [`Lanes::detect`] is the widest level the CPU
//! reports at run time. The environment variable `TORCH_RNG_LANES` (`scalar`, `avx2` or `avx512`)
//! caps it, so a whole test suite (the golden fixtures included) or a bench can be run on a
//! narrower route: `TORCH_RNG_LANES=scalar cargo test --release --test golden`.

use std::sync::atomic::{AtomicU8, Ordering};

/// A SIMD level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Lanes {
    /// Plain Rust, one element at a time; runs everywhere.
    Scalar,
    /// 8 × 32-bit lanes: x86-64 with AVX2 and FMA.
    Avx2,
    /// 16 × 32-bit lanes: x86-64 with AVX-512F, DQ, BW and VL (and AVX2 and FMA).
    Avx512,
}

/// 0 = not yet detected, else `Lanes as u8 + 1`.
static DETECTED: AtomicU8 = AtomicU8::new(0);

impl Lanes {
    /// Every level, narrowest first.
    pub(crate) const ALL: [Lanes; 3] = [Lanes::Scalar, Lanes::Avx2, Lanes::Avx512];

    /// The level stored in [`DETECTED`] as `Lanes as u8 + 1`.
    fn from_stored(v: u8) -> Lanes {
        match v {
            2 => Lanes::Avx2,
            3 => Lanes::Avx512,
            _ => Lanes::Scalar,
        }
    }

    /// Whether this CPU can run `self`.
    pub(crate) fn supported(self) -> bool {
        match self {
            Lanes::Scalar => true,
            #[cfg(target_arch = "x86_64")]
            Lanes::Avx2 => {
                std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
            }
            #[cfg(target_arch = "x86_64")]
            Lanes::Avx512 => {
                Lanes::Avx2.supported()
                    && std::arch::is_x86_feature_detected!("avx512f")
                    && std::arch::is_x86_feature_detected!("avx512dq")
                    && std::arch::is_x86_feature_detected!("avx512bw")
                    && std::arch::is_x86_feature_detected!("avx512vl")
            }
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The widest level this CPU supports, capped by `TORCH_RNG_LANES` when it is set.
    pub(crate) fn detect() -> Lanes {
        let v = DETECTED.load(Ordering::Relaxed);
        if v != 0 {
            return Lanes::from_stored(v);
        }
        let cap = match std::env::var("TORCH_RNG_LANES").as_deref() {
            Ok("scalar") => Lanes::Scalar,
            Ok("avx2") => Lanes::Avx2,
            _ => Lanes::Avx512,
        };
        let best = Lanes::ALL
            .into_iter()
            .filter(|l| *l <= cap && l.supported())
            .max()
            .unwrap_or(Lanes::Scalar);
        DETECTED.store(best as u8 + 1, Ordering::Relaxed);
        best
    }

    /// Every level this CPU supports (for tests and benches), narrowest first.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Lanes> {
        Lanes::ALL.into_iter().filter(|l| l.supported()).collect()
    }
}

/// Word-to-uniform conversions shared by the kernels that read the generator's words: `(w &
/// mask) << shift` as a float times 2^-24 (exact, as every value is below 2^24), 8 or 16 lanes.
#[cfg(target_arch = "x86_64")]
pub(crate) mod u24 {
    use std::arch::x86_64::{
        __m256, __m256i, __m512, __m512i, _mm256_and_si256, _mm256_cvtepi32_ps, _mm256_mul_ps,
        _mm256_set1_epi32, _mm256_set1_ps, _mm256_sll_epi32, _mm512_and_si512, _mm512_cvtepi32_ps,
        _mm512_mul_ps, _mm512_set1_epi32, _mm512_set1_ps, _mm512_sll_epi32, _mm_cvtsi32_si128,
    };

    const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;

    /// 8 lanes.
    #[inline]
    #[target_feature(enable = "avx2")]
    pub(crate) fn u24_8(w: __m256i, mask: u32, shift: u32) -> __m256 {
        let m = _mm256_sll_epi32(
            _mm256_and_si256(w, _mm256_set1_epi32(mask as i32)),
            _mm_cvtsi32_si128(shift as i32),
        );
        _mm256_mul_ps(_mm256_cvtepi32_ps(m), _mm256_set1_ps(TWO_POW_M24))
    }

    /// 16 lanes.
    #[inline]
    #[target_feature(enable = "avx512f")]
    pub(crate) fn u24_16(w: __m512i, mask: u32, shift: u32) -> __m512 {
        let m = _mm512_sll_epi32(
            _mm512_and_si512(w, _mm512_set1_epi32(mask as i32)),
            _mm_cvtsi32_si128(shift as i32),
        );
        _mm512_mul_ps(_mm512_cvtepi32_ps(m), _mm512_set1_ps(TWO_POW_M24))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detected_level_is_supported_and_stable() {
        let first = Lanes::detect();
        assert!(first.supported());
        assert_eq!(
            Lanes::detect(),
            first,
            "the cached level must be the detected one"
        );
        assert!(Lanes::available().contains(&Lanes::Scalar));
        for l in Lanes::ALL {
            assert_eq!(Lanes::from_stored(l as u8 + 1), l);
        }
    }
}
