//! `torch.randperm`.
//!
//! Mirrors: `randperm_out_cpu` in `aten/src/ATen/native/TensorFactories.cpp`.

use half::{bf16, f16};

use super::not_implemented;
use super::random::int_limits;
use crate::context::Context;
use crate::context::Rules;
use crate::distributions::perm;
use crate::dtype::DType;
use crate::dtype::{f32_to_bf16, f32_to_f16};
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{Storage, Tensor};

/// Checks `randperm`'s `n` for `dtype` as PyTorch does, before anything is drawn.
///
/// Mirrors: `check_supported_max_int_with_precision` (`aten/src/ATen/native/TensorFactories.h`):
/// the largest value `n - 1` must convert to the dtype, and float dtypes must hold every integer
/// up to `n - 1` exactly (float16: n ≤ 2049, float32: n ≤ 2^24 + 1, float64: n ≤ 2^53 + 1).
/// bfloat16 has no such check: PyTorch accepts any `n` and rounds the indices.
pub(crate) fn check_randperm(n: i64, dtype: DType) -> Result<()> {
    const OP: &str = "randperm";
    if n < 0 {
        return Err(Error::arg(OP, format!("n must be non-negative, got {n}")));
    }
    if let Some((_, lim)) = int_limits(dtype).filter(|_| dtype != DType::Bool) {
        // uint64's limit reads -1 here, but PyTorch has no uint64 randperm (rejected below).
        if lim > 0 && n.saturating_sub(1) > lim {
            return Err(Error::arg(
                OP,
                format!("n = {n}: value cannot be converted to type {dtype} without overflow"),
            ));
        }
    }
    let float_limit = match dtype {
        DType::Float16 => Some(((1i64 << 11) + 1, "2049 for Half")),
        DType::Float32 => Some(((1i64 << 24) + 1, "2^24+1 for Float")),
        DType::Float64 => Some(((1i64 << 53) + 1, "2^53+1 for Double")),
        _ => None,
    };
    if let Some((lim, what)) = float_limit {
        if n > lim {
            return Err(Error::arg(
                OP,
                format!("n = {n} cannot be greater than {what} type"),
            ));
        }
    }
    if dtype == DType::Bool || dtype.is_wide_unsigned() {
        return Err(Error::arg(OP, not_implemented("randperm", dtype)));
    }
    Ok(())
}

/// Shuffles `out` (length n) with the algorithm of `era`; `conv` converts an index to the dtype.
fn shuffle<T: Copy>(g: &mut CpuGenerator, out: &mut [T], rules: Rules, conv: impl Fn(u64) -> T) {
    if rules.randperm_inside_out && out.len() as u64 >= perm::INSIDE_OUT_MIN_N {
        perm::inside_out(g, out, conv);
    } else {
        for (i, o) in out.iter_mut().enumerate() {
            *o = conv(i as u64);
        }
        perm::fisher_yates(g, out);
    }
}

/// `torch.randperm(n, dtype=dtype)`: a random permutation of `0..n`.
///
/// Consumes: `n - 1` words (forward Fisher–Yates), or `2n` words for `n >= 214748364` from 2.6
/// (inside-out shuffle with 64-bit draws); see [`crate::distributions::perm`]. Capability-independent.
///
/// float16 and bfloat16 indices go through float32 (round to nearest even); bfloat16 accepts any
/// `n`, so indices above 256 are rounded and repeat, exactly as PyTorch stores them.
///
/// # Errors
/// As PyTorch: `n < 0`; `n - 1` beyond an integer dtype; `n` beyond a float dtype's exact
/// integers; `bool`, `uint16`, `uint32`, `uint64` (PyTorch has no kernel for them). Plus the
/// allocation limit.
pub fn randperm(g: &mut CpuGenerator, n: i64, dtype: DType, cx: Context) -> Result<Tensor> {
    check_randperm(n, dtype)?;
    let mut t = Tensor::zeros_checked("randperm", &[n], dtype)?;
    let era = cx.rules();
    match t.storage_mut() {
        Storage::I64(v) => shuffle(g, v, era, |i| i as i64),
        Storage::I32(v) => shuffle(g, v, era, |i| i as i32),
        Storage::I16(v) => shuffle(g, v, era, |i| i as i16),
        Storage::I8(v) => shuffle(g, v, era, |i| i as i8),
        Storage::U8(v) => shuffle(g, v, era, |i| i as u8),
        Storage::F64(v) => shuffle(g, v, era, |i| i as f64),
        Storage::F32(v) => shuffle(g, v, era, |i| i as f32),
        Storage::F16(v) => shuffle(g, v, era, |i| -> f16 { f32_to_f16(i as f32) }),
        Storage::BF16(v) => shuffle(g, v, era, |i| -> bf16 { f32_to_bf16(i as f32) }),
        other => {
            return Err(Error::arg(
                "randperm",
                not_implemented("randperm", other.dtype()),
            ))
        }
    }
    Ok(t)
}
