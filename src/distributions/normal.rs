//! `normal_` fill kernels (and so `randn`, `randn_like`, `torch.normal` with float arguments).
//!
//! Mirrors: `aten/src/ATen/native/cpu/DistributionTemplates.h` (`normal_kernel`, `normal_fill`,
//! `normal_fill_16`, `normal_fill_AVX2`, `normal_fill_16_AVX2`) and `at::normal_distribution<double>`
//! (`aten/src/ATen/core/DistributionsHelper.h`), PyTorch 2.0–2.15 (`NormalRule` says which
//! release does what).
//!
//! Two paths, chosen by the caller exactly as PyTorch chooses:
//!
//! * **Fill path** (contiguous and at least 16 elements). Box–Muller on blocks of 16, pairing lane
//!   `j` with lane `j + 8`. When the size is not a multiple of 16, PyTorch *recomputes the last 16*:
//!   it draws 16 fresh uniforms and overwrites the last 16 outputs, already transformed ones
//!   included. float32 draws every uniform first (n words) and then the 16 tail words; float16 and
//!   bfloat16 draw 16 words per block (16·⌈n/16⌉ words in all) since 2.12, and as float32 before;
//!   float64 as float32 with `random64`.
//! * **Per-element path** (fewer than 16 elements, or a non-contiguous target). Box–Muller in double
//!   with the generator's cached second sample, shared across calls and dtypes. The fill path
//!   neither reads nor clears that cache. It is the same in every release.

use half::{bf16, f16};

use super::transform::{affine_f32, affine_f64, u53};
use super::{routed, words, Cursor, Reduced, Route};
use crate::context::{Capability, NormalRule, ReducedNormal};
use crate::dtype::{f64_to_bf16, f64_to_f16};
use crate::generator::CpuGenerator;
use crate::math::{avx, glibc, libm};
use crate::simd::Lanes;

/// `2.0f * c10::pi<double>` rounded to float, as the AVX2 kernel broadcasts it (`0x40c90fdb`).
const TWO_PI_F32: f32 = f32::from_bits(0x40c9_0fdb);
/// `2.0 * pi` in double.
const TWO_PI_F64: f64 = 2.0 * std::f64::consts::PI;

/// Elements per fill-path chunk: a multiple of 16.
const CHUNK: usize = 1024;

/// One AVX2 Box–Muller block on 16 floats in place (`normal_fill_16_AVX2`).
#[inline(always)]
fn block_avx2(d: &mut [f32], mean: f32, std: f32) {
    let (lo, hi) = d.split_at_mut(8);
    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
        let u1 = 1.0 - *a;
        let theta = TWO_PI_F32 * *b;
        let radius = (-2.0 * avx::log_ps(u1)).sqrt();
        let (s, c) = avx::sincos_ps(theta);
        *a = (radius * c).mul_add(std, mean);
        *b = (radius * s).mul_add(std, mean);
    }
}

/// The default-build standard normals of one block in place (`normal_fill_16<float>` before mean
/// and std): glibc `logf`/`cosf`/`sinf` (our twins, FMA variant), theta formed in double.
#[inline(always)]
fn block_default_raw(d: &mut [f32]) {
    let (lo, hi) = d.split_at_mut(8);
    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
        let u1 = 1.0 - *a;
        let radius = libm::sqrtf(-2.0 * glibc::logf_impl::<true>(u1));
        let theta = (TWO_PI_F64 * f64::from(*b)) as f32;
        *a = radius * glibc::cosf_impl::<true>(theta);
        *b = radius * glibc::sinf_impl::<true>(theta);
    }
}

#[inline(always)]
fn blocks_default_raw_body(d: &mut [f32]) {
    for blk in d.chunks_exact_mut(16) {
        block_default_raw(blk);
    }
}

routed!(fn blocks_default_raw_scalar(d: &mut [f32]) => blocks_default_raw_body);

/// The default-build standard normals on every block of 16 in `d`: 8 lanes of double at a time
/// where the route has a vector twin (the same bits, see [`crate::math::glibc`]'s `simd`), else
/// block by block.
fn blocks_default_raw(route: Route, d: &mut [f32]) {
    if !glibc::simd::normal_raw_blocks(d, route.lanes()) {
        blocks_default_raw_scalar(route, d);
    }
}

/// `x * std + mean` on every element, one fused rounding (`FUSED`) or two.
#[inline(always)]
fn affine_all<const FUSED: bool>(d: &mut [f32], mean: f32, std: f32) {
    for x in d {
        *x = affine_f32::<FUSED>(*x, std, mean);
    }
}

#[inline(always)]
fn affine_all_fused(d: &mut [f32], mean: f32, std: f32) {
    affine_all::<true>(d, mean, std);
}

routed!(fn affine_all_fused_routed(d: &mut [f32], mean: f32, std: f32) => affine_all_fused);

/// The default-build blocks (`normal_fill_16<float>`): the raw blocks, then mean and std with one
/// fused rounding (`fused`, 2.13+) or two. Each block's values only depend on its own uniforms, so
/// transforming every block first and applying mean and std after gives the same bits.
fn blocks_default(route: Route, fused: bool, d: &mut [f32], mean: f32, std: f32) {
    blocks_default_raw(route, d);
    if fused {
        affine_all_fused_routed(route, d, mean, std);
    } else {
        affine_all::<false>(d, mean, std);
    }
}

#[inline(always)]
fn blocks_avx2(d: &mut [f32], mean: f32, std: f32) {
    for blk in d.chunks_exact_mut(16) {
        block_avx2(blk, mean, std);
    }
}

routed!(fn blocks_avx2_routed(d: &mut [f32], mean: f32, std: f32) => blocks_avx2);

/// One float64 block (`normal_fill_16<double>`): explicit `fma` in every build since 2.13; before,
/// only the AVX2 build contracts `radius * cos * std + mean`.
#[inline(always)]
fn block_f64<const FUSED: bool>(d: &mut [f64], mean: f64, std: f64) {
    let (lo, hi) = d.split_at_mut(8);
    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
        let u1 = 1.0 - *a;
        let radius = libm::sqrt(-2.0 * glibc::log_impl::<true>(u1));
        let theta = TWO_PI_F64 * *b;
        *a = affine_f64::<FUSED>(radius * glibc::cos_impl::<true>(theta), std, mean);
        *b = affine_f64::<FUSED>(radius * glibc::sin_impl::<true>(theta), std, mean);
    }
}

#[inline(always)]
fn blocks_f64_body<const FUSED: bool>(d: &mut [f64], mean: f64, std: f64) {
    for blk in d.chunks_exact_mut(16) {
        block_f64::<FUSED>(blk, mean, std);
    }
}

#[inline(always)]
fn blocks_f64_fused(d: &mut [f64], mean: f64, std: f64) {
    blocks_f64_body::<true>(d, mean, std);
}

#[inline(always)]
fn blocks_f64_unfused(d: &mut [f64], mean: f64, std: f64) {
    blocks_f64_body::<false>(d, mean, std);
}

routed!(fn blocks_f64_fused_routed(d: &mut [f64], mean: f64, std: f64) => blocks_f64_fused);
routed!(fn blocks_f64_unfused_routed(d: &mut [f64], mean: f64, std: f64) => blocks_f64_unfused);

#[inline(always)]
fn affine_all_f64<const FUSED: bool>(d: &mut [f64], mean: f64, std: f64) {
    for x in d {
        *x = affine_f64::<FUSED>(*x, std, mean);
    }
}

#[inline(always)]
fn affine_all_f64_fused(d: &mut [f64], mean: f64, std: f64) {
    affine_all_f64::<true>(d, mean, std);
}

routed!(fn affine_all_f64_fused_routed(d: &mut [f64], mean: f64, std: f64) => affine_all_f64_fused);

/// The float64 blocks: 4 or 8 lanes of the glibc twins where the route has them (the raw
/// standard normals, then mean and std), else block by block.
fn blocks_f64(route: Route, fused: bool, d: &mut [f64], mean: f64, std: f64) {
    if glibc::simd_f64::normal_raw_blocks(d, route.lanes()) {
        if fused {
            affine_all_f64_fused_routed(route, d, mean, std);
        } else {
            affine_all_f64::<false>(d, mean, std);
        }
    } else if fused {
        blocks_f64_fused_routed(route, d, mean, std);
    } else {
        blocks_f64_unfused_routed(route, d, mean, std);
    }
}

/// The float32 blocks of `cap` in `rule`'s release.
fn blocks_f32(cap: Capability, rule: NormalRule, route: Route, d: &mut [f32], mean: f32, std: f32) {
    if cap.fused() {
        // The 16- and 8-lane twins give the scalar route's bits (tested on every generator
        // input).
        let done = match route.lanes() {
            Lanes::Avx512 => crate::math::avx512_simd::normal_blocks(d, mean, std),
            Lanes::Avx2 => crate::math::avx_simd::normal_blocks(d, mean, std),
            Lanes::Scalar => false,
        };
        if !done {
            blocks_avx2_routed(route, d, mean, std);
        }
    } else {
        blocks_default(route, rule.default_fused, d, mean, std);
    }
}

/// Draws one uniform per element: the low `digits` bits of a `random()` word times 2^-digits
/// (24 for float32; 11 and 8 for the legacy float16/bfloat16 path). `words` is scratch of at
/// least `out.len()` words.
fn draw_uniform(
    g: &mut CpuGenerator,
    words: &mut [u32],
    out: &mut [f32],
    digits: u32,
    route: Route,
) {
    let w = &mut words[..out.len()];
    g.fill_u32(w);
    words::uniform01_f32(w, out, digits, route.lanes());
}

/// Draws one float64 uniform per element from `random64()` (two words, high first). `words` is
/// scratch of at least `2 * out.len()` words.
fn draw_uniform_f64(g: &mut CpuGenerator, words: &mut [u32], out: &mut [f64], route: Route) {
    let w = &mut words[..2 * out.len()];
    g.fill_u32(w);
    words::uniform01_f64(w, out, route.lanes());
}

/// Where the fill path of `n >= 16` elements reads its words: block `k` (elements `16k ..
/// 16k + 16`) reads words `16k·w ..` (`w` words per uniform: 2 for float64), and when `n` is not
/// a multiple of 16 the recomputed last 16 elements read `16·w` words from [`Layout::tail_at`]:
/// after every element's uniform (`draw_all_first`: float32, float64, the legacy float16/bfloat16
/// path) or right after the last whole block (float16/bfloat16 since 2.12).
///
/// Every element's value depends only on the words its block (or the tail) reads, so any range
/// of elements can be computed from a generator positioned at its first block: what the
/// parallel fills and sharded init do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Elements.
    pub(crate) n: usize,
    /// Words per uniform.
    pub(crate) w: u64,
    /// Whether every element draws its uniform before the tail is recomputed.
    pub(crate) draw_all_first: bool,
}

impl Layout {
    /// Elements in whole blocks.
    fn full(self) -> usize {
        self.n / 16 * 16
    }

    /// Elements the blocks keep (the rest come from the tail).
    pub(crate) fn kept(self) -> usize {
        if self.full() == self.n {
            self.n
        } else {
            self.n - 16
        }
    }

    /// The first word of the tail's 16 uniforms.
    fn tail_at(self) -> u64 {
        let first = if self.draw_all_first {
            self.n
        } else {
            self.full()
        };
        first as u64 * self.w
    }

    /// The first word that computing elements from `a` on reads (see [`fill_range`]): its
    /// block's, or the tail's for the tail's elements.
    pub(crate) fn first_word(self, a: usize) -> u64 {
        if a < self.kept() {
            (a / 16 * 16) as u64 * self.w
        } else {
            self.tail_at()
        }
    }

    /// The words the whole fill draws.
    pub(crate) fn words(self) -> u64 {
        if self.full() == self.n {
            self.n as u64 * self.w
        } else {
            self.tail_at() + 16 * self.w
        }
    }
}

/// Draws a chunk's words (into the scratch) and computes its values: see [`fill_range`].
type Compute<'a, V> = dyn Fn(&mut CpuGenerator, &mut [u32], &mut [V]) + 'a;

/// Elements `a .. a + out.len()` of a fill path of layout `lay`, from a generator positioned at
/// or before their first block.
///
/// `compute` draws `v.len()` uniforms' words (into its scratch, at least `2 * v.len()` words) and
/// turns them into the blocks' values in `v`; `store` writes values into the output type. `direct`
/// gives the output itself as values where the fill may compute in place (the same type): whole
/// chunks inside the range are then computed right where they belong, the others through a stack
/// buffer. Blocks outside the range are never computed.
fn fill_range<V: Copy + Default, T>(
    cur: &mut Cursor<'_>,
    lay: Layout,
    a: usize,
    out: &mut [T],
    compute: &Compute<'_, V>,
    store: &dyn Fn(&[V], &mut [T]),
    direct: &dyn Fn(&mut [T]) -> Option<&mut [V]>,
) {
    let b = a + out.len();
    debug_assert!(lay.n >= 16 && b <= lay.n);
    let kept = lay.kept();
    let mut buf = [V::default(); CHUNK];
    let mut scratch = [0u32; 2 * CHUNK + words::APART];
    if a < kept {
        let e = b.min(kept);
        let (first, last) = (a / 16 * 16, e.div_ceil(16) * 16);
        cur.seek(lay.first_word(a));
        let mut c0 = first;
        while c0 < last {
            let c1 = (c0 + CHUNK).min(last);
            let g = cur.take((c1 - c0) as u64 * lay.w);
            let (lo, hi) = (a.max(c0), e.min(c1));
            let whole = (lo, hi) == (c0, c1);
            if let Some(v) = direct(&mut out[lo - a..hi - a]).filter(|_| whole) {
                compute(
                    g,
                    words::apart(&mut scratch, 2 * CHUNK, v.as_ptr().cast()),
                    v,
                );
            } else {
                let v = &mut buf[..c1 - c0];
                compute(
                    g,
                    words::apart(&mut scratch, 2 * CHUNK, v.as_ptr().cast()),
                    v,
                );
                store(&v[lo - c0..hi - c0], &mut out[lo - a..hi - a]);
            }
            c0 = c1;
        }
    }
    if lay.full() != lay.n && b > lay.n - 16 {
        let t0 = lay.n - 16;
        cur.seek(lay.first_word(t0));
        let v = &mut buf[..16];
        compute(
            cur.take(16 * lay.w),
            words::apart(&mut scratch, 2 * CHUNK, v.as_ptr().cast()),
            v,
        );
        let lo = a.max(t0);
        store(&v[lo - t0..b - t0], &mut out[lo - a..]);
    }
}

/// The float32 fill-path layout of `n` elements (`n + (n % 16 != 0 ? 16 : 0)` words).
pub(crate) fn layout_f32(n: usize) -> Layout {
    Layout {
        n,
        w: 1,
        draw_all_first: true,
    }
}

/// The float64 fill-path layout: twice the words of [`layout_f32`].
pub(crate) fn layout_f64(n: usize) -> Layout {
    Layout {
        n,
        w: 2,
        draw_all_first: true,
    }
}

/// The float16/bfloat16 fill-path layout in `rule`'s release: as float32 before 2.12
/// (`n + (n % 16 != 0 ? 16 : 0)` words), `16 * ceil(n / 16)` since (16 fresh words per block).
pub(crate) fn layout_reduced(n: usize, reduced: ReducedNormal) -> Layout {
    Layout {
        n,
        w: 1,
        draw_all_first: matches!(reduced, ReducedNormal::Legacy { .. }),
    }
}

/// Elements `a ..` of a float32 fill path of `n` elements (`n >= 16`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_range_f32(
    cur: &mut Cursor<'_>,
    n: usize,
    a: usize,
    out: &mut [f32],
    (mean, std): (f64, f64),
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let (mean, std) = (mean as f32, std as f32);
    let lanes = route.lanes();
    // The avx2 variant's transform reads the words itself (no uniforms pass) on the 16- and
    // 8-lane routes. Non-temporal stores were measured slower here than computing in place,
    // whatever the size.
    let fused_words = cap.fused() && lanes != Lanes::Scalar;
    fill_range(
        cur,
        layout_f32(n),
        a,
        out,
        &|g, w, v| {
            if fused_words && lanes == Lanes::Avx2 {
                from_raw_runs(g, v, mean, std);
                return;
            }
            if fused_words {
                let w = &mut w[..v.len()];
                g.fill_u32(w);
                let done = match lanes {
                    Lanes::Avx512 => {
                        crate::math::avx512_simd::normal_blocks_from_words(w, v, mean, std)
                    }
                    _ => crate::math::avx_simd::normal_blocks_from_words(w, v, mean, std),
                };
                if done {
                    return;
                }
                words::uniform01_f32(w, v, 24, lanes);
            } else {
                draw_uniform(g, w, v, 24, route);
            }
            blocks_f32(cap, rule, route, v, mean, std);
        },
        &|v, o| o.copy_from_slice(v),
        &|o| Some(o),
    );
}

/// The avx2 variant's normals of blocks `v` (a multiple of 16 elements) on the 8-lane route,
/// tempering the engine's words in registers, straight from its state (no words buffer): the
/// whole blocks within a run of the state are transformed from the run itself; a block that a
/// twist splits is gathered, tempered, first. In place on a Zen 3 (criterion, 2^24 floats, three
/// alternating pairs): 21.4 / 27.7 / 21.8 → 19.2 / 24.9 / 21.4 ms.
fn from_raw_runs(g: &mut CpuGenerator, v: &mut [f32], mean: f32, std: f32) {
    use crate::engine::mt19937::temper;
    use crate::math::avx_simd::{normal_blocks_from_raw, normal_blocks_from_words};
    debug_assert!(v.len().is_multiple_of(16));
    let mut pend = [0u32; 16];
    let mut k = 0;
    g.raw_runs(v.len(), Lanes::Avx2, |raw, at| {
        let mut i = 0;
        if k > 0 {
            let t = (16 - k).min(raw.len());
            for (p, &w) in pend[k..k + t].iter_mut().zip(raw) {
                *p = temper(w);
            }
            (k, i) = (k + t, t);
            if k < 16 {
                return;
            }
            let b = at + i - 16;
            let done = normal_blocks_from_words(&pend, &mut v[b..b + 16], mean, std);
            debug_assert!(done, "Lanes::Avx2 implies AVX2 and FMA");
            k = 0;
        }
        let whole = (raw.len() - i) / 16 * 16;
        let done = normal_blocks_from_raw(
            &raw[i..i + whole],
            &mut v[at + i..at + i + whole],
            mean,
            std,
        );
        debug_assert!(done, "Lanes::Avx2 implies AVX2 and FMA");
        i += whole;
        for (p, &w) in pend.iter_mut().zip(&raw[i..]) {
            *p = temper(w);
        }
        k = raw.len() - i;
    });
    debug_assert_eq!(k, 0);
}

/// The float32 fill path (`out.len() >= 16`). Consumes `n + (n % 16 != 0 ? 16 : 0)` words.
pub(crate) fn fill_f32(
    g: &mut CpuGenerator,
    out: &mut [f32],
    mean: f64,
    std: f64,
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let n = out.len();
    let mut cur = Cursor::new(g);
    fill_range_f32(&mut cur, n, 0, out, (mean, std), cap, rule, route);
    cur.seek(layout_f32(n).words());
}

/// Elements `a ..` of a float64 fill path of `n` elements (`n >= 16`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_range_f64(
    cur: &mut Cursor<'_>,
    n: usize,
    a: usize,
    out: &mut [f64],
    (mean, std): (f64, f64),
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let fused = cap.fused() || rule.default_fused;
    fill_range(
        cur,
        layout_f64(n),
        a,
        out,
        &|g, w, v| {
            draw_uniform_f64(g, w, v, route);
            blocks_f64(route, fused, v, mean, std);
        },
        &|v, o| o.copy_from_slice(v),
        &|o| Some(o),
    );
}

/// The float64 fill path (`out.len() >= 16`). Consumes twice the words of [`fill_f32`].
pub(crate) fn fill_f64(
    g: &mut CpuGenerator,
    out: &mut [f64],
    mean: f64,
    std: f64,
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let n = out.len();
    let mut cur = Cursor::new(g);
    fill_range_f64(&mut cur, n, 0, out, (mean, std), cap, rule, route);
    cur.seek(layout_f64(n).words());
}

/// One legacy reduced-type block (`normal_fill_16<T>` before 2.12) on 16 uniforms that are
/// already dtype values, leaving float values that `narrow` turns into the outputs.
///
/// `u1 = T(1 - d)` is exact for 11- and 8-bit draws; theta is `2π` (double) times `u2`, rounded to
/// the dtype through float.
fn block_legacy<T: Copy>(
    d: &mut [f32],
    ty: &Reduced<T>,
    typed_math: bool,
    fused: bool,
    mean_t: f32,
    std_t: f32,
) {
    let r = |x: f32| ty.round(x);
    let (lo, hi) = d.split_at_mut(8);
    for (a, b) in lo.iter_mut().zip(hi.iter_mut()) {
        let u1 = r(1.0 - *a);
        let theta = r((TWO_PI_F64 * f64::from(*b)) as f32);
        let (c, s) = (libm::cosf(theta), libm::sinf(theta));
        if typed_math {
            let lg = r(libm::logf(u1));
            let radius = r(libm::sqrtf(r(-2.0 * lg)));
            *a = r(r(r(radius * r(c)) * std_t) + mean_t);
            *b = r(r(r(radius * r(s)) * std_t) + mean_t);
        } else {
            let radius = r(libm::sqrtf(-2.0 * libm::logf(u1)));
            *a = affine(radius * c, std_t, mean_t, fused);
            *b = affine(radius * s, std_t, mean_t, fused);
        }
    }
}

/// `x * s + m` in float, fused when `fused` (the compiler contracted it in the AVX2 build).
fn affine(x: f32, s: f32, m: f32, fused: bool) -> f32 {
    if fused {
        affine_f32::<true>(x, s, m)
    } else {
        affine_f32::<false>(x, s, m)
    }
}

/// Elements `a ..` of a float16/bfloat16 fill path of `n` elements (`n >= 16`), in the era's
/// rule (see [`layout_reduced`] for the words).
#[allow(clippy::too_many_arguments)]
fn fill_range_reduced<T: Copy>(
    cur: &mut Cursor<'_>,
    n: usize,
    a: usize,
    out: &mut [T],
    (mean, std): (f64, f64),
    (cap, rule, reduced): (Capability, NormalRule, ReducedNormal),
    route: Route,
    ty: &Reduced<T>,
) {
    let (mean_f, std_f) = (mean as f32, std as f32);
    // c10 rounds double mean/std to the dtype through float.
    let (mean_t, std_t) = (ty.round(mean_f), ty.round(std_f));
    let fused = cap.fused();
    let digits = match reduced {
        ReducedNormal::Legacy { .. } => ty.digits,
        ReducedNormal::Transitional | ReducedNormal::Current => 24,
    };
    let transform = |b: &mut [f32]| match reduced {
        ReducedNormal::Legacy { typed_math } => {
            for blk in b.chunks_exact_mut(16) {
                block_legacy(blk, ty, typed_math, fused, mean_t, std_t);
            }
        }
        ReducedNormal::Transitional => {
            blocks_default_raw(route, b);
            for x in b {
                *x = affine(*x, std_t, mean_t, fused);
            }
        }
        ReducedNormal::Current => blocks_f32(cap, rule, route, b, mean_f, std_f),
    };
    fill_range(
        cur,
        layout_reduced(n, reduced),
        a,
        out,
        &|g, w, v| {
            draw_uniform(g, w, v, digits, route);
            transform(v);
        },
        &|v, o| {
            for (o, &x) in o.iter_mut().zip(v) {
                *o = (ty.narrow)(x);
            }
        },
        &|_| None,
    );
}

/// Elements `a ..` of a float16 fill path of `n` elements (`n >= 16`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_range_f16(
    cur: &mut Cursor<'_>,
    n: usize,
    a: usize,
    out: &mut [f16],
    mean_std: (f64, f64),
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let ty = Reduced::f16();
    fill_range_reduced(
        cur,
        n,
        a,
        out,
        mean_std,
        (cap, rule, rule.float16),
        route,
        &ty,
    );
}

/// Elements `a ..` of a bfloat16 fill path of `n` elements (`n >= 16`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn fill_range_bf16(
    cur: &mut Cursor<'_>,
    n: usize,
    a: usize,
    out: &mut [bf16],
    mean_std: (f64, f64),
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let ty = Reduced::bf16();
    fill_range_reduced(
        cur,
        n,
        a,
        out,
        mean_std,
        (cap, rule, rule.bfloat16),
        route,
        &ty,
    );
}

/// The float16 fill path.
///
/// Consumes `n + (n % 16 != 0 ? 16 : 0)` words before 2.12 (every uniform first, as float32), and
/// `16 * ceil(n / 16)` since (16 fresh words per block).
pub(crate) fn fill_f16(
    g: &mut CpuGenerator,
    out: &mut [f16],
    mean: f64,
    std: f64,
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let n = out.len();
    let mut cur = Cursor::new(g);
    fill_range_f16(&mut cur, n, 0, out, (mean, std), cap, rule, route);
    cur.seek(layout_reduced(n, rule.float16).words());
}

/// The bfloat16 fill path (words as [`fill_f16`]).
pub(crate) fn fill_bf16(
    g: &mut CpuGenerator,
    out: &mut [bf16],
    mean: f64,
    std: f64,
    cap: Capability,
    rule: NormalRule,
    route: Route,
) {
    let n = out.len();
    let mut cur = Cursor::new(g);
    fill_range_bf16(&mut cur, n, 0, out, (mean, std), cap, rule, route);
    cur.seek(layout_reduced(n, rule.bfloat16).words());
}

/// One standard normal in double, from the cache or a fresh Box–Muller pair.
///
/// Mirrors: `at::normal_distribution<double>::operator()`.
/// Consumes: nothing if a cached sample is present; else two `random64()` (`u1` then `u2`), and
/// the sine sample is cached.
pub fn standard_normal_f64(g: &mut CpuGenerator) -> f64 {
    if let Some(z) = g.take_double_normal_sample() {
        return z;
    }
    let u1 = u53(g.random64());
    let u2 = u53(g.random64());
    let r = libm::sqrt(-2.0 * libm::log1p(-u2));
    let theta = TWO_PI_F64 * u1;
    g.set_double_normal_sample(Some(r * libm::sin(theta)));
    r * libm::cos(theta)
}

/// One `normal(mean, std)` value in double: `z * std + mean` with `z` from
/// [`standard_normal_f64`], the multiply-add fused in the AVX2 build.
///
/// Consumes: as [`standard_normal_f64`].
#[inline]
pub(crate) fn normal_f64(g: &mut CpuGenerator, mean: f64, std: f64, fused: bool) -> f64 {
    let z = standard_normal_f64(g);
    if fused {
        affine_f64::<true>(z, std, mean)
    } else {
        affine_f64::<false>(z, std, mean)
    }
}

/// The per-element path into any float type: `z * std + mean` in double (fused in the AVX2
/// build), then narrowed by `narrow`.
fn per_element<T>(
    g: &mut CpuGenerator,
    out: &mut [T],
    mean: f64,
    std: f64,
    fused: bool,
    narrow: fn(f64) -> T,
) {
    for o in out {
        *o = narrow(normal_f64(g, mean, std, fused));
    }
}

/// Per-element path, float32 output.
pub(crate) fn per_element_f32(
    g: &mut CpuGenerator,
    out: &mut [f32],
    mean: f64,
    std: f64,
    fused: bool,
) {
    per_element(g, out, mean, std, fused, |v| v as f32);
}

/// Per-element path, float64 output.
pub(crate) fn per_element_f64(
    g: &mut CpuGenerator,
    out: &mut [f64],
    mean: f64,
    std: f64,
    fused: bool,
) {
    per_element(g, out, mean, std, fused, |v| v);
}

/// Per-element path, float16 output (double → float → half).
pub(crate) fn per_element_f16(
    g: &mut CpuGenerator,
    out: &mut [f16],
    mean: f64,
    std: f64,
    fused: bool,
) {
    per_element(g, out, mean, std, fused, f64_to_f16);
}

/// Per-element path, bfloat16 output (double → float → bfloat16).
pub(crate) fn per_element_bf16(
    g: &mut CpuGenerator,
    out: &mut [bf16],
    mean: f64,
    std: f64,
    fused: bool,
) {
    per_element(g, out, mean, std, fused, f64_to_bf16);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Era;

    fn latest() -> NormalRule {
        crate::context::Era::R4.rules().normal
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    // torch.manual_seed(42); torch.randn(16) (cpu-rng.md section 14), both capabilities.
    #[test]
    fn randn16_seed42() {
        let avx2 = [
            0x3ff6_a529,
            0x3fbe_5f53,
            0x3f66_9567,
            0xc006_c0db,
            0x3f2d_acd5,
            0xbf9e_0591,
            0xbd30_6786,
            0xbfcd_65ba,
            0xbf40_8bf0,
            0x3fd3_095b,
            0xbec8_f2f6,
            0xbfb3_a966,
            0xbf3a_566e,
            0xbf0f_36d1,
            0xbf44_d2a0,
            0x3f43_2f9f,
        ];
        let def = [
            0x3ff6_a527,
            0x3fbe_5f54,
            0x3f66_9567,
            0xc006_c0dd,
            0x3f2d_acd5,
            0xbf9e_0592,
            0xbd30_6787,
            0xbfcd_65ba,
            0xbf40_8bff,
            0x3fd3_095a,
            0xbec8_f2f6,
            0xbfb3_a962,
            0xbf3a_566d,
            0xbf0f_36cc,
            0xbf44_d2a1,
            0x3f43_2f9f,
        ];
        for route in Route::available() {
            for (cap, want) in [(Capability::Avx2, avx2), (Capability::Default, def)] {
                let mut g = CpuGenerator::with_seed(42);
                let mut out = [0f32; 16];
                fill_f32(&mut g, &mut out, 0.0, 1.0, cap, latest(), route);
                assert_eq!(bits(&out), want, "{cap} {route:?}");
            }
        }
    }

    // torch.manual_seed(42); torch.randn(17): elements 0, 1 and 16 (cpu-rng.md section 14).
    #[test]
    fn randn17_tail_is_recomputed() {
        for (cap, want) in [
            (Capability::Avx2, [0x3ff6_a529, 0xbe23_6d85, 0xbe9e_9482]),
            (Capability::Default, [0x3ff6_a527, 0xbe23_6d7b, 0xbe9e_9487]),
        ] {
            let mut g = CpuGenerator::with_seed(42);
            let mut out = [0f32; 17];
            fill_f32(&mut g, &mut out, 0.0, 1.0, cap, latest(), Route::detect());
            assert_eq!(
                [out[0].to_bits(), out[1].to_bits(), out[16].to_bits()],
                want,
                "{cap}"
            );
            // 17 + 16 words consumed
            assert_eq!(g.engine().next_index(), 33);
        }
    }

    // torch.manual_seed(42); torch.randn(4) and torch.randn(2, dtype=torch.float64).
    #[test]
    fn per_element_path_and_cache() {
        let mut g = CpuGenerator::with_seed(42);
        let mut out = [0f32; 4];
        per_element_f32(&mut g, &mut out, 0.0, 1.0, true);
        assert_eq!(
            bits(&out),
            [0x3eac_62ae, 0x3e03_e69d, 0x3e70_16e7, 0x3e6b_dc6c]
        );
        let mut g = CpuGenerator::with_seed(42);
        let mut out = [0f64; 2];
        per_element_f64(&mut g, &mut out, 0.0, 1.0, false);
        assert_eq!(
            out.map(f64::to_bits),
            [0x3fd5_8c55_b33d_44cc, 0x3fc0_7cd3_9b3d_4b85]
        );
    }

    // torch.manual_seed(42); torch.randn(16, dtype=torch.float64): elements 0 and 8.
    #[test]
    fn randn16_f64() {
        let mut g = CpuGenerator::with_seed(42);
        let mut out = [0f64; 16];
        fill_f64(
            &mut g,
            &mut out,
            0.0,
            1.0,
            Capability::Avx2,
            latest(),
            Route::detect(),
        );
        assert_eq!(out[0].to_bits(), 0x3fd3_2bee_22cc_b503);
        assert_eq!(out[8].to_bits(), 0x3fc6_3479_875e_ff86);
    }

    // torch.manual_seed(42); torch.randn(16, dtype=torch.bfloat16): first four.
    #[test]
    fn randn16_bf16() {
        let mut g = CpuGenerator::with_seed(42);
        let mut out = [bf16::ZERO; 16];
        fill_bf16(
            &mut g,
            &mut out,
            0.0,
            1.0,
            Capability::Avx2,
            latest(),
            Route::detect(),
        );
        let got: Vec<u16> = out[..4].iter().map(|x| x.to_bits()).collect();
        assert_eq!(got, [0x3ff7, 0x3fbe, 0x3f67, 0xc007]);
    }

    #[test]
    fn routes_agree() {
        let mut all = vec![];
        for route in Route::available() {
            let mut g = CpuGenerator::with_seed(3);
            let mut a = vec![0f32; 1000];
            fill_f32(&mut g, &mut a, 0.3, 1.7, Capability::Avx2, latest(), route);
            let mut b = vec![0f32; 1000];
            fill_f32(
                &mut g,
                &mut b,
                0.3,
                1.7,
                Capability::Default,
                latest(),
                route,
            );
            let mut c = vec![0f64; 100];
            fill_f64(
                &mut g,
                &mut c,
                0.3,
                1.7,
                Capability::Default,
                latest(),
                route,
            );
            all.push((
                bits(&a),
                bits(&b),
                c.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            ));
        }
        assert!(all.windows(2).all(|w| w[0] == w[1]));
    }

    /// The 8-lane avx2 route tempers the engine's words itself, run by run between twists, and
    /// gathers a block of 16 that a twist splits: from every position in the state and over
    /// lengths that span several twists (with a tail), it gives the portable route's values and
    /// leaves the generator where the portable route does.
    #[test]
    fn tempering_in_registers_matches_the_portable_route_from_any_position() {
        let Some(&fast) = Route::available().iter().find(|r| r.lanes() == Lanes::Avx2) else {
            return;
        };
        for skip in (0..640).step_by(5).chain([1247, 1248, 1249]) {
            for n in [16, 17, 624, 1040, 2500] {
                let run = |route| {
                    let mut g = CpuGenerator::with_seed(13);
                    g.engine_mut().discard(skip);
                    let mut out = vec![0f32; n];
                    fill_f32(
                        &mut g,
                        &mut out,
                        0.3,
                        1.7,
                        Capability::Avx2,
                        latest(),
                        route,
                    );
                    (bits(&out), g.random())
                };
                assert_eq!(run(fast), run(Route::Portable), "skip {skip} n {n}");
            }
        }
    }

    /// Words drawn by the float16/bfloat16 fill path, per era (version-eras.md section 2.4:
    /// `randn_f16_17` 33 -> 32, `randn_f16_1000` 1016 -> 1008 at 2.12).
    #[test]
    fn reduced_fill_draw_counts_by_era() {
        let after = |words: u64| {
            let mut g = CpuGenerator::with_seed(1);
            g.engine_mut().discard(words);
            g
        };
        for (era, want17, want1000) in [
            (Era::L0, 33, 1016),
            (Era::L1, 33, 1016),
            (Era::R2, 33, 1016),
            (Era::R3, 32, 1008),
            (Era::R4, 32, 1008),
        ] {
            for cap in [Capability::Default, Capability::Avx2] {
                let (rule, route) = (era.rules().normal, Route::detect());
                for (n, want) in [(17usize, want17), (1000, want1000)] {
                    let drawn = |fill: &dyn Fn(&mut CpuGenerator)| {
                        let mut g = CpuGenerator::with_seed(1);
                        fill(&mut g);
                        g
                    };
                    let h = drawn(&|g| {
                        fill_f16(g, &mut vec![f16::ZERO; n], 0.3, 1.7, cap, rule, route);
                    });
                    assert_eq!(h, after(want), "f16 {era} {cap} n={n}");
                    let b = drawn(&|g| {
                        fill_bf16(g, &mut vec![bf16::ZERO; n], 0.3, 1.7, cap, rule, route);
                    });
                    assert_eq!(b, after(want), "bf16 {era} {cap} n={n}");
                }
            }
        }
    }

    /// Before 2.13 only the default variant's mean/std step differs; mean 0, std 1 is exact
    /// either way (randn float32/float64 never changed).
    #[test]
    fn default_variant_fuses_from_2_13() {
        let run = |era: Era, mean: f64, std: f64| {
            let mut g = CpuGenerator::with_seed(8);
            let mut a = vec![0f32; 1000];
            fill_f32(
                &mut g,
                &mut a,
                mean,
                std,
                Capability::Default,
                era.rules().normal,
                Route::detect(),
            );
            let mut d = vec![0f64; 1000];
            fill_f64(
                &mut g,
                &mut d,
                mean,
                std,
                Capability::Default,
                era.rules().normal,
                Route::detect(),
            );
            (bits(&a), d.iter().map(|x| x.to_bits()).collect::<Vec<_>>())
        };
        assert_eq!(run(Era::R3, 0.0, 1.0), run(Era::R4, 0.0, 1.0));
        let (old, new) = (run(Era::R3, 0.3, 1.7), run(Era::R4, 0.3, 1.7));
        assert_ne!(old.0, new.0);
        assert_ne!(old.1, new.1);
        assert_eq!(run(Era::L0, 0.3, 1.7), old);
    }

    /// A fill path whose last chunk ends in an odd number of blocks (AVX-512 hosts transform
    /// two blocks at a time, straight from the words) and a tail, computed whole and in parts cut
    /// inside blocks and chunks, gives the same values on every route.
    #[test]
    fn fills_equal_in_parts_on_every_route() {
        let n = 3 * CHUNK + 3 * 16 + 5;
        let mut all = vec![];
        for route in Route::available() {
            for cap in [Capability::Avx2, Capability::Default] {
                let mut whole = vec![0f32; n];
                let mut g = CpuGenerator::with_seed(8);
                fill_f32(&mut g, &mut whole, 0.1, 2.0, cap, latest(), route);
                for cut in [7, 1000, CHUNK, 2 * CHUNK + 40, n - 3] {
                    let mut parts = vec![0f32; n];
                    let (lo, hi) = parts.split_at_mut(cut);
                    for (a, part) in [(0, lo), (cut, hi)] {
                        let mut h = CpuGenerator::with_seed(8);
                        let mut cur = Cursor::new(&mut h);
                        fill_range_f32(&mut cur, n, a, part, (0.1, 2.0), cap, latest(), route);
                    }
                    assert_eq!(bits(&whole), bits(&parts), "{cap} {route:?} {cut}");
                }
                all.push((cap, bits(&whole)));
            }
        }
        for (cap, b) in &all {
            let first = all.iter().find(|(c, _)| c == cap).expect("pushed");
            assert!(*b == first.1, "{cap}: routes differ");
        }
    }
}
