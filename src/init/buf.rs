//! The tensor an initialiser writes: typed storage in memory order, seen through a logical shape
//! and strides (a contiguous tensor, or `torch.empty(size).permute(perm)`).
//!
//! Random fills visit memory order, as PyTorch's kernels do; index writes (`eye_`, `dirac_`,
//! `sparse_`, `orthogonal_`'s copy) address logical positions.

use crate::dtype::DType;
use crate::tensor::Storage;

/// A writable tensor for the initialisers.
#[derive(Debug)]
pub(crate) struct Buf<'a> {
    /// The elements in memory order.
    pub(crate) data: &'a mut Storage,
    /// The logical shape (what `tensor.shape` reports).
    pub(crate) shape: Vec<usize>,
    /// The memory stride of each logical dimension, in elements.
    pub(crate) strides: Vec<usize>,
    /// Whether PyTorch's `is_contiguous()` holds (decides the `normal_` path).
    pub(crate) contiguous: bool,
}

/// Row-major strides of `shape`.
pub(crate) fn row_major(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

impl Buf<'_> {
    /// The number of elements.
    pub(crate) fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The element type.
    pub(crate) fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The memory offset of a logical index.
    pub(crate) fn offset(&self, index: &[usize]) -> usize {
        index.iter().zip(&self.strides).map(|(i, s)| i * s).sum()
    }

    /// Writes `v` (converted as C++'s `static_cast`) at memory offset `at`.
    pub(crate) fn set(&mut self, at: usize, v: f64) {
        self.data.set_f64(at, v);
    }

    /// Writes `v` everywhere.
    pub(crate) fn fill(&mut self, v: f64) {
        self.data.fill_f64(v);
    }
}
