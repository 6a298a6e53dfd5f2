//! `nn.MultiheadAttention`.

use super::build::{Builder, ParamInit};
use super::linear::linear_as;
use super::registry::nn_class;
use super::{check_param_dtype, empty, Module};
use crate::error::{Error, Result};
use crate::init::InitCall;

nn_class! {
    /// `nn.MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
    /// add_zero_attn=False, kdim=None, vdim=None, batch_first=False, dtype=None)`. `dropout`,
    /// `add_zero_attn` and `batch_first` play no part at construction.
    ///
    /// Mirrors: `MultiheadAttention.__init__` and `_reset_parameters` in
    /// `torch/nn/modules/activation.py`.
    /// Consumes, in this order (which is not the `state_dict` order): `out_proj` as a Linear(E, E)
    /// (weight, then bias if `bias`); `xavier_uniform_` on `in_proj_weight` (or on
    /// `q_proj_weight`, `k_proj_weight`, `v_proj_weight` when kdim or vdim differ from E); then,
    /// with `add_bias_kv`, `xavier_normal_` on `bias_k` then `bias_v`. The biases are then set to 0
    /// (no draws). Refused: `embed_dim ≤ 0` or `num_heads ≤ 0`, `embed_dim` not divisible by
    /// `num_heads` (PyTorch asserts).
    MultiheadAttention = "MultiheadAttention" {
        /// Model dimension.
        embed_dim: i64,
        /// Parallel heads (must divide `embed_dim`).
        num_heads: i64;
        /// No part at construction.
        dropout: f64 = 0.0,
        /// Whether the projections have biases.
        bias: bool = true,
        /// Adds the `bias_k` and `bias_v` parameters.
        add_bias_kv: bool = false,
        /// No part at construction.
        add_zero_attn: bool = false,
        /// Features of the keys (`embed_dim` when `None`).
        kdim: Option<i64> = None,
        /// Features of the values (`embed_dim` when `None`).
        vdim: Option<i64> = None,
        /// No part at construction.
        batch_first: bool = false,
    }
}

impl MultiheadAttention {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let op = "nn.MultiheadAttention";
        let (embed_dim, num_heads) = (self.embed_dim, self.num_heads);
        if embed_dim <= 0 || num_heads <= 0 {
            return Err(Error::arg(
                op,
                format!(
                    "embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} \
                     and num_heads={num_heads} instead"
                ),
            ));
        }
        let kdim = self.kdim.unwrap_or(embed_dim);
        let vdim = self.vdim.unwrap_or(embed_dim);
        let same = kdim == embed_dim && vdim == embed_dim;
        if (embed_dim / num_heads) * num_heads != embed_dim {
            return Err(Error::arg(op, "embed_dim must be divisible by num_heads"));
        }
        let dtype = self.param_dtype();
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
        if self.bias {
            m.params
                .push(("in_proj_bias".into(), empty(op, &[3 * e], dtype)?));
        }
        let mut out_proj = b.scoped("out_proj", |b| {
            linear_as(
                b,
                "NonDynamicallyQuantizableLinear",
                op,
                (e, e),
                self.bias,
                dtype,
            )
        })?;
        if self.add_bias_kv {
            m.params
                .push(("bias_k".into(), empty(op, &[1, 1, e], dtype)?));
            m.params
                .push(("bias_v".into(), empty(op, &[1, 1, e], dtype)?));
        }
        let xavier = ParamInit::new(InitCall::XavierUniform { gain: 1.0 });
        for (name, p) in &mut m.params {
            if name.ends_with("proj_weight") {
                b.init_param(name, p, &xavier)?;
            }
        }
        if self.bias {
            let zero = ParamInit::new(InitCall::Constant { val: 0.0 });
            if let Some(t) = m.param_mut("in_proj_bias") {
                b.init_param("in_proj_bias", t, &zero)?;
            }
            if let Some(t) = out_proj.param_mut("bias") {
                b.scoped("out_proj", |b| b.init_param("bias", t, &zero))?;
            }
        }
        let normal = ParamInit::new(InitCall::XavierNormal { gain: 1.0 });
        for name in ["bias_k", "bias_v"] {
            if let Some(p) = m.param_mut(name) {
                b.init_param(name, p, &normal)?;
            }
        }
        m.children.push(("out_proj".into(), out_proj));
        Ok(m)
    }
}
