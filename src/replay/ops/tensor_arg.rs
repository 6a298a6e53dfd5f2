//! Tensor arguments of a step: a literal, or an earlier step's output (`{"step": K}`, with
//! `"output": NAME` for a step whose output is a `state_dict`), as `golden/README.md` documents.
//! A reference is checked when the case file is read (it must name an earlier step) and resolved
//! to the earlier output without copying it.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::cuda::ops::DropoutInput;
use crate::error::{Error, Result};
use crate::replay::{Fields, Output};
use crate::tensor::Tensor;

/// A tensor argument: a literal, or an earlier step's output.
#[derive(Debug, Clone)]
pub(super) enum TensorArg {
    Literal(Tensor),
    /// A `fill` literal in a CUDA case, with the memory layout its layout keys give it (which
    /// decides the fused dropout kernel's vector width).
    Laid(Tensor, DropoutInput),
    Step {
        index: usize,
        output: Option<String>,
    },
}

impl TensorArg {
    /// The tensor: the literal, or the earlier step's output, borrowed.
    pub(super) fn resolve<'a>(&'a self, previous: &'a [Output]) -> Result<Cow<'a, Tensor>> {
        let (index, output) = match self {
            TensorArg::Literal(t) | TensorArg::Laid(t, _) => return Ok(Cow::Borrowed(t)),
            TensorArg::Step { index, output } => (*index, output.as_deref()),
        };
        let bad = |why: &str| Error::CaseFile {
            location: format!("step reference {index}"),
            reason: why.to_string(),
        };
        match (previous.get(index), output) {
            (Some(Output::Tensor(t) | Output::Bounded(t, _)), None) => Ok(Cow::Borrowed(t)),
            (Some(Output::StateDict(sd) | Output::BoundedStateDict(sd, ..)), Some(name)) => sd
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| Cow::Borrowed(t))
                .ok_or_else(|| bad("no output of that name")),
            (Some(Output::StateDict(_) | Output::BoundedStateDict(..)), None) => Err(bad(
                "that step has several outputs; name one with \"output\"",
            )),
            (Some(_), _) => Err(bad("that step did not produce a single tensor")),
            (None, _) => Err(bad("not an earlier step of this case")),
        }
    }

    /// How the argument sits in memory: a fresh contiguous tensor unless a `fill` argument's
    /// layout keys say otherwise.
    pub(super) fn layout(&self) -> DropoutInput {
        match self {
            TensorArg::Laid(_, l) => l.clone(),
            TensorArg::Literal(_) | TensorArg::Step { .. } => DropoutInput::default(),
        }
    }

    /// The earlier step this argument reads, if it reads one.
    pub(super) fn step(&self) -> Option<usize> {
        match self {
            TensorArg::Literal(_) | TensorArg::Laid(..) => None,
            TensorArg::Step { index, .. } => Some(*index),
        }
    }
}

/// Reads `{"step": K, "output": NAME}` out of the tensor object `m` of field `key`: `None` when
/// `m` has no `step` (it is a literal then).
pub(super) fn step_reference(
    f: &Fields<'_>,
    key: &str,
    m: &mut Map<String, Value>,
) -> Result<Option<TensorArg>> {
    let Some(step) = m.remove("step") else {
        return Ok(None);
    };
    let index = f.int_of(key, &step)?;
    let index = usize::try_from(index).map_err(|_| f.err(format!("'{key}': negative step")))?;
    let output = match m.remove("output") {
        None => None,
        Some(Value::String(s)) => Some(s),
        Some(o) => return Err(f.err(format!("'{key}.output' must be a string, found {o}"))),
    };
    if let Some(k) = m.keys().next() {
        return Err(f.err(format!("'{key}': unknown key '{k}' in a step reference")));
    }
    Ok(Some(TensorArg::Step { index, output }))
}

/// The shape and row-major leaves of a nested JSON list (a bare value is a 0-dim tensor), or an
/// error naming `key` if the list is ragged.
pub(super) fn nested<'v>(
    f: &Fields<'_>,
    key: &str,
    v: &'v Value,
) -> Result<(Vec<usize>, Vec<&'v Value>)> {
    let (mut shape, mut leaves) = (Vec::new(), Vec::new());
    nest(f, key, v, 0, &mut shape, &mut leaves)?;
    Ok((shape, leaves))
}

fn nest<'v>(
    f: &Fields<'_>,
    key: &str,
    v: &'v Value,
    depth: usize,
    shape: &mut Vec<usize>,
    out: &mut Vec<&'v Value>,
) -> Result<()> {
    match v {
        Value::Array(items) => {
            if shape.len() == depth {
                shape.push(items.len());
            } else if shape[depth] != items.len() {
                return Err(f.err(format!("'{key}': ragged nested list")));
            }
            for x in items {
                nest(f, key, x, depth + 1, shape, out)?;
            }
            Ok(())
        }
        leaf => {
            if shape.len() != depth {
                return Err(f.err(format!("'{key}': ragged nested list")));
            }
            out.push(leaf);
            Ok(())
        }
    }
}
