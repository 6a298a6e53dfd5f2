//! Built-in `torch.nn` modules: default initialisation in PyTorch's construction order, returned as
//! an ordered `state_dict`.
//!
//! Mirrors: `torch/nn/modules/*.py` (`__init__` and `reset_parameters`).

use crate::dtype::DType;
use crate::error::Result;
use crate::generator::CpuGenerator;
use crate::init;
use crate::target::Target;
use crate::tensor::Tensor;

/// An ordered `state_dict`: names and tensors in PyTorch's order.
pub type StateDict = Vec<(String, Tensor)>;

/// `nn.Linear(in_features, out_features, bias, dtype=dtype)`.
///
/// Mirrors: `torch/nn/modules/linear.py`, `Linear.reset_parameters`.
/// Consumes: `kaiming_uniform_(weight, a=sqrt(5))` (out·in words; none if either is 0), then the
/// bias `uniform_(-1/sqrt(in), 1/sqrt(in))` (out words; bound 0 and zeros when `in_features` is 0).
///
/// # Errors
/// A negative feature count, a size over the allocation limit, or a non-float dtype.
pub fn linear(
    g: &mut CpuGenerator,
    in_features: i64,
    out_features: i64,
    bias: bool,
    dtype: DType,
    target: Target,
) -> Result<StateDict> {
    let mut weight = Tensor::zeros_checked("nn.Linear", &[out_features, in_features], dtype)?;
    let mut b = if bias {
        Some(Tensor::zeros_checked("nn.Linear", &[out_features], dtype)?)
    } else {
        None
    };
    init::kaiming_uniform_(g, &mut weight, 5f64.sqrt(), "fan_in", "leaky_relu", target)?;
    if let Some(b) = &mut b {
        let (from, to) = linear_bias_bounds(weight.shape())?;
        init::uniform_(g, b, from, to, target)?;
    }
    let mut sd = vec![("weight".to_string(), weight)];
    if let Some(b) = b {
        sd.push(("bias".to_string(), b));
    }
    Ok(sd)
}

/// The bias bounds of Linear and Conv: `±1 / sqrt(fan_in)` of the weight, or `(0, 0)` when
/// `fan_in` is 0. There Python's bound is the *integer* 0, so `-bound` is `+0.0`, not `-0.0`: the
/// kernel swaps a value equal to `to` for `from`, and the sign of that zero is what gets stored.
pub(crate) fn linear_bias_bounds(weight_shape: &[usize]) -> Result<(f64, f64)> {
    let (fan_in, _) = init::calculate_fan_in_and_fan_out(weight_shape)?;
    Ok(if fan_in > 0 {
        let bound = 1.0 / (fan_in as f64).sqrt();
        (-bound, bound)
    } else {
        (0.0, 0.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Capability;

    /// torch.manual_seed(1); nn.Linear(3, 4) (init.md section 9, vector 2).
    #[test]
    fn linear_3x4_seed1() {
        let cases = [
            (
                Capability::Avx2,
                [
                    0x3e98_5043u64,
                    0xbe82_790e,
                    0xbde5_3973,
                    0x3e8a_bf3d,
                    0xbf0b_255c,
                    0x3eb1_4747,
                    0xbdf3_409a,
                    0x3e96_62ea,
                    0x3da4_6023,
                    0xbd90_c794,
                    0x3e23_fa45,
                    0x3ce9_527e,
                ],
                [0x3e57_ece3u64, 0xbe66_64d2, 0xbd2c_6aa5, 0xbd54_e627],
            ),
            (
                Capability::Default,
                [
                    0x3e98_5042,
                    0xbe82_790e,
                    0xbde5_3974,
                    0x3e8a_bf3c,
                    0xbf0b_255c,
                    0x3eb1_4746,
                    0xbdf3_409c,
                    0x3e96_62ea,
                    0x3da4_6020,
                    0xbd90_c790,
                    0x3e23_fa44,
                    0x3ce9_5280,
                ],
                [0x3e57_ece4, 0xbe66_64d2, 0xbd2c_6aa0, 0xbd54_e620],
            ),
        ];
        for (cap, w, b) in cases {
            let mut g = CpuGenerator::with_seed(1);
            let sd = linear(&mut g, 3, 4, true, DType::Float32, Target::new(cap)).unwrap();
            assert_eq!(sd[0].0, "weight");
            assert_eq!(sd[0].1.bits(), w, "{cap}");
            assert_eq!(sd[1].1.bits(), b, "{cap}");
        }
    }

    #[test]
    fn linear_in_zero_draws_bias_words() {
        let mut g = CpuGenerator::with_seed(1);
        let sd = linear(&mut g, 0, 3, true, DType::Float32, Target::default()).unwrap();
        assert_eq!(sd[1].1.bits(), [0, 0, 0]);
        assert_eq!(g.engine().next_index(), 3);
        assert!(linear(&mut g, -1, 3, true, DType::Float32, Target::default()).is_err());
    }
}
