//! `bernoulli_(p)`, `bernoulli_(p_tensor)`, `torch.bernoulli`.
//!
//! Mirrors: `bernoulli_impl_` and `bernoulli_tensor_cpu_kernel` in
//! `aten/src/ATen/native/DistributionTemplates.h` and `aten/src/ATen/native/cpu/`.

use super::{
    check_p, expand_index, fill_each, fresh, not_implemented, values_f64, view_shape_i64, View,
};
use crate::context::BernoulliKernel;
use crate::context::Context;
use crate::distributions::bernoulli::{self, Mcg31, ScalarThreshold};
use crate::distributions::block::{extend_u32, extend_u64};
use crate::dtype::DType;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{each_storage, Storage, Tensor};

/// Fills `data` (row-major over the logical shape) from the legacy MKL stream; one seed word.
fn bernoulli_legacy(g: &mut CpuGenerator, data: &mut Storage, p: f64) {
    let mut stream = Mcg31::new(g.random());
    each_storage!(data, v => fill_each(v, || Element::from_i64(i64::from(bernoulli::legacy(&mut stream, p)))));
}

/// `bernoulli_(p)` with a float `p` on a view, returned contiguous.
///
/// Consumes: 2.7+: one `random64()` per element in memory order; 2.0–2.6: one `random()` per
/// call (none when empty), elements in logical order (see [`crate::distributions::bernoulli`]).
///
/// # Errors
/// `p` outside `[0, 1]` or NaN (even for an empty tensor), plus size errors.
pub fn bernoulli_scalar_(g: &mut CpuGenerator, view: &View, p: f64, cx: Context) -> Result<Tensor> {
    view.check_size("bernoulli_")?;
    check_p("bernoulli_", p)?;
    if view.dtype.is_wide_unsigned() && !view.shape().contains(&0) {
        return Err(Error::arg(
            "bernoulli_",
            not_implemented("bernoulli_scalar_cpu_", view.dtype),
        ));
    }
    if cx.rules().bernoulli == BernoulliKernel::Mkl {
        let mut t = Tensor::zeros_checked("bernoulli_", &view_shape_i64(view), view.dtype)?;
        if t.numel() > 0 {
            bernoulli_legacy(g, t.storage_mut(), p);
        }
        return Ok(t);
    }
    let threshold = ScalarThreshold::new(p);
    fresh(view, "bernoulli_", |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Element::from_bool(threshold.test(w))));
        Ok(())
    })
}

/// `torch.empty(size, dtype=dtype).bernoulli_(p)` with a tensor `p`, broadcast to `size`.
///
/// Consumes: per element in row-major order, one `random64()` for a float64 `p`, one `random()`
/// for float32/float16/bfloat16 (compared in float). Same in every release.
///
/// # Errors
/// As PyTorch: `p` not broadcastable to `size`, an integer or bool `p`, an entry outside
/// `[0, 1]`. An empty tensor accepts anything.
pub fn bernoulli_tensor_(
    g: &mut CpuGenerator,
    size: &[i64],
    dtype: DType,
    p: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "bernoulli_";
    let n = crate::tensor::checked_numel(OP, size, dtype)?;
    let shape: Vec<usize> = size.iter().map(|&d| d as usize).collect();
    if n == 0 {
        return Tensor::new(shape, Storage::zeros(dtype, 0));
    }
    if dtype.is_wide_unsigned() {
        return Err(Error::arg(
            OP,
            not_implemented("bernoulli_tensor_cpu_self_", dtype),
        ));
    }
    let ok = p.shape().len() <= shape.len()
        && p.shape()
            .iter()
            .rev()
            .zip(shape.iter().rev())
            .all(|(&a, &b)| a == b || a == 1);
    if !ok {
        return Err(Error::arg(
            OP,
            format!(
                "p of shape {:?} cannot be expanded to {:?}",
                p.shape(),
                shape
            ),
        ));
    }
    let wide = match p.dtype() {
        DType::Float64 => true,
        DType::Float32 | DType::Float16 | DType::BFloat16 => false,
        d => {
            return Err(Error::arg(
                OP,
                not_implemented("bernoulli_tensor_cpu_p_", d),
            ))
        }
    };
    let pv = values_f64(p);
    if let Some(bad) = pv.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(Error::arg(
            OP,
            format!("expects every p in [0, 1], found {bad}"),
        ));
    }
    let idx = expand_index(p.shape(), &shape);
    let mut it = idx.iter().map(|&j| pv[j]);
    // `expand_index` gives one index per element, so `it` outlasts the fill.
    let mut next_p = move || it.next().unwrap_or(0.0);
    let mut s = Storage::zeros(dtype, 0);
    each_storage!(&mut s, v => if wide {
        extend_u64(g, v, n, |w| Element::from_bool(bernoulli::tensor_f64_of(w, next_p())));
    } else {
        extend_u32(g, v, n, |w| Element::from_bool(bernoulli::tensor_f32_of(w, next_p() as f32)));
    });
    Tensor::new(shape, s)
}

/// `torch.bernoulli(probs)`: `empty_like(probs).bernoulli_(probs)` (same dtype as `probs`).
///
/// # Errors
/// As [`bernoulli_tensor_`].
pub fn bernoulli(g: &mut CpuGenerator, probs: &Tensor) -> Result<Tensor> {
    let size: Vec<i64> = probs.shape().iter().map(|&d| d as i64).collect();
    bernoulli_tensor_(g, &size, probs.dtype(), probs)
}

/// `torch.bernoulli(x, p)` with a float `p`: `empty_like(x).bernoulli_(p)`.
///
/// # Errors
/// As [`bernoulli_scalar_`].
pub fn bernoulli_p(g: &mut CpuGenerator, x: &Tensor, p: f64, cx: Context) -> Result<Tensor> {
    let size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    bernoulli_scalar_(g, &View::contiguous(&size, x.dtype()), p, cx)
}
