//! `nn.init.orthogonal_`: everything PyTorch does around the QR is reproduced exactly; the QR
//! itself is LAPACK's (`sgeqrf`/`sorgqr` from MKL on x86 wheels), which torch-rng replaces by a
//! Householder QR in double, rounded once to the dtype. The README's fidelity table gives the
//! measured distance.
//!
//! Mirrors: `torch/nn/init.py`, `orthogonal_`.

use super::buf::Buf;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::ops;
use crate::tensor::Storage;

const OP: &str = "nn.init.orthogonal_";

/// Applies `H = I - tau v v^T` to one column (`col`, length `m`) in `geqr2`/`org2r`'s order:
/// `v[j] = 1` and `v[i]` for `i > j` are the reflector stored below the diagonal of column `j`.
fn reflect(col: &mut [f64], v: &[f64], j: usize, tau: f64) {
    let mut w = col[j];
    for (&x, &vi) in col[j + 1..].iter().zip(&v[j + 1..]) {
        w += vi * x;
    }
    w *= tau;
    col[j] -= w;
    for (x, &vi) in col[j + 1..].iter_mut().zip(&v[j + 1..]) {
        *x -= w * vi;
    }
}

/// The reduced QR of a column-major `m × n` matrix (`m ≥ n`), Householder reflections as LAPACK's
/// unblocked `geqr2`/`org2r` form them: returns `Q` (column-major `m × n`) and `diag(R)`.
fn householder_qr(mut a: Vec<f64>, m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let at = |i: usize, j: usize| j * m + i;
    let mut taus = vec![0.0; n];
    let mut diag = vec![0.0; n];
    for j in 0..n {
        let alpha = a[at(j, j)];
        let xnorm = (j + 1..m)
            .map(|i| a[at(i, j)] * a[at(i, j)])
            .sum::<f64>()
            .sqrt();
        if xnorm == 0.0 {
            // H = I: nothing below the diagonal to annihilate.
            diag[j] = alpha;
            continue;
        }
        let beta = -alpha.hypot(xnorm).copysign(alpha);
        let tau = (beta - alpha) / beta;
        let scale = 1.0 / (alpha - beta);
        for i in j + 1..m {
            a[at(i, j)] *= scale;
        }
        a[at(j, j)] = beta;
        diag[j] = beta;
        taus[j] = tau;
        // Apply H = I - tau v v^T (v[j] = 1) to the remaining columns.
        let (head, rest) = a.split_at_mut((j + 1) * m);
        let v = &head[j * m..];
        for col in rest.chunks_exact_mut(m) {
            reflect(col, v, j, tau);
        }
    }
    // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity, built backwards.
    let mut q = vec![0.0; m * n];
    for j in 0..n {
        q[at(j, j)] = 1.0;
    }
    for j in (0..n).rev() {
        let tau = taus[j];
        if tau == 0.0 {
            continue;
        }
        let v = &a[j * m..(j + 1) * m];
        for col in q[j * m..].chunks_exact_mut(m) {
            reflect(col, v, j, tau);
        }
    }
    (q, diag)
}

/// Whether `tensor.view(rows, cols)` is possible: dimensions 1.. must merge into one.
fn viewable(buf: &Buf<'_>) -> bool {
    let dims: Vec<(usize, usize)> = buf.shape[1..]
        .iter()
        .zip(&buf.strides[1..])
        .filter(|(&s, _)| s != 1)
        .map(|(&s, &st)| (s, st))
        .collect();
    dims.windows(2).all(|w| w[0].1 == w[1].1 * w[1].0)
}

/// Runs `orthogonal_(t, gain)` on `buf`.
pub(crate) fn run(g: &mut CpuGenerator, buf: &mut Buf<'_>, gain: f64, cx: Context) -> Result<()> {
    if buf.shape.len() < 2 {
        return Err(Error::arg(
            OP,
            "only tensors with 2 or more dimensions are supported",
        ));
    }
    let numel = buf.numel();
    if numel == 0 {
        return Ok(());
    }
    let dtype = buf.dtype();
    let rows = buf.shape[0];
    let cols = numel / rows;
    // flattened = tensor.new_empty((rows, cols)).normal_(0, 1): a contiguous draw.
    let mut flat = Storage::zeros(dtype, numel);
    ops::fill_normal(g, OP, &mut flat, true, 0.0, 1.0, cx)?;
    let values: Vec<f64> = match &flat {
        Storage::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
        Storage::F64(v) => v.clone(),
        _ => {
            return Err(Error::arg(
                OP,
                format!("\"geqrf_cpu\" not implemented for '{}'", dtype.cpp_name()),
            ))
        }
    };
    // A is (m × n) with m ≥ n: the matrix itself, or its transpose when rows < cols. Column-major
    // storage of A: element (i, j) at j * m + i.
    let transposed = rows < cols;
    let (m, n) = if transposed {
        (cols, rows)
    } else {
        (rows, cols)
    };
    let mut a = vec![0.0; m * n];
    for r in 0..rows {
        for c in 0..cols {
            let (i, j) = if transposed { (c, r) } else { (r, c) };
            a[j * m + i] = values[r * cols + c];
        }
    }
    let (mut q, diag) = householder_qr(a, m, n);
    for (j, d) in diag.iter().enumerate() {
        // torch.sign: 0 stays 0 (and would zero the column).
        let s = if *d > 0.0 {
            1.0
        } else if *d < 0.0 {
            -1.0
        } else {
            0.0
        };
        for i in 0..m {
            q[j * m + i] *= s;
        }
    }
    if !viewable(buf) {
        return Err(Error::arg(
            OP,
            "view size is not compatible with input tensor's size and stride",
        ));
    }
    // Element (r, c) of the (rows × cols) result, then tensor.mul_(gain) in the dtype.
    let rest: Vec<usize> = buf.shape[1..].to_vec();
    let mut idx = vec![0usize; buf.shape.len()];
    for r in 0..rows {
        for c in 0..cols {
            let v = if transposed {
                q[r * m + c]
            } else {
                q[c * m + r]
            };
            idx[0] = r;
            let mut rem = c;
            for d in (0..rest.len()).rev() {
                idx[d + 1] = rem % rest[d];
                rem /= rest[d];
            }
            let at = buf.offset(&idx);
            match &mut *buf.data {
                Storage::F32(out) => out[at] = (v as f32) * (gain as f32),
                Storage::F64(out) => out[at] = v * gain,
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_of_a_small_matrix_is_orthonormal() {
        // column-major 3 × 2
        let a = vec![1.0, 2.0, 2.0, 3.0, -1.0, 0.5];
        let (q, d) = householder_qr(a, 3, 2);
        let dot = |x: usize, y: usize| (0..3).map(|i| q[x * 3 + i] * q[y * 3 + i]).sum::<f64>();
        assert!((dot(0, 0) - 1.0).abs() < 1e-15 && (dot(1, 1) - 1.0).abs() < 1e-15);
        assert!(dot(0, 1).abs() < 1e-15);
        assert_eq!(d[0], -3.0);
    }
}
