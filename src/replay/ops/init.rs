//! `nn.init.*` ops: every `torch.nn.init` function on `torch.empty(size, dtype)[.permute(...)]`.

use super::{Draws, StepOp};
use crate::error::Result;
use crate::init::InitCall;
use crate::ops::View;
use crate::replay::{Fields, Output, StepContext};

#[derive(Debug)]
struct Init {
    call: InitCall,
    view: View,
}

impl StepOp for Init {
    fn run(&self, ctx: &mut StepContext<'_>) -> Result<Output> {
        let cx = ctx.cx;
        let t = if let (InitCall::Sparse { .. }, Some(_)) = (&self.call, ctx.generator_name()) {
            // sparse_ draws its normals from generator= and its permutations from the default
            // generator: the two phases run one after the other, each with its own generator.
            sparse_with_generator(ctx, &self.call, &self.view)?
        } else {
            self.call.apply_on_view(ctx.gen(), &self.view, cx)?
        };
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

/// `sparse_(..., generator=g)`: the normal fill from `g`, then the permutations from the default
/// generator.
fn sparse_with_generator(
    ctx: &mut StepContext<'_>,
    call: &InitCall,
    view: &View,
) -> Result<crate::tensor::Tensor> {
    let cx = ctx.cx;
    let (g, default) = ctx.step_and_default();
    call.apply_on_view_with(g, Some(default), view, cx)
}

fn kaiming(f: &mut Fields<'_>) -> Result<(f64, String, String)> {
    Ok((
        f.opt_f64("a", 0.0)?,
        f.opt_str("mode", "fan_in")?,
        f.opt_str("nonlinearity", "leaky_relu")?,
    ))
}

fn call_of(name: &str, f: &mut Fields<'_>) -> Option<Result<InitCall>> {
    let r = (|| -> Result<Option<InitCall>> {
        Ok(Some(match name {
            "nn.init.uniform_" => InitCall::Uniform {
                a: f.opt_f64("a", 0.0)?,
                b: f.opt_f64("b", 1.0)?,
            },
            "nn.init.normal_" => InitCall::Normal {
                mean: f.opt_f64("mean", 0.0)?,
                std: f.opt_f64("std", 1.0)?,
            },
            "nn.init.trunc_normal_" => InitCall::TruncNormal {
                mean: f.opt_f64("mean", 0.0)?,
                std: f.opt_f64("std", 1.0)?,
                a: f.opt_f64("a", -2.0)?,
                b: f.opt_f64("b", 2.0)?,
            },
            "nn.init.orthogonal_" => InitCall::Orthogonal {
                gain: f.opt_f64("gain", 1.0)?,
            },
            "nn.init.sparse_" => InitCall::Sparse {
                sparsity: f.req_f64("sparsity")?,
                std: f.opt_f64("std", 0.01)?,
            },
            "nn.init.constant_" => InitCall::Constant {
                val: f.req_f64("val")?,
            },
            "nn.init.ones_" => InitCall::Ones,
            "nn.init.zeros_" => InitCall::Zeros,
            "nn.init.eye_" => InitCall::Eye,
            "nn.init.dirac_" => {
                let groups = match f.take("groups") {
                    None => 1,
                    Some(v) => {
                        let g = f.int_of("groups", &v)?;
                        i64::try_from(g)
                            .map_err(|_| f.err(format!("'groups' = {g} does not fit in int64")))?
                    }
                };
                InitCall::Dirac { groups }
            }
            "nn.init.xavier_uniform_" => InitCall::XavierUniform {
                gain: f.opt_f64("gain", 1.0)?,
            },
            "nn.init.xavier_normal_" => InitCall::XavierNormal {
                gain: f.opt_f64("gain", 1.0)?,
            },
            "nn.init.kaiming_uniform_" => {
                let (a, mode, nonlinearity) = kaiming(f)?;
                InitCall::KaimingUniform {
                    a,
                    mode,
                    nonlinearity,
                }
            }
            "nn.init.kaiming_normal_" => {
                let (a, mode, nonlinearity) = kaiming(f)?;
                InitCall::KaimingNormal {
                    a,
                    mode,
                    nonlinearity,
                }
            }
            _ => return Ok(None),
        }))
    })();
    r.transpose()
}

/// Recognises the `nn.init.*` ops.
pub(super) fn parse(name: &str, f: &mut Fields<'_>) -> Option<Result<Box<dyn StepOp>>> {
    if !name.starts_with("nn.init.") {
        return None;
    }
    let call = call_of(name, f)?;
    Some(call.and_then(|call| {
        let view = f.view()?;
        Ok(Box::new(Init { call, view }) as Box<dyn StepOp>)
    }))
}
