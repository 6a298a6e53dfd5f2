//! `nn.init.trunc_normal_`: the two algorithms PyTorch has used.
//!
//! Mirrors: `torch/nn/init.py`, `_no_grad_trunc_normal_` (2.12+ rejection sampling; before 2.12 the
//! inverse-CDF chain), and the elementwise kernels it calls (`sub_`, `div_`, `pow_`, `mul_`, `log_`,
//! `gt`, `where`, `erfinv_`, `add_`, `clamp_`), which round once per op in the tensor's dtype.

use crate::context::{Context, TruncRule};
use crate::dtype::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16, DType};
use crate::error::{Error, Result};
use crate::math::{libdevice, libm, special};
use crate::tensor::Storage;
use crate::torch::Rng;

/// Which algorithm `trunc_normal_` runs, with the parameters it derived in Python.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TruncAlgorithm {
    /// Before 2.12: `uniform_(2l−1, 2u−1)`, `erfinv_`, `mul_(std·√2)`, `add_(mean)`,
    /// `clamp_(a, b)`.
    InverseCdf {
        /// `2·ncdf((a−mean)/std) − 1`.
        from: f64,
        /// `2·ncdf((b−mean)/std) − 1`.
        to: f64,
        /// `std * sqrt(2.0)`.
        scale: f64,
    },
    /// 2.12+, `p > 0.3`: whole-tensor `normal_(mean, std)` rounds, each rejected element taking
    /// the next round's value, until every element lies in `[lo, hi]`.
    RejectNormal {
        /// `a` rounded to the dtype.
        lo: f64,
        /// `b` rounded to the dtype.
        hi: f64,
    },
    /// 2.12+, `p ≤ 0.3`: uniform proposals on `[a, b]` accepted when `log(U) ≤ log_pdf − log_peak`.
    RejectUniform {
        /// `-0.5 * ((mode − mean) / std)**2`, `mode = max(a, min(mean, b))`.
        log_peak: f64,
    },
}

/// Python's `norm_cdf(x) = (1 + erf(x / sqrt(2))) / 2`.
pub(crate) fn norm_cdf(x: f64) -> f64 {
    // Python's order of operations, not `f64::midpoint`.
    #[allow(clippy::manual_midpoint)]
    let v = (1.0 + special::erf(x / 2f64.sqrt())) / 2.0;
    v
}

/// The most rejection rounds torch-rng runs before giving up with an error (PyTorch keeps
/// drawing). The uniform-proposal branch is refused before its second round when, even at the
/// most its proposals can be accepted, finishing within this many rounds has a chance below 10^-9.
pub const TRUNC_NORMAL_MAX_ROUNDS: usize = 100_000;
const MAX_ROUNDS: usize = TRUNC_NORMAL_MAX_ROUNDS;

fn element(s: &Storage, i: usize) -> f64 {
    match s {
        Storage::F32(v) => f64::from(v[i]),
        Storage::F64(v) => v[i],
        Storage::F16(v) => f64::from(f16_to_f32(v[i])),
        Storage::BF16(v) => f64::from(bf16_to_f32(v[i])),
        _ => f64::NAN,
    }
}

fn copy_element(dst: &mut Storage, src: &Storage, i: usize) {
    match (dst, src) {
        (Storage::F32(d), Storage::F32(s)) => d[i] = s[i],
        (Storage::F64(d), Storage::F64(s)) => d[i] = s[i],
        (Storage::F16(d), Storage::F16(s)) => d[i] = s[i],
        (Storage::BF16(d), Storage::BF16(s)) => d[i] = s[i],
        _ => {}
    }
}

/// Rounds a float result to the storage's dtype (identity for float32).
fn round_to(dtype: DType) -> fn(f32) -> f32 {
    match dtype {
        DType::Float16 => |x| f16_to_f32(f32_to_f16(x)),
        DType::BFloat16 => |x| bf16_to_f32(f32_to_bf16(x)),
        _ => |x| x,
    }
}

/// `tensor.new_tensor(v).item()`: `v` rounded to the dtype, as a double.
pub(crate) fn rounded_scalar(dtype: DType, v: f64) -> f64 {
    match dtype {
        DType::Float64 => v,
        d => f64::from(round_to(d)(v as f32)),
    }
}

/// Runs `trunc_normal_` on `data` (memory order; `contiguous` decides the `normal_` path). The
/// inverse-CDF chain rounds its scalars as `rule` says (the release's rule for
/// `nn.init.trunc_normal_`, [`inverse_cdf_rule`] for timm's function).
///
/// On a CUDA device the samplers are the CUDA kernels, and the uniform branch's elementwise chain
/// is the CUDA kernels' ([`reject_uniform`]). The inverse-CDF chain keeps the CPU's `erfinv`
/// (CUDA calls libdevice's `erfinvf`, not ported): bounded there as on the CPU.
pub(crate) fn run(
    g: &mut Rng<'_>,
    data: &mut Storage,
    contiguous: bool,
    (mean, std, a, b): (f64, f64, f64, f64),
    algorithm: TruncAlgorithm,
    rule: TruncRule,
    cx: Context,
) -> Result<()> {
    const OP: &str = "nn.init.trunc_normal_";
    let dtype = data.dtype();
    if !dtype.is_float() {
        // The first kernel PyTorch calls rejects the dtype.
        return match algorithm {
            TruncAlgorithm::RejectNormal { .. } => {
                g.fill_normal(OP, data, contiguous, mean, std, cx)
            }
            _ => g.fill_uniform(OP, data, 0.0, 1.0, cx),
        };
    }
    match algorithm {
        TruncAlgorithm::RejectNormal { lo, hi } => {
            g.fill_normal(OP, data, contiguous, mean, std, cx)?;
            let n = data.len();
            for _ in 0..MAX_ROUNDS {
                let bad: Vec<usize> = (0..n)
                    .filter(|&i| {
                        let v = element(data, i);
                        v < lo || v > hi
                    })
                    .collect();
                if bad.is_empty() {
                    return Ok(());
                }
                let mut fresh = Storage::try_zeros(OP, dtype, n)?;
                g.fill_normal(OP, &mut fresh, contiguous, mean, std, cx)?;
                for i in bad {
                    copy_element(data, &fresh, i);
                }
            }
            Err(too_many_rounds())
        }
        TruncAlgorithm::RejectUniform { log_peak } => {
            reject_uniform(g, data, (mean, std, log_peak), (a, b), cx)
        }
        TruncAlgorithm::InverseCdf { from, to, scale } => {
            g.fill_uniform(OP, data, from, to, cx)?;
            inverse_cdf_tail(data, scale, mean, (a, b), rule);
            Ok(())
        }
    }
}

/// An upper bound on the chance that one uniform proposal on `[a, b]` is accepted, in exact
/// arithmetic: `∫ exp(−((x − mean)/std)²/2 − log_peak) dx / (b − a)`, bounded without `erf` (so
/// no cancellation can make it too small) by the whole normal mass, `std·√(2π)`, when the mean
/// lies in `[a, b]`, and otherwise by the tail beyond the mode, `std·min(√(π/2), 1/z)` with `z` the
/// mode's distance from the mean in stds (Mills' ratio).
fn acceptance_bound(mean: f64, std: f64, (a, b): (f64, f64)) -> f64 {
    let std = std.abs();
    let width = b - a;
    let mass = if (a..=b).contains(&mean) {
        std * (2.0 * std::f64::consts::PI).sqrt()
    } else {
        let mode = a.max(mean.min(b));
        let z = (mode - mean).abs() / std;
        std * (std::f64::consts::PI / 2.0).sqrt().min(1.0 / z)
    };
    // NaN arguments (PyTorch accepts every proposal then) give 1: never refused.
    let bound = mass / width;
    if bound < 1.0 {
        bound
    } else {
        1.0
    }
}

/// What the dtype's rounding adds to the chance of acceptance, bounded above: an acceptance
/// uniform of exactly 0 (`log` gives −inf, which no log-density exceeds: a zero word, and on
/// float16/bfloat16 the values that round to 1.0 and are replaced by 0), and a candidate that
/// rounds to `b` and is replaced by `a` (within half a spacing of `b`, the dtype's relative spacing
/// `eps` times `|b|`, out of `b − a`).
fn rounding_chance(dtype: DType, (a, b): (f64, f64)) -> f64 {
    let (zero, eps) = match dtype {
        DType::Float64 => (2f64.powi(-53), 2f64.powi(-52)),
        DType::Float16 => (2f64.powi(-11), 2f64.powi(-10)),
        DType::BFloat16 => (2f64.powi(-8), 2f64.powi(-7)),
        _ => (2f64.powi(-24), 2f64.powi(-23)),
    };
    zero + eps * a.abs().max(b.abs()) / (b - a)
}

/// Refuses a uniform-proposal run that cannot finish within [`MAX_ROUNDS`]: with `A` an upper bound
/// on one element's acceptance per round, all `n` elements are accepted within `R` rounds with
/// chance at most `(1 − (1 − A)^R)^n`; below 10^-9 the run is refused before its second round.
fn refuse_hopeless(
    n: usize,
    dtype: DType,
    (mean, std): (f64, f64),
    (a, b): (f64, f64),
) -> Result<()> {
    let chance = 2.0 * acceptance_bound(mean, std, (a, b)) + rounding_chance(dtype, (a, b));
    let chance = if chance < 1.0 { chance } else { 1.0 };
    let still_pending = (MAX_ROUNDS as f64 * (-chance).ln_1p()).exp();
    let log_all_done = n as f64 * (-still_pending).ln_1p();
    if log_all_done < 1e-9f64.ln() {
        let rounds = ((n as f64).ln() + 0.58) / -(-chance).ln_1p();
        return Err(Error::unsupported(format!(
            "nn.init.trunc_normal_(mean={mean}, std={std}, a={a}, b={b}) on {n} elements: a \
             uniform proposal on [a, b] is accepted with chance at most {chance:.3e}, so all of \
             them need about {rounds:.3e} rounds (PyTorch keeps drawing); torch-rng stops at \
             {MAX_ROUNDS} rounds (TRUNC_NORMAL_MAX_ROUNDS) and refuses this before the second"
        )));
    }
    Ok(())
}

fn too_many_rounds() -> Error {
    Error::arg(
        "nn.init.trunc_normal_",
        format!("no sample accepted after {MAX_ROUNDS} rounds (PyTorch would loop for ever)"),
    )
}

/// The log-density chain of the uniform branch, one rounding per op:
/// `((((x − m) / s) ** 2) * −0.5) − lp`.
fn log_pdf_f32(x: f32, m: f32, s: f32, lp: f32, round: fn(f32) -> f32) -> f32 {
    let d = round(x - m);
    let q = round(d / s);
    let sq = round(q * q);
    let h = round(sq * -0.5);
    round(h - lp)
}

fn log_pdf_f64(x: f64, m: f64, s: f64, lp: f64) -> f64 {
    let q = (x - m) / s;
    q * q * -0.5 - lp
}

/// `log_` of the acceptance uniforms. PyTorch's kernel is MKL's `vsLn`/`vdLn` (ATen's `vml::vlog`;
/// float16/bfloat16 go through float). glibc's `log` in double, rounded to float, differs from
/// `vsLn` on 15372 of the 2^24 float32 uniforms (glibc's `logf` on 119845), and `log` from `vdLn`
/// on about 0.3 % of double uniforms, by one ulp each: that changes an accept/reject decision only
/// if the log-density lands on that ulp.
fn log_of(x: f64, dtype: DType) -> f64 {
    match dtype {
        DType::Float64 => libm::log(x),
        d => f64::from(round_to(d)(libm::log(x) as f32)),
    }
}

/// `log_` on a CUDA tensor: `::log` in device code, libdevice's `__nv_log` in double and
/// `__nv_logf` in float (float16/bfloat16 through float).
fn cuda_log_of(x: f64, dtype: DType) -> f64 {
    match dtype {
        DType::Float64 => libdevice::nv_log(x),
        d => f64::from(round_to(d)(libdevice::nv_logf(x as f32))),
    }
}

/// The log-density chain on a CUDA tensor: a scalar operand stays in float (the CUDA kernels read
/// a CPU scalar as `opmath_t`, never rounded to float16/bfloat16), and `div_` by a scalar
/// multiplies by its reciprocal (`div_true_kernel_cuda`); `pow_(2)` is `x * x` on both devices.
fn cuda_log_pdf_f32(x: f32, m: f32, inv_s: f32, lp: f32, round: fn(f32) -> f32) -> f32 {
    let d = round(x - m);
    let q = round(d * inv_s);
    let sq = round(q * q);
    let h = round(sq * -0.5);
    round(h - lp)
}

/// The uniform-proposal branch of the 2.12+ sampler.
fn reject_uniform(
    g: &mut Rng<'_>,
    data: &mut Storage,
    (mean, std, log_peak): (f64, f64, f64),
    (a, b): (f64, f64),
    cx: Context,
) -> Result<()> {
    const OP: &str = "nn.init.trunc_normal_";
    let dtype = data.dtype();
    let n = data.len();
    let round = round_to(dtype);
    let cuda = matches!(g, Rng::Cuda(..));
    // CPU: add_/sub_ round their scalar to a float16/bfloat16 dtype, div_ keeps it in float.
    let (m, s, lp) = (round(mean as f32), std as f32, round(log_peak as f32));
    let (cm, inv_s, clp) = (mean as f32, 1.0 / std as f32, log_peak as f32);
    let log_pdf = |x: f64| -> f64 {
        match (dtype, cuda) {
            (DType::Float64, false) => log_pdf_f64(x, mean, std, log_peak),
            (DType::Float64, true) => {
                let q = (x - mean) * (1.0 / std);
                q * q * -0.5 - log_peak
            }
            (_, false) => f64::from(log_pdf_f32(x as f32, m, s, lp, round)),
            (_, true) => f64::from(cuda_log_pdf_f32(x as f32, cm, inv_s, clp, round)),
        }
    };
    let log = if cuda { cuda_log_of } else { log_of };
    g.fill_uniform(OP, data, a, b, cx)?;
    refuse_hopeless(n, dtype, (mean, std), (a, b))?;
    let mut accept = Storage::try_zeros(OP, dtype, n)?;
    g.fill_uniform(OP, &mut accept, 0.0, 1.0, cx)?;
    let mut pending: Vec<bool> = (0..n)
        .map(|i| log(element(&accept, i), dtype) > log_pdf(element(data, i)))
        .collect();
    let mut candidates = Storage::try_zeros(OP, dtype, n)?;
    for _ in 0..MAX_ROUNDS {
        if !pending.iter().any(|&p| p) {
            return Ok(());
        }
        g.fill_uniform(OP, &mut candidates, a, b, cx)?;
        for (i, &p) in pending.iter().enumerate() {
            if p {
                copy_element(data, &candidates, i);
            }
        }
        g.fill_uniform(OP, &mut accept, 0.0, 1.0, cx)?;
        for (i, p) in pending.iter_mut().enumerate() {
            if *p {
                *p = log(element(&accept, i), dtype) > log_pdf(element(&candidates, i));
            }
        }
    }
    Err(too_many_rounds())
}

/// `erfinv_()`, `mul_(scale)`, `add_(mean)`, `clamp_(a, b)` in the tensor's dtype.
fn inverse_cdf_tail(
    data: &mut Storage,
    scale: f64,
    mean: f64,
    (a, b): (f64, f64),
    rule: TruncRule,
) {
    match data {
        Storage::F64(v) => {
            for x in v.iter_mut() {
                let y = special::erfinv(*x) * scale + mean;
                *x = clamp(y, a, b);
            }
        }
        Storage::F32(v) => tail_f32(v, (|x| x, |x| x), scale, mean, (a, b), rule),
        Storage::F16(v) => tail_f32(v, (f16_to_f32, f32_to_f16), scale, mean, (a, b), rule),
        Storage::BF16(v) => tail_f32(v, (bf16_to_f32, f32_to_bf16), scale, mean, (a, b), rule),
        _ => {}
    }
}

/// Widening to float and rounding back.
type Conversions<T> = (fn(T) -> f32, fn(f32) -> T);

fn tail_f32<T: Copy>(
    v: &mut [T],
    (widen, narrow): Conversions<T>,
    scale: f64,
    mean: f64,
    (a, b): (f64, f64),
    rule: TruncRule,
) {
    let r = |x: f32| widen(narrow(x));
    // On float16/bfloat16 tensors, add_/sub_ round their scalar to the dtype; mul_/div_ keep it in
    // float, except in 2.0 where every scalar is rounded (measured on 2.0.1, 2.5.1 – 2.15.0).
    let s = if rule
        == (TruncRule::InverseCdf {
            round_mul_scalar: true,
        }) {
        r(scale as f32)
    } else {
        scale as f32
    };
    let (m, lo, hi) = (r(mean as f32), r(a as f32), r(b as f32));
    for x in v.iter_mut() {
        let e = r(special::erfinv(f64::from(widen(*x))) as f32);
        let y = r(r(e * s) + m);
        *x = narrow(clamp(y, lo, hi));
    }
}

/// `clamp_(min=lo, max=hi)`: NaN stays NaN.
fn clamp<F: PartialOrd + Copy>(x: F, lo: F, hi: F) -> F {
    if x.partial_cmp(&x).is_none() {
        return x;
    }
    let y = if x < lo { lo } else { x };
    if y > hi {
        hi
    } else {
        y
    }
}

/// The rule of the inverse-CDF chain as code outside `torch.nn.init` writes it (timm's
/// `trunc_normal_`, the same five in-place ops in every release): the release's own chain where
/// `nn.init.trunc_normal_` still is one, else the chain of the releases just before 2.12 (their
/// `mul_` keeps its scalar in float, as every later release does).
pub(crate) fn inverse_cdf_rule(release_rule: TruncRule) -> TruncRule {
    match release_rule {
        TruncRule::InverseCdf { .. } => release_rule,
        TruncRule::Rejection => TruncRule::InverseCdf {
            round_mul_scalar: false,
        },
    }
}

/// Derives the algorithm under `rule` (the release's, or [`inverse_cdf_rule`]) and its
/// Python-level parameters, checking what Python checks.
pub(crate) fn algorithm_for(
    dtype: DType,
    (mean, std, a, b): (f64, f64, f64, f64),
    rule: TruncRule,
) -> Result<(TruncAlgorithm, f64, f64)> {
    if std == 0.0 {
        return Err(Error::arg(
            "nn.init.trunc_normal_",
            "float division by zero (std = 0)",
        ));
    }
    let cdf_a = norm_cdf((a - mean) / std);
    let cdf_b = norm_cdf((b - mean) / std);
    if let TruncRule::InverseCdf { .. } = rule {
        let from = 2.0 * cdf_a - 1.0;
        let to = 2.0 * cdf_b - 1.0;
        return Ok((
            TruncAlgorithm::InverseCdf {
                from,
                to,
                scale: std * 2f64.sqrt(),
            },
            cdf_a,
            cdf_b,
        ));
    }
    let p = cdf_b - cdf_a;
    if p > 0.3 {
        let lo = rounded_scalar(dtype, a);
        let hi = rounded_scalar(dtype, b);
        Ok((TruncAlgorithm::RejectNormal { lo, hi }, cdf_a, cdf_b))
    } else {
        let mode = a.max(mean.min(b));
        let z = (mode - mean) / std;
        Ok((
            TruncAlgorithm::RejectUniform {
                log_peak: -0.5 * (z * z),
            },
            cdf_a,
            cdf_b,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Era;
    use crate::generator::CpuGenerator;
    use crate::ops;

    fn algorithm(
        dtype: DType,
        params: (f64, f64, f64, f64),
        era: Era,
    ) -> Result<(TruncAlgorithm, f64, f64)> {
        algorithm_for(dtype, params, era.rules().trunc_normal)
    }

    #[test]
    fn proposals_never_accepted_are_refused_before_the_second_round() {
        // a = 1, b = 1e30: a float32 proposal is accepted only when its acceptance uniform is 0.
        let (alg, _, _) = algorithm(DType::Float32, (0.0, 1.0, 1.0, 1e30), Era::R4).unwrap();
        let mut g = CpuGenerator::with_seed(0);
        let mut s = Storage::zeros(DType::Float32, 1000);
        let start = std::time::Instant::now();
        let cx = Context::default();
        let rule = cx.era.rules().trunc_normal;
        let e = run(
            &mut Rng::Cpu(&mut g),
            &mut s,
            true,
            (0.0, 1.0, 1.0, 1e30),
            alg,
            rule,
            cx,
        );
        let e = e.unwrap_err().to_string();
        assert!(e.contains("TRUNC_NORMAL_MAX_ROUNDS"), "{e}");
        assert!(e.contains("on 1000 elements"), "{e}");
        // One round of 1000 draws, not 100000.
        assert_eq!(g.get_state(), {
            let mut h = CpuGenerator::with_seed(0);
            let mut t = Storage::zeros(DType::Float32, 1000);
            ops::fill_uniform(&mut h, "x", &mut t, 1.0, 1e30, Context::default()).unwrap();
            h.get_state()
        });
        assert!(start.elapsed().as_secs() < 5);
        // The bound never refuses what can finish: the golden cases of float16/bfloat16 (whose
        // candidates near b become a, and acceptance uniforms near 1 become 0) and the usual tail
        // branch.
        for (dtype, b) in [(DType::Float16, 60000.0), (DType::BFloat16, 1e30)] {
            assert!(refuse_hopeless(40, dtype, (0.0, 1.0), (1.0, b)).is_ok());
        }
        assert!(refuse_hopeless(1 << 30, DType::Float32, (0.0, 1.0), (2.0, 3.0)).is_ok());
        assert!(refuse_hopeless(10, DType::Float32, (f64::NAN, 1.0), (2.0, 3.0)).is_ok());
        // A tiny interval far in the tail: the density is flat there, everything is accepted.
        assert!(refuse_hopeless(1 << 20, DType::Float64, (0.0, 1.0), (30.0, 30.0 + 1e-9)).is_ok());
        assert!(refuse_hopeless(1, DType::Float32, (0.0, 1.0), (1.0, 1e30)).is_ok());
    }

    #[test]
    fn defaults_take_the_normal_branch() {
        let (alg, l, u) = algorithm(DType::Float32, (0.0, 1.0, -2.0, 2.0), Era::R4).unwrap();
        assert!(matches!(alg, TruncAlgorithm::RejectNormal { lo, hi } if lo == -2.0 && hi == 2.0));
        assert!(u - l > 0.95);
        let (alg, _, _) = algorithm(DType::Float32, (0.0, 1.0, -2.0, 2.0), Era::L1).unwrap();
        let TruncAlgorithm::InverseCdf { from, .. } = alg else {
            panic!("inverse cdf")
        };
        // init.md 4.11: 2l-1 rounds to float32 0xbf745a18
        assert_eq!((from as f32).to_bits(), 0xbf74_5a18);
        assert!(algorithm(DType::Float32, (0.0, 0.0, -2.0, 2.0), Era::R4).is_err());
    }

    #[test]
    fn seed0_std0p02_vectors() {
        use crate::context::Capability::{Avx2, Default};

        // init.md section 9, vector 12: trunc_normal_(empty(20), std=0.02), seed 0
        let run_it = |era: Era, cap: crate::context::Capability| {
            let mut g = CpuGenerator::with_seed(0);
            let mut s = Storage::zeros(DType::Float32, 20);
            let (alg, _, _) = algorithm(DType::Float32, (0.0, 0.02, -2.0, 2.0), era).unwrap();
            let cx = Context {
                capability: cap,
                era,
                ..Context::default()
            };
            let rule = era.rules().trunc_normal;
            let params = (0.0, 0.02, -2.0, 2.0);
            run(&mut Rng::Cpu(&mut g), &mut s, true, params, alg, rule, cx).unwrap();
            match s {
                Storage::F32(v) => v[..6].iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
                _ => unreachable!(),
            }
        };
        let b = [
            0xbcb8_7525,
            0xbcbc_cd7d,
            0xbba4_381c,
            0xbc0e_2c64,
            0x3c44_3a4b,
            0xbcfe_c96a,
        ];
        assert_eq!(run_it(Era::R4, Avx2), b);
        let mut d = b;
        d[3] = 0xbc0e_2c65;
        assert_eq!(run_it(Era::R4, Default), d);
        let a = [
            0xb944_c926,
            0x3c70_30c6,
            0xbcdd_3718,
            0xbcb6_fbd6,
            0xbc24_e0da,
            0x3be0_9365,
        ];
        assert_eq!(run_it(Era::L1, Avx2), a);
        assert_eq!(run_it(Era::L1, Default), a);
    }
}
