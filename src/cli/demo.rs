//! The seed demo: the four experiments of the blog post that started torch-rng, and what the post
//! could not see (the kernel variant).

use std::fmt::Write;

use torch_rng::nn::init::{self, FanMode, Nonlinearity};
use torch_rng::nn::{Class, Linear};
use torch_rng::{Capability, Context, DType, Result, Storage, Tensor, Torch, LATEST_RELEASE};

/// Formats a float tensor of up to two dimensions as PyTorch prints it: four decimals, every
/// element right-aligned to the widest, rows under each other.
///
/// Mirrors: `torch/_tensor_str.py` (fixed-point mode; PyTorch switches to scientific notation when
/// the magnitudes span more than 1000 or reach 1e8, which this formatter also does, with Rust's
/// exponent spelling).
#[must_use]
pub(crate) fn format_tensor(t: &Tensor) -> String {
    let vals: Vec<f64> = match t.storage() {
        Storage::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        Storage::F64(v) => v.clone(),
        _ => return format!("tensor(<{} {:?}>)", t.dtype(), t.shape()),
    };
    let finite_nonzero: Vec<f64> = vals
        .iter()
        .map(|v| v.abs())
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let (lo, hi) = finite_nonzero
        .iter()
        .fold((f64::INFINITY, 0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
    let sci = !finite_nonzero.is_empty() && (hi / lo > 1000.0 || hi > 1e8 || lo < 1e-4);
    let cells: Vec<String> = vals
        .iter()
        .map(|v| {
            if sci {
                format!("{v:.4e}")
            } else {
                format!("{v:.4}")
            }
        })
        .collect();
    let width = cells.iter().map(String::len).max().unwrap_or(0);
    let pad = |c: &String| format!("{c:>width$}");
    let shape = t.shape();
    let body = match shape.len() {
        0 => pad(&cells[0]),
        1 => format!("[{}]", cells.iter().map(pad).collect::<Vec<_>>().join(", ")),
        _ => {
            let cols = shape[shape.len() - 1].max(1);
            let rows: Vec<String> = cells
                .chunks(cols)
                .map(|r| format!("[{}]", r.iter().map(pad).collect::<Vec<_>>().join(", ")))
                .collect();
            format!("[{}]", rows.join(",\n        "))
        }
    };
    format!("tensor({body})")
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.as_f32().map(<[f32]>::to_vec).unwrap_or_default()
}

/// Distance in float32 units in the last place (both finite, same sign assumed near each other).
fn ulps(a: f32, b: f32) -> u32 {
    let key = |x: f32| {
        let b = x.to_bits() as i32;
        if b < 0 {
            i32::MIN.wrapping_sub(b)
        } else {
            b
        }
    };
    key(a).abs_diff(key(b))
}

struct Experiments {
    linear: Tensor,
    formula: Tensor,
    bound: f64,
    kaiming_a0: Tensor,
    uniform: Tensor,
}

fn run(cap: Capability, release: &str) -> Result<Experiments> {
    let cx = Context::for_release(cap, release)?;
    // torch.manual_seed(1) before each experiment.
    let seeded = || -> Result<Torch> {
        let mut torch = Torch::new(cx);
        torch.manual_seed(1)?;
        Ok(torch)
    };
    // 1. nn.Linear(3, 4).weight
    let linear = Linear::new(3, 4)
        .build(&mut seeded()?)?
        .into_state_dict()
        .remove(0)
        .1;

    // 2. The explicit formula: gain = sqrt(2 / (1 + a^2)), bound = gain * sqrt(3 / fan_in),
    //    w = (2 * bound) * torch.rand(4, 3) - bound: two float32 tensor ops, each rounding once.
    let a = 5f64.sqrt();
    let gain = (2.0 / (1.0 + a * a)).sqrt();
    let fan_in = 3.0f64;
    let bound = gain * (3.0 / fan_in).sqrt();
    let x = seeded()?.rand(&[4, 3], DType::Float32)?;
    let (two_b, b) = ((2.0 * bound) as f32, bound as f32);
    let formula: Vec<f32> = f32s(&x).iter().map(|&v| v * two_b - b).collect();
    let formula = Tensor::new(vec![4, 3], Storage::F32(formula))?;

    // 3. kaiming_uniform_ with a = 0 (its default): gain sqrt(2), bound sqrt(6 / fan_in).
    let mut kaiming_a0 = Tensor::zeros(&[4, 3], DType::Float32)?;
    init::kaiming_uniform_(
        &mut seeded()?,
        &mut kaiming_a0,
        0.0,
        FanMode::FanIn,
        Nonlinearity::LeakyRelu,
    )?;

    // 4. U(-1/sqrt(3), 1/sqrt(3)).
    let mut uniform = Tensor::zeros(&[4, 3], DType::Float32)?;
    let r = 1.0 / 3f64.sqrt();
    init::uniform_(&mut seeded()?, &mut uniform, -r, r)?;

    Ok(Experiments {
        linear,
        formula,
        bound,
        kaiming_a0,
        uniform,
    })
}

/// How the elements of two tensors differ: count, smallest and largest difference in ulps of the
/// element, largest absolute difference.
struct Agreement {
    differ: usize,
    min_ulps: u32,
    max_ulps: u32,
    max_abs: f64,
}

fn agreement(a: &Tensor, b: &Tensor) -> Agreement {
    let (x, y) = (f32s(a), f32s(b));
    let mut r = Agreement {
        differ: 0,
        min_ulps: u32::MAX,
        max_ulps: 0,
        max_abs: 0.0,
    };
    for (&p, &q) in x.iter().zip(&y) {
        let d = ulps(p, q);
        if d > 0 {
            r.differ += 1;
            r.min_ulps = r.min_ulps.min(d);
            r.max_ulps = r.max_ulps.max(d);
            r.max_abs = r.max_abs.max((f64::from(p) - f64::from(q)).abs());
        }
    }
    r
}

/// The demo's text: the four experiments under the AVX2 variant (what any current x86 CPU runs),
/// then how the two formulas compare bit for bit under each variant.
///
/// # Errors
/// Never in practice: every call uses fixed, valid arguments.
pub(crate) fn demo_report() -> Result<String> {
    demo_report_for(LATEST_RELEASE)
}

/// [`demo_report`] as PyTorch `release` would print it (`torch-rng demo --torch-version X`). The
/// experiments are float32 `uniform_` draws, which no release from 2.0 to 2.15 changed, so only
/// the header differs.
///
/// # Errors
/// [`torch_rng::Error::Unsupported`] for a release outside 2.0 – 2.15.
pub(crate) fn demo_report_for(release: &str) -> Result<String> {
    let avx2 = run(Capability::Avx2, release)?;
    let default = run(Capability::Default, release)?;
    let mut s = String::new();
    let w = &mut s;
    // Writing to a String cannot fail.
    let _ = writeln!(
        w,
        "torch-rng seed demo: torch.manual_seed(1), PyTorch {release} on CPU, avx2 variant\n"
    );
    let _ = writeln!(
        w,
        "1. nn.Linear(3, 4).weight (kaiming_uniform_ with a = sqrt(5)):"
    );
    let _ = writeln!(w, "{}\n", format_tensor(&avx2.linear));
    let _ = writeln!(
        w,
        "2. The explicit formula, a = sqrt(5): gain = sqrt(2 / (1 + a^2)), bound = gain * sqrt(3 / fan_in) = {:?}\n   w = (2 * bound) * torch.rand(4, 3) - bound:",
        avx2.bound
    );
    let _ = writeln!(w, "{}\n", format_tensor(&avx2.formula));
    let _ = writeln!(
        w,
        "3. kaiming_uniform_ with a = 0 (its default; bound sqrt(6 / fan_in)):"
    );
    let _ = writeln!(w, "{}\n", format_tensor(&avx2.kaiming_a0));
    let _ = writeln!(w, "4. uniform_(-1/sqrt(3), 1/sqrt(3)):");
    let _ = writeln!(w, "{}\n", format_tensor(&avx2.uniform));

    let d_def = agreement(&default.linear, &default.formula).differ;
    let avx = agreement(&avx2.linear, &avx2.formula);
    let d_u_def = agreement(&default.linear, &default.uniform).differ;
    let d_u_avx = agreement(&avx2.linear, &avx2.uniform).differ;
    let n = avx2.linear.numel();
    let _ = writeln!(w, "What printing 4 decimals hides, bit for bit (float32):");
    let _ = writeln!(
        w,
        "- default variant (ATEN_CPU_CAPABILITY=default): experiments 1 and 2 agree on {} of {n} weights.",
        n - d_def
    );
    let _ = writeln!(
        w,
        "- avx2 variant: they differ on {} of {n} weights, by at most {:.3e} ({} to {} ulp of the \
         weight): uniform_ computes fma(x, 2b, -b) with one rounding, the formula rounds x * 2b \
         first.",
        avx.differ, avx.max_abs, avx.min_ulps, avx.max_ulps
    );
    let _ = writeln!(
        w,
        "- experiments 1 and 4 agree on {} of {n} (default) and {} of {n} (avx2): f32(1/sqrt(3)) is the float32 kaiming bound.",
        n - d_u_def,
        n - d_u_avx
    );
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_prints_the_posts_numbers() {
        let s = demo_report().unwrap();
        assert!(s.contains(
            "tensor([[ 0.2975, -0.2548, -0.1119],\n        [ 0.2710, -0.5435,  0.3462],\n        [-0.1188,  0.2937,  0.0803],\n        [-0.0707,  0.1601,  0.0285]])"
        ), "{s}");
        assert!(s.contains("0.5773502691896257"), "{s}");
        assert!(s.contains("tensor([[ 0.7287, -0.6242, -0.2742],"), "{s}");
        assert!(s.contains("[-0.1732,  0.3922,  0.0698]])"), "{s}");
        assert!(s.contains("agree on 12 of 12 weights"), "{s}");
        assert!(
            s.contains("they differ on 9 of 12 weights, by at most 2.980e-8"),
            "{s}"
        );
    }
}
