//! Strict parsing of case files into typed steps.

use serde_json::{Map, Value};

use super::case_error;
use super::ops::{Draws, StepOp};
use super::output::Tolerance;
use crate::context::{Capability, Era, LATEST_RELEASE};
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::View;

/// One parsed case.
#[derive(Debug)]
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
#[derive(Debug)]
pub struct Step {
    /// The call.
    pub op: Box<dyn StepOp>,
    /// Name of a private `torch.Generator()`, if the step names one.
    pub generator: Option<String>,
    /// The step's `tolerance`, if its output is compared within a bound instead of by sha256.
    pub tolerance: Option<Tolerance>,
}

/// Fields of one JSON object, consumed one by one so that leftovers can be reported.
pub(crate) struct Fields<'a> {
    map: Map<String, Value>,
    at: &'a str,
}

impl Fields<'_> {
    pub(crate) fn take(&mut self, key: &str) -> Option<Value> {
        self.map.remove(key)
    }

    /// Whether `key` holds a tensor argument (a JSON object or a bare list) rather than a number.
    pub(crate) fn is_object(&self, key: &str) -> bool {
        matches!(self.map.get(key), Some(Value::Object(_) | Value::Array(_)))
    }

    pub(crate) fn err(&self, reason: impl Into<String>) -> crate::error::Error {
        case_error(self.at, reason)
    }

    pub(crate) fn finish(self) -> Result<()> {
        if let Some(k) = self.map.keys().next() {
            return Err(self.err(format!("unknown field '{k}'")));
        }
        Ok(())
    }

    pub(crate) fn int_of(&self, key: &str, v: &Value) -> Result<i128> {
        match v {
            Value::Number(n) => n
                .to_string()
                .parse::<i128>()
                .map_err(|_| self.err(format!("'{key}' must be an integer, found {n}"))),
            _ => Err(self.err(format!("'{key}' must be an integer, found {v}"))),
        }
    }

    pub(crate) fn req_int(&mut self, key: &str) -> Result<i128> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        self.int_of(key, &v)
    }

    pub(crate) fn req_i64(&mut self, key: &str) -> Result<i64> {
        let v = self.req_int(key)?;
        i64::try_from(v).map_err(|_| self.err(format!("'{key}' = {v} does not fit in int64")))
    }

    pub(crate) fn opt_f64(&mut self, key: &str, default: f64) -> Result<f64> {
        match self.take(key) {
            None => Ok(default),
            Some(v) => self.float_of(key, &v),
        }
    }

    pub(crate) fn req_f64(&mut self, key: &str) -> Result<f64> {
        let v = self
            .take(key)
            .ok_or_else(|| self.err(format!("missing field '{key}'")))?;
        self.float_of(key, &v)
    }

    /// A Python float: a JSON number, or one of the strings `inf`, `-inf`, `nan` (JSON has no
    /// literal for them; [`crate::init::special_float`]).
    pub(crate) fn float_of(&self, key: &str, v: &Value) -> Result<f64> {
        crate::init::json_float(v).ok_or_else(|| {
            self.err(format!(
                "'{key}' must be a number (or \"inf\", \"-inf\", \"nan\"), found {v}"
            ))
        })
    }

    pub(crate) fn opt_bool(&mut self, key: &str, default: bool) -> Result<bool> {
        match self.take(key) {
            None => Ok(default),
            Some(Value::Bool(b)) => Ok(b),
            Some(v) => Err(self.err(format!("'{key}' must be true or false, found {v}"))),
        }
    }

    pub(crate) fn opt_str(&mut self, key: &str, default: &str) -> Result<String> {
        match self.take(key) {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(self.err(format!("'{key}' must be a string, found {v}"))),
        }
    }

    pub(crate) fn dtype(&mut self) -> Result<DType> {
        match self.take("dtype") {
            None | Some(Value::Null) => Ok(DType::Float32),
            Some(Value::String(s)) => {
                DType::parse(&s).map_err(|_| self.err(format!("unknown dtype '{s}'")))
            }
            Some(v) => Err(self.err(format!("'dtype' must be a string, found {v}"))),
        }
    }

    pub(crate) fn size(&mut self) -> Result<Vec<i64>> {
        let v = self
            .take("size")
            .ok_or_else(|| self.err("missing field 'size'"))?;
        match &v {
            Value::Array(items) => items
                .iter()
                .map(|d| {
                    let d = self.int_of("size", d)?;
                    i64::try_from(d)
                        .map_err(|_| self.err(format!("size entry {d} does not fit in int64")))
                })
                .collect(),
            Value::Number(_) => Ok(vec![i64::try_from(self.int_of("size", &v)?)
                .map_err(|_| self.err("size does not fit in int64"))?]),
            _ => Err(self.err(format!("'size' must be a list of integers, found {v}"))),
        }
    }

    pub(crate) fn view(&mut self) -> Result<View> {
        let size = self.size()?;
        let dtype = self.dtype()?;
        match self.take("permute") {
            None | Some(Value::Null) => Ok(View::contiguous(&size, dtype)),
            Some(Value::Array(items)) => {
                let perm = items
                    .iter()
                    .map(|p| {
                        let p = self.int_of("permute", p)?;
                        usize::try_from(p)
                            .map_err(|_| self.err(format!("permute entry {p} is negative")))
                    })
                    .collect::<Result<Vec<usize>>>()?;
                View::permuted(&size, dtype, &perm).map_err(|e| self.err(e.to_string()))
            }
            Some(v) => Err(self.err(format!("'permute' must be a list of integers, found {v}"))),
        }
    }
}

impl crate::init::ArgSource for Fields<'_> {
    fn float(&mut self, key: &str) -> Result<Option<f64>> {
        self.take(key).map(|v| self.float_of(key, &v)).transpose()
    }

    fn int(&mut self, key: &str) -> Result<Option<i64>> {
        self.take(key)
            .map(|v| {
                let i = self.int_of(key, &v)?;
                i64::try_from(i)
                    .map_err(|_| self.err(format!("'{key}' = {i} does not fit in int64")))
            })
            .transpose()
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(format!("'{key}' must be a string, found {v}"))),
        }
    }

    fn error(&self, reason: String) -> crate::error::Error {
        self.err(reason)
    }
}

pub(crate) fn parse_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The first dtype named anywhere in a step (its `dtype`, a tensor literal's, a model's) that
/// `release` does not have: `uint16`, `uint32` and `uint64` appeared in PyTorch 2.3.
fn absent_dtype(step: &Value, release: &str) -> Option<&'static str> {
    let minor = release
        .split('+')
        .next()
        .and_then(|r| r.split('.').nth(1))
        .and_then(|m| m.parse::<u32>().ok())?;
    if minor >= 3 {
        return None;
    }
    match step {
        Value::Object(m) => {
            if let Some(Value::String(d)) = m.get("dtype") {
                if let Some(&n) = ["uint16", "uint32", "uint64"].iter().find(|&&n| n == d) {
                    return Some(n);
                }
            }
            m.values().find_map(|v| absent_dtype(v, release))
        }
        Value::Array(items) => items.iter().find_map(|v| absent_dtype(v, release)),
        _ => None,
    }
}

/// A step naming a dtype its release lacks: `torch.uint16` raises there, so the step is
/// rejected when it runs (the case file itself is fine).
#[derive(Debug)]
struct AbsentDtype {
    inner: Box<dyn StepOp>,
    dtype: &'static str,
    release: String,
}

impl StepOp for AbsentDtype {
    fn run(&self, _ctx: &mut super::StepContext<'_>) -> Result<super::Output> {
        Err(crate::error::Error::unsupported(format!(
            "dtype {} in torch {} (it exists from 2.3)",
            self.dtype, self.release
        )))
    }
    fn draws(&self) -> Draws {
        self.inner.draws()
    }
    fn takes_generator(&self) -> bool {
        self.inner.takes_generator()
    }
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
    let tolerance = match f.take("tolerance") {
        None | Some(Value::Null) => None,
        Some(v) => Some(Tolerance::from_json(&v).map_err(|reason| f.err(reason))?),
    };
    let op = super::ops::parse(&op_name, &mut f)?;
    if generator.is_some() && !op.takes_generator() {
        return Err(f.err(format!("op '{op_name}' takes no generator")));
    }
    f.finish()?;
    Ok(Step {
        op,
        generator,
        tolerance,
    })
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
        let absent = absent_dtype(&s, &torch_version);
        let mut step = parse_step(s, &step_at)?;
        if let Some(dtype) = absent {
            step.op = Box::new(AbsentDtype {
                inner: step.op,
                dtype,
                release: torch_version.clone(),
            });
        }
        let uses_default = match step.op.draws() {
            Draws::Nothing | Draws::Seeds => false,
            Draws::StepGenerator => step.generator.is_none(),
            Draws::StepAndDefault => true,
        };
        if uses_default && !default_seeded {
            return Err(case_error(
                step_at,
                "uses the default generator before manual_seed or set_rng_state: PyTorch \
                 seeds it from the operating system, so the result is not reproducible",
            ));
        }
        if step.generator.is_none() && step.op.draws() == Draws::Seeds {
            default_seeded = true;
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
        return Err(case_error(
            "case file",
            "the document must be a JSON object",
        ));
    };
    let mut f = Fields {
        map,
        at: "case file",
    };
    match f.take("format") {
        Some(Value::String(s)) if s == "torch-rng-cases/1" => {}
        Some(v) => return Err(f.err(format!("format must be \"torch-rng-cases/1\", found {v}"))),
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
