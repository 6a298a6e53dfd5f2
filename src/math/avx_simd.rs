//! An 8-lane AVX2 twin of [`super::avx`]: the same floating-point operations, in the same order,
//! on `__m256` (the exponent of `log` is summed as an integer, exactly, and the steps for inputs
//! the normal kernel never passes are skipped there).
//!
//! This is a faster route only: every lane computes exactly what [`super::avx::log_ps`] and
//! [`super::avx::sincos_ps`] compute (tests compare the two on every input the generator can
//! produce). It is used only when the host CPU reports AVX2 and FMA at run time.

#[cfg(target_arch = "x86_64")]
use super::avx::LOG_P;
#[cfg(target_arch = "x86_64")]
use crate::simd::u24::u24_8;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::_mm256_loadu_si256;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m256, _mm256_add_epi32, _mm256_add_ps, _mm256_and_ps, _mm256_and_si256, _mm256_andnot_ps,
    _mm256_andnot_si256, _mm256_castps_si256, _mm256_castsi256_ps, _mm256_cmp_ps,
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

/// `[f(x[0]), .., f(x[N - 1])]`: one operation on each of `N` independent vectors, written
/// next to each other so that the CPU overlaps their latencies (the lanes' bits do not depend on
/// `N`).
#[cfg(target_arch = "x86_64")]
macro_rules! each {
    ($n:expr, $zero:expr, |$k:ident| $e:expr) => {{
        let mut o = [$zero; $n];
        for $k in 0..$n {
            o[$k] = $e;
        }
        o
    }};
}

/// 8-lane `log_ps`, on `N` vectors at once. Without `ANY` every lane must lie in `[2^-24, 1]`
/// (as `1 - u` of a uniform does), where the clamp to the smallest normal and the invalid-input
/// mask change nothing and are skipped (as in [`super::avx512_simd`]).
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn log8<const N: usize, const ANY: bool>(x: [__m256; N]) -> [__m256; N] {
    let z0 = _mm256_setzero_ps();
    let i0 = _mm256_setzero_si256();
    let one = _mm256_set1_ps(1.0);
    let invalid = if ANY {
        each!(N, z0, |k| _mm256_cmp_ps::<_CMP_LE_OS>(x[k], z0))
    } else {
        [z0; N]
    };
    let x = if ANY {
        each!(N, z0, |k| _mm256_max_ps(x[k], f(0x0080_0000)))
    } else {
        x
    };
    let imm0 = each!(N, i0, |k| _mm256_srli_epi32::<23>(_mm256_castps_si256(
        x[k]
    )));
    let x = each!(N, z0, |k| _mm256_and_ps(x[k], f(0x807f_ffff)));
    let x = each!(N, z0, |k| _mm256_or_ps(x[k], _mm256_set1_ps(0.5)));
    let mask = each!(N, z0, |k| _mm256_cmp_ps::<_CMP_LT_OS>(x[k], f(0x3f35_04f3)));
    // The exponent `(imm0 - 127) + 1 - (mask ? 1 : 0)`, a small integer: summed as integers
    // (the mask is -1 where set) and converted once, it is the float the three float steps
    // give.
    let e = each!(N, z0, |k| _mm256_cvtepi32_ps(_mm256_add_epi32(
        _mm256_sub_epi32(imm0[k], _mm256_set1_epi32(0x7e)),
        _mm256_castps_si256(mask[k])
    )));
    let tmp = each!(N, z0, |k| _mm256_and_ps(x[k], mask[k]));
    let x = each!(N, z0, |k| _mm256_sub_ps(x[k], one));
    let x = each!(N, z0, |k| _mm256_add_ps(x[k], tmp[k]));
    let z = each!(N, z0, |k| _mm256_mul_ps(x[k], x[k]));
    let mut y = [_mm256_set1_ps(LOG_P[0]); N];
    for &p in &LOG_P[1..] {
        y = each!(N, z0, |k| _mm256_fmadd_ps(y[k], x[k], _mm256_set1_ps(p)));
    }
    let y = each!(N, z0, |k| _mm256_mul_ps(y[k], x[k]));
    let y = each!(N, z0, |k| _mm256_fmadd_ps(
        y[k],
        z[k],
        _mm256_mul_ps(e[k], f(0xb95e_8083))
    ));
    let y = each!(N, z0, |k| _mm256_fnmadd_ps(z[k], _mm256_set1_ps(0.5), y[k]));
    let r = each!(N, z0, |k| _mm256_add_ps(x[k], y[k]));
    let r = each!(N, z0, |k| _mm256_fmadd_ps(e[k], f(0x3f31_8000), r[k]));
    if ANY {
        each!(N, z0, |k| _mm256_or_ps(r[k], invalid[k]))
    } else {
        r
    }
}

/// 8-lane `sincos_ps`, on `N` vectors at once: `(sin, cos)`. Without `ANY` no lane may have its
/// sign bit set (as for `2π u` of a uniform), so that taking the sign and the absolute value is
/// skipped.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn sincos8<const N: usize, const ANY: bool>(x: [__m256; N]) -> ([__m256; N], [__m256; N]) {
    let z0 = _mm256_setzero_ps();
    let i0 = _mm256_setzero_si256();
    let sign_mask = f(0x8000_0000);
    let (sign_sin, a) = if ANY {
        (
            each!(N, z0, |k| _mm256_and_ps(x[k], sign_mask)),
            each!(N, z0, |k| _mm256_andnot_ps(sign_mask, x[k])),
        )
    } else {
        ([z0; N], x)
    };
    let j = each!(N, i0, |k| _mm256_cvttps_epi32(_mm256_mul_ps(
        a[k],
        f(0x3fa2_f983)
    )));
    let j = each!(N, i0, |k| _mm256_add_epi32(j[k], _mm256_set1_epi32(1)));
    let j = each!(N, i0, |k| _mm256_and_si256(j[k], _mm256_set1_epi32(!1)));
    let y = each!(N, z0, |k| _mm256_cvtepi32_ps(j[k]));
    let swap = each!(N, i0, |k| _mm256_slli_epi32::<29>(_mm256_and_si256(
        j[k],
        _mm256_set1_epi32(4)
    )));
    let poly_first = each!(N, z0, |k| _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_and_si256(j[k], _mm256_set1_epi32(2)),
        i0,
    )));
    let a = each!(N, z0, |k| _mm256_fmadd_ps(y[k], f(0xbf49_0000), a[k]));
    let a = each!(N, z0, |k| _mm256_fmadd_ps(y[k], f(0xb97d_a000), a[k]));
    let a = each!(N, z0, |k| _mm256_fmadd_ps(y[k], f(0xb322_2169), a[k]));
    let sign_cos = each!(N, z0, |k| _mm256_castsi256_ps(_mm256_slli_epi32::<29>(
        _mm256_andnot_si256(
            _mm256_sub_epi32(j[k], _mm256_set1_epi32(2)),
            _mm256_set1_epi32(4),
        )
    )));
    let sign_sin = if ANY {
        each!(N, z0, |k| _mm256_xor_ps(
            sign_sin[k],
            _mm256_castsi256_ps(swap[k])
        ))
    } else {
        each!(N, z0, |k| _mm256_castsi256_ps(swap[k]))
    };
    let z = each!(N, z0, |k| _mm256_mul_ps(a[k], a[k]));
    let pc = each!(N, z0, |k| _mm256_fmadd_ps(
        f(0x37cc_f5ce),
        z[k],
        f(0xbab6_061a)
    ));
    let pc = each!(N, z0, |k| _mm256_fmadd_ps(pc[k], z[k], f(0x3d2a_aaa5)));
    let pc = each!(N, z0, |k| _mm256_mul_ps(z[k], pc[k]));
    let pc = each!(N, z0, |k| _mm256_fmsub_ps(
        z[k],
        pc[k],
        _mm256_mul_ps(z[k], _mm256_set1_ps(0.5))
    ));
    let pc = each!(N, z0, |k| _mm256_add_ps(pc[k], _mm256_set1_ps(1.0)));
    let ps = each!(N, z0, |k| _mm256_fmadd_ps(
        f(0xb94c_a1f9),
        z[k],
        f(0x3c08_839e)
    ));
    let ps = each!(N, z0, |k| _mm256_fmadd_ps(ps[k], z[k], f(0xbe2a_aaa3)));
    let ps = each!(N, z0, |k| _mm256_mul_ps(z[k], ps[k]));
    let ps = each!(N, z0, |k| _mm256_fmadd_ps(a[k], ps[k], a[k]));
    let sel_s = each!(N, z0, |k| _mm256_and_ps(poly_first[k], ps[k]));
    let sel_c = each!(N, z0, |k| _mm256_andnot_ps(poly_first[k], pc[k]));
    let sin_r = each!(N, z0, |k| _mm256_add_ps(sel_c[k], sel_s[k]));
    let cos_r = each!(N, z0, |k| _mm256_add_ps(
        _mm256_sub_ps(ps[k], sel_s[k]),
        _mm256_sub_ps(pc[k], sel_c[k])
    ));
    (
        each!(N, z0, |k| _mm256_xor_ps(sin_r[k], sign_sin[k])),
        each!(N, z0, |k| _mm256_xor_ps(cos_r[k], sign_cos[k])),
    )
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
            unsafe { normal_blocks_from_words_avx2::<false>(words, out, mean, std) };
            return true;
        }
    }
    let _ = (words, out, mean, std);
    false
}

/// Blocks of 16 the normal kernels transform at once: their chains of dependent operations
/// interleaved, so that one block's latencies overlap the others' (on a Zen 3, `init` of GPT-2
/// 124M avx2 on one thread 277 → 235 ms and 295 → 272 ms against one block at a time, medians of
/// 11 alternating runs; 2 and 3 blocks were slower than 4, 6 and 8 no faster).
#[cfg(target_arch = "x86_64")]
const BLOCKS: usize = 4;

/// [`normal_blocks_from_words`] on the tempered values of untempered engine words `raw` (see
/// `Mt19937::raw_runs`; at least `out.len()`, a multiple of 16): the tempering is done in
/// registers, with no pass over a words buffer. Returns `false` (doing nothing) where the host
/// lacks AVX2 or FMA.
pub(crate) fn normal_blocks_from_raw(raw: &[u32], out: &mut [f32], mean: f32, std: f32) -> bool {
    debug_assert!(out.len().is_multiple_of(16) && raw.len() >= out.len());
    #[cfg(target_arch = "x86_64")]
    {
        if available() {
            // SAFETY: AVX2 and FMA were detected just above.
            unsafe { normal_blocks_from_words_avx2::<true>(raw, out, mean, std) };
            return true;
        }
    }
    let _ = (raw, out, mean, std);
    false
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn normal_blocks_from_words_avx2<const RAW: bool>(
    words: &[u32],
    out: &mut [f32],
    mean: f32,
    std: f32,
) {
    let mut i = 0;
    while i + 16 * BLOCKS <= out.len() {
        // SAFETY: `i + 16 * BLOCKS <= out.len() <= words.len()`.
        unsafe { from_words_at::<BLOCKS, RAW>(words, out, i, mean, std) };
        i += 16 * BLOCKS;
    }
    while i + 16 <= out.len() {
        // SAFETY: `i + 16 <= out.len() <= words.len()`.
        unsafe { from_words_at::<1, RAW>(words, out, i, mean, std) };
        i += 16;
    }
}

/// The normals of the `N` blocks of 16 at `i` from their words (`out[i..]` and `words[i..]` hold
/// at least `16 * N` elements), tempered first where `RAW`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn from_words_at<const N: usize, const RAW: bool>(
    words: &[u32],
    out: &mut [f32],
    i: usize,
    mean: f32,
    std: f32,
) {
    debug_assert!(i + 16 * N <= out.len() && out.len() <= words.len());
    let (w, o) = (words.as_ptr(), out.as_mut_ptr());
    let z0 = _mm256_setzero_ps();
    // SAFETY: the caller's bounds cover the 16 words of each block.
    let u = |j: usize| {
        // SAFETY: as above.
        let v = unsafe { _mm256_loadu_si256(w.add(j).cast()) };
        let v = if RAW {
            crate::engine::mt19937::temper8(v)
        } else {
            v
        };
        u24_8(v, 0x00ff_ffff, 0)
    };
    let lo = each!(N, z0, |k| u(i + 16 * k));
    let hi = each!(N, z0, |k| u(i + 16 * k + 8));
    let (n1, n2) = box_muller8(lo, hi, mean, std);
    for k in 0..N {
        // SAFETY: as for the loads.
        unsafe {
            _mm256_storeu_ps(o.add(i + 16 * k), n1[k]);
            _mm256_storeu_ps(o.add(i + 16 * k + 8), n2[k]);
        }
    }
}

/// The Box–Muller transform of `N` blocks at once: the normals of the uniforms `lo[k]`
/// (`u1 = 1 - lo`) and `hi[k]` (the angle), scaled by `std` and shifted by `mean`; block `k`'s
/// are `(.0[k], .1[k])`.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
fn box_muller8<const N: usize>(
    lo: [__m256; N],
    hi: [__m256; N],
    mean: f32,
    std: f32,
) -> ([__m256; N], [__m256; N]) {
    let z0 = _mm256_setzero_ps();
    let u1 = each!(N, z0, |k| _mm256_sub_ps(_mm256_set1_ps(1.0), lo[k]));
    // `u1` lies in `[2^-24, 1]` and `theta` is not negative, for every uniform in `[0, 1)`.
    let l = log8::<N, false>(u1);
    let radius = each!(N, z0, |k| _mm256_sqrt_ps(_mm256_mul_ps(
        _mm256_set1_ps(-2.0),
        l[k]
    )));
    let theta = each!(N, z0, |k| _mm256_mul_ps(f(0x40c9_0fdb), hi[k]));
    let (s, c) = sincos8::<N, false>(theta);
    let (std_v, mean_v) = (_mm256_set1_ps(std), _mm256_set1_ps(mean));
    (
        each!(N, z0, |k| _mm256_fmadd_ps(
            _mm256_mul_ps(radius[k], c[k]),
            std_v,
            mean_v
        )),
        each!(N, z0, |k| _mm256_fmadd_ps(
            _mm256_mul_ps(radius[k], s[k]),
            std_v,
            mean_v
        )),
    )
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn normal_blocks_avx2(d: &mut [f32], mean: f32, std: f32) {
    let mut many = d.chunks_exact_mut(16 * BLOCKS);
    for blk in &mut many {
        // SAFETY: `blk` holds exactly `16 * BLOCKS` floats.
        unsafe { blocks_at::<BLOCKS>(blk, mean, std) };
    }
    for blk in many.into_remainder().chunks_exact_mut(16) {
        // SAFETY: `blk` holds exactly 16 floats.
        unsafe { blocks_at::<1>(blk, mean, std) };
    }
}

/// The normals of the `N` blocks of 16 uniforms in `d` (at least `16 * N` floats), in place.
#[cfg(target_arch = "x86_64")]
#[inline]
#[target_feature(enable = "avx2,fma")]
unsafe fn blocks_at<const N: usize>(d: &mut [f32], mean: f32, std: f32) {
    debug_assert!(16 * N <= d.len());
    let p = d.as_mut_ptr();
    let z0 = _mm256_setzero_ps();
    // SAFETY: the caller's bound covers the 16 floats of each block (unaligned access is
    // allowed).
    let lo = each!(N, z0, |k| unsafe { _mm256_loadu_ps(p.add(16 * k)) });
    // SAFETY: as above.
    let hi = each!(N, z0, |k| unsafe { _mm256_loadu_ps(p.add(16 * k + 8)) });
    let (n1, n2) = box_muller8(lo, hi, mean, std);
    for k in 0..N {
        // SAFETY: as for the loads.
        unsafe {
            _mm256_storeu_ps(p.add(16 * k), n1[k]);
            _mm256_storeu_ps(p.add(16 * k + 8), n2[k]);
        }
    }
}

/// Runs [`log8`] and [`sincos8`] on 8 lanes (test access), for any input or only for the
/// generator's (`any`).
#[cfg(all(test, target_arch = "x86_64"))]
fn lanes(x: [f32; 8], any: bool) -> ([f32; 8], [f32; 8], [f32; 8]) {
    assert!(available());
    // SAFETY: AVX2 and FMA were checked; loads and stores are of 8-float arrays.
    unsafe {
        if any {
            lanes_avx2::<true>(x)
        } else {
            lanes_avx2::<false>(x)
        }
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
#[target_feature(enable = "avx2,fma")]
unsafe fn lanes_avx2<const ANY: bool>(x: [f32; 8]) -> ([f32; 8], [f32; 8], [f32; 8]) {
    // SAFETY: loads and stores of 8-float arrays.
    let v = unsafe { _mm256_loadu_ps(x.as_ptr()) };
    let (s, c) = sincos8::<1, ANY>([v]);
    let (s, c, l) = (s[0], c[0], log8::<1, ANY>([v])[0]);
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
            for any in [false, true] {
                let (l, _, _) = lanes(u1, any);
                let (_, s, c) = lanes(th, any);
                for i in 0..8 {
                    assert_eq!(l[i].to_bits(), log_ps(u1[i]).to_bits(), "log {}", u1[i]);
                    let (ss, cc) = sincos_ps(th[i]);
                    assert_eq!(s[i].to_bits(), ss.to_bits(), "sin {}", th[i]);
                    assert_eq!(c[i].to_bits(), cc.to_bits(), "cos {}", th[i]);
                }
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
        let (l, s, c) = lanes(edge, true);
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
    /// Blocks transformed [`BLOCKS`] at a time give the bits of one at a time, with and
    /// without the uniforms pass (`check_from_words` compares the two routes, both blocked).
    #[test]
    fn several_blocks_at_once_equal_one_at_a_time() {
        if !available() {
            return;
        }
        let n = 16 * (BLOCKS * 40 + 3);
        let words: Vec<u32> = (0..n as u32)
            .map(|i| i.wrapping_mul(0x9e37_79b9) ^ (i >> 3).wrapping_mul(0x85eb_ca6b))
            .collect();
        let (mean, std) = (0.25, 1.5);
        let mut whole = vec![0f32; n];
        assert!(normal_blocks_from_words(&words, &mut whole, mean, std));
        let mut uniforms: Vec<f32> = words
            .iter()
            .map(|&w| (w & 0x00ff_ffff) as f32 / 16_777_216.0)
            .collect();
        let mut one = uniforms.clone();
        assert!(normal_blocks(&mut uniforms, mean, std));
        let mut single = vec![0f32; n];
        for ((o, w), u) in single
            .chunks_exact_mut(16)
            .zip(words.chunks_exact(16))
            .zip(one.chunks_exact_mut(16))
        {
            assert!(normal_blocks_from_words(w, o, mean, std));
            assert!(normal_blocks(u, mean, std));
        }
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&whole), bits(&single));
        assert_eq!(bits(&uniforms), bits(&one));
        assert_eq!(bits(&whole), bits(&one));
    }

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
