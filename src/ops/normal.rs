//! `normal_`, `randn`, `randn_like`, `torch.normal` with float and tensor arguments: the checks
//! of `normal_impl_` and `normal_out_impl`, then the fill kernels.
//!
//! Mirrors: `aten/src/ATen/native/DistributionTemplates.h` (`normal_impl_`, `normal_out_impl`),
//! `aten/src/ATen/native/TensorFactories.cpp` (`randn`, `randn_like`).

use super::{
    add32, add64, arith, broadcast_shape, expand_index, mul32, mul64, not_implemented, single,
    tensor_from_f64, values_f64, View,
};
use crate::context::Context;
use crate::distributions::fixed::{FixedFill, Law};
use crate::distributions::{normal, Route};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{Storage, Tensor};

pub(crate) fn check_normal_std(op: &str, std: f64) -> Result<()> {
    // NaN fails the comparison, as it does in PyTorch.
    if std >= 0.0 {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("expects std >= 0.0, but found std {std}"),
        ))
    }
}

/// Fills `data` with `normal_(mean, std)` values after PyTorch's checks: the fill path when the
/// tensor is contiguous with at least 16 elements, else the per-element path in element order.
pub(crate) fn fill_normal(
    g: &mut CpuGenerator,
    op: &str,
    data: &mut Storage,
    contiguous: bool,
    mean: f64,
    std: f64,
    cx: Context,
) -> Result<()> {
    check_normal_std(op, std)?;
    let n = data.len();
    if n == 0 {
        return Ok(());
    }
    let fill_path = contiguous && n >= 16;
    let threads = cx.thread_count();
    if fill_path && threads > 1 {
        let law = Law::Normal { mean, std };
        if let Some(f) = FixedFill::new(law, data.dtype(), n, true, cx) {
            f.fill(g, data.as_slice_mut(), threads);
            return Ok(());
        }
    }
    let cap = cx.capability;
    let fused = cap.fused();
    let route = Route::detect();
    let rule = cx.rules().normal;
    match data {
        Storage::F32(v) if fill_path => normal::fill_f32(g, v, mean, std, cap, rule, route),
        Storage::F64(v) if fill_path => normal::fill_f64(g, v, mean, std, cap, rule, route),
        Storage::F16(v) if fill_path => normal::fill_f16(g, v, mean, std, cap, rule, route),
        Storage::BF16(v) if fill_path => normal::fill_bf16(g, v, mean, std, cap, rule, route),
        Storage::F32(v) => normal::per_element_f32(g, v, mean, std, fused),
        Storage::F64(v) => normal::per_element_f64(g, v, mean, std, fused),
        Storage::F16(v) => normal::per_element_f16(g, v, mean, std, fused),
        Storage::BF16(v) => normal::per_element_bf16(g, v, mean, std, fused),
        other => {
            return Err(Error::arg(
                op,
                not_implemented("normal_kernel_cpu", other.dtype()),
            ));
        }
    }
    Ok(())
}

/// `tensor.normal_(mean, std)` on a contiguous tensor.
///
/// Consumes: see [`crate::distributions::normal`]. Nothing for an empty tensor.
///
/// # Errors
/// As PyTorch: `std < 0` or NaN; a non-float dtype (for a non-empty tensor).
pub fn normal_(
    g: &mut CpuGenerator,
    t: &mut Tensor,
    mean: f64,
    std: f64,
    cx: Context,
) -> Result<()> {
    fill_normal(g, "normal_", t.storage_mut(), true, mean, std, cx)
}

#[cfg(feature = "json")]
/// `torch.empty(size, dtype=dtype)[.permute(perm)].normal_(mean, std)`, returned contiguous.
/// A non-contiguous view takes the per-element path whatever its size.
///
/// # Errors
/// As [`normal_`], plus size errors.
pub fn normal_on_view(
    g: &mut CpuGenerator,
    view: &View,
    mean: f64,
    std: f64,
    cx: Context,
) -> Result<Tensor> {
    view.fill_with("normal_", |s, contiguous| {
        fill_normal(g, "normal_", s, contiguous, mean, std, cx)
    })
}

/// `torch.randn(size, dtype=dtype)`: `normal_(0, 1)` on a new tensor.
///
/// # Errors
/// A negative dimension, a size over the allocation limit, or a non-float dtype.
pub fn randn(g: &mut CpuGenerator, size: &[i64], dtype: DType, cx: Context) -> Result<Tensor> {
    let mut t = Tensor::zeros_checked("randn", size, dtype)?;
    fill_normal(g, "randn", t.storage_mut(), true, 0.0, 1.0, cx)?;
    Ok(t)
}

/// `torch.normal(mean, std, size, dtype=dtype)` with float `mean` and `std`.
///
/// # Errors
/// As [`randn`], plus `std < 0`.
pub fn normal(
    g: &mut CpuGenerator,
    mean: f64,
    std: f64,
    size: &[i64],
    dtype: DType,
    cx: Context,
) -> Result<Tensor> {
    let mut t = Tensor::zeros_checked("normal", size, dtype)?;
    fill_normal(g, "normal", t.storage_mut(), true, mean, std, cx)?;
    Ok(t)
}

/// `torch.randn_like(x)`; a permuted (non-contiguous) `x` gives a non-contiguous result, filled by
/// the per-element path.
///
/// # Errors
/// As [`randn`].
pub fn randn_like(g: &mut CpuGenerator, like: &View, cx: Context) -> Result<Tensor> {
    like.fill_with("randn_like", |s, contiguous| {
        fill_normal(g, "randn_like", s, contiguous, 0.0, 1.0, cx)
    })
}

fn check_std_tensor(op: &str, std: &Tensor) -> Result<Vec<f64>> {
    let sv = values_f64(std);
    if sv.iter().any(|x| !(*x >= 0.0)) {
        return Err(Error::arg(op, "normal expects all elements of std >= 0.0"));
    }
    Ok(sv)
}

/// A new contiguous tensor of `shape`/`dtype` filled by `normal_(0, std)`.
fn standard(
    g: &mut CpuGenerator,
    op: &str,
    shape: &[usize],
    dtype: DType,
    std: f64,
    cx: Context,
) -> Result<(Tensor, Vec<f64>)> {
    let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut t = Tensor::zeros_checked(op, &size, dtype)?;
    fill_normal(g, op, t.storage_mut(), true, 0.0, std, cx)?;
    let v = values_f64(&t);
    Ok((t, v))
}

/// `torch.normal(mean, std)` with tensor `mean` and `std`: `out = empty(broadcast shape, dtype of
/// mean).normal_(0, 1)`, then `out *= std`, then `out += mean`, each rounded to the output dtype
/// (computed in double when either operand is float64, else in float).
///
/// Consumes: as `normal_(0, 1)` on a contiguous tensor of the broadcast shape.
///
/// # Errors
/// A negative or NaN `std` entry; shapes that do not broadcast; a non-float `mean`.
pub fn normal_tensor_tensor(
    g: &mut CpuGenerator,
    mean: &Tensor,
    std: &Tensor,
    cx: Context,
) -> Result<Tensor> {
    const OP: &str = "normal";
    let sv = check_std_tensor(OP, std)?;
    let shape = broadcast_shape(OP, mean.shape(), std.shape())?;
    let dtype = mean.dtype();
    let (_, z) = standard(g, OP, &shape, dtype, 1.0, cx)?;
    let mv = values_f64(mean);
    let (si, mi) = (
        expand_index(std.shape(), &shape),
        expand_index(mean.shape(), &shape),
    );
    let v: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let y = single(dtype, arith(dtype, std.dtype(), x, sv[si[i]], mul64, mul32));
            arith(dtype, dtype, y, mv[mi[i]], add64, add32)
        })
        .collect();
    tensor_from_f64(shape, dtype, &v)
}

/// `torch.normal(mean, std)` with a tensor `mean` and a float `std`: `normal_(0, std)` on a tensor
/// shaped like `mean`, then `+= mean`.
///
/// # Errors
/// `std < 0` or NaN; a non-float `mean`.
pub fn normal_tensor_float(
    g: &mut CpuGenerator,
    mean: &Tensor,
    std: f64,
    cx: Context,
) -> Result<Tensor> {
    const OP: &str = "normal";
    if !(std >= 0.0) {
        return Err(Error::arg(
            OP,
            format!("normal expects std >= 0.0, but found std {std}"),
        ));
    }
    let dtype = mean.dtype();
    let shape = mean.shape().to_vec();
    let (_, z) = standard(g, OP, &shape, dtype, std, cx)?;
    let mv = values_f64(mean);
    let v: Vec<f64> = z
        .iter()
        .zip(&mv)
        .map(|(&x, &m)| arith(dtype, dtype, x, m, add64, add32))
        .collect();
    tensor_from_f64(shape, dtype, &v)
}

/// `torch.normal(mean, std)` with a float `mean` and a tensor `std`: `normal_(0, 1)` on a tensor
/// shaped like `std`, `*= std`, then `+= mean` with `mean` first rounded to the dtype (PyTorch
/// adds it as a 0-dim tensor of that dtype).
///
/// # Errors
/// A negative or NaN `std` entry; a non-float `std`.
pub fn normal_float_tensor(
    g: &mut CpuGenerator,
    mean: f64,
    std: &Tensor,
    cx: Context,
) -> Result<Tensor> {
    const OP: &str = "normal";
    let sv = check_std_tensor(OP, std)?;
    let dtype = std.dtype();
    let shape = std.shape().to_vec();
    let (_, z) = standard(g, OP, &shape, dtype, 1.0, cx)?;
    let m = single(dtype, mean);
    let v: Vec<f64> = z
        .iter()
        .zip(&sv)
        .map(|(&x, &s)| {
            let y = single(dtype, arith(dtype, dtype, x, s, mul64, mul32));
            arith(dtype, dtype, y, m, add64, add32)
        })
        .collect();
    tensor_from_f64(shape, dtype, &v)
}
