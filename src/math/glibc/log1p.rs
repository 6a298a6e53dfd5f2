//! `log1p`: glibc's `sysdeps/ieee754/dbl-64/s_log1p.c` (fdlibm's algorithm).

use super::{fma, invalid_f64};

const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// `Lp[1..=7]`.
const LP: [f64; 7] = [
    f64::from_bits(0x3fe5_5555_5555_5593),
    f64::from_bits(0x3fd9_9999_9997_fa04),
    f64::from_bits(0x3fd2_4924_9422_9359),
    f64::from_bits(0x3fcc_71c5_1d8e_78af),
    f64::from_bits(0x3fc7_4664_96cb_03de),
    f64::from_bits(0x3fc3_9a09_d078_c69f),
    f64::from_bits(0x3fc2_f112_df3e_5244),
];
/// The decimal constant `0.66666666666666666` of the `|f| < 2^-20` path.
const TWO_THIRDS: f64 = f64::from_bits(0x3fe5_5555_5555_5555);

fn high(x: f64) -> i32 {
    (x.to_bits() >> 32) as i32
}

fn with_high(x: f64, hi: i32) -> f64 {
    f64::from_bits((u64::from(hi as u32) << 32) | (x.to_bits() & 0xffff_ffff))
}

/// `log1p` in variant `F`.
#[inline(always)]
#[allow(clippy::too_many_lines)]
pub(crate) fn log1p_impl<const F: bool>(x: f64) -> f64 {
    let hx = high(x);
    let ax = hx & 0x7fff_ffff;
    let mut k = 1i32;
    let mut f = 0.0;
    let mut hu = 0i32;
    let mut c = 0.0;
    if hx < 0x3fda_827a {
        // x < 0.41422
        if ax >= 0x3ff0_0000 {
            // x <= -1
            return if x == -1.0 {
                f64::NEG_INFINITY
            } else {
                invalid_f64(x)
            };
        }
        if ax < 0x3e20_0000 {
            // |x| < 2^-29
            if ax < 0x3c90_0000 {
                return x;
            }
            // x - x·x·0.5, the last product fused into the subtraction
            return fma::<F>(-(x * x), 0.5, x);
        }
        if hx > 0 || hx <= 0xbfd2_bec3u32 as i32 {
            // -0.2929 < x < 0.41422
            k = 0;
            f = x;
            hu = 1;
        }
    } else if hx >= 0x7ff0_0000 {
        return x + x;
    }
    if k != 0 {
        let mut u;
        if hx < 0x4340_0000 {
            u = 1.0 + x;
            hu = high(u);
            k = (hu >> 20) - 1023;
            // The rounding error of 1 + x.
            c = if k > 0 { 1.0 - (u - x) } else { x - (u - 1.0) };
            c /= u;
        } else {
            u = x;
            hu = high(u);
            k = (hu >> 20) - 1023;
            c = 0.0;
        }
        hu &= 0x000f_ffff;
        if hu < 0x6_a09e {
            u = with_high(u, hu | 0x3ff0_0000); // normalise u
        } else {
            k += 1;
            u = with_high(u, hu | 0x3fe0_0000); // normalise u/2
            hu = (0x0010_0000 - hu) >> 2;
        }
        f = u - 1.0;
    }
    let hfsq = 0.5 * f * f;
    let kd = f64::from(k);
    if hu == 0 {
        // |f| < 2^-20
        if f == 0.0 {
            if k == 0 {
                return 0.0;
            }
            let c = fma::<F>(kd, LN2_LO, c);
            return fma::<F>(kd, LN2_HI, c);
        }
        let r = hfsq * fma::<F>(-TWO_THIRDS, f, 1.0);
        if k == 0 {
            return f - r;
        }
        return fma::<F>(kd, LN2_HI, -((r - fma::<F>(kd, LN2_LO, c)) - f));
    }
    let s = f / (2.0 + f);
    let z = s * s;
    let z2 = z * z;
    let r2 = fma::<F>(z, LP[2], LP[1]);
    let z4 = z2 * z2;
    let r3 = fma::<F>(z, LP[4], LP[3]);
    let z6 = z4 * z2;
    let r4 = fma::<F>(z, LP[6], LP[5]);
    // R1 + z2 R2 + z4 R3 + z6 R4 with R1 = z Lp1: GCC fuses R1's product, not z2·R2.
    let r = fma::<F>(z6, r4, fma::<F>(z4, r3, fma::<F>(z, LP[0], z2 * r2)));
    let t = s * (hfsq + r);
    if k == 0 {
        f - (hfsq - t)
    } else {
        fma::<F>(kd, LN2_HI, -((hfsq - (t + fma::<F>(kd, LN2_LO, c))) - f))
    }
}

/// C `log1p` as Debian's glibc 2.36 computes it on x86-64 with FMA (the reference).
#[cfg(test)]
#[must_use]
pub fn log1p(x: f64) -> f64 {
    log1p_impl::<true>(x)
}

/// C `log1p` as glibc 2.36 computes it on x86-64 without FMA (and as the glibc-2.36 release,
/// which has no FMA variant of `log1p`, computes it on every CPU).
#[cfg(test)]
#[must_use]
pub fn log1p_nofma(x: f64) -> f64 {
    log1p_impl::<false>(x)
}
