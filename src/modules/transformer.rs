//! `nn.TransformerEncoderLayer`, `nn.TransformerDecoderLayer`, `nn.TransformerEncoder`,
//! `nn.TransformerDecoder` and `nn.Transformer`.

use super::attention::MultiheadAttention;
use super::build::{Builder, ParamInit};
use super::linear::Linear;
use super::norm::LayerNorm;
use super::registry::{nn_class, take_arg, ArgKind, ArgSpec, ArgType, ArgValue, ArgValues, Class};
use super::Module;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;

/// The arguments of a Transformer layer that matter at construction.
#[derive(Clone, Debug, PartialEq, Eq)]
struct LayerShape {
    d_model: i64,
    nhead: i64,
    dim_feedforward: i64,
    activation: String,
    bias: bool,
    dtype: Option<DType>,
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

fn attention(o: &LayerShape) -> MultiheadAttention {
    MultiheadAttention {
        dtype: o.dtype,
        ..MultiheadAttention::new(o.d_model, o.nhead).bias(o.bias)
    }
}

/// `self_attn` (and `multihead_attn`), `linear1`, `linear2`, the norms; then the activation
/// check, after the draws, as PyTorch makes it.
fn layer(b: &mut Builder<'_>, class: &str, o: &LayerShape, attns: &[&str]) -> Result<Module> {
    let mut m = Module::new(class);
    for &name in attns {
        let a = b.scoped(name, |b| attention(o).construct(b))?;
        m.children.push((name.into(), a));
    }
    let linear = |i, o_: i64| Linear {
        dtype: o.dtype,
        ..Linear::new(i, o_).bias(o.bias)
    };
    let l1 = b.scoped("linear1", |b| {
        linear(o.d_model, o.dim_feedforward).construct(b)
    })?;
    m.children.push(("linear1".into(), l1));
    let l2 = b.scoped("linear2", |b| {
        linear(o.dim_feedforward, o.d_model).construct(b)
    })?;
    m.children.push(("linear2".into(), l2));
    for i in 1..=attns.len() + 1 {
        let name = format!("norm{i}");
        let norm = LayerNorm {
            dtype: o.dtype,
            ..LayerNorm::new(o.d_model).bias(o.bias)
        };
        let norm = b.scoped(&name, |b| norm.construct(b))?;
        m.children.push((name, norm));
    }
    check_activation(&format!("nn.{class}"), &o.activation)?;
    Ok(m)
}

macro_rules! layer_class {
    ($name:ident, $py:literal, $attns:expr, $doc:literal) => {
        nn_class! {
            #[doc = $doc]
            $name = $py {
                /// Model dimension.
                d_model: i64,
                /// Attention heads.
                nhead: i64;
                /// Width of the feed-forward block.
                dim_feedforward: i64 = 2048,
                /// No part at construction.
                dropout: f64 = 0.1,
                /// `relu` or `gelu` (checked after the draws).
                activation: String = "relu".to_string(),
                /// No part at construction.
                layer_norm_eps: f64 = 1e-5,
                /// No part at construction.
                batch_first: bool = false,
                /// No part at construction.
                norm_first: bool = false,
                /// Biases of the attention, the linears and the norms.
                bias: bool = true,
            }
        }

        impl $name {
            fn shape(&self) -> LayerShape {
                LayerShape {
                    d_model: self.d_model,
                    nhead: self.nhead,
                    dim_feedforward: self.dim_feedforward,
                    activation: self.activation.clone(),
                    bias: self.bias,
                    dtype: self.dtype,
                }
            }

            fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
                layer(b, $py, &self.shape(), $attns)
            }
        }
    };
}

layer_class!(
    TransformerEncoderLayer,
    "TransformerEncoderLayer",
    &["self_attn"],
    "`nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, \
     activation='relu', layer_norm_eps=1e-05, batch_first=False, norm_first=False, bias=True, \
     dtype=None)`.\n\nMirrors: `TransformerEncoderLayer.__init__` in \
     `torch/nn/modules/transformer.py`.\nConsumes: `self_attn` (see [`MultiheadAttention`]), \
     `linear1`, `linear2`; the norms draw nothing. An unknown activation is rejected after those \
     draws, as PyTorch does."
);
layer_class!(
    TransformerDecoderLayer,
    "TransformerDecoderLayer",
    &["self_attn", "multihead_attn"],
    "`nn.TransformerDecoderLayer(d_model, nhead, ...)` (the encoder layer's arguments): \
     `self_attn`, `multihead_attn`, `linear1`, `linear2`, `norm1`..`norm3`, drawn in that order."
);

/// `nn.TransformerEncoder(encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
/// mask_check=True)`: `num_layers` deep copies of the given, already constructed layer (no draws:
/// every copy is identical), then `norm` if given.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerEncoder {
    /// The layer, constructed before the encoder (its draws happened then).
    pub encoder_layer: Module,
    /// How many copies.
    pub num_layers: i64,
    /// A final norm, constructed before the encoder.
    pub norm: Option<Module>,
    /// No part at construction.
    pub enable_nested_tensor: bool,
    /// No part at construction.
    pub mask_check: bool,
}

impl TransformerEncoder {
    /// `nn.TransformerEncoder(encoder_layer, num_layers)`.
    #[must_use]
    pub fn new(encoder_layer: Module, num_layers: i64) -> TransformerEncoder {
        TransformerEncoder {
            encoder_layer,
            num_layers,
            norm: None,
            enable_nested_tensor: true,
            mask_check: true,
        }
    }

    /// Sets `norm`.
    #[must_use]
    pub fn norm(mut self, norm: Module) -> TransformerEncoder {
        self.norm = Some(norm);
        self
    }
}

/// A module argument (its draws are reported under `scope`).
fn module_arg(name: &'static str, kind: ArgKind, scope: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        default: (kind == ArgKind::OptModule).then_some(ArgValue::None),
        scope,
    }
}

/// A required int argument.
fn int_arg(name: &'static str) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Int,
        default: None,
        scope: name,
    }
}

/// A bool argument with its default.
fn bool_arg(name: &'static str, default: bool) -> ArgSpec {
    ArgSpec {
        name,
        kind: ArgKind::Bool,
        default: Some(ArgValue::Bool(default)),
        scope: name,
    }
}

impl Class for TransformerEncoder {
    const NAME: &'static str = "TransformerEncoder";
    const TAKES_DTYPE: bool = false;

    fn args() -> Vec<ArgSpec> {
        vec![
            module_arg("encoder_layer", ArgKind::Module, "layers.*"),
            int_arg("num_layers"),
            module_arg("norm", ArgKind::OptModule, "norm"),
            bool_arg("enable_nested_tensor", true),
            bool_arg("mask_check", true),
        ]
    }

    fn from_args(mut args: ArgValues, _dtype: Option<DType>) -> Result<TransformerEncoder> {
        let n = Self::NAME;
        Ok(TransformerEncoder {
            encoder_layer: take_arg(n, &mut args, "encoder_layer")?,
            num_layers: take_arg(n, &mut args, "num_layers")?,
            norm: take_arg(n, &mut args, "norm")?,
            enable_nested_tensor: take_arg(n, &mut args, "enable_nested_tensor")?,
            mask_check: take_arg(n, &mut args, "mask_check")?,
        })
    }

    fn to_args(&self) -> ArgValues {
        vec![
            ("encoder_layer", self.encoder_layer.to_value()),
            ("num_layers", ArgValue::Int(self.num_layers)),
            ("norm", self.norm.to_value()),
            (
                "enable_nested_tensor",
                ArgValue::Bool(self.enable_nested_tensor),
            ),
            ("mask_check", ArgValue::Bool(self.mask_check)),
        ]
    }

    fn construct(&self, _b: &mut Builder<'_>) -> Result<Module> {
        Ok(stack(
            "TransformerEncoder",
            &self.encoder_layer,
            self.num_layers,
            self.norm.clone(),
        ))
    }
}

/// `nn.TransformerDecoder(decoder_layer, num_layers, norm=None)`; see [`TransformerEncoder`].
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerDecoder {
    /// The layer, constructed before the decoder.
    pub decoder_layer: Module,
    /// How many copies.
    pub num_layers: i64,
    /// A final norm, constructed before the decoder.
    pub norm: Option<Module>,
}

impl TransformerDecoder {
    /// `nn.TransformerDecoder(decoder_layer, num_layers)`.
    #[must_use]
    pub fn new(decoder_layer: Module, num_layers: i64) -> TransformerDecoder {
        TransformerDecoder {
            decoder_layer,
            num_layers,
            norm: None,
        }
    }

    /// Sets `norm`.
    #[must_use]
    pub fn norm(mut self, norm: Module) -> TransformerDecoder {
        self.norm = Some(norm);
        self
    }
}

impl Class for TransformerDecoder {
    const NAME: &'static str = "TransformerDecoder";
    const TAKES_DTYPE: bool = false;

    fn args() -> Vec<ArgSpec> {
        vec![
            module_arg("decoder_layer", ArgKind::Module, "layers.*"),
            int_arg("num_layers"),
            module_arg("norm", ArgKind::OptModule, "norm"),
        ]
    }

    fn from_args(mut args: ArgValues, _dtype: Option<DType>) -> Result<TransformerDecoder> {
        let n = Self::NAME;
        Ok(TransformerDecoder {
            decoder_layer: take_arg(n, &mut args, "decoder_layer")?,
            num_layers: take_arg(n, &mut args, "num_layers")?,
            norm: take_arg(n, &mut args, "norm")?,
        })
    }

    fn to_args(&self) -> ArgValues {
        vec![
            ("decoder_layer", self.decoder_layer.to_value()),
            ("num_layers", ArgValue::Int(self.num_layers)),
            ("norm", self.norm.to_value()),
        ]
    }

    fn construct(&self, _b: &mut Builder<'_>) -> Result<Module> {
        Ok(stack(
            "TransformerDecoder",
            &self.decoder_layer,
            self.num_layers,
            self.norm.clone(),
        ))
    }
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

nn_class! {
    /// `nn.Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    /// dim_feedforward=2048, dropout=0.1, activation='relu', layer_norm_eps=1e-05,
    /// batch_first=False, norm_first=False, bias=True, dtype=None)`.
    ///
    /// Mirrors: `Transformer.__init__` and `_reset_parameters` in `torch/nn/modules/transformer.py`.
    /// Consumes: one encoder layer's draws (copied `num_encoder_layers` times), one decoder
    /// layer's, then `xavier_uniform_` on every parameter with more than one dimension, in
    /// `parameters()` order. Biases keep their construction values (identical in every copy).
    Transformer = "Transformer" {
        ;
        /// Model dimension.
        d_model: i64 = 512,
        /// Attention heads.
        nhead: i64 = 8,
        /// Encoder layers.
        num_encoder_layers: i64 = 6,
        /// Decoder layers.
        num_decoder_layers: i64 = 6,
        /// Width of the feed-forward blocks.
        dim_feedforward: i64 = 2048,
        /// No part at construction.
        dropout: f64 = 0.1,
        /// `relu` or `gelu`.
        activation: String = "relu".to_string(),
        /// No part at construction.
        layer_norm_eps: f64 = 1e-5,
        /// No part at construction.
        batch_first: bool = false,
        /// No part at construction.
        norm_first: bool = false,
        /// Biases everywhere.
        bias: bool = true,
    }
}

impl Transformer {
    fn build_module(&self, b: &mut Builder<'_>) -> Result<Module> {
        let o = LayerShape {
            d_model: self.d_model,
            nhead: self.nhead,
            dim_feedforward: self.dim_feedforward,
            activation: self.activation.clone(),
            bias: self.bias,
            dtype: self.dtype,
        };
        let norm = |b: &mut Builder<'_>| {
            LayerNorm {
                dtype: o.dtype,
                ..LayerNorm::new(o.d_model).bias(o.bias)
            }
            .construct(b)
        };
        let enc_layer = b.scoped("encoder.layers.*", |b| {
            layer(b, "TransformerEncoderLayer", &o, &["self_attn"])
        })?;
        let enc_norm = b.scoped("encoder.norm", norm)?;
        let encoder = stack(
            "TransformerEncoder",
            &enc_layer,
            self.num_encoder_layers,
            Some(enc_norm),
        );
        let dec_layer = b.scoped("decoder.layers.*", |b| {
            layer(
                b,
                "TransformerDecoderLayer",
                &o,
                &["self_attn", "multihead_attn"],
            )
        })?;
        let dec_norm = b.scoped("decoder.norm", norm)?;
        let decoder = stack(
            "TransformerDecoder",
            &dec_layer,
            self.num_decoder_layers,
            Some(dec_norm),
        );
        let mut m = Module::new("Transformer");
        m.children.push(("encoder".into(), encoder));
        m.children.push(("decoder".into(), decoder));
        let xavier = ParamInit::new(InitCall::XavierUniform { gain: 1.0 });
        m.for_each_parameter_mut(&mut |name, p| {
            if p.shape().len() > 1 {
                b.init_param(name, p, &xavier)
            } else {
                Ok(())
            }
        })?;
        Ok(m)
    }
}
