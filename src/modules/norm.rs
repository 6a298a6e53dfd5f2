//! Normalisation layers and `nn.PReLU`: constant initialisation, no draws.

use super::explain::init_fill;
use super::{check_param_dtype, empty, py_divmod, Module};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;
use crate::tensor::Tensor;

/// A module of class `class` with the affine parameters of a normalisation layer: weight 1 and
/// bias 0 of `shape`, each only if asked for, after the dtype check.
fn affine_module(
    class: &str,
    op: &str,
    shape: &[i64],
    weight: bool,
    bias: bool,
    dtype: DType,
) -> Result<Module> {
    check_param_dtype(op, dtype)?;
    let mut m = Module::new(class);
    if weight {
        let mut w = empty(op, shape, dtype)?;
        init_fill("weight", &mut w, InitCall::Ones)?;
        m.params.push(("weight".to_string(), w));
    }
    if bias {
        let mut b = empty(op, shape, dtype)?;
        init_fill("bias", &mut b, InitCall::Zeros)?;
        m.params.push(("bias".to_string(), b));
    }
    Ok(m)
}

/// `nn.BatchNorm{1,2,3}d(num_features, affine, track_running_stats, bias=...)` (`class` names
/// the exact class) or `nn.InstanceNorm*d`, whose defaults are `affine=False`,
/// `track_running_stats=False` (see [`instance_norm`]).
///
/// Mirrors: `_NormBase.__init__` and `reset_parameters` in `torch/nn/modules/batchnorm.py`.
/// Consumes: nothing. Weight 1, bias 0; buffers `running_mean` 0, `running_var` 1 (the module's
/// dtype) and `num_batches_tracked` 0 (int64).
///
/// # Errors
/// A negative size or a non-float dtype.
pub fn batch_norm(
    class: &str,
    num_features: i64,
    affine_: bool,
    track_running_stats: bool,
    bias: bool,
    dtype: DType,
) -> Result<Module> {
    let op = format!("nn.{class}");
    let mut m = affine_module(class, &op, &[num_features], affine_, affine_ && bias, dtype)?;
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

/// `nn.InstanceNorm{1,2,3}d(num_features, affine=False, track_running_stats=False)`: as
/// [`batch_norm`] with those defaults.
///
/// # Errors
/// As [`batch_norm`].
pub fn instance_norm(
    class: &str,
    num_features: i64,
    affine_: bool,
    track_running_stats: bool,
    dtype: DType,
) -> Result<Module> {
    batch_norm(
        class,
        num_features,
        affine_,
        track_running_stats,
        true,
        dtype,
    )
}

/// `nn.LayerNorm(normalized_shape, elementwise_affine, bias)`: weight 1, bias 0, no draws.
///
/// Mirrors: `LayerNorm.__init__` in `torch/nn/modules/normalization.py`.
///
/// # Errors
/// A negative size or a non-float dtype.
pub fn layer_norm(
    normalized_shape: &[i64],
    elementwise_affine: bool,
    bias: bool,
    dtype: DType,
) -> Result<Module> {
    let op = "nn.LayerNorm";
    affine_module(
        "LayerNorm",
        op,
        normalized_shape,
        elementwise_affine,
        elementwise_affine && bias,
        dtype,
    )
}

/// `nn.RMSNorm(normalized_shape, elementwise_affine)`: weight 1, no bias, no draws.
///
/// # Errors
/// A negative size or a non-float dtype.
pub fn rms_norm(
    normalized_shape: &[i64],
    elementwise_affine: bool,
    dtype: DType,
) -> Result<Module> {
    let op = "nn.RMSNorm";
    affine_module(
        "RMSNorm",
        op,
        normalized_shape,
        elementwise_affine,
        false,
        dtype,
    )
}

/// `nn.GroupNorm(num_groups, num_channels, affine, bias=...)`: weight 1, bias 0, no draws.
///
/// # Errors
/// `num_channels` not divisible by `num_groups` (PyTorch's `ValueError`; a zero `num_groups`
/// raises `ZeroDivisionError`, reported the same way), sizes, dtype.
pub fn group_norm(
    num_groups: i64,
    num_channels: i64,
    affine_: bool,
    bias: bool,
    dtype: DType,
) -> Result<Module> {
    let op = "nn.GroupNorm";
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
            format!("num_channels ({num_channels}) must be divisible by num_groups ({num_groups})"),
        ));
    }
    affine_module(
        "GroupNorm",
        op,
        &[num_channels],
        affine_,
        affine_ && bias,
        dtype,
    )
}

/// `nn.PReLU(num_parameters, init)`: weight `constant_(init)` (cast to the dtype), no draws.
///
/// # Errors
/// A negative size or a non-float dtype.
pub fn prelu(num_parameters: i64, init: f64, dtype: DType) -> Result<Module> {
    let op = "nn.PReLU";
    check_param_dtype(op, dtype)?;
    let mut w = empty(op, &[num_parameters], dtype)?;
    init_fill("weight", &mut w, InitCall::Constant { val: init })?;
    let mut m = Module::new("PReLU");
    m.params.push(("weight".to_string(), w));
    Ok(m)
}
