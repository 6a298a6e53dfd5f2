//! Module ops: `nn.<Class>` (every built-in module of [`crate::modules`]) and `model` (a whole
//! model description inline). Modules take no `generator`: they draw from the default one.

use serde_json::{Map, Value};

use super::StepOp;
use crate::error::{Error, Result};
use crate::modules::model::ModelDesc;
use crate::modules::registry;
use crate::modules::{Builder, NoRecorder};
use crate::replay::{Fields, Output, StepContext};
use crate::torch::Torch;

#[derive(Debug)]
struct Build(ModelDesc);

impl StepOp for Build {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let cx = ctx.cx;
        let mut quiet = NoRecorder;
        if ctx.cuda_device().is_none() {
            let mut b = Builder::new(ctx.gen(), cx, &mut quiet);
            let root = self.0.build_with(&mut b, &mut |_, _| {})?;
            return Ok(Output::StateDict(self.0.state_dict_of(root)?));
        }
        // On a CUDA device (`device="cuda"`): the device's default generator, and the CPU's for
        // what PyTorch draws on the CPU whatever the device (sparse_'s permutations).
        let (cpu, dev) = ctx.defaults();
        let mut torch = Torch::from_parts(cx, cpu.clone());
        *torch.cuda_generator_mut() = dev.clone();
        let built = self.0.build_with(
            &mut Builder::for_torch(&mut torch, &mut quiet),
            &mut |_, _| {},
        );
        // The generators advance as far as the build went, as PyTorch's do when it raises.
        *cpu = torch.generator().clone();
        *dev = torch.cuda_generator().clone();
        Ok(Output::StateDict(self.0.state_dict_of(built?)?))
    }
    fn takes_generator(&self) -> bool {
        false
    }
}

/// A description error becomes a case-file error at the step, keeping the place inside the
/// description.
fn located(f: &Fields<'_>, e: Error) -> Error {
    match e {
        Error::CaseFile { location, reason } if location.is_empty() => f.err(reason),
        Error::CaseFile { location, reason } => f.err(format!("{location}: {reason}")),
        other => other,
    }
}

/// Recognises `nn.<Class>` for the built-in modules, and `model`.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    if name == "model" {
        // `python` (and `python_path`): the real model the description stands for, which
        // tools/gen_golden.py builds instead; the replay builds the description.
        for key in ["python", "python_path"] {
            match f.take(key) {
                None | Some(Value::String(_)) => {}
                Some(v) => return Some(Err(f.err(format!("'{key}' must be a string, found {v}")))),
            }
        }
        let r = match f.take("model") {
            None => Err(f.err("missing field 'model'")),
            Some(v) => ModelDesc::from_json(&v)
                .map(|d| Box::new(Build(d)) as Box<dyn StepOp>)
                .map_err(|e| located(f, e)),
        };
        return Some(r);
    }
    let class = registry::class(name.strip_prefix("nn.")?)?;
    let mut args = Map::new();
    for key in class.argument_names() {
        if let Some(v) = f.take(key) {
            if key == "dtype" && v == Value::Null {
                continue;
            }
            args.insert(key.to_string(), v);
        }
    }
    Some(
        ModelDesc::single(class.name, args, "")
            .map(|d| Box::new(Build(d)) as Box<dyn StepOp>)
            .map_err(|e| located(f, e)),
    )
}
