//! `exponential_`, `geometric_`, `log_normal_`, `cauchy_`.
//!
//! Mirrors: the `*_impl_` checks in `aten/src/ATen/native/DistributionTemplates.h` and the
//! kernels in `aten/src/ATen/native/cpu/DistributionTemplates.h`.

use super::{fill_each, fresh, not_implemented, view_shape_i64, View};
use crate::context::Context;
use crate::context::ExponentialKernel;
use crate::distributions::block::extend_u64;
use crate::distributions::continuous::{self, LegacyExponential};
use crate::dtype::DType;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{each_storage, Storage, Tensor};

/// PyTorch's check of `lambda`, `std` and `sigma` (the same on every device): `x > 0`, so NaN
/// fails too.
pub(crate) fn check_positive(op: &str, name: &str, x: f64) -> Result<()> {
    if x > 0.0 {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("expects {name} > 0.0, but found {name}={x}"),
        ))
    }
}

/// `geometric_`'s check of `p` (every device): `0 < p < 1`.
pub(crate) fn check_geometric_p(op: &str, p: f64) -> Result<()> {
    if p > 0.0 && p < 1.0 {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("expects p to be in (0, 1), but got p={p}"),
        ))
    }
}

fn require_float(op: &str, kernel: &str, dtype: DType) -> Result<()> {
    if dtype.is_float() {
        Ok(())
    } else {
        Err(Error::arg(op, not_implemented(kernel, dtype)))
    }
}

/// `exponential_(lambd)` on a view, returned contiguous.
///
/// Consumes: 2.7+ (and `lambd = inf` everywhere): one `random64()` per element in memory order.
/// 2.0–2.6: one word (float32/float16/bfloat16) or one `random64()` (float64) per call, values in
/// logical order from MKL's stream, reproduced **approximately** (see
/// [`crate::distributions::continuous::LegacyExponential`]).
///
/// # Errors
/// `lambd <= 0` or NaN; a non-float dtype (an empty tensor of any dtype is accepted).
pub fn exponential_(g: &mut CpuGenerator, view: &View, lambd: f64, cx: Context) -> Result<Tensor> {
    const OP: &str = "exponential_";
    view.check_size(OP)?;
    check_positive(OP, "lambda", lambd)?;
    let empty = view.shape().contains(&0);
    if !empty {
        require_float(OP, "exponential_cpu", view.dtype)?;
    }
    if cx.rules().exponential == ExponentialKernel::Mkl && lambd.is_finite() {
        let mut t = Tensor::zeros_checked(OP, &view_shape_i64(view), view.dtype)?;
        if !empty {
            let mut e = LegacyExponential::new(g, lambd, view.dtype != DType::Float64);
            each_storage!(t.storage_mut(), v => fill_each(v, || Element::from_f64(e.sample())));
        }
        return Ok(t);
    }
    fresh(view, OP, |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Element::from_f64(continuous::exponential_of(w, lambd))));
        Ok(())
    })
}

/// `geometric_(p)` on a view: `ceil(log(u) / log1p(-p))` cast to the dtype (integers allowed).
///
/// Consumes: one `random64()` per element in memory order.
///
/// # Errors
/// `p` outside `(0, 1)`; a bool tensor (an empty one is accepted).
pub fn geometric_(g: &mut CpuGenerator, view: &View, p: f64, cx: Context) -> Result<Tensor> {
    const OP: &str = "geometric_";
    let _ = cx;
    view.check_size(OP)?;
    check_geometric_p(OP, p)?;
    let dtype = view.dtype;
    if !view.shape().contains(&0) && (dtype == DType::Bool || dtype.is_wide_unsigned()) {
        return Err(Error::arg(OP, not_implemented("geometric_cpu", dtype)));
    }
    fresh(view, OP, |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Element::from_f64(continuous::geometric_of(w, p))));
        Ok(())
    })
}

/// `log_normal_(mean, std)` on a view: `exp(z * std + mean)`, `z` from the double normal cache.
///
/// Consumes: as the per-element normal path (two `random64()` per fresh pair, the cache shared).
///
/// # Errors
/// `std <= 0` or NaN; a non-float dtype (an empty tensor of any dtype is accepted).
pub fn log_normal_(
    g: &mut CpuGenerator,
    view: &View,
    mean: f64,
    std: f64,
    cx: Context,
) -> Result<Tensor> {
    const OP: &str = "log_normal_";
    view.check_size(OP)?;
    check_positive(OP, "std", std)?;
    if !view.shape().contains(&0) {
        require_float(OP, "log_normal_cpu", view.dtype)?;
    }
    let fused = cx.capability.fused();
    view.fill_with(OP, |s, _| {
        each_storage!(s, v => fill_each(v, || Element::from_f64(continuous::log_normal(g, mean, std, fused))));
        Ok(())
    })
}

/// `cauchy_(median, sigma)` on a view: `median + sigma * tan(pi * (u - 0.5))`.
///
/// Consumes: one `random64()` per element in memory order.
///
/// # Errors
/// `sigma <= 0` or NaN; a non-float dtype (even when empty).
pub fn cauchy_(
    g: &mut CpuGenerator,
    view: &View,
    median: f64,
    sigma: f64,
    cx: Context,
) -> Result<Tensor> {
    const OP: &str = "cauchy_";
    view.check_size(OP)?;
    check_positive(OP, "sigma", sigma)?;
    if !view.dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!(
                "dtype must be a floating point but you specified {}",
                view.dtype
            ),
        ));
    }
    let fused = cx.capability.fused();
    fresh(view, OP, |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Element::from_f64(continuous::cauchy_of(w, median, sigma, fused))));
        Ok(())
    })
}
