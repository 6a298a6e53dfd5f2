//! `torch.nn.init`: fans, gains and the initialisers, computed in Python's double arithmetic in
//! `torch/nn/init.py`'s order, then sampled by the [`crate::ops`] kernels.
//!
//! Mirrors: `torch/nn/init.py`.
//!
//! Each initialiser first derives its parameters (fan, gain, bound) in an explainable form
//! ([`Plan`]) and then samples from it, so that what `explain` prints is what was drawn.

pub(crate) mod buf;
mod call;
pub mod explain;
mod orthogonal;
mod schema;
mod sparse;
mod trunc;

pub(crate) use call::Deferral;
pub use call::{InitCall, Number, Plan, Quantity, Sampling};
#[cfg(feature = "json")]
pub(crate) use explain::ParamExplanation;
pub use orthogonal::ORTHOGONAL_MAX_WORK;
#[cfg(feature = "json")]
pub(crate) use schema::json_float;
pub(crate) use schema::ArgSource;
pub use schema::{
    init_function, parse_float, special_float, ArgKind, InitArg, InitFn, Literal,
    DESCRIPTION_FUNCTIONS, INIT_FUNCTIONS,
};
pub use trunc::{TruncAlgorithm, TRUNC_NORMAL_MAX_ROUNDS};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::ops;
use crate::tensor::Tensor;
use crate::torch::Torch;

/// A nonlinearity name accepted by `calculate_gain`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nonlinearity {
    /// `linear`, the `conv*` and `conv_transpose*` names: gain 1.
    Linear(&'static str),
    /// `sigmoid`: gain 1.
    Sigmoid,
    /// `tanh`: gain 5/3.
    Tanh,
    /// `relu`: gain √2.
    Relu,
    /// `leaky_relu`: gain √(2 / (1 + slope²)).
    LeakyRelu,
    /// `selu`: gain 3/4.
    Selu,
}

const LINEAR_FNS: [&str; 7] = [
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
];

impl Nonlinearity {
    /// Parses a name as `calculate_gain` spells it (exact, case-sensitive).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for any other name, as PyTorch raises `ValueError`.
    pub fn parse(name: &str) -> Result<Nonlinearity> {
        if let Some(&n) = LINEAR_FNS.iter().find(|&&n| n == name) {
            return Ok(Nonlinearity::Linear(n));
        }
        Ok(match name {
            "sigmoid" => Nonlinearity::Sigmoid,
            "tanh" => Nonlinearity::Tanh,
            "relu" => Nonlinearity::Relu,
            "leaky_relu" => Nonlinearity::LeakyRelu,
            "selu" => Nonlinearity::Selu,
            _ => {
                return Err(Error::arg(
                    "calculate_gain",
                    format!("unsupported nonlinearity {name}"),
                ))
            }
        })
    }

    /// The formula of its gain, as `calculate_gain` evaluates it.
    #[must_use]
    pub fn formula(self) -> &'static str {
        match self {
            Nonlinearity::LeakyRelu => "sqrt(2 / (1 + a^2))",
            Nonlinearity::Relu => "sqrt(2)",
            Nonlinearity::Tanh => "5 / 3",
            Nonlinearity::Selu => "3 / 4",
            Nonlinearity::Linear(_) | Nonlinearity::Sigmoid => "1",
        }
    }

    /// The name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Nonlinearity::Linear(n) => n,
            Nonlinearity::Sigmoid => "sigmoid",
            Nonlinearity::Tanh => "tanh",
            Nonlinearity::Relu => "relu",
            Nonlinearity::LeakyRelu => "leaky_relu",
            Nonlinearity::Selu => "selu",
        }
    }
}

/// `torch.nn.init.calculate_gain(nonlinearity, param)`.
///
/// `param` is the leaky-ReLU negative slope (`None` means 0.01); other nonlinearities ignore it.
/// The formula is evaluated in double as PyTorch's Python does: `sqrt(2.0 / (1 + slope**2))`.
///
/// # Errors
/// An unknown nonlinearity.
pub fn calculate_gain(nonlinearity: &str, param: Option<f64>) -> Result<f64> {
    Ok(gain_of(Nonlinearity::parse(nonlinearity)?, param))
}

fn gain_of(nl: Nonlinearity, param: Option<f64>) -> f64 {
    match nl {
        Nonlinearity::Linear(_) | Nonlinearity::Sigmoid => 1.0,
        Nonlinearity::Tanh => 5.0 / 3.0,
        Nonlinearity::Relu => 2f64.sqrt(),
        Nonlinearity::LeakyRelu => {
            let slope = param.unwrap_or(0.01);
            // Python's `slope**2` on a float is C pow(slope, 2), which is exactly slope * slope.
            (2.0 / (1.0 + slope * slope)).sqrt()
        }
        Nonlinearity::Selu => 3.0 / 4.0,
    }
}

/// `_calculate_fan_in_and_fan_out(tensor)`: `fan_in = shape[1] * rf`, `fan_out = shape[0] * rf`,
/// with `rf` the product of the dimensions after the second (Python ints: an empty tensor's fans
/// can exceed 64 bits).
///
/// # Errors
/// Fewer than 2 dimensions.
pub fn calculate_fan_in_and_fan_out(shape: &[usize]) -> Result<(u128, u128)> {
    if shape.len() < 2 {
        return Err(Error::arg(
            "calculate_fan_in_and_fan_out",
            "fan in and fan out can not be computed for tensor with fewer than 2 dimensions",
        ));
    }
    // Python's ints do not overflow; a tensor torch.empty accepts (strides within int64) has fans
    // below 2^126, so u128 holds them exactly, saturating only for shapes no tensor can have.
    let rf = shape[2..]
        .iter()
        .fold(1u128, |p, &d| p.saturating_mul(d as u128));
    Ok((
        (shape[1] as u128).saturating_mul(rf),
        (shape[0] as u128).saturating_mul(rf),
    ))
}

/// Which fan a Kaiming initialiser scales by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FanMode {
    /// `fan_in`: preserves the variance of the forward pass.
    FanIn,
    /// `fan_out`: preserves the variance of the backward pass.
    FanOut,
}

impl FanMode {
    /// Parses `mode` case-insensitively, as `mode.lower()` does.
    ///
    /// # Errors
    /// Anything but `fan_in` or `fan_out`.
    pub fn parse(mode: &str) -> Result<FanMode> {
        match mode.to_lowercase().as_str() {
            "fan_in" => Ok(FanMode::FanIn),
            "fan_out" => Ok(FanMode::FanOut),
            _ => Err(Error::arg(
                "calculate_correct_fan",
                format!("mode {mode} not supported, please use one of fan_in, fan_out"),
            )),
        }
    }

    /// `fan_in` or `fan_out`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            FanMode::FanIn => "fan_in",
            FanMode::FanOut => "fan_out",
        }
    }
}

/// What `kaiming_uniform_` and `kaiming_normal_` derive, `(mode, fan, gain, std)` with
/// `std = gain / sqrt(fan)`; `None` when the tensor has a zero dimension.
///
/// # Errors
/// A bad mode, fewer than 2 dimensions, or an unknown nonlinearity (checked in PyTorch's order).
pub(crate) fn kaiming_std(
    shape: &[usize],
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) -> Result<Option<(FanMode, u128, f64, f64)>> {
    if shape.contains(&0) {
        return Ok(None);
    }
    let (fan_in, fan_out) = calculate_fan_in_and_fan_out(shape)?;
    let fan = match mode {
        FanMode::FanIn => fan_in,
        FanMode::FanOut => fan_out,
    };
    let gain = gain_of(nonlinearity, Some(a));
    let std = gain / (fan as f64).sqrt();
    Ok(Some((mode, fan, gain, std)))
}

/// `torch.nn.init.kaiming_uniform_(t, a, mode, nonlinearity)`.
///
/// Consumes: one `uniform_` over the tensor (one word per element, two for float64); nothing if
/// the tensor has a zero dimension.
///
/// # Errors
/// Fewer than 2 dimensions, or [`crate::Torch::uniform_`]'s checks.
pub fn kaiming_uniform_(
    torch: &mut Torch,
    t: &mut Tensor,
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) -> Result<()> {
    InitCall::KaimingUniform {
        a,
        mode,
        nonlinearity,
    }
    .apply_(torch, t)
}

/// `torch.nn.init.uniform_(t, a, b)`: `t.uniform_(a, b)`.
///
/// # Errors
/// As [`crate::Torch::uniform_`].
pub fn uniform_(torch: &mut Torch, t: &mut Tensor, a: f64, b: f64) -> Result<()> {
    InitCall::Uniform { a, b }.apply_(torch, t)
}

/// `torch.nn.init.normal_(t, mean, std)`: `t.normal_(mean, std)`.
///
/// Consumes: as [`crate::Torch::normal_`] (the fill path for 16+ elements, else the per-element double path
/// with the generator's cached sample).
///
/// # Errors
/// As [`crate::Torch::normal_`].
pub fn normal_(torch: &mut Torch, t: &mut Tensor, mean: f64, std: f64) -> Result<()> {
    InitCall::Normal { mean, std }.apply_(torch, t)
}

/// Runs a call that draws nothing.
fn no_draws(call: &InitCall, t: &mut Tensor) -> Result<()> {
    // The generator is never touched by these calls.
    call.apply(&mut CpuGenerator::new(), t, Context::default())
}

/// `torch.nn.init.constant_(t, val)`: `t.fill_(val)`. No draws.
///
/// # Errors
/// A value outside the dtype's range (as `fill_`'s conversion rejects it).
pub fn constant_(t: &mut Tensor, val: f64) -> Result<()> {
    no_draws(&InitCall::Constant { val }, t)
}

/// `torch.nn.init.ones_(t)`. No draws.
///
/// # Errors
/// None in practice (kept for symmetry with the other initialisers).
pub fn ones_(t: &mut Tensor) -> Result<()> {
    no_draws(&InitCall::Ones, t)
}

/// `torch.nn.init.zeros_(t)`. No draws.
///
/// # Errors
/// None in practice (kept for symmetry with the other initialisers).
pub fn zeros_(t: &mut Tensor) -> Result<()> {
    no_draws(&InitCall::Zeros, t)
}

/// `torch.nn.init.eye_(t)`: the identity matrix. No draws.
///
/// # Errors
/// A tensor that is not 2-D.
pub fn eye_(t: &mut Tensor) -> Result<()> {
    no_draws(&InitCall::Eye, t)
}

/// `torch.nn.init.dirac_(t, groups)`. No draws.
///
/// # Errors
/// A tensor that is not 3-, 4- or 5-D, `groups` 0, or `shape[0]` not divisible by `groups`.
pub fn dirac_(t: &mut Tensor, groups: i64) -> Result<()> {
    no_draws(&InitCall::Dirac { groups }, t)
}

/// `torch.nn.init.xavier_uniform_(t, gain)`: `std = gain * sqrt(2 / (fan_in + fan_out))`,
/// `bound = sqrt(3) * std`, `t.uniform_(-bound, bound)`.
///
/// Consumes: one `uniform_` over the tensor.
///
/// # Errors
/// Fewer than 2 dimensions, `fan_in + fan_out = 0`, or `uniform_`'s checks (a negative or NaN gain).
pub fn xavier_uniform_(torch: &mut Torch, t: &mut Tensor, gain: f64) -> Result<()> {
    InitCall::XavierUniform { gain }.apply_(torch, t)
}

/// `torch.nn.init.xavier_normal_(t, gain)`: `t.normal_(0, gain * sqrt(2 / (fan_in + fan_out)))`.
///
/// Consumes: one `normal_` over the tensor.
///
/// # Errors
/// Fewer than 2 dimensions, `fan_in + fan_out = 0`, or `normal_`'s checks (a negative gain).
pub fn xavier_normal_(torch: &mut Torch, t: &mut Tensor, gain: f64) -> Result<()> {
    InitCall::XavierNormal { gain }.apply_(torch, t)
}

/// `torch.nn.init.kaiming_normal_(t, a, mode, nonlinearity)`: `t.normal_(0, gain / sqrt(fan))`.
///
/// Consumes: one `normal_` over the tensor; nothing if the tensor has a zero dimension.
///
/// # Errors
/// Fewer than 2 dimensions, or [`crate::Torch::normal_`]'s checks.
pub fn kaiming_normal_(
    torch: &mut Torch,
    t: &mut Tensor,
    a: f64,
    mode: FanMode,
    nonlinearity: Nonlinearity,
) -> Result<()> {
    InitCall::KaimingNormal {
        a,
        mode,
        nonlinearity,
    }
    .apply_(torch, t)
}

/// `torch.nn.init.trunc_normal_(t, mean, std, a, b)`: the inverse-CDF chain before 2.12
/// (`target.era < Era::R3`), rejection sampling from 2.12.
///
/// Consumes: before 2.12 one `uniform_` over the tensor. From 2.12, with `p > 0.3` one full-tensor
/// `normal_` per round (the first, then one per redraw round); else two full-tensor `uniform_`s per
/// round (candidates, then acceptance uniforms).
///
/// # Errors
/// `std = 0` (Python's `ZeroDivisionError`), the kernels' checks (`std < 0`, `a > b`, bounds outside
/// the dtype), a non-float dtype; in the uniform-proposal branch, a run that cannot finish within
/// [`TRUNC_NORMAL_MAX_ROUNDS`] is refused after its first round, and any run still drawing after
/// that many rounds stops with an error (PyTorch keeps drawing).
pub fn trunc_normal_(
    torch: &mut Torch,
    t: &mut Tensor,
    mean: f64,
    std: f64,
    a: f64,
    b: f64,
) -> Result<()> {
    InitCall::TruncNormal { mean, std, a, b }.apply_(torch, t)
}

/// `torch.nn.init.orthogonal_(t, gain)`: a `(rows, numel / rows)` standard normal draw, its QR
/// (of the transpose when `rows < cols`), `Q` with the signs of `diag(R)`, times `gain`.
///
/// The QR is a Householder QR in double rounded once to the dtype, not LAPACK's; the README states
/// the measured distance to PyTorch.
///
/// Consumes: one `normal_(0, 1)` over a new contiguous `(rows, cols)` tensor; nothing if empty.
///
/// # Errors
/// Fewer than 2 dimensions; float16/bfloat16 (LAPACK has no such QR; PyTorch draws first); a QR
/// larger than [`ORTHOGONAL_MAX_WORK`] (refused before drawing; PyTorch has no such limit).
pub fn orthogonal_(torch: &mut Torch, t: &mut Tensor, gain: f64) -> Result<()> {
    InitCall::Orthogonal { gain }.apply_(torch, t)
}

/// `torch.nn.init.sparse_(t, sparsity, std)`: `normal_(0, std)`, then for each column the first
/// `ceil(sparsity * rows)` rows of a `randperm(rows)` are zeroed. PyTorch draws those
/// permutations from the **default** generator even when `generator=` is given: see
/// [`sparse_with_generator`].
///
/// Consumes: one `normal_` over the tensor, then one `randperm(rows)` per column.
///
/// # Errors
/// A tensor that is not 2-D, a NaN or infinite `sparsity * rows`, `std < 0`.
pub fn sparse_(torch: &mut Torch, t: &mut Tensor, sparsity: f64, std: f64) -> Result<()> {
    InitCall::Sparse { sparsity, std }.apply_(torch, t)
}

/// `torch.nn.init.sparse_(t, sparsity, std, generator=generator)`: the normals from `generator`,
/// the per-column permutations from `default`, as PyTorch draws them.
///
/// # Errors
/// As [`sparse_`].
pub fn sparse_with_generator(
    default: &mut Torch,
    generator: &mut Torch,
    t: &mut Tensor,
    sparsity: f64,
    std: f64,
) -> Result<()> {
    let view = ops::View::contiguous(
        &t.shape().iter().map(|&d| d as i64).collect::<Vec<_>>(),
        t.dtype(),
    );
    // On a CUDA context the normals come from `generator`'s CUDA generator; the permutations
    // always from `default`'s CPU generator.
    let (mut g, _, cx) = generator.device_parts();
    *t = InitCall::Sparse { sparsity, std }.apply_on_view_with(
        &mut g,
        Some(default.generator_mut()),
        &view,
        cx,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dtype::DType;

    #[test]
    fn gains() {
        // init.md section 3.1, exact doubles
        assert_eq!(
            calculate_gain("tanh", None).unwrap(),
            1.666_666_666_666_666_7
        );
        assert_eq!(
            calculate_gain("relu", None).unwrap().to_bits(),
            0x3ff6_a09e_667f_3bcd
        );
        assert_eq!(
            calculate_gain("leaky_relu", None).unwrap().to_bits(),
            0x3ff6_a054_42aa_d7e4
        );
        assert_eq!(
            calculate_gain("leaky_relu", Some(0.2)).unwrap().to_bits(),
            0x3ff6_3021_484a_e2bb
        );
        assert_eq!(
            calculate_gain("leaky_relu", Some(5f64.sqrt()))
                .unwrap()
                .to_bits(),
            0x3fe2_79a7_4590_331c
        );
        assert_eq!(calculate_gain("conv_transpose2d", Some(3.0)).unwrap(), 1.0);
        assert_eq!(calculate_gain("selu", None).unwrap(), 0.75);
        assert!(calculate_gain("gelu", None).is_err());
        assert!(calculate_gain("ReLU", None).is_err());
    }

    #[test]
    fn fans() {
        assert_eq!(calculate_fan_in_and_fan_out(&[4, 3]).unwrap(), (3, 4));
        assert_eq!(
            calculate_fan_in_and_fan_out(&[8, 2, 3, 3]).unwrap(),
            (18, 72)
        );
        assert!(calculate_fan_in_and_fan_out(&[4]).is_err());
        assert_eq!(FanMode::parse("FAN_IN").unwrap(), FanMode::FanIn);
        assert!(FanMode::parse("fan_avg").is_err());
    }

    #[test]
    fn linear_bound_is_the_blog_posts() {
        // kaiming with a = sqrt(5) on fan_in 3: 0x1.279a74590331cp-1
        let p = InitCall::KaimingUniform {
            a: 5f64.sqrt(),
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::LeakyRelu,
        }
        .plan(&[4, 3], DType::Float32, Context::default())
        .unwrap();
        let Sampling::Uniform { to, .. } = p.sampling else {
            panic!("kaiming_uniform_ samples uniformly")
        };
        assert_eq!(to.to_bits(), 0x3fe2_79a7_4590_331c);
        assert_eq!(to, 0.577_350_269_189_625_7);
    }

    fn first6(call: &InitCall, shape: &[i64], cap: crate::context::Capability) -> Vec<u64> {
        let mut g = CpuGenerator::with_seed(0);
        let mut t = Tensor::zeros(shape, DType::Float32).unwrap();
        call.apply(&mut g, &mut t, Context::new(cap)).unwrap();
        t.bits()[..6].to_vec()
    }

    #[test]
    fn spec_test_vectors() {
        use crate::context::Capability::{Avx2, Default};
        // init.md section 9, vector 5: seed 0, xavier_uniform_(empty(3, 5))
        let x = InitCall::XavierUniform { gain: 1.0 };
        assert_eq!(
            first6(&x, &[3, 5], Avx2),
            [
                0xbbd4_75dc,
                0x3eed_dc9d,
                0xbf36_789e,
                0xbf23_28d6,
                0xbeaa_c785,
                0x3e6d_cdfc
            ]
        );
        assert_eq!(
            first6(&x, &[3, 5], Default),
            [
                0xbbd4_7600,
                0x3eed_dc9e,
                0xbf36_789e,
                0xbf23_28d6,
                0xbeaa_c784,
                0x3e6d_cdfc
            ]
        );
        // vector 6: kaiming_normal_(empty(4, 5)), the fill path
        let k = InitCall::KaimingNormal {
            a: 0.0,
            mode: FanMode::FanIn,
            nonlinearity: Nonlinearity::LeakyRelu,
        };
        let v6 = [
            0xbf36_487e,
            0xbf3a_93b9,
            0xbe22_4888,
            0xbe8c_7f58,
            0x3ec1_ea1f,
            0xbf7b_c886,
        ];
        assert_eq!(first6(&k, &[4, 5], Avx2), v6);
        assert_eq!(first6(&k, &[4, 5], Default), v6);
        // vector 7: kaiming_normal_(empty(3, 5), mode='fan_out', nonlinearity='relu'), per element
        let k = InitCall::KaimingNormal {
            a: 0.0,
            mode: FanMode::FanOut,
            nonlinearity: Nonlinearity::Relu,
        };
        let v7 = [
            0x3fa1_0d4a,
            0xbe75_556e,
            0xbfe3_b56c,
            0x3eed_a16d,
            0xbf62_b0b4,
            0xbf92_2b5d,
        ];
        assert_eq!(first6(&k, &[3, 5], Avx2), v7);
        assert_eq!(first6(&k, &[3, 5], Default), v7);
    }

    #[test]
    fn orthogonal_vector_14_within_a_few_eps() {
        // init.md section 9, vector 14: MKL's bits; torch-rng's QR lands within a few eps.
        let mut t = Tensor::zeros(&[3, 3], DType::Float32).unwrap();
        orthogonal_(&mut Torch::with_seed(0), &mut t, 1.0).unwrap();
        let mkl = [0x3f69_4022u32, 0x3d99_ddfa, 0x3ecf_769d, 0x3eac_1458];
        for (got, want) in t.as_f32().unwrap().iter().zip(mkl) {
            let diff = (f64::from(*got) - f64::from(f32::from_bits(want))).abs();
            assert!(diff <= 4.0 * f64::from(f32::EPSILON), "{got} vs {want:08x}");
        }
    }

    #[test]
    fn zero_dim_draws_nothing() {
        let mut torch = Torch::with_seed(0);
        let mut t = Tensor::zeros(&[0, 3], DType::Float32).unwrap();
        kaiming_uniform_(
            &mut torch,
            &mut t,
            0.0,
            FanMode::FanIn,
            Nonlinearity::LeakyRelu,
        )
        .unwrap();
        assert_eq!(torch.generator(), &CpuGenerator::with_seed(0));
    }
}
