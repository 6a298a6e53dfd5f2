//! `nn.Linear`, `nn.LazyLinear`, `nn.Bilinear`, `nn.Identity`.

use super::build::{Builder, ParamInit};
use super::registry::{nn_class, ArgSpec, ArgValues, Class};
use super::{check_param_dtype, empty, empty_if, weight_and_bias, Module};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::{self, InitCall, Number};

nn_class! {
    /// `nn.Linear(in_features, out_features, bias=True, dtype=None)`.
    ///
    /// Mirrors: `torch/nn/modules/linear.py`, `Linear.reset_parameters`.
    /// Consumes: `kaiming_uniform_(weight, a=sqrt(5))` (out·in words; none if either is 0), then
    /// the bias `uniform_(-1/sqrt(in), 1/sqrt(in))` (out words; bound 0 and zeros when
    /// `in_features` is 0).
    Linear = "Linear" {
        /// Size of each input sample.
        in_features: i64,
        /// Size of each output sample.
        out_features: i64;
        /// Whether the layer has a bias.
        bias: bool = true,
    }
}

impl Linear {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        linear_as(
            b,
            "Linear",
            "nn.Linear",
            (self.in_features, self.out_features),
            self.bias,
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.LazyLinear(out_features, bias=True, dtype=None)` materialised by a first input whose
    /// last dimension is `in_features`: no draws at construction, then exactly [`Linear`]'s draws.
    /// In a model description, lazy modules are materialised after the whole model is built, in
    /// description order.
    ///
    /// Mirrors: `LazyLinear.initialize_parameters` in `torch/nn/modules/linear.py`.
    LazyLinear = "LazyLinear" {
        /// The last dimension of the first input (which materialises the module).
        in_features: i64,
        /// Size of each output sample.
        out_features: i64;
        /// Whether the layer has a bias.
        bias: bool = true,
    }
}

impl LazyLinear {
    /// The materialisation: `in_features` 0 leaves PyTorch's parameters uninitialised, so it is
    /// refused as unsupported. The module's class becomes `Linear` (`cls_to_become`).
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        if self.in_features == 0 {
            return Err(Error::unsupported(
                "nn.LazyLinear materialised with in_features 0 (PyTorch leaves it uninitialised)",
            ));
        }
        linear_as(
            b,
            "Linear",
            "nn.LazyLinear",
            (self.in_features, self.out_features),
            self.bias,
            self.param_dtype(),
        )
    }
}

/// A Linear of class `class` (MultiheadAttention's `out_proj` is a
/// `NonDynamicallyQuantizableLinear`).
pub(crate) fn linear_as(
    b: &mut Builder<'_>,
    class: &str,
    op: &str,
    (in_features, out_features): (i64, i64),
    bias: bool,
    dtype: DType,
) -> Result<Module> {
    check_param_dtype(op, dtype)?;
    let mut weight = empty(op, &[out_features, in_features], dtype)?;
    let mut bias = empty_if(op, bias, &[out_features], dtype)?;
    b.init_param("weight", &mut weight, &kaiming_sqrt5())?;
    if let Some(t) = &mut bias {
        b.init_param("bias", t, &linear_bias_init(weight.shape())?)?;
    }
    Ok(weight_and_bias(class, weight, bias))
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
    let fan = Number::Int(fan_in as i128);
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

nn_class! {
    /// `nn.Bilinear(in1_features, in2_features, out_features, bias=True, dtype=None)`.
    ///
    /// Mirrors: `Bilinear.reset_parameters` in `torch/nn/modules/linear.py`.
    /// Consumes: weight (out, in1, in2) `uniform_(±1/sqrt(in1))`, then the bias (out) with the
    /// same bound. `in1_features ≤ 0` is refused (PyTorch 2.15 raises `ValueError`, after
    /// allocating).
    Bilinear = "Bilinear" {
        /// Size of each first input sample.
        in1_features: i64,
        /// Size of each second input sample.
        in2_features: i64,
        /// Size of each output sample.
        out_features: i64;
        /// Whether the layer has a bias.
        bias: bool = true,
    }
}

impl Bilinear {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let op = "nn.Bilinear";
        let dtype = self.param_dtype();
        check_param_dtype(op, dtype)?;
        let shape = [self.out_features, self.in1_features, self.in2_features];
        let mut weight = empty(op, &shape, dtype)?;
        let mut bias = empty_if(op, self.bias, &[self.out_features], dtype)?;
        if self.in1_features <= 0 {
            return Err(Error::arg(
                op,
                format!(
                    "in1_features must be > 0, but got (in1_features={})",
                    self.in1_features
                ),
            ));
        }
        let bound = 1.0 / (self.in1_features as f64).sqrt();
        let how = ParamInit::new(InitCall::Uniform {
            a: -bound,
            b: bound,
        })
        .with("bound", "1 / sqrt(in1_features)", Number::Float(bound));
        b.init_param("weight", &mut weight, &how)?;
        if let Some(t) = &mut bias {
            b.init_param("bias", t, &how)?;
        }
        Ok(weight_and_bias("Bilinear", weight, bias))
    }
}

/// `nn.Identity()`: no parameters, no draws (PyTorch ignores any argument; torch-rng takes none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity;

impl Identity {
    /// `nn.Identity()`.
    #[must_use]
    pub fn new() -> Identity {
        Identity
    }
}

impl Class for Identity {
    const NAME: &'static str = "Identity";
    const TAKES_DTYPE: bool = false;

    fn args() -> Vec<ArgSpec> {
        Vec::new()
    }

    fn from_args(_args: ArgValues, _dtype: Option<DType>) -> Result<Identity> {
        Ok(Identity)
    }

    fn to_args(&self) -> ArgValues {
        Vec::new()
    }

    fn construct(&self, _b: &mut Builder<'_>) -> Result<Module> {
        Ok(Module::new("Identity"))
    }
}
