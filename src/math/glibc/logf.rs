//! `logf`: glibc's `sysdeps/ieee754/flt-32/e_logf.c` (ARM optimized-routines), 16-entry table and
//! a degree-4 polynomial evaluated in double.

use super::tables::{LOGF_LN2_POLY, LOGF_TAB};
use super::{d, fma, invalid_f32};

/// Where the table's subintervals start (`OFF`).
const OFF: u32 = 0x3f33_0000;
pub(crate) const LN2: f64 = d(LOGF_LN2_POLY[0]);
pub(crate) const A0: f64 = d(LOGF_LN2_POLY[1]);
pub(crate) const A1: f64 = d(LOGF_LN2_POLY[2]);
pub(crate) const A2: f64 = d(LOGF_LN2_POLY[3]);

/// `(invc, logc)` of subinterval `i`.
#[inline(always)]
pub(crate) fn entry(i: usize) -> (f64, f64) {
    (d(LOGF_TAB[2 * i]), d(LOGF_TAB[2 * i + 1]))
}

/// `logf` in variant `F` (fused multiply-adds where `e_logf-fma.c` has them).
#[inline(always)]
pub(crate) fn logf_impl<const F: bool>(x: f32) -> f32 {
    let mut ix = x.to_bits();
    // log(1) = +0 in every rounding mode.
    if ix == 0x3f80_0000 {
        return 0.0;
    }
    if ix.wrapping_sub(0x0080_0000) >= 0x7f80_0000 - 0x0080_0000 {
        // Zero, subnormal, negative, infinite or NaN.
        if ix.wrapping_mul(2) == 0 {
            return f32::NEG_INFINITY;
        }
        if ix == 0x7f80_0000 {
            return x;
        }
        if ix & 0x8000_0000 != 0 || ix.wrapping_mul(2) >= 0xff00_0000 {
            return invalid_f32(x);
        }
        // Subnormal: scale into the normal range (exact) and take 23 off the exponent.
        ix = (x * f32::from_bits(0x4b00_0000)).to_bits();
        ix = ix.wrapping_sub(23 << 23);
    }
    let tmp = ix.wrapping_sub(OFF);
    let i = ((tmp >> 19) % 16) as usize;
    let k = (tmp as i32) >> 23;
    let iz = ix.wrapping_sub(tmp & (0x1ff << 23));
    let (invc, logc) = entry(i);
    let z = f64::from(f32::from_bits(iz));
    let r = fma::<F>(z, invc, -1.0);
    let y0 = fma::<F>(f64::from(k), LN2, logc);
    let r2 = r * r;
    let y = fma::<F>(A1, r, A2);
    let y = fma::<F>(A0, r2, y);
    fma::<F>(y, r2, y0 + r) as f32
}

/// C `logf` as glibc 2.36 computes it on x86-64 with FMA (the reference).
#[must_use]
pub fn logf(x: f32) -> f32 {
    logf_impl::<true>(x)
}

/// C `logf` as glibc 2.36 computes it on x86-64 without FMA.
#[cfg(test)]
#[must_use]
pub fn logf_nofma(x: f32) -> f32 {
    logf_impl::<false>(x)
}
