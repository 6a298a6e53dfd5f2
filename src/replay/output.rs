//! Step outputs, the result document, and comparison of two result documents.

use serde_json::{json, Map, Value};

use super::CaseResult;
use crate::error::{Error, Result};
use crate::modules::StateDict;
use crate::tensor::Tensor;

/// What one step produced.
#[non_exhaustive]
#[derive(Debug)]
pub enum Output {
    /// A step that returns nothing (`manual_seed`, `set_rng_state`).
    Null,
    /// A tensor.
    Tensor(Tensor),
    /// A module's `state_dict()`.
    StateDict(StateDict),
    /// An integer (`initial_seed`).
    Int(i128),
    /// A step that was rejected, with torch-rng's message.
    Error(String),
    /// A tensor whose case step carries a `tolerance`: recorded with every element's bits, and
    /// compared within the bound instead of by sha256.
    Bounded(Tensor, Tolerance),
    /// A `state_dict` whose case step carries a `tolerance` for the entries it names (`bounded`):
    /// those are recorded as [`Output::Bounded`] tensors, the others as usual.
    BoundedStateDict(StateDict, Tolerance, Vec<String>),
    /// An output already written as its result record, its tensors freed: what a case keeps of a
    /// step whose output no later step reads.
    Recorded(Value),
}

/// A step's `tolerance` (golden/README.md, "Outputs compared within a bound"): an element passes
/// if it is bit-identical, or within `max_ulps` units in the last place, or within `max_abs` of
/// the expected value. Used only where reproducing PyTorch exactly is not possible (a LAPACK QR,
/// an MKL routine); the README's fidelity table states each such bound.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tolerance {
    /// Largest allowed distance in ulps (adjacent representable values; +0 and -0 are 1 apart).
    pub max_ulps: Option<u64>,
    /// Largest allowed absolute difference.
    pub max_abs: Option<f64>,
}

impl Tolerance {
    /// Parses `{"max_ulps": N, "max_abs": X}` (at least one key).
    ///
    /// # Errors
    /// A message naming what is wrong.
    pub fn from_json(v: &Value) -> Result<Tolerance, String> {
        let Value::Object(m) = v else {
            return Err(format!("'tolerance' must be an object, found {v}"));
        };
        let mut t = Tolerance::default();
        for (k, x) in m {
            match k.as_str() {
                "max_ulps" => {
                    t.max_ulps = Some(x.as_u64().ok_or_else(|| {
                        format!("'tolerance.max_ulps' must be a non-negative integer, found {x}")
                    })?);
                }
                "max_abs" => {
                    let a = x.as_f64().filter(|a| *a >= 0.0).ok_or_else(|| {
                        format!("'tolerance.max_abs' must be a non-negative number, found {x}")
                    })?;
                    t.max_abs = Some(a);
                }
                other => return Err(format!("unknown tolerance key '{other}'")),
            }
        }
        if t.max_ulps.is_none() && t.max_abs.is_none() {
            return Err("'tolerance' needs max_ulps or max_abs".into());
        }
        Ok(t)
    }

    /// The JSON form.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if let Some(u) = self.max_ulps {
            m.insert("max_ulps".into(), json!(u));
        }
        if let Some(a) = self.max_abs {
            m.insert("max_abs".into(), json!(a));
        }
        Value::Object(m)
    }
}

/// The contract's tensor record: dtype, shape, sha256 and the first 16 elements' bit patterns.
#[must_use]
pub fn tensor_record(t: &Tensor) -> Value {
    json!({
        "dtype": t.dtype().name(),
        "shape": t.shape(),
        "sha256": t.sha256_hex(),
        "head": t.head_hex(16),
    })
}

/// A tensor record with the tolerance and every element's bit pattern.
fn bounded_record(t: &Tensor, tol: &Tolerance) -> Value {
    let mut rec = tensor_record(t);
    rec["tolerance"] = tol.to_json();
    let width = t.dtype().size() * 2;
    rec["values"] = t
        .bits()
        .into_iter()
        .map(|b| Value::String(format!("{b:0width$x}")))
        .collect();
    rec
}

impl Output {
    /// The output as its result record, its tensors freed (records are kept as they are).
    #[must_use]
    pub fn recorded(self) -> Output {
        match self {
            Output::Recorded(v) => Output::Recorded(v),
            other => Output::Recorded(other.to_json()),
        }
    }

    /// The bytes of the tensors the output holds (0 once recorded).
    #[must_use]
    pub fn tensor_bytes(&self) -> u128 {
        let of = |t: &Tensor| t.numel() as u128 * t.dtype().size() as u128;
        match self {
            Output::Tensor(t) | Output::Bounded(t, _) => of(t),
            Output::StateDict(sd) | Output::BoundedStateDict(sd, ..) => {
                sd.iter().map(|(_, t)| of(t)).sum()
            }
            _ => 0,
        }
    }

    /// The output as the result format writes it.
    #[must_use]
    pub fn to_json(&self) -> Value {
        match self {
            Output::Null => Value::Null,
            Output::Tensor(t) => tensor_record(t),
            Output::StateDict(sd) => json!({
                "state_dict": sd
                    .iter()
                    .map(|(name, t)| json!([name, tensor_record(t)]))
                    .collect::<Vec<_>>()
            }),
            Output::Int(n) => {
                if n.unsigned_abs() <= 1 << 53 {
                    json!({ "int": *n as i64 })
                } else {
                    json!({ "int": n.to_string() })
                }
            }
            Output::Error(e) => json!({ "error": e }),
            Output::Recorded(v) => v.clone(),
            Output::Bounded(t, tol) => bounded_record(t, tol),
            Output::BoundedStateDict(sd, tol, names) => json!({
                "state_dict": sd
                    .iter()
                    .map(|(name, t)| {
                        let rec = if names.contains(name) {
                            bounded_record(t, tol)
                        } else {
                            tensor_record(t)
                        };
                        json!([name, rec])
                    })
                    .collect::<Vec<_>>()
            }),
        }
    }
}

/// A `torch-rng-results/1` document for `results`.
#[must_use]
pub fn results_document(torch_version: &str, results: &[CaseResult]) -> Value {
    let cases: Vec<Value> = results
        .iter()
        .map(|r| {
            let mut m = Map::new();
            m.insert("name".into(), json!(r.name));
            m.insert("capability".into(), json!(r.capability));
            m.insert("torch_version".into(), json!(r.torch_version));
            if let crate::context::Device::Cuda(d) = r.device {
                // As tools/gen_golden_cuda.py repeats them in its results.
                m.insert("device".into(), json!("cuda"));
                m.insert("sm_count".into(), json!(d.profile.sm_count()));
                m.insert(
                    "max_threads_per_sm".into(),
                    json!(d.profile.max_threads_per_sm()),
                );
            }
            m.insert(
                "outputs".into(),
                Value::Array(r.outputs.iter().map(Output::to_json).collect()),
            );
            Value::Object(m)
        })
        .collect();
    json!({
        "format": "torch-rng-results/1",
        "torch_version": torch_version,
        "cases": cases,
    })
}

/// One disagreement between an expected and an actual result document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// The case.
    pub case: String,
    /// Where in the case (`step 3`, `step 1, state_dict 'bias'`), or empty for the whole case.
    pub at: String,
    /// What differs.
    pub detail: String,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.at.is_empty() {
            write!(f, "{}: {}", self.case, self.detail)
        } else {
            write!(f, "{}, {}: {}", self.case, self.at, self.detail)
        }
    }
}

fn int_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn compare_tensor(exp: &Value, act: &Value) -> Option<String> {
    for key in ["dtype", "shape"] {
        if exp.get(key) != act.get(key) {
            return Some(format!(
                "{key} differs: expected {}, got {}",
                exp.get(key).unwrap_or(&Value::Null),
                act.get(key).unwrap_or(&Value::Null)
            ));
        }
    }
    if exp.get("sha256") == act.get("sha256") {
        return None;
    }
    if let Some(tol) = exp.get("tolerance") {
        return compare_bounded(exp, act, tol);
    }
    let head = |v: &Value| -> Vec<String> {
        v.get("head")
            .and_then(Value::as_array)
            .map(|a| a.iter().map(int_text).collect())
            .unwrap_or_default()
    };
    let (he, ha) = (head(exp), head(act));
    if let Some(i) = he.iter().zip(&ha).position(|(a, b)| a != b) {
        return Some(format!(
            "first differing element is #{i}: expected 0x{}, got 0x{}",
            he[i], ha[i]
        ));
    }
    Some(format!(
        "the first {} elements agree; sha256 expected {}, got {}",
        he.len(),
        int_text(exp.get("sha256").unwrap_or(&Value::Null)),
        int_text(act.get("sha256").unwrap_or(&Value::Null))
    ))
}

/// A float's bits mapped to an integer that orders like the value (so that adjacent floats differ
/// by one, and +0 and -0 by one).
fn ordered(bits: u64, width_bits: u32) -> i128 {
    let sign = 1u64 << (width_bits - 1);
    if bits & sign == 0 {
        i128::from(bits)
    } else {
        -i128::from(bits & !sign) - 1
    }
}

fn value_of(bits: u64, dtype: &str) -> f64 {
    match dtype {
        "float64" => f64::from_bits(bits),
        "float32" => f64::from(f32::from_bits(bits as u32)),
        "float16" => f64::from(half::f16::from_bits(bits as u16).to_f32()),
        "bfloat16" => f64::from(f32::from_bits((bits as u32) << 16)),
        _ => f64::NAN,
    }
}

/// Compares a tensor recorded with a `tolerance` element by element (both sides carry `values`).
fn compare_bounded(exp: &Value, act: &Value, tol: &Value) -> Option<String> {
    let tol = match Tolerance::from_json(tol) {
        Ok(t) => t,
        Err(e) => return Some(format!("bad tolerance in the expected record: {e}")),
    };
    let bits = |v: &Value| -> Option<Vec<u64>> {
        v.get("values")?
            .as_array()?
            .iter()
            .map(|x| u64::from_str_radix(x.as_str()?, 16).ok())
            .collect()
    };
    let (Some(be), Some(ba)) = (bits(exp), bits(act)) else {
        return Some("a bounded comparison needs \"values\" on both sides".into());
    };
    if be.len() != ba.len() {
        return Some(format!("{} values expected, {} given", be.len(), ba.len()));
    }
    let dtype = exp.get("dtype").and_then(Value::as_str).unwrap_or("");
    let width = match dtype {
        "float64" => 64,
        "float32" => 32,
        "float16" | "bfloat16" => 16,
        other => {
            return Some(format!(
                "a bounded comparison needs a float dtype, not {other}"
            ))
        }
    };
    let (mut worst_ulps, mut worst_abs, mut inexact) = (0u128, 0f64, 0usize);
    let mut failed = None;
    for (i, (&e, &a)) in be.iter().zip(&ba).enumerate() {
        if e == a {
            continue;
        }
        inexact += 1;
        let ulps = (ordered(e, width) - ordered(a, width)).unsigned_abs();
        let abs = (value_of(e, dtype) - value_of(a, dtype)).abs();
        worst_ulps = worst_ulps.max(ulps);
        if abs.is_nan() {
            worst_abs = f64::NAN;
        } else if abs > worst_abs {
            worst_abs = abs;
        }
        let ok = tol.max_ulps.is_some_and(|m| ulps <= u128::from(m))
            || tol.max_abs.is_some_and(|m| abs <= m);
        if !ok && failed.is_none() {
            failed = Some((i, e, a, ulps, abs));
        }
    }
    failed.map(|(i, e, a, ulps, abs)| {
        format!(
            "element #{i} is outside the tolerance: expected 0x{e:x}, got 0x{a:x} ({ulps} ulps, \
             |diff| {abs:e}); {inexact} of {} elements inexact, worst {worst_ulps} ulps, \
             |diff| {worst_abs:e}",
            be.len()
        )
    })
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Object(m) if m.contains_key("error") => "error",
        Value::Object(m) if m.contains_key("state_dict") => "state_dict",
        Value::Object(m) if m.contains_key("int") => "int",
        Value::Object(m) if m.contains_key("sha256") => "tensor",
        _ => "unknown",
    }
}

fn compare_output(exp: &Value, act: &Value) -> Option<String> {
    let (ke, ka) = (kind(exp), kind(act));
    if ke != ka {
        let show = |v: &Value| match v.get("error") {
            Some(e) => format!("error ({e})"),
            None => kind(v).to_string(),
        };
        return Some(format!("expected {}, got {}", show(exp), show(act)));
    }
    match ke {
        "tensor" => compare_tensor(exp, act),
        "int" => {
            let (a, b) = (int_text(&exp["int"]), int_text(&act["int"]));
            (a != b).then(|| format!("expected {a}, got {b}"))
        }
        "state_dict" => {
            let list = |v: &Value| v["state_dict"].as_array().cloned().unwrap_or_default();
            let (le, la) = (list(exp), list(act));
            let names =
                |l: &[Value]| -> Vec<String> { l.iter().map(|p| int_text(&p[0])).collect() };
            if names(&le) != names(&la) {
                return Some(format!(
                    "state_dict names differ: expected {:?}, got {:?}",
                    names(&le),
                    names(&la)
                ));
            }
            le.iter().zip(&la).find_map(|(pe, pa)| {
                compare_tensor(&pe[1], &pa[1]).map(|d| format!("'{}': {d}", int_text(&pe[0])))
            })
        }
        _ => None,
    }
}

/// The cases of a result document, by name, after checking its form: a JSON object with
/// `"format": "torch-rng-results/1"` and a list of `cases`, each an object with a string `name`
/// (unique) and a list of `outputs`.
fn result_cases<'v>(doc: &'v Value, which: &str) -> Result<Vec<(&'v str, &'v [Value])>> {
    let bad = |reason: String| Error::Malformed {
        location: format!("{which} results"),
        reason,
    };
    match doc.get("format") {
        Some(Value::String(f)) if f == "torch-rng-results/1" => {}
        Some(v) => {
            return Err(bad(format!(
                "format must be \"torch-rng-results/1\", found {v}"
            )))
        }
        None if doc.is_object() => return Err(bad("missing field 'format'".into())),
        None => return Err(bad("the document must be a JSON object".into())),
    }
    let Some(cases) = doc.get("cases").and_then(Value::as_array) else {
        return Err(bad("'cases' must be a list".into()));
    };
    let mut names = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let Some(name) = c.get("name").and_then(Value::as_str) else {
            return Err(bad(format!("case #{i} has no string 'name'")));
        };
        let Some(outputs) = c.get("outputs").and_then(Value::as_array) else {
            return Err(bad(format!("case '{name}' has no list 'outputs'")));
        };
        if !names.insert(name) {
            return Err(bad(format!("duplicate case name '{name}'")));
        }
        out.push((name, outputs.as_slice()));
    }
    Ok(out)
}

/// Compares two result documents case by case (matched by name). Two documents agree where every
/// case has the same outputs: tensors by dtype, shape and sha256 (or within a `tolerance`),
/// integers by value, errors by being errors (the messages are each side's own). Returns every
/// mismatch, missing and extra cases and outputs included; an empty list means they agree.
///
/// # Errors
/// [`Error::Malformed`] when either document is not a result document (naming which).
pub fn compare_results(expected: &Value, actual: &Value) -> Result<Vec<Mismatch>> {
    let ce = result_cases(expected, "expected")?;
    let ca = result_cases(actual, "actual")?;
    let by_name: std::collections::HashMap<&str, &[Value]> = ca.iter().copied().collect();
    let mut out = Vec::new();
    for &(name, oe) in &ce {
        let Some(&oa) = by_name.get(name) else {
            out.push(Mismatch {
                case: name.to_string(),
                at: String::new(),
                detail: "missing from the actual results".into(),
            });
            continue;
        };
        for (i, (x, y)) in oe.iter().zip(oa).enumerate() {
            if let Some(d) = compare_output(x, y) {
                out.push(Mismatch {
                    case: name.to_string(),
                    at: format!("step {i}"),
                    detail: d,
                });
            }
        }
        if oe.len() != oa.len() {
            out.push(Mismatch {
                case: name.to_string(),
                at: String::new(),
                detail: format!("expected {} outputs, got {}", oe.len(), oa.len()),
            });
        }
    }
    let expected_names: std::collections::HashSet<&str> = ce.iter().map(|&(n, _)| n).collect();
    for &(name, _) in &ca {
        if !expected_names.contains(name) {
            out.push(Mismatch {
                case: name.to_string(),
                at: String::new(),
                detail: "not in the expected results".into(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tolerance_tests {
    use super::*;

    fn rec(values: &[&str], tol: Option<&str>) -> Value {
        let mut r = json!({"dtype": "float32", "shape": [values.len()], "sha256": values.concat(),
                           "head": values, "values": values});
        if let Some(t) = tol {
            r["tolerance"] = serde_json::from_str(t).unwrap();
        }
        r
    }

    #[test]
    fn bounded_comparison() {
        let exp = rec(&["3f800000", "00000000"], Some(r#"{"max_ulps": 2}"#));
        assert!(compare_tensor(&exp, &rec(&["3f800002", "80000000"], None)).is_none());
        assert!(compare_tensor(&exp, &rec(&["3f800003", "00000000"], None)).is_some());
        let exp = rec(&["3f800000"], Some(r#"{"max_abs": 1e-6}"#));
        assert!(compare_tensor(&exp, &rec(&["3f800008"], None)).is_none());
        assert!(compare_tensor(&exp, &rec(&["3f800010"], None)).is_some());
        // without a tolerance, sha256 decides
        assert!(compare_tensor(&rec(&["3f800000"], None), &rec(&["3f800001"], None)).is_some());
        assert!(Tolerance::from_json(&json!({})).is_err());
        assert!(Tolerance::from_json(&json!({"max_ulps": -1})).is_err());
        assert!(Tolerance::from_json(&json!({"ulps": 1})).is_err());
    }
}
