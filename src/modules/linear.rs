//! `nn.Linear`, `nn.LazyLinear`, `nn.Bilinear`, `nn.Identity`.

use super::explain::{init_param, ParamInit};
use super::{check_param_dtype, empty, empty_if, weight_and_bias, Module, StateDict};
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::{self, InitCall, Number};

/// `nn.Linear(in_features, out_features, bias, dtype=dtype)` as an ordered `state_dict`.
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
    cx: Context,
) -> Result<StateDict> {
    Ok(linear_module(g, in_features, out_features, bias, dtype, cx)?.into_state_dict())
}

/// `nn.Linear(...)` as a [`Module`] (class `Linear`); see [`linear`].
///
/// # Errors
/// As [`linear`].
pub fn linear_module(
    g: &mut CpuGenerator,
    in_features: i64,
    out_features: i64,
    bias: bool,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    linear_as(
        "Linear",
        "nn.Linear",
        g,
        in_features,
        out_features,
        bias,
        dtype,
        cx,
    )
}

pub(crate) fn linear_as(
    class: &str,
    op: &str,
    g: &mut CpuGenerator,
    in_features: i64,
    out_features: i64,
    bias: bool,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    check_param_dtype(op, dtype)?;
    let mut weight = empty(op, &[out_features, in_features], dtype)?;
    let mut b = empty_if(op, bias, &[out_features], dtype)?;
    init_param(g, "weight", &mut weight, kaiming_sqrt5(), cx)?;
    if let Some(b) = &mut b {
        init_param(g, "bias", b, linear_bias_init(weight.shape())?, cx)?;
    }
    Ok(weight_and_bias(class, weight, b))
}

/// `nn.LazyLinear(out_features, bias)` materialised by a first input whose last dimension is
/// `in_features`: no draws at construction, then exactly [`linear_module`]'s draws.
///
/// Mirrors: `LazyLinear.initialize_parameters` in `torch/nn/modules/linear.py`.
///
/// # Errors
/// As [`linear`]; `in_features` 0 leaves PyTorch's parameters uninitialised, so it is refused as
/// unsupported.
pub fn lazy_linear(
    g: &mut CpuGenerator,
    in_features: i64,
    out_features: i64,
    bias: bool,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    if in_features == 0 {
        return Err(Error::unsupported(
            "nn.LazyLinear materialised with in_features 0 (PyTorch leaves it uninitialised)",
        ));
    }
    // The materialised module's class becomes Linear (`cls_to_become`).
    linear_as(
        "Linear",
        "nn.LazyLinear",
        g,
        in_features,
        out_features,
        bias,
        dtype,
        cx,
    )
}

/// The weight init of Linear and Conv: `kaiming_uniform_(weight, a=math.sqrt(5))`.
pub(crate) fn kaiming_sqrt5() -> ParamInit {
    let a = 5f64.sqrt();
    ParamInit::new(InitCall::KaimingUniform {
        a,
        mode: init::FanMode::FanIn,
        nonlinearity: init::Nonlinearity::LeakyRelu,
    })
    .with("a", "sqrt(5)", Number::Float(a))
}

/// The bias init of Linear and Conv: `uniform_(bias, -bound, bound)` with `bound = 1 /
/// sqrt(fan_in)` of the weight, or 0 when `fan_in` is 0. There Python's bound is the *integer* 0,
/// so `-bound` is `+0.0`, not `-0.0`: the kernel swaps a value equal to `to` for `from`, and the
/// sign of that zero is what gets stored.
pub(crate) fn linear_bias_init(weight_shape: &[usize]) -> Result<ParamInit> {
    let (fan_in, _) = init::calculate_fan_in_and_fan_out(weight_shape)?;
    let fan = Number::Int(fan_in as i64);
    let p = if fan_in > 0 {
        let bound = 1.0 / (fan_in as f64).sqrt();
        ParamInit::new(InitCall::Uniform {
            a: -bound,
            b: bound,
        })
        .with("fan_in", "the weight's fan_in", fan)
        .with("bound", "1 / sqrt(fan_in)", Number::Float(bound))
    } else {
        ParamInit::new(InitCall::Uniform { a: 0.0, b: 0.0 })
            .with("fan_in", "the weight's fan_in", fan)
            .with("bound", "0 (the int 0, since fan_in = 0)", Number::Int(0))
    };
    Ok(p)
}

/// `nn.Bilinear(in1_features, in2_features, out_features, bias)`.
///
/// Mirrors: `Bilinear.reset_parameters` in `torch/nn/modules/linear.py`.
/// Consumes: weight (out, in1, in2) `uniform_(±1/sqrt(in1))`, then the bias (out) with the same
/// bound.
///
/// # Errors
/// `in1_features ≤ 0` (PyTorch 2.15 raises `ValueError`, after allocating), sizes, dtype.
pub fn bilinear(
    g: &mut CpuGenerator,
    in1_features: i64,
    in2_features: i64,
    out_features: i64,
    bias: bool,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let op = "nn.Bilinear";
    check_param_dtype(op, dtype)?;
    let mut weight = empty(op, &[out_features, in1_features, in2_features], dtype)?;
    let mut b = empty_if(op, bias, &[out_features], dtype)?;
    if in1_features <= 0 {
        return Err(Error::arg(
            op,
            format!("in1_features must be > 0, but got (in1_features={in1_features})"),
        ));
    }
    let bound = 1.0 / (in1_features as f64).sqrt();
    let how = ParamInit::new(InitCall::Uniform {
        a: -bound,
        b: bound,
    })
    .with("bound", "1 / sqrt(in1_features)", Number::Float(bound));
    init_param(g, "weight", &mut weight, how.clone(), cx)?;
    if let Some(b) = &mut b {
        init_param(g, "bias", b, how, cx)?;
    }
    Ok(weight_and_bias("Bilinear", weight, b))
}

/// `nn.Identity()`: no parameters, no draws.
#[must_use]
pub fn identity() -> Module {
    Module::new("Identity")
}
