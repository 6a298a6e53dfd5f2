//! `log`: glibc's `sysdeps/ieee754/dbl-64/e_log.c` (ARM optimized-routines), 128-entry table,
//! with a separate polynomial near 1.

use super::tables::{LOG_LN2HI_LN2LO, LOG_POLY, LOG_POLY1, LOG_TAB, LOG_TAB2};
use super::{d, fma, invalid_f64};

pub(crate) const OFF: u64 = 0x3fe6_0000_0000_0000;
pub(crate) const LN2HI: f64 = d(LOG_LN2HI_LN2LO[0]);
pub(crate) const LN2LO: f64 = d(LOG_LN2HI_LN2LO[1]);
/// The bit patterns of `1 - 2^-4` and `1 + 0x1.09p-4`: inputs in between take the near-1 path.
pub(crate) const NEAR1_LO: u64 = 0x3fee_0000_0000_0000;
pub(crate) const NEAR1_HI: u64 = 0x3ff1_0900_0000_0000;

#[inline(always)]
pub(crate) fn a(i: usize) -> f64 {
    d(LOG_POLY[i])
}

#[inline(always)]
pub(crate) fn b(i: usize) -> f64 {
    d(LOG_POLY1[i])
}

/// The near-1 path: `|x - 1| < 2^-4` roughly.
#[inline(always)]
pub(crate) fn near1<const F: bool>(x: f64) -> f64 {
    let r = x - 1.0;
    let r2 = r * r;
    let r3 = r * r2;
    // B1 + r B2 + r2 B3 + r3 (B4 + r B5 + r2 B6 + r3 (B7 + r B8 + r2 B9 + r3 B10)), each
    // "+ r^k Bj" a multiply-add.
    let p3 = fma::<F>(r3, b(10), fma::<F>(r2, b(9), fma::<F>(r, b(8), b(7))));
    let p2 = fma::<F>(r3, p3, fma::<F>(r2, b(6), fma::<F>(r, b(5), b(4))));
    let p1 = fma::<F>(r3, p2, fma::<F>(r2, b(3), fma::<F>(r, b(2), b(1))));
    // Split r at 27 bits so that rhi * rhi is exact.
    let w = r * f64::from_bits(0x41a0_0000_0000_0000); // 2^27, exact
    let rhi = r + w - w;
    let rlo = r - rhi;
    let w = rhi * rhi * b(0); // B0 = -0.5: exact
    let hi = r + w;
    let lo = r - hi + w;
    let lo = fma::<F>(b(0) * rlo, rhi + r, lo);
    // y = r3 * p1; y += lo; y += hi
    fma::<F>(r3, p1, lo) + hi
}

/// `log` in variant `F`. The FMA build also forms `r` differently (one fused `z·invc − 1`, where
/// the other build subtracts the table's `c` in two parts first).
#[inline(always)]
pub(crate) fn log_impl<const F: bool>(x: f64) -> f64 {
    let mut ix = x.to_bits();
    let top = (ix >> 48) as u32;
    if ix.wrapping_sub(NEAR1_LO) < NEAR1_HI - NEAR1_LO {
        // log(1) = +0 in every rounding mode.
        if ix == 0x3ff0_0000_0000_0000 {
            return 0.0;
        }
        return near1::<F>(x);
    }
    if top.wrapping_sub(0x0010) >= 0x7ff0 - 0x0010 {
        // Zero, subnormal, negative, infinite or NaN.
        if ix.wrapping_mul(2) == 0 {
            return f64::NEG_INFINITY;
        }
        if ix == 0x7ff0_0000_0000_0000 {
            return x;
        }
        if top & 0x8000 != 0 || top & 0x7ff0 == 0x7ff0 {
            return invalid_f64(x);
        }
        // Subnormal: scale by 2^52 (exact) and take 52 off the exponent.
        ix = (x * f64::from_bits(0x4330_0000_0000_0000)).to_bits();
        ix = ix.wrapping_sub(52 << 52);
    }
    let tmp = ix.wrapping_sub(OFF);
    let i = ((tmp >> 45) % 128) as usize;
    let k = ((tmp as i64) >> 52) as i32;
    let iz = ix.wrapping_sub(tmp & (0xfff << 52));
    let (invc, logc) = (d(LOG_TAB[2 * i]), d(LOG_TAB[2 * i + 1]));
    let z = f64::from_bits(iz);
    let r = if F {
        z.mul_add(invc, -1.0)
    } else {
        (z - d(LOG_TAB2[2 * i]) - d(LOG_TAB2[2 * i + 1])) * invc
    };
    tail::<F>(r, f64::from(k), logc)
}

/// `log(x) = lo + (log1p(r) - r) + hi` from `r`, `k` and `log(c)`.
#[inline(always)]
pub(crate) fn tail<const F: bool>(r: f64, kd: f64, logc: f64) -> f64 {
    let w = fma::<F>(kd, LN2HI, logc);
    let hi = w + r;
    let lo = fma::<F>(kd, LN2LO, w - hi + r);
    let r2 = r * r;
    // lo + r2 A0 + r r2 (A1 + r A2 + r2 (A3 + r A4)) + hi
    let inner = fma::<F>(r2, fma::<F>(r, a(4), a(3)), fma::<F>(r, a(2), a(1)));
    fma::<F>(r * r2, inner, fma::<F>(r2, a(0), lo)) + hi
}

/// C `log` as glibc 2.36 computes it on x86-64 with FMA (the reference).
#[must_use]
pub fn log(x: f64) -> f64 {
    log_impl::<true>(x)
}

/// C `log` as glibc 2.36 computes it on x86-64 without FMA.
#[cfg(test)]
#[must_use]
pub fn log_nofma(x: f64) -> f64 {
    log_impl::<false>(x)
}
