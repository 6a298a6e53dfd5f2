//! Cephes-style float `log` and `sincos` as the AVX2 normal kernel computes them, one lane at a time.
//!
//! Mirrors: `aten/src/ATen/native/cpu/avx_mathfun.h` (`log256_ps`, `sincos256_ps`) as compiled into
//! the AVX2 build of `normal_fill_16_AVX2` (`aten/src/ATen/native/cpu/DistributionTemplates.h`).
//!
//! Lanes are independent, so a scalar function per lane gives the vector's bits. Every operation
//! below is one IEEE float32 operation, rounded, except where `mul_add` is written: those are the
//! places where the shipped AVX2 binary uses a fused multiply-add (the placement was read from the
//! disassembly and checked exhaustively over every input the generator can produce; see
//! shared/reference/cpu-rng.md sections 6.3 and 6.4).
//!
//! `mul_add` is a single-rounding fused multiply-add on every host. It is a fast instruction only
//! where the caller was compiled with the `fma` target feature, so the kernels in
//! [`crate::distributions`] call these `#[inline(always)]` functions from a runtime-selected FMA
//! route and from a portable route; both give the same bits.

const SQRTHF: f32 = f32::from_bits(0x3f35_04f3);
/// The log polynomial's coefficients, highest degree first (shared with the 8-lane twin).
pub(super) const LOG_P: [f32; 9] = [
    f32::from_bits(0x3d90_21bb),
    f32::from_bits(0xbdeb_d1b8),
    f32::from_bits(0x3def_251a),
    f32::from_bits(0xbdfe_5d4f),
    f32::from_bits(0x3e11_e9bf),
    f32::from_bits(0xbe2a_ae50),
    f32::from_bits(0x3e4c_ceac),
    f32::from_bits(0xbe7f_fffc),
    f32::from_bits(0x3eaa_aaaa),
];
const LOG_Q1: f32 = f32::from_bits(0xb95e_8083);
const LOG_Q2: f32 = f32::from_bits(0x3f31_8000);

const FOPI: f32 = f32::from_bits(0x3fa2_f983);
const DP1: f32 = f32::from_bits(0xbf49_0000);
const DP2: f32 = f32::from_bits(0xb97d_a000);
const DP3: f32 = f32::from_bits(0xb322_2169);
const SIN_P0: f32 = f32::from_bits(0xb94c_a1f9);
const SIN_P1: f32 = f32::from_bits(0x3c08_839e);
const SIN_P2: f32 = f32::from_bits(0xbe2a_aaa3);
const COS_P0: f32 = f32::from_bits(0x37cc_f5ce);
const COS_P1: f32 = f32::from_bits(0xbab6_061a);
const COS_P2: f32 = f32::from_bits(0x3d2a_aaa5);

/// Natural log of one lane of `log256_ps`. Non-positive inputs give the all-ones NaN `0xffffffff`,
/// as the vector code ORs an all-ones mask into such lanes.
#[inline(always)]
#[must_use]
pub fn log_ps(x: f32) -> f32 {
    let invalid = x <= 0.0;
    // max with the smallest normal: denormals and non-positive inputs are clamped first.
    let x = if x > f32::MIN_POSITIVE {
        x
    } else {
        f32::MIN_POSITIVE
    };
    let bits = x.to_bits();
    let e_i = (bits >> 23) as i32 - 127;
    let m = f32::from_bits((bits & 0x807f_ffff) | 0x3f00_0000);
    let mut e = e_i as f32 + 1.0;
    let t = if m < SQRTHF {
        e -= 1.0;
        m
    } else {
        0.0
    };
    let x = (m - 1.0) + t;
    let z = x * x;
    let mut y = LOG_P[0];
    for &p in &LOG_P[1..] {
        y = y.mul_add(x, p);
    }
    y *= x;
    y = y.mul_add(z, e * LOG_Q1);
    y = (-z).mul_add(0.5, y);
    let r = x + y;
    let r = e.mul_add(LOG_Q2, r);
    if invalid {
        f32::from_bits(0xffff_ffff)
    } else {
        r
    }
}

/// `(sin x, cos x)` of one lane of `sincos256_ps`.
#[inline(always)]
#[must_use]
pub fn sincos_ps(x: f32) -> (f32, f32) {
    let mut sign_sin = x.is_sign_negative();
    let a = x.abs();
    // Float-to-int conversion truncates (cvttps2dq); inputs here are small, far from overflow.
    let mut j = (a * FOPI) as i32;
    j = (j + 1) & !1;
    let y = j as f32;
    let swap = (j & 4) != 0;
    let poly_first = (j & 2) == 0;
    let mut a = y.mul_add(DP1, a);
    a = y.mul_add(DP2, a);
    a = y.mul_add(DP3, a);
    let sign_cos = (!(j.wrapping_sub(2)) & 4) != 0;
    if swap {
        sign_sin = !sign_sin;
    }
    let z = a * a;
    let mut pc = COS_P0.mul_add(z, COS_P1);
    pc = pc.mul_add(z, COS_P2);
    pc *= z;
    pc = z.mul_add(pc, -(z * 0.5));
    pc += 1.0;
    let mut ps = SIN_P0.mul_add(z, SIN_P1);
    ps = ps.mul_add(z, SIN_P2);
    ps *= z;
    ps = a.mul_add(ps, a);
    let (sel_s, sel_c) = if poly_first { (ps, 0.0) } else { (0.0, pc) };
    let sin_r = sel_c + sel_s;
    let cos_r = (ps - sel_s) + (pc - sel_c);
    let flip = |v: f32, neg: bool| if neg { -v } else { v };
    (flip(sin_r, sign_sin), flip(cos_r, sign_cos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_close_to_libm() {
        for k in 1..2000u32 {
            let x = k as f32 / 2000.0;
            let d = (log_ps(x) - x.ln()).abs();
            assert!(d <= 2.0 * f32::EPSILON * x.ln().abs().max(1.0), "{x}: {d}");
        }
        assert_eq!(log_ps(0.0).to_bits(), 0xffff_ffff);
        assert_eq!(log_ps(1.0).to_bits(), 0);
    }

    #[test]
    fn sincos_close_to_libm() {
        for k in 0..2000u32 {
            let x = k as f32 * 6.283_185_5 / 2000.0;
            let (s, c) = sincos_ps(x);
            assert!((s - x.sin()).abs() < 1e-6, "sin {x}");
            assert!((c - x.cos()).abs() < 1e-6, "cos {x}");
        }
    }
}
