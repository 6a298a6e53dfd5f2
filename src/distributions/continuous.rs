//! Per-element continuous samplers: `exponential_`, `geometric_`, `log_normal_`, `cauchy_`.
//!
//! Mirrors: `at::exponential_distribution`, `at::geometric_distribution`,
//! `at::lognormal_distribution`, `at::cauchy_distribution` (all instantiated with `double`,
//! `aten/src/ATen/core/DistributionsHelper.h`) and the transforms of
//! `aten/src/ATen/core/TransformationHelper.h`; for 2.0–2.6, MKL's `vRngExponential` in
//! `aten/src/ATen/native/cpu/DistributionKernels.cpp`.
//!
//! Every sampler computes in double and the kernel casts the result to the dtype at the end
//! (float16/bfloat16 through float32). Consumes: one `random64()` per element (`u53`), except
//! `log_normal`, which takes a standard normal from the shared Box–Muller cache, and the legacy
//! exponential stream ([`LegacyExponential`]).

use super::bernoulli::Mcg31;
use super::normal::normal_f64;
use super::transform::{affine_f64, u53};
use crate::generator::CpuGenerator;
use crate::math::libm;

#[cfg(test)]
/// `exponential_(lambd)`, 2.7+: `(-1 / lambd) * log1p(-u53)` (glibc `log1p`). Consumes: one
/// `random64()`.
#[inline]
pub fn exponential(g: &mut CpuGenerator, lambda: f64) -> f64 {
    exponential_of(g.random64(), lambda)
}

/// [`exponential`] from its `random64()` value `w`.
#[inline]
#[must_use]
pub fn exponential_of(w: u64, lambda: f64) -> f64 {
    (-1.0 / lambda) * libm::log1p(-u53(w))
}

/// [`geometric`] from its `random64()` value `w`.
#[inline]
#[must_use]
pub fn geometric_of(w: u64, p: f64) -> f64 {
    (libm::log(u53(w)) / libm::log1p(-p)).ceil()
}

/// [`cauchy`] from its `random64()` value `w`.
#[inline]
#[must_use]
pub fn cauchy_of(w: u64, median: f64, sigma: f64, fused: bool) -> f64 {
    let u = u53(w);
    let t = libm::tan(std::f64::consts::PI * (u - 0.5));
    if fused {
        affine_f64::<true>(sigma, t, median)
    } else {
        affine_f64::<false>(sigma, t, median)
    }
}

/// `log_normal_(mean, std)`: `exp(z * std + mean)` with `z` from the double normal cache, the
/// multiply-add fused in the AVX2 build (glibc `exp`). Consumes: as
/// [`standard_normal_f64`](super::normal::standard_normal_f64).
#[inline]
pub fn log_normal(g: &mut CpuGenerator, mean: f64, std: f64, fused: bool) -> f64 {
    libm::exp(normal_f64(g, mean, std, fused))
}

/// The MKL `exponential_` of 2.0–2.6 (finite `lambd > 0`): one seed word per call (the low word of
/// a `random64()` for float64, so two words), an MCG31 stream, and
/// `min_normal - ln(u) / lambd` evaluated by MKL's vector log.
///
/// MKL's arithmetic is not public, so this evaluates the same formula with glibc's `log` in double
/// and rounds once: **not bit-exact** (see the README's fidelity table for the measured bound).
#[derive(Clone, Debug)]
pub struct LegacyExponential {
    stream: Mcg31,
    beta: f64,
    single: bool,
}

impl LegacyExponential {
    /// Draws the seed (one word when `single`, for float32/float16/bfloat16; two for float64).
    pub fn new(g: &mut CpuGenerator, lambda: f64, single: bool) -> LegacyExponential {
        let seed = if single {
            g.random()
        } else {
            g.random64() as u32
        };
        LegacyExponential {
            stream: Mcg31::new(seed),
            beta: 1.0 / lambda,
            single,
        }
    }

    /// The next value, in double (the float kernel's value is exact in float after rounding).
    pub fn sample(&mut self) -> f64 {
        if self.single {
            let u = f64::from(self.stream.next_f32());
            let beta = f64::from(self.beta as f32);
            let v = f64::from(f32::MIN_POSITIVE) - beta * libm::log(u);
            f64::from(v as f32)
        } else {
            let u = self.stream.next_f64();
            f64::MIN_POSITIVE - self.beta * libm::log(u)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_seed42() {
        // torch.manual_seed(42); torch.empty(2, dtype=torch.float64).exponential_()
        let mut g = CpuGenerator::with_seed(42);
        let v: Vec<u64> = (0..2).map(|_| exponential(&mut g, 1.0).to_bits()).collect();
        assert_eq!(v, [0x3fae_ad0c_c3ed_94d3, 0x3fb0_a246_8c30_32b6]);
    }
}
