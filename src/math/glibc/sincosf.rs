//! `sinf` and `cosf`: glibc's `sysdeps/ieee754/flt-32/s_sinf.c` / `s_cosf.c` with
//! `s_sincosf.h` and x86's `sincosf_poly.h` (ARM optimized-routines): polynomials in double after
//! a one-step reduction below 120, and a 4/π table reduction above.

use super::tables::INV_PIO4;
use super::{d, fma, invalid_f32};

/// One of glibc's two `sincos_t` tables (the second negates the cosine polynomial).
pub(crate) struct SinCosF {
    pub(crate) sign: [f64; 4],
    pub(crate) hpi_inv: f64,
    pub(crate) hpi: f64,
    pub(crate) c0: f64,
    pub(crate) c1: f64,
    pub(crate) c2: f64,
    pub(crate) c3: f64,
    pub(crate) c4: f64,
    pub(crate) s1: f64,
    pub(crate) s2: f64,
    pub(crate) s3: f64,
}

/// `__sincosf_table` (x86 builds without `TOINT_INTRINSICS`: `hpi_inv` is 2/π · 2^24).
pub(crate) const TABLE: [SinCosF; 2] = [
    SinCosF {
        sign: [1.0, -1.0, -1.0, 1.0],
        hpi_inv: d(0x4164_5f30_6dc9_c883),
        hpi: d(0x3ff9_21fb_5444_2d18),
        c0: 1.0,
        c1: d(0xbfdf_ffff_fd0c_621c),
        c2: d(0x3fa5_5553_e106_8f19),
        c3: d(0xbf56_c087_e89a_359d),
        c4: d(0x3ef9_9343_027b_f8c3),
        s1: d(0xbfc5_5554_5995_a603),
        s2: d(0x3f81_1076_0523_0bc4),
        s3: d(0xbf29_94eb_3774_cf24),
    },
    SinCosF {
        sign: [1.0, -1.0, -1.0, 1.0],
        hpi_inv: d(0x4164_5f30_6dc9_c883),
        hpi: d(0x3ff9_21fb_5444_2d18),
        c0: -1.0,
        c1: d(0x3fdf_ffff_fd0c_621c),
        c2: d(0xbfa5_5553_e106_8f19),
        c3: d(0x3f56_c087_e89a_359d),
        c4: d(0xbef9_9343_027b_f8c3),
        s1: d(0xbfc5_5554_5995_a603),
        s2: d(0x3f81_1076_0523_0bc4),
        s3: d(0xbf29_94eb_3774_cf24),
    },
];

/// 2π · 2^-64 (`pi63`).
const PI63: f64 = d(0x3c19_21fb_5444_2d18);
/// The top 12 bits (sign cleared) of π/4 (`0x1.921FB6p-1f`), 2^-12, 120 and infinity.
pub(crate) const TOP_PIO4: u32 = 0x3f4;
pub(crate) const TOP_TINY: u32 = 0x398;
pub(crate) const TOP_120: u32 = 0x42f;
pub(crate) const TOP_INF: u32 = 0x7f8;

/// The top 12 bits of a float with the sign bit cleared (`abstop12`).
#[inline(always)]
pub(crate) fn abstop12(x: f32) -> u32 {
    (x.to_bits() >> 20) & 0x7ff
}

/// `sinf_poly`: the sine polynomial for even `n`, the cosine one for odd `n`.
#[inline(always)]
pub(crate) fn sinf_poly<const F: bool>(x: f64, x2: f64, p: &SinCosF, n: i32) -> f32 {
    if n & 1 == 0 {
        let x3 = x * x2;
        let s1 = fma::<F>(x2, p.s3, p.s2);
        let x7 = x3 * x2;
        let s = fma::<F>(x3, p.s1, x);
        fma::<F>(x7, s1, s) as f32
    } else {
        let x4 = x2 * x2;
        let c2 = fma::<F>(x2, p.c4, p.c3);
        let c1 = fma::<F>(x2, p.c1, p.c0);
        let x6 = x4 * x2;
        let c = fma::<F>(x4, p.c2, c1);
        fma::<F>(x6, c2, c) as f32
    }
}

/// `reduce_fast`: `x - n·π/2` with the quadrant `n`, for |x| < 120.
#[inline(always)]
pub(crate) fn reduce_fast<const F: bool>(x: f64) -> (f64, i32) {
    let p = &TABLE[0];
    let r = x * p.hpi_inv;
    // `(int32_t) r` truncates; |r| < 2^31 here.
    let n = ((r as i32) + 0x80_0000) >> 24;
    (fma::<F>(-f64::from(n), p.hpi, x), n)
}

/// `reduce_large`: the exact 2.62-bit fixed-point remainder of |x| modulo π/2 from the 4/π table,
/// for |x| >= 120 (`xi` the float's bits; the sign is ignored).
#[inline(always)]
pub(crate) fn reduce_large(xi: u32) -> (f64, i32) {
    let arr = &INV_PIO4[((xi >> 26) & 15) as usize..];
    let shift = (xi >> 23) & 7;
    let m = ((xi & 0x00ff_ffff) | 0x0080_0000) << shift;
    let res0 = u64::from(m.wrapping_mul(arr[0]));
    let res1 = u64::from(m) * u64::from(arr[4]);
    let res2 = u64::from(m) * u64::from(arr[8]);
    let res0 = ((res2 >> 32) | (res0 << 32)).wrapping_add(res1);
    let n = res0.wrapping_add(1 << 61) >> 62;
    let res0 = res0.wrapping_sub(n << 62);
    ((res0 as i64) as f64 * PI63, n as i32)
}

/// `sinf` in variant `F`.
#[inline(always)]
pub(crate) fn sinf_impl<const F: bool>(y: f32) -> f32 {
    let x = f64::from(y);
    let top = abstop12(y);
    if top < TOP_PIO4 {
        if top < TOP_TINY {
            return y;
        }
        sinf_poly::<F>(x, x * x, &TABLE[0], 0)
    } else if top < TOP_120 {
        let (x, n) = reduce_fast::<F>(x);
        let s = TABLE[0].sign[(n & 3) as usize];
        let p = &TABLE[((n >> 1) & 1) as usize];
        sinf_poly::<F>(x * s, x * x, p, n)
    } else if top < TOP_INF {
        let xi = y.to_bits();
        let sign = (xi >> 31) as i32;
        let (x, n) = reduce_large(xi);
        let q = n + sign;
        let s = TABLE[0].sign[(q & 3) as usize];
        let p = &TABLE[((q >> 1) & 1) as usize];
        sinf_poly::<F>(x * s, x * x, p, n)
    } else {
        invalid_f32(y)
    }
}

/// `cosf` in variant `F`.
#[inline(always)]
pub(crate) fn cosf_impl<const F: bool>(y: f32) -> f32 {
    let x = f64::from(y);
    let top = abstop12(y);
    if top < TOP_PIO4 {
        if top < TOP_TINY {
            return 1.0;
        }
        sinf_poly::<F>(x, x * x, &TABLE[0], 1)
    } else if top < TOP_120 {
        let (x, n) = reduce_fast::<F>(x);
        let s = TABLE[0].sign[(n & 3) as usize];
        let p = &TABLE[((n >> 1) & 1) as usize];
        sinf_poly::<F>(x * s, x * x, p, n ^ 1)
    } else if top < TOP_INF {
        let xi = y.to_bits();
        let sign = (xi >> 31) as i32;
        let (x, n) = reduce_large(xi);
        let q = n + sign;
        let s = TABLE[0].sign[(q & 3) as usize];
        let p = &TABLE[((q >> 1) & 1) as usize];
        sinf_poly::<F>(x * s, x * x, p, n ^ 1)
    } else {
        invalid_f32(y)
    }
}

/// C `sinf` as glibc 2.36 computes it on x86-64 with FMA (the reference).
#[must_use]
pub fn sinf(x: f32) -> f32 {
    sinf_impl::<true>(x)
}

/// C `sinf` as glibc 2.36 computes it on x86-64 without FMA.
#[cfg(test)]
#[must_use]
pub fn sinf_nofma(x: f32) -> f32 {
    sinf_impl::<false>(x)
}

/// C `cosf` as glibc 2.36 computes it on x86-64 with FMA (the reference).
#[must_use]
pub fn cosf(x: f32) -> f32 {
    cosf_impl::<true>(x)
}

/// C `cosf` as glibc 2.36 computes it on x86-64 without FMA.
#[cfg(test)]
#[must_use]
pub fn cosf_nofma(x: f32) -> f32 {
    cosf_impl::<false>(x)
}
