//! Normalisation layers and `nn.PReLU`: constant initialisation, no draws.

use super::build::{Builder, ParamInit};
use super::registry::{nn_class, Ints};
use super::{check_param_dtype, empty, py_divmod, Module};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;
use crate::tensor::Tensor;

/// A module of class `class` with the affine parameters of a normalisation layer: weight 1 and
/// bias 0 of `shape`, each only if asked for, after the dtype check.
fn affine_module(
    b: &mut Builder<'_>,
    (class, op): (&str, &str),
    shape: &[i64],
    (weight, bias): (bool, bool),
    dtype: DType,
) -> Result<Module> {
    check_param_dtype(op, dtype)?;
    let mut m = Module::new(class);
    if weight {
        let mut w = empty(op, shape, dtype)?;
        b.init_param("weight", &mut w, &ParamInit::new(InitCall::Ones))?;
        m.params.push(("weight".to_string(), w));
    }
    if bias {
        let mut t = empty(op, shape, dtype)?;
        b.init_param("bias", &mut t, &ParamInit::new(InitCall::Zeros))?;
        m.params.push(("bias".to_string(), t));
    }
    Ok(m)
}

/// `_NormBase.__init__` and `reset_parameters`: the affine parameters, then the buffers
/// `running_mean` 0, `running_var` 1 (the module's dtype) and `num_batches_tracked` 0 (int64).
///
/// Mirrors: `_NormBase` in `torch/nn/modules/batchnorm.py`. Consumes: nothing.
fn batch_norm(
    b: &mut Builder<'_>,
    class: &str,
    num_features: i64,
    (affine, track_running_stats, bias): (bool, bool, bool),
    dtype: DType,
) -> Result<Module> {
    let op = format!("nn.{class}");
    let mut m = affine_module(
        b,
        (class, &op),
        &[num_features],
        (affine, affine && bias),
        dtype,
    )?;
    if track_running_stats {
        m.buffers.push((
            "running_mean".to_string(),
            empty(&op, &[num_features], dtype)?,
        ));
        let mut var = empty(&op, &[num_features], dtype)?;
        var.storage_mut().fill_f64(1.0);
        m.buffers.push(("running_var".to_string(), var));
        m.buffers.push((
            "num_batches_tracked".to_string(),
            Tensor::zeros(&[], DType::Int64)?,
        ));
    }
    Ok(m)
}

macro_rules! batch_norm_class {
    ($name:ident, $py:literal) => {
        nn_class! {
            #[doc = concat!("`nn.", $py, "(num_features, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True, bias=True, dtype=None)`: weight 1, bias 0, buffers `running_mean` 0, `running_var` 1 and `num_batches_tracked` 0; no draws.")]
            $name = $py {
                /// Channels.
                num_features: i64;
                /// No part at construction.
                eps: f64 = 1e-5,
                /// No part at construction.
                momentum: Option<f64> = Some(0.1),
                /// Whether weight and bias exist.
                affine: bool = true,
                /// Whether the running buffers exist.
                track_running_stats: bool = true,
                /// Whether the bias exists (with `affine`).
                bias: bool = true,
            }
        }

        impl $name {
            fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
                batch_norm(
                    b,
                    $py,
                    self.num_features,
                    (self.affine, self.track_running_stats, self.bias),
                    self.param_dtype(),
                )
            }
        }
    };
}

macro_rules! instance_norm_class {
    ($name:ident, $py:literal) => {
        nn_class! {
            #[doc = concat!("`nn.", $py, "(num_features, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False, dtype=None)`: as a batch norm with those defaults; no draws.")]
            $name = $py {
                /// Channels.
                num_features: i64;
                /// No part at construction.
                eps: f64 = 1e-5,
                /// No part at construction.
                momentum: Option<f64> = Some(0.1),
                /// Whether weight and bias exist.
                affine: bool = false,
                /// Whether the running buffers exist.
                track_running_stats: bool = false,
            }
        }

        impl $name {
            fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
                batch_norm(
                    b,
                    $py,
                    self.num_features,
                    (self.affine, self.track_running_stats, true),
                    self.param_dtype(),
                )
            }
        }
    };
}

batch_norm_class!(BatchNorm1d, "BatchNorm1d");
batch_norm_class!(BatchNorm2d, "BatchNorm2d");
batch_norm_class!(BatchNorm3d, "BatchNorm3d");
instance_norm_class!(InstanceNorm1d, "InstanceNorm1d");
instance_norm_class!(InstanceNorm2d, "InstanceNorm2d");
instance_norm_class!(InstanceNorm3d, "InstanceNorm3d");

nn_class! {
    /// `nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True, bias=True,
    /// dtype=None)`: weight 1, bias 0, no draws.
    ///
    /// Mirrors: `LayerNorm.__init__` in `torch/nn/modules/normalization.py`.
    LayerNorm = "LayerNorm" {
        /// The trailing shape normalised over (an int or a tuple).
        normalized_shape: Ints;
        /// No part at construction.
        eps: f64 = 1e-5,
        /// Whether weight (and bias) exist.
        elementwise_affine: bool = true,
        /// Whether the bias exists (with `elementwise_affine`).
        bias: bool = true,
    }
}

impl LayerNorm {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let affine = self.elementwise_affine;
        affine_module(
            b,
            ("LayerNorm", "nn.LayerNorm"),
            &self.normalized_shape.0,
            (affine, affine && self.bias),
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.RMSNorm(normalized_shape, eps=None, elementwise_affine=True, dtype=None)`: weight 1, no
    /// bias, no draws.
    RMSNorm = "RMSNorm" {
        /// The trailing shape normalised over (an int or a tuple).
        normalized_shape: Ints;
        /// No part at construction.
        eps: Option<f64> = None,
        /// Whether the weight exists.
        elementwise_affine: bool = true,
    }
}

impl RMSNorm {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        affine_module(
            b,
            ("RMSNorm", "nn.RMSNorm"),
            &self.normalized_shape.0,
            (self.elementwise_affine, false),
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True, bias=True, dtype=None)`:
    /// weight 1, bias 0, no draws. `num_channels` not divisible by `num_groups` is refused
    /// (PyTorch's `ValueError`; a zero `num_groups` raises `ZeroDivisionError`, reported the same
    /// way).
    GroupNorm = "GroupNorm" {
        /// Groups of channels.
        num_groups: i64,
        /// Channels.
        num_channels: i64;
        /// No part at construction.
        eps: f64 = 1e-5,
        /// Whether weight and bias exist.
        affine: bool = true,
        /// Whether the bias exists (with `affine`).
        bias: bool = true,
    }
}

impl GroupNorm {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let op = "nn.GroupNorm";
        let (num_groups, num_channels) = (self.num_groups, self.num_channels);
        if num_groups == 0 {
            return Err(Error::arg(op, "integer modulo by zero (num_groups = 0)"));
        }
        // Python's % takes the divisor's sign.
        let rem = if num_groups > 0 {
            py_divmod(num_channels, num_groups).1
        } else {
            -py_divmod(-num_channels, -num_groups).1
        };
        if rem != 0 {
            return Err(Error::arg(
                op,
                format!(
                    "num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"
                ),
            ));
        }
        affine_module(
            b,
            ("GroupNorm", op),
            &[num_channels],
            (self.affine, self.affine && self.bias),
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.PReLU(num_parameters=1, init=0.25, dtype=None)`: weight `constant_(init)` (cast to the
    /// dtype), no draws.
    PReLU = "PReLU" {
        ;
        /// Slopes to learn (1, or one per channel).
        num_parameters: i64 = 1,
        /// The initial slope.
        init: f64 = 0.25,
    }
}

impl PReLU {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let op = "nn.PReLU";
        let dtype = self.param_dtype();
        check_param_dtype(op, dtype)?;
        let mut w = empty(op, &[self.num_parameters], dtype)?;
        b.init_param(
            "weight",
            &mut w,
            &ParamInit::new(InitCall::Constant { val: self.init }),
        )?;
        let mut m = Module::new("PReLU");
        m.params.push(("weight".to_string(), w));
        Ok(m)
    }
}
