//! `nn.init.orthogonal_`: everything PyTorch does around the QR is reproduced exactly; the QR
//! itself is LAPACK's (`sgeqrf`/`sorgqr` from MKL on x86 wheels), which torch-rng replaces by a
//! Householder QR in double, rounded once to the dtype. The README's fidelity table gives the
//! measured distance.
//!
//! Mirrors: `torch/nn/init.py`, `orthogonal_`.

use super::buf::Buf;
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Storage;
use crate::torch::Rng;

const OP: &str = "nn.init.orthogonal_";

/// The largest QR torch-rng runs: `min(rows, cols)² · max(rows, cols)` multiply-adds per pass
/// (about four passes). 2^38 allows 4096 × 4096 (about a minute on one core) and refuses
/// 8192 × 8192; PyTorch's LAPACK call has no such limit.
pub const ORTHOGONAL_MAX_WORK: u128 = 1 << 38;

/// `x · y` with eight partial sums (so the loop vectorises), added pairwise at the end.
fn dot(x: &[f64], y: &[f64]) -> f64 {
    let mut acc = [0.0f64; 8];
    let (xc, xr) = x.split_at(x.len() - x.len() % 8);
    let (yc, yr) = y.split_at(xc.len());
    for (a, b) in xc.chunks_exact(8).zip(yc.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += a[k] * b[k];
        }
    }
    let mut tail = 0.0;
    for (a, b) in xr.iter().zip(yr) {
        tail += a * b;
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail
}

/// Applies `H = I - tau v v^T` to one column (`col`, length `m`) in `geqr2`/`org2r`'s order:
/// `v[j] = 1` and `v[i]` for `i > j` are the reflector stored below the diagonal of column `j`.
fn reflect(col: &mut [f64], v: &[f64], j: usize, tau: f64) {
    let w = (col[j] + dot(&col[j + 1..], &v[j + 1..])) * tau;
    col[j] -= w;
    for (x, &vi) in col[j + 1..].iter_mut().zip(&v[j + 1..]) {
        *x -= w * vi;
    }
}

/// Columns handled together: each column of a block receives the reflectors of the columns before
/// it in the same order as in an unblocked loop (so the bits do not depend on the block size), while
/// a reflector is read once per block instead of once per column.
const BLOCK: usize = 32;

/// The reduced QR of a column-major `m × n` matrix (`m ≥ n`), Householder reflections as LAPACK's
/// unblocked `geqr2`/`org2r` form them: returns `Q` (column-major `m × n`) and `diag(R)`.
fn householder_qr(mut a: Vec<f64>, mut q: Vec<f64>, m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut taus = vec![0.0; n];
    let mut diag = vec![0.0; n];
    // Left-looking: a block of columns first takes every earlier reflector, then is factored.
    for c0 in (0..n).step_by(BLOCK) {
        let c1 = (c0 + BLOCK).min(n);
        let (done, block) = a.split_at_mut(c0 * m);
        let block = &mut block[..(c1 - c0) * m];
        for (j, v) in done.chunks_exact(m).enumerate() {
            if taus[j] != 0.0 {
                for col in block.chunks_exact_mut(m) {
                    reflect(col, v, j, taus[j]);
                }
            }
        }
        for j in c0..c1 {
            let (head, rest) = block.split_at_mut((j + 1 - c0) * m);
            let col = &mut head[(j - c0) * m..];
            let alpha = col[j];
            let xnorm = col[j + 1..].iter().map(|x| x * x).sum::<f64>().sqrt();
            if xnorm == 0.0 {
                // H = I: nothing below the diagonal to annihilate.
                diag[j] = alpha;
                continue;
            }
            let beta = -alpha.hypot(xnorm).copysign(alpha);
            let tau = (beta - alpha) / beta;
            let scale = 1.0 / (alpha - beta);
            for x in &mut col[j + 1..] {
                *x *= scale;
            }
            col[j] = beta;
            diag[j] = beta;
            taus[j] = tau;
            for other in rest.chunks_exact_mut(m) {
                reflect(other, col, j, tau);
            }
        }
    }
    // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity: column c takes
    // H_c, ..., H_0 in that order (the others leave e_c unchanged), a block at a time. `q` holds
    // m * n zeros.
    for (c0, block) in q.chunks_mut(BLOCK * m).enumerate() {
        let c0 = c0 * BLOCK;
        for (k, col) in block.chunks_exact_mut(m).enumerate() {
            col[c0 + k] = 1.0;
        }
        let last = (c0 + block.len() / m).min(n);
        for j in (0..last).rev() {
            let tau = taus[j];
            if tau == 0.0 {
                continue;
            }
            let v = &a[j * m..(j + 1) * m];
            for (k, col) in block.chunks_exact_mut(m).enumerate() {
                if j <= c0 + k {
                    reflect(col, v, j, tau);
                }
            }
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
pub(crate) fn run(g: &mut Rng<'_>, buf: &mut Buf<'_>, gain: f64, cx: Context) -> Result<()> {
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
    let (short, long) = (rows.min(cols) as u128, rows.max(cols) as u128);
    // Fuzzing builds (`cfg(fuzzing)`) keep every QR small.
    let max_work = if cfg!(fuzzing) {
        1 << 24
    } else {
        ORTHOGONAL_MAX_WORK
    };
    if short * short * long > max_work {
        // Refused before drawing: PyTorch would draw and then run the QR.
        return Err(Error::unsupported(format!(
            "{OP} of a {rows} x {cols} matrix: its QR needs {short}^2 x {long} multiply-adds per \
             pass, more than torch-rng's limit of 2^38 (ORTHOGONAL_MAX_WORK; 4096 x 4096 is \
             within it)"
        )));
    }
    // flattened = tensor.new_empty((rows, cols)).normal_(0, 1): a contiguous draw on the
    // tensor's device.
    let mut flat = Storage::try_zeros(OP, dtype, numel)?;
    g.fill_normal(OP, &mut flat, true, 0.0, 1.0, cx)?;
    let value: &dyn Fn(usize) -> f64 = match &flat {
        Storage::F32(v) => &|i| f64::from(v[i]),
        Storage::F64(v) => &|i| v[i],
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
    // The matrix and Q in double: 16 bytes per element besides the draw, asked for fallibly.
    let mut a = Storage::try_zeros(OP, DType::Float64, numel)?.into_f64();
    for r in 0..rows {
        for c in 0..cols {
            let (i, j) = if transposed { (c, r) } else { (r, c) };
            a[j * m + i] = value(r * cols + c);
        }
    }
    drop(flat);
    let q = Storage::try_zeros(OP, DType::Float64, numel)?.into_f64();
    let (mut q, diag) = householder_qr(a, q, m, n);
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
    use crate::generator::CpuGenerator;
    use crate::ops;

    /// The unblocked loop: every column takes reflector `j` before any takes `j + 1`.
    fn unblocked_qr(mut a: Vec<f64>, m: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
        let mut taus = vec![0.0; n];
        let mut diag = vec![0.0; n];
        for j in 0..n {
            let (head, rest) = a.split_at_mut((j + 1) * m);
            let col = &mut head[j * m..];
            let alpha = col[j];
            let xnorm = col[j + 1..].iter().map(|x| x * x).sum::<f64>().sqrt();
            if xnorm == 0.0 {
                diag[j] = alpha;
                continue;
            }
            let beta = -alpha.hypot(xnorm).copysign(alpha);
            taus[j] = (beta - alpha) / beta;
            let scale = 1.0 / (alpha - beta);
            col[j + 1..].iter_mut().for_each(|x| *x *= scale);
            col[j] = beta;
            diag[j] = beta;
            rest.chunks_exact_mut(m)
                .for_each(|other| reflect(other, col, j, taus[j]));
        }
        let mut q = vec![0.0; m * n];
        (0..n).for_each(|j| q[j * m + j] = 1.0);
        for j in (0..n).rev() {
            if taus[j] != 0.0 {
                let v = &a[j * m..(j + 1) * m];
                q[j * m..]
                    .chunks_exact_mut(m)
                    .for_each(|col| reflect(col, v, j, taus[j]));
            }
        }
        (q, diag)
    }

    #[test]
    fn blocks_give_the_bits_of_the_unblocked_loop() {
        for (m, n) in [(1, 1), (7, 3), (40, 33), (100, 70), (65, 65)] {
            let mut g = CpuGenerator::with_seed(m as u64 * 1000 + n as u64);
            let mut s = Storage::zeros(DType::Float64, m * n);
            ops::fill_normal(&mut g, OP, &mut s, true, 0.0, 1.0, Context::default()).unwrap();
            let Storage::F64(a) = s else { unreachable!() };
            // A zero column below the diagonal exercises the identity reflector.
            let mut a = a;
            a[1..m].iter_mut().for_each(|x| *x = 0.0);
            let (q, d) = householder_qr(a.clone(), vec![0.0; m * n], m, n);
            let (q0, d0) = unblocked_qr(a, m, n);
            let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&q), bits(&q0), "{m} x {n}");
            assert_eq!(bits(&d), bits(&d0), "{m} x {n}");
        }
    }

    #[test]
    fn a_qr_beyond_the_work_limit_is_refused_before_drawing() {
        let mut g = CpuGenerator::with_seed(0);
        let before = g.clone();
        let mut data = Storage::zeros(DType::Float32, 0);
        // A buffer that claims the shape without its memory: refused before anything touches it.
        let mut buf = Buf {
            data: &mut data,
            shape: vec![46_000, 46_000],
            strides: vec![46_000, 1],
            contiguous: true,
        };
        let err = run(&mut Rng::Cpu(&mut g), &mut buf, 1.0, Context::default()).unwrap_err();
        assert!(err.to_string().contains("46000 x 46000"), "{err}");
        assert!(err.to_string().contains("ORTHOGONAL_MAX_WORK"), "{err}");
        assert_eq!(g.get_state(), before.get_state());
    }

    #[test]
    fn qr_of_a_small_matrix_is_orthonormal() {
        // column-major 3 × 2
        let a = vec![1.0, 2.0, 2.0, 3.0, -1.0, 0.5];
        let (q, d) = householder_qr(a, vec![0.0; 6], 3, 2);
        let dot = |x: usize, y: usize| (0..3).map(|i| q[x * 3 + i] * q[y * 3 + i]).sum::<f64>();
        assert!((dot(0, 0) - 1.0).abs() < 1e-15 && (dot(1, 1) - 1.0).abs() < 1e-15);
        assert!(dot(0, 1).abs() < 1e-15);
        assert_eq!(d[0], -3.0);
    }
}
