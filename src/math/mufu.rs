//! Models of the GPU's hardware approximations (the `MUFU` special-function unit) behind the
//! CUDA fast intrinsics `__sinf`, `__cosf`, `__sincosf`, `__logf`, `__expf`, `__tanf` and
//! `__fdividef`.
//!
//! **These are models, not ports.** NVIDIA documents only error bounds for the PTX instructions
//! `sin.approx.f32`, `cos.approx.f32`, `lg2.approx.f32`, `ex2.approx.f32` and `div.approx.f32`
//! (CUDA C++ Programming Guide, "Intrinsic Functions": `__sinf(x)`/`__cosf(x)` have a maximum
//! absolute error of 2^-21.41 for `x` in [-π, π]; `__logf` 2^-21.41 absolute on [0.5, 2], else
//! 3 ulp; `__expf` 2 + floor(|1.173 x|) ulp; `__fdividef` 2 ulp). Each model returns the
//! correctly rounded float of the exact function of the instruction's input, computed with this
//! crate's exact libdevice ports ([`super::libdevice`]) so that it does not depend on the host:
//! the bits therefore differ from the hardware's in some last bits, within those bounds. A table
//! measured on a GPU (`tools/gen_golden_cuda.py` dumps one) is what would make them exact.
//!
//! What *is* pinned, from the SASS of PyTorch 2.15.0's sm_90 kernels (shared/reference
//! cuda-philox.md section 6): `sin.approx.f32`/`cos.approx.f32` first scale the angle to
//! revolutions with a multiply rounded **toward zero** by `0x3e22f983` (1/2π in float),
//! [`fmul_rz`], then evaluate `MUFU.SIN`/`MUFU.COS` on that value; `__logf(x)` is
//! `lg2.approx(x) * 0x3f317218` and `__expf(x)` is `ex2.approx(x * 0x3fb8aa3b)` (libdevice
//! `__nv_fast_logf`, `__nv_fast_expf`), `__tanf(x)` is `div.approx(sin.approx(x), cos.approx(x))`
//! (`__nv_fast_tanf`).

use super::libdevice::{nv_exp, nv_log, nv_sincospi};

/// `1/(2π)` rounded to float (`0x3e22f983`), the scale of the `sin.approx`/`cos.approx` range
/// reduction.
pub const INV_2PI_F32: f32 = f32::from_bits(0x3e22_f983);

/// `a * b` rounded toward zero (`FMUL.RZ`). The product of two floats is exact in a double, so
/// one truncating step from it is the correctly rounded-toward-zero float.
#[must_use]
pub fn fmul_rz(a: f32, b: f32) -> f32 {
    let p = f64::from(a) * f64::from(b);
    if !p.is_finite() {
        return p as f32;
    }
    let r = p as f32; // nearest even
    if f64::from(r).abs() > p.abs() {
        // Rounded away from zero: step back one float toward zero.
        f32::from_bits(r.to_bits() - 1)
    } else if r.is_infinite() {
        f32::MAX.copysign(r)
    } else {
        r
    }
}

/// Model of `MUFU.SIN` on an angle `r` in revolutions: `f32(sin(2π r))`.
#[must_use]
pub fn mufu_sin(r: f32) -> f32 {
    nv_sincospi(2.0 * f64::from(r)).0 as f32
}

/// Model of `MUFU.COS` on an angle `r` in revolutions: `f32(cos(2π r))`.
#[must_use]
pub fn mufu_cos(r: f32) -> f32 {
    nv_sincospi(2.0 * f64::from(r)).1 as f32
}

/// `sin.approx.f32 v` (`__sinf`): `MUFU.SIN(fmul_rz(v, 1/2π))`, modelled.
#[must_use]
pub fn sin_approx(v: f32) -> f32 {
    mufu_sin(fmul_rz(v, INV_2PI_F32))
}

/// `cos.approx.f32 v` (`__cosf`): `MUFU.COS(fmul_rz(v, 1/2π))`, modelled.
#[must_use]
pub fn cos_approx(v: f32) -> f32 {
    mufu_cos(fmul_rz(v, INV_2PI_F32))
}

/// `__sincosf(v)`: `(sin.approx v, cos.approx v)`, modelled (one shared range reduction).
#[must_use]
pub fn sincos_approx(v: f32) -> (f32, f32) {
    let r = fmul_rz(v, INV_2PI_F32);
    let (s, c) = nv_sincospi(2.0 * f64::from(r));
    (s as f32, c as f32)
}

/// Model of `lg2.approx.f32` (`MUFU.LG2`): `f32(log2 x)`.
#[must_use]
pub fn lg2_approx(x: f32) -> f32 {
    if x == 1.0 {
        return 0.0;
    }
    (nv_log(f64::from(x)) * std::f64::consts::LOG2_E) as f32
}

/// Model of `ex2.approx.f32` (`MUFU.EX2`): `f32(2^x)`.
#[must_use]
pub fn ex2_approx(x: f32) -> f32 {
    nv_exp(f64::from(x) * std::f64::consts::LN_2) as f32
}

/// Model of `div.approx.f32 a, b` (`__fdividef`): `f32(a / b)`.
#[must_use]
pub fn div_approx(a: f32, b: f32) -> f32 {
    (f64::from(a) / f64::from(b)) as f32
}

/// `__logf(x)` = `lg2.approx(x) * 0x3f317218` (one IEEE multiply after the model).
#[must_use]
pub fn fast_logf(x: f32) -> f32 {
    lg2_approx(x) * f32::from_bits(0x3f31_7218)
}

/// `__expf(x)` = `ex2.approx(x * 0x3fb8aa3b)` (the multiply is IEEE and not fused).
#[must_use]
pub fn fast_expf(x: f32) -> f32 {
    ex2_approx(x * f32::from_bits(0x3fb8_aa3b))
}

/// `__tanf(x)` = `div.approx(sin.approx x, cos.approx x)`.
#[must_use]
pub fn fast_tanf(x: f32) -> f32 {
    div_approx(sin_approx(x), cos_approx(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rz_multiply() {
        // 3 * (1/3 rounded up) is just above 1: toward zero gives 1.0, nearest also 1.0
        assert_eq!(fmul_rz(3.0, f32::from_bits(0x3eaa_aaab)), 1.0);
        // a product that rounds up under nearest-even but truncates under RZ
        let a = f32::from_bits(0x3f80_0001); // 1 + 2^-23
        let b = f32::from_bits(0x3fbf_ffff); // 1.5 - 2^-23 ... product just below a float + half
        let p = f64::from(a) * f64::from(b);
        let rz = fmul_rz(a, b);
        assert!(f64::from(rz) <= p && f64::from(f32::from_bits(rz.to_bits() + 1)) > p);
        assert_eq!(fmul_rz(-a, b), -rz);
        assert_eq!(fmul_rz(f32::MAX, 2.0), f32::MAX);
        assert_eq!(fmul_rz(0.0, 5.0), 0.0);
    }

    #[test]
    fn sine_model_is_the_rounded_function() {
        for i in 1..1000 {
            let v = i as f32 * 0.006_283;
            let (s, c) = sincos_approx(v);
            assert_eq!(s.to_bits(), sin_approx(v).to_bits());
            assert_eq!(c.to_bits(), cos_approx(v).to_bits());
            let r = f64::from(fmul_rz(v, INV_2PI_F32));
            let exact = (2.0 * std::f64::consts::PI * r).sin();
            assert!((f64::from(s) - exact).abs() <= 2f64.powi(-24), "v {v}");
        }
    }

    #[test]
    fn fast_intrinsics_are_close() {
        for &x in &[0.001f32, 0.3, 0.5, 0.999_999, 1.0] {
            assert!((fast_logf(x) - x.ln()).abs() <= 2e-7 * x.ln().abs().max(1.0));
        }
        assert_eq!(fast_logf(1.0), 0.0);
        for &x in &[-3.0f32, -0.5, 0.0, 0.7, 4.0] {
            assert!((fast_expf(x) / x.exp() - 1.0).abs() < 5e-7);
        }
        assert!((fast_tanf(0.5) - 0.5f32.tan()).abs() < 1e-6);
    }
}
