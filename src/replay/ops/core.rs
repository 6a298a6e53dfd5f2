//! Core ops: seeding, state bytes, rand/randn/uniform_/normal_.
//!
//! In a CUDA case the samplers make device tensors (the CUDA kernels and generator), while
//! `manual_seed` is `torch.manual_seed` (the CPU generator and the device's) and
//! `get_rng_state`/`set_rng_state`/`initial_seed` without `generator` address the CPU generator,
//! as PyTorch's `torch.*` functions do; with `generator` they address that
//! `torch.Generator(device="cuda")`.

use super::{Draws, StepOp, Which};
use crate::cuda::ops as cuda;
use crate::dtype::DType;
use crate::error::Result;
use crate::ops::View;
use crate::replay::{Fields, Output, StepContext};
use crate::tensor::Tensor;
use crate::{ops, state};

#[derive(Debug)]
struct ManualSeed {
    /// `None`: an integer beyond 128 bits.
    seed: Option<i128>,
}
impl StepOp for ManualSeed {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        // Range-checked here, not at parse time: PyTorch rejects the call, not the file.
        let s = match self.seed {
            Some(seed) => crate::generator::seed_from_i128(seed)?,
            None => {
                return Err(crate::error::Error::arg(
                    "manual_seed",
                    format!(
                        "seed is out of range [{}, {}] (beyond 128 bits)",
                        i64::MIN,
                        u64::MAX
                    ),
                ))
            }
        };
        match (ctx.cuda_device(), ctx.generator_name()) {
            (None, _) => ctx.gen().manual_seed(s),
            (Some(_), Some(_)) => ctx.cuda_gen().manual_seed(s),
            (Some(_), None) => {
                // torch.manual_seed: the CPU generator and every device's.
                let (cpu, dev) = ctx.defaults();
                cpu.manual_seed(s);
                dev.manual_seed(s);
            }
        }
        Ok(Output::Null)
    }
    fn draws(&self) -> Draws {
        Draws::Seeds
    }
    fn which(&self) -> Which {
        Which::All
    }
}

#[derive(Debug)]
struct SetRngState {
    state: Vec<u8>,
}
impl StepOp for SetRngState {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        match (ctx.cuda_device(), ctx.generator_name()) {
            (Some(d), Some(_)) => {
                let layout = d.era.rules().state_layout;
                ctx.cuda_gen().set_state(&self.state, layout)?;
            }
            _ => ctx.gen().set_state(&self.state)?,
        }
        Ok(Output::Null)
    }
    fn draws(&self) -> Draws {
        Draws::Seeds
    }
    fn which(&self) -> Which {
        Which::Cpu
    }
}

#[derive(Debug)]
struct InitialSeed;
impl StepOp for InitialSeed {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let seed = match (ctx.cuda_device(), ctx.generator_name()) {
            (Some(_), Some(_)) => ctx.cuda_gen().initial_seed(),
            _ => ctx.gen().initial_seed(),
        };
        Ok(Output::Int(i128::from(seed)))
    }
    fn which(&self) -> Which {
        Which::Cpu
    }
}

#[derive(Debug)]
struct GetRngState;
impl StepOp for GetRngState {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let bytes = match (ctx.cuda_device(), ctx.generator_name()) {
            (Some(d), Some(_)) => ctx.cuda_gen().get_state(d.era.rules().state_layout),
            _ => state::get_rng_state(ctx.gen()),
        };
        Ok(Output::Tensor(Tensor::from_bytes_u8(bytes)))
    }
    fn which(&self) -> Which {
        Which::Cpu
    }
}

/// Factories and in-place fills on a [`View`].
#[derive(Debug)]
enum Fill {
    Rand {
        size: Vec<i64>,
        dtype: DType,
    },
    Randn {
        size: Vec<i64>,
        dtype: DType,
    },
    RandLike(View),
    RandnLike(View),
    Uniform {
        view: View,
        from: f64,
        to: f64,
    },
    Normal {
        view: View,
        mean: f64,
        std: f64,
    },
    NormalFactory {
        mean: f64,
        std: f64,
        size: Vec<i64>,
        dtype: DType,
    },
}

impl StepOp for Fill {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let cx = ctx.cx;
        if let Some(d) = ctx.cuda_device() {
            let (g, p, e) = (ctx.cuda_gen(), &d.profile, d.era);
            let t = match self {
                Fill::Rand { size, dtype } => cuda::rand(g, p, e, size, *dtype)?,
                Fill::Randn { size, dtype } => cuda::randn(g, p, e, size, *dtype)?,
                Fill::RandLike(v) => cuda::uniform_(g, p, e, v, 0.0, 1.0)?,
                Fill::RandnLike(v) => cuda::normal_(g, p, e, v, 0.0, 1.0)?,
                Fill::Uniform { view, from, to } => cuda::uniform_(g, p, e, view, *from, *to)?,
                Fill::Normal { view, mean, std } => cuda::normal_(g, p, e, view, *mean, *std)?,
                Fill::NormalFactory {
                    mean,
                    std,
                    size,
                    dtype,
                } => cuda::normal_(g, p, e, &View::contiguous(size, *dtype), *mean, *std)?,
            };
            return Ok(Output::Tensor(t));
        }
        let g = ctx.gen();
        let t = match self {
            Fill::Rand { size, dtype } => ops::rand(g, size, *dtype, cx)?,
            Fill::Randn { size, dtype } => ops::randn(g, size, *dtype, cx)?,
            Fill::RandLike(v) => ops::rand_like(g, v, cx)?,
            Fill::RandnLike(v) => ops::randn_like(g, v, cx)?,
            Fill::Uniform { view, from, to } => ops::uniform_on_view(g, view, *from, *to, cx)?,
            Fill::Normal { view, mean, std } => ops::normal_on_view(g, view, *mean, *std, cx)?,
            Fill::NormalFactory {
                mean,
                std,
                size,
                dtype,
            } => ops::normal(g, *mean, *std, size, *dtype, cx)?,
        };
        Ok(Output::Tensor(t))
    }
}

fn boxed(op: impl StepOp + 'static) -> Box<dyn StepOp> {
    Box::new(op)
}

fn parse_inner(name: &str, f: &mut Fields<'_>) -> Result<Box<dyn StepOp>> {
    {
        Ok(match name {
            "manual_seed" => boxed(ManualSeed {
                seed: f.req_big_int("seed")?,
            }),
            "initial_seed" => boxed(InitialSeed),
            "get_rng_state" => boxed(GetRngState),
            "set_rng_state" => {
                let state = match f.take("state") {
                    Some(serde_json::Value::String(s)) => crate::replay::fields::parse_hex(&s)
                        .ok_or_else(|| f.err("'state' must be lowercase hex bytes"))?,
                    Some(v) => {
                        return Err(f.err(format!("'state' must be a hex string, found {v}")))
                    }
                    None => return Err(f.err("missing field 'state'")),
                };
                boxed(SetRngState { state })
            }
            "rand" => boxed(Fill::Rand {
                size: f.size()?,
                dtype: f.dtype()?,
            }),
            "randn" => boxed(Fill::Randn {
                size: f.size()?,
                dtype: f.dtype()?,
            }),
            "rand_like" => boxed(Fill::RandLike(f.view()?)),
            "randn_like" => boxed(Fill::RandnLike(f.view()?)),
            "uniform_" => boxed(Fill::Uniform {
                view: f.view()?,
                from: f.opt_f64("from", 0.0)?,
                to: f.opt_f64("to", 1.0)?,
            }),
            "normal_" => boxed(Fill::Normal {
                view: f.view()?,
                mean: f.opt_f64("mean", 0.0)?,
                std: f.opt_f64("std", 1.0)?,
            }),
            "normal" => boxed(Fill::NormalFactory {
                mean: f.req_f64("mean")?,
                std: f.req_f64("std")?,
                size: f.size()?,
                dtype: f.dtype()?,
            }),
            other => return Err(f.err(format!("unknown op '{other}'"))),
        })
    }
}

const NAMES: &[&str] = &[
    "manual_seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
    "rand",
    "randn",
    "rand_like",
    "randn_like",
    "uniform_",
    "normal_",
    "normal",
];

/// Recognises the core ops.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    // `torch.normal` is one Python name for four ATen overloads: with a tensor `mean` or `std` the
    // step is the tensor overload of that name (`normal.Tensor_Tensor`, ...).
    if name == "normal" && (f.is_object("mean") || f.is_object("std")) {
        let overload = match (f.is_object("mean"), f.is_object("std")) {
            (true, true) => "normal.Tensor_Tensor",
            (true, false) => "normal.Tensor_float",
            _ => "normal.float_Tensor",
        };
        return Some(super::parse(overload, f));
    }
    if NAMES.contains(&name) {
        Some(parse_inner(name, f))
    } else {
        None
    }
}
