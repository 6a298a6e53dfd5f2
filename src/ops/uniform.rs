//! `uniform_`, `rand`, `rand_like`: the checks of `uniform_impl_`, then the fill kernel.
//!
//! Mirrors: `aten/src/ATen/native/DistributionTemplates.h` (`uniform_impl_`),
//! `aten/src/ATen/native/TensorFactories.cpp` (`rand`, `rand_like`).

use super::{not_implemented, View};
use crate::context::Context;
use crate::distributions::fixed::{FixedFill, Law};
use crate::distributions::{uniform, Route};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{Storage, Tensor};

/// Checks `uniform_`'s bounds for `dtype` and returns them clamped to the dtype's finite range.
///
/// Mirrors: `uniform_impl_` in `aten/src/ATen/native/DistributionTemplates.h`.
pub(crate) fn check_uniform_bounds(
    op: &str,
    dtype: DType,
    from: f64,
    to: f64,
) -> Result<(f64, f64)> {
    let Some(max) = dtype.float_max() else {
        return Err(Error::arg(
            op,
            not_implemented("check_uniform_bounds", dtype),
        ));
    };
    let min = -max;
    // NaN fails these comparisons, as it does in PyTorch.
    if !(from >= min && from <= max) {
        return Err(Error::arg(
            op,
            format!("from={from} is out of bounds for {dtype}"),
        ));
    }
    if !(to >= min && to <= max) {
        return Err(Error::arg(
            op,
            format!("to={to} is out of bounds for {dtype}"),
        ));
    }
    if from > to {
        return Err(Error::arg(
            op,
            format!("expects to return a [from, to) range, but found from={from} > to={to}"),
        ));
    }
    if to - from > max {
        return Err(Error::arg(
            op,
            format!(
                "expects to-from <= the largest {dtype}, but found to={to} and from={from}, \
                 which result in to-from to exceed the limit"
            ),
        ));
    }
    Ok((from.max(min).min(max), to.min(max).max(min)))
}

/// Fills `data` in element order with `uniform_(from, to)` values, after PyTorch's checks.
pub(crate) fn fill_uniform(
    g: &mut CpuGenerator,
    op: &str,
    data: &mut Storage,
    from: f64,
    to: f64,
    cx: Context,
) -> Result<()> {
    let (from, to) = check_uniform_bounds(op, data.dtype(), from, to)?;
    let threads = cx.thread_count();
    if threads > 1 {
        let law = Law::Uniform { from, to };
        if let Some(f) = FixedFill::new(law, data.dtype(), data.len(), true, cx) {
            f.fill(g, data.as_slice_mut(), threads);
            return Ok(());
        }
    }
    let fused = cx.capability.fused();
    let route = Route::detect();
    let rule = cx.rules().uniform;
    match data {
        Storage::F32(v) => uniform::fill_f32(g, v, from, to, fused, route, rule),
        Storage::F64(v) => uniform::fill_f64(g, v, from, to, fused, route, rule),
        Storage::F16(v) => uniform::fill_f16(g, v, from, to, fused, route, rule),
        Storage::BF16(v) => uniform::fill_bf16(g, v, from, to, fused, route, rule),
        other => {
            return Err(Error::arg(
                op,
                not_implemented("uniform_kernel_cpu", other.dtype()),
            ));
        }
    }
    Ok(())
}

/// `tensor.uniform_(from, to)` on a contiguous tensor.
///
/// Consumes: see [`crate::distributions::uniform`]. Nothing for an empty tensor.
///
/// # Errors
/// As PyTorch: a non-float dtype, bounds outside the dtype's finite range (NaN and infinities
/// included), `from > to`, or `to - from` beyond the dtype's largest value.
pub fn uniform_(
    g: &mut CpuGenerator,
    t: &mut Tensor,
    from: f64,
    to: f64,
    cx: Context,
) -> Result<()> {
    fill_uniform(g, "uniform_", t.storage_mut(), from, to, cx)
}

#[cfg(feature = "json")]
/// `torch.empty(size, dtype=dtype)[.permute(perm)].uniform_(from, to)`, returned contiguous.
///
/// # Errors
/// As [`uniform_`], plus size errors.
pub fn uniform_on_view(
    g: &mut CpuGenerator,
    view: &View,
    from: f64,
    to: f64,
    cx: Context,
) -> Result<Tensor> {
    view.fill_with("uniform_", |s, _| {
        fill_uniform(g, "uniform_", s, from, to, cx)
    })
}

/// `torch.rand(size, dtype=dtype)`: `uniform_(0, 1)` on a new tensor.
///
/// # Errors
/// A negative dimension, a size over the allocation limit, or a non-float dtype.
pub fn rand(g: &mut CpuGenerator, size: &[i64], dtype: DType, cx: Context) -> Result<Tensor> {
    let mut t = Tensor::zeros_checked("rand", size, dtype)?;
    fill_uniform(g, "rand", t.storage_mut(), 0.0, 1.0, cx)?;
    Ok(t)
}

/// `torch.rand_like(x)`: a new tensor shaped like the view (strides preserved, as `empty_like`
/// preserves a dense permuted layout), filled by `uniform_(0, 1)` in memory order.
///
/// # Errors
/// As [`rand`].
pub fn rand_like(g: &mut CpuGenerator, like: &View, cx: Context) -> Result<Tensor> {
    like.fill_with("rand_like", |s, _| {
        fill_uniform(g, "rand_like", s, 0.0, 1.0, cx)
    })
}
