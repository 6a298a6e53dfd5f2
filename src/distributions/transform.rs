//! Pure word → value functions.
//!
//! Mirrors: `aten/src/ATen/core/TransformationHelper.h` (`uniform_real`) and
//! `aten/src/ATen/core/DistributionsHelper.h` (`uniform_real_distribution`).
//!
//! PyTorch's `uniform_real` keeps the **low** `digits` bits of the word (`v & (2^digits - 1)`) and
//! scales by `2^-digits`, so the value lies in `{k / 2^digits : 0 <= k < 2^digits}` ⊂ [0, 1).

/// 2^-24 as a float.
const TWO_POW_M24: f32 = 1.0 / 16_777_216.0;
/// 2^-53 as a double.
const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;

/// float32 uniform from one 32-bit word: the low 24 bits times 2^-24 (exact).
///
/// Consumes: one `random()` word.
#[inline(always)]
#[must_use]
pub fn u24(w: u32) -> f32 {
    (w & 0x00ff_ffff) as f32 * TWO_POW_M24
}

/// float64 uniform from one 64-bit draw: the low 53 bits times 2^-53 (exact).
///
/// Consumes: one `random64()` (two words, the first one high; only its low 21 bits are used).
#[inline(always)]
#[must_use]
pub fn u53(w: u64) -> f64 {
    (w & ((1u64 << 53) - 1)) as f64 * TWO_POW_M53
}

/// `x * d + a` in float, fused into one rounding when the build contracted it.
#[inline(always)]
#[must_use]
pub fn affine_f32<const FUSED: bool>(x: f32, d: f32, a: f32) -> f32 {
    if FUSED {
        x.mul_add(d, a)
    } else {
        x * d + a
    }
}

/// `x * d + a` in double, fused into one rounding when the build contracted it.
#[inline(always)]
#[must_use]
pub fn affine_f64<const FUSED: bool>(x: f64, d: f64, a: f64) -> f64 {
    if FUSED {
        x.mul_add(d, a)
    } else {
        x * d + a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn low_bits_are_kept() {
        assert_eq!(u24(0xff00_0001).to_bits(), (2f32.powi(-24)).to_bits());
        assert_eq!(u24(0x00ff_ffff), 1.0 - 2f32.powi(-24));
        assert_eq!(u53(u64::MAX), 1.0 - 2f64.powi(-53));
        assert_eq!(u53(1 << 53), 0.0);
    }

    #[test]
    fn seed42_rand_f32() {
        // torch.manual_seed(42); torch.rand(4) (cpu-rng.md section 14)
        let mut g = crate::generator::CpuGenerator::with_seed(42);
        let got: Vec<u32> = (0..4).map(|_| u24(g.random()).to_bits()).collect();
        assert_eq!(got, [0x3f61_dc66, 0x3f6a_3db3, 0x3ec4_06b8, 0x3f75_950e]);
    }
}
