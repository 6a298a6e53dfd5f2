//! Vector twins of [`super::logf`], [`super::sinf`] and [`super::cosf`] (FMA variant), and the
//! default kernel's float Box–Muller block built on them: 4 double lanes (AVX2) or 8 (AVX-512).
//!
//! glibc evaluates these float functions in double; each lane here performs, in order, the double
//! operations (with the same fused multiply-adds) that the scalar twin performs for that input.
//! Lanes whose input leaves the vector path's domain (for `logf`: zero, subnormal, negative,
//! infinite or NaN; for `sinf`/`cosf`: |x| >= 120, infinities and NaN) are recomputed by the scalar
//! twin, so the functions are exact twins for every input. Two shortcuts are exact rewrites,
//! argued where they are made: the `|x| < π/4` path of `sinf`/`cosf` is the one-step reduction
//! with quadrant 0, and glibc's second table (negated cosine coefficients) and the quadrant signs
//! are negations of the first table's results.

use super::logf::{A0, A1, A2, LN2};
use super::sincosf::{TABLE, TOP_120, TOP_TINY};
use crate::simd::Lanes;

/// `1/c` of the 16 `logf` subintervals.
static INVC: [f64; 16] = {
    let mut t = [0.0; 16];
    let mut i = 0;
    while i < 16 {
        t[i] = f64::from_bits(super::tables::LOGF_TAB[2 * i]);
        i += 1;
    }
    t
};
/// `log(c)` of the 16 `logf` subintervals.
static LOGC: [f64; 16] = {
    let mut t = [0.0; 16];
    let mut i = 0;
    while i < 16 {
        t[i] = f64::from_bits(super::tables::LOGF_TAB[2 * i + 1]);
        i += 1;
    }
    t
};

/// `2.0 * pi` in double, as the default float kernel forms its angle.
const TWO_PI_F64: f64 = 2.0 * std::f64::consts::PI;

/// The default build's standard normals (`normal_fill_16<float>` before mean and std) for every
/// block of 16 in `d` (`d.len()` a multiple of 16): `u1 = 1 - a`, `radius = sqrtf(-2 logf(u1))`,
/// `theta = float(2π · double(b))`, `a = radius · cosf(theta)`, `b = radius · sinf(theta)` with
/// glibc's FMA-variant functions. Returns `false` (doing nothing) for [`Lanes::Scalar`].
pub(crate) fn normal_raw_blocks(d: &mut [f32], lanes: Lanes) -> bool {
    debug_assert!(d.len().is_multiple_of(16));
    match lanes {
        #[cfg(target_arch = "x86_64")]
        Lanes::Avx512 => {
            // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
            unsafe { x86::blocks_avx512(d) };
            true
        }
        #[cfg(target_arch = "x86_64")]
        Lanes::Avx2 => {
            // SAFETY: as above.
            unsafe { x86::blocks_avx2(d) };
            true
        }
        _ => false,
    }
}

/// Eight lanes of `logf`, `sinf` and `cosf` on the given route (test access).
#[cfg(test)]
pub(crate) fn lanes8(x: [f32; 8], lanes: Lanes) -> ([f32; 8], [f32; 8], [f32; 8]) {
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: tests pass only supported levels.
        Lanes::Avx512 => unsafe { x86::lanes8_avx512(x) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::lanes8_avx2(x) },
        _ => (x.map(super::logf), x.map(super::sinf), x.map(super::cosf)),
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::{A0, A1, A2, INVC, LN2, LOGC, TABLE, TOP_120, TOP_TINY, TWO_PI_F64};
    use std::arch::x86_64::{
        __m128, __m128i, __m256, __m256d, __m256i, __m512d, _mm256_add_epi32, _mm256_add_pd,
        _mm256_and_ps, _mm256_and_si256, _mm256_blendv_ps, _mm256_castps_si256,
        _mm256_castsi256_ps, _mm256_cmpgt_epi32, _mm256_cvtepi32_pd, _mm256_cvtpd_ps,
        _mm256_cvtps_pd, _mm256_cvttpd_epi32, _mm256_extractf128_ps, _mm256_extracti128_si256,
        _mm256_fmadd_pd, _mm256_fnmadd_pd, _mm256_i32gather_pd, _mm256_loadu_ps,
        _mm256_movemask_ps, _mm256_mul_pd, _mm256_mul_ps, _mm256_set1_epi32, _mm256_set1_pd,
        _mm256_set1_ps, _mm256_set_m128, _mm256_set_m128i, _mm256_slli_epi32, _mm256_sqrt_ps,
        _mm256_srai_epi32, _mm256_srli_epi32, _mm256_storeu_ps, _mm256_sub_epi32, _mm256_sub_ps,
        _mm256_xor_ps, _mm256_xor_si256, _mm512_add_pd, _mm512_cvtepi32_epi64, _mm512_cvtepi32_pd,
        _mm512_cvtpd_ps, _mm512_cvtps_pd, _mm512_cvttpd_epi32, _mm512_fmadd_pd, _mm512_fnmadd_pd,
        _mm512_loadu_pd, _mm512_mul_pd, _mm512_permutex2var_pd, _mm512_set1_pd, _mm_add_epi32,
        _mm_set1_epi32, _mm_srai_epi32,
    };

    #[inline]
    #[target_feature(enable = "avx2")]
    fn splat(bits: u32) -> __m256i {
        _mm256_set1_epi32(bits as i32)
    }

    /// Lanes (a sign-bit mask as floats) where `logf`'s vector path does not apply: `x` not a
    /// positive normal finite float.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn logf_special(ix: __m256i) -> __m256 {
        let ok = _mm256_and_si256(
            _mm256_cmpgt_epi32(ix, splat(0x007f_ffff)),
            _mm256_cmpgt_epi32(splat(0x7f80_0000), ix),
        );
        // all ones where not ok
        _mm256_castsi256_ps(_mm256_xor_si256(ok, splat(0xffff_ffff)))
    }

    /// The integer part of `logf` on 8 lanes: `(i, k, z as float)`.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn logf_split(ix: __m256i) -> (__m256i, __m256i, __m256) {
        let tmp = _mm256_sub_epi32(ix, splat(0x3f33_0000));
        let i = _mm256_and_si256(_mm256_srli_epi32::<19>(tmp), splat(15));
        let k = _mm256_srai_epi32::<23>(tmp);
        let iz = _mm256_sub_epi32(ix, _mm256_and_si256(tmp, splat(0xff80_0000)));
        (i, k, _mm256_castsi256_ps(iz))
    }

    /// `logf`'s double part on 4 lanes (AVX2).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn logf_tail4(i: __m128i, k: __m128i, z: __m128) -> __m256d {
        let z = _mm256_cvtps_pd(z);
        // SAFETY: every index is in 0..16 (masked with 15) and both tables have 16 entries.
        let (invc, logc) = unsafe {
            (
                _mm256_i32gather_pd::<8>(INVC.as_ptr(), i),
                _mm256_i32gather_pd::<8>(LOGC.as_ptr(), i),
            )
        };
        let r = _mm256_fmadd_pd(z, invc, _mm256_set1_pd(-1.0));
        let y0 = _mm256_fmadd_pd(_mm256_cvtepi32_pd(k), _mm256_set1_pd(LN2), logc);
        let r2 = _mm256_mul_pd(r, r);
        let y = _mm256_fmadd_pd(_mm256_set1_pd(A1), r, _mm256_set1_pd(A2));
        let y = _mm256_fmadd_pd(_mm256_set1_pd(A0), r2, y);
        _mm256_fmadd_pd(y, r2, _mm256_add_pd(y0, r))
    }

    /// `logf`'s double part on 8 lanes (AVX-512).
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    fn logf_tail8(i: __m256i, k: __m256i, z: __m256) -> __m512d {
        let z = _mm512_cvtps_pd(z);
        let idx = _mm512_cvtepi32_epi64(i);
        // SAFETY: both tables have 16 entries, read as two 8-double halves.
        let (invc, logc) = unsafe {
            (
                _mm512_permutex2var_pd(
                    _mm512_loadu_pd(INVC.as_ptr()),
                    idx,
                    _mm512_loadu_pd(INVC.as_ptr().add(8)),
                ),
                _mm512_permutex2var_pd(
                    _mm512_loadu_pd(LOGC.as_ptr()),
                    idx,
                    _mm512_loadu_pd(LOGC.as_ptr().add(8)),
                ),
            )
        };
        let r = _mm512_fmadd_pd(z, invc, _mm512_set1_pd(-1.0));
        let y0 = _mm512_fmadd_pd(_mm512_cvtepi32_pd(k), _mm512_set1_pd(LN2), logc);
        let r2 = _mm512_mul_pd(r, r);
        let y = _mm512_fmadd_pd(_mm512_set1_pd(A1), r, _mm512_set1_pd(A2));
        let y = _mm512_fmadd_pd(_mm512_set1_pd(A0), r2, y);
        _mm512_fmadd_pd(y, r2, _mm512_add_pd(y0, r))
    }

    /// Recomputes the lanes of `out` flagged in `mask` (bit `j` for lane `j`) with `f` of `x`.
    #[cold]
    fn patch(out: &mut __m256, x: __m256, mask: i32, f: fn(f32) -> f32) {
        // SAFETY: `__m256` and `[f32; 8]` have the same size and any bit pattern is valid.
        let xs: [f32; 8] = unsafe { std::mem::transmute(x) };
        // SAFETY: as above.
        let mut os: [f32; 8] = unsafe { std::mem::transmute(*out) };
        for j in 0..8 {
            if mask & (1 << j) != 0 {
                os[j] = f(xs[j]);
            }
        }
        // SAFETY: as above.
        *out = unsafe { std::mem::transmute::<[f32; 8], __m256>(os) };
    }

    /// 8 lanes of `logf` (AVX2: two halves of 4 doubles).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn logf8_avx2(x: __m256) -> __m256 {
        let ix = _mm256_castps_si256(x);
        let (i, k, z) = logf_split(ix);
        let lo = logf_tail4(
            _mm256_extracti128_si256::<0>(i),
            _mm256_extracti128_si256::<0>(k),
            _mm256_extractf128_ps::<0>(z),
        );
        let hi = logf_tail4(
            _mm256_extracti128_si256::<1>(i),
            _mm256_extracti128_si256::<1>(k),
            _mm256_extractf128_ps::<1>(z),
        );
        let mut out = _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo));
        let special = _mm256_movemask_ps(logf_special(ix));
        if special != 0 {
            patch(&mut out, x, special, super::super::logf);
        }
        out
    }

    /// 8 lanes of `logf` (AVX-512: one vector of 8 doubles).
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) fn logf8_avx512(x: __m256) -> __m256 {
        let ix = _mm256_castps_si256(x);
        let (i, k, z) = logf_split(ix);
        let mut out = _mm512_cvtpd_ps(logf_tail8(i, k, z));
        let special = _mm256_movemask_ps(logf_special(ix));
        if special != 0 {
            patch(&mut out, x, special, super::super::logf);
        }
        out
    }

    /// The lanes outside the one-step path of `sinf`/`cosf` on 8 floats: those below 2^-12 (as
    /// an all-ones lane mask) and those at or above 120, infinities and NaN (as bits).
    #[inline]
    #[target_feature(enable = "avx2")]
    fn sincosf_masks(x: __m256) -> (__m256 /* tiny */, i32 /* large bits */) {
        let top = _mm256_and_si256(
            _mm256_srli_epi32::<20>(_mm256_castps_si256(x)),
            splat(0x7ff),
        );
        let tiny = _mm256_castsi256_ps(_mm256_cmpgt_epi32(splat(TOP_TINY), top));
        let large = _mm256_cmpgt_epi32(top, splat(TOP_120 - 1));
        (tiny, _mm256_movemask_ps(_mm256_castsi256_ps(large)))
    }

    /// The sine and cosine polynomials of `x` (reduced) in double: `(S(x), C(x))` with the first
    /// table (`sinf_poly` with quadrant 0 and 1).
    macro_rules! polys {
        ($x:expr, $mul:ident, $fma:ident, $set1:ident) => {{
            let p = &TABLE[0];
            let x = $x;
            let x2 = $mul(x, x);
            let x3 = $mul(x, x2);
            let s1 = $fma(x2, $set1(p.s3), $set1(p.s2));
            let x7 = $mul(x3, x2);
            let s = $fma(x3, $set1(p.s1), x);
            let sp = $fma(x7, s1, s);
            let x4 = $mul(x2, x2);
            let c2 = $fma(x2, $set1(p.c4), $set1(p.c3));
            let c1 = $fma(x2, $set1(p.c1), $set1(p.c0));
            let x6 = $mul(x4, x2);
            let c = $fma(x4, $set1(p.c2), c1);
            (sp, $fma(x6, c2, c))
        }};
    }

    /// The quadrant's selection and signs: `sin = (n even ? S : C)`, negated when `n & 2`;
    /// `cos = (n odd ? S : C)`, negated when `(n + 1) & 2`. (glibc reaches the same values
    /// through `sign[n & 3]` times an odd polynomial and its second table's negated cosine
    /// coefficients; negating an input of an odd polynomial, or all coefficients of the cosine
    /// polynomial, negates the rounded result exactly.)
    #[inline]
    #[target_feature(enable = "avx2")]
    fn quadrant(n: __m256i, s: __m256, c: __m256) -> (__m256, __m256) {
        let odd = _mm256_castsi256_ps(_mm256_slli_epi32::<31>(n));
        let sin = _mm256_blendv_ps(s, c, odd);
        let cos = _mm256_blendv_ps(c, s, odd);
        let sin_neg = _mm256_castsi256_ps(_mm256_slli_epi32::<30>(n));
        let cos_neg = _mm256_castsi256_ps(_mm256_slli_epi32::<30>(_mm256_add_epi32(n, splat(1))));
        let sign = _mm256_castsi256_ps(splat(0x8000_0000));
        (
            _mm256_xor_ps(sin, _mm256_and_ps(sin_neg, sign)),
            _mm256_xor_ps(cos, _mm256_and_ps(cos_neg, sign)),
        )
    }

    /// The tiny and out-of-range lanes: `sin x = x`, `cos x = 1` below 2^-12; the scalar twin for
    /// |x| >= 120, infinities and NaN.
    ///
    /// # Safety
    /// AVX2 must be enabled in the caller (this is always inlined into one).
    #[inline(always)]
    unsafe fn finish(x: __m256, sin: __m256, cos: __m256) -> (__m256, __m256) {
        // SAFETY: the caller has AVX2 (see above).
        unsafe {
            let (tiny, large) = sincosf_masks(x);
            let mut sin = _mm256_blendv_ps(sin, x, tiny);
            let mut cos = _mm256_blendv_ps(cos, _mm256_set1_ps(1.0), tiny);
            if large != 0 {
                patch(&mut sin, x, large, super::super::sinf);
                patch(&mut cos, x, large, super::super::cosf);
            }
            (sin, cos)
        }
    }

    /// 8 lanes of `(sinf, cosf)` (AVX2).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn sincosf8_avx2(x: __m256) -> (__m256, __m256) {
        let p = &TABLE[0];
        let half = |xf: __m128| -> (__m256d, __m256d, __m128i) {
            let xd = _mm256_cvtps_pd(xf);
            let r = _mm256_mul_pd(xd, _mm256_set1_pd(p.hpi_inv));
            let t = _mm256_cvttpd_epi32(r);
            let n = _mm_srai_epi32::<24>(_mm_add_epi32(t, _mm_set1_epi32(0x80_0000)));
            let xr = _mm256_fnmadd_pd(_mm256_cvtepi32_pd(n), _mm256_set1_pd(p.hpi), xd);
            let (s, c) = polys!(xr, _mm256_mul_pd, _mm256_fmadd_pd, _mm256_set1_pd);
            (s, c, n)
        };
        let (s_lo, c_lo, n_lo) = half(_mm256_extractf128_ps::<0>(x));
        let (s_hi, c_hi, n_hi) = half(_mm256_extractf128_ps::<1>(x));
        let s = _mm256_set_m128(_mm256_cvtpd_ps(s_hi), _mm256_cvtpd_ps(s_lo));
        let c = _mm256_set_m128(_mm256_cvtpd_ps(c_hi), _mm256_cvtpd_ps(c_lo));
        let (sin, cos) = quadrant(_mm256_set_m128i(n_hi, n_lo), s, c);
        // SAFETY: AVX2 is enabled here.
        unsafe { finish(x, sin, cos) }
    }

    /// 8 lanes of `(sinf, cosf)` (AVX-512: one vector of 8 doubles).
    #[inline]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) fn sincosf8_avx512(x: __m256) -> (__m256, __m256) {
        let p = &TABLE[0];
        let xd = _mm512_cvtps_pd(x);
        let r = _mm512_mul_pd(xd, _mm512_set1_pd(p.hpi_inv));
        let t = _mm512_cvttpd_epi32(r);
        let n = _mm256_srai_epi32::<24>(_mm256_add_epi32(t, splat(0x80_0000)));
        let xr = _mm512_fnmadd_pd(_mm512_cvtepi32_pd(n), _mm512_set1_pd(p.hpi), xd);
        let (s, c) = polys!(xr, _mm512_mul_pd, _mm512_fmadd_pd, _mm512_set1_pd);
        let (sin, cos) = quadrant(n, _mm512_cvtpd_ps(s), _mm512_cvtpd_ps(c));
        // SAFETY: AVX2 is enabled here.
        unsafe { finish(x, sin, cos) }
    }

    /// One raw default block on 16 floats at `p`.
    #[inline(always)]
    fn block(
        p: *mut f32,
        logf8: impl Fn(__m256) -> __m256,
        theta8: impl Fn(__m256) -> __m256,
        sincosf8: impl Fn(__m256) -> (__m256, __m256),
    ) {
        // SAFETY (for the caller): `p` points to 16 writable floats. These intrinsics only need
        // AVX, which every route calling this has.
        unsafe {
            let lo = _mm256_loadu_ps(p);
            let hi = _mm256_loadu_ps(p.add(8));
            let u1 = _mm256_sub_ps(_mm256_set1_ps(1.0), lo);
            let radius = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0), logf8(u1)));
            let (s, c) = sincosf8(theta8(hi));
            _mm256_storeu_ps(p, _mm256_mul_ps(radius, c));
            _mm256_storeu_ps(p.add(8), _mm256_mul_ps(radius, s));
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn blocks_avx2(d: &mut [f32]) {
        let theta8 = |b: __m256| {
            let lo = _mm256_mul_pd(
                _mm256_set1_pd(TWO_PI_F64),
                _mm256_cvtps_pd(_mm256_extractf128_ps::<0>(b)),
            );
            let hi = _mm256_mul_pd(
                _mm256_set1_pd(TWO_PI_F64),
                _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(b)),
            );
            _mm256_set_m128(_mm256_cvtpd_ps(hi), _mm256_cvtpd_ps(lo))
        };
        for blk in d.chunks_exact_mut(16) {
            block(
                blk.as_mut_ptr(),
                |x| logf8_avx2(x),
                theta8,
                |x| sincosf8_avx2(x),
            );
        }
    }

    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) fn blocks_avx512(d: &mut [f32]) {
        let theta8 = |b: __m256| {
            _mm512_cvtpd_ps(_mm512_mul_pd(
                _mm512_set1_pd(TWO_PI_F64),
                _mm512_cvtps_pd(b),
            ))
        };
        for blk in d.chunks_exact_mut(16) {
            block(
                blk.as_mut_ptr(),
                |x| logf8_avx512(x),
                theta8,
                |x| sincosf8_avx512(x),
            );
        }
    }

    #[cfg(test)]
    fn unpack(v: __m256) -> [f32; 8] {
        // SAFETY: same size, every bit pattern valid.
        unsafe { std::mem::transmute(v) }
    }

    #[cfg(test)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn lanes8_avx2(x: [f32; 8]) -> ([f32; 8], [f32; 8], [f32; 8]) {
        // SAFETY: same size, every bit pattern valid.
        let v: __m256 = unsafe { std::mem::transmute(x) };
        let (s, c) = sincosf8_avx2(v);
        (unpack(logf8_avx2(v)), unpack(s), unpack(c))
    }

    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx2,fma")]
    pub(super) fn lanes8_avx512(x: [f32; 8]) -> ([f32; 8], [f32; 8], [f32; 8]) {
        // SAFETY: same size, every bit pattern valid.
        let v: __m256 = unsafe { std::mem::transmute(x) };
        let (s, c) = sincosf8_avx512(v);
        (unpack(logf8_avx512(v)), unpack(s), unpack(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(lanes: Lanes, xs: &[f32]) {
        for chunk in xs.chunks(8) {
            let mut x = [0.5f32; 8];
            x[..chunk.len()].copy_from_slice(chunk);
            let (l, s, c) = lanes8(x, lanes);
            for j in 0..8 {
                let want = (
                    super::super::logf(x[j]),
                    super::super::sinf(x[j]),
                    super::super::cosf(x[j]),
                );
                assert_eq!(
                    (l[j].to_bits(), s[j].to_bits(), c[j].to_bits()),
                    (want.0.to_bits(), want.1.to_bits(), want.2.to_bits()),
                    "{lanes:?} x = {:08x} ({:e})",
                    x[j].to_bits(),
                    x[j]
                );
            }
        }
    }

    /// Every input the default normal kernel feeds them: `1 - k 2^-24` to `logf`,
    /// `float(2π · k 2^-24)` to `sinf`/`cosf`, `k < 2^24`.
    #[test]
    fn vector_lanes_equal_the_scalar_twins_on_every_generator_input() {
        for lanes in Lanes::available() {
            if lanes == Lanes::Scalar {
                continue;
            }
            let mut xs = Vec::with_capacity(1 << 16);
            for k in 0..(1u32 << 24) {
                let u = k as f32 / 16_777_216.0;
                xs.push(1.0 - u);
                xs.push((TWO_PI_F64 * f64::from(u)) as f32);
                if xs.len() == 1 << 16 {
                    check(lanes, &xs);
                    xs.clear();
                }
            }
            check(lanes, &xs);
        }
    }

    /// Every one of the 2^32 float inputs, on every vector route (a few minutes; run with
    /// `cargo test --release --lib all_floats -- --ignored`).
    #[test]
    #[ignore = "exhaustive: minutes"]
    fn vector_lanes_equal_the_scalar_twins_on_all_floats() {
        for lanes in Lanes::available() {
            if lanes == Lanes::Scalar {
                continue;
            }
            let mut bad = 0u64;
            let mut x = [0f32; 8];
            for hi in 0..(1u64 << 29) {
                for (j, v) in x.iter_mut().enumerate() {
                    *v = f32::from_bits(((hi << 3) | j as u64) as u32);
                }
                let (l, s, c) = lanes8(x, lanes);
                for j in 0..8 {
                    if l[j].to_bits() != super::super::logf(x[j]).to_bits()
                        || s[j].to_bits() != super::super::sinf(x[j]).to_bits()
                        || c[j].to_bits() != super::super::cosf(x[j]).to_bits()
                    {
                        bad += 1;
                    }
                }
            }
            assert_eq!(bad, 0, "{lanes:?}: {bad} inputs differ");
        }
    }

    /// Random bit patterns (every exponent, both signs, NaNs, infinities, subnormals) and the
    /// branch edges.
    #[test]
    fn vector_lanes_equal_the_scalar_twins_on_any_input() {
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::from_bits(1),
            f32::MIN_POSITIVE,
            f32::MAX,
            119.999_99,
            120.0,
            0.75,
            std::f32::consts::FRAC_PI_4,
            2f32.powi(-12),
            -2f32.powi(-12),
        ];
        let mut s = 0x1234_5678_9abc_def0u64;
        for _ in 0..2_000_000 {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            xs.push(f32::from_bits((s >> 32) as u32));
        }
        for lanes in Lanes::available() {
            if lanes != Lanes::Scalar {
                check(lanes, &xs);
            }
        }
    }
}
