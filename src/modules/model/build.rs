//! Building a parsed description: every module in description order through the registry, each
//! init step where it stands, lazy modules materialised after construction, then the init passes.
//!
//! The model under construction is one tree from the root: a container or described class is
//! attached to its parent before its children are built, so a step inside a class's construction
//! sees (and names, relative to the instance) exactly what `self` holds at that line of Python.
//! Recursion follows the module nesting, which the reader bounded
//! ([`crate::modules::Limits::max_depth`]).

use std::collections::BTreeSet;

use super::passes::{self, Ties};
use super::{Arg, Factory, Item, ModelDesc, Node, NodeKind, Step, TensorInit};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::modules::build::{Builder, ParamInit};
use crate::modules::registry::{ArgValues, Class};
use crate::modules::{check_param_dtype, LazyLinear, Module};
use crate::tensor::{checked_numel, Tensor};

/// A lazy module waiting for materialisation: its position (child indices from the root) and
/// the class with the input size that materialises it.
type Lazy = (Vec<usize>, LazyLinear);

pub(super) struct Progress<'a> {
    done: usize,
    total: usize,
    f: &'a mut dyn FnMut(usize, usize),
}

impl Progress<'_> {
    pub(super) fn step(&mut self) {
        self.done += 1;
        (self.f)(self.done, self.total);
    }
}

/// `a.b` from a dotted prefix (possibly empty) and a name.
pub(super) fn join(prefix: &str, name: &str) -> String {
    match (prefix.is_empty(), name.is_empty()) {
        (true, _) => name.to_string(),
        (_, true) => prefix.to_string(),
        _ => format!("{prefix}.{name}"),
    }
}

/// The module at `path` (child indices from `root`).
pub(super) fn module_at<'a>(root: &'a Module, path: &[usize]) -> &'a Module {
    let mut m = root;
    for &i in path {
        m = &m.children[i].1;
    }
    m
}

/// The module at `path`, mutably.
pub(super) fn module_at_mut<'a>(root: &'a mut Module, path: &[usize]) -> &'a mut Module {
    let mut m = root;
    for &i in path {
        m = &mut m.children[i].1;
    }
    m
}

/// The dotted name of the module at `path`.
fn name_at(root: &Module, path: &[usize]) -> String {
    let mut m = root;
    let mut parts = Vec::new();
    for &i in path {
        parts.push(m.children[i].0.as_str());
        m = &m.children[i].1;
    }
    parts.join(".")
}

/// Everything a build keeps besides the builder: the tree, the ties, lazy modules waiting, and
/// `torch.empty` tensors nothing has initialised yet.
pub(super) struct State<'d, 'p> {
    pub(super) desc: &'d ModelDesc,
    pub(super) root: Module,
    pub(super) ties: Ties,
    pub(super) lazies: Vec<Lazy>,
    /// Full names of `torch.empty` tensors not yet written by an init call.
    pub(super) empties: BTreeSet<String>,
    progress: Progress<'p>,
    /// Whether errors get the module path (not for a single module, whose errors are its own).
    locate: bool,
}

impl<'d, 'p> State<'d, 'p> {
    fn new(desc: &'d ModelDesc, progress: Progress<'p>, locate: bool) -> State<'d, 'p> {
        State {
            desc,
            root: Module::new("Module"),
            ties: Ties::default(),
            lazies: Vec::new(),
            empties: BTreeSet::new(),
            progress,
            locate,
        }
    }

    /// An error from building the module `full` described at `at`, with the module path added
    /// (errors that already name their place keep it).
    fn located(&self, e: Error, full: &str, at: &str) -> Error {
        if !self.locate {
            return e;
        }
        match e {
            Error::CaseFile { .. } | Error::LimitExceeded { .. } => e,
            other => {
                let location = if full.is_empty() {
                    at.to_string()
                } else {
                    format!("{full} ({at})")
                };
                Error::CaseFile {
                    location,
                    reason: other.to_string(),
                }
            }
        }
    }

    /// Builds `items` into the module at `mpath` (dotted name `prefix`), in order.
    fn items(
        &mut self,
        b: &mut Builder<'_>,
        mpath: &[usize],
        prefix: &str,
        items: &[Item],
    ) -> Result<()> {
        for item in items {
            match item {
                Item::Step(s) => {
                    self.step(b, mpath, prefix, s)?;
                    self.progress.step();
                }
                Item::Module(n) => {
                    for _ in 0..n.repeat {
                        let name = match &n.name {
                            Some(name) => name.clone(),
                            None => module_at(&self.root, mpath).children.len().to_string(),
                        };
                        self.node(b, mpath, prefix, n, &name)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Runs an init step on the module at `mpath` (or its submodule `on`).
    pub(super) fn step(
        &mut self,
        b: &mut Builder<'_>,
        mpath: &[usize],
        prefix: &str,
        s: &Step,
    ) -> Result<()> {
        let (path, full, rel) = match &s.on {
            None => (mpath.to_vec(), prefix.to_string(), String::new()),
            Some(on) => {
                let mut path = mpath.to_vec();
                for part in on.split('.') {
                    let m = module_at(&self.root, &path);
                    let i = m
                        .children
                        .iter()
                        .position(|(n, _)| n == part)
                        .ok_or_else(|| {
                            super::bad(
                                &s.at,
                                format!(
                                    "'on': no submodule '{on}' in {}",
                                    if prefix.is_empty() {
                                        "the model"
                                    } else {
                                        prefix
                                    }
                                ),
                            )
                        })?;
                    path.push(i);
                }
                (path, join(prefix, on), on.clone())
            }
        };
        passes::run(self, b, &path, &full, &rel, s)
    }

    /// Builds one construction of `n` under the name `name` into the module at `mpath`.
    fn node(
        &mut self,
        b: &mut Builder<'_>,
        mpath: &[usize],
        prefix: &str,
        n: &Node,
        name: &str,
    ) -> Result<()> {
        let full = join(prefix, name);
        match &n.kind {
            NodeKind::Tensor {
                buffer,
                persistent,
                size,
                init,
                dtype,
            } => {
                if !*buffer {
                    check_param_dtype("nn.Parameter", *dtype)
                        .map_err(|e| self.located(e, &full, &n.at))?;
                }
                let t = tensor(b, name, size, init, *dtype, *buffer)
                    .map_err(|e| self.located(e, &full, &n.at))?;
                if matches!(init, TensorInit::Empty) {
                    self.empties.insert(full.clone());
                }
                let parent = module_at_mut(&mut self.root, mpath);
                if *buffer {
                    if *persistent {
                        parent.buffers.push((name.to_string(), t));
                    }
                } else {
                    parent.params.push((name.to_string(), t));
                }
                self.progress.step();
                return Ok(());
            }
            NodeKind::Builtin { class, args, dtype } => {
                if class.name == LazyLinear::NAME {
                    let lazy = LazyLinear::from_args(self.values(args, b)?, *dtype)
                        .map_err(|e| self.located(e, &full, &n.at))?;
                    let parent = module_at_mut(&mut self.root, mpath);
                    let mut p = mpath.to_vec();
                    p.push(parent.children.len());
                    parent
                        .children
                        .push((name.to_string(), Module::new("LazyLinear")));
                    self.lazies.push((p, lazy));
                } else {
                    let m = b
                        .scoped(name, |b| {
                            let args = self.values(args, b)?;
                            class.build(args, *dtype, b)
                        })
                        .map_err(|e| self.located(e, &full, &n.at))?;
                    module_at_mut(&mut self.root, mpath)
                        .children
                        .push((name.to_string(), m));
                }
                self.progress.step();
            }
            NodeKind::Container { class, items } => {
                self.nested(b, mpath, &full, name, class, items)?;
            }
            NodeKind::Described { instance } => {
                let inst = &self.desc.instances[*instance];
                self.nested(b, mpath, &full, name, &inst.class, &inst.items)?;
            }
        }
        if !n.then.is_empty() {
            let parent = module_at(&self.root, mpath);
            let mut path = mpath.to_vec();
            path.push(parent.children.len() - 1);
            for t in &n.then {
                passes::then(self, b, &path, &full, name, t)?;
            }
        }
        Ok(())
    }

    /// A container or described class: attached to its parent first, then its items built into
    /// it.
    fn nested(
        &mut self,
        b: &mut Builder<'_>,
        mpath: &[usize],
        full: &str,
        name: &str,
        class: &str,
        items: &[Item],
    ) -> Result<()> {
        let parent = module_at_mut(&mut self.root, mpath);
        let mut path = mpath.to_vec();
        path.push(parent.children.len());
        parent
            .children
            .push((name.to_string(), Module::new(class.to_string())));
        b.scoped(name, |b| self.items(b, &path, full, items))
    }

    /// The arguments as values: module arguments are built first, in argument order, as Python
    /// evaluates a call's arguments before the call.
    fn values(&mut self, args: &[(&'static str, Arg)], b: &mut Builder<'_>) -> Result<ArgValues> {
        let mut out = Vec::with_capacity(args.len());
        for (name, a) in args {
            let v = match a {
                Arg::Value(v) => v.clone(),
                Arg::Node(node, scope) => {
                    let m = b.scoped(scope, |b| self.build_sub(node, b))?;
                    crate::modules::ArgValue::Module(Box::new(m))
                }
            };
            out.push((*name, v));
        }
        Ok(out)
    }

    /// A module given as an argument (`encoder_layer`, `norm`): built on its own, not registered.
    fn build_sub(&mut self, n: &Node, b: &mut Builder<'_>) -> Result<Module> {
        let mut quiet = |_: usize, _: usize| {};
        let progress = Progress {
            done: 0,
            total: 0,
            f: &mut quiet,
        };
        let mut sub = State::new(self.desc, progress, self.locate);
        // The argument's own name is not part of the reported names: the caller scoped it.
        sub.node(b, &[], "", n, "")?;
        if !sub.lazies.is_empty() {
            return Err(Error::unsupported(
                "a lazy module given as a constructor argument",
            ));
        }
        if !sub.ties.is_empty() {
            return Err(super::bad(
                &n.at,
                "a tie inside a module given as a constructor argument (the module is copied)",
            ));
        }
        sub.finish()?;
        Ok(sub
            .root
            .children
            .pop()
            .map_or_else(|| Module::new("Module"), |(_, m)| m))
    }

    /// The end of a build: every `torch.empty` tensor was initialised, and every tied name holds
    /// its tensor.
    fn finish(&mut self) -> Result<()> {
        if let Some(p) = self.empties.iter().find(|p| !self.ties.is_alias(p)) {
            return Err(super::bad(
                "model",
                format!(
                    "'{p}' is torch.empty (PyTorch's uninitialised memory) and no init step \
                     writes it"
                ),
            ));
        }
        passes::fill_ties(self)
    }
}

/// A `Parameter`/`Buffer` tensor: charged to the builder's budget, allocated, initialised.
fn tensor(
    b: &mut Builder<'_>,
    name: &str,
    size: &[i64],
    init: &TensorInit,
    dtype: DType,
    buffer: bool,
) -> Result<Tensor> {
    let what = if buffer {
        " (a buffer)"
    } else {
        " (an nn.Parameter)"
    };
    let factory = match init {
        TensorInit::Factory(f) => f.name(),
        TensorInit::Empty | TensorInit::Call(_) => "empty",
    };
    let op = format!("torch.{factory}");
    let numel = checked_numel(&op, size, dtype)?;
    b.charge(1, (numel as u64).saturating_mul(dtype.size() as u64))?;
    let before = b.snapshot();
    let mut t = match init {
        TensorInit::Factory(Factory::Rand) => b.rand(size, dtype)?,
        TensorInit::Factory(Factory::Randn) => b.randn(size, dtype)?,
        _ => Tensor::zeros_checked(&op, size, dtype)?,
    };
    match init {
        TensorInit::Factory(f) => {
            if *f == Factory::Ones {
                t.storage_mut().fill_f64(1.0);
            }
            let law = match f {
                Factory::Rand => "U(0, 1)",
                Factory::Randn => "N(0, 1)",
                Factory::Ones => "fill with 1.0",
                Factory::Zeros => "fill with 0.0",
            };
            let words = b.words_since(before.as_ref());
            b.note(
                name,
                &t,
                &format!("torch.{}({size:?}, dtype=torch.{dtype}){what}", f.name()),
                law,
                words,
            );
        }
        TensorInit::Empty => {
            b.note(
                name,
                &t,
                &format!("torch.empty({size:?}, dtype=torch.{dtype}){what}"),
                "uninitialised memory in PyTorch (an init step must write it)",
                Some(0),
            );
        }
        TensorInit::Call(call) => {
            b.init_param(name, &mut t, &ParamInit::new(call.clone()))?;
        }
    }
    Ok(t)
}

/// Builds the whole model.
pub(super) fn model(
    desc: &ModelDesc,
    b: &mut Builder<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Module> {
    let total = usize::try_from(desc.units).unwrap_or(usize::MAX);
    let progress = Progress {
        done: 0,
        total,
        f: progress,
    };
    let mut st = State::new(desc, progress, !desc.single);
    if desc.single {
        // One module described on its own: its names are its own (`weight`, not `0.weight`).
        if let Some(Item::Module(n)) = desc.root.first() {
            st.node(b, &[], "", n, "")?;
        }
    } else {
        st.items(b, &[], "", &desc.root)?;
    }
    let lazies = std::mem::take(&mut st.lazies);
    for (path, lazy) in lazies {
        let name = name_at(&st.root, &path);
        let m = b.scoped(&name, |b| lazy.construct(b))?;
        *module_at_mut(&mut st.root, &path) = m;
    }
    for pass in &desc.passes {
        st.step(b, &[], "", pass)?;
        st.progress.step();
    }
    st.finish()?;
    Ok(st.root)
}
