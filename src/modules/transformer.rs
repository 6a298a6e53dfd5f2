//! `nn.TransformerEncoderLayer`, `nn.TransformerDecoderLayer`, `nn.TransformerEncoder`,
//! `nn.TransformerDecoder` and `nn.Transformer`.

use super::attention::multihead_attention;
use super::explain::{init_param, scoped, ParamInit};
use super::linear::linear_module;
use super::norm::layer_norm;
use super::Module;
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::InitCall;

/// The arguments of a Transformer layer that matter at construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformerLayerOptions {
    /// `d_model`.
    pub d_model: i64,
    /// `nhead`.
    pub nhead: i64,
    /// `dim_feedforward` (2048).
    pub dim_feedforward: i64,
    /// `activation` (`relu`; `gelu` is the other accepted name).
    pub activation: String,
    /// `bias` (true): biases of the attention, the linears and the norms.
    pub bias: bool,
}

impl TransformerLayerOptions {
    /// PyTorch's defaults for the given `d_model` and `nhead`.
    #[must_use]
    pub fn new(d_model: i64, nhead: i64) -> TransformerLayerOptions {
        TransformerLayerOptions {
            d_model,
            nhead,
            dim_feedforward: 2048,
            activation: "relu".to_string(),
            bias: true,
        }
    }
}

fn check_activation(op: &str, activation: &str) -> Result<()> {
    if activation == "relu" || activation == "gelu" {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("activation should be relu/gelu, not {activation}"),
        ))
    }
}

/// `nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, activation=..., bias=...)`.
///
/// Mirrors: `TransformerEncoderLayer.__init__` in `torch/nn/modules/transformer.py`.
/// Consumes: `self_attn` (see [`multihead_attention`]), `linear1`, `linear2`; the norms draw
/// nothing. An unknown activation is rejected after those draws, as PyTorch does.
///
/// # Errors
/// As the submodules; an activation other than `relu`/`gelu`.
pub fn transformer_encoder_layer(
    g: &mut CpuGenerator,
    o: &TransformerLayerOptions,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let mut m = Module::new("TransformerEncoderLayer");
    let attn = scoped("self_attn", || {
        multihead_attention(g, o.d_model, o.nhead, o.bias, false, None, None, dtype, cx)
    })?;
    m.children.push(("self_attn".into(), attn));
    feed_forward(g, &mut m, o, 2, dtype, cx)?;
    check_activation("nn.TransformerEncoderLayer", &o.activation)?;
    Ok(m)
}

/// `nn.TransformerDecoderLayer(d_model, nhead, ...)`: `self_attn`, `multihead_attn`, `linear1`,
/// `linear2`, `norm1`..`norm3`, drawn in that order.
///
/// # Errors
/// As [`transformer_encoder_layer`].
pub fn transformer_decoder_layer(
    g: &mut CpuGenerator,
    o: &TransformerLayerOptions,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let mut m = Module::new("TransformerDecoderLayer");
    for name in ["self_attn", "multihead_attn"] {
        let a = scoped(name, || {
            multihead_attention(g, o.d_model, o.nhead, o.bias, false, None, None, dtype, cx)
        })?;
        m.children.push((name.into(), a));
    }
    feed_forward(g, &mut m, o, 3, dtype, cx)?;
    check_activation("nn.TransformerDecoderLayer", &o.activation)?;
    Ok(m)
}

fn feed_forward(
    g: &mut CpuGenerator,
    m: &mut Module,
    o: &TransformerLayerOptions,
    norms: usize,
    dtype: DType,
    cx: Context,
) -> Result<()> {
    let l1 = scoped("linear1", || {
        linear_module(g, o.d_model, o.dim_feedforward, o.bias, dtype, cx)
    })?;
    m.children.push(("linear1".into(), l1));
    let l2 = scoped("linear2", || {
        linear_module(g, o.dim_feedforward, o.d_model, o.bias, dtype, cx)
    })?;
    m.children.push(("linear2".into(), l2));
    for i in 1..=norms {
        let name = format!("norm{i}");
        let norm = scoped(&name, || layer_norm(&[o.d_model], true, o.bias, dtype))?;
        m.children.push((name, norm));
    }
    Ok(())
}

/// `nn.TransformerEncoder(layer, num_layers, norm)`: `num_layers` deep copies of the given layer
/// (no draws: every copy is identical), then `norm` if given.
#[must_use]
pub fn transformer_encoder(layer: &Module, num_layers: i64, norm: Option<Module>) -> Module {
    stack("TransformerEncoder", layer, num_layers, norm)
}

/// `nn.TransformerDecoder(layer, num_layers, norm)`; see [`transformer_encoder`].
#[must_use]
pub fn transformer_decoder(layer: &Module, num_layers: i64, norm: Option<Module>) -> Module {
    stack("TransformerDecoder", layer, num_layers, norm)
}

fn stack(class: &str, layer: &Module, num_layers: i64, norm: Option<Module>) -> Module {
    let mut list = Module::new("ModuleList");
    for i in 0..num_layers.max(0) {
        list.children.push((i.to_string(), layer.clone()));
    }
    let mut m = Module::new(class);
    m.children.push(("layers".into(), list));
    if let Some(n) = norm {
        m.children.push(("norm".into(), n));
    }
    m
}

/// The arguments of `nn.Transformer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformerOptions {
    /// The layer arguments (`d_model` 512, `nhead` 8, `dim_feedforward` 2048, `relu`, bias).
    pub layer: TransformerLayerOptions,
    /// `num_encoder_layers` (6).
    pub num_encoder_layers: i64,
    /// `num_decoder_layers` (6).
    pub num_decoder_layers: i64,
}

impl Default for TransformerOptions {
    fn default() -> TransformerOptions {
        TransformerOptions {
            layer: TransformerLayerOptions::new(512, 8),
            num_encoder_layers: 6,
            num_decoder_layers: 6,
        }
    }
}

/// `nn.Transformer(...)`.
///
/// Mirrors: `Transformer.__init__` and `_reset_parameters` in `torch/nn/modules/transformer.py`.
/// Consumes: one encoder layer's draws (copied `num_encoder_layers` times), one decoder layer's,
/// then `xavier_uniform_` on every parameter with more than one dimension, in `parameters()`
/// order. Biases keep their construction values (identical in every copy).
///
/// # Errors
/// As the layers.
pub fn transformer(
    g: &mut CpuGenerator,
    o: &TransformerOptions,
    dtype: DType,
    cx: Context,
) -> Result<Module> {
    let d = o.layer.d_model;
    let enc_layer = scoped("encoder.layers.*", || {
        transformer_encoder_layer(g, &o.layer, dtype, cx)
    })?;
    let enc_norm = scoped("encoder.norm", || {
        layer_norm(&[d], true, o.layer.bias, dtype)
    })?;
    let encoder = transformer_encoder(&enc_layer, o.num_encoder_layers, Some(enc_norm));
    let dec_layer = scoped("decoder.layers.*", || {
        transformer_decoder_layer(g, &o.layer, dtype, cx)
    })?;
    let dec_norm = scoped("decoder.norm", || {
        layer_norm(&[d], true, o.layer.bias, dtype)
    })?;
    let decoder = transformer_decoder(&dec_layer, o.num_decoder_layers, Some(dec_norm));
    let mut m = Module::new("Transformer");
    m.children.push(("encoder".into(), encoder));
    m.children.push(("decoder".into(), decoder));
    m.for_each_parameter_mut(&mut |name, p| {
        if p.shape().len() > 1 {
            let how = ParamInit::new(InitCall::XavierUniform { gain: 1.0 });
            init_param(g, name, p, how, cx)
        } else {
            Ok(())
        }
    })?;
    Ok(m)
}
