//! `sin` and `cos`: glibc's `sysdeps/ieee754/dbl-64/s_sin.c` (IBM Accurate Mathematical
//! Library): a Taylor polynomial near 0, table-driven `sin(a + da)` / `cos(a + da)` elsewhere
//! (`__sincostab`), Cody–Waite reduction below 105414350 and `__branred` (`branred.c`) above.

use super::tables::{SINCOSTAB, TOVERP};
use super::{d, fma};

// usncs.h
pub(crate) const S1: f64 = d(0xbfc5_5555_5555_5555);
pub(crate) const S2: f64 = d(0x3f81_1111_1111_0ece);
pub(crate) const S3: f64 = d(0xbf2a_01a0_19db_08b8);
pub(crate) const S4: f64 = d(0x3ec7_1de2_7b9a_7ed9);
pub(crate) const S5: f64 = d(0xbe5a_ddff_c2fc_df59);
pub(crate) const BIG: f64 = d(0x42c8_0000_0000_0000); // 0x1.8p45
pub(crate) const HP0: f64 = d(0x3ff9_21fb_5444_2d18);
pub(crate) const HP1: f64 = d(0x3c91_a626_3314_5c07);
pub(crate) const MP1: f64 = d(0x3ff9_21fb_5800_0000);
pub(crate) const MP2: f64 = d(0xbe4d_de97_3c00_0000);
pub(crate) const PP3: f64 = d(0xbc8c_b3b3_9800_0000);
pub(crate) const PP4: f64 = d(0xbacd_747f_23e3_2ed7);
pub(crate) const HPINV: f64 = d(0x3fe4_5f30_6dc9_c883);
pub(crate) const TOINT: f64 = d(0x4338_0000_0000_0000); // 0x1.8p52
                                                        // s_sin.c
pub(crate) const SN3: f64 = d(0xbfc5_5555_5555_5515);
pub(crate) const SN5: f64 = d(0x3f81_1110_e829_872f);
pub(crate) const CS2: f64 = d(0x3fe0_0000_0000_0000);
pub(crate) const CS4: f64 = d(0xbfa5_5555_5555_5535);
pub(crate) const CS6: f64 = d(0x3f56_c16b_edd9_e239);

/// `(sn, ssn, cs, ccs)`: sin and cos of the table point `u - big`, each as a double-double.
#[inline(always)]
pub(crate) fn lookup(u: f64) -> (f64, f64, f64, f64) {
    let k = ((u.to_bits() as u32) << 2) as usize;
    (
        d(SINCOSTAB[k]),
        d(SINCOSTAB[k + 1]),
        d(SINCOSTAB[k + 2]),
        d(SINCOSTAB[k + 3]),
    )
}

/// `TAYLOR_SIN(x*x, x, dx)`.
#[inline(always)]
pub(crate) fn taylor_sin<const F: bool>(x: f64, dx: f64) -> f64 {
    let xx = x * x;
    let p = fma::<F>(
        fma::<F>(fma::<F>(fma::<F>(S5, xx, S4), xx, S3), xx, S2),
        xx,
        S1,
    );
    let t = fma::<F>(fma::<F>(p, x, -(0.5 * dx)), xx, dx);
    x + t
}

/// `do_sin(x, dx)`: sin(x + dx), |x| small.
#[inline(always)]
pub(crate) fn do_sin<const F: bool>(x: f64, dx: f64) -> f64 {
    let xold = x;
    if x.abs() < d(0x3fc0_20c4_9ba5_e354) {
        // 0.126
        return taylor_sin::<F>(x, dx);
    }
    let dx = if x <= 0.0 { -dx } else { dx };
    let u = BIG + x.abs();
    let x = x.abs() - (u - BIG);
    let xx = x * x;
    let s = x + fma::<F>(x * xx, fma::<F>(xx, SN5, SN3), dx);
    let c = fma::<F>(x, dx, xx * fma::<F>(xx, fma::<F>(xx, CS6, CS4), CS2));
    let (sn, ssn, cs, ccs) = lookup(u);
    let cor = fma::<F>(cs, s, fma::<F>(-sn, c, fma::<F>(s, ccs, ssn)));
    (sn + cor).copysign(xold)
}

/// `do_cos(x, dx)`: cos(x + dx), |x| small.
#[inline(always)]
pub(crate) fn do_cos<const F: bool>(x: f64, dx: f64) -> f64 {
    let dx = if x < 0.0 { -dx } else { dx };
    let u = BIG + x.abs();
    let x = x.abs() - (u - BIG) + dx;
    let xx = x * x;
    let s = fma::<F>(x * xx, fma::<F>(xx, SN5, SN3), x);
    let c = xx * fma::<F>(xx, fma::<F>(xx, CS6, CS4), CS2);
    let (sn, ssn, cs, ccs) = lookup(u);
    let cor = fma::<F>(-sn, s, fma::<F>(-cs, c, fma::<F>(-s, ssn, ccs)));
    cs + cor
}

/// `reduce_sincos`: `x = n·π/2 + (a + da)` for |x| < 105414350, returning `(a, da, n mod 4)`.
#[inline(always)]
pub(crate) fn reduce_sincos<const F: bool>(x: f64) -> (f64, f64, i32) {
    let t = fma::<F>(x, HPINV, TOINT);
    let xn = t - TOINT;
    let n = (t.to_bits() as i32) & 3;
    let y = fma::<F>(-xn, MP2, fma::<F>(-xn, MP1, x));
    // t1 = xn·pp3 is used twice; both uses are fused.
    let t2 = fma::<F>(-xn, PP3, y);
    let db = fma::<F>(-xn, PP3, y - t2);
    let b = fma::<F>(-xn, PP4, t2);
    let db = db + fma::<F>(-xn, PP4, t2 - b);
    (b, db, n)
}

/// `do_sincos(a, da, n)`: sin of `n·π/2 + a + da`.
#[inline(always)]
pub(crate) fn do_sincos<const F: bool>(a: f64, da: f64, n: i32) -> f64 {
    let r = if n & 1 != 0 {
        do_cos::<F>(a, da)
    } else {
        do_sin::<F>(a, da)
    };
    if n & 2 != 0 {
        -r
    } else {
        r
    }
}

/// The top 32 bits of |x|.
#[inline(always)]
pub(crate) fn abs_high(x: f64) -> u32 {
    ((x.to_bits() >> 32) as u32) & 0x7fff_ffff
}

/// `sin` in variant `F`.
#[inline(always)]
pub(crate) fn sin_impl<const F: bool>(x: f64) -> f64 {
    let k = abs_high(x);
    if k < 0x3e50_0000 {
        x
    } else if k < 0x3feb_6000 {
        do_sin::<F>(x, 0.0)
    } else if k < 0x4003_68fd {
        let t = HP0 - x.abs();
        do_cos::<F>(t, HP1).copysign(x)
    } else if k < 0x4199_21fb {
        let (a, da, n) = reduce_sincos::<F>(x);
        do_sincos::<F>(a, da, n)
    } else if k < 0x7ff0_0000 {
        let (a, da, n) = branred(x);
        do_sincos::<F>(a, da, n)
    } else {
        super::invalid_f64(x)
    }
}

/// `cos` in variant `F`.
#[inline(always)]
pub(crate) fn cos_impl<const F: bool>(x: f64) -> f64 {
    let k = abs_high(x);
    if k < 0x3e40_0000 {
        1.0
    } else if k < 0x3feb_6000 {
        do_cos::<F>(x, 0.0)
    } else if k < 0x4003_68fd {
        let y = HP0 - x.abs();
        let a = y + HP1;
        let da = (y - a) + HP1;
        do_sin::<F>(a, da)
    } else if k < 0x4199_21fb {
        let (a, da, n) = reduce_sincos::<F>(x);
        do_sincos::<F>(a, da, n + 1)
    } else if k < 0x7ff0_0000 {
        let (a, da, n) = branred(x);
        do_sincos::<F>(a, da, n + 1)
    } else {
        super::invalid_f64(x)
    }
}

// branred.h (its mp2 differs from usncs.h's in the last bits)
const SPLIT: f64 = 134_217_729.0; // 2^27 + 1
const TM600: f64 = d(0x1a70_0000_0000_0000);
const TM24: f64 = d(0x3e70_0000_0000_0000);
const T576: u64 = 0x63f0_0000_0000_0000;
const BR_BIG: f64 = d(0x4338_0000_0000_0000);
const BR_BIG1: f64 = d(0x4358_0000_0000_0000);
const BR_MP1: f64 = d(0x3ff9_21fb_5800_0000);
const BR_MP2: f64 = d(0xbe4d_de97_4000_0000);

/// One half (`x1` or `x2`) of `__branred`: `(b, bb, sum)`.
#[inline(always)]
fn branred_part(x: f64) -> (f64, f64, f64) {
    let mut k = ((((x.to_bits() >> 32) as u32) >> 20) & 2047) as i32;
    k = (k - 450) / 24; // C division truncates toward zero
    if k < 0 {
        k = 0;
    }
    let k = k as usize;
    let mut gor = d(T576 - (((k as u64) * 24) << 52));
    let mut r = [0.0f64; 6];
    for (i, ri) in r.iter_mut().enumerate() {
        *ri = x * d(TOVERP[k + i]) * gor;
        gor *= TM24;
    }
    let mut sum = 0.0;
    for ri in r.iter_mut().take(3) {
        let s = (*ri + BR_BIG) - BR_BIG;
        sum += s;
        *ri -= s;
    }
    let mut t = 0.0;
    for i in 0..6 {
        t += r[5 - i];
    }
    let bb = (((((r[0] - t) + r[1]) + r[2]) + r[3]) + r[4]) + r[5];
    let s = (t + BR_BIG) - BR_BIG;
    sum += s;
    t -= s;
    let b = t + bb;
    let bb = (t - b) + bb;
    let s = (sum + BR_BIG1) - BR_BIG1;
    sum -= s;
    (b, bb, sum)
}

/// `__branred`: `x = n·π/2 + (a + aa)` for huge |x|, returning `(a, aa, n mod 4)`. Compiled
/// without contraction in both variants.
pub(crate) fn branred(x: f64) -> (f64, f64, i32) {
    let x = x * TM600;
    let t = x * SPLIT;
    let x1 = t - (t - x);
    let x2 = x - x1;
    let (b1, bb1, sum1) = branred_part(x1);
    let (b2, bb2, sum2) = branred_part(x2);
    let mut sum = sum1 + sum2;
    let mut b = b1 + b2;
    let bb = if b1.abs() > b2.abs() {
        (b1 - b) + b2
    } else {
        (b2 - b) + b1
    };
    if b > 0.5 {
        b -= 1.0;
        sum += 1.0;
    } else if b < -0.5 {
        b += 1.0;
        sum -= 1.0;
    }
    let s = b + (bb + bb1 + bb2);
    let t = ((b - s) + bb) + (bb1 + bb2);
    let b = s * SPLIT;
    let t1 = b - (b - s);
    let t2 = s - t1;
    let b = s * HP0;
    let bb = (((t1 * BR_MP1 - b) + t1 * BR_MP2) + t2 * BR_MP1) + (t2 * BR_MP2 + s * HP1 + t * HP0);
    let s = b + bb;
    let t = (b - s) + bb;
    (s, t, (sum as i32) & 3)
}

/// C `sin` as glibc 2.36 computes it on x86-64 with FMA (the reference).
#[must_use]
pub fn sin(x: f64) -> f64 {
    sin_impl::<true>(x)
}

/// C `sin` as glibc 2.36 computes it on x86-64 without FMA.
#[cfg(test)]
#[must_use]
pub fn sin_nofma(x: f64) -> f64 {
    sin_impl::<false>(x)
}

/// C `cos` as glibc 2.36 computes it on x86-64 with FMA (the reference).
#[must_use]
pub fn cos(x: f64) -> f64 {
    cos_impl::<true>(x)
}

/// C `cos` as glibc 2.36 computes it on x86-64 without FMA.
#[cfg(test)]
#[must_use]
pub fn cos_nofma(x: f64) -> f64 {
    cos_impl::<false>(x)
}
