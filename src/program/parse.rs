//! Reading a `torch-rng-program/1` file (golden/PROGRAM-FORMAT.md) strictly: an unknown op or
//! field, a missing field or a value of the wrong type is an error naming the step.

use serde_json::{Map, Value};

use super::strided::{Geo, Val};
use crate::context::{Capability, DeviceSpec};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;

/// The format name a program file starts with.
pub const FORMAT: &str = "torch-rng-program/1";

/// A tensor reference: a delta from the cursor, and a view (or the tensor's own geometry).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ref {
    pub(crate) delta: i64,
    pub(crate) view: Option<Geo>,
}

/// The second operand of an element-wise op.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Other {
    Tensor(Ref),
    Number(Val),
}

/// Binary in-place arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinOp {
    Mul,
    Div,
    Add,
    Sub,
}

impl BinOp {
    pub(crate) fn name(self) -> &'static str {
        match self {
            BinOp::Mul => "mul_",
            BinOp::Div => "div_",
            BinOp::Add => "add_",
            BinOp::Sub => "sub_",
        }
    }
}

/// One program step.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Op {
    Empty {
        size: Vec<usize>,
        stride: Option<Vec<usize>>,
        dtype: DType,
        fill: Option<Val>,
    },
    Literal {
        size: Vec<usize>,
        stride: Option<Vec<usize>>,
        dtype: DType,
        data: Vec<Val>,
    },
    Randperm {
        n: i64,
        dtype: DType,
        gen: Option<String>,
    },
    Init {
        t: Ref,
        call: InitCall,
        gen: Option<String>,
    },
    Uniform {
        t: Ref,
        from: f64,
        to: f64,
        gen: Option<String>,
    },
    Normal {
        t: Ref,
        mean: f64,
        std: f64,
        gen: Option<String>,
    },
    /// `random_()` (no bounds), `random_(from, to)` (`to` may be None).
    Random {
        t: Ref,
        bounds: Option<(i64, Option<i64>)>,
        gen: Option<String>,
    },
    Bernoulli {
        t: Ref,
        p: f64,
        gen: Option<String>,
    },
    Exponential {
        t: Ref,
        lambd: f64,
        gen: Option<String>,
    },
    Fill {
        t: Ref,
        value: Val,
    },
    Copy {
        t: Ref,
        src: Ref,
    },
    Write {
        t: Ref,
        data: Vec<Val>,
    },
    Binary {
        op: BinOp,
        t: Ref,
        other: Other,
        alpha: Val,
    },
    Clamp {
        t: Ref,
        min: Option<Val>,
        max: Option<Val>,
    },
    Erfinv {
        t: Ref,
    },
    ManualSeed {
        gen: String,
        seed: i128,
    },
    SaveState {
        gen: String,
        slot: usize,
    },
    SetState {
        gen: String,
        slot: usize,
    },
    Repeat {
        n: usize,
        steps: Vec<Step>,
    },
}

/// A step and where it is in the file (`steps[3].steps[0]`) and in the recorded code.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Step {
    pub(crate) op: Op,
    pub(crate) path: String,
    pub(crate) at: Option<usize>,
}

/// The recording seed's check: capability and the SHA-256 of every `state_dict` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The seed the program was recorded with (`torch.manual_seed(seed)` before building).
    pub seed: i128,
    /// The kernel variant PyTorch ran.
    pub capability: Capability,
    /// SHA-256 (lowercase hex) of each `state_dict` entry's bytes, in `state_dict` order.
    pub sha256: Vec<String>,
    /// The first elements of each entry as bit patterns (lowercase hex, the case format's
    /// `head`), when the recorder stored them; empty otherwise.
    pub head: Vec<Vec<String>>,
}

/// Everything a program file holds.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Parsed {
    pub(crate) torch_version: String,
    /// The device the program was recorded on (`device` and the GPU fields; the CPU by default).
    pub(crate) device: DeviceSpec,
    pub(crate) expr: Option<String>,
    pub(crate) sources: Vec<String>,
    pub(crate) steps: Vec<Step>,
    pub(crate) state_dict: Vec<(String, usize, Option<Geo>)>,
    pub(crate) check: Option<Check>,
}

fn bad(at: &str, reason: impl Into<String>) -> Error {
    Error::CaseFile {
        location: format!("program {at}"),
        reason: reason.into(),
    }
}

struct Obj<'a> {
    map: Map<String, Value>,
    at: &'a str,
}

impl<'a> Obj<'a> {
    fn new(v: &Value, at: &'a str) -> Result<Obj<'a>> {
        match v {
            Value::Object(m) => Ok(Obj { map: m.clone(), at }),
            _ => Err(bad(at, "expected a JSON object")),
        }
    }

    fn take(&mut self, k: &str) -> Option<Value> {
        self.map.remove(k)
    }

    fn need(&mut self, k: &str) -> Result<Value> {
        self.take(k)
            .ok_or_else(|| bad(self.at, format!("missing field '{k}'")))
    }

    fn finish(self) -> Result<()> {
        match self.map.keys().next() {
            Some(k) => Err(bad(self.at, format!("unknown field '{k}'"))),
            None => Ok(()),
        }
    }
}

fn number(at: &str, key: &str, v: &Value) -> Result<Val> {
    match v {
        Value::Bool(b) => Ok(Val::B(*b)),
        Value::Number(n) => {
            let text = n.to_string();
            if text.contains(['.', 'e', 'E']) {
                text.parse::<f64>()
                    .map(Val::F)
                    .map_err(|_| bad(at, format!("'{key}': {text} is not a number")))
            } else {
                text.parse::<i128>()
                    .map(Val::I)
                    .map_err(|_| bad(at, format!("'{key}': {text} is out of range")))
            }
        }
        Value::String(s) if s == "inf" => Ok(Val::F(f64::INFINITY)),
        Value::String(s) if s == "-inf" => Ok(Val::F(f64::NEG_INFINITY)),
        Value::String(s) if s == "nan" => Ok(Val::F(f64::NAN)),
        _ => Err(bad(at, format!("'{key}' must be a number"))),
    }
}

fn float(at: &str, key: &str, v: &Value) -> Result<f64> {
    match number(at, key, v)? {
        Val::F(x) => Ok(x),
        Val::I(i) => Ok(i as f64),
        Val::B(_) => Err(bad(at, format!("'{key}' must be a number"))),
    }
}

fn int(at: &str, key: &str, v: &Value) -> Result<i128> {
    match number(at, key, v)? {
        Val::I(i) => Ok(i),
        _ => Err(bad(at, format!("'{key}' must be an integer"))),
    }
}

fn int64(at: &str, key: &str, v: &Value) -> Result<i64> {
    i64::try_from(int(at, key, v)?).map_err(|_| bad(at, format!("'{key}' is out of range")))
}

fn usize_of(at: &str, key: &str, v: &Value) -> Result<usize> {
    usize::try_from(int(at, key, v)?)
        .map_err(|_| bad(at, format!("'{key}' must be a non-negative integer")))
}

fn sizes(at: &str, key: &str, v: &Value) -> Result<Vec<usize>> {
    match v {
        Value::Array(a) => a.iter().map(|x| usize_of(at, key, x)).collect(),
        _ => Err(bad(at, format!("'{key}' must be a list of integers"))),
    }
}

fn string(at: &str, key: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(bad(at, format!("'{key}' must be a string"))),
    }
}

fn dtype(at: &str, v: &Value) -> Result<DType> {
    let name = string(at, "dtype", v)?;
    DType::parse(&name).map_err(|_| bad(at, format!("unknown dtype '{name}'")))
}

fn reference(at: &str, key: &str, v: &Value) -> Result<Ref> {
    match v {
        Value::Array(a) if a.len() == 4 => {
            let size = sizes(at, key, &a[2])?;
            let stride = sizes(at, key, &a[3])?;
            if size.len() != stride.len() {
                return Err(bad(at, format!("'{key}': sizes and strides differ in length")));
            }
            Ok(Ref {
                delta: int64(at, key, &a[0])?,
                view: Some(Geo {
                    offset: usize_of(at, key, &a[1])?,
                    size,
                    stride,
                }),
            })
        }
        Value::Number(_) => Ok(Ref {
            delta: int64(at, key, v)?,
            view: None,
        }),
        _ => Err(bad(
            at,
            format!("'{key}' must be a tensor reference (an integer or [delta, offset, sizes, strides])"),
        )),
    }
}

fn gen(o: &mut Obj<'_>) -> Result<Option<String>> {
    o.take("gen").map(|v| string(o.at, "gen", &v)).transpose()
}

fn values(at: &str, key: &str, v: &Value) -> Result<Vec<Val>> {
    match v {
        Value::Array(a) => a.iter().map(|x| number(at, key, x)).collect(),
        _ => Err(bad(at, format!("'{key}' must be a list of numbers"))),
    }
}

impl crate::init::ArgSource for Obj<'_> {
    fn float(&mut self, key: &str) -> Result<Option<f64>> {
        let at = self.at;
        self.take(key)
            .map(|v| {
                crate::init::json_float(&v)
                    .ok_or_else(|| bad(at, format!("'{key}' must be a number")))
            })
            .transpose()
    }

    fn int(&mut self, key: &str) -> Result<Option<i64>> {
        let at = self.at;
        self.take(key).map(|v| int64(at, key, &v)).transpose()
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        let at = self.at;
        self.take(key).map(|v| string(at, key, &v)).transpose()
    }

    fn error(&self, reason: String) -> Error {
        bad(self.at, reason)
    }
}

/// An init call as the recorder wrote it, read through the one schema of init calls
/// ([`crate::init::INIT_FUNCTIONS`]).
fn init_call(fname: &str, o: &mut Obj<'_>) -> Result<InitCall> {
    let at = o.at;
    InitCall::read(fname, o)?.ok_or_else(|| bad(at, format!("unknown op 'nn.init.{fname}'")))
}

#[allow(clippy::too_many_lines)] // one arm per op
fn step(v: &Value, path: &str, nsources: usize) -> Result<Step> {
    let mut o = Obj::new(v, path)?;
    let at = match o.take("at") {
        Some(v) => {
            let i = usize_of(path, "at", &v)?;
            if i >= nsources {
                return Err(bad(path, format!("'at': source {i} does not exist")));
            }
            Some(i)
        }
        None => None,
    };
    if let Some(n) = o.take("repeat") {
        let n = usize_of(path, "repeat", &n)?;
        let inner = o.need("steps")?;
        o.finish()?;
        let Value::Array(items) = inner else {
            return Err(bad(path, "'steps' must be a list"));
        };
        let steps = items
            .iter()
            .enumerate()
            .map(|(i, s)| step(s, &format!("{path}.steps[{i}]"), nsources))
            .collect::<Result<Vec<_>>>()?;
        return Ok(Step {
            op: Op::Repeat { n, steps },
            path: path.to_string(),
            at,
        });
    }
    let name = string(path, "op", &o.need("op")?)?;
    let p = path;
    let t = |o: &mut Obj<'_>| -> Result<Ref> { reference(p, "t", &o.need("t")?) };
    let op = match name.as_str() {
        "empty" | "literal" => {
            let size = sizes(p, "size", &o.need("size")?)?;
            let stride = o
                .take("stride")
                .map(|v| sizes(p, "stride", &v))
                .transpose()?;
            if stride.as_ref().is_some_and(|s| s.len() != size.len()) {
                return Err(bad(p, "'stride' and 'size' differ in length"));
            }
            let dtype = dtype(p, &o.need("dtype")?)?;
            if name == "empty" {
                let fill = o.take("fill").map(|v| number(p, "fill", &v)).transpose()?;
                Op::Empty {
                    size,
                    stride,
                    dtype,
                    fill,
                }
            } else {
                let data = values(p, "data", &o.need("data")?)?;
                Op::Literal {
                    size,
                    stride,
                    dtype,
                    data,
                }
            }
        }
        "randperm" => Op::Randperm {
            n: int64(p, "n", &o.need("n")?)?,
            dtype: dtype(p, &o.need("dtype")?)?,
            gen: gen(&mut o)?,
        },
        "uniform_" => Op::Uniform {
            t: t(&mut o)?,
            from: float(p, "from", &o.need("from")?)?,
            to: float(p, "to", &o.need("to")?)?,
            gen: gen(&mut o)?,
        },
        "normal_" => Op::Normal {
            t: t(&mut o)?,
            mean: float(p, "mean", &o.need("mean")?)?,
            std: float(p, "std", &o.need("std")?)?,
            gen: gen(&mut o)?,
        },
        "random_" => {
            let t = t(&mut o)?;
            let bounds = match (o.take("from"), o.take("to")) {
                (None, None) => None,
                (Some(f), to) => {
                    let to = match to {
                        None | Some(Value::Null) => None,
                        Some(v) => Some(int64(p, "to", &v)?),
                    };
                    Some((int64(p, "from", &f)?, to))
                }
                (None, Some(_)) => return Err(bad(p, "'to' without 'from'")),
            };
            Op::Random {
                t,
                bounds,
                gen: gen(&mut o)?,
            }
        }
        "bernoulli_" => Op::Bernoulli {
            t: t(&mut o)?,
            p: float(p, "p", &o.need("p")?)?,
            gen: gen(&mut o)?,
        },
        "exponential_" => Op::Exponential {
            t: t(&mut o)?,
            lambd: float(p, "lambd", &o.need("lambd")?)?,
            gen: gen(&mut o)?,
        },
        "fill_" => Op::Fill {
            t: t(&mut o)?,
            value: number(p, "value", &o.need("value")?)?,
        },
        "copy_" => Op::Copy {
            t: t(&mut o)?,
            src: reference(p, "src", &o.need("src")?)?,
        },
        "write" => Op::Write {
            t: t(&mut o)?,
            data: values(p, "data", &o.need("data")?)?,
        },
        "mul_" | "div_" | "add_" | "sub_" => {
            let op = match name.as_str() {
                "mul_" => BinOp::Mul,
                "div_" => BinOp::Div,
                "add_" => BinOp::Add,
                _ => BinOp::Sub,
            };
            let t = t(&mut o)?;
            let other = match (o.take("src"), o.take("other")) {
                (Some(r), None) => Other::Tensor(reference(p, "src", &r)?),
                (None, Some(v)) => Other::Number(number(p, "other", &v)?),
                _ => {
                    return Err(bad(
                        p,
                        "exactly one of 'src' (a tensor) and 'other' (a number) is needed",
                    ))
                }
            };
            let alpha = match o.take("alpha") {
                Some(v) if matches!(op, BinOp::Add | BinOp::Sub) => number(p, "alpha", &v)?,
                Some(_) => return Err(bad(p, "unknown field 'alpha'")),
                None => Val::I(1),
            };
            Op::Binary {
                op,
                t,
                other,
                alpha,
            }
        }
        "clamp_" => Op::Clamp {
            t: t(&mut o)?,
            min: o.take("min").map(|v| number(p, "min", &v)).transpose()?,
            max: o.take("max").map(|v| number(p, "max", &v)).transpose()?,
        },
        "erfinv_" => Op::Erfinv { t: t(&mut o)? },
        "manual_seed" => Op::ManualSeed {
            gen: string(p, "gen", &o.need("gen")?)?,
            seed: int(p, "seed", &o.need("seed")?)?,
        },
        "save_state" | "set_state" => {
            let gen = string(p, "gen", &o.need("gen")?)?;
            let slot = usize_of(p, "slot", &o.need("slot")?)?;
            if name == "save_state" {
                Op::SaveState { gen, slot }
            } else {
                Op::SetState { gen, slot }
            }
        }
        other => match other.strip_prefix("nn.init.") {
            Some(f) => {
                let t = t(&mut o)?;
                let call = init_call(f, &mut o)?;
                let gen = gen(&mut o)?;
                if gen.is_some() && !call.takes_generator() {
                    return Err(bad(p, format!("nn.init.{f} takes no generator")));
                }
                Op::Init { t, call, gen }
            }
            None => return Err(bad(p, format!("unknown op '{other}'"))),
        },
    };
    o.finish()?;
    Ok(Step {
        op,
        path: path.to_string(),
        at,
    })
}

/// The most steps a program may run, its `repeat`s expanded (checked when it is read, so a small
/// file cannot ask for unbounded work).
pub const MAX_STEPS: u128 = 10_000_000;

/// The steps a list runs, each `repeat` expanded (saturating).
fn expanded_steps(steps: &[Step]) -> u128 {
    steps
        .iter()
        .map(|s| match &s.op {
            Op::Repeat { n, steps } => (*n as u128).saturating_mul(expanded_steps(steps)),
            _ => 1,
        })
        .fold(0u128, u128::saturating_add)
}

/// One `state_dict` entry: `[name, tensor]` or `[name, tensor, offset, sizes, strides]`.
fn entry(i: usize, e: &Value) -> Result<(String, usize, Option<Geo>)> {
    let at = format!("state_dict[{i}]");
    let Value::Array(a) = e else {
        return Err(bad(
            &at,
            "expected [name, tensor] or [name, tensor, offset, sizes, strides]",
        ));
    };
    let view = match a.len() {
        2 => None,
        5 => {
            let size = sizes(&at, "sizes", &a[3])?;
            let stride = sizes(&at, "strides", &a[4])?;
            if size.len() != stride.len() {
                return Err(bad(&at, "sizes and strides differ in length"));
            }
            Some(Geo {
                offset: usize_of(&at, "offset", &a[2])?,
                size,
                stride,
            })
        }
        _ => {
            return Err(bad(
                &at,
                "expected [name, tensor] or [name, tensor, offset, sizes, strides]",
            ))
        }
    };
    Ok((
        string(&at, "name", &a[0])?,
        usize_of(&at, "tensor", &a[1])?,
        view,
    ))
}

/// The optional `check` object, for a program of `entries` state_dict entries.
fn check(c: &Value, entries: usize) -> Result<Check> {
    let mut c = Obj::new(c, "check")?;
    let seed = int("check", "seed", &c.need("seed")?)?;
    let cap = string("check", "capability", &c.need("capability")?)?;
    let capability =
        Capability::parse(&cap).map_err(|_| bad("check", format!("unknown capability '{cap}'")))?;
    let Value::Array(shas) = c.need("sha256")? else {
        return Err(bad("check", "'sha256' must be a list"));
    };
    let sha256 = shas
        .iter()
        .map(|s| string("check", "sha256", s))
        .collect::<Result<Vec<_>>>()?;
    let head = match c.take("head") {
        None => Vec::new(),
        Some(Value::Array(entries)) => {
            let mut out = Vec::with_capacity(entries.len());
            for e in &entries {
                let Value::Array(items) = e else {
                    return Err(bad(
                        "check",
                        "'head' must be a list of lists of hex strings",
                    ));
                };
                let mut values = Vec::with_capacity(items.len());
                for x in items {
                    let h = string("check", "head", x)?;
                    if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(bad("check", format!("'head': '{h}' is not hex")));
                    }
                    values.push(h);
                }
                out.push(values);
            }
            if out.len() != sha256.len() {
                return Err(bad(
                    "check",
                    format!(
                        "{} heads for {} state_dict entries",
                        out.len(),
                        sha256.len()
                    ),
                ));
            }
            out
        }
        Some(_) => {
            return Err(bad(
                "check",
                "'head' must be a list of lists of hex strings",
            ))
        }
    };
    c.finish()?;
    if sha256.len() != entries {
        return Err(bad(
            "check",
            format!(
                "{} SHA-256 values for {} state_dict entries",
                sha256.len(),
                entries
            ),
        ));
    }
    Ok(Check {
        seed,
        capability,
        sha256,
        head,
    })
}

/// The program's device: `device` (`"cpu"` or `"cuda"`) with the GPU fields of [`DeviceSpec`]
/// (`gpu`, `sm_count`, `max_threads_per_sm`), as `tools/record_init.py` writes them.
fn device(o: &mut Obj<'_>) -> Result<DeviceSpec> {
    let mut text = |key: &str| match o.take(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => string("", key, &v).map(Some),
    };
    let (device, gpu) = (text("device")?, text("gpu")?);
    let mut count = |key: &str| match o.take(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                bad(
                    "",
                    format!("'{key}' must be a non-negative integer, found {v}"),
                )
            }),
    };
    let (sm, threads) = (count("sm_count")?, count("max_threads_per_sm")?);
    DeviceSpec::from_fields(device.as_deref(), gpu.as_deref(), sm, threads)
        .map_err(|e| bad("", e.to_string()))
}

/// Parses a program's JSON text.
pub(crate) fn parse(text: &str) -> Result<Parsed> {
    let v: Value = serde_json::from_str(text).map_err(|e| bad("", format!("not JSON: {e}")))?;
    let mut o = Obj::new(&v, "")?;
    let format = string("", "format", &o.need("format")?)?;
    if format != FORMAT {
        return Err(bad(
            "",
            format!("format is '{format}', expected '{FORMAT}'"),
        ));
    }
    let torch_version = string("", "torch_version", &o.need("torch_version")?)?;
    let device = device(&mut o)?;
    let expr = o
        .take("expr")
        .map(|v| match v {
            Value::Null => Ok(None),
            v => string("", "expr", &v).map(Some),
        })
        .transpose()?
        .flatten();
    let sources = match o.take("sources") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|s| string("", "sources", s))
            .collect::<Result<_>>()?,
        Some(_) => return Err(bad("", "'sources' must be a list of strings")),
    };
    let Value::Array(items) = o.need("steps")? else {
        return Err(bad("", "'steps' must be a list"));
    };
    let steps = items
        .iter()
        .enumerate()
        .map(|(i, s)| step(s, &format!("steps[{i}]"), sources.len()))
        .collect::<Result<Vec<_>>>()?;
    let expanded = expanded_steps(&steps);
    if expanded > MAX_STEPS {
        return Err(bad(
            "steps",
            format!(
                "the repeats expand to {expanded} steps, more than the limit of {MAX_STEPS} \
                 (nn::PROGRAM_MAX_STEPS)"
            ),
        ));
    }
    let Value::Array(entries) = o.need("state_dict")? else {
        return Err(bad("", "'state_dict' must be a list"));
    };
    let state_dict = entries
        .iter()
        .enumerate()
        .map(|(i, e)| entry(i, e))
        .collect::<Result<Vec<_>>>()?;
    let check = match o.take("check") {
        None | Some(Value::Null) => None,
        Some(c) => Some(check(&c, state_dict.len())?),
    };
    o.finish()?;
    Ok(Parsed {
        torch_version,
        device,
        expr,
        sources,
        steps,
        state_dict,
        check,
    })
}
