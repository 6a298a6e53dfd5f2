//! Step outputs, the result document, and comparison of two result documents.

use serde_json::{json, Map, Value};

use super::CaseResult;
use crate::modules::StateDict;
use crate::tensor::Tensor;

/// What one step produced.
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

impl Output {
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

/// Compares two result documents case by case. Two documents agree where every case has the same
/// outputs: tensors by dtype, shape and sha256, integers by value, errors by being errors (the
/// messages are each side's own). Returns every mismatch.
#[must_use]
pub fn compare_results(expected: &Value, actual: &Value) -> Vec<Mismatch> {
    let cases = |v: &Value| {
        v.get("cases")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let (ce, ca) = (cases(expected), cases(actual));
    let mut out = Vec::new();
    for e in &ce {
        let name = int_text(&e["name"]);
        let Some(a) = ca.iter().find(|a| a["name"] == e["name"]) else {
            out.push(Mismatch {
                case: name,
                at: String::new(),
                detail: "missing from the actual results".into(),
            });
            continue;
        };
        let outs = |v: &Value| v["outputs"].as_array().cloned().unwrap_or_default();
        let (oe, oa) = (outs(e), outs(a));
        for (i, (x, y)) in oe.iter().zip(&oa).enumerate() {
            if let Some(d) = compare_output(x, y) {
                out.push(Mismatch {
                    case: name.clone(),
                    at: format!("step {i}"),
                    detail: d,
                });
            }
        }
        if oe.len() != oa.len() {
            out.push(Mismatch {
                case: name.clone(),
                at: String::new(),
                detail: format!("expected {} outputs, got {}", oe.len(), oa.len()),
            });
        }
    }
    for a in &ca {
        if !ce.iter().any(|e| e["name"] == a["name"]) {
            out.push(Mismatch {
                case: int_text(&a["name"]),
                at: String::new(),
                detail: "not in the expected results".into(),
            });
        }
    }
    out
}
