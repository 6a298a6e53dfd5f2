//! `nn.Embedding` and `nn.EmbeddingBag`.

use super::build::{Builder, ParamInit};
use super::registry::nn_class;
use super::{check_param_dtype, empty, zero_row, Module};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;

nn_class! {
    /// `nn.Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
    /// scale_grad_by_freq=False, sparse=False, dtype=None)`. Only the sizes and `padding_idx` play
    /// a part at construction.
    ///
    /// Mirrors: `Embedding.__init__`, `reset_parameters` and `_fill_padding_idx_with_zero` in
    /// `torch/nn/modules/sparse.py`.
    /// Consumes: one `normal_(0, 1)` over the (N, D) weight (fill path from 16 elements, else the
    /// per-element path with its cache); the padding row is drawn, then zeroed. A `padding_idx`
    /// outside `[-N, N)` is refused (PyTorch asserts).
    Embedding = "Embedding" {
        /// Rows of the table.
        num_embeddings: i64,
        /// Size of each row.
        embedding_dim: i64;
        /// The row kept at zero (negative counts from the end).
        padding_idx: Option<i64> = None,
        /// Renormalisation bound (no part at construction).
        max_norm: Option<f64> = None,
        /// The norm's p (no part at construction).
        norm_type: f64 = 2.0,
        /// No part at construction.
        scale_grad_by_freq: bool = false,
        /// No part at construction.
        sparse: bool = false,
    }
}

impl Embedding {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        embedding_as(
            b,
            "Embedding",
            (self.num_embeddings, self.embedding_dim),
            self.padding_idx,
            self.param_dtype(),
        )
    }
}

nn_class! {
    /// `nn.EmbeddingBag(num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
    /// scale_grad_by_freq=False, mode='mean', sparse=False, include_last_offset=False,
    /// padding_idx=None, dtype=None)`: initialised as [`Embedding`].
    EmbeddingBag = "EmbeddingBag" {
        /// Rows of the table.
        num_embeddings: i64,
        /// Size of each row.
        embedding_dim: i64;
        /// Renormalisation bound (no part at construction).
        max_norm: Option<f64> = None,
        /// The norm's p (no part at construction).
        norm_type: f64 = 2.0,
        /// No part at construction.
        scale_grad_by_freq: bool = false,
        /// `sum`, `mean` or `max` (no part at construction).
        mode: String = "mean".to_string(),
        /// No part at construction.
        sparse: bool = false,
        /// No part at construction.
        include_last_offset: bool = false,
        /// The row kept at zero (negative counts from the end).
        padding_idx: Option<i64> = None,
    }
}

impl EmbeddingBag {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        embedding_as(
            b,
            "EmbeddingBag",
            (self.num_embeddings, self.embedding_dim),
            self.padding_idx,
            self.param_dtype(),
        )
    }
}

fn embedding_as(
    b: &mut Builder<'_>,
    class: &str,
    (num_embeddings, embedding_dim): (i64, i64),
    padding_idx: Option<i64>,
    dtype: DType,
) -> Result<Module> {
    let op = format!("nn.{class}");
    let padding_idx = match padding_idx {
        None => None,
        Some(p) if p >= num_embeddings || p < -num_embeddings => {
            return Err(Error::arg(op, "padding_idx must be within num_embeddings"));
        }
        Some(p) if p < 0 => Some(p + num_embeddings),
        Some(p) => Some(p),
    };
    check_param_dtype(&op, dtype)?;
    let mut weight = empty(&op, &[num_embeddings, embedding_dim], dtype)?;
    let how = ParamInit::new(InitCall::Normal {
        mean: 0.0,
        std: 1.0,
    });
    b.init_param("weight", &mut weight, &how)?;
    let mut m = Module::new(class);
    if let Some(p) = padding_idx {
        zero_row(&mut weight, p as usize);
        b.note(
            "weight",
            &weight,
            &format!("weight[{p}].fill_(0) (padding_idx={p}, under torch.no_grad())"),
            &format!("row {p} set to zeros, after it was drawn"),
            Some(0),
        );
        m.padding_idx = Some(p as usize);
    }
    m.params.push(("weight".to_string(), weight));
    Ok(m)
}
