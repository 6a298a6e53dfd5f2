//! An 8-lane AVX2 twin of [`super::avx`]: the same operations, in the same order, on `__m256`.
//!
//! This is a faster route only: every lane computes exactly what [`super::avx::log_ps`] and
//! [`super::avx::sincos_ps`] compute (tests compare the two on every input the generator can
//! produce). It is used only when the host CPU reports AVX2 and FMA at run time.

#[cfg(target_arch = "x86_64")]
use crate::simd::u24::u24_8;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::_mm256_loadu_si256;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, __m256i, _mm256_add_epi32, _mm256_add_ps, _mm256_and_ps, _mm256_and_si256,
    _mm256_andnot_ps, _mm256_andnot_si256, _mm256_castps_si256, _mm256_castsi256_ps, _mm256_cmp_ps,
    _mm256_cmpeq_epi32, _mm256_cvtepi32_ps, _mm256_cvttps_epi32, _mm256_fmadd_ps, _mm256_fmsub_ps,
    _mm256_fnmadd_ps, _mm256_loadu_ps, _mm256_max_ps, _mm256_mul_ps, _mm256_or_ps,
    _mm256_set1_epi32, _mm256_set1_ps, _mm256_setzero_ps, _mm256_setzero_si256, _mm256_slli_epi32,
    _mm256_sqrt_ps, _mm256_srli_epi32, _mm256_storeu_ps, _mm256_sub_epi32, _mm256_sub_ps,
    _mm256_xor_ps, _CMP_LE_OS, _CMP_LT_OS,
};

/// Whether the 8-lane route can run on this host.
#[must_use]
pub fn available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn f(bits: u32) -> __m256 {
    _mm256_castsi256_ps(_mm256_set1_epi32(bits as i32))
}

/// 8-lane `log_ps`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn log8(x: __m256) -> __m256 {
    {
        let one = _mm256_set1_ps(1.0);
        let invalid = _mm256_cmp_ps::<_CMP_LE_OS>(x, _mm256_setzero_ps());
        let x = _mm256_max_ps(x, f(0x0080_0000));
        let imm0 = _mm256_srli_epi32::<23>(_mm256_castps_si256(x));
        let x = _mm256_and_ps(x, f(0x807f_ffff));
        let x = _mm256_or_ps(x, _mm256_set1_ps(0.5));
        let imm0 = _mm256_sub_epi32(imm0, _mm256_set1_epi32(0x7f));
        let e = _mm256_add_ps(_mm256_cvtepi32_ps(imm0), one);
        let mask = _mm256_cmp_ps::<_CMP_LT_OS>(x, f(0x3f35_04f3));
        let tmp = _mm256_and_ps(x, mask);
        let x = _mm256_sub_ps(x, one);
        let e = _mm256_sub_ps(e, _mm256_and_ps(one, mask));
        let x = _mm256_add_ps(x, tmp);
        let z = _mm256_mul_ps(x, x);
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
            y = _mm256_fmadd_ps(y, x, f(p));
        }
        y = _mm256_mul_ps(y, x);
        y = _mm256_fmadd_ps(y, z, _mm256_mul_ps(e, f(0xb95e_8083)));
        y = _mm256_fnmadd_ps(z, _mm256_set1_ps(0.5), y);
        let r = _mm256_add_ps(x, y);
        let r = _mm256_fmadd_ps(e, f(0x3f31_8000), r);
        _mm256_or_ps(r, invalid)
    }
}

/// 8-lane `sincos_ps`: `(sin, cos)`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn sincos8(x: __m256) -> (__m256, __m256) {
    {
        let sign_mask = f(0x8000_0000);
        let mut sign_sin = _mm256_and_ps(x, sign_mask);
        let a = _mm256_andnot_ps(sign_mask, x);
        let j: __m256i = _mm256_cvttps_epi32(_mm256_mul_ps(a, f(0x3fa2_f983)));
        let j = _mm256_add_epi32(j, _mm256_set1_epi32(1));
        let j = _mm256_and_si256(j, _mm256_set1_epi32(!1));
        let y = _mm256_cvtepi32_ps(j);
        let swap = _mm256_slli_epi32::<29>(_mm256_and_si256(j, _mm256_set1_epi32(4)));
        let poly_first = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
            _mm256_and_si256(j, _mm256_set1_epi32(2)),
            _mm256_setzero_si256(),
        ));
        let mut a = _mm256_fmadd_ps(y, f(0xbf49_0000), a);
        a = _mm256_fmadd_ps(y, f(0xb97d_a000), a);
        a = _mm256_fmadd_ps(y, f(0xb322_2169), a);
        let sign_cos = _mm256_castsi256_ps(_mm256_slli_epi32::<29>(_mm256_andnot_si256(
            _mm256_sub_epi32(j, _mm256_set1_epi32(2)),
            _mm256_set1_epi32(4),
        )));
        sign_sin = _mm256_xor_ps(sign_sin, _mm256_castsi256_ps(swap));
        let z = _mm256_mul_ps(a, a);
        let mut pc = _mm256_fmadd_ps(f(0x37cc_f5ce), z, f(0xbab6_061a));
        pc = _mm256_fmadd_ps(pc, z, f(0x3d2a_aaa5));
        pc = _mm256_mul_ps(z, pc);
        pc = _mm256_fmsub_ps(z, pc, _mm256_mul_ps(z, _mm256_set1_ps(0.5)));
        pc = _mm256_add_ps(pc, _mm256_set1_ps(1.0));
        let mut ps = _mm256_fmadd_ps(f(0xb94c_a1f9), z, f(0x3c08_839e));
        ps = _mm256_fmadd_ps(ps, z, f(0xbe2a_aaa3));
        ps = _mm256_mul_ps(z, ps);
        ps = _mm256_fmadd_ps(a, ps, a);
        let sel_s = _mm256_and_ps(poly_first, ps);
        let sel_c = _mm256_andnot_ps(poly_first, pc);
        let sin_r = _mm256_add_ps(sel_c, sel_s);
        let cos_r = _mm256_add_ps(_mm256_sub_ps(ps, sel_s), _mm256_sub_ps(pc, sel_c));
        (
            _mm256_xor_ps(sin_r, sign_sin),
            _mm256_xor_ps(cos_r, sign_cos),
        )
    }
}

/// The AVX2 Box–Muller transform on every block of 16 in `d` (`d.len()` a multiple of 16), as
/// `normal_fill_16_AVX2` computes it. Returns `false` (doing nothing) where the host lacks AVX2 or
/// FMA; callers then take the scalar route.
pub(crate) fn normal_blocks(d: &mut [f32], mean: f32, std: f32) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if available() {
            // SAFETY: AVX2 and FMA were detected just above.
            unsafe { normal_blocks_avx2(d, mean, std) };
            return true;
        }
    }
    let _ = (d, mean, std);
    false
}

/// [`normal_blocks`] on the uniforms `(w & 0xffffff) · 2^-24` of `words` (at least `out.len()`,
/// a multiple of 16), in one pass: the same bits as converting the words first. Returns `false`
/// (doing nothing) where the host lacks AVX2 or FMA.
pub(crate) fn normal_blocks_from_words(
    words: &[u32],
    out: &mut [f32],
    mean: f32,
    std: f32,
) -> bool {
    debug_assert!(out.len().is_multiple_of(16) && words.len() >= out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if available() {
            // SAFETY: AVX2 and FMA were detected just above.
            unsafe { normal_blocks_from_words_avx2(words, out, mean, std) };
            return true;
        }
    }
    let _ = (words, out, mean, std);
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn normal_blocks_from_words_avx2(words: &[u32], out: &mut [f32], mean: f32, std: f32) {
    let (w, o) = (words.as_ptr(), out.as_mut_ptr());
    let mut i = 0;
    while i + 16 <= out.len() {
        // SAFETY: `i + 16 <= out.len() <= words.len()`.
        let (lo, hi) = unsafe {
            (
                u24_8(_mm256_loadu_si256(w.add(i).cast()), 0x00ff_ffff, 0),
                u24_8(_mm256_loadu_si256(w.add(i + 8).cast()), 0x00ff_ffff, 0),
            )
        };
        let (n1, n2) = box_muller8(lo, hi, mean, std);
        // SAFETY: as for the loads.
        unsafe {
            _mm256_storeu_ps(o.add(i), n1);
            _mm256_storeu_ps(o.add(i + 8), n2);
        }
        i += 16;
    }
}

/// One block's Box–Muller transform: the normals of the uniforms `lo` (`u1 = 1 - lo`) and `hi`
/// (the angle), scaled by `std` and shifted by `mean`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn box_muller8(lo: __m256, hi: __m256, mean: f32, std: f32) -> (__m256, __m256) {
    let u1 = _mm256_sub_ps(_mm256_set1_ps(1.0), lo);
    let radius = _mm256_sqrt_ps(_mm256_mul_ps(_mm256_set1_ps(-2.0), log8(u1)));
    let theta = _mm256_mul_ps(f(0x40c9_0fdb), hi);
    let (s, c) = sincos8(theta);
    let (std_v, mean_v) = (_mm256_set1_ps(std), _mm256_set1_ps(mean));
    (
        _mm256_fmadd_ps(_mm256_mul_ps(radius, c), std_v, mean_v),
        _mm256_fmadd_ps(_mm256_mul_ps(radius, s), std_v, mean_v),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn normal_blocks_avx2(d: &mut [f32], mean: f32, std: f32) {
    for blk in d.chunks_exact_mut(16) {
        let p = blk.as_mut_ptr();
        // SAFETY: `blk` holds exactly 16 floats, so the 8-float loads at offsets 0 and 8 are in
        // bounds (unaligned access is allowed).
        let (lo, hi) = unsafe { (_mm256_loadu_ps(p), _mm256_loadu_ps(p.add(8))) };
        let (n1, n2) = box_muller8(lo, hi, mean, std);
        // SAFETY: as for the loads.
        unsafe {
            _mm256_storeu_ps(p, n1);
            _mm256_storeu_ps(p.add(8), n2);
        }
    }
}

/// Runs [`log8`] and [`sincos8`] on 8 lanes (test access).
#[cfg(all(test, target_arch = "x86_64"))]
fn lanes(x: [f32; 8]) -> ([f32; 8], [f32; 8], [f32; 8]) {
    assert!(available());
    // SAFETY: AVX2 and FMA were checked; loads and stores are of 8-float arrays.
    unsafe { lanes_avx2(x) }
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn lanes_avx2(x: [f32; 8]) -> ([f32; 8], [f32; 8], [f32; 8]) {
    // SAFETY: loads and stores of 8-float arrays.
    let v = unsafe { _mm256_loadu_ps(x.as_ptr()) };
    let (s, c) = sincos8(v);
    let l = log8(v);
    let mut out = ([0f32; 8], [0f32; 8], [0f32; 8]);
    unsafe {
        _mm256_storeu_ps(out.0.as_mut_ptr(), l);
        _mm256_storeu_ps(out.1.as_mut_ptr(), s);
        _mm256_storeu_ps(out.2.as_mut_ptr(), c);
    }
    out
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::super::avx::{log_ps, sincos_ps};
    use super::*;

    /// Every input the normal kernel can feed them: u1 = 1 - k·2^-24 for log, theta = 2π_f·k·2^-24
    /// for sincos, k < 2^24; plus a few edge values.
    #[test]
    fn eight_lanes_equal_the_scalar_twin_on_every_generator_input() {
        if !available() {
            return;
        }
        let two_pi = f32::from_bits(0x40c9_0fdb);
        let scale = 1.0 / 16_777_216.0f32;
        let mut k = 0u32;
        while k < 1 << 24 {
            let mut u1 = [0f32; 8];
            let mut th = [0f32; 8];
            for i in 0..8 {
                let x = (k + i as u32) as f32 * scale;
                u1[i] = 1.0 - x;
                th[i] = two_pi * x;
            }
            let (l, _, _) = lanes(u1);
            let (_, s, c) = lanes(th);
            for i in 0..8 {
                assert_eq!(l[i].to_bits(), log_ps(u1[i]).to_bits(), "log {}", u1[i]);
                let (ss, cc) = sincos_ps(th[i]);
                assert_eq!(s[i].to_bits(), ss.to_bits(), "sin {}", th[i]);
                assert_eq!(c[i].to_bits(), cc.to_bits(), "cos {}", th[i]);
            }
            k += 8;
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
        ];
        let (l, s, c) = lanes(edge);
        for i in 0..8 {
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

    /// The transform straight from words equals the uniforms pass then [`normal_blocks`], for
    /// every 24-bit value a word can carry (whatever its high byte), in either half of a block.
    #[test]
    fn from_words_equals_uniforms_then_blocks_on_every_word() {
        if available() {
            crate::math::check_from_words(
                normal_blocks,
                normal_blocks_from_words,
                &[(1 << 14, (0.3, 1.7)), (48, (-1.0, 0.5))],
            );
        }
    }
}
