//! `uniform_` fill kernels (and so `rand`, `rand_like`, `nn.init.uniform_`).
//!
//! Mirrors: `aten/src/ATen/native/cpu/DistributionTemplates.h` (`uniform_kernel`) with
//! `at::uniform_real_distribution` (`aten/src/ATen/core/DistributionsHelper.h`), PyTorch 2.13–2.15.
//!
//! Consumes: one `random()` per element for float32/float16/bfloat16 (low 24 bits), one
//! `random64()` (two words, first high) per element for float64 (low 53 bits), in element order.
//!
//! Arithmetic: float32, float16 and bfloat16 compute in float with `a = f32(from)`,
//! `d = f32(to) - a`, `v = x * d + a` (one fused rounding in the AVX2 build, two in the default
//! build) and round `v` to the dtype; float64 computes the same in double. A value that lands on
//! `to` (after rounding to the dtype) is replaced by `from`, so the interval stays half-open.

use half::{bf16, f16};

use super::transform::{affine_f32, affine_f64, u24, u53};
use super::{routed, Route};
use crate::dtype::{f32_to_bf16, f32_to_f16};
use crate::generator::CpuGenerator;

/// Words drawn per block: large enough to amortise the engine, small enough for the stack.
const BLOCK: usize = 1024;

#[inline(always)]
fn uniform_f32_body<const FUSED: bool>(words: &[u32], out: &mut [f32], a: f32, d: f32, to: f32) {
    for (o, &w) in out.iter_mut().zip(words) {
        let v = affine_f32::<FUSED>(u24(w), d, a);
        // `to` itself is never returned: PyTorch swaps it for `from` (here `a`).
        *o = if v == to { a } else { v };
    }
}

#[inline(always)]
fn uniform_f32_fused(words: &[u32], out: &mut [f32], a: f32, d: f32, to: f32) {
    uniform_f32_body::<true>(words, out, a, d, to);
}

routed!(fn uniform_f32_fused_routed(words: &[u32], out: &mut [f32], a: f32, d: f32, to: f32) => uniform_f32_fused);

#[inline(always)]
fn uniform_f64_fused(draws: &[u64], out: &mut [f64], from: f64, d: f64, to: f64) {
    for (o, &w) in out.iter_mut().zip(draws) {
        let v = affine_f64::<true>(u53(w), d, from);
        *o = if v == to { from } else { v };
    }
}

routed!(fn uniform_f64_fused_routed(draws: &[u64], out: &mut [f64], from: f64, d: f64, to: f64) => uniform_f64_fused);

/// Fills `out` with float32 `uniform_(from, to)` values (bounds already checked and clamped).
pub(crate) fn fill_f32(
    g: &mut CpuGenerator,
    out: &mut [f32],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
) {
    let a = from as f32;
    let b = to as f32;
    let d = b - a;
    let mut words = [0u32; BLOCK];
    for chunk in out.chunks_mut(BLOCK) {
        let w = &mut words[..chunk.len()];
        g.fill_u32(w);
        if fused {
            uniform_f32_fused_routed(route, w, chunk, a, d, b);
        } else {
            uniform_f32_body::<false>(w, chunk, a, d, b);
        }
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
) {
    let d = to - from;
    let mut draws = [0u64; BLOCK / 2];
    for chunk in out.chunks_mut(BLOCK / 2) {
        let w = &mut draws[..chunk.len()];
        g.fill_u64(w);
        if fused {
            uniform_f64_fused_routed(route, w, chunk, from, d, to);
        } else {
            for (o, &x) in chunk.iter_mut().zip(w.iter()) {
                let v = affine_f64::<false>(u53(x), d, from);
                *o = if v == to { from } else { v };
            }
        }
    }
}

/// Shared body of the float16 and bfloat16 kernels: values in float, rounded by `narrow`, and
/// compared with the rounded `to` (PyTorch compares in the dtype).
fn fill_reduced<T: Copy + PartialEq>(
    g: &mut CpuGenerator,
    out: &mut [T],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
    narrow: fn(f32) -> T,
    widen: fn(T) -> f32,
) {
    let a = from as f32;
    let b = to as f32;
    let d = b - a;
    let to_t = widen(narrow(b));
    let from_t = narrow(a);
    let mut words = [0u32; BLOCK];
    let mut vals = [0f32; BLOCK];
    for chunk in out.chunks_mut(BLOCK) {
        let n = chunk.len();
        g.fill_u32(&mut words[..n]);
        // `to` as float is never hit before rounding only if d > 0; the check below is on the
        // rounded value, so pass an unreachable float `to` to the shared body.
        if fused {
            uniform_f32_fused_routed(route, &words[..n], &mut vals[..n], a, d, f32::NAN);
        } else {
            uniform_f32_body::<false>(&words[..n], &mut vals[..n], a, d, f32::NAN);
        }
        for (o, &v) in chunk.iter_mut().zip(&vals[..n]) {
            let r = narrow(v);
            *o = if widen(r) == to_t { from_t } else { r };
        }
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
) {
    fill_reduced(g, out, from, to, fused, route, f32_to_f16, |h| {
        h.to_f32_const()
    });
}

/// Fills `out` with bfloat16 `uniform_(from, to)` values.
pub(crate) fn fill_bf16(
    g: &mut CpuGenerator,
    out: &mut [bf16],
    from: f64,
    to: f64,
    fused: bool,
    route: Route,
) {
    fill_reduced(
        g,
        out,
        from,
        to,
        fused,
        route,
        f32_to_bf16,
        crate::dtype::bf16_to_f32,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// torch.manual_seed(42); torch.empty(6).uniform_(-b, b), b = 0.18257418583505536
    /// (cpu-rng.md section 14), both capabilities.
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
                fill_f32(&mut g, &mut out, -b, b, fused, route);
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
            fill_f32(&mut g, &mut out, -0.123, 0.456, true, route);
            let mut out64 = vec![0f64; 3000];
            fill_f64(&mut g, &mut out64, -0.123, 0.456, true, route);
            results.push((
                out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                out64.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            ));
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn value_equal_to_to_becomes_from() {
        // [2^24, 2^24 + 2): x * 2 + 2^24 rounds to 2^24 + 2 for x >= 0.5 in float32.
        let mut g = CpuGenerator::with_seed(5);
        let mut out = vec![0f32; 1000];
        let lo = 16_777_216.0;
        fill_f32(&mut g, &mut out, lo, lo + 2.0, true, Route::Portable);
        assert!(out.iter().all(|&v| v < (lo + 2.0) as f32));
    }
}
