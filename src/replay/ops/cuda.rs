//! The CUDA generator's own ops: `cuda.manual_seed`, `cuda.manual_seed_all`, `cuda.initial_seed`,
//! `cuda.get_rng_state`, `cuda.set_rng_state` (PyTorch's `torch.cuda.*`, spelled without
//! `torch.`), and the generator methods `get_offset` / `set_offset`.
//!
//! The `cuda.*` ops address the device's default generator (`torch.cuda.default_generators[0]`;
//! the emulation has one device, so `manual_seed_all` is `manual_seed`) and exist only in CUDA
//! cases. `get_offset` / `set_offset` address the step's generator on the case's device: the
//! default one or `generator`; on a CPU case PyTorch rejects them ("CPU Generator does not use
//! offset"), and so does the replay.

use super::{Devices, Draws, StepOp, Which};
use crate::error::{Error, Result};
use crate::replay::{Fields, Output, StepContext};
use crate::tensor::Tensor;

#[derive(Debug)]
enum CudaOp {
    /// `torch.cuda.manual_seed(seed)` / `manual_seed_all(seed)`.
    ManualSeed { seed: i128 },
    /// `torch.cuda.initial_seed()`.
    InitialSeed,
    /// `torch.cuda.get_rng_state()`.
    GetRngState,
    /// `torch.cuda.set_rng_state(state)`.
    SetRngState { state: Vec<u8> },
}

impl StepOp for CudaOp {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let Some(d) = ctx.cuda_device() else {
            // Refused when the case is parsed (Devices::CudaOnly).
            return Err(Error::unsupported("torch.cuda ops in a CPU case"));
        };
        let layout = d.era.rules().state_layout;
        let g = ctx.cuda_gen();
        Ok(match self {
            CudaOp::ManualSeed { seed } => {
                g.manual_seed(crate::generator::seed_from_i128(*seed)?);
                Output::Null
            }
            CudaOp::InitialSeed => Output::Int(i128::from(g.initial_seed())),
            CudaOp::GetRngState => Output::Tensor(Tensor::from_bytes_u8(g.get_state(layout))),
            CudaOp::SetRngState { state } => {
                g.set_state(state, layout)?;
                Output::Null
            }
        })
    }
    fn draws(&self) -> Draws {
        match self {
            CudaOp::ManualSeed { .. } | CudaOp::SetRngState { .. } => Draws::Seeds,
            CudaOp::InitialSeed | CudaOp::GetRngState => Draws::StepGenerator,
        }
    }
    fn takes_generator(&self) -> bool {
        false
    }
    fn which(&self) -> Which {
        Which::Cuda
    }
    fn devices(&self) -> Devices {
        Devices::CudaOnly
    }
}

/// `g.get_offset()` / `g.set_offset(offset)` on the step's generator.
#[derive(Debug)]
enum Offset {
    Get,
    Set(i128),
}

impl StepOp for Offset {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let op = match self {
            Offset::Get => "get_offset",
            Offset::Set(_) => "set_offset",
        };
        if ctx.cuda_device().is_none() {
            return Err(Error::arg(op, "CPU Generator does not use offset"));
        }
        let g = ctx.cuda_gen();
        match self {
            Offset::Get => Ok(Output::Int(i128::from(g.get_offset()))),
            Offset::Set(v) => {
                let v = u64::try_from(*v).map_err(|_| {
                    Error::arg(
                        op,
                        format!("the offset {v} is not an unsigned 64-bit integer"),
                    )
                })?;
                g.set_offset(v)?;
                Ok(Output::Null)
            }
        }
    }
}

fn state_of(f: &mut Fields<'_>) -> Result<Vec<u8>> {
    match f.take("state") {
        Some(serde_json::Value::String(s)) => crate::replay::fields::parse_hex(&s)
            .ok_or_else(|| f.err("'state' must be lowercase hex bytes")),
        Some(v) => Err(f.err(format!("'state' must be a hex string, found {v}"))),
        None => Err(f.err("missing field 'state'")),
    }
}

/// Recognises the CUDA generator ops.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    let op: Box<dyn StepOp> = match name {
        "cuda.manual_seed" | "cuda.manual_seed_all" => match f.req_int("seed") {
            Ok(seed) => Box::new(CudaOp::ManualSeed { seed }),
            Err(e) => return Some(Err(e)),
        },
        "cuda.initial_seed" => Box::new(CudaOp::InitialSeed),
        "cuda.get_rng_state" => Box::new(CudaOp::GetRngState),
        "cuda.set_rng_state" => match state_of(f) {
            Ok(state) => Box::new(CudaOp::SetRngState { state }),
            Err(e) => return Some(Err(e)),
        },
        "get_offset" => Box::new(Offset::Get),
        "set_offset" => match f.req_int("offset") {
            Ok(v) => Box::new(Offset::Set(v)),
            Err(e) => return Some(Err(e)),
        },
        _ => return None,
    };
    Some(Ok(op))
}
