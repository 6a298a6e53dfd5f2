//! Naming the init call behind a tensor's values: which `torch.nn.init` calls fit them
//! statistically, and which one reproduces them exactly by continuing the seed's stream.
//!
//! The tests (each at about α = 0.001, stated once in the module docs of `audit`):
//! * uniform `U(from, to)`: every value inside the bounds; the smallest and largest within
//!   `(to − from) · ln(1000) / n` of them; the mean within `3.29 · (to − from) / sqrt(12 n)` of
//!   the midpoint;
//! * normal `N(mean, std)`: the sample mean within `3.29 · std / sqrt(n)` of `mean`, the sample
//!   standard deviation within a factor `1 ± 3.29 / sqrt(2 (n − 1))` of `std`;
//! * `trunc_normal_`: every value inside `[a, b]`;
//! * all: the Kolmogorov–Smirnov distance `D` to the call's distribution below `1.95 / sqrt(n)`
//!   (computed on at most 100,000 evenly spaced elements);
//! * constants: every element equal to the value.

use super::compare::value;
use super::report::Fit;
use crate::context::Context;
use crate::dtype::DType;
use crate::generator::CpuGenerator;
use crate::init::explain::words_between;
use crate::init::{FanMode, InitCall, Nonlinearity, Sampling};
use crate::math::special::erf;
use crate::tensor::Tensor;

/// The fewest elements a distribution is fitted to.
pub(crate) const FIT_MIN: usize = 32;
/// The most elements an exact reproduction is tried on.
const REPRODUCE_MAX: usize = 1 << 22;
/// The most elements the Kolmogorov–Smirnov distance is computed on.
const KS_MAX: usize = 100_000;
/// The two-sided normal quantile of α = 0.001.
const Z: f64 = 3.29;

/// Summary statistics of a float tensor.
struct Stats {
    n: usize,
    mean: f64,
    std: f64,
    min: f64,
    max: f64,
    /// Up to [`KS_MAX`] evenly spaced elements, sorted.
    sample: Vec<f64>,
}

fn stats(t: &Tensor) -> Option<Stats> {
    let s = t.storage();
    let n = s.len();
    if !t.dtype().is_float() || n < 2 {
        return None;
    }
    let (mut sum, mut min, mut max) = (0.0, f64::INFINITY, f64::NEG_INFINITY);
    for i in 0..n {
        let v = value(s, i);
        if !v.is_finite() {
            return None;
        }
        sum += v;
        min = min.min(v);
        max = max.max(v);
    }
    let mean = sum / n as f64;
    let var = (0..n).map(|i| (value(s, i) - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    let step = n.div_ceil(KS_MAX);
    let mut sample: Vec<f64> = (0..n).step_by(step).map(|i| value(s, i)).collect();
    sample.sort_by(f64::total_cmp);
    Some(Stats {
        n,
        mean,
        std: var.sqrt(),
        min,
        max,
        sample,
    })
}

/// The Kolmogorov–Smirnov distance of a sorted sample to a continuous CDF.
fn ks(sample: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let m = sample.len() as f64;
    sample
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let c = cdf(x);
            (c - i as f64 / m).max((i + 1) as f64 / m - c)
        })
        .fold(0.0, f64::max)
}

fn normal_cdf(x: f64, mean: f64, std: f64) -> f64 {
    0.5 * (1.0 + erf((x - mean) / (std * std::f64::consts::SQRT_2)))
}

/// A number with 6 significant digits, without trailing zeros.
fn num(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let s = format!("{v:.5e}");
    let Some((m, e)) = s.split_once('e') else {
        return s;
    };
    let m = m.trim_end_matches('0').trim_end_matches('.');
    match e.parse::<i32>() {
        Ok(e) if (-4..6).contains(&e) => {
            let v: f64 = format!("{m}e{e}").parse().unwrap_or(v);
            format!("{v}")
        }
        _ => format!("{m}e{e}"),
    }
}

/// `v` rounded to two significant digits (`0.01994` → `0.02`).
fn nice(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    format!("{v:.1e}").parse().unwrap_or(v)
}

/// The calls tried on a tensor of `shape`: the initialisers of `torch.nn` modules and of the
/// common model codes, the standard deviations and bounds people write, and round versions of the
/// tensor's own spread.
fn catalogue(shape: &[usize], st: Option<&Stats>, all_equal: Option<f64>) -> Vec<InitCall> {
    let mut calls = Vec::new();
    if let Some(v) = all_equal {
        calls.push(if v == 0.0 {
            InitCall::Zeros
        } else if v == 1.0 {
            InitCall::Ones
        } else {
            InitCall::Constant { val: v }
        });
        return calls;
    }
    let leaky = Nonlinearity::LeakyRelu;
    if shape.len() >= 2 {
        for (a, mode, nl) in [
            (5f64.sqrt(), FanMode::FanIn, leaky),
            (0.0, FanMode::FanIn, leaky),
            (0.0, FanMode::FanOut, Nonlinearity::Relu),
            (0.0, FanMode::FanIn, Nonlinearity::Linear("linear")),
        ] {
            calls.push(InitCall::KaimingUniform {
                a,
                mode,
                nonlinearity: nl,
            });
            calls.push(InitCall::KaimingNormal {
                a,
                mode,
                nonlinearity: nl,
            });
        }
        calls.push(InitCall::XavierUniform { gain: 1.0 });
        calls.push(InitCall::XavierNormal { gain: 1.0 });
    }
    let mut stds = vec![1.0, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];
    let mut bounds = vec![1.0, 0.5, 0.1, 0.05, 0.01];
    if let Some(st) = st {
        stds.push(nice(st.std));
        bounds.push(nice(st.max.abs().max(st.min.abs())));
    }
    for std in stds {
        calls.push(InitCall::Normal { mean: 0.0, std });
        calls.push(InitCall::TruncNormal {
            mean: 0.0,
            std,
            a: -2.0,
            b: 2.0,
        });
    }
    calls.push(InitCall::Uniform { a: 0.0, b: 1.0 });
    for b in bounds {
        calls.push(InitCall::Uniform { a: -b, b });
    }
    let mut seen: Vec<InitCall> = Vec::new();
    calls.retain(|c| {
        let dup = seen.contains(c);
        seen.push(c.clone());
        !dup
    });
    calls
}

/// The call as Python writes it, without `nn.init.` (`normal_(mean=0.0, std=0.02)`).
pub(crate) fn python(call: &InitCall) -> String {
    let name = call.op_name();
    let name = name.strip_prefix("nn.init.").unwrap_or(name);
    format!("{name}({})", call.python_args())
}

/// The checks a call's distribution passes on `st`, or `None` when one fails.
fn check(sampling: &Sampling, st: &Stats) -> Option<Vec<String>> {
    let n = st.n as f64;
    let crit = 1.95 / (st.sample.len() as f64).sqrt();
    let mut checks = Vec::new();
    match *sampling {
        Sampling::Uniform { from, to } => {
            let w = to - from;
            if w <= 0.0 {
                return None;
            }
            let slack = w * 1e-6;
            if st.min < from - slack || st.max > to + slack {
                return None;
            }
            let gap = w * 1000f64.ln() / n;
            if st.min - from > gap || to - st.max > gap {
                return None;
            }
            checks.push(format!(
                "range [{}, {}] inside [{}, {}], gaps below {}",
                num(st.min),
                num(st.max),
                num(from),
                num(to),
                num(gap)
            ));
            let mid = f64::midpoint(from, to);
            let lim = Z * w / (12.0 * n).sqrt();
            if (st.mean - mid).abs() > lim {
                return None;
            }
            checks.push(format!("mean {} (limit ±{})", num(st.mean - mid), num(lim)));
            let d = ks(&st.sample, |x| ((x - from) / w).clamp(0.0, 1.0));
            if d > crit {
                return None;
            }
            checks.push(format!("KS D {} < {}", num(d), num(crit)));
        }
        Sampling::Normal { mean, std } => {
            if std <= 0.0 {
                return None;
            }
            let lim = Z * std / n.sqrt();
            if (st.mean - mean).abs() > lim {
                return None;
            }
            let rel = st.std / std - 1.0;
            let rlim = Z / (2.0 * (n - 1.0)).sqrt();
            if rel.abs() > rlim {
                return None;
            }
            checks.push(format!("mean {} (limit ±{})", num(st.mean), num(lim)));
            checks.push(format!(
                "std {} vs {} ({:+.2} %, limit ±{:.2} %)",
                num(st.std),
                num(std),
                100.0 * rel,
                100.0 * rlim
            ));
            let d = ks(&st.sample, |x| normal_cdf(x, mean, std));
            if d > crit {
                return None;
            }
            checks.push(format!("KS D {} < {}", num(d), num(crit)));
        }
        Sampling::TruncNormal {
            mean, std, a, b, ..
        } => {
            if std <= 0.0 || st.min < a || st.max > b {
                return None;
            }
            let (ca, cb) = (normal_cdf(a, mean, std), normal_cdf(b, mean, std));
            if cb - ca <= 0.0 {
                return None;
            }
            checks.push(format!("every value inside [{}, {}]", num(a), num(b)));
            let d = ks(&st.sample, |x| {
                ((normal_cdf(x, mean, std) - ca) / (cb - ca)).clamp(0.0, 1.0)
            });
            if d > crit {
                return None;
            }
            checks.push(format!(
                "std {} vs {}, KS D {} < {}",
                num(st.std),
                num(std),
                num(d),
                num(crit)
            ));
        }
        _ => return None,
    }
    Some(checks)
}

/// The words `call` draws for a tensor of `shape` and `dtype` (from a generator seeded with 0).
fn words(call: &InitCall, shape: &[usize], dtype: DType, cx: Context) -> Option<u64> {
    let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut t = Tensor::zeros(&size, dtype).ok()?;
    let before = CpuGenerator::with_seed(0);
    let mut g = before.clone();
    call.apply(&mut g, &mut t, cx).ok()?;
    words_between(&before, &g)
}

fn all_equal(t: &Tensor) -> Option<f64> {
    let s = t.storage();
    let first = s.bits_at(0);
    (!s.is_empty() && (1..s.len()).all(|i| s.bits_at(i) == first)).then(|| value(s, 0))
}

/// The init calls whose distribution fits `t`'s values (empty when it has fewer than
/// [`FIT_MIN`] elements or is not a float tensor).
pub(crate) fn fits(t: &Tensor, cx: Context) -> Vec<Fit> {
    if !t.dtype().is_float() || t.numel() == 0 {
        return Vec::new();
    }
    if let Some(v) = all_equal(t) {
        let call = catalogue(t.shape(), None, Some(v)).remove(0);
        return vec![Fit {
            call: python(&call),
            checks: vec![format!("every element is {}", num(v))],
            words: Some(0),
        }];
    }
    let Some(st) = stats(t).filter(|s| s.n >= FIT_MIN) else {
        return Vec::new();
    };
    catalogue(t.shape(), Some(&st), None)
        .into_iter()
        .filter_map(|call| {
            let plan = call.plan(t.shape(), t.dtype(), cx).ok()?;
            let checks = check(&plan.sampling, &st)?;
            Some(Fit {
                call: python(&call),
                checks,
                words: words(&call, t.shape(), t.dtype(), cx),
            })
        })
        .collect()
}

/// The call of the catalogue that reproduces `t` exactly when run on `gen` (the generator after
/// the build, or after earlier re-initialisations), with the words it drew; `gen` then follows
/// it.
pub(crate) fn reproduce(t: &Tensor, gen: &mut CpuGenerator, cx: Context) -> Option<(String, u64)> {
    if t.numel() == 0 || t.numel() > REPRODUCE_MAX || !t.dtype().is_float() {
        return None;
    }
    let st = stats(t);
    let size: Vec<i64> = t.shape().iter().map(|&d| d as i64).collect();
    let want = t.bits();
    for call in catalogue(t.shape(), st.as_ref(), all_equal(t)) {
        let mut g = gen.clone();
        let Ok(mut x) = Tensor::zeros(&size, t.dtype()) else {
            return None;
        };
        if call.apply(&mut g, &mut x, cx).is_err() {
            continue;
        }
        if x.bits() == want {
            let n = words_between(gen, &g)?;
            if n == 0 {
                return None; // a constant: nothing of the stream to reproduce
            }
            *gen = g;
            return Some((python(&call), n));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::torch::Torch;

    fn drawn(call: &InitCall, shape: &[i64], seed: u64) -> Tensor {
        let mut torch = Torch::with_seed(seed);
        let mut t = Tensor::zeros(shape, DType::Float32).unwrap();
        call.apply_(&mut torch, &mut t).unwrap();
        t
    }

    #[test]
    fn names_the_call_that_drew_the_values() {
        let cx = Context::default();
        let t = drawn(
            &InitCall::Normal {
                mean: 0.0,
                std: 0.02,
            },
            &[64, 48],
            7,
        );
        let found = fits(&t, cx);
        let names: Vec<&str> = found.iter().map(|f| f.call.as_str()).collect();
        assert!(names.contains(&"normal_(mean=0.0, std=0.02)"), "{names:?}");
        assert!(
            !names.iter().any(|n| n.starts_with("uniform_")),
            "{names:?}"
        );
        let w = found
            .iter()
            .find(|f| f.call.starts_with("normal_"))
            .unwrap();
        assert_eq!(w.words, Some(64 * 48));

        let call = InitCall::XavierUniform { gain: 1.0 };
        let t = drawn(&call, &[64, 48], 8);
        let names: Vec<String> = fits(&t, cx).into_iter().map(|f| f.call).collect();
        assert!(
            names.iter().any(|n| n == "xavier_uniform_(gain=1.0)"),
            "{names:?}"
        );
        assert!(!names.iter().any(|n| n.starts_with("normal_")), "{names:?}");
    }

    #[test]
    fn reproduces_a_continuation_exactly() {
        let cx = Context::default();
        let mut torch = Torch::with_seed(5);
        let mut a = Tensor::zeros(&[10, 7], DType::Float32).unwrap();
        torch.uniform_(&mut a, -1.0, 1.0).unwrap();
        let after = torch.generator().clone();
        let mut b = Tensor::zeros(&[20, 10], DType::Float32).unwrap();
        InitCall::Normal {
            mean: 0.0,
            std: 0.02,
        }
        .apply_(&mut torch, &mut b)
        .unwrap();
        let mut g = after.clone();
        let (call, n) = reproduce(&b, &mut g, cx).unwrap();
        assert_eq!(call, "normal_(mean=0.0, std=0.02)");
        // 200 uniform words, then 16 more for the recomputed last block of the 16-wide path.
        assert_eq!(n, 216);
        assert_eq!(&g, torch.generator());
        // Not from this stream: nothing reproduces it.
        let mut h = CpuGenerator::with_seed(6);
        assert!(reproduce(&b, &mut h, cx).is_none());
    }
}
