//! Dropout: `F.dropout` (training), `nn.Dropout`, `torch.native_dropout`.
//!
//! Mirrors: `_dropout_impl` and `native_dropout_cpu` in `aten/src/ATen/native/Dropout.cpp`.

use super::{arith, check_p, mul32, mul64, single, tensor_from_f64, values_f64};
use crate::context::BernoulliKernel;
use crate::context::Context;
use crate::distributions::bernoulli::{self, Mcg31, ScalarThreshold};
use crate::distributions::block::extend_u64;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{Storage, Tensor};

/// Bernoulli(1 − p) keep flags for `n` elements, by the release's scalar kernel.
fn keep_flags(g: &mut CpuGenerator, n: usize, q: f64, cx: Context) -> Vec<bool> {
    if n == 0 {
        return Vec::new();
    }
    if cx.rules().bernoulli == BernoulliKernel::Mkl {
        let mut s = Mcg31::new(g.random());
        (0..n).map(|_| bernoulli::legacy(&mut s, q)).collect()
    } else {
        let mut keep = Vec::new();
        let threshold = ScalarThreshold::new(q);
        extend_u64(g, &mut keep, n, |w| threshold.test(w));
        keep
    }
}

/// `F.dropout(x, p, training=True)` (also `nn.Dropout(p)` in training mode and `inplace=True`,
/// which give the same values): `x * (bernoulli_(1 − p) / (1 − p))` in `x`'s dtype.
///
/// `p = 0` and empty inputs return `x`; `p = 1` returns `x * 0` without drawing.
///
/// Consumes: as [`bernoulli_scalar_`] with `1 − p`, in row-major order.
///
/// # Errors
/// `p` outside `[0, 1]` (or NaN); a non-float `x` (PyTorch fails after drawing).
pub fn dropout(g: &mut CpuGenerator, x: &Tensor, p: f64, cx: Context) -> Result<Tensor> {
    const OP: &str = "dropout";
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::arg(
            OP,
            format!("dropout probability has to be between 0 and 1, but got {p}"),
        ));
    }
    let dtype = x.dtype();
    if p == 0.0 || x.numel() == 0 {
        return Ok(x.clone());
    }
    let xs = values_f64(x);
    if p == 1.0 {
        if !dtype.is_float() {
            return Tensor::new(x.shape().to_vec(), Storage::zeros(dtype, x.numel()));
        }
        let v: Vec<f64> = xs
            .iter()
            .map(|&a| arith(dtype, dtype, a, 0.0, mul64, mul32))
            .collect();
        return tensor_from_f64(x.shape().to_vec(), dtype, &v);
    }
    let q = 1.0 - p;
    let keep = keep_flags(g, xs.len(), q, cx);
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("result type Float can't be cast to the desired output type {dtype}"),
        ));
    }
    // noise = keep / (1 - p), stored in the dtype; the divisor is the scalar rounded to float
    // unless the tensor is float64.
    // 2.0 rounds the divisor to float16/bfloat16 first; later releases divide by f32(1 - p).
    let divisor = if cx.rules().dropout_divisor_in_dtype {
        single(dtype, q)
    } else {
        q
    };
    let scaled = single(
        dtype,
        match dtype {
            DType::Float64 => 1.0 / q,
            _ => f64::from(1.0f32 / divisor as f32),
        },
    );
    let v: Vec<f64> = xs
        .iter()
        .zip(&keep)
        .map(|(&a, &k)| arith(dtype, dtype, a, if k { scaled } else { 0.0 }, mul64, mul32))
        .collect();
    tensor_from_f64(x.shape().to_vec(), dtype, &v)
}

/// `torch.native_dropout(x, p, train)`: `(x * mask * T(1 / (1 − p)), mask)` with a bool
/// `mask = bernoulli_(1 − p)`; `train = false` gives `(x, ones)`. Unlike `F.dropout`, `p = 0` and
/// `p = 1` still draw (the scale is 0 when `p = 1`), and an empty `x` gives a mask of `x`'s dtype.
///
/// # Errors
/// `1 − p` outside `[0, 1]`; a non-float `x` (after drawing, as PyTorch).
pub fn native_dropout(
    g: &mut CpuGenerator,
    x: &Tensor,
    p: f64,
    train: bool,
    cx: Context,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "native_dropout";
    let shape = x.shape().to_vec();
    if x.numel() == 0 {
        return Ok((x.clone(), Tensor::new(shape, Storage::zeros(x.dtype(), 0))?));
    }
    if !train {
        let n = x.numel();
        return Ok((x.clone(), Tensor::new(shape, Storage::Bool(vec![true; n]))?));
    }
    let q = 1.0 - p;
    check_p("bernoulli_", q).map_err(|e| Error::arg(OP, e.to_string()))?;
    let scale = if q == 0.0 { 0.0 } else { 1.0 / q };
    let keep = keep_flags(g, x.numel(), q, cx);
    let dtype = x.dtype();
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("result type Float can't be cast to the desired output type {dtype}"),
        ));
    }
    let xs = values_f64(x);
    // `mul_(scale)` converts the double scalar to the tensor's dtype first (float16 too).
    let scale_t = single(dtype, scale);
    let v: Vec<f64> = xs
        .iter()
        .zip(&keep)
        .map(|(&a, &k)| {
            let masked = arith(dtype, dtype, a, if k { 1.0 } else { 0.0 }, mul64, mul32);
            arith(dtype, dtype, single(dtype, masked), scale_t, mul64, mul32)
        })
        .collect();
    let out = tensor_from_f64(shape.clone(), dtype, &v)?;
    Ok((out, Tensor::new(shape, Storage::Bool(keep))?))
}
