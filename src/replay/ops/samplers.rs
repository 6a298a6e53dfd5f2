//! Sampler ops: `randperm`, `randint`/`randint_like`/`random_`, `bernoulli`, dropout,
//! `exponential_`, `geometric_`, `log_normal_`, `cauchy_`, `multinomial` and the tensor overloads
//! of `normal`.
//!
//! Tensor arguments are `{"dtype": D, "data": nested list}` or `{"step": K}` (with `"output":
//! NAME` for a step with several outputs), as `golden/README.md` documents.

use serde_json::Value;

use super::tensor_arg::{step_reference, TensorArg};
use super::{Draws, StepOp};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::{self, View};
use crate::replay::{Fields, Output, StepContext};

/// Shape and row-major values of a nested JSON list.
fn flatten(
    f: &Fields<'_>,
    key: &str,
    v: &Value,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<f64>,
) -> Result<()> {
    match v {
        Value::Array(items) => {
            if shape.len() == depth {
                shape.push(items.len());
            } else if shape[depth] != items.len() {
                return Err(f.err(format!("'{key}': ragged nested list")));
            }
            for x in items {
                flatten(f, key, x, depth + 1, shape, out)?;
            }
            Ok(())
        }
        other => {
            if shape.len() != depth {
                return Err(f.err(format!("'{key}': ragged nested list")));
            }
            out.push(f.float_of(key, other)?);
            Ok(())
        }
    }
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
        let (mut shape, mut vals) = (Vec::new(), Vec::new());
        flatten(f, key, &v, 0, &mut shape, &mut vals)?;
        let t = ops::tensor_from_f64(shape, dtype, &vals).map_err(|e| f.err(e.to_string()))?;
        return Ok(TensorArg::Literal(t));
    }
    let Value::Object(mut m) = v else {
        return Err(f.err(format!("'{key}' must be a tensor object, found {v}")));
    };
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
    let (mut shape, mut vals) = (Vec::new(), Vec::new());
    flatten(f, key, &data, 0, &mut shape, &mut vals)?;
    // torch.tensor converts each Python number to the dtype as a C++ static_cast would.
    let t = ops::tensor_from_f64(shape, dtype, &vals).map_err(|e| f.err(e.to_string()))?;
    Ok(TensorArg::Literal(t))
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

impl StepOp for Sampler {
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
        match self {
            Dropout::Functional { input, p, training } => {
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
            // `inplace` changes nothing in the values.
            f.opt_bool("inplace", false)?;
            boxed(Dropout::Functional { input, p, training })
        }
        "nn.Dropout" => {
            let input = req_tensor(f, "input")?;
            let p = f.opt_f64("p", 0.5)?;
            f.opt_bool("inplace", false)?;
            boxed(Dropout::Functional {
                input,
                p,
                training: true,
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
