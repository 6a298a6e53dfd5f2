//! A 16-lane AVX-512 twin of [`super::avx`] (and of the 8-lane [`super::avx_simd`]): the same
//! operations, in the same order, on `__m512`.
//!
//! AVX-512 compares give bit masks rather than all-ones lanes, so where the 8-lane code ANDs with
//! a compare result this code zeroes the other lanes with a masked move: the same values (a lane
//! is either the operand or `+0.0`), hence the same bits. Tests compare with the scalar twin on
//! every input the generator can produce.

#[cfg(target_arch = "x86_64")]
use crate::simd::u24::u24_16;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, __m512, __m512i, _mm256_loadu_ps, _mm256_storeu_ps, _mm512_add_epi32, _mm512_add_ps,
    _mm512_and_si512, _mm512_andnot_si512, _mm512_castps256_ps512, _mm512_castps512_ps256,
    _mm512_castps_si512, _mm512_castsi512_ps, _mm512_cmp_ps_mask, _mm512_cmpeq_epi32_mask,
    _mm512_cvtepi32_ps, _mm512_cvttps_epi32, _mm512_extractf32x8_ps, _mm512_fmadd_ps,
    _mm512_fmsub_ps, _mm512_fnmadd_ps, _mm512_insertf32x8, _mm512_mask_mov_ps, _mm512_mask_sub_ps,
    _mm512_maskz_mov_ps, _mm512_max_ps, _mm512_mul_ps, _mm512_or_si512, _mm512_set1_epi32,
    _mm512_set1_ps, _mm512_setzero_ps, _mm512_setzero_si512, _mm512_slli_epi32, _mm512_sqrt_ps,
    _mm512_srli_epi32, _mm512_sub_epi32, _mm512_sub_ps, _mm512_xor_si512, _CMP_LE_OS, _CMP_LT_OS,
};

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn f(bits: u32) -> __m512 {
    _mm512_castsi512_ps(_mm512_set1_epi32(bits as i32))
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn or_ps(a: __m512, b: __m512) -> __m512 {
    _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(a),
        _mm512_castps_si512(b),
    ))
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn and_ps(a: __m512, b: __m512) -> __m512 {
    _mm512_castsi512_ps(_mm512_and_si512(
        _mm512_castps_si512(a),
        _mm512_castps_si512(b),
    ))
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn xor_ps(a: __m512, b: __m512) -> __m512 {
    _mm512_castsi512_ps(_mm512_xor_si512(
        _mm512_castps_si512(a),
        _mm512_castps_si512(b),
    ))
}

/// 16-lane `log_ps`. Without `ANY` the lanes must lie in `[2^-24, 1]` (as `1 - u` of a uniform
/// does), where the clamp to the smallest normal and the invalid-input mask change nothing and are
/// skipped.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn log16<const ANY: bool>(x: __m512) -> __m512 {
    let one = _mm512_set1_ps(1.0);
    let invalid = if ANY {
        _mm512_cmp_ps_mask::<_CMP_LE_OS>(x, _mm512_set1_ps(0.0))
    } else {
        0
    };
    let x = if ANY {
        _mm512_max_ps(x, f(0x0080_0000))
    } else {
        x
    };
    let imm0 = _mm512_srli_epi32::<23>(_mm512_castps_si512(x));
    let x = and_ps(x, f(0x807f_ffff));
    let x = or_ps(x, _mm512_set1_ps(0.5));
    let imm0 = _mm512_sub_epi32(imm0, _mm512_set1_epi32(0x7f));
    let e = _mm512_add_ps(_mm512_cvtepi32_ps(imm0), one);
    let mask = _mm512_cmp_ps_mask::<_CMP_LT_OS>(x, f(0x3f35_04f3));
    let tmp = _mm512_maskz_mov_ps(mask, x);
    let x = _mm512_sub_ps(x, one);
    // e - (one & mask): e - 1 in the masked lanes, e - 0 (= e) elsewhere.
    let e = _mm512_mask_sub_ps(e, mask, e, one);
    let x = _mm512_add_ps(x, tmp);
    let z = _mm512_mul_ps(x, x);
    let mut y = f(0x3d90_21bb);
    for p in [
        0xbdeb_d1b8,
        0x3def_251a,
        0xbdfe_5d4f,
        0x3e11_e9bf,
        0xbe2a_ae50,
        0x3e4c_ceac,
        0xbe7f_fffc,
        0x3eaa_aaaa,
    ] {
        y = _mm512_fmadd_ps(y, x, f(p));
    }
    y = _mm512_mul_ps(y, x);
    y = _mm512_fmadd_ps(y, z, _mm512_mul_ps(e, f(0xb95e_8083)));
    y = _mm512_fnmadd_ps(z, _mm512_set1_ps(0.5), y);
    let r = _mm512_add_ps(x, y);
    let r = _mm512_fmadd_ps(e, f(0x3f31_8000), r);
    // OR-ing all ones into the invalid lanes gives 0xffffffff there.
    if ANY {
        _mm512_mask_mov_ps(r, invalid, f(0xffff_ffff))
    } else {
        r
    }
}

/// 16-lane `sincos_ps`: `(sin, cos)`. Without `ANY` the lanes must have their sign bit clear
/// (as `2π u` of a uniform does), so that taking the sign and the absolute value is skipped.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f")]
fn sincos16<const ANY: bool>(x: __m512) -> (__m512, __m512) {
    let sign_mask = f(0x8000_0000);
    let (mut sign_sin, a) = if ANY {
        let abs = _mm512_andnot_si512(_mm512_castps_si512(sign_mask), _mm512_castps_si512(x));
        (and_ps(x, sign_mask), _mm512_castsi512_ps(abs))
    } else {
        (_mm512_setzero_ps(), x)
    };
    let j: __m512i = _mm512_cvttps_epi32(_mm512_mul_ps(a, f(0x3fa2_f983)));
    let j = _mm512_add_epi32(j, _mm512_set1_epi32(1));
    let j = _mm512_and_si512(j, _mm512_set1_epi32(!1));
    let y = _mm512_cvtepi32_ps(j);
    let swap = _mm512_slli_epi32::<29>(_mm512_and_si512(j, _mm512_set1_epi32(4)));
    let poly_first = _mm512_cmpeq_epi32_mask(
        _mm512_and_si512(j, _mm512_set1_epi32(2)),
        _mm512_setzero_si512(),
    );
    let mut a = _mm512_fmadd_ps(y, f(0xbf49_0000), a);
    a = _mm512_fmadd_ps(y, f(0xb97d_a000), a);
    a = _mm512_fmadd_ps(y, f(0xb322_2169), a);
    let sign_cos = _mm512_castsi512_ps(_mm512_slli_epi32::<29>(_mm512_andnot_si512(
        _mm512_sub_epi32(j, _mm512_set1_epi32(2)),
        _mm512_set1_epi32(4),
    )));
    sign_sin = xor_ps(sign_sin, _mm512_castsi512_ps(swap));
    let z = _mm512_mul_ps(a, a);
    let mut pc = _mm512_fmadd_ps(f(0x37cc_f5ce), z, f(0xbab6_061a));
    pc = _mm512_fmadd_ps(pc, z, f(0x3d2a_aaa5));
    pc = _mm512_mul_ps(z, pc);
    pc = _mm512_fmsub_ps(z, pc, _mm512_mul_ps(z, _mm512_set1_ps(0.5)));
    pc = _mm512_add_ps(pc, _mm512_set1_ps(1.0));
    let mut ps = _mm512_fmadd_ps(f(0xb94c_a1f9), z, f(0x3c08_839e));
    ps = _mm512_fmadd_ps(ps, z, f(0xbe2a_aaa3));
    ps = _mm512_mul_ps(z, ps);
    ps = _mm512_fmadd_ps(a, ps, a);
    let sel_s = _mm512_maskz_mov_ps(poly_first, ps);
    let sel_c = _mm512_maskz_mov_ps(!poly_first, pc);
    let sin_r = _mm512_add_ps(sel_c, sel_s);
    let cos_r = _mm512_add_ps(_mm512_sub_ps(ps, sel_s), _mm512_sub_ps(pc, sel_c));
    (xor_ps(sin_r, sign_sin), xor_ps(cos_r, sign_cos))
}

/// `normal_fill_16_AVX2`'s transform on 16 lanes: the uniforms `lo` (of `u1 = 1 - lo`) and `hi`
/// (of `theta = 2π hi`) of the same lanes give `(radius cos theta, radius sin theta)` times `std`
/// plus `mean`. Without `ANY`, `lo` and `hi` must be uniforms in `[0, 1)` (see [`log16`] and
/// [`sincos16`]).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,fma")]
fn box_muller16<const ANY: bool>(
    lo: __m512,
    hi: __m512,
    mean: __m512,
    std: __m512,
) -> (__m512, __m512) {
    let u1 = _mm512_sub_ps(_mm512_set1_ps(1.0), lo);
    let radius = _mm512_sqrt_ps(_mm512_mul_ps(_mm512_set1_ps(-2.0), log16::<ANY>(u1)));
    let theta = _mm512_mul_ps(f(0x40c9_0fdb), hi);
    let (s, c) = sincos16::<ANY>(theta);
    (
        _mm512_fmadd_ps(_mm512_mul_ps(radius, c), std, mean),
        _mm512_fmadd_ps(_mm512_mul_ps(radius, s), std, mean),
    )
}

/// Two 8-float halves as one 16-lane vector (`lo` in lanes 0..8).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx512f,avx512dq")]
fn join(lo: __m256, hi: __m256) -> __m512 {
    _mm512_insertf32x8::<1>(_mm512_castps256_ps512(lo), hi)
}

/// The AVX2 kernel's Box–Muller transform (`normal_fill_16_AVX2`) on every block of 16 in `d`
/// (`d.len()` a multiple of 16), two blocks at a time in 16 lanes. Returns `false` (doing
/// nothing) where the host lacks AVX-512; callers then take another route.
pub(crate) fn normal_blocks(d: &mut [f32], mean: f32, std: f32) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::Lanes::Avx512.supported() {
            // SAFETY: AVX-512F/DQ (and AVX2, FMA) were detected just above.
            unsafe { normal_blocks_avx512(d, mean, std) };
            return true;
        }
    }
    let _ = (d, mean, std);
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
unsafe fn normal_blocks_avx512(d: &mut [f32], mean: f32, std: f32) {
    let mean_v = _mm512_set1_ps(mean);
    let std_v = _mm512_set1_ps(std);
    let mut pairs = d.chunks_exact_mut(32);
    for blk in &mut pairs {
        let p = blk.as_mut_ptr();
        // SAFETY: `blk` holds 32 floats; the 8-float loads at 0, 8, 16 and 24 are in bounds.
        let (lo, hi) = unsafe {
            (
                join(_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(16))),
                join(_mm256_loadu_ps(p.add(8)), _mm256_loadu_ps(p.add(24))),
            )
        };
        let (n1, n2) = box_muller16::<true>(lo, hi, mean_v, std_v);
        // SAFETY: as for the loads.
        unsafe {
            _mm256_storeu_ps(p, _mm512_castps512_ps256(n1));
            _mm256_storeu_ps(p.add(16), _mm512_extractf32x8_ps::<1>(n1));
            _mm256_storeu_ps(p.add(8), _mm512_castps512_ps256(n2));
            _mm256_storeu_ps(p.add(24), _mm512_extractf32x8_ps::<1>(n2));
        }
    }
    let rest = pairs.into_remainder();
    if !rest.is_empty() {
        // One block of 16 left: the 8-lane route has the same bits.
        if !super::avx_simd::normal_blocks(rest, mean, std) {
            unreachable!("AVX-512 hosts have AVX2 and FMA");
        }
    }
}

/// [`normal_blocks`] on uniforms still in word form: `out[i]` is the transform's value for the
/// uniform `(words[i] & 0xffffff) · 2^-24` (what [`crate::distributions`]' `uniform01_f32` would
/// have stored there first), computed without that pass. `out.len()` is a multiple of 16 and
/// `words` at least as long. Returns `false` (doing nothing) where the host lacks AVX-512.
pub(crate) fn normal_blocks_from_words(
    words: &[u32],
    out: &mut [f32],
    mean: f32,
    std: f32,
) -> bool {
    debug_assert!(out.len().is_multiple_of(16) && words.len() >= out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if crate::simd::Lanes::Avx512.supported() {
            // SAFETY: AVX-512F/DQ (and AVX2, FMA) were detected just above.
            unsafe { normal_blocks_from_words_avx512(words, out, mean, std) };
            return true;
        }
    }
    let _ = (words, out, mean, std);
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
unsafe fn normal_blocks_from_words_avx512(words: &[u32], out: &mut [f32], mean: f32, std: f32) {
    use std::arch::x86_64::{_mm512_loadu_si512, _mm512_shuffle_f32x4, _mm512_storeu_ps};
    let mean_v = _mm512_set1_ps(mean);
    let std_v = _mm512_set1_ps(std);
    let pairs = out.len() / 32 * 32;
    let (w, o) = (words.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    while i < pairs {
        // SAFETY: `i + 32 <= out.len() <= words.len()`.
        let (b0, b1) = unsafe {
            (
                u24_16(_mm512_loadu_si512(w.add(i).cast()), 0x00ff_ffff, 0),
                u24_16(_mm512_loadu_si512(w.add(i + 16).cast()), 0x00ff_ffff, 0),
            )
        };
        // Lanes 0..8 of each block pair with lanes 8..16: as `join` of the halves.
        let lo = _mm512_shuffle_f32x4::<0b01_00_01_00>(b0, b1);
        let hi = _mm512_shuffle_f32x4::<0b11_10_11_10>(b0, b1);
        // `u1` in [2^-24, 1] and `theta` in [0, 2π): the kernels' shortcuts for those ranges.
        let (n1, n2) = box_muller16::<false>(lo, hi, mean_v, std_v);
        // SAFETY: as for the loads.
        unsafe {
            _mm512_storeu_ps(o.add(i), _mm512_shuffle_f32x4::<0b01_00_01_00>(n1, n2));
            _mm512_storeu_ps(o.add(i + 16), _mm512_shuffle_f32x4::<0b11_10_11_10>(n1, n2));
        }
        i += 32;
    }
    if pairs < out.len() {
        // One block of 16 left.
        let mut v = [0f32; 16];
        for (x, &wd) in v.iter_mut().zip(&words[pairs..pairs + 16]) {
            *x = (wd & 0x00ff_ffff) as f32 * f32::from_bits(0x3380_0000);
        }
        if !super::avx_simd::normal_blocks(&mut v, mean, std) {
            unreachable!("AVX-512 hosts have AVX2 and FMA");
        }
        out[pairs..].copy_from_slice(&v);
    }
}

/// Runs [`log16`] and [`sincos16`] on 16 lanes (test access).
#[cfg(all(test, target_arch = "x86_64"))]
fn lanes(x: [f32; 16]) -> ([f32; 16], [f32; 16], [f32; 16]) {
    assert!(crate::simd::Lanes::Avx512.supported());
    // SAFETY: AVX-512 was checked; loads and stores are of 16-float arrays.
    unsafe { lanes_avx512(x) }
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx512f")]
unsafe fn lanes_avx512(x: [f32; 16]) -> ([f32; 16], [f32; 16], [f32; 16]) {
    use std::arch::x86_64::{_mm512_loadu_ps, _mm512_storeu_ps};
    // SAFETY: loads and stores of 16-float arrays.
    let v = unsafe { _mm512_loadu_ps(x.as_ptr()) };
    let (s, c) = sincos16::<true>(v);
    let l = log16::<true>(v);
    let mut out = ([0f32; 16], [0f32; 16], [0f32; 16]);
    // SAFETY: as above.
    unsafe {
        _mm512_storeu_ps(out.0.as_mut_ptr(), l);
        _mm512_storeu_ps(out.1.as_mut_ptr(), s);
        _mm512_storeu_ps(out.2.as_mut_ptr(), c);
    }
    out
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::super::avx::{log_ps, sincos_ps};
    use super::*;

    /// The transform straight from words equals the uniforms pass then [`normal_blocks`], for
    /// every 24-bit value a word can carry (whatever its high byte), in pairs of blocks and in a
    /// last single block.
    #[test]
    fn from_words_equals_uniforms_then_blocks_on_every_word() {
        if crate::simd::Lanes::Avx512.supported() {
            crate::math::check_from_words(
                normal_blocks,
                normal_blocks_from_words,
                &[(1 << 14, (0.3, 1.7)), (48, (-1.0, 0.5))],
            );
        }
    }

    /// Every input the normal kernel can feed them (`u1 = 1 - k 2^-24`, `theta = 2π_f k 2^-24`,
    /// `k < 2^24`), plus edge values.
    #[test]
    fn sixteen_lanes_equal_the_scalar_twin_on_every_generator_input() {
        if !crate::simd::Lanes::Avx512.supported() {
            return;
        }
        let two_pi = f32::from_bits(0x40c9_0fdb);
        let scale = 1.0 / 16_777_216.0f32;
        let mut k = 0u32;
        while k < 1 << 24 {
            let mut u1 = [0f32; 16];
            let mut th = [0f32; 16];
            for i in 0..16 {
                let x = (k + i as u32) as f32 * scale;
                u1[i] = 1.0 - x;
                th[i] = two_pi * x;
            }
            let (l, _, _) = lanes(u1);
            let (_, s, c) = lanes(th);
            for i in 0..16 {
                assert_eq!(l[i].to_bits(), log_ps(u1[i]).to_bits(), "log {}", u1[i]);
                let (ss, cc) = sincos_ps(th[i]);
                assert_eq!(s[i].to_bits(), ss.to_bits(), "sin {}", th[i]);
                assert_eq!(c[i].to_bits(), cc.to_bits(), "cos {}", th[i]);
            }
            k += 16;
        }
        let edge = [
            0.0,
            -0.0,
            -1.0,
            f32::MIN_POSITIVE / 2.0,
            1e-30,
            3.0,
            -7.5,
            100.0,
            1.0,
            0.5,
            -1e-40,
            1e5,
            2.5e6,
            6.0,
            std::f32::consts::FRAC_PI_4,
            -3.0,
        ];
        let (l, s, c) = lanes(edge);
        for i in 0..16 {
            assert_eq!(l[i].to_bits(), log_ps(edge[i]).to_bits(), "log {}", edge[i]);
            let (ss, cc) = sincos_ps(edge[i]);
            assert_eq!(
                (s[i].to_bits(), c[i].to_bits()),
                (ss.to_bits(), cc.to_bits()),
                "{}",
                edge[i]
            );
        }
    }
}
