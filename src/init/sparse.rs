//! `nn.init.sparse_`: a `normal_(0, std)` fill from the given generator, then per column a
//! `torch.randperm(rows)` from the **default** generator (PyTorch passes no generator to it), whose
//! first `ceil(sparsity * rows)` entries are zeroed.
//!
//! Mirrors: `torch/nn/init.py`, `sparse_`.

use super::buf::Buf;
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::Storage;
use crate::torch::Rng;

const OP: &str = "nn.init.sparse_";

/// `math.ceil(sparsity * rows)`, as Python computes it (an int, possibly negative).
///
/// # Errors
/// NaN (`ValueError`) or an infinite product (`OverflowError`).
pub(crate) fn num_zeros(sparsity: f64, rows: usize) -> Result<i64> {
    let v = (sparsity * rows as f64).ceil();
    if v.is_nan() {
        return Err(Error::arg(OP, "cannot convert float NaN to integer"));
    }
    if v.is_infinite() || v.abs() >= 9.2e18 {
        return Err(Error::arg(OP, "cannot convert float infinity to integer"));
    }
    Ok(v as i64)
}

/// How many leading entries `row_indices[:num_zeros]` keeps (Python slice semantics).
pub(crate) fn kept(num_zeros: i64, rows: usize) -> usize {
    let rows = rows as i64;
    let k = if num_zeros < 0 {
        (rows + num_zeros).max(0)
    } else {
        num_zeros.min(rows)
    };
    k as usize
}

/// Runs `sparse_(t, sparsity, std)`: normals from `g`, permutations from `default` (`g` itself
/// when `None`, i.e. when the caller passed no generator on the CPU). On a CUDA device the
/// permutations still come from the CPU generator: `torch.randperm(rows)` names no device.
pub(crate) fn run(
    g: &mut Rng<'_>,
    default: Option<&mut CpuGenerator>,
    buf: &mut Buf<'_>,
    (sparsity, std): (f64, f64),
    cx: Context,
) -> Result<()> {
    if buf.shape.len() != 2 {
        return Err(Error::arg(
            OP,
            "only tensors with 2 dimensions are supported",
        ));
    }
    let (rows, cols) = (buf.shape[0], buf.shape[1]);
    let zeros = kept(num_zeros(sparsity, rows)?, rows);
    g.fill_normal(OP, buf.data, buf.contiguous, 0.0, std, cx)?;
    let mut perm_gen = match default {
        Some(d) => Rng::Cpu(d),
        None => g.reborrow(),
    };
    // The permutations are CPU tensors: the CPU kernels of the context's variant.
    let cpu_cx = Context {
        device: crate::context::Device::Cpu,
        ..cx
    };
    for c in 0..cols {
        let perm = perm_gen.randperm(rows as i64, DType::Int64, cpu_cx)?;
        let Storage::I64(idx) = perm.storage() else {
            unreachable!("randperm with dtype int64 returns int64")
        };
        for &r in &idx[..zeros] {
            let at = buf.offset(&[r as usize, c]);
            buf.set(at, 0.0);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_slices() {
        assert_eq!(kept(num_zeros(0.1, 5).unwrap(), 5), 1);
        assert_eq!(kept(num_zeros(2.0, 5).unwrap(), 5), 5);
        assert_eq!(kept(num_zeros(-0.3, 5).unwrap(), 5), 4);
        assert_eq!(kept(num_zeros(-3.0, 5).unwrap(), 5), 0);
        assert!(num_zeros(f64::NAN, 5).is_err());
        assert!(num_zeros(f64::INFINITY, 5).is_err());
    }
}
