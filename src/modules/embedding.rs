//! `nn.Embedding` and `nn.EmbeddingBag`.

use super::explain::{init_param, note_step, ParamInit};
use super::{check_param_dtype, empty, zero_row, Module};
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::InitCall;

/// `nn.Embedding(num_embeddings, embedding_dim, padding_idx)`. `max_norm`, `norm_type`,
/// `scale_grad_by_freq` and `sparse` play no part at construction.
///
/// Mirrors: `Embedding.__init__`, `reset_parameters` and `_fill_padding_idx_with_zero` in
/// `torch/nn/modules/sparse.py`.
/// Consumes: one `normal_(0, 1)` over the (N, D) weight (fill path from 16 elements, else the
/// per-element path with its cache); the padding row is drawn, then zeroed.
///
/// # Errors
/// `padding_idx` outside `[-N, N)` (PyTorch asserts), sizes, dtype.
pub fn embedding(
    g: &mut CpuGenerator,
    num_embeddings: i64,
    embedding_dim: i64,
    padding_idx: Option<i64>,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    embedding_as(
        "Embedding",
        g,
        num_embeddings,
        embedding_dim,
        padding_idx,
        dtype,
        cx,
    )
}

/// `nn.EmbeddingBag(num_embeddings, embedding_dim, padding_idx=...)`: initialised as
/// [`embedding`]. `mode`, `include_last_offset` and the norm arguments play no part.
///
/// # Errors
/// As [`embedding`].
pub fn embedding_bag(
    g: &mut CpuGenerator,
    num_embeddings: i64,
    embedding_dim: i64,
    padding_idx: Option<i64>,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    embedding_as(
        "EmbeddingBag",
        g,
        num_embeddings,
        embedding_dim,
        padding_idx,
        dtype,
        cx,
    )
}

fn embedding_as(
    class: &str,
    g: &mut CpuGenerator,
    num_embeddings: i64,
    embedding_dim: i64,
    padding_idx: Option<i64>,
    dtype: DType,
    cx: Context,
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
    init_param(g, "weight", &mut weight, how, cx)?;
    let mut m = Module::new(class);
    if let Some(p) = padding_idx {
        // In range: checked above against the row count.
        zero_row(&mut weight, p as usize);
        note_step(
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
