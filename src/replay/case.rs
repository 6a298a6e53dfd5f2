//! Strict parsing of case files into typed steps.

use serde_json::{Map, Value};

use super::case_error;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::View;
use crate::target::{Capability, Era, LATEST_RELEASE};
use crate::tensor::Tensor;

/// One parsed case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Unique name.
    pub name: String,
    /// Kernel variant (`avx2` when absent).
    pub capability: Capability,
    /// The release named by the case (the latest when absent).
    pub torch_version: String,
    /// The era of that release.
    pub era: Era,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

/// One step: an op and the generator it uses (`None`: the default generator).
#[derive(Debug, Clone)]
pub struct Step {
    /// The call.
    pub op: Op,
    /// Name of a private `torch.Generator()`, if the step names one.
    pub generator: Option<String>,
}

/// A PyTorch call with its arguments.
#[non_exhaustive]
#[derive(Debug, Clone)]
pub enum Op {
    /// `manual_seed(seed)`; the seed is range-checked when the step runs, as PyTorch does.
    ManualSeed {
        /// The Python integer.
        seed: i128,
    },
    /// `initial_seed()`.
    InitialSeed,
    /// `get_rng_state()`.
    GetRngState,
    /// `set_rng_state(state)`.
    SetRngState {
        /// The state bytes.
        state: Vec<u8>,
    },
    /// `torch.rand(size, dtype)`.
    Rand {
        /// Shape.
        size: Vec<i64>,
        /// Dtype.
        dtype: DType,
    },
    /// `torch.randn(size, dtype)`.
    Randn {
        /// Shape.
        size: Vec<i64>,
        /// Dtype.
        dtype: DType,
    },
    /// `torch.rand_like(x)`.
    RandLike {
        /// The tensor `x` is like.
        view: View,
    },
    /// `torch.randn_like(x)`.
    RandnLike {
        /// The tensor `x` is like.
        view: View,
    },
    /// `x.uniform_(from, to)`.
    Uniform {
        /// Target.
        view: View,
        /// Lower bound.
        from: f64,
        /// Upper bound.
        to: f64,
    },
    /// `x.normal_(mean, std)`.
    NormalInPlace {
        /// Target.
        view: View,
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
    /// `torch.normal(mean, std, size, dtype)`.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
        /// Shape.
        size: Vec<i64>,
        /// Dtype.
        dtype: DType,
    },
    /// `nn.Linear(in_features, out_features, bias, dtype)`.
    Linear {
        /// Input features.
        in_features: i64,
        /// Output features.
        out_features: i64,
        /// Whether there is a bias.
        bias: bool,
        /// Dtype.
        dtype: DType,
    },
    /// `nn.init.uniform_(x, a, b)`.
    InitUniform {
        /// Target.
        view: View,
        /// Lower bound.
        a: f64,
        /// Upper bound.
        b: f64,
    },
    /// `nn.init.kaiming_uniform_(x, a, mode, nonlinearity)`.
    KaimingUniform {
        /// Target.
        view: View,
        /// Negative slope.
        a: f64,
        /// `fan_in` or `fan_out` (any case).
        mode: String,
        /// Nonlinearity name.
        nonlinearity: String,
    },
}

impl Op {
    /// Whether the op draws from (or reads) its generator's stream.
    fn uses_stream(&self) -> bool {
        !matches!(self, Op::ManualSeed { .. } | Op::SetRngState { .. })
    }

    /// Whether the op seeds its generator.
    fn seeds(&self) -> bool {
        matches!(self, Op::ManualSeed { .. } | Op::SetRngState { .. })
    }
}

impl View {
    /// `torch.empty` for this view, made contiguous (for init functions, which take any tensor;
    /// the view's permutation only matters for the element order of in-place kernels).
    pub(crate) fn empty(&self, op: &str) -> Result<Tensor> {
        let t = Tensor::zeros_checked(op, &self.size, self.dtype)?;
        Ok(match &self.perm {
            Some(p) => t.permuted(p),
            None => t,
        })
    }
}

/// Fields of one JSON object, consumed one by one so that leftovers can be reported.
struct Fields<'a> {
    map: Map<String, Value>,
    at: &'a str,
}

impl Fields<'_> {
    fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    fn err(&self, reason: impl Into<String>) -> crate::error::Error {
        case_error(self.at, reason)
    }

    fn finish(self) -> Result<()> {
        if let Some(k) = self.map.keys().next() {
            return Err(self.err(format!("unknown field '{k}'")));
        }
        Ok(())
    }

    fn int_of(&self, key: &str, v: &Value) -> Result<i128> {
        match v {
            Value::Number(n) => n
                .to_string()
                .parse::<i128>()
                .map_err(|_| self.err(format!("'{key}' must be an integer, found {n}"))),
            _ => Err(self.err(format!("'{key}' must be an integer, found {v}"))),
        }
    }

    fn req_int(&mut self, key: &str) -> Result<i128> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        self.int_of(key, &v)
    }

    fn req_i64(&mut self, key: &str) -> Result<i64> {
        let v = self.req_int(key)?;
        i64::try_from(v).map_err(|_| self.err(format!("'{key}' = {v} does not fit in int64")))
    }

    fn opt_f64(&mut self, key: &str, default: f64) -> Result<f64> {
        match self.take(key) {
            None => Ok(default),
            Some(v) => self.float_of(key, &v),
        }
    }

    fn req_f64(&mut self, key: &str) -> Result<f64> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        self.float_of(key, &v)
    }

    /// A Python float: a JSON number, or one of the strings `inf`, `-inf`, `nan` (JSON has no
    /// literal for them).
    fn float_of(&self, key: &str, v: &Value) -> Result<f64> {
        match v {
            Value::Number(n) => n
                .to_string()
                .parse::<f64>()
                .map_err(|_| self.err(format!("'{key}' must be a number, found {n}"))),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "inf" | "infinity" | "+inf" => Ok(f64::INFINITY),
                "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
                "nan" => Ok(f64::NAN),
                _ => Err(self.err(format!("'{key}' must be a number, found \"{s}\""))),
            },
            _ => Err(self.err(format!("'{key}' must be a number, found {v}"))),
        }
    }

    fn opt_bool(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.take(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(v) => Err(self.err(format!("'{key}' must be true or false, found {v}"))),
        }
    }

    fn opt_str(&mut self, key: &str, default: &str) -> Result<String> {
        match self.take(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(self.err(format!("'{key}' must be a string, found {v}"))),
        }
    }

    fn dtype(&mut self) -> Result<DType> {
        match self.take("dtype") {
            None | Some(Value::Null) => Ok(DType::Float32),
            Some(Value::String(s)) => DType::parse(&s).map_err(|_| {
                self.err(format!("unknown dtype '{s}'"))
            }),
            Some(v) => Err(self.err(format!("'dtype' must be a string, found {v}"))),
        }
    }

    fn size(&mut self) -> Result<Vec<i64>> {
        let v = self
            .take("size")
            .ok_or_else(|| self.err("missing field 'size'"))?;
        match &v {
            Value::Array(items) => items
                .iter()
                .map(|d| {
                    let d = self.int_of("size", d)?;
                    i64::try_from(d).map_err(|_| self.err(format!("size entry {d} does not fit in int64")))
                })
                .collect(),
            Value::Number(_) => Ok(vec![i64::try_from(self.int_of("size", &v)?)
                .map_err(|_| self.err("size does not fit in int64"))?]),
            _ => Err(self.err(format!("'size' must be a list of integers, found {v}"))),
        }
    }

    fn view(&mut self) -> Result<View> {
        let size = self.size()?;
        let dtype = self.dtype()?;
        match self.take("permute") {
            None | Some(Value::Null) => Ok(View::contiguous(&size, dtype)),
            Some(Value::Array(items)) => {
                let perm = items
                    .iter()
                    .map(|p| {
                        let p = self.int_of("permute", p)?;
                        usize::try_from(p).map_err(|_| self.err(format!("permute entry {p} is negative")))
                    })
                    .collect::<Result<Vec<usize>>>()?;
                View::permuted(&size, dtype, &perm).map_err(|e| self.err(e.to_string()))
            }
            Some(v) => Err(self.err(format!("'permute' must be a list of integers, found {v}"))),
        }
    }
}

fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn parse_step(value: Value, at: &str) -> Result<Step> {
    let Value::Object(map) = value else {
        return Err(case_error(at, "a step must be a JSON object"));
    };
    let mut f = Fields { map, at };
    let op_name = match f.take("op") {
        Some(Value::String(s)) => s,
        Some(v) => return Err(f.err(format!("'op' must be a string, found {v}"))),
        None => return Err(f.err("missing field 'op'")),
    };
    let generator = match f.take("generator") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(v) => return Err(f.err(format!("'generator' must be a string, found {v}"))),
    };
    let op = match op_name.as_str() {
        "manual_seed" => Op::ManualSeed {
            seed: f.req_int("seed")?,
        },
        "initial_seed" => Op::InitialSeed,
        "get_rng_state" => Op::GetRngState,
        "set_rng_state" => {
            let state = match f.take("state") {
                Some(Value::String(s)) => {
                    parse_hex(&s).ok_or_else(|| f.err("'state' must be lowercase hex bytes"))?
                }
                Some(v) => return Err(f.err(format!("'state' must be a hex string, found {v}"))),
                None => return Err(f.err("missing field 'state'")),
            };
            Op::SetRngState { state }
        }
        "rand" => Op::Rand {
            size: f.size()?,
            dtype: f.dtype()?,
        },
        "randn" => Op::Randn {
            size: f.size()?,
            dtype: f.dtype()?,
        },
        "rand_like" => Op::RandLike { view: f.view()? },
        "randn_like" => Op::RandnLike { view: f.view()? },
        "uniform_" => Op::Uniform {
            view: f.view()?,
            from: f.opt_f64("from", 0.0)?,
            to: f.opt_f64("to", 1.0)?,
        },
        "normal_" => Op::NormalInPlace {
            view: f.view()?,
            mean: f.opt_f64("mean", 0.0)?,
            std: f.opt_f64("std", 1.0)?,
        },
        "normal" => Op::Normal {
            mean: f.req_f64("mean")?,
            std: f.req_f64("std")?,
            size: f.size()?,
            dtype: f.dtype()?,
        },
        "nn.Linear" => Op::Linear {
            in_features: f.req_i64("in_features")?,
            out_features: f.req_i64("out_features")?,
            bias: f.opt_bool("bias", true)?,
            dtype: f.dtype()?,
        },
        "nn.init.uniform_" => Op::InitUniform {
            view: f.view()?,
            a: f.opt_f64("a", 0.0)?,
            b: f.opt_f64("b", 1.0)?,
        },
        "nn.init.kaiming_uniform_" => Op::KaimingUniform {
            view: f.view()?,
            a: f.opt_f64("a", 0.0)?,
            mode: f.opt_str("mode", "fan_in")?,
            nonlinearity: f.opt_str("nonlinearity", "leaky_relu")?,
        },
        other => return Err(f.err(format!("unknown op '{other}'"))),
    };
    f.finish()?;
    Ok(Step { op, generator })
}

fn parse_case(value: Value, index: usize) -> Result<Case> {
    let at = format!("case #{index}");
    let Value::Object(map) = value else {
        return Err(case_error(at, "a case must be a JSON object"));
    };
    let mut f = Fields { map, at: &at };
    let name = match f.take("name") {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(v) => return Err(f.err(format!("'name' must be a non-empty string, found {v}"))),
        None => return Err(f.err("missing field 'name'")),
    };
    let at = format!("case '{name}'");
    f.at = &at;
    let capability = match f.take("capability") {
        None | Some(Value::Null) => Capability::Avx2,
        Some(Value::String(s)) => Capability::parse(&s).map_err(|e| f.err(e.to_string()))?,
        Some(v) => return Err(f.err(format!("'capability' must be a string, found {v}"))),
    };
    let torch_version = f.opt_str("torch_version", LATEST_RELEASE)?;
    let era = Era::of_release(&torch_version).map_err(|e| f.err(e.to_string()))?;
    match f.take("device") {
        None | Some(Value::Null) => {}
        Some(Value::String(d)) if d == "cpu" => {}
        Some(v) => {
            return Err(f.err(format!(
                "device {v} is not supported (torch-rng reproduces the CPU generator)"
            )))
        }
    }
    let steps = match f.take("steps") {
        Some(Value::Array(s)) => s,
        Some(v) => return Err(f.err(format!("'steps' must be a list, found {v}"))),
        None => return Err(f.err("missing field 'steps'")),
    };
    f.finish()?;
    let mut parsed = Vec::with_capacity(steps.len());
    let mut default_seeded = false;
    for (i, s) in steps.into_iter().enumerate() {
        let step_at = format!("case '{name}', step {i}");
        let step = parse_step(s, &step_at)?;
        if step.generator.is_none() {
            if step.op.uses_stream() && !default_seeded {
                return Err(case_error(
                    step_at,
                    "uses the default generator before manual_seed or set_rng_state: PyTorch \
                     seeds it from the operating system, so the result is not reproducible",
                ));
            }
            default_seeded |= step.op.seeds();
        }
        parsed.push(step);
    }
    Ok(Case {
        name,
        capability,
        torch_version,
        era,
        steps: parsed,
    })
}

/// Parses a `torch-rng-cases/1` document.
///
/// # Errors
/// [`crate::Error::CaseFile`] naming the case and step at fault.
pub fn parse_case_file(text: &str) -> Result<Vec<Case>> {
    let doc: Value = serde_json::from_str(text)
        .map_err(|e| case_error("case file", format!("not valid JSON: {e}")))?;
    let Value::Object(map) = doc else {
        return Err(case_error("case file", "the document must be a JSON object"));
    };
    let mut f = Fields {
        map,
        at: "case file",
    };
    match f.take("format") {
        Some(Value::String(s)) if s == "torch-rng-cases/1" => {}
        Some(v) => {
            return Err(f.err(format!(
                "format must be \"torch-rng-cases/1\", found {v}"
            )))
        }
        None => return Err(f.err("missing field 'format'")),
    }
    let cases = match f.take("cases") {
        Some(Value::Array(c)) => c,
        Some(v) => return Err(f.err(format!("'cases' must be a list, found {v}"))),
        None => return Err(f.err("missing field 'cases'")),
    };
    f.finish()?;
    let mut out: Vec<Case> = Vec::with_capacity(cases.len());
    for (i, c) in cases.into_iter().enumerate() {
        let case = parse_case(c, i)?;
        if out.iter().any(|o| o.name == case.name) {
            return Err(case_error(
                format!("case '{}'", case.name),
                "duplicate case name",
            ));
        }
        out.push(case);
    }
    Ok(out)
}
