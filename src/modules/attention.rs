//! `nn.MultiheadAttention`.

use super::explain::{init_param, scoped, ParamInit};
use super::linear::linear_as;
use super::{check_param_dtype, empty, Module};
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::InitCall;

/// `nn.MultiheadAttention(embed_dim, num_heads, bias, add_bias_kv, kdim=kdim, vdim=vdim)`.
/// `dropout`, `add_zero_attn` and `batch_first` play no part at construction.
///
/// Mirrors: `MultiheadAttention.__init__` and `_reset_parameters` in
/// `torch/nn/modules/activation.py`.
/// Consumes, in this order (which is not the `state_dict` order): `out_proj` as a Linear(E, E)
/// (weight, then bias if `bias`); `xavier_uniform_` on `in_proj_weight` (or on `q_proj_weight`,
/// `k_proj_weight`, `v_proj_weight` when kdim or vdim differ from E); then, with `add_bias_kv`,
/// `xavier_normal_` on `bias_k` then `bias_v`. The biases are then set to 0 (no draws).
///
/// # Errors
/// `embed_dim ≤ 0` or `num_heads ≤ 0`, `embed_dim` not divisible by `num_heads`, sizes, dtype.
pub fn multihead_attention(
    g: &mut CpuGenerator,
    embed_dim: i64,
    num_heads: i64,
    bias: bool,
    add_bias_kv: bool,
    kdim: Option<i64>,
    vdim: Option<i64>,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let op = "nn.MultiheadAttention";
    if embed_dim <= 0 || num_heads <= 0 {
        return Err(Error::arg(
            op,
            format!(
                "embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} and \
                 num_heads={num_heads} instead"
            ),
        ));
    }
    let kdim = kdim.unwrap_or(embed_dim);
    let vdim = vdim.unwrap_or(embed_dim);
    let same = kdim == embed_dim && vdim == embed_dim;
    if (embed_dim / num_heads) * num_heads != embed_dim {
        return Err(Error::arg(op, "embed_dim must be divisible by num_heads"));
    }
    check_param_dtype(op, dtype)?;
    let e = embed_dim;
    let mut m = Module::new("MultiheadAttention");
    if same {
        m.params
            .push(("in_proj_weight".into(), empty(op, &[3 * e, e], dtype)?));
    } else {
        m.params
            .push(("q_proj_weight".into(), empty(op, &[e, e], dtype)?));
        m.params
            .push(("k_proj_weight".into(), empty(op, &[e, kdim], dtype)?));
        m.params
            .push(("v_proj_weight".into(), empty(op, &[e, vdim], dtype)?));
    }
    if bias {
        m.params
            .push(("in_proj_bias".into(), empty(op, &[3 * e], dtype)?));
    }
    let mut out_proj = scoped("out_proj", || {
        linear_as(
            "NonDynamicallyQuantizableLinear",
            op,
            g,
            e,
            e,
            bias,
            dtype,
            cx,
        )
    })?;
    if add_bias_kv {
        m.params
            .push(("bias_k".into(), empty(op, &[1, 1, e], dtype)?));
        m.params
            .push(("bias_v".into(), empty(op, &[1, 1, e], dtype)?));
    }
    for (name, p) in &mut m.params {
        if name.ends_with("proj_weight") {
            let how = ParamInit::new(InitCall::XavierUniform { gain: 1.0 });
            init_param(g, name, p, how, cx)?;
        }
    }
    if bias {
        let zero = || ParamInit::new(InitCall::Constant { val: 0.0 });
        if let Some(b) = m.param_mut("in_proj_bias") {
            init_param(g, "in_proj_bias", b, zero(), cx)?;
        }
        if let Some(b) = out_proj.param_mut("bias") {
            scoped("out_proj", || init_param(g, "bias", b, zero(), cx))?;
        }
    }
    for name in ["bias_k", "bias_v"] {
        if let Some(p) = m.param_mut(name) {
            let how = ParamInit::new(InitCall::XavierNormal { gain: 1.0 });
            init_param(g, name, p, how, cx)?;
        }
    }
    m.children.push(("out_proj".into(), out_proj));
    Ok(m)
}
