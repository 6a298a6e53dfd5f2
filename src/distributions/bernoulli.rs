//! Bernoulli draws: scalar `p` (per element, or the legacy MKL MCG31 stream) and tensor `p`.
//!
//! Mirrors: `at::bernoulli_distribution` (`aten/src/ATen/core/DistributionsHelper.h`),
//! `bernoulli_kernel` (`aten/src/ATen/native/cpu/DistributionTemplates.h`) and, for 2.0–2.6, the
//! MKL `bernoulli_scalar_kernel` of `aten/src/ATen/native/cpu/DistributionKernels.cpp`.
//!
//! * Scalar `p`, 2.7+: `u53 < p` per element. Consumes: one `random64()` per element, whatever
//!   `p` (0 and 1 included).
//! * Scalar `p`, 2.0–2.6 ([`Mcg31`]): one `random()` seeds MKL's `VSL_BRNG_MCG31` for the whole
//!   tensor; element `i` (row-major over the logical shape) compares the stream's `i`-th value,
//!   rounded to float, with `f32(p)`. Consumes: one word per call (none for an empty tensor).
//! * Tensor `p` (every release): float64 `p` → `u53 < p` (one `random64()`); float32, float16 or
//!   bfloat16 `p` → `u24 < f32(p)` (one `random()`).

use super::transform::{u24, u53};
#[cfg(test)]
use crate::generator::CpuGenerator;

/// The MCG31 modulus, 2^31 − 1.
pub const MCG31_M: u64 = 0x7fff_ffff;
/// The MCG31 multiplier.
pub const MCG31_A: u64 = 1_132_489_760;

#[cfg(test)]
/// Scalar-`p` Bernoulli (2.7+). Consumes: one `random64()`.
#[inline]
pub fn scalar(g: &mut CpuGenerator, p: f64) -> bool {
    scalar_of(g.random64(), p)
}

#[cfg(test)]
/// [`scalar`] from its `random64()` value `w`.
#[inline(always)]
#[must_use]
pub fn scalar_of(w: u64, p: f64) -> bool {
    u53(w) < p
}

/// [`scalar`] as an integer comparison, for a fill loop without a float compare and branch per
/// element: `u53(w) < p` holds exactly when `k = w mod 2^53` is below `ceil(p * 2^53)`, because
/// `u53(w) = k * 2^-53` exactly and `p * 2^53` is exact for `p` in `[0, 1]` (and an integer `k`
/// is below a real `x` exactly when it is below `ceil(x)`).
#[derive(Clone, Copy, Debug)]
pub struct ScalarThreshold(u64);

impl ScalarThreshold {
    /// The threshold for a probability `p` in `[0, 1]`.
    #[must_use]
    pub fn new(p: f64) -> ScalarThreshold {
        ScalarThreshold((p * 9_007_199_254_740_992.0).ceil() as u64)
    }

    /// `scalar_of(w, p)`.
    #[inline(always)]
    #[must_use]
    pub fn test(self, w: u64) -> bool {
        (w & ((1 << 53) - 1)) < self.0
    }
}

/// [`tensor_f64`] from its `random64()` value `w`.
#[inline(always)]
#[must_use]
pub fn tensor_f64_of(w: u64, p: f64) -> bool {
    u53(w) < p
}

/// [`tensor_f32`] from its `random()` word `w`.
#[inline(always)]
#[must_use]
pub fn tensor_f32_of(w: u32, p: f32) -> bool {
    u24(w) < p
}

/// MKL's `VSL_BRNG_MCG31` stream as PyTorch 2.0–2.6 seeded it: `x_0 = seed mod (2^31 − 1)` (1 if
/// that is 0), `x_{i+1} = 1132489760 · x_i mod (2^31 − 1)`; value `i` is `x_i / (2^31 − 1)`.
#[derive(Clone, Debug)]
pub struct Mcg31 {
    x: u64,
}

impl Mcg31 {
    /// The stream seeded by one 32-bit word.
    #[must_use]
    pub fn new(seed: u32) -> Mcg31 {
        let x = u64::from(seed) % MCG31_M;
        Mcg31 {
            x: if x == 0 { 1 } else { x },
        }
    }

    /// The current state `x_i` divided by 2^31 − 1 in double, then the state advances.
    pub fn next_f64(&mut self) -> f64 {
        let u = self.x as f64 / MCG31_M as f64;
        self.x = self.x * MCG31_A % MCG31_M;
        u
    }

    /// [`Mcg31::next_f64`] rounded to float, as MKL's single-precision routines see it.
    pub fn next_f32(&mut self) -> f32 {
        self.next_f64() as f32
    }
}

/// Legacy scalar Bernoulli: the stream's next float against `f32(p)`.
#[inline]
pub fn legacy(stream: &mut Mcg31, p: f64) -> bool {
    stream.next_f32() < p as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bernoulli_half_seed42() {
        // torch.manual_seed(42); torch.empty(12).bernoulli_(0.5) (cpu-rng.md section 14)
        let mut g = CpuGenerator::with_seed(42);
        let v: Vec<u8> = (0..12).map(|_| u8::from(scalar(&mut g, 0.5))).collect();
        assert_eq!(v, [1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 1, 1]);
    }

    #[test]
    fn threshold_is_the_float_comparison() {
        let ulp = 2f64.powi(-53);
        let mut ps = vec![0.0, 1.0, 0.5, 0.3, 0.7, 1e-300, ulp, 1.0 - ulp, 0.1 + ulp];
        let mut g = CpuGenerator::with_seed(7);
        ps.extend((0..200).map(|_| u53(g.random64())));
        ps.extend((0..200).map(|_| f64::from(u24(g.random()))));
        for p in ps {
            let t = ScalarThreshold::new(p);
            let k = (p / ulp) as u64; // the words just around p
            let mut ws: Vec<u64> = (0..2000).map(|_| g.random64()).collect();
            for d in 0..3u64 {
                ws.extend([k.wrapping_sub(d), k + d, (k + d) | (0x7ff << 53)]);
            }
            for w in ws {
                assert_eq!(t.test(w), scalar_of(w, p), "p = {p:e}, w = {w:#x}");
            }
        }
    }

    #[test]
    fn legacy_bernoulli_half_seed42() {
        // the same call in 2.0.1/2.5.1 (MKL): [0,0,1,1,1,1,1,0,1,0,1,0]
        let mut g = CpuGenerator::with_seed(42);
        let mut s = Mcg31::new(g.random());
        let v: Vec<u8> = (0..12).map(|_| u8::from(legacy(&mut s, 0.5))).collect();
        assert_eq!(v, [0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0]);
    }
}
