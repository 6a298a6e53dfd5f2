//! `nn.init.*` ops: every `torch.nn.init` function on `torch.empty(size, dtype)[.permute(...)]`.

use super::{Draws, StepOp};
use crate::error::{Error, Result};
use crate::init::InitCall;
use crate::ops::View;
use crate::replay::{Fields, Output, StepContext};
use crate::tensor::Tensor;

#[derive(Debug)]
struct Init {
    call: InitCall,
    view: View,
}

impl StepOp for Init {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let cx = ctx.cx;
        // sparse_ draws its normals from generator= (or the device's default generator) and its
        // permutations from the default CPU generator: the two phases run one after the other,
        // each with its own generator. Every other call draws from the first only.
        let (mut g, default) = ctx.rng_and_cpu_default();
        let t = self
            .call
            .apply_on_view_with(&mut g, default, &self.view, cx)?;
        Ok(Output::Tensor(t))
    }

    fn draws(&self) -> Draws {
        if matches!(self.call, InitCall::Sparse { .. }) {
            Draws::StepAndDefault
        } else if self.call.takes_generator() {
            Draws::StepGenerator
        } else {
            Draws::Nothing
        }
    }

    fn takes_generator(&self) -> bool {
        self.call.takes_generator()
    }
}

/// Recognises the `nn.init.*` ops.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    let fname = name.strip_prefix("nn.init.")?;
    crate::init::init_function(fname)?;
    Some(read(fname, f))
}

fn read(fname: &str, f: &mut Fields<'_>) -> Result<Box<dyn StepOp>> {
    let call = match InitCall::read(fname, f) {
        Ok(call) => Ok(call.expect("a declared init function")),
        // A value PyTorch rejects (an unknown mode) is a rejected step, not a malformed file.
        Err(e @ Error::InvalidArgument { .. }) => Err(e),
        Err(e) => return Err(e),
    };
    let view = f.view()?;
    Ok(match call {
        Ok(call) => Box::new(Init { call, view }),
        Err(error) => Box::new(Rejected {
            error,
            // kaiming_* return before checking anything when the tensor has a zero dimension.
            zero_guard: fname.starts_with("kaiming_"),
            view,
        }),
    })
}

/// An init call whose arguments PyTorch rejects when it runs.
#[derive(Debug)]
struct Rejected {
    error: Error,
    zero_guard: bool,
    view: View,
}

impl StepOp for Rejected {
    fn run(&self, _ctx: &mut StepContext<'_>) -> Result<Output> {
        self.view.check_size("nn.init")?;
        if self.zero_guard && self.view.shape().contains(&0) {
            let t = Tensor::zeros(&self.view.size, self.view.dtype)?;
            return Ok(Output::Tensor(match &self.view.perm {
                Some(p) => t.permuted(p)?,
                None => t,
            }));
        }
        Err(self.error.clone())
    }

    fn draws(&self) -> Draws {
        Draws::StepGenerator
    }
}
