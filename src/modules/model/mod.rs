//! Whole models from a JSON description: built-in modules in construction order, nested in
//! containers and described classes as a Python `__init__` nests them, with init steps wherever
//! the code runs them (inside a class's construction, after the whole model, on one submodule).
//! The format is documented in the README ("Model descriptions").
//!
//! `read` turns the JSON into checked nodes and steps before anything is drawn: described classes
//! are instantiated once per distinct argument list (`expr` substitutes their `$` arguments),
//! so the checked description is a graph whose size is that of the JSON, and its module count,
//! nesting depth and expansion work are checked against [`Limits`] before anything is built.
//! `build` constructs the modules (tensor allocations charged to the same budget); `passes` runs
//! the init steps (`apply` rules, `named_parameters` selections, ties of one shared tensor).

mod build;
mod expr;
mod passes;
mod read;

use serde_json::{Map, Value};

use super::build::{Builder, Limits, NoRecorder, Recorder};
use super::registry::{ArgValue, ClassEntry};
use super::{Module, StateDict};
use crate::context::DeviceSpec;
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
#[derive(Clone, Debug, PartialEq)]
enum TensorInit {
    /// `torch.zeros`, `torch.ones`, `torch.rand`, `torch.randn`.
    Factory(Factory),
    /// `torch.empty` (PyTorch's uninitialised memory: something must initialise it).
    Empty,
    /// `torch.empty`, then an init call on it (`nn.init.normal_(p, std=0.02)`,
    /// `torch.empty(...).normal_(std=0.02)`).
    Call(InitCall),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Factory {
    Zeros,
    Ones,
    Rand,
    Randn,
}

impl Factory {
    fn name(self) -> &'static str {
        match self {
            Factory::Zeros => "zeros",
            Factory::Ones => "ones",
            Factory::Rand => "rand",
            Factory::Randn => "randn",
        }
    }
}

/// An init call a module item runs on one of its parameters right after its construction
/// (`"then": {"weight": {...}}`).
#[derive(Clone, Debug, PartialEq)]
struct Then {
    /// The parameter, relative to the module (`weight`, `c_proj.weight`).
    param: String,
    call: InitCall,
    at: String,
}

/// A parsed module (or parameter) description.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    /// The attribute name; `None` for an item numbered by its container (`Sequential`,
    /// `ModuleList`).
    name: Option<String>,
    at: String,
    kind: NodeKind,
    /// How many times the item is built (`"repeat": N`), each a fresh construction.
    repeat: u64,
    then: Vec<Then>,
}

#[derive(Clone, Debug, PartialEq)]
enum NodeKind {
    Builtin {
        class: &'static ClassEntry,
        args: Vec<(&'static str, Arg)>,
        dtype: Option<DType>,
    },
    /// `Sequential`, `ModuleList`, `ModuleDict`, `Module` or a stateless layer.
    Container { class: String, items: Vec<Item> },
    /// A use of a described class: its instance (one per distinct argument list).
    Described { instance: usize },
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

/// One entry of a module list: a module, or an init step run at that point of the construction.
#[derive(Clone, Debug, PartialEq)]
enum Item {
    Module(Node),
    Step(Step),
}

#[derive(Clone, Debug, PartialEq)]
struct Rule {
    classes: Vec<String>,
    /// Parameter names (dotted for a submodule's: `c_proj.weight`) and their calls, in order.
    inits: Vec<(String, InitCall)>,
    zero_padding_idx: bool,
    at: String,
}

#[derive(Clone, Debug, PartialEq)]
enum Pass {
    /// `module.apply(fn)`: children first, each module taking the first rule that matches it.
    Apply(Vec<Rule>),
    /// An init call on every parameter of `module.named_parameters()` that matches.
    Parameters {
        name: Option<String>,
        endswith: Option<String>,
        min_dim: Option<i64>,
        init: InitCall,
    },
    /// `parent.attr = module.get_parameter(to)`: from then on `name` and `to` are one tensor.
    Tie { name: String, to: String },
    /// Init calls on named parameters of the module, in order (`trunc_normal_(self.pos_embed,
    /// std=.02)`).
    Calls(Vec<(String, InitCall)>),
}

/// An init step: a pass, the submodule it runs on (`"on"`, relative to the module whose
/// construction it stands in; the whole module when absent), and its place in the description.
#[derive(Clone, Debug, PartialEq)]
struct Step {
    pass: Pass,
    on: Option<String>,
    at: String,
}

/// A described class instantiated with one argument list: its checked body and what building it
/// costs.
#[derive(Clone, Debug, PartialEq)]
struct Instance {
    class: String,
    items: Vec<Item>,
    /// Modules it creates, itself included.
    modules: u64,
    /// Built-in modules and tensors it creates (the progress bar's units), and steps it runs.
    units: u64,
    /// Module levels from it to its deepest descendant, itself included.
    height: u64,
}

/// A parsed, checked model description, ready to build.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDesc {
    root: Vec<Item>,
    instances: Vec<Instance>,
    passes: Vec<Step>,
    /// One module described on its own (a case step `nn.<class>`): its names are its own.
    single: bool,
    limits: Limits,
    /// Progress units of the whole build (built-ins, tensors, steps, passes).
    units: u64,
    /// The device the description asks for (`device`, and the GPU fields; the CPU by default).
    device: DeviceSpec,
}

impl ModelDesc {
    /// The device the description asks for: its top-level `device` (`"cpu"`, the default, or
    /// `"cuda"`) with `gpu` / `sm_count` / `max_threads_per_sm` ([`DeviceSpec`]). The build
    /// itself runs on the device of the [`Torch`] it is given (`torch-rng init` makes that
    /// from this, or from `--device`/`--gpu`).
    #[must_use]
    pub fn device(&self) -> DeviceSpec {
        self.device
    }

    /// Parses a description (a JSON object with `format`, optional `dtype`, optional `classes`,
    /// `modules` and optional `init`) under the default [`Limits`].
    ///
    /// # Errors
    /// [`Error::CaseFile`] naming the place in the description; [`Error::LimitExceeded`] when it
    /// would create more modules or nest deeper than the limits allow.
    pub fn from_json(v: &Value) -> Result<ModelDesc> {
        ModelDesc::from_json_with(v, Limits::default())
    }

    /// [`ModelDesc::from_json`] under `limits` (which also bound its builds).
    ///
    /// # Errors
    /// As [`ModelDesc::from_json`].
    pub fn from_json_with(v: &Value, limits: Limits) -> Result<ModelDesc> {
        read::model(v, limits)
    }

    /// Parses a description from JSON text.
    ///
    /// # Errors
    /// Invalid JSON, or as [`ModelDesc::from_json`].
    pub fn parse(text: &str) -> Result<ModelDesc> {
        ModelDesc::parse_with(text, Limits::default())
    }

    /// [`ModelDesc::parse`] under `limits` (which also bound its builds).
    ///
    /// # Errors
    /// As [`ModelDesc::parse`].
    pub fn parse_with(text: &str, limits: Limits) -> Result<ModelDesc> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad("model", format!("not valid JSON: {e}")))?;
        ModelDesc::from_json_with(&v, limits)
    }

    /// A description of one built-in module (`class` as PyTorch spells it, `nn.` optional) with
    /// the given constructor arguments: what a case step `nn.<class>` builds.
    ///
    /// # Errors
    /// [`Error::CaseFile`] at `at` for an unknown class or a bad argument.
    pub fn single(class: &str, args: Map<String, Value>, at: &str) -> Result<ModelDesc> {
        read::single(class, args, at)
    }

    /// The limits the description was read under; its builds are held to them too.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Builds the model: every module in description order (drawing as PyTorch's constructors
    /// draw, running the init steps where they stand), then lazy modules materialised in
    /// description order, then the init passes.
    ///
    /// # Errors
    /// Whatever a constructor or an init rejects (PyTorch raises there too), naming the module
    /// path; [`Error::LimitExceeded`] past the limits.
    pub fn build(&self, torch: &mut Torch) -> Result<Module> {
        self.build_with(
            &mut Builder::for_torch(torch, &mut NoRecorder),
            &mut |_, _| {},
        )
    }

    /// [`ModelDesc::build`] through a [`Builder`] (whose recorder sees every step; its limits
    /// become the description's), calling `progress(done, total)` after each module with
    /// parameters (built-in or `Parameter`/`Buffer`) and after each init step.
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn build_with(
        &self,
        b: &mut Builder<'_>,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Module> {
        b.set_limits(self.limits);
        build::model(self, b, progress)
    }

    /// [`ModelDesc::build`] reporting every step to `rec`.
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn build_recorded(&self, torch: &mut Torch, rec: &mut dyn Recorder) -> Result<Module> {
        self.build_with(&mut Builder::for_torch(torch, rec), &mut |_, _| {})
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
