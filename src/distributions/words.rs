//! Word → float conversions over whole blocks, 8 or 16 lanes at a time.
//!
//! These are the bulk forms of [`super::transform`]: `u24` for float32 uniforms (the low 24 bits
//! of a word times 2^-24), `u53` for float64 uniforms (the low 53 bits of a `random64`, whose
//! first word is the high half), and the `uniform_` affine step with its `to → from`
//! replacement. Each takes the words straight from [`crate::generator::CpuGenerator::fill_u32`]
//! (a `random64` is two consecutive words, high first). The scalar loops are the twins: the
//! vector routes compute the same IEEE operations per lane (integer → float conversions and
//! products by powers of two are exact), and tests compare every route.

use super::transform::{affine_f32, affine_f64, u24, u53};
use crate::simd::Lanes;

/// Slack, in words, that a scratch buffer needs for [`apart`].
pub(crate) const APART: usize = 1024;

/// `len` words of `store` (at least `len + APART` long) that start half a 4 KiB page away from
/// `out`, modulo the page.
///
/// A conversion loop loads words and stores results at the same index; when the two addresses
/// agree in their low 12 bits, the CPU takes each load for one of a pending store's and waits for
/// it ("4K aliasing"). Whether it happens depends on where the stack and the output lie, which
/// differs between threads and runs. Measured on this project's Zen 4 host, the 16-lane word →
/// float loop in L1: 0.066 ns an element with the words half a page away, 0.195 with them 64
/// bytes below the output (modulo the page), 0.12 at 128 bytes.
pub(crate) fn apart(store: &mut [u32], len: usize, out: *const u8) -> &mut [u32] {
    debug_assert!(store.len() >= len + APART);
    let want = (out as usize).wrapping_add(2048);
    let k = (want.wrapping_sub(store.as_ptr() as usize) % 4096) / 4;
    &mut store[k..k + len]
}

/// `out[i] = u24((words[i] & (2^digits - 1)) << (24 - digits))`, i.e. the low `digits` bits
/// times `2^-digits` (`digits <= 24`).
pub(crate) fn uniform01_f32(words: &[u32], out: &mut [f32], digits: u32, lanes: Lanes) {
    debug_assert!(words.len() >= out.len() && (1..=24).contains(&digits));
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::uniform01_f32_avx512(words, out, digits) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::uniform01_f32_avx2(words, out, digits) },
        _ => 0,
    };
    let mask = (1u32 << digits) - 1;
    let shift = 24 - digits;
    for (o, &w) in out[done..].iter_mut().zip(&words[done..]) {
        *o = u24((w & mask) << shift);
    }
}

/// `out[i] = u53(words[2i] << 32 | words[2i + 1])`.
pub(crate) fn uniform01_f64(words: &[u32], out: &mut [f64], lanes: Lanes) {
    debug_assert!(words.len() >= 2 * out.len());
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::uniform01_f64_avx512(words, out) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::uniform01_f64_avx2(words, out) },
        _ => 0,
    };
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        *o = u53(pair(words, i));
    }
}

/// The `i`-th `random64` of a word block: the first word high.
#[inline(always)]
fn pair(words: &[u32], i: usize) -> u64 {
    (u64::from(words[2 * i]) << 32) | u64::from(words[2 * i + 1])
}

/// float32 `uniform_` from words: `v = u24(w) * d + a` (one rounding when `fused`), and `a`
/// where `v == to` (pass a NaN `to` for no replacement).
pub(crate) fn uniform_f32(
    words: &[u32],
    out: &mut [f32],
    a: f32,
    d: f32,
    to: f32,
    fused: bool,
    lanes: Lanes,
) {
    debug_assert!(words.len() >= out.len());
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::uniform_f32_avx512(words, out, a, d, to, fused) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::uniform_f32_avx2(words, out, a, d, to, fused) },
        _ => 0,
    };
    let (words, out) = (&words[done..], &mut out[done..]);
    if fused {
        uniform_f32_scalar::<true>(words, out, a, d, to);
    } else {
        uniform_f32_scalar::<false>(words, out, a, d, to);
    }
}

/// [`uniform_f32`] on the tempered values of untempered engine words `raw` (see
/// `Mt19937::raw_runs`): the tempering is done in registers, with no pass over a words buffer.
pub(crate) fn uniform_f32_raw(
    raw: &[u32],
    out: &mut [f32],
    a: f32,
    d: f32,
    to: f32,
    fused: bool,
    lanes: Lanes,
) {
    debug_assert!(raw.len() >= out.len());
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx2 => unsafe { x86::uniform_f32_raw_avx2(raw, out, a, d, to, fused) },
        _ => 0,
    };
    for (o, &w) in out[done..].iter_mut().zip(&raw[done..]) {
        let w = crate::engine::mt19937::temper(w);
        let v = if fused {
            affine_f32::<true>(u24(w), d, a)
        } else {
            affine_f32::<false>(u24(w), d, a)
        };
        *o = if v == to { a } else { v };
    }
}

/// The scalar twin of [`uniform_f32`].
#[inline(always)]
pub(crate) fn uniform_f32_scalar<const FUSED: bool>(
    words: &[u32],
    out: &mut [f32],
    a: f32,
    d: f32,
    to: f32,
) {
    for (o, &w) in out.iter_mut().zip(words) {
        let v = affine_f32::<FUSED>(u24(w), d, a);
        // `to` itself is never returned: PyTorch swaps it for `from` (here `a`).
        *o = if v == to { a } else { v };
    }
}

/// float64 `uniform_` from word pairs: `v = u53(w) * d + from` (one rounding when `fused`), and
/// `from` where `v == to`.
pub(crate) fn uniform_f64(
    words: &[u32],
    out: &mut [f64],
    from: f64,
    d: f64,
    to: f64,
    fused: bool,
    lanes: Lanes,
) {
    debug_assert!(words.len() >= 2 * out.len());
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::uniform_f64_avx512(words, out, from, d, to, fused) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::uniform_f64_avx2(words, out, from, d, to, fused) },
        _ => 0,
    };
    for (i, o) in out.iter_mut().enumerate().skip(done) {
        let x = u53(pair(words, i));
        let v = if fused {
            affine_f64::<true>(x, d, from)
        } else {
            affine_f64::<false>(x, d, from)
        };
        *o = if v == to { from } else { v };
    }
}

/// Rounds float values to float16 as c10 does and applies the `to → from` replacement on the
/// rounded value: `out[i] = widen(r) == to ? from : r` with `r = f16(vals[i])`.
///
/// The vector routes use the hardware conversion (`vcvtps2ph`, round to nearest even), which
/// equals c10's conversion for every non-NaN input; a block holding a NaN takes the scalar loop.
pub(crate) fn narrow_replace_f16(
    vals: &[f32],
    out: &mut [half::f16],
    to: f32,
    from: half::f16,
    lanes: Lanes,
) {
    debug_assert!(vals.len() >= out.len());
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::narrow_f16_avx512(vals, out, to, from.to_bits()) },
        #[cfg(target_arch = "x86_64")]
        Lanes::Avx2 if std::arch::is_x86_feature_detected!("f16c") => {
            // SAFETY: AVX2 was confirmed by the caller and F16C just above.
            unsafe { x86::narrow_f16_avx2(vals, out, to, from.to_bits()) }
        }
        _ => 0,
    };
    for (o, &v) in out[done..].iter_mut().zip(&vals[done..]) {
        let r = crate::dtype::f32_to_f16(v);
        *o = if crate::dtype::f16_to_f32(r) == to {
            from
        } else {
            r
        };
    }
}

/// As [`narrow_replace_f16`] for bfloat16 (c10's round-to-nearest-even on the bit pattern).
pub(crate) fn narrow_replace_bf16(
    vals: &[f32],
    out: &mut [half::bf16],
    to: f32,
    from: half::bf16,
    lanes: Lanes,
) {
    debug_assert!(vals.len() >= out.len());
    let done = match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::narrow_bf16_avx512(vals, out, to, from.to_bits()) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::narrow_bf16_avx2(vals, out, to, from.to_bits()) },
        _ => 0,
    };
    for (o, &v) in out[done..].iter_mut().zip(&vals[done..]) {
        let r = crate::dtype::f32_to_bf16(v);
        *o = if crate::dtype::bf16_to_f32(r) == to {
            from
        } else {
            r
        };
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    //! Each function handles a prefix of whole vectors and returns its length; the caller's
    //! scalar loop does the rest.

    use std::arch::x86_64::{
        __m256d, __m256i, __m512i, _mm256_add_pd, _mm256_add_ps, _mm256_and_si256,
        _mm256_blendv_pd, _mm256_blendv_ps, _mm256_castsi256_pd, _mm256_cmp_pd, _mm256_cmp_ps,
        _mm256_fmadd_pd, _mm256_fmadd_ps, _mm256_loadu_si256, _mm256_mul_pd, _mm256_mul_ps,
        _mm256_or_si256, _mm256_set1_epi32, _mm256_set1_epi64x, _mm256_set1_pd, _mm256_set1_ps,
        _mm256_shuffle_epi32, _mm256_srli_epi64, _mm256_storeu_pd, _mm256_storeu_ps, _mm256_sub_pd,
        _mm512_add_pd, _mm512_add_ps, _mm512_and_si512, _mm512_cmp_pd_mask, _mm512_cmp_ps_mask,
        _mm512_cvtepu64_pd, _mm512_fmadd_pd, _mm512_fmadd_ps, _mm512_loadu_si512,
        _mm512_mask_mov_pd, _mm512_mask_mov_ps, _mm512_mul_pd, _mm512_mul_ps, _mm512_rol_epi64,
        _mm512_set1_epi32, _mm512_set1_epi64, _mm512_set1_pd, _mm512_set1_ps, _mm512_storeu_pd,
        _mm512_storeu_ps, _CMP_EQ_OQ,
    };

    const TWO_POW_M53: f64 = 1.0 / 9_007_199_254_740_992.0;
    const LOW53: u64 = (1 << 53) - 1;

    #[inline]
    #[target_feature(enable = "avx2")]
    fn load8(words: &[u32], i: usize) -> __m256i {
        debug_assert!(i + 8 <= words.len());
        // SAFETY: callers keep `i + 8 <= words.len()`.
        unsafe { _mm256_loadu_si256(words.as_ptr().add(i).cast()) }
    }

    #[inline]
    #[target_feature(enable = "avx512f")]
    fn load16(words: &[u32], i: usize) -> __m512i {
        debug_assert!(i + 16 <= words.len());
        // SAFETY: callers keep `i + 16 <= words.len()`.
        unsafe { _mm512_loadu_si512(words.as_ptr().add(i).cast()) }
    }

    use crate::simd::u24::{u24_16, u24_8};

    #[target_feature(enable = "avx2")]
    pub(super) fn uniform01_f32_avx2(words: &[u32], out: &mut [f32], digits: u32) -> usize {
        let (mask, shift) = ((1u32 << digits) - 1, 24 - digits);
        let n = out.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let v = u24_8(load8(words, i), mask, shift);
            // SAFETY: `i + 8 <= n <= out.len()`.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx512f")]
    pub(super) fn uniform01_f32_avx512(words: &[u32], out: &mut [f32], digits: u32) -> usize {
        let (mask, shift) = ((1u32 << digits) - 1, 24 - digits);
        let n = out.len() / 16 * 16;
        for i in (0..n).step_by(16) {
            let v = u24_16(load16(words, i), mask, shift);
            // SAFETY: `i + 16 <= n <= out.len()`.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn uniform_f32_avx2(
        words: &[u32],
        out: &mut [f32],
        a: f32,
        d: f32,
        to: f32,
        fused: bool,
    ) -> usize {
        let (av, dv, tv) = (_mm256_set1_ps(a), _mm256_set1_ps(d), _mm256_set1_ps(to));
        let n = out.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let x = u24_8(load8(words, i), 0x00ff_ffff, 0);
            let v = if fused {
                _mm256_fmadd_ps(x, dv, av)
            } else {
                _mm256_add_ps(_mm256_mul_ps(x, dv), av)
            };
            let v = _mm256_blendv_ps(v, av, _mm256_cmp_ps::<_CMP_EQ_OQ>(v, tv));
            // SAFETY: `i + 8 <= n <= out.len()`.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn uniform_f32_raw_avx2(
        raw: &[u32],
        out: &mut [f32],
        a: f32,
        d: f32,
        to: f32,
        fused: bool,
    ) -> usize {
        use crate::engine::mt19937::temper8;
        let (av, dv, tv) = (_mm256_set1_ps(a), _mm256_set1_ps(d), _mm256_set1_ps(to));
        let n = out.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let x = u24_8(temper8(load8(raw, i)), 0x00ff_ffff, 0);
            let v = if fused {
                _mm256_fmadd_ps(x, dv, av)
            } else {
                _mm256_add_ps(_mm256_mul_ps(x, dv), av)
            };
            let v = _mm256_blendv_ps(v, av, _mm256_cmp_ps::<_CMP_EQ_OQ>(v, tv));
            // SAFETY: `i + 8 <= n <= out.len()`.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx512f,fma")]
    pub(super) fn uniform_f32_avx512(
        words: &[u32],
        out: &mut [f32],
        a: f32,
        d: f32,
        to: f32,
        fused: bool,
    ) -> usize {
        let (av, dv, tv) = (_mm512_set1_ps(a), _mm512_set1_ps(d), _mm512_set1_ps(to));
        let n = out.len() / 16 * 16;
        for i in (0..n).step_by(16) {
            let x = u24_16(load16(words, i), 0x00ff_ffff, 0);
            let v = if fused {
                _mm512_fmadd_ps(x, dv, av)
            } else {
                _mm512_add_ps(_mm512_mul_ps(x, dv), av)
            };
            let v = _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(v, tv), av);
            // SAFETY: `i + 16 <= n <= out.len()`.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    /// Four `random64` values (8 words, high first) as `u53` doubles. The low 53 bits are split
    /// into 21 high and 32 low bits and each is turned into a double exactly with the
    /// `2^84 + h·2^32` / `2^52 + l` exponent trick; their sum is below 2^53, so exact.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn u53_4(w: __m256i) -> __m256d {
        // Memory order per 64-bit lane is (high word, low word); swap to (low, high).
        let v = _mm256_shuffle_epi32::<0b10_11_00_01>(w);
        let hi = _mm256_or_si256(
            _mm256_and_si256(_mm256_srli_epi64::<32>(v), _mm256_set1_epi64x(0x1f_ffff)),
            _mm256_set1_epi64x(0x4530_0000_0000_0000),
        );
        let lo = _mm256_or_si256(
            _mm256_and_si256(v, _mm256_set1_epi64x(0xffff_ffff)),
            _mm256_set1_epi64x(0x4330_0000_0000_0000),
        );
        let hi = _mm256_sub_pd(
            _mm256_castsi256_pd(hi),
            _mm256_set1_pd(f64::from_bits(0x4530_0000_0010_0000)), // 2^84 + 2^52
        );
        let x = _mm256_add_pd(hi, _mm256_castsi256_pd(lo));
        _mm256_mul_pd(x, _mm256_set1_pd(TWO_POW_M53))
    }

    #[inline]
    #[target_feature(enable = "avx512f,avx512dq")]
    fn u53_8(w: __m512i) -> std::arch::x86_64::__m512d {
        let v = _mm512_rol_epi64::<32>(w);
        let v = _mm512_and_si512(v, _mm512_set1_epi64(LOW53 as i64));
        _mm512_mul_pd(_mm512_cvtepu64_pd(v), _mm512_set1_pd(TWO_POW_M53))
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn uniform01_f64_avx2(words: &[u32], out: &mut [f64]) -> usize {
        let n = out.len() / 4 * 4;
        for i in (0..n).step_by(4) {
            let v = u53_4(load8(words, 2 * i));
            // SAFETY: `i + 4 <= n <= out.len()`.
            unsafe { _mm256_storeu_pd(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx512f,avx512dq")]
    pub(super) fn uniform01_f64_avx512(words: &[u32], out: &mut [f64]) -> usize {
        let n = out.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let v = u53_8(load16(words, 2 * i));
            // SAFETY: `i + 8 <= n <= out.len()`.
            unsafe { _mm512_storeu_pd(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) fn uniform_f64_avx2(
        words: &[u32],
        out: &mut [f64],
        from: f64,
        d: f64,
        to: f64,
        fused: bool,
    ) -> usize {
        let (fv, dv, tv) = (_mm256_set1_pd(from), _mm256_set1_pd(d), _mm256_set1_pd(to));
        let n = out.len() / 4 * 4;
        for i in (0..n).step_by(4) {
            let x = u53_4(load8(words, 2 * i));
            let v = if fused {
                _mm256_fmadd_pd(x, dv, fv)
            } else {
                _mm256_add_pd(_mm256_mul_pd(x, dv), fv)
            };
            let v = _mm256_blendv_pd(v, fv, _mm256_cmp_pd::<_CMP_EQ_OQ>(v, tv));
            // SAFETY: `i + 4 <= n <= out.len()`.
            unsafe { _mm256_storeu_pd(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    #[target_feature(enable = "avx512f,avx512dq,fma")]
    pub(super) fn uniform_f64_avx512(
        words: &[u32],
        out: &mut [f64],
        from: f64,
        d: f64,
        to: f64,
        fused: bool,
    ) -> usize {
        let (fv, dv, tv) = (_mm512_set1_pd(from), _mm512_set1_pd(d), _mm512_set1_pd(to));
        let n = out.len() / 8 * 8;
        for i in (0..n).step_by(8) {
            let x = u53_8(load16(words, 2 * i));
            let v = if fused {
                _mm512_fmadd_pd(x, dv, fv)
            } else {
                _mm512_add_pd(_mm512_mul_pd(x, dv), fv)
            };
            let v = _mm512_mask_mov_pd(v, _mm512_cmp_pd_mask::<_CMP_EQ_OQ>(v, tv), fv);
            // SAFETY: `i + 8 <= n <= out.len()`.
            unsafe { _mm512_storeu_pd(out.as_mut_ptr().add(i), v) };
        }
        n
    }

    /// Lanes of `v` that are NaN, as bits.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn nan_bits8(v: std::arch::x86_64::__m256) -> i32 {
        use std::arch::x86_64::{_mm256_cmp_ps, _mm256_movemask_ps, _CMP_UNORD_Q};
        _mm256_movemask_ps(_mm256_cmp_ps::<_CMP_UNORD_Q>(v, v))
    }

    /// Stops at the first block of 8 that holds a NaN (the scalar loop finishes).
    #[target_feature(enable = "avx2,f16c")]
    pub(super) fn narrow_f16_avx2(
        vals: &[f32],
        out: &mut [half::f16],
        to: f32,
        from: u16,
    ) -> usize {
        use std::arch::x86_64::{
            _mm256_cvtph_ps, _mm256_cvtps_ph, _mm256_loadu_ps, _mm_blendv_epi8, _mm_packs_epi32,
            _mm_set1_epi16, _mm_storeu_si128, _MM_FROUND_TO_NEAREST_INT,
        };
        let n = out.len().min(vals.len()) / 8 * 8;
        let tv = _mm256_set1_ps(to);
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 8 <= n` floats of `vals`.
            let v = unsafe { _mm256_loadu_ps(vals.as_ptr().add(i)) };
            if nan_bits8(v) != 0 {
                break;
            }
            let h = _mm256_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v);
            let eq = _mm256_cmp_ps::<_CMP_EQ_OQ>(_mm256_cvtph_ps(h), tv);
            // 8 × 32-bit all-ones/zero lanes → 8 × 16-bit.
            let eq16 = _mm_packs_epi32(
                std::arch::x86_64::_mm256_castsi256_si128(std::arch::x86_64::_mm256_castps_si256(
                    eq,
                )),
                std::arch::x86_64::_mm256_extracti128_si256::<1>(
                    std::arch::x86_64::_mm256_castps_si256(eq),
                ),
            );
            let r = _mm_blendv_epi8(h, _mm_set1_epi16(from as i16), eq16);
            // SAFETY: `i + 8 <= n` halves of `out` (16-bit values, any bit pattern valid).
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), r) };
            i += 8;
        }
        i
    }

    #[target_feature(enable = "avx512f,avx512bw,avx512vl,avx2")]
    pub(super) fn narrow_f16_avx512(
        vals: &[f32],
        out: &mut [half::f16],
        to: f32,
        from: u16,
    ) -> usize {
        use std::arch::x86_64::{
            _mm256_mask_mov_epi16, _mm256_set1_epi16, _mm256_storeu_si256, _mm512_cvtph_ps,
            _mm512_cvtps_ph, _mm512_loadu_ps, _CMP_UNORD_Q, _MM_FROUND_TO_NEAREST_INT,
        };
        let n = out.len().min(vals.len()) / 16 * 16;
        let tv = _mm512_set1_ps(to);
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 16 <= n` floats of `vals`.
            let v = unsafe { _mm512_loadu_ps(vals.as_ptr().add(i)) };
            if _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) != 0 {
                break;
            }
            let h = _mm512_cvtps_ph::<_MM_FROUND_TO_NEAREST_INT>(v);
            let eq = _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(_mm512_cvtph_ps(h), tv);
            let r = _mm256_mask_mov_epi16(h, eq, _mm256_set1_epi16(from as i16));
            // SAFETY: `i + 16 <= n` halves of `out` (16-bit values, any bit pattern valid).
            unsafe { _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), r) };
            i += 16;
        }
        i
    }

    /// c10's bfloat16 rounding of non-NaN floats: `(bits + 0x7fff + ((bits >> 16) & 1)) >> 16`
    /// (no overflow below the NaN range), on 8 lanes; and the widened value.
    #[inline]
    #[target_feature(enable = "avx2")]
    fn bf16_8(v: std::arch::x86_64::__m256) -> (__m256i, std::arch::x86_64::__m256) {
        use std::arch::x86_64::{
            _mm256_add_epi32, _mm256_castps_si256, _mm256_castsi256_ps, _mm256_slli_epi32,
            _mm256_srli_epi32,
        };
        let b = _mm256_castps_si256(v);
        let odd = _mm256_and_si256(_mm256_srli_epi32::<16>(b), _mm256_set1_epi32(1));
        let r = _mm256_srli_epi32::<16>(_mm256_add_epi32(
            _mm256_add_epi32(b, _mm256_set1_epi32(0x7fff)),
            odd,
        ));
        (r, _mm256_castsi256_ps(_mm256_slli_epi32::<16>(r)))
    }

    #[target_feature(enable = "avx2")]
    pub(super) fn narrow_bf16_avx2(
        vals: &[f32],
        out: &mut [half::bf16],
        to: f32,
        from: u16,
    ) -> usize {
        use std::arch::x86_64::{
            _mm256_blendv_epi8, _mm256_castps_si256, _mm256_castsi256_si128, _mm256_loadu_ps,
            _mm256_packus_epi32, _mm256_permute4x64_epi64, _mm_storeu_si128,
        };
        let n = out.len().min(vals.len()) / 8 * 8;
        let tv = _mm256_set1_ps(to);
        let fv = _mm256_set1_epi32(i32::from(from));
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 8 <= n` floats of `vals`.
            let v = unsafe { _mm256_loadu_ps(vals.as_ptr().add(i)) };
            if nan_bits8(v) != 0 {
                break;
            }
            let (r, w) = bf16_8(v);
            let eq = _mm256_castps_si256(_mm256_cmp_ps::<_CMP_EQ_OQ>(w, tv));
            let r = _mm256_blendv_epi8(r, fv, eq);
            // Pack 8 × 32-bit (all below 2^16) into 8 × 16-bit, in order.
            let p = _mm256_permute4x64_epi64::<0b11_01_10_00>(_mm256_packus_epi32(r, r));
            // SAFETY: `i + 8 <= n` bfloat16 values of `out` (16-bit, any bit pattern valid).
            unsafe { _mm_storeu_si128(out.as_mut_ptr().add(i).cast(), _mm256_castsi256_si128(p)) };
            i += 8;
        }
        i
    }

    #[target_feature(enable = "avx512f,avx512bw")]
    pub(super) fn narrow_bf16_avx512(
        vals: &[f32],
        out: &mut [half::bf16],
        to: f32,
        from: u16,
    ) -> usize {
        use std::arch::x86_64::{
            _mm256_storeu_si256, _mm512_add_epi32, _mm512_castps_si512, _mm512_castsi512_ps,
            _mm512_cvtepi32_epi16, _mm512_loadu_ps, _mm512_mask_mov_epi32, _mm512_slli_epi32,
            _mm512_srli_epi32, _CMP_UNORD_Q,
        };
        let n = out.len().min(vals.len()) / 16 * 16;
        let tv = _mm512_set1_ps(to);
        let fv = _mm512_set1_epi32(i32::from(from));
        let mut i = 0;
        while i < n {
            // SAFETY: `i + 16 <= n` floats of `vals`.
            let v = unsafe { _mm512_loadu_ps(vals.as_ptr().add(i)) };
            if _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(v, v) != 0 {
                break;
            }
            let b = _mm512_castps_si512(v);
            let odd = _mm512_and_si512(_mm512_srli_epi32::<16>(b), _mm512_set1_epi32(1));
            let r = _mm512_srli_epi32::<16>(_mm512_add_epi32(
                _mm512_add_epi32(b, _mm512_set1_epi32(0x7fff)),
                odd,
            ));
            let w = _mm512_castsi512_ps(_mm512_slli_epi32::<16>(r));
            let r = _mm512_mask_mov_epi32(r, _mm512_cmp_ps_mask::<_CMP_EQ_OQ>(w, tv), fv);
            // SAFETY: `i + 16 <= n` bfloat16 values of `out` (16-bit, any bit pattern valid).
            unsafe {
                _mm256_storeu_si256(out.as_mut_ptr().add(i).cast(), _mm512_cvtepi32_epi16(r));
            };
            i += 16;
        }
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window lies inside the scratch, half a page from the output modulo the page, for
    /// every output address and scratch placement.
    #[test]
    fn apart_places_the_words_half_a_page_from_the_output() {
        let mut big = vec![0u32; 3 * APART];
        for shift in 0..4 {
            let store = &mut big[shift..shift + APART + 100];
            let (lo, hi) = (
                store.as_ptr() as usize,
                store.as_ptr() as usize + 4 * store.len(),
            );
            for out in (0..8192usize).step_by(4).chain([4097, 4095, 1]) {
                let w = apart(store, 100, out as *const u8);
                let at = w.as_ptr() as usize;
                assert!(at >= lo && at + 400 <= hi);
                let gap = at.wrapping_sub(out) % 4096;
                assert!((2045..=2048).contains(&gap), "out {out}: gap {gap}");
            }
        }
    }

    fn words(n: usize) -> Vec<u32> {
        let mut g = crate::generator::CpuGenerator::with_seed(17);
        let mut w = vec![0u32; n];
        g.fill_u32(&mut w);
        // plus words whose low bits hit the extremes
        w[0] = 0;
        w[1] = u32::MAX;
        w[2] = 0x00ff_ffff;
        w[3] = 0xff00_0000;
        w
    }

    #[test]
    fn every_route_matches_the_scalar_conversions() {
        let w = words(4099);
        for lanes in Lanes::available() {
            for n in [0usize, 1, 7, 8, 15, 16, 17, 100, 2049] {
                for digits in [24, 11, 8] {
                    let mut got = vec![0f32; n];
                    uniform01_f32(&w, &mut got, digits, lanes);
                    let mut want = vec![0f32; n];
                    uniform01_f32(&w, &mut want, digits, Lanes::Scalar);
                    assert_eq!(
                        bits32(&got),
                        bits32(&want),
                        "{lanes:?} n {n} digits {digits}"
                    );
                }
                let mut got = vec![0f64; n];
                uniform01_f64(&w, &mut got, lanes);
                for (i, g) in got.iter().enumerate() {
                    assert_eq!(g.to_bits(), u53(pair(&w, i)).to_bits(), "{lanes:?} {i}");
                }
                for (a, b) in [
                    (-0.25f64, 0.75f64),
                    (16_777_216.0, 16_777_218.0),
                    (0.0, 1e-30),
                ] {
                    for fused in [false, true] {
                        let (af, bf) = (a as f32, b as f32);
                        let mut got = vec![0f32; n];
                        uniform_f32(&w, &mut got, af, bf - af, bf, fused, lanes);
                        let mut want = vec![0f32; n];
                        if fused {
                            uniform_f32_scalar::<true>(&w, &mut want, af, bf - af, bf);
                        } else {
                            uniform_f32_scalar::<false>(&w, &mut want, af, bf - af, bf);
                        }
                        assert_eq!(bits32(&got), bits32(&want), "{lanes:?} {a} {b} {fused}");
                        let mut got = vec![0f64; n];
                        uniform_f64(&w, &mut got, a, b - a, b, fused, lanes);
                        let mut want = vec![0f64; n];
                        uniform_f64(&w, &mut want, a, b - a, b, fused, Lanes::Scalar);
                        let (g, h): (Vec<u64>, Vec<u64>) = (
                            got.iter().map(|x| x.to_bits()).collect(),
                            want.iter().map(|x| x.to_bits()).collect(),
                        );
                        assert_eq!(g, h, "f64 {lanes:?} {a} {b} {fused}");
                    }
                }
            }
        }
    }

    /// The vector narrowing against c10's scalar rounding, with and without replacement hits.
    #[test]
    fn every_route_narrows_like_c10() {
        let mut vals: Vec<f32> = vec![
            0.0,
            -0.0,
            1.0,
            65504.0,
            65520.0,
            65519.0,
            1e-8,
            -1e-7,
            6e-8,
            3e38,
            -3e38,
            1.5e-5,
            f32::INFINITY,
            f32::MIN_POSITIVE,
            2.9e-8,
            65536.0,
        ];
        let mut s = 99u64;
        for _ in 0..200_000 {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let b = (s >> 32) as u32;
            let v = f32::from_bits(b);
            if !v.is_nan() {
                vals.push(v);
            }
            vals.push((s >> 40) as f32 / 16_777_216.0);
        }
        vals.push(f32::NAN); // the last block takes the scalar loop
        let to = 0.5f32;
        for lanes in Lanes::available() {
            let mut h = vec![half::f16::ZERO; vals.len()];
            narrow_replace_f16(&vals, &mut h, to, half::f16::from_bits(0x1234), lanes);
            let mut b = vec![half::bf16::ZERO; vals.len()];
            narrow_replace_bf16(&vals, &mut b, to, half::bf16::from_bits(0x4321), lanes);
            for (i, &v) in vals.iter().enumerate() {
                let r = crate::dtype::f32_to_f16(v);
                let want = if crate::dtype::f16_to_f32(r) == to {
                    0x1234
                } else {
                    r.to_bits()
                };
                assert_eq!(h[i].to_bits(), want, "f16 {lanes:?} {:08x}", v.to_bits());
                let r = crate::dtype::f32_to_bf16(v);
                let want = if crate::dtype::bf16_to_f32(r) == to {
                    0x4321
                } else {
                    r.to_bits()
                };
                assert_eq!(b[i].to_bits(), want, "bf16 {lanes:?} {:08x}", v.to_bits());
            }
        }
    }

    fn bits32(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }
}
