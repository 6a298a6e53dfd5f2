//! `torch.multinomial`.
//!
//! Mirrors: `multinomial` in `aten/src/ATen/native/Distributions.cpp`.

use super::{arith, div32, div64, exponential_, single, values_f64, View};
use crate::context::Context;
use crate::distributions::multinomial::{self, RowError};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{Storage, Tensor};

/// `torch.multinomial(probs, num_samples, replacement)` for 1-D or 2-D float `probs`; int64
/// indices of shape `[num_samples]` or `[rows, num_samples]`.
///
/// * With replacement and `num_samples > 1`: cumulative distribution and binary search
///   ([`crate::distributions::multinomial`]), one `random64()` per sample, row by row.
/// * Otherwise (PyTorch's fast path): `q = empty_like(probs).exponential_(1)` (so this follows
///   [`exponential_`] and its release), `key = probs / q` in the dtype, then the index of the
///   largest key (the first one on ties), or the `num_samples` largest keys in decreasing order.
///   Equal keys (only possible among zero probabilities, when `num_samples` exceeds the number of
///   non-zero entries) are ordered by index here; PyTorch's `topk` may order them otherwise.
///
/// # Errors
/// As PyTorch: not 1-D or 2-D; not a float dtype; `num_samples <= 0`; more samples than
/// categories without replacement; more than 2^24 categories; a negative, infinite or NaN
/// entry; a row summing to zero.
pub fn multinomial(
    g: &mut CpuGenerator,
    probs: &Tensor,
    num_samples: i64,
    replacement: bool,
    cx: Context,
) -> Result<Tensor> {
    const OP: &str = "multinomial";
    let shape = probs.shape().to_vec();
    if shape.is_empty() || shape.len() > 2 {
        return Err(Error::arg(OP, "prob_dist must be 1 or 2 dim"));
    }
    let dtype = probs.dtype();
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("only supports floating-point dtypes for input, got {dtype}"),
        ));
    }
    if num_samples <= 0 {
        return Err(Error::arg(OP, "cannot sample n_sample <= 0 samples"));
    }
    let k = shape[shape.len() - 1];
    if !replacement && num_samples as u64 > k as u64 {
        return Err(Error::arg(
            OP,
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement",
        ));
    }
    if k > 1 << 24 {
        return Err(Error::arg(OP, "number of categories cannot exceed 2^24"));
    }
    let rows = if shape.len() == 2 { shape[0] } else { 1 };
    let n = num_samples as usize;
    let out_shape = if shape.len() == 2 {
        vec![rows, n]
    } else {
        vec![n]
    };
    crate::tensor::checked_numel(OP, &[rows as i64, num_samples], DType::Int64)?;
    let pv = values_f64(probs);
    let mut out = vec![0i64; rows * n];
    if replacement && n > 1 {
        let mut cum32 = Vec::new();
        let mut cum64 = Vec::new();
        for r in 0..rows {
            let row = &pv[r * k..(r + 1) * k];
            let dst = &mut out[r * n..(r + 1) * n];
            let res = if dtype == DType::Float64 {
                multinomial::with_replacement_f64(g, row, &mut cum64, dst)
            } else {
                let row32: Vec<f32> = row.iter().map(|&x| x as f32).collect();
                multinomial::with_replacement_f32(g, &row32, &mut cum32, dst)
            };
            res.map_err(|e| {
                Error::arg(
                    OP,
                    match e {
                        RowError::Negative => "invalid multinomial distribution (encountering probability entry < 0)",
                        RowError::NotFinite => "invalid multinomial distribution (encountering probability entry = infinity or NaN)",
                        RowError::ZeroSum => "invalid multinomial distribution (sum of probabilities <= 0)",
                    },
                )
            })?;
        }
        return Tensor::new(out_shape, Storage::I64(out));
    }
    if !pv.iter().all(|x| (0.0..f64::INFINITY).contains(x)) {
        return Err(Error::arg(
            OP,
            "probability tensor contains either `inf`, `nan` or element < 0",
        ));
    }
    if (0..rows).any(|r| pv[r * k..(r + 1) * k].iter().all(|&x| x == 0.0)) {
        return Err(Error::arg(
            OP,
            "invalid multinomial distribution (sum of probabilities <= 0)",
        ));
    }
    let q = exponential_(g, &View::contiguous(&[pv.len() as i64], dtype), 1.0, cx)?;
    let qv = values_f64(&q);
    let keys: Vec<f64> = pv
        .iter()
        .zip(&qv)
        .map(|(&a, &b)| single(dtype, arith(dtype, dtype, a, b, div64, div32)))
        .collect();
    for r in 0..rows {
        let row = &keys[r * k..(r + 1) * k];
        let mut order: Vec<usize> = (0..k).collect();
        // Largest first, NaN counted as largest (as topk does); ties by index.
        order.sort_by(|&i, &j| {
            let (a, b) = (row[i], row[j]);
            match (a.is_nan(), b.is_nan()) {
                (true, false) => std::cmp::Ordering::Less,
                (false, true) => std::cmp::Ordering::Greater,
                _ => b
                    .partial_cmp(&a)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(i.cmp(&j)),
            }
        });
        for (o, &i) in out[r * n..(r + 1) * n].iter_mut().zip(&order) {
            *o = i as i64;
        }
    }
    Tensor::new(out_shape, Storage::I64(out))
}
