//! Building a parsed description: every module in description order through the registry, lazy
//! modules materialised after construction, then the init passes.

use super::{passes, Arg, ModelDesc, Node, NodeKind, TensorInit};
use crate::error::{Error, Result};
use crate::modules::build::Builder;
use crate::modules::registry::{ArgValues, Class};
use crate::modules::{check_param_dtype, LazyLinear, Module};
use crate::ops;
use crate::tensor::Tensor;

/// A lazy module waiting for materialisation: its position (child indices from the root) and
/// the class with the input size that materialises it.
type Lazy = (Vec<usize>, LazyLinear);

struct Progress<'a> {
    done: usize,
    total: usize,
    f: &'a mut dyn FnMut(usize, usize),
}

impl Progress<'_> {
    fn step(&mut self) {
        self.done += 1;
        (self.f)(self.done, self.total);
    }
}

fn count_leaves(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Container { children, .. } => children.iter().map(count_leaves).sum(),
        _ => 1,
    }
}

/// The dotted name of the module at `path` (child indices from `root`).
fn name_at(root: &Module, path: &[usize]) -> String {
    let mut m = root;
    let mut parts = Vec::new();
    for &i in path {
        parts.push(m.children[i].0.as_str());
        m = &m.children[i].1;
    }
    parts.join(".")
}

fn module_at<'a>(root: &'a mut Module, path: &[usize]) -> &'a mut Module {
    let mut m = root;
    for &i in path {
        m = &mut m.children[i].1;
    }
    m
}

/// Builds the whole model.
pub(super) fn model(
    desc: &ModelDesc,
    b: &mut Builder<'_>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<Module> {
    let total = desc.root.iter().map(count_leaves).sum::<usize>() + desc.passes.len();
    let mut p = Progress {
        done: 0,
        total,
        f: progress,
    };
    let mut lazies = Vec::new();
    let mut root = Module::new("Module");
    for n in &desc.root {
        build_into(&mut root, n, b, &mut lazies, &mut Vec::new(), &mut p)?;
    }
    for (path, lazy) in lazies {
        let name = name_at(&root, &path);
        let m = b.scoped(&name, |b| lazy.construct(b))?;
        *module_at(&mut root, &path) = m;
    }
    for pass in &desc.passes {
        passes::run(&mut root, pass, b)?;
        p.step();
    }
    Ok(root)
}

fn build_into(
    parent: &mut Module,
    n: &Node,
    b: &mut Builder<'_>,
    lazies: &mut Vec<Lazy>,
    path: &mut Vec<usize>,
    progress: &mut Progress<'_>,
) -> Result<()> {
    match &n.kind {
        NodeKind::Tensor {
            buffer,
            persistent,
            size,
            init,
            dtype,
        } => {
            let before = b.snapshot();
            let cx = b.context();
            let t = match init {
                TensorInit::Rand => ops::rand(b.gen(), size, *dtype, cx)?,
                TensorInit::Randn => ops::randn(b.gen(), size, *dtype, cx)?,
                TensorInit::Zeros | TensorInit::Ones => {
                    let mut t = Tensor::zeros_checked("torch.zeros", size, *dtype)?;
                    if *init == TensorInit::Ones {
                        t.storage_mut().fill_f64(1.0);
                    }
                    t
                }
            };
            let law = match init {
                TensorInit::Rand => "U(0, 1)",
                TensorInit::Randn => "N(0, 1)",
                TensorInit::Ones => "fill with 1.0",
                TensorInit::Zeros => "fill with 0.0",
            };
            let what = if *buffer {
                " (a buffer)"
            } else {
                " (an nn.Parameter)"
            };
            let words = b.words_since(before.as_ref());
            b.note(
                &n.name,
                &t,
                &format!("torch.{}({size:?}, dtype=torch.{dtype}){what}", init.name()),
                law,
                words,
            );
            if *buffer {
                if *persistent {
                    parent.buffers.push((n.name.clone(), t));
                }
            } else {
                check_param_dtype("nn.Parameter", *dtype)?;
                parent.params.push((n.name.clone(), t));
            }
            progress.step();
            Ok(())
        }
        NodeKind::Container { class, children } => {
            let mut m = Module::new(class.clone());
            path.push(parent.children.len());
            b.scoped(&n.name, |b| {
                for c in children {
                    build_into(&mut m, c, b, lazies, path, progress)?;
                }
                Ok::<(), Error>(())
            })?;
            path.pop();
            parent.children.push((n.name.clone(), m));
            Ok(())
        }
        NodeKind::Builtin { class, args, dtype } => {
            if class.name == LazyLinear::NAME {
                let lazy = LazyLinear::from_args(values(args, b)?, *dtype)?;
                let mut p = path.clone();
                p.push(parent.children.len());
                lazies.push((p, lazy));
                parent
                    .children
                    .push((n.name.clone(), Module::new("LazyLinear")));
                progress.step();
                return Ok(());
            }
            let m = b.scoped(&n.name, |b| {
                let args = values(args, b)?;
                class.build(args, *dtype, b)
            })?;
            parent.children.push((n.name.clone(), m));
            progress.step();
            Ok(())
        }
    }
}

/// The arguments as values: module arguments are built first, in argument order, as Python
/// evaluates a call's arguments before the call.
fn values(args: &[(&'static str, Arg)], b: &mut Builder<'_>) -> Result<ArgValues> {
    let mut out = Vec::with_capacity(args.len());
    for (name, a) in args {
        let v = match a {
            Arg::Value(v) => v.clone(),
            Arg::Node(node, scope) => {
                let m = b.scoped(scope, |b| build_sub(node, b))?;
                crate::modules::ArgValue::Module(Box::new(m))
            }
        };
        out.push((*name, v));
    }
    Ok(out)
}

/// A module given as an argument (`encoder_layer`, `norm`): built on its own, not registered.
fn build_sub(n: &Node, b: &mut Builder<'_>) -> Result<Module> {
    let mut holder = Module::new("Module");
    let mut lazies = Vec::new();
    let mut quiet = |_: usize, _: usize| {};
    let mut p = Progress {
        done: 0,
        total: 0,
        f: &mut quiet,
    };
    // The argument's own name is not part of the reported names: the caller scoped it.
    let unnamed = Node {
        name: String::new(),
        ..n.clone()
    };
    build_into(
        &mut holder,
        &unnamed,
        b,
        &mut lazies,
        &mut Vec::new(),
        &mut p,
    )?;
    if !lazies.is_empty() {
        return Err(Error::unsupported(
            "a lazy module given as a constructor argument",
        ));
    }
    Ok(holder
        .children
        .pop()
        .map_or_else(|| Module::new("Module"), |(_, m)| m))
}
