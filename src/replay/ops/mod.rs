//! The ops a case file may name, one module per area.
//!
//! Each area module has a `parse` function that recognises its op names and reads their fields
//! into a [`StepOp`]; `parse` asks each area in turn. Adding an op means adding it to its area's
//! module (and to `tools/golden_ops/<area>.py` for the PyTorch side).

mod core;
mod cuda;
mod init;
mod modules;
mod philox;
mod samplers;
mod tensor_arg;

use super::{Fields, Output, StepContext};
use crate::error::Result;

/// Which generators a step reads or advances (for the draw-before-seed check).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draws {
    /// No generator at all.
    Nothing,
    /// It (re)starts the step's generator (`manual_seed`, `set_rng_state`).
    Seeds,
    /// It reads or advances the step's generator.
    StepGenerator,
    /// It advances the step's generator and the default one (e.g. `sparse_` with `generator=`).
    StepAndDefault,
}

/// Which default generator a step uses when it names no `generator` (for the draw-before-seed
/// check of a CUDA case, which has two: the CPU's and the device's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// The default generator of the case's device (every sampler: a CUDA case's tensors live on
    /// the device).
    Device,
    /// The CPU's (`torch.get_rng_state`, `torch.set_rng_state`, `torch.initial_seed`, which
    /// address the CPU generator whatever the tensors' device).
    Cpu,
    /// The CUDA device's (`torch.cuda.*`).
    Cuda,
    /// The CPU's and every device's (`torch.manual_seed`).
    All,
}

/// On which devices a case may use an op.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Devices {
    /// CPU and CUDA cases.
    Both,
    /// CPU cases only: the CUDA emulation lacks the op.
    CpuOnly,
    /// CUDA cases only (`torch.cuda.*`).
    CudaOnly,
}

/// One parsed step, ready to run.
pub trait StepOp: std::fmt::Debug + Send + Sync {
    /// Runs the call. An `Err` is a rejection of the kind PyTorch raises: it becomes
    /// `{"error": ...}` and ends the case.
    ///
    /// # Errors
    /// Whatever the call rejects.
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output>;

    /// Which generators the step uses.
    fn draws(&self) -> Draws {
        Draws::StepGenerator
    }

    /// The earlier steps whose outputs this step reads (`{"step": K}` arguments), checked when
    /// the case file is read; the other outputs are freed once recorded.
    fn references(&self) -> Vec<usize> {
        Vec::new()
    }

    /// Whether the op accepts a `generator` field (module constructors do not).
    fn takes_generator(&self) -> bool {
        true
    }

    /// Which default generator the step uses without a `generator` field.
    fn which(&self) -> Which {
        Which::Device
    }

    /// The devices the op runs on in torch-rng.
    fn devices(&self) -> Devices {
        Devices::Both
    }
}

type Parser = fn(&str, &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>>;

/// Every area's parser, tried in order.
const PARSERS: &[Parser] = &[
    core::parse,
    cuda::parse,
    init::parse,
    modules::parse,
    samplers::parse,
    philox::parse,
];

/// Parses the op named `name`, reading its fields from `f`.
pub(crate) fn parse(name: &str, f: &mut Fields<'_>) -> Result<Box<dyn StepOp>> {
    // The contract spells ops without `torch.`; accept the prefix as PyTorch code writes it.
    let name = name.strip_prefix("torch.").unwrap_or(name);
    for p in PARSERS {
        if let Some(op) = p(name, f) {
            return op;
        }
    }
    Err(f.err(format!("unknown op '{name}'")))
}
