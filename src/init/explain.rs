//! `explain`: what an initialiser really does to a tensor, derived by the code that samples.
//!
//! An [`Explanation`] has a subject (an init call, or a module) and one [`ParamExplanation`] per
//! tensor it initialises. Each entry shows the quantities PyTorch derives in Python (fans, gain,
//! std, bounds: [`super::Plan`]), the distribution or fill, the values the kernel actually uses in
//! the tensor's dtype, and the number of 32-bit words drawn, counted by running the call on a
//! generator seeded with 0. Modules add their parameters with [`ParamExplanation::of_init`].

use std::fmt::Write as _;

use super::call::{InitCall, Number, Quantity, Sampling};
use super::schema::Literal;
use super::trunc::TruncAlgorithm;
use crate::context::Context;
use crate::context::Device;
use crate::dtype::{f64_to_bf16, f64_to_f16, DType};
use crate::error::{Error, Result};
use crate::generator::{CpuGenerator, CudaGenerator};
use crate::ops::View;
use crate::torch::Rng;

/// The seed the word counts are measured from.
pub const EXPLAIN_SEED: u64 = 0;

/// A value as the kernel uses it in the tensor's dtype.
#[derive(Clone, Debug, PartialEq)]
pub struct DtypeValue {
    /// What it is (`from`, `to`, `std (fill path)`).
    pub name: String,
    /// The value, printed as the dtype rounds it.
    pub value: f64,
    /// Its bit pattern in the dtype, as lowercase hex.
    pub bits: String,
}

/// What one tensor's initialisation does.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamExplanation {
    /// The parameter's name (`weight`) or `tensor` for a bare init call.
    pub name: String,
    /// The init call, as Python spells it.
    pub call: String,
    /// The tensor's shape.
    pub shape: Vec<usize>,
    /// The tensor's dtype.
    pub dtype: DType,
    /// The quantities derived in Python, in PyTorch's order.
    pub quantities: Vec<Quantity>,
    /// The distribution or fill, in words (`U(-0.5773502691896257, 0.5773502691896257)`).
    pub distribution: String,
    /// The values the kernel uses in the dtype.
    pub dtype_values: Vec<DtypeValue>,
    /// 32-bit words drawn from the CPU generator seeded with [`EXPLAIN_SEED`] (`None` when the
    /// count exceeds 2^32, or on a CUDA device when the step draws nothing on the CPU is not
    /// known).
    pub words: Option<u64>,
    /// On a CUDA device: the Philox offset of the device's generator (seeded with
    /// [`EXPLAIN_SEED`]) before and after the step. Each kernel launch reserves its offsets
    /// (`philox_cuda_state`) before it runs, so the next call starts where this one ends.
    pub philox_offset: Option<(u64, u64)>,
    /// 32-bit words drawn from the default generator too (`sparse_`'s permutations), counted in
    /// `words` when no generator is given.
    pub notes: Vec<String>,
}

/// What a call or module does to each of its tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct Explanation {
    /// The call or module (`nn.init.kaiming_uniform_`, `nn.Linear(3, 4)`).
    pub subject: String,
    /// The build reproduced.
    pub cx: Context,
    /// One entry per initialised tensor, in draw order.
    pub params: Vec<ParamExplanation>,
}

fn format_f64(v: f64) -> String {
    if v.is_nan() {
        "nan".into()
    } else if v.is_infinite() {
        if v > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format!("{v:?}")
    }
}

impl Number {
    /// The value as Python would print it.
    #[must_use]
    pub fn to_python(&self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Float(f) => format_f64(*f),
        }
    }
}

/// A double as the kernel sees it in `dtype`.
fn in_dtype(name: &str, dtype: DType, v: f64) -> DtypeValue {
    let (value, bits) = match dtype {
        DType::Float64 => (v, format!("{:016x}", v.to_bits())),
        DType::Float16 => {
            let h = f64_to_f16(v);
            (f64::from(h.to_f32()), format!("{:04x}", h.to_bits()))
        }
        DType::BFloat16 => {
            let h = f64_to_bf16(v);
            (f64::from(h.to_f32()), format!("{:04x}", h.to_bits()))
        }
        _ => {
            let f = v as f32;
            (f64::from(f), format!("{:08x}", f.to_bits()))
        }
    };
    DtypeValue {
        name: name.to_string(),
        value,
        bits,
    }
}

/// Words drawn between two states of a generator (`None` past 2^32).
pub(crate) fn words_between(before: &CpuGenerator, after: &CpuGenerator) -> Option<u64> {
    let mut e = before.engine().clone();
    let goal = after.engine();
    let n = 624u64;
    let mut count = 0u64;
    let diff = (u64::from(goal.next_index()) + n - u64::from(e.next_index())) % n;
    e.discard(diff);
    count += diff;
    while e != *goal {
        if count > 1 << 32 {
            return None;
        }
        e.discard(n);
        count += n;
    }
    Some(count)
}

impl InitCall {
    /// The call's arguments as Python writes them (`a=2.23606797749979, mode='fan_in'`).
    #[must_use]
    pub fn python_args(&self) -> String {
        python_args(self)
    }
}

fn python_args(call: &InitCall) -> String {
    call.args()
        .iter()
        .map(|(name, v)| match v {
            Literal::Float(x) => format!("{name}={}", format_f64(*x)),
            Literal::Int(i) => format!("{name}={i}"),
            Literal::Str(t) => format!("{name}='{t}'"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl ParamExplanation {
    /// Explains `call` on a tensor of `shape` and `dtype` named `name`.
    ///
    /// # Errors
    /// Whatever the call itself rejects for this tensor.
    pub fn of_init(
        name: &str,
        call: &InitCall,
        shape: &[usize],
        dtype: DType,
        cx: Context,
    ) -> Result<ParamExplanation> {
        let plan = call.plan(shape, dtype, cx)?;
        let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let before = CpuGenerator::with_seed(EXPLAIN_SEED);
        let mut g = before.clone();
        let view = View::contiguous(&size, dtype);
        let philox_offset = match cx.device {
            Device::Cpu => {
                call.apply_on_view(&mut g, &view, cx)?;
                None
            }
            Device::Cuda(d) => {
                // sparse_'s permutations draw from the CPU generator (`g`).
                let mut cuda = CudaGenerator::with_seed(EXPLAIN_SEED);
                call.apply_on_view_with(&mut Rng::Cuda(&mut cuda, d), Some(&mut g), &view, cx)?;
                Some((0, cuda.get_offset()))
            }
        };
        let words = words_between(&before, &g);
        let numel: usize = shape.iter().product();
        let (distribution, dtype_values, notes) = describe(&plan.sampling, dtype, numel);
        let args = python_args(call);
        let tensor = format!("empty({shape:?}, dtype=torch.{dtype})");
        Ok(ParamExplanation {
            name: name.to_string(),
            call: if args.is_empty() {
                format!("{}({tensor})", call.op_name())
            } else {
                format!("{}({tensor}, {args})", call.op_name())
            },
            shape: shape.to_vec(),
            dtype,
            quantities: plan.quantities,
            distribution,
            dtype_values,
            words,
            philox_offset,
            notes,
        })
    }

    /// The entry as indented text lines.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = format!("{}: {}\n", self.name, self.call);
        let width = self
            .quantities
            .iter()
            .map(|q| q.name.len())
            .max()
            .unwrap_or(0)
            .max(8);
        for q in &self.quantities {
            let _ = writeln!(
                out,
                "  {:width$} = {} = {}",
                q.name,
                q.formula,
                q.value.to_python()
            );
        }
        let _ = writeln!(out, "  {:width$} : {}", "draws", self.distribution);
        for v in &self.dtype_values {
            let _ = writeln!(
                out,
                "  {:width$} : {} = {} (0x{})",
                self.dtype.name(),
                v.name,
                format_f64(v.value),
                v.bits
            );
        }
        if let Some((a, b)) = self.philox_offset {
            let _ = writeln!(
                out,
                "  {:width$} : Philox offset {a} -> {b} (+{}) of the CUDA generator seeded with \
                 {EXPLAIN_SEED}",
                "offset",
                b.wrapping_sub(a)
            );
        }
        let words = match self.words {
            Some(w) => w.to_string(),
            None => "more than 2^32".into(),
        };
        if self.philox_offset.is_none() {
            let _ = writeln!(
                out,
                "  {:width$} : {words} 32-bit words from a generator seeded with {EXPLAIN_SEED}",
                "words"
            );
        } else if self.words != Some(0) {
            // On a CUDA device, what the step drew on the CPU (sparse_'s permutations).
            let _ = writeln!(
                out,
                "  {:width$} : {words} 32-bit words from the CPU generator seeded with \
                 {EXPLAIN_SEED}",
                "words"
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "  {:width$} : {n}", "note");
        }
        out
    }
}

/// The distribution or fill in words, the values the kernel uses in the dtype, and notes.
fn describe(
    sampling: &Sampling,
    dtype: DType,
    numel: usize,
) -> (String, Vec<DtypeValue>, Vec<String>) {
    let f = format_f64;
    let mut dtype_values = Vec::new();
    let mut notes = Vec::new();
    let distribution = match sampling {
        Sampling::Nothing => "nothing: a zero-element tensor is returned unchanged".into(),
        Sampling::Uniform { from, to } => {
            dtype_values.push(in_dtype("from", dtype, *from));
            dtype_values.push(in_dtype("to", dtype, *to));
            format!("U({}, {})", f(*from), f(*to))
        }
        Sampling::Normal { mean, std } => {
            if numel >= 16 && matches!(dtype, DType::Float32 | DType::Float16 | DType::BFloat16) {
                dtype_values.push(in_dtype("mean (fill path)", DType::Float32, *mean));
                dtype_values.push(in_dtype("std (fill path)", DType::Float32, *std));
            } else {
                notes.push(
                    "fewer than 16 elements: per-element Box-Muller in double, z * std + mean \
                     in double, then rounded; the second sample of each pair is cached"
                        .into(),
                );
            }
            format!("N({}, {}^2)", f(*mean), f(*std))
        }
        Sampling::TruncNormal {
            mean,
            std,
            a,
            b,
            algorithm,
        } => {
            match algorithm {
                TruncAlgorithm::InverseCdf { from, to, .. } => {
                    dtype_values.push(in_dtype("uniform from", dtype, *from));
                    dtype_values.push(in_dtype("uniform to", dtype, *to));
                    notes.push(
                        "inverse CDF: uniform_(from, to), erfinv_, mul_(std*sqrt(2)), \
                         add_(mean), clamp_(a, b)"
                            .into(),
                    );
                }
                TruncAlgorithm::RejectNormal { .. } => notes.push(
                    "rejection: normal_(mean, std) on the whole tensor, redrawn in full each \
                     round; rejected elements take the new round's value"
                        .into(),
                ),
                TruncAlgorithm::RejectUniform { .. } => notes.push(
                    "rejection: uniform_(a, b) proposals and uniform_() acceptance draws on \
                     the whole tensor per round, accepted when log(u) <= log_pdf - log_peak"
                        .into(),
                ),
            }
            format!(
                "N({}, {}^2) truncated to [{}, {}]",
                f(*mean),
                f(*std),
                f(*a),
                f(*b)
            )
        }
        Sampling::Fill { value } => {
            if dtype.is_float() {
                dtype_values.push(in_dtype("value", dtype, *value));
            }
            format!("fill with {}", f(*value))
        }
        Sampling::Eye => "identity: ones on the diagonal, zeros elsewhere".into(),
        Sampling::Dirac { groups } => {
            format!("zeros, and per group a one at [g*opg + d, d, centre...] (groups={groups})")
        }
        Sampling::Orthogonal { rows, cols, gain } => {
            notes.push(
                "QR: torch-rng uses a Householder QR in double; PyTorch calls LAPACK (MKL), \
                 so results agree within a few eps, not to the bit"
                    .into(),
            );
            format!(
                "Q of the QR of a {rows}x{cols} N(0, 1) draw{}, column signs from diag(R), \
                 times {}",
                if rows < cols { " (transposed)" } else { "" },
                f(*gain)
            )
        }
        Sampling::Sparse { zeros, std } => {
            notes.push(
                "per column, randperm(rows) from the default generator, even with generator="
                    .into(),
            );
            format!("N(0, {}^2), then {zeros} zeros per column", f(*std))
        }
    };
    (distribution, dtype_values, notes)
}

impl Explanation {
    /// Explains one `torch.nn.init` call on a tensor of `shape` and `dtype`.
    ///
    /// # Errors
    /// Whatever the call rejects for this tensor.
    pub fn of_init(
        call: &InitCall,
        shape: &[usize],
        dtype: DType,
        cx: Context,
    ) -> Result<Explanation> {
        Ok(Explanation {
            subject: call.op_name().to_string(),
            cx,
            params: vec![ParamExplanation::of_init("tensor", call, shape, dtype, cx)?],
        })
    }

    /// Human-readable text.
    #[must_use]
    pub fn to_text(&self) -> String {
        let mut out = heading(&self.subject, self.cx);
        out.push_str(")\n");
        for p in &self.params {
            out.push_str(&p.to_text());
        }
        out
    }
}

#[cfg(feature = "json")]
impl Explanation {
    /// The explanation as JSON (for `torch-rng explain --json`).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        json!({
            "subject": self.subject,
            "capability": self.cx.capability.name(),
            "era_first_release": self.cx.era.first_release(),
            "device": device_json(self.cx),
            "params": self.params.iter().map(ParamExplanation::to_json).collect::<Vec<_>>(),
        })
    }
}

#[cfg(feature = "json")]
impl ParamExplanation {
    /// One entry as JSON (an element of `params` in [`Explanation::to_json`]).
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let num = |n: &Number| match n {
            Number::Int(i) => json!(i),
            Number::Float(f) if f.is_finite() => json!(f),
            Number::Float(f) => json!(format_f64(*f)),
        };
        let p = self;
        json!({
            "name": p.name,
            "call": p.call,
            "shape": p.shape,
            "dtype": p.dtype.name(),
            "quantities": p.quantities.iter().map(|q| json!({
                "name": q.name, "formula": q.formula, "value": num(&q.value),
            })).collect::<Vec<_>>(),
            "distribution": p.distribution,
            "dtype_values": p.dtype_values.iter().map(|v| json!({
                "name": v.name, "value": format_f64(v.value), "bits": v.bits,
            })).collect::<Vec<_>>(),
            "words": p.words,
            "philox_offset": p.philox_offset.map(|(a, b)| json!([a, b])),
            "seed": EXPLAIN_SEED,
            "notes": p.notes,
        })
    }
}

/// The device of an explanation as JSON: `"cpu"`, or the CUDA device's profile and era.
#[cfg(feature = "json")]
pub(crate) fn device_json(cx: Context) -> serde_json::Value {
    match cx.device {
        Device::Cpu => serde_json::json!("cpu"),
        Device::Cuda(d) => serde_json::json!({
            "device": "cuda",
            "gpu": d.profile.name(),
            "sm_count": d.profile.sm_count(),
            "max_threads_per_sm": d.profile.max_threads_per_sm(),
            "cuda_releases": d.era.releases(),
        }),
    }
}

/// `--key value` arguments, each used at most once.
struct Args<'a> {
    args: &'a [(String, String)],
    used: Vec<bool>,
}

impl Args<'_> {
    fn get(&mut self, key: &str) -> Option<&str> {
        let i = self.args.iter().position(|(k, _)| k == key)?;
        self.used[i] = true;
        Some(&self.args[i].1)
    }
}

impl super::ArgSource for Args<'_> {
    fn float(&mut self, key: &str) -> Result<Option<f64>> {
        self.get(key)
            .map(|v| {
                super::parse_float(v)
                    .ok_or_else(|| Error::arg("explain", format!("--{key} {v}: not a number")))
            })
            .transpose()
    }

    fn int(&mut self, key: &str) -> Result<Option<i64>> {
        self.get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| Error::arg("explain", format!("--{key} {v}: not an integer")))
            })
            .transpose()
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self.get(key).map(str::to_string))
    }

    fn error(&self, reason: String) -> Error {
        Error::arg("explain", reason)
    }
}

impl InitCall {
    /// The call to `name` (`nn.init.kaiming_uniform_` or `kaiming_uniform_`) from `(key, value)`
    /// arguments as text (the command line's `--a 0.1 --mode fan_out`), typed by the function's
    /// declaration ([`super::INIT_FUNCTIONS`]), with PyTorch's defaults for the rest.
    ///
    /// # Errors
    /// An unknown function or argument, a missing required one, or a value that does not parse.
    pub fn from_text_args(name: &str, args: &[(String, String)]) -> Result<InitCall> {
        let mut a = Args {
            args,
            used: vec![false; args.len()],
        };
        let call = InitCall::read(name, &mut a)?.ok_or_else(|| {
            Error::unsupported(format!("explain: unknown init function '{name}'"))
        })?;
        if let Some(i) = a.used.iter().position(|u| !u) {
            return Err(Error::arg(
                "explain",
                format!("{} takes no argument --{}", call.op_name(), args[i].0),
            ));
        }
        Ok(call)
    }
}

/// The start of an explanation's first line, `subject (the era of PyTorch 2.x+, cap kernels`,
/// left open for the caller's remarks and closing parenthesis.
pub(crate) fn heading(subject: &str, cx: Context) -> String {
    match cx.device {
        Device::Cpu => format!(
            "{subject} (the era of PyTorch {}+, {} kernels",
            cx.era.first_release(),
            cx.capability
        ),
        Device::Cuda(d) => format!(
            "{subject} (the era of PyTorch {}+, on CUDA: {}, {} SMs x {} threads, CUDA kernels \
             of {}",
            cx.era.first_release(),
            d.profile.name(),
            d.profile.sm_count(),
            d.profile.max_threads_per_sm(),
            d.era.releases()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaiming_example_from_the_issue() {
        let call = InitCall::from_text_args(
            "nn.init.kaiming_uniform_",
            &[("a".into(), "2.2360679774997896".into())],
        )
        .unwrap();
        let e = Explanation::of_init(&call, &[4, 3], DType::Float32, Context::default()).unwrap();
        let p = &e.params[0];
        assert_eq!(p.quantities[0].value, Number::Int(3));
        // The issue says ...258; the double sqrt(2 / (1 + a^2)) is ...257.
        assert_eq!(
            p.quantities[1].value,
            Number::Float(0.577_350_269_189_625_7)
        );
        assert_eq!(p.words, Some(12));
        assert_eq!(p.dtype_values[1].bits, "3f13cd3a");
        let text = e.to_text();
        assert!(text.contains("fan_in"), "{text}");
        assert!(
            text.contains("U(-0.5773502691896257, 0.5773502691896257)"),
            "{text}"
        );
    }

    #[test]
    fn word_counts_follow_the_kernels() {
        let t = Context::default();
        let words = |call: InitCall, shape: &[usize], dtype| {
            ParamExplanation::of_init("t", &call, shape, dtype, t)
                .unwrap()
                .words
        };
        assert_eq!(
            words(
                InitCall::Normal {
                    mean: 0.0,
                    std: 1.0
                },
                &[17],
                DType::Float32
            ),
            Some(33)
        );
        assert_eq!(
            words(InitCall::Uniform { a: 0.0, b: 1.0 }, &[5], DType::Float64),
            Some(10)
        );
        assert_eq!(
            words(
                InitCall::Normal {
                    mean: 0.0,
                    std: 1.0
                },
                &[3],
                DType::Float32
            ),
            Some(8)
        );
        assert_eq!(words(InitCall::Ones, &[3], DType::Float32), Some(0));
        assert_eq!(
            words(InitCall::Uniform { a: 0.0, b: 1.0 }, &[700], DType::Float32),
            Some(700)
        );
    }

    #[test]
    fn bad_arguments() {
        assert!(InitCall::from_text_args("nn.init.gelu_", &[]).is_err());
        assert!(InitCall::from_text_args("xavier_uniform_", &[("a".into(), "1".into())]).is_err());
        assert!(InitCall::from_text_args("uniform_", &[("a".into(), "x".into())]).is_err());
    }
}
