//! Sampler ops: `randperm`, `randint`/`randint_like`/`random_`, `bernoulli`, dropout,
//! `exponential_`, `geometric_`, `log_normal_`, `cauchy_`, `multinomial` and the tensor overloads
//! of `normal`.
//!
//! Tensor arguments are `{"dtype": D, "data": nested list}`, `{"fill": v, "size": [...],
//! "dtype": D}` (`torch.full`; in a CUDA case optionally with the layout keys `permute`, `narrow`,
//! `storage_offset` that decide the fused dropout kernel's vector width) or `{"step": K}` (with
//! `"output": NAME` for a step with several outputs), as `golden/README.md` documents.
//!
//! In a CUDA case every sampler runs the CUDA kernel on the device's generator
//! ([`crate::cuda::ops`]); `multinomial` and the tensor overloads of `normal`, which the CUDA
//! emulation lacks, are refused when such a case is read.

use serde_json::Value;

use super::tensor_arg::{nested, step_reference, TensorArg};
use super::{Devices, Draws, StepOp};
use crate::cuda::ops::{self as cuda, DropoutInput};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::{self, View};
use crate::replay::{Fields, Output, StepContext};
use crate::tensor::{Storage, Tensor};

/// Shape and row-major values of a nested JSON list.
fn flatten(f: &Fields<'_>, key: &str, v: &Value) -> Result<(Vec<usize>, Vec<f64>)> {
    let (shape, leaves) = nested(f, key, v)?;
    let vals = leaves
        .into_iter()
        .map(|x| f.float_of(key, x))
        .collect::<Result<_>>()?;
    Ok((shape, vals))
}

/// Whether a bare nested list holds a float (as Python's `torch.tensor(data)` infers the dtype:
/// float32 if any entry is a float, int64 if all are integers).
fn has_float_entry(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(has_float_entry),
        Value::Number(n) => n.to_string().contains(['.', 'e', 'E']),
        Value::String(_) => true,
        _ => false,
    }
}

fn tensor_arg_of(f: &Fields<'_>, key: &str, v: Value) -> Result<TensorArg> {
    if let Value::Array(_) = &v {
        let dtype = if has_float_entry(&v) || !leaf_exists(&v) {
            DType::Float32
        } else {
            DType::Int64
        };
        let (shape, vals) = flatten(f, key, &v)?;
        let t = ops::tensor_from_f64(shape, dtype, &vals).map_err(|e| f.err(e.to_string()))?;
        return Ok(TensorArg::Literal(t));
    }
    let Value::Object(mut m) = v else {
        return Err(f.err(format!("'{key}' must be a tensor object, found {v}")));
    };
    if let Some(fill) = m.remove("fill") {
        return filled(f, key, &fill, m);
    }
    if let Some(r) = step_reference(f, key, &mut m)? {
        return Ok(r);
    }
    let dtype = match m.remove("dtype") {
        Some(Value::String(s)) => {
            DType::parse(&s).map_err(|_| f.err(format!("unknown dtype '{s}'")))?
        }
        _ => return Err(f.err(format!("'{key}' needs \"dtype\" (a string) and \"data\""))),
    };
    let data = m
        .remove("data")
        .ok_or_else(|| f.err(format!("'{key}' needs \"data\"")))?;
    if let Some(k) = m.keys().next() {
        return Err(f.err(format!("'{key}': unknown key '{k}' in a tensor literal")));
    }
    let (shape, vals) = flatten(f, key, &data)?;
    // torch.tensor converts each Python number to the dtype as a C++ static_cast would.
    let t = ops::tensor_from_f64(shape, dtype, &vals).map_err(|e| f.err(e.to_string()))?;
    Ok(TensorArg::Literal(t))
}

/// Non-negative integers of a JSON list.
fn usizes(f: &Fields<'_>, key: &str, v: &Value) -> Result<Vec<usize>> {
    let Value::Array(items) = v else {
        return Err(f.err(format!("'{key}' must be a list of integers, found {v}")));
    };
    items
        .iter()
        .map(|x| {
            let n = f.int_of(key, x)?;
            usize::try_from(n).map_err(|_| f.err(format!("'{key}': {n} is negative")))
        })
        .collect()
}

/// `{"fill": v, "size": [...], "dtype": D}`: `torch.full(size, v, dtype=D)` (float32 by default).
/// In a CUDA case, optionally one of `"permute": [...]` (a dense permuted view of that storage),
/// `"narrow": k` (the first `k` entries of the last dimension: not dense) or
/// `"storage_offset": k` (the tensor starts `k` elements into a fresh buffer: less aligned),
/// as `tools/gen_golden_cuda.py` makes them.
fn filled(
    f: &Fields<'_>,
    key: &str,
    fill: &Value,
    mut m: serde_json::Map<String, Value>,
) -> Result<TensorArg> {
    let value = f.float_of(&format!("{key}.fill"), fill)?;
    let size = m
        .remove("size")
        .ok_or_else(|| f.err(format!("'{key}' needs \"size\" with \"fill\"")))?;
    let size = usizes(f, &format!("{key}.size"), &size)?;
    let dtype = match m.remove("dtype") {
        None | Some(Value::Null) => DType::Float32,
        Some(Value::String(s)) => {
            DType::parse(&s).map_err(|_| f.err(format!("unknown dtype '{s}'")))?
        }
        Some(v) => return Err(f.err(format!("'{key}.dtype' must be a string, found {v}"))),
    };
    let mut layout = DropoutInput::default();
    let mut shape = size.clone();
    let layouts: Vec<String> = ["permute", "narrow", "storage_offset"]
        .iter()
        .filter(|k| m.get(**k).is_some_and(|v| !v.is_null()))
        .map(|k| (*k).to_string())
        .collect();
    if !layouts.is_empty() && !f.cuda() {
        return Err(f.err(format!(
            "'{key}.{}' describes a CUDA tensor's layout: only in a case with \"device\": \"cuda\"",
            layouts[0]
        )));
    }
    if layouts.len() > 1 {
        return Err(f.err(format!(
            "'{key}': at most one of permute, narrow, storage_offset"
        )));
    }
    if let Some(p) = m.remove("permute").filter(|p| !p.is_null()) {
        let perm = usizes(f, &format!("{key}.permute"), &p)?;
        let mut seen = vec![false; size.len()];
        if perm.len() != size.len()
            || perm
                .iter()
                .any(|&i| i >= size.len() || std::mem::replace(&mut seen[i], true))
        {
            return Err(f.err(format!(
                "'{key}.permute' must be a permutation of the {} dimensions of size",
                size.len()
            )));
        }
        shape = perm.iter().map(|&i| size[i]).collect();
        layout.perm = Some(perm);
    }
    if let Some(k) = m.remove("narrow").filter(|k| !k.is_null()) {
        let k = usizes(f, &format!("{key}.narrow"), &Value::Array(vec![k]))?[0];
        match shape.last_mut() {
            Some(last) if k <= *last => *last = k,
            _ => {
                return Err(f.err(format!(
                    "'{key}.narrow' = {k} must be at most the last dimension of size"
                )))
            }
        }
        layout.dense = false;
    }
    if let Some(k) = m.remove("storage_offset").filter(|k| !k.is_null()) {
        let k = usizes(f, &format!("{key}.storage_offset"), &Value::Array(vec![k]))?[0] as u64;
        // The buffer is 512-byte aligned; the view starts k elements in.
        let bytes = k.saturating_mul(dtype.size() as u64);
        layout.align_bytes = if bytes == 0 {
            512
        } else {
            1 << bytes.trailing_zeros().min(9)
        };
    }
    if let Some(k) = m.keys().next() {
        return Err(f.err(format!("'{key}': unknown key '{k}' in a fill argument")));
    }
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let n = n
        .filter(|&n| n.saturating_mul(dtype.size()) as u64 <= crate::tensor::MAX_BYTES)
        .ok_or_else(|| f.err(format!("'{key}': the tensor is too large")))?;
    let mut data = Storage::zeros(dtype, n);
    crate::dtype::check_fill_scalar("full", dtype, value).map_err(|e| f.err(e.to_string()))?;
    data.fill_f64(value);
    let t = Tensor::new(shape, data).map_err(|e| f.err(e.to_string()))?;
    Ok(TensorArg::Laid(t, layout))
}

/// Whether a nested list has any entry at all (`torch.tensor([])` is float32).
fn leaf_exists(v: &Value) -> bool {
    match v {
        Value::Array(items) => items.iter().any(leaf_exists),
        _ => true,
    }
}

fn req_tensor(f: &mut Fields<'_>, key: &str) -> Result<TensorArg> {
    let v = f
        .take(key)
        .ok_or_else(|| f.err(format!("missing field '{key}'")))?;
    tensor_arg_of(f, key, v)
}

/// `random_`'s `from`/`to` as given: `None` when absent; `Some(None)` for `"to": null`.
// `to: Some(None)` is Python's explicit `to=None`, distinct from an absent `to`.
#[allow(clippy::option_option)]
#[derive(Debug)]
struct RandomArgs {
    from: Option<i64>,
    to: Option<Option<i64>>,
}

#[derive(Debug)]
enum Sampler {
    Randperm {
        n: i64,
        dtype: DType,
    },
    Randint {
        low: i64,
        high: i64,
        size: Vec<i64>,
        dtype: DType,
    },
    RandintLike {
        view: View,
        low: i64,
        high: i64,
    },
    Random {
        view: View,
        args: RandomArgs,
    },
    BernoulliScalar {
        view: View,
        p: f64,
    },
    BernoulliTensor {
        view: View,
        p: TensorArg,
    },
    Bernoulli {
        input: TensorArg,
        p: Option<f64>,
    },
    Exponential {
        view: View,
        lambd: f64,
    },
    Geometric {
        view: View,
        p: f64,
    },
    LogNormal {
        view: View,
        mean: f64,
        std: f64,
    },
    Cauchy {
        view: View,
        median: f64,
        sigma: f64,
    },
    Multinomial {
        input: TensorArg,
        n: i64,
        replacement: bool,
    },
    NormalTT {
        mean: TensorArg,
        std: TensorArg,
    },
    NormalTF {
        mean: TensorArg,
        std: f64,
    },
    NormalFT {
        mean: f64,
        std: TensorArg,
    },
}

impl Sampler {
    /// The op on a CUDA device: the CUDA kernels, drawing from the device's generator.
    fn run_cuda(&self, ctx: &mut StepContext<'_>, d: crate::context::CudaDevice) -> Result<Tensor> {
        // Tensor arguments first (they borrow the earlier outputs, not the generators).
        let previous = ctx.previous;
        let p_tensor = match self {
            Sampler::BernoulliTensor { p, .. } => Some(p.resolve(previous)?),
            Sampler::Bernoulli { input, .. } => Some(input.resolve(previous)?),
            _ => None,
        };
        let (p, e) = (&d.profile, d.era);
        let g = ctx.cuda_gen();
        Ok(match self {
            Sampler::Randperm { n, dtype } => cuda::randperm(g, p, e, *n, *dtype)?,
            Sampler::Randint {
                low,
                high,
                size,
                dtype,
            } => cuda::randint(g, p, e, *low, *high, size, *dtype)?,
            Sampler::RandintLike { view, low, high } => {
                cuda::random_from_to(g, p, e, view, *low, Some(*high))?
            }
            Sampler::Random { view, args } => match (args.from, args.to) {
                (None, None) => cuda::random_(g, p, e, view)?,
                (None, Some(Some(to))) => cuda::random_from_to(g, p, e, view, 0, Some(to))?,
                (None, Some(None)) => {
                    return Err(Error::arg("random_", "'to' = None needs 'from'"));
                }
                (Some(from), to) => cuda::random_from_to(g, p, e, view, from, to.flatten())?,
            },
            Sampler::BernoulliScalar { view, p: prob } => {
                cuda::bernoulli_scalar_(g, p, e, view, *prob)?
            }
            Sampler::BernoulliTensor { view, .. } => {
                let probs = p_tensor.unwrap_or_else(|| unreachable!("resolved above"));
                cuda::bernoulli_tensor_(g, e, view, &probs)?
            }
            Sampler::Bernoulli { p: prob, .. } => {
                let x = p_tensor.unwrap_or_else(|| unreachable!("resolved above"));
                match prob {
                    // torch.bernoulli(x, p): empty_like(x).bernoulli_(p).
                    Some(q) => {
                        let size: Vec<i64> = x.shape().iter().map(|&s| s as i64).collect();
                        cuda::bernoulli_scalar_(g, p, e, &View::contiguous(&size, x.dtype()), *q)?
                    }
                    None => cuda::bernoulli(g, e, &x)?,
                }
            }
            Sampler::Exponential { view, lambd } => cuda::exponential_(g, p, e, view, *lambd)?,
            Sampler::Geometric { view, p: prob } => cuda::geometric_(g, p, e, view, *prob)?,
            Sampler::LogNormal { view, mean, std } => {
                cuda::log_normal_(g, p, e, view, *mean, *std)?
            }
            Sampler::Cauchy {
                view,
                median,
                sigma,
            } => cuda::cauchy_(g, p, e, view, *median, *sigma)?,
            Sampler::Multinomial { .. }
            | Sampler::NormalTT { .. }
            | Sampler::NormalTF { .. }
            | Sampler::NormalFT { .. } => {
                // Refused when the case is read (Devices::CpuOnly).
                return Err(Error::unsupported("this op on a CUDA device"));
            }
        })
    }
}

impl StepOp for Sampler {
    fn devices(&self) -> Devices {
        match self {
            Sampler::Multinomial { .. }
            | Sampler::NormalTT { .. }
            | Sampler::NormalTF { .. }
            | Sampler::NormalFT { .. } => Devices::CpuOnly,
            _ => Devices::Both,
        }
    }

    fn references(&self) -> Vec<usize> {
        let args: Vec<&TensorArg> = match self {
            Sampler::BernoulliTensor { p, .. } => vec![p],
            Sampler::Bernoulli { input, .. } | Sampler::Multinomial { input, .. } => vec![input],
            Sampler::NormalTT { mean, std } => vec![mean, std],
            Sampler::NormalTF { mean, .. } => vec![mean],
            Sampler::NormalFT { std, .. } => vec![std],
            _ => Vec::new(),
        };
        args.into_iter().filter_map(TensorArg::step).collect()
    }
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        if let Some(d) = ctx.cuda_device() {
            return Ok(Output::Tensor(self.run_cuda(ctx, d)?));
        }
        let cx = ctx.cx;
        let t = match self {
            Sampler::Randperm { n, dtype } => ops::randperm(ctx.gen(), *n, *dtype, cx)?,
            Sampler::Randint {
                low,
                high,
                size,
                dtype,
            } => ops::randint(ctx.gen(), *low, *high, size, *dtype, cx)?,
            Sampler::RandintLike { view, low, high } => {
                ops::randint_like(ctx.gen(), view, *low, *high, cx)?
            }
            Sampler::Random { view, args } => match (args.from, args.to) {
                (None, None) => ops::random_(ctx.gen(), view, cx)?,
                (None, Some(Some(to))) => ops::random_from_to(ctx.gen(), view, 0, Some(to), cx)?,
                (None, Some(None)) => {
                    return Err(Error::arg("random_", "'to' = None needs 'from'"));
                }
                (Some(from), to) => ops::random_from_to(ctx.gen(), view, from, to.flatten(), cx)?,
            },
            Sampler::BernoulliScalar { view, p } => {
                ops::bernoulli_scalar_(ctx.gen(), view, *p, cx)?
            }
            Sampler::BernoulliTensor { view, p } => {
                let p = p.resolve(ctx.previous)?;
                ops::bernoulli_tensor_(ctx.gen(), &view.size, view.dtype, &p)?
            }
            Sampler::Bernoulli { input, p } => {
                let x = input.resolve(ctx.previous)?;
                match p {
                    Some(p) => ops::bernoulli_p(ctx.gen(), &x, *p, cx)?,
                    None => ops::bernoulli(ctx.gen(), &x)?,
                }
            }
            Sampler::Exponential { view, lambd } => ops::exponential_(ctx.gen(), view, *lambd, cx)?,
            Sampler::Geometric { view, p } => ops::geometric_(ctx.gen(), view, *p, cx)?,
            Sampler::LogNormal { view, mean, std } => {
                ops::log_normal_(ctx.gen(), view, *mean, *std, cx)?
            }
            Sampler::Cauchy {
                view,
                median,
                sigma,
            } => ops::cauchy_(ctx.gen(), view, *median, *sigma, cx)?,
            Sampler::Multinomial {
                input,
                n,
                replacement,
            } => {
                let x = input.resolve(ctx.previous)?;
                ops::multinomial(ctx.gen(), &x, *n, *replacement, cx)?
            }
            Sampler::NormalTT { mean, std } => {
                let (m, s) = (mean.resolve(ctx.previous)?, std.resolve(ctx.previous)?);
                ops::normal_tensor_tensor(ctx.gen(), &m, &s, cx)?
            }
            Sampler::NormalTF { mean, std } => {
                let m = mean.resolve(ctx.previous)?;
                ops::normal_tensor_float(ctx.gen(), &m, *std, cx)?
            }
            Sampler::NormalFT { mean, std } => {
                let s = std.resolve(ctx.previous)?;
                ops::normal_float_tensor(ctx.gen(), *mean, &s, cx)?
            }
        };
        Ok(Output::Tensor(t))
    }
}

/// The dropouts: no `generator` (they draw from the default generator).
#[derive(Debug)]
enum Dropout {
    Functional {
        input: TensorArg,
        p: f64,
        training: bool,
        /// The CUDA kernels differ (the unfused path); the CPU values do not.
        inplace: bool,
    },
    Native {
        input: TensorArg,
        p: f64,
        train: bool,
    },
}

impl StepOp for Dropout {
    fn references(&self) -> Vec<usize> {
        match self {
            Dropout::Functional { input, .. } | Dropout::Native { input, .. } => {
                input.step().into_iter().collect()
            }
        }
    }
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let cx = ctx.cx;
        if let Some(d) = ctx.cuda_device() {
            let (pr, e) = (&d.profile, d.era);
            return Ok(match self {
                Dropout::Functional {
                    input,
                    p,
                    training,
                    inplace,
                } => {
                    let x = input.resolve(ctx.previous)?;
                    let layout = input.layout();
                    let g = ctx.cuda_gen();
                    Output::Tensor(cuda::dropout(
                        g,
                        pr,
                        e,
                        &x,
                        &layout,
                        *p,
                        (*training, *inplace),
                    )?)
                }
                Dropout::Native { input, p, train } => {
                    let x = input.resolve(ctx.previous)?;
                    let layout = input.layout();
                    let g = ctx.cuda_gen();
                    let (out, mask) = cuda::native_dropout(g, pr, e, &x, &layout, *p, *train)?;
                    Output::StateDict(vec![("output".into(), out), ("mask".into(), mask)])
                }
            });
        }
        match self {
            Dropout::Functional {
                input, p, training, ..
            } => {
                let x = input.resolve(ctx.previous)?;
                if !(0.0..=1.0).contains(p) || *training {
                    return Ok(Output::Tensor(ops::dropout(ctx.gen(), &x, *p, cx)?));
                }
                Ok(Output::Tensor(x.into_owned()))
            }
            Dropout::Native { input, p, train } => {
                let x = input.resolve(ctx.previous)?;
                let (out, mask) = ops::native_dropout(ctx.gen(), &x, *p, *train, cx)?;
                Ok(Output::StateDict(vec![
                    ("output".into(), out),
                    ("mask".into(), mask),
                ]))
            }
        }
    }
    fn draws(&self) -> Draws {
        Draws::StepGenerator
    }
    fn takes_generator(&self) -> bool {
        false
    }
}

fn boxed(op: impl StepOp + 'static) -> Box<dyn StepOp> {
    Box::new(op)
}

fn i64_of(f: &Fields<'_>, key: &str, v: &Value) -> Result<i64> {
    let n = f.int_of(key, v)?;
    i64::try_from(n).map_err(|_| f.err(format!("'{key}' = {n} does not fit in int64")))
}

fn opt_i64(f: &mut Fields<'_>, key: &str, default: i64) -> Result<i64> {
    f.take(key).map_or(Ok(default), |v| i64_of(f, key, &v))
}

fn dtype_or(f: &mut Fields<'_>, default: DType) -> Result<DType> {
    match f.take("dtype") {
        None | Some(Value::Null) => Ok(default),
        Some(Value::String(s)) => {
            DType::parse(&s).map_err(|_| f.err(format!("unknown dtype '{s}'")))
        }
        Some(v) => Err(f.err(format!("'dtype' must be a string, found {v}"))),
    }
}

#[allow(clippy::too_many_lines)] // one arm per op, as in the other areas
fn parse_inner(name: &str, f: &mut Fields<'_>) -> Result<Box<dyn StepOp>> {
    Ok(match name {
        "randperm" => boxed(Sampler::Randperm {
            n: f.req_i64("n")?,
            dtype: dtype_or(f, DType::Int64)?,
        }),
        "randint" => boxed(Sampler::Randint {
            low: opt_i64(f, "low", 0)?,
            high: f.req_i64("high")?,
            size: f.size()?,
            dtype: dtype_or(f, DType::Int64)?,
        }),
        "randint_like" => boxed(Sampler::RandintLike {
            view: f.view()?,
            low: opt_i64(f, "low", 0)?,
            high: f.req_i64("high")?,
        }),
        "random_" => {
            let view = f.view()?;
            let from = f.take("from").map(|v| i64_of(f, "from", &v)).transpose()?;
            let to = match f.take("to") {
                None => None,
                Some(Value::Null) => Some(None),
                Some(v) => Some(Some(i64_of(f, "to", &v)?)),
            };
            boxed(Sampler::Random {
                view,
                args: RandomArgs { from, to },
            })
        }
        "bernoulli_" => {
            let view = f.view()?;
            match f.take("p") {
                None => boxed(Sampler::BernoulliScalar { view, p: 0.5 }),
                Some(v @ (Value::Object(_) | Value::Array(_))) => boxed(Sampler::BernoulliTensor {
                    view,
                    p: tensor_arg_of(f, "p", v)?,
                }),
                Some(v) => boxed(Sampler::BernoulliScalar {
                    view,
                    p: f.float_of("p", &v)?,
                }),
            }
        }
        "bernoulli" => boxed(Sampler::Bernoulli {
            input: req_tensor(f, "input")?,
            p: match f.take("p") {
                None => None,
                Some(v) => Some(f.float_of("p", &v)?),
            },
        }),
        "nn.functional.dropout" => {
            let input = req_tensor(f, "input")?;
            let p = f.opt_f64("p", 0.5)?;
            let training = f.opt_bool("training", true)?;
            // `inplace` changes nothing in the CPU values (the CUDA path differs).
            let inplace = f.opt_bool("inplace", false)?;
            boxed(Dropout::Functional {
                input,
                p,
                training,
                inplace,
            })
        }
        "nn.Dropout" => {
            let input = req_tensor(f, "input")?;
            let p = f.opt_f64("p", 0.5)?;
            let inplace = f.opt_bool("inplace", false)?;
            boxed(Dropout::Functional {
                input,
                p,
                training: true,
                inplace,
            })
        }
        "native_dropout" => boxed(Dropout::Native {
            input: req_tensor(f, "input")?,
            p: f.req_f64("p")?,
            train: f.opt_bool("train", true)?,
        }),
        "exponential_" => boxed(Sampler::Exponential {
            view: f.view()?,
            lambd: f.opt_f64("lambd", 1.0)?,
        }),
        "geometric_" => boxed(Sampler::Geometric {
            view: f.view()?,
            p: f.req_f64("p")?,
        }),
        "log_normal_" => boxed(Sampler::LogNormal {
            view: f.view()?,
            mean: f.opt_f64("mean", 1.0)?,
            std: f.opt_f64("std", 2.0)?,
        }),
        "cauchy_" => boxed(Sampler::Cauchy {
            view: f.view()?,
            median: f.opt_f64("median", 0.0)?,
            sigma: f.opt_f64("sigma", 1.0)?,
        }),
        "multinomial" => boxed(Sampler::Multinomial {
            input: req_tensor(f, "input")?,
            n: f.req_i64("num_samples")?,
            replacement: f.opt_bool("replacement", false)?,
        }),
        "normal.Tensor_Tensor" => boxed(Sampler::NormalTT {
            mean: req_tensor(f, "mean")?,
            std: req_tensor(f, "std")?,
        }),
        "normal.Tensor_float" => boxed(Sampler::NormalTF {
            mean: req_tensor(f, "mean")?,
            std: f.opt_f64("std", 1.0)?,
        }),
        "normal.float_Tensor" => boxed(Sampler::NormalFT {
            mean: f.opt_f64("mean", 0.0)?,
            std: req_tensor(f, "std")?,
        }),
        other => return Err(f.err(format!("unknown op '{other}'"))),
    })
}

const NAMES: &[&str] = &[
    "randperm",
    "randint",
    "randint_like",
    "random_",
    "bernoulli_",
    "bernoulli",
    "nn.functional.dropout",
    "nn.Dropout",
    "native_dropout",
    "exponential_",
    "geometric_",
    "log_normal_",
    "cauchy_",
    "multinomial",
    "normal.Tensor_Tensor",
    "normal.Tensor_float",
    "normal.float_Tensor",
];

/// Recognises the sampler ops.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    NAMES.contains(&name).then(|| parse_inner(name, f))
}
