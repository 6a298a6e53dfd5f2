//! The stateless Philox ops of PyTorch 2.15: `_philox_uniform_`, `_philox_normal_`,
//! `_philox_randint_`, `_philox_key_split`, `_philox_key_fold_in` (fields as in
//! `tools/golden_ops/philox.py`).
//!
//! Keys are tensor arguments: `{"dtype": D, "data": nested list}`, a bare nested list (int64 if
//! every entry is an integer, as `torch.tensor` infers), or `{"step": K}` for an earlier step's
//! output. Integer literals of int64 and uint64 tensors are read exactly (a seed above 2^53 must
//! not pass through a double). The ops draw from no generator.

use serde_json::Value;

use super::tensor_arg::{nested, step_reference, TensorArg as Arg};
use super::{Draws, StepOp};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::ops::{self, View};
use crate::replay::{Fields, Output, StepContext};
use crate::stateless::{self, StatelessDevice};
use crate::tensor::{Storage, Tensor};

/// A JSON number as an exact integer, if it is one.
fn exact_int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.to_string().parse::<i128>().ok(),
        _ => None,
    }
}

/// `torch.tensor(data, dtype=dtype)`, integers of int64/uint64 exact.
fn literal(f: &Fields<'_>, key: &str, dtype: Option<DType>, data: &Value) -> Result<Tensor> {
    let (shape, leaves) = nested(f, key, data)?;
    let ints: Option<Vec<i128>> = leaves.iter().map(|v| exact_int(v)).collect();
    let dtype = dtype.unwrap_or(if ints.is_some() && !leaves.is_empty() {
        DType::Int64
    } else {
        DType::Float32
    });
    let overflow = |x: i128| f.err(format!("'{key}': {x} does not fit in {dtype}"));
    match (dtype, &ints) {
        (DType::UInt64, Some(v)) => {
            let d = v
                .iter()
                .map(|&x| u64::try_from(x).map_err(|_| overflow(x)))
                .collect::<Result<Vec<u64>>>()?;
            Ok(Tensor::new(shape, Storage::U64(d))?)
        }
        (DType::Int64, Some(v)) => {
            let d = v
                .iter()
                .map(|&x| i64::try_from(x).map_err(|_| overflow(x)))
                .collect::<Result<Vec<i64>>>()?;
            Ok(Tensor::new(shape, Storage::I64(d))?)
        }
        _ => {
            let vals = leaves
                .iter()
                .map(|v| f.float_of(key, v))
                .collect::<Result<Vec<f64>>>()?;
            ops::tensor_from_f64(shape, dtype, &vals).map_err(|e| f.err(e.to_string()))
        }
    }
}

fn arg_of(f: &Fields<'_>, key: &str, v: Value) -> Result<Arg> {
    if let Value::Array(_) = &v {
        return Ok(Arg::Literal(literal(f, key, None, &v)?));
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
    Ok(Arg::Literal(literal(f, key, Some(dtype), &data)?))
}

fn req_arg(f: &mut Fields<'_>, key: &str) -> Result<Arg> {
    let v = f
        .take(key)
        .ok_or_else(|| f.err(format!("missing field '{key}'")))?;
    arg_of(f, key, v)
}

/// An optional integer (absent or `null` is `None`), range-checked when the step runs.
fn opt_int(f: &mut Fields<'_>, key: &str) -> Result<Option<i128>> {
    match f.take(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => Ok(Some(f.int_of(key, &v)?)),
    }
}

/// A Python int passed to an `int64_t` parameter: PyTorch rejects one that does not fit.
fn as_i64(op: &str, name: &str, v: i128) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::arg(op, format!("{name} = {v} does not fit in int64")))
}

#[derive(Debug)]
enum FoldData {
    Int(i128),
    Tensor(Arg),
}

#[derive(Debug)]
enum Philox {
    Uniform {
        view: View,
        key: Arg,
        low: f64,
        high: f64,
    },
    Normal {
        view: View,
        key: Arg,
        mean: f64,
        std: f64,
    },
    Randint {
        view: View,
        key: Arg,
        low: Option<i128>,
        high: Option<i128>,
    },
    Split {
        key: Arg,
        num_splits: i128,
    },
    FoldIn {
        key: Arg,
        data: FoldData,
    },
}

impl StepOp for Philox {
    fn references(&self) -> Vec<usize> {
        let args: Vec<&Arg> = match self {
            Philox::Uniform { key, .. }
            | Philox::Normal { key, .. }
            | Philox::Randint { key, .. }
            | Philox::Split { key, .. } => vec![key],
            Philox::FoldIn { key, data } => match data {
                FoldData::Int(_) => vec![key],
                FoldData::Tensor(d) => vec![key, d],
            },
        };
        args.into_iter().filter_map(Arg::step).collect()
    }
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        // The kernel of the case's device (the CPU's, or the CUDA kernel of the same op).
        let dev = if ctx.cuda_device().is_some() {
            StatelessDevice::Cuda
        } else {
            StatelessDevice::Cpu
        };
        let t = match self {
            Philox::Uniform {
                view,
                key,
                low,
                high,
            } => stateless::philox_uniform_(view, &*key.resolve(ctx.previous)?, *low, *high, dev)?,
            Philox::Normal {
                view,
                key,
                mean,
                std,
            } => stateless::philox_normal_(view, &*key.resolve(ctx.previous)?, *mean, *std, dev)?,
            Philox::Randint {
                view,
                key,
                low,
                high,
            } => {
                const OP: &str = "_philox_randint_";
                let low = low.map(|v| as_i64(OP, "low", v)).transpose()?;
                let high = high.map(|v| as_i64(OP, "high", v)).transpose()?;
                stateless::philox_randint_(view, &*key.resolve(ctx.previous)?, low, high, dev)?
            }
            Philox::Split { key, num_splits } => {
                let n = as_i64("_philox_key_split", "num_splits", *num_splits)?;
                stateless::philox_key_split(&*key.resolve(ctx.previous)?, n)?
            }
            Philox::FoldIn { key, data } => {
                let k = key.resolve(ctx.previous)?;
                match data {
                    FoldData::Int(v) => stateless::philox_key_fold_in(
                        &k,
                        as_i64("_philox_key_fold_in", "data", *v)?,
                    )?,
                    FoldData::Tensor(a) => {
                        stateless::philox_key_fold_in_tensor(&k, &*a.resolve(ctx.previous)?)?
                    }
                }
            }
        };
        Ok(Output::Tensor(t))
    }

    fn draws(&self) -> Draws {
        Draws::Nothing
    }

    fn takes_generator(&self) -> bool {
        false
    }
}

fn parse_inner(name: &str, f: &mut Fields<'_>) -> Result<Box<dyn StepOp>> {
    let op = match name {
        "_philox_uniform_" => Philox::Uniform {
            view: f.view()?,
            key: req_arg(f, "key")?,
            low: f.opt_f64("low", 0.0)?,
            high: f.opt_f64("high", 1.0)?,
        },
        "_philox_normal_" => Philox::Normal {
            view: f.view()?,
            key: req_arg(f, "key")?,
            mean: f.opt_f64("mean", 0.0)?,
            std: f.opt_f64("std", 1.0)?,
        },
        "_philox_randint_" => Philox::Randint {
            view: f.view()?,
            key: req_arg(f, "key")?,
            low: opt_int(f, "low")?,
            high: opt_int(f, "high")?,
        },
        "_philox_key_split" => Philox::Split {
            key: req_arg(f, "key")?,
            num_splits: f.req_int("num_splits")?,
        },
        "_philox_key_fold_in" => {
            let key = req_arg(f, "key")?;
            let data = match f.take("data") {
                Some(v @ (Value::Object(_) | Value::Array(_))) => {
                    FoldData::Tensor(arg_of(f, "data", v)?)
                }
                Some(v) => FoldData::Int(f.int_of("data", &v)?),
                None => return Err(f.err("missing field 'data'")),
            };
            Philox::FoldIn { key, data }
        }
        other => return Err(f.err(format!("unknown op '{other}'"))),
    };
    Ok(Box::new(op))
}

const NAMES: &[&str] = &[
    "_philox_uniform_",
    "_philox_normal_",
    "_philox_randint_",
    "_philox_key_split",
    "_philox_key_fold_in",
];

/// Recognises the stateless Philox ops.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    NAMES.contains(&name).then(|| parse_inner(name, f))
}
