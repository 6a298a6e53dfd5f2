//! `erf` and `erfinv` in double, for `nn.init.trunc_normal_`.
//!
//! PyTorch calls glibc's `erf` (Python's `math.erf`) for the truncation probabilities, and MKL's
//! `vsErfInv`/`vdErfInv` for `Tensor.erfinv_` on x86 wheels. Neither is reproduced instruction by
//! instruction here: [`erf`] sums a series with positive terms only (a few ulps from the correctly
//! rounded value), and [`erfinv`] refines a closed-form start with Newton steps on that `erf`.
//! Rounded to float32, both agree with PyTorch except within a few ulps of a rounding boundary;
//! the README's fidelity table gives the measured rates.

use super::libm;

const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
/// Winitzki's constant for the `erfinv` start.
const K: f64 = 0.147;

/// The error function, `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`.
///
/// Uses `erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (2n+1)!!`, whose terms are all positive (no
/// cancellation), for |x| < 6; beyond, the double nearest `erf(x)` is ±1.
#[must_use]
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax >= 6.0 {
        return 1f64.copysign(x);
    }
    if ax < 1e-10 {
        // erf(x) = 2x/√π (1 − x²/3 + ...); the correction is below half an ulp.
        return TWO_OVER_SQRT_PI * x;
    }
    let x2 = ax * ax;
    let mut term = ax;
    let mut sum = ax;
    let mut n = 0u32;
    loop {
        n += 1;
        term *= 2.0 * x2 / f64::from(2 * n + 1);
        sum += term;
        if term < sum * 1e-18 || n > 400 {
            break;
        }
    }
    (TWO_OVER_SQRT_PI * libm::exp(-x2) * sum).copysign(x)
}

/// The inverse error function on [−1, 1]: ±∞ at ±1, NaN outside.
///
/// A start from the closed form `√(√(t² − ln(1−y²)/k) − t)·sign(y)` with `k = 0.147`,
/// `t = 2/(πk) + ln(1−y²)/2` (Winitzki), then Newton steps on [`erf`] until the step no longer
/// changes the value (at most 8).
#[must_use]
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || y.abs() > 1.0 {
        return f64::NAN;
    }
    if y.abs() == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    if y == 0.0 {
        return y;
    }
    let ln = libm::log1p(-y * y);
    let t = 2.0 / (std::f64::consts::PI * K) + ln / 2.0;
    let mut x = ((t * t - ln / K).sqrt() - t).sqrt().copysign(y);
    for _ in 0..8 {
        let err = erf(x) - y;
        let step = err / (TWO_OVER_SQRT_PI * libm::exp(-x * x));
        let next = x - step;
        if next == x || !next.is_finite() {
            break;
        }
        x = next;
        if step.abs() <= x.abs() * 1e-17 {
            break;
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_known_values() {
        // Python's math.erf (glibc) values
        assert_eq!(erf(0.0), 0.0);
        let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs();
        assert!(close(erf(1.0), 0.842_700_792_949_714_9));
        assert!(close(erf(2f64.sqrt()), 0.954_499_736_103_641_6));
        assert!(close(erf(-0.5), -0.520_499_877_813_046_5));
        assert!(close(erf(3.0), 0.999_977_909_503_001_4));
        assert_eq!(erf(7.0), 1.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn erfinv_inverts_erf() {
        for &y in &[
            -0.999,
            -0.9,
            -0.5,
            -1e-6,
            1e-3,
            0.25,
            0.75,
            0.954_499_736_103_641_6,
            0.9999,
        ] {
            let x = erfinv(y);
            assert!((erf(x) - y).abs() <= 4.0 * f64::EPSILON, "{y}");
        }
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert!(erfinv(1.5).is_nan());
    }
}
