//! `uniform_` fill kernels (and so `rand`, `rand_like`, `nn.init.uniform_`).
//!
//! Mirrors: `aten/src/ATen/native/cpu/DistributionTemplates.h` (`uniform_kernel`) with
//! `at::uniform_real_distribution` (`aten/src/ATen/core/DistributionsHelper.h`), PyTorch 2.0–2.15.
//!
//! Consumes: one `random()` per element for float32/float16/bfloat16, one `random64()` (two words,
//! first high) per element for float64 (low 53 bits), in element order, in every release.
//!
//! Arithmetic since 2.12 (`UniformRule::Current`): float32, float16 and bfloat16 compute in float
//! with `a = f32(from)`, `d = f32(to) - a`, `x` = the low 24 bits of the word times 2^-24,
//! `v = x * d + a` (one fused rounding in the AVX2 build, two in the default build) and round `v`
//! to the dtype; float64 computes the same in double. A value that lands on `to` (after rounding to
//! the dtype) is replaced by `from`, so the interval stays half-open.
//!
//! Before 2.12 (`UniformRule::Legacy`) nothing is replaced, so `to` can come out (for bounds
//! such as `(2^24, 2^24 + 2)`). float16 and bfloat16 then keep only the low 11 and 8 bits of the
//! word (their `digits`) and compute with bounds rounded to the dtype first:
//! `a = T(from)`, `d = T(T(to) - a)`, `v = x * d + a` in float (fused under AVX2), result `T(v)`.

use half::{bf16, f16};

use super::{routed, words, Reduced, Route};
use crate::context::UniformRule;
use crate::generator::CpuGenerator;
use crate::simd::Lanes;

/// The value that is replaced by `from`: `to` itself, or NaN (never equal) when the rule does not
/// replace.
fn replaced<F: From<f32>>(rule: UniformRule, to: F) -> F {
    match rule {
        UniformRule::Current => to,
        UniformRule::Legacy => F::from(f32::NAN),
    }
}

/// Words drawn per block: large enough to amortise the engine, small enough for the stack.
const BLOCK: usize = 1024;

#[inline(always)]
fn uniform_f32_fused(words: &[u32], out: &mut [f32], a: f32, d: f32, to: f32) {
    words::uniform_f32_scalar::<true>(words, out, a, d, to);
}

routed!(fn uniform_f32_fused_routed(words: &[u32], out: &mut [f32], a: f32, d: f32, to: f32) => uniform_f32_fused);

/// The float body on one block of words: the route's vector conversion, or the scalar loop (with
/// hardware FMA where the route has it).
fn uniform_f32_block(
    route: Route,
    words: &[u32],
    out: &mut [f32],
    a: f32,
    d: f32,
    to: f32,
    fused: bool,
) {
    let lanes = route.lanes();
    if lanes != Lanes::Scalar {
        words::uniform_f32(words, out, a, d, to, fused, lanes);
    } else if fused {
        uniform_f32_fused_routed(route, words, out, a, d, to);
    } else {
        words::uniform_f32_scalar::<false>(words, out, a, d, to);
    }
}

#[inline(always)]
fn uniform_f64_fused(words: &[u32], out: &mut [f64], from: f64, d: f64, to: f64) {
    words::uniform_f64(words, out, from, d, to, true, Lanes::Scalar);
}

routed!(fn uniform_f64_fused_routed(words: &[u32], out: &mut [f64], from: f64, d: f64, to: f64) => uniform_f64_fused);

/// Fills `out` with float32 `uniform_(from, to)` values (bounds already checked and clamped).
pub(crate) fn fill_f32(
    g: &mut CpuGenerator,
    out: &mut [f32],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
    rule: UniformRule,
) {
    let a = from as f32;
    let b = to as f32;
    let d = b - a;
    let replaced = replaced(rule, b);
    if route.lanes() == Lanes::Avx2 {
        // Tempered in registers, straight from the engine's state: no words buffer to store and
        // load again (in place on a Zen 3, 2^24 floats 9.4-11.0 -> 7.2-7.9 ms).
        g.raw_runs(out.len(), Lanes::Avx2, |raw, at| {
            let o = &mut out[at..at + raw.len()];
            words::uniform_f32_raw(raw, o, a, d, replaced, fused, Lanes::Avx2);
        });
        return;
    }
    let mut scratch = [0u32; BLOCK + words::APART];
    for chunk in out.chunks_mut(BLOCK) {
        let w = words::apart(&mut scratch, chunk.len(), chunk.as_ptr().cast());
        g.fill_u32(w);
        uniform_f32_block(route, w, chunk, a, d, replaced, fused);
    }
}

/// Fills `out` with float64 `uniform_(from, to)` values.
pub(crate) fn fill_f64(
    g: &mut CpuGenerator,
    out: &mut [f64],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
    rule: UniformRule,
) {
    let d = to - from;
    let replaced = replaced(rule, to);
    // Each value is one `random64`: two words, high first.
    let mut scratch = [0u32; BLOCK + words::APART];
    for chunk in out.chunks_mut(BLOCK / 2) {
        let w = words::apart(&mut scratch, 2 * chunk.len(), chunk.as_ptr().cast());
        g.fill_u32(w);
        let lanes = route.lanes();
        if lanes != Lanes::Scalar {
            words::uniform_f64(w, chunk, from, d, replaced, fused, lanes);
        } else if fused {
            uniform_f64_fused_routed(route, w, chunk, from, d, replaced);
        } else {
            words::uniform_f64(w, chunk, from, d, replaced, false, Lanes::Scalar);
        }
    }
}

/// Shared body of the float16 and bfloat16 kernels: values in float, rounded by `narrow`.
///
/// Both eras reuse the float32 body. A legacy `digits`-bit draw `(w & mask) * 2^-digits` equals
/// the 24-bit draw of the word `(w & mask) << (24 - digits)`, so the words are shifted into place
/// first; the legacy bounds are the dtype-rounded ones.
fn fill_reduced<T: Copy + PartialEq>(
    g: &mut CpuGenerator,
    out: &mut [T],
    (from, to): (f64, f64),
    fused: bool,
    route: Route,
    rule: UniformRule,
    ty: &Reduced<T>,
) {
    let round = |x: f32| (ty.widen)((ty.narrow)(x));
    let (a, d, shift) = match rule {
        UniformRule::Current => (from as f32, to as f32 - from as f32, None),
        UniformRule::Legacy => {
            let (a, b) = (round(from as f32), round(to as f32));
            (a, round(b - a), Some(24 - ty.digits))
        }
    };
    // PyTorch compares the rounded value with the rounded `to`.
    let to_t = replaced(rule, round(to as f32));
    let from_t = (ty.narrow)(from as f32);
    let mut scratch = [0u32; BLOCK + words::APART];
    let mut vals = [0f32; BLOCK];
    for chunk in out.chunks_mut(BLOCK) {
        let n = chunk.len();
        let w = words::apart(&mut scratch, n, vals.as_ptr().cast());
        g.fill_u32(w);
        if let Some(shift) = shift {
            let mask = (1u32 << ty.digits) - 1;
            for x in w.iter_mut() {
                *x = (*x & mask) << shift;
            }
        }
        // The float body's own check would compare before rounding: give it a NaN `to`.
        uniform_f32_block(route, w, &mut vals[..n], a, d, f32::NAN, fused);
        (ty.narrow_replace)(&vals[..n], chunk, to_t, from_t, route.lanes());
    }
}

/// Fills `out` with float16 `uniform_(from, to)` values.
pub(crate) fn fill_f16(
    g: &mut CpuGenerator,
    out: &mut [f16],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
    rule: UniformRule,
) {
    let ty = Reduced::f16();
    fill_reduced(g, out, (from, to), fused, route, rule, &ty);
}

/// Fills `out` with bfloat16 `uniform_(from, to)` values.
pub(crate) fn fill_bf16(
    g: &mut CpuGenerator,
    out: &mut [bf16],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
    rule: UniformRule,
) {
    let ty = Reduced::bf16();
    fill_reduced(g, out, (from, to), fused, route, rule, &ty);
}

#[cfg(test)]
mod tests {
    use super::*;

    // torch.manual_seed(42); torch.empty(6).uniform_(-b, b), b = 0.18257418583505536
    // (cpu-rng.md section 14), both capabilities.
    #[test]
    fn kaiming_like_bounds_both_capabilities() {
        let b = 0.182_574_185_835_055_36;
        let avx2 = [
            0x3e0e_ef5f,
            0x3e1b_2cc8,
            0xbd2f_31ce,
            0x3e2b_bd67,
            0xbd23_d9d3,
            0x3d16_e765,
        ];
        let def = [
            0x3e0e_ef5e,
            0x3e1b_2cc8,
            0xbd2f_31cc,
            0x3e2b_bd68,
            0xbd23_d9d4,
            0x3d16_e764,
        ];
        for route in Route::available() {
            for (fused, want) in [(true, avx2), (false, def)] {
                let mut g = CpuGenerator::with_seed(42);
                let mut out = [0f32; 6];
                fill_f32(&mut g, &mut out, -b, b, fused, route, UniformRule::Current);
                let got: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
                assert_eq!(got, want, "fused {fused} route {route:?}");
            }
        }
    }

    #[test]
    fn routes_agree_on_many_values() {
        let routes = Route::available();
        let mut results = vec![];
        for &route in &routes {
            let mut g = CpuGenerator::with_seed(7);
            let mut out = vec![0f32; 5000];
            fill_f32(
                &mut g,
                &mut out,
                -0.123,
                0.456,
                true,
                route,
                UniformRule::Current,
            );
            let mut out64 = vec![0f64; 3000];
            fill_f64(
                &mut g,
                &mut out64,
                -0.123,
                0.456,
                true,
                route,
                UniformRule::Current,
            );
            results.push((
                out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                out64.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            ));
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]));
    }

    /// The AVX2 route tempers the engine's words itself, run by run between twists: from every
    /// position in the state, over lengths that end mid-vector and span several twists, it gives
    /// the portable route's values (the `to` replacement included) and leaves the generator
    /// where the portable route does.
    #[test]
    fn tempering_in_registers_matches_the_portable_route_from_any_position() {
        let Some(&fast) = Route::available().iter().find(|r| r.lanes() == Lanes::Avx2) else {
            return;
        };
        let lo = 16_777_216.0;
        for skip in (0..700).step_by(23).chain([622, 623, 624, 625, 1247, 1248]) {
            for (n, (from, to)) in [
                (1, (0.0, 1.0)),
                (7, (-0.5, 0.5)),
                (9, (lo, lo + 2.0)),
                (623, (-3.0, 2.0)),
                (1250, (lo, lo + 2.0)),
                (2000, (-0.1, 0.1)),
            ] {
                for fused in [true, false] {
                    let run = |route| {
                        let mut g = CpuGenerator::with_seed(11);
                        for _ in 0..skip {
                            g.random();
                        }
                        let mut out = vec![0f32; n];
                        fill_f32(
                            &mut g,
                            &mut out,
                            from,
                            to,
                            fused,
                            route,
                            UniformRule::Current,
                        );
                        let bits: Vec<u32> = out.iter().map(|x| x.to_bits()).collect();
                        (bits, g.random())
                    };
                    assert_eq!(
                        run(fast),
                        run(Route::Portable),
                        "skip {skip} n {n} fused {fused}"
                    );
                }
            }
        }
    }

    #[test]
    fn value_equal_to_to_becomes_from() {
        // [2^24, 2^24 + 2): x * 2 + 2^24 rounds to 2^24 + 2 for x >= 0.5 in float32.
        let mut g = CpuGenerator::with_seed(5);
        let mut out = vec![0f32; 1000];
        let lo = 16_777_216.0;
        fill_f32(
            &mut g,
            &mut out,
            lo,
            lo + 2.0,
            true,
            Route::Portable,
            UniformRule::Current,
        );
        assert!(out.iter().all(|&v| v < (lo + 2.0) as f32));
    }

    /// Before 2.12 a float32 value that rounds to `to` is returned as is; since, it becomes `from`.
    #[test]
    fn replacement_only_from_2_12() {
        let lo = 16_777_216.0;
        let count_to = |rule: UniformRule| {
            let mut g = CpuGenerator::with_seed(5);
            let mut out = vec![0f32; 1000];
            fill_f32(&mut g, &mut out, lo, lo + 2.0, true, Route::Portable, rule);
            out.iter().filter(|&&v| v == (lo + 2.0) as f32).count()
        };
        assert!(count_to(UniformRule::Legacy) > 400);
        assert_eq!(count_to(UniformRule::Current), 0);
    }

    /// torch 2.0 - 2.11: rand(float16) keeps the low 11 bits of each word, bfloat16 the low 8.
    #[test]
    fn legacy_reduced_draws_keep_digits_bits() {
        let mut words = CpuGenerator::with_seed(42);
        let w: Vec<u32> = (0..64).map(|_| words.random()).collect();
        let mut g = CpuGenerator::with_seed(42);
        let mut h = vec![f16::ZERO; 64];
        fill_f16(
            &mut g,
            &mut h,
            0.0,
            1.0,
            true,
            Route::Portable,
            UniformRule::Legacy,
        );
        let mut g = CpuGenerator::with_seed(42);
        let mut b = vec![bf16::ZERO; 64];
        fill_bf16(
            &mut g,
            &mut b,
            0.0,
            1.0,
            false,
            Route::Portable,
            UniformRule::Legacy,
        );
        for i in 0..64 {
            assert_eq!(
                h[i].to_f32_const(),
                (w[i] & 0x7ff) as f32 / 2048.0,
                "f16 {i}"
            );
            assert_eq!(
                crate::dtype::bf16_to_f32(b[i]),
                (w[i] & 0xff) as f32 / 256.0,
                "bf16 {i}"
            );
        }
    }
}
