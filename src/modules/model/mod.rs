//! Whole models from a JSON description: built-in modules in construction order, nested in
//! containers as a Python `__init__` nests them, then post-construction init passes
//! (`model.apply(_init_weights)`, per-parameter inits). The format is documented in the README
//! ("Model descriptions").
//!
//! `read` turns the JSON into checked nodes and passes before anything is drawn; `build`
//! constructs the modules; `passes` runs the init passes.

mod build;
mod passes;
mod read;

use serde_json::{Map, Value};

use super::build::{Builder, NoRecorder, Recorder};
use super::registry::{ArgValue, ClassEntry};
use super::{Module, StateDict};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;
use crate::torch::Torch;

/// The `format` value of a model description.
pub const MODEL_FORMAT: &str = "torch-rng-model/1";

fn bad(at: &str, reason: impl Into<String>) -> Error {
    Error::CaseFile {
        location: at.to_string(),
        reason: reason.into(),
    }
}

/// A constructor argument as read: a value, or a module description built before the class.
#[derive(Clone, Debug, PartialEq)]
enum Arg {
    Value(ArgValue),
    /// A module argument and the scope its draws are reported under.
    Node(Box<Node>, &'static str),
}

/// What a `Parameter`/`Buffer` starts as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TensorInit {
    Zeros,
    Ones,
    Rand,
    Randn,
}

impl TensorInit {
    fn name(self) -> &'static str {
        match self {
            TensorInit::Zeros => "zeros",
            TensorInit::Ones => "ones",
            TensorInit::Rand => "rand",
            TensorInit::Randn => "randn",
        }
    }
}

/// A parsed module (or parameter) description.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    name: String,
    at: String,
    kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
enum NodeKind {
    Builtin {
        class: &'static ClassEntry,
        args: Vec<(&'static str, Arg)>,
        dtype: Option<DType>,
    },
    /// `Sequential`, `ModuleList`, `ModuleDict`, `Module`, a described class or a stateless layer.
    Container { class: String, children: Vec<Node> },
    /// `nn.Parameter(torch.<init>(size, dtype=dtype))` or a registered buffer.
    Tensor {
        buffer: bool,
        persistent: bool,
        size: Vec<i64>,
        init: TensorInit,
        dtype: DType,
    },
}

impl PartialEq for ClassEntry {
    fn eq(&self, other: &ClassEntry) -> bool {
        self.name == other.name
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Rule {
    classes: Vec<String>,
    inits: Vec<(String, InitCall)>,
    zero_padding_idx: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Pass {
    Apply(Vec<Rule>),
    Parameters {
        name: Option<String>,
        endswith: Option<String>,
        min_dim: Option<i64>,
        init: InitCall,
    },
    /// `parent.attr = model.get_parameter(to)`: the parameter `name` becomes the tensor `to`
    /// (GPT-2's `lm_head.weight` tied to `wte.weight`). Ties come after every other pass.
    Tie {
        name: String,
        to: String,
        at: String,
    },
}

/// A parsed, checked model description, ready to build.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDesc {
    root: Vec<Node>,
    passes: Vec<Pass>,
    /// One module described on its own (a case step `nn.<class>`): its names are its own.
    single: bool,
}

impl ModelDesc {
    /// Parses a description (a JSON object with `format`, optional `dtype`, optional `classes`,
    /// `modules` and optional `init`).
    ///
    /// # Errors
    /// [`Error::CaseFile`] naming the place in the description.
    pub fn from_json(v: &Value) -> Result<ModelDesc> {
        read::model(v)
    }

    /// Parses a description from JSON text.
    ///
    /// # Errors
    /// Invalid JSON, or as [`ModelDesc::from_json`].
    pub fn parse(text: &str) -> Result<ModelDesc> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad("model", format!("not valid JSON: {e}")))?;
        ModelDesc::from_json(&v)
    }

    /// A description of one built-in module (`class` as PyTorch spells it, `nn.` optional) with
    /// the given constructor arguments: what a case step `nn.<class>` builds.
    ///
    /// # Errors
    /// [`Error::CaseFile`] at `at` for an unknown class or a bad argument.
    pub fn single(class: &str, args: Map<String, Value>, at: &str) -> Result<ModelDesc> {
        read::single(class, args, at)
    }

    /// Builds the model: every module in description order (drawing as PyTorch's constructors
    /// draw), then lazy modules materialised in description order, then the init passes.
    ///
    /// # Errors
    /// Whatever a constructor or an init rejects (PyTorch raises there too).
    pub fn build(&self, torch: &mut Torch) -> Result<Module> {
        let (g, cx) = torch.parts();
        self.build_with(&mut Builder::new(g, cx, &mut NoRecorder), &mut |_, _| {})
    }

    /// [`ModelDesc::build`] through a [`Builder`] (whose recorder sees every step), calling
    /// `progress(done, total)` after each module with parameters (built-in or
    /// `Parameter`/`Buffer`) and after each init pass.
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn build_with(
        &self,
        b: &mut Builder<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Module> {
        build::model(self, b, progress)
    }

    /// [`ModelDesc::build`] reporting every step to `rec`.
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn build_recorded(&self, torch: &mut Torch, rec: &mut dyn Recorder) -> Result<Module> {
        let (g, cx) = torch.parts();
        self.build_with(&mut Builder::new(g, cx, rec), &mut |_, _| {})
    }

    /// [`ModelDesc::build`], then the `state_dict`. For a single-module description the names
    /// are the module's own (`weight`, not `0.weight`).
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn state_dict(&self, torch: &mut Torch) -> Result<StateDict> {
        self.state_dict_of(self.build(torch)?)
    }

    /// The `state_dict` of a model this description built (names as [`ModelDesc::state_dict`]).
    ///
    /// # Errors
    /// None today; kept fallible for descriptions whose names depend on the build.
    pub fn state_dict_of(&self, mut root: Module) -> Result<StateDict> {
        if self.single {
            if let Some((_, m)) = root.children.pop() {
                return Ok(m.into_state_dict());
            }
        }
        Ok(root.into_state_dict())
    }
}

#[cfg(test)]
mod tests;
