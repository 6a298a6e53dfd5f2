//! Whole models from a JSON description: built-in modules in construction order, nested in
//! containers as a Python `__init__` nests them, then post-construction init passes
//! (`model.apply(_init_weights)`, per-parameter inits). The format is documented in the README
//! ("Model descriptions").
//!
//! Parsing is strict and complete before anything is drawn: an unknown module, field or init
//! function, a missing argument, a value of the wrong type, a duplicate name or a class that
//! contains itself is an [`Error::CaseFile`] whose location names the place in the description
//! (`modules[1] 'features'.modules[0]`).

// The parser and the builder are one long dispatch over the module classes.
#![allow(clippy::too_many_lines)]

use serde_json::{Map, Value};

use super::explain::{init_param, note_step, scoped, snapshot, words_since, ParamInit};
use super::{
    batch_norm, bilinear, conv, embedding, embedding_bag, group_norm, identity, instance_norm,
    layer_norm, lazy_linear, linear_module, multihead_attention, prelu, rms_norm, rnn, rnn_cell,
    transformer, transformer_decoder, transformer_decoder_layer, transformer_encoder,
    transformer_encoder_layer, zero_row, ConvOptions, Module, Padding, RnnMode, RnnOptions,
    StateDict, TransformerLayerOptions, TransformerOptions,
};
use crate::context::Context;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::InitCall;
use crate::ops;
use crate::tensor::Tensor;

/// The `format` value of a model description.
pub const MODEL_FORMAT: &str = "torch-rng-model/1";

fn bad(at: &str, reason: impl Into<String>) -> Error {
    Error::CaseFile {
        location: at.to_string(),
        reason: reason.into(),
    }
}

// ------------------------------------------------------------------------------------------
// Argument tables
// ------------------------------------------------------------------------------------------

/// The JSON kind of a constructor argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    OptInt,
    Float,
    OptFloat,
    Bool,
    Str,
    /// An int or a list of ints (`kernel_size`, `normalized_shape`).
    Ints,
    /// Ints, or the strings `same` / `valid`.
    Padding,
    /// A nested module description (`encoder_layer`).
    Node,
    OptNode,
}

/// An argument's default.
#[derive(Clone, Copy, Debug)]
enum Def {
    Req,
    None,
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(&'static str),
}

type Table = &'static [(&'static str, Kind, Def)];

const LINEAR: Table = &[
    ("in_features", Kind::Int, Def::Req),
    ("out_features", Kind::Int, Def::Req),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const BILINEAR: Table = &[
    ("in1_features", Kind::Int, Def::Req),
    ("in2_features", Kind::Int, Def::Req),
    ("out_features", Kind::Int, Def::Req),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const CONV: Table = &[
    ("in_channels", Kind::Int, Def::Req),
    ("out_channels", Kind::Int, Def::Req),
    ("kernel_size", Kind::Ints, Def::Req),
    ("stride", Kind::Ints, Def::Int(1)),
    ("padding", Kind::Padding, Def::Int(0)),
    ("dilation", Kind::Ints, Def::Int(1)),
    ("groups", Kind::Int, Def::Int(1)),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("padding_mode", Kind::Str, Def::Str("zeros")),
];
const CONV_T: Table = &[
    ("in_channels", Kind::Int, Def::Req),
    ("out_channels", Kind::Int, Def::Req),
    ("kernel_size", Kind::Ints, Def::Req),
    ("stride", Kind::Ints, Def::Int(1)),
    ("padding", Kind::Ints, Def::Int(0)),
    ("output_padding", Kind::Ints, Def::Int(0)),
    ("groups", Kind::Int, Def::Int(1)),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("dilation", Kind::Ints, Def::Int(1)),
    ("padding_mode", Kind::Str, Def::Str("zeros")),
];
const EMBEDDING: Table = &[
    ("num_embeddings", Kind::Int, Def::Req),
    ("embedding_dim", Kind::Int, Def::Req),
    ("padding_idx", Kind::OptInt, Def::None),
    ("max_norm", Kind::OptFloat, Def::None),
    ("norm_type", Kind::Float, Def::Float(2.0)),
    ("scale_grad_by_freq", Kind::Bool, Def::Bool(false)),
    ("sparse", Kind::Bool, Def::Bool(false)),
];
const EMBEDDING_BAG: Table = &[
    ("num_embeddings", Kind::Int, Def::Req),
    ("embedding_dim", Kind::Int, Def::Req),
    ("max_norm", Kind::OptFloat, Def::None),
    ("norm_type", Kind::Float, Def::Float(2.0)),
    ("scale_grad_by_freq", Kind::Bool, Def::Bool(false)),
    ("mode", Kind::Str, Def::Str("mean")),
    ("sparse", Kind::Bool, Def::Bool(false)),
    ("include_last_offset", Kind::Bool, Def::Bool(false)),
    ("padding_idx", Kind::OptInt, Def::None),
];
const RNN: Table = &[
    ("input_size", Kind::Int, Def::Req),
    ("hidden_size", Kind::Int, Def::Req),
    ("num_layers", Kind::Int, Def::Int(1)),
    ("nonlinearity", Kind::Str, Def::Str("tanh")),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("batch_first", Kind::Bool, Def::Bool(false)),
    ("dropout", Kind::Float, Def::Float(0.0)),
    ("bidirectional", Kind::Bool, Def::Bool(false)),
];
const LSTM: Table = &[
    ("input_size", Kind::Int, Def::Req),
    ("hidden_size", Kind::Int, Def::Req),
    ("num_layers", Kind::Int, Def::Int(1)),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("batch_first", Kind::Bool, Def::Bool(false)),
    ("dropout", Kind::Float, Def::Float(0.0)),
    ("bidirectional", Kind::Bool, Def::Bool(false)),
    ("proj_size", Kind::Int, Def::Int(0)),
];
const GRU: Table = &[
    ("input_size", Kind::Int, Def::Req),
    ("hidden_size", Kind::Int, Def::Req),
    ("num_layers", Kind::Int, Def::Int(1)),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("batch_first", Kind::Bool, Def::Bool(false)),
    ("dropout", Kind::Float, Def::Float(0.0)),
    ("bidirectional", Kind::Bool, Def::Bool(false)),
];
const RNN_CELL: Table = &[
    ("input_size", Kind::Int, Def::Req),
    ("hidden_size", Kind::Int, Def::Req),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("nonlinearity", Kind::Str, Def::Str("tanh")),
];
const CELL: Table = &[
    ("input_size", Kind::Int, Def::Req),
    ("hidden_size", Kind::Int, Def::Req),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const MHA: Table = &[
    ("embed_dim", Kind::Int, Def::Req),
    ("num_heads", Kind::Int, Def::Req),
    ("dropout", Kind::Float, Def::Float(0.0)),
    ("bias", Kind::Bool, Def::Bool(true)),
    ("add_bias_kv", Kind::Bool, Def::Bool(false)),
    ("add_zero_attn", Kind::Bool, Def::Bool(false)),
    ("kdim", Kind::OptInt, Def::None),
    ("vdim", Kind::OptInt, Def::None),
    ("batch_first", Kind::Bool, Def::Bool(false)),
];
const TLAYER: Table = &[
    ("d_model", Kind::Int, Def::Req),
    ("nhead", Kind::Int, Def::Req),
    ("dim_feedforward", Kind::Int, Def::Int(2048)),
    ("dropout", Kind::Float, Def::Float(0.1)),
    ("activation", Kind::Str, Def::Str("relu")),
    ("layer_norm_eps", Kind::Float, Def::Float(1e-5)),
    ("batch_first", Kind::Bool, Def::Bool(false)),
    ("norm_first", Kind::Bool, Def::Bool(false)),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const TENCODER: Table = &[
    ("encoder_layer", Kind::Node, Def::Req),
    ("num_layers", Kind::Int, Def::Req),
    ("norm", Kind::OptNode, Def::None),
    ("enable_nested_tensor", Kind::Bool, Def::Bool(true)),
    ("mask_check", Kind::Bool, Def::Bool(true)),
];
const TDECODER: Table = &[
    ("decoder_layer", Kind::Node, Def::Req),
    ("num_layers", Kind::Int, Def::Req),
    ("norm", Kind::OptNode, Def::None),
];
const TRANSFORMER: Table = &[
    ("d_model", Kind::Int, Def::Int(512)),
    ("nhead", Kind::Int, Def::Int(8)),
    ("num_encoder_layers", Kind::Int, Def::Int(6)),
    ("num_decoder_layers", Kind::Int, Def::Int(6)),
    ("dim_feedforward", Kind::Int, Def::Int(2048)),
    ("dropout", Kind::Float, Def::Float(0.1)),
    ("activation", Kind::Str, Def::Str("relu")),
    ("layer_norm_eps", Kind::Float, Def::Float(1e-5)),
    ("batch_first", Kind::Bool, Def::Bool(false)),
    ("norm_first", Kind::Bool, Def::Bool(false)),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const LAYER_NORM: Table = &[
    ("normalized_shape", Kind::Ints, Def::Req),
    ("eps", Kind::Float, Def::Float(1e-5)),
    ("elementwise_affine", Kind::Bool, Def::Bool(true)),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const RMS_NORM: Table = &[
    ("normalized_shape", Kind::Ints, Def::Req),
    ("eps", Kind::OptFloat, Def::None),
    ("elementwise_affine", Kind::Bool, Def::Bool(true)),
];
const BATCH_NORM: Table = &[
    ("num_features", Kind::Int, Def::Req),
    ("eps", Kind::Float, Def::Float(1e-5)),
    ("momentum", Kind::OptFloat, Def::Float(0.1)),
    ("affine", Kind::Bool, Def::Bool(true)),
    ("track_running_stats", Kind::Bool, Def::Bool(true)),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const INSTANCE_NORM: Table = &[
    ("num_features", Kind::Int, Def::Req),
    ("eps", Kind::Float, Def::Float(1e-5)),
    ("momentum", Kind::OptFloat, Def::Float(0.1)),
    ("affine", Kind::Bool, Def::Bool(false)),
    ("track_running_stats", Kind::Bool, Def::Bool(false)),
];
const GROUP_NORM: Table = &[
    ("num_groups", Kind::Int, Def::Req),
    ("num_channels", Kind::Int, Def::Req),
    ("eps", Kind::Float, Def::Float(1e-5)),
    ("affine", Kind::Bool, Def::Bool(true)),
    ("bias", Kind::Bool, Def::Bool(true)),
];
const PRELU: Table = &[
    ("num_parameters", Kind::Int, Def::Int(1)),
    ("init", Kind::Float, Def::Float(0.25)),
];

/// The built-in module classes a description (or a case step `nn.<class>`) may name.
pub const BUILTIN_CLASSES: &[&str] = &[
    "Linear",
    "LazyLinear",
    "Bilinear",
    "Identity",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Embedding",
    "EmbeddingBag",
    "RNN",
    "LSTM",
    "GRU",
    "RNNCell",
    "LSTMCell",
    "GRUCell",
    "MultiheadAttention",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerDecoder",
    "Transformer",
    "LayerNorm",
    "RMSNorm",
    "BatchNorm1d",
    "BatchNorm2d",
    "BatchNorm3d",
    "InstanceNorm1d",
    "InstanceNorm2d",
    "InstanceNorm3d",
    "GroupNorm",
    "PReLU",
];

/// Layers without parameters or buffers (activations, pooling, dropout, reshaping) that a model
/// may contain. They draw nothing at construction; their arguments are passed to PyTorch as given
/// and not checked here.
pub const STATELESS_CLASSES: &[&str] = &[
    "ReLU",
    "ReLU6",
    "GELU",
    "SiLU",
    "Mish",
    "Tanh",
    "Sigmoid",
    "LeakyReLU",
    "ELU",
    "SELU",
    "Hardswish",
    "Hardsigmoid",
    "Softmax",
    "LogSoftmax",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Dropout3d",
    "AlphaDropout",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "Flatten",
    "Unflatten",
    "Upsample",
    "PixelShuffle",
    "ZeroPad2d",
    "ConstantPad2d",
    "ReflectionPad2d",
];

fn table(class: &str) -> Option<Table> {
    Some(match class {
        "Linear" | "LazyLinear" => LINEAR,
        "Bilinear" => BILINEAR,
        "Identity" => &[],
        "Conv1d" | "Conv2d" | "Conv3d" => CONV,
        "ConvTranspose1d" | "ConvTranspose2d" | "ConvTranspose3d" => CONV_T,
        "Embedding" => EMBEDDING,
        "EmbeddingBag" => EMBEDDING_BAG,
        "RNN" => RNN,
        "LSTM" => LSTM,
        "GRU" => GRU,
        "RNNCell" => RNN_CELL,
        "LSTMCell" | "GRUCell" => CELL,
        "MultiheadAttention" => MHA,
        "TransformerEncoderLayer" | "TransformerDecoderLayer" => TLAYER,
        "TransformerEncoder" => TENCODER,
        "TransformerDecoder" => TDECODER,
        "Transformer" => TRANSFORMER,
        "LayerNorm" => LAYER_NORM,
        "RMSNorm" => RMS_NORM,
        "BatchNorm1d" | "BatchNorm2d" | "BatchNorm3d" => BATCH_NORM,
        "InstanceNorm1d" | "InstanceNorm2d" | "InstanceNorm3d" => INSTANCE_NORM,
        "GroupNorm" => GROUP_NORM,
        "PReLU" => PRELU,
        _ => return None,
    })
}

/// The argument names class `class` accepts (`dtype` included where the constructor takes it),
/// or `None` for an unknown class.
#[must_use]
pub fn argument_names(class: &str) -> Option<Vec<&'static str>> {
    let t = table(class)?;
    let mut names: Vec<&'static str> = t.iter().map(|(n, _, _)| *n).collect();
    if takes_dtype(class) {
        names.push("dtype");
    }
    Some(names)
}

fn takes_dtype(class: &str) -> bool {
    !matches!(
        class,
        "Identity" | "TransformerEncoder" | "TransformerDecoder"
    )
}

// ------------------------------------------------------------------------------------------
// Parsed description
// ------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
enum ArgValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Ints(Vec<i64>),
    Node(Box<Node>),
    None,
}

/// A parsed module (or parameter) description.
#[derive(Clone, Debug, PartialEq)]
struct Node {
    name: String,
    at: String,
    kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq)]
enum NodeKind {
    Builtin {
        class: String,
        args: Vec<(&'static str, ArgValue)>,
        dtype: DType,
    },
    /// `Sequential`, `ModuleList`, `ModuleDict`, `Module` or a described class.
    Container { class: String, children: Vec<Node> },
    /// `nn.Parameter(torch.<init>(size, dtype=dtype))` or a registered buffer.
    Tensor {
        buffer: bool,
        persistent: bool,
        size: Vec<i64>,
        init: String,
        dtype: DType,
    },
}

/// An init function of a pass, with its arguments.
type InitFn = InitCall;

#[derive(Clone, Debug, PartialEq)]
struct Rule {
    classes: Vec<String>,
    inits: Vec<(String, InitFn)>,
    zero_padding_idx: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Pass {
    Apply(Vec<Rule>),
    Parameters {
        name: Option<String>,
        endswith: Option<String>,
        min_dim: Option<i64>,
        init: InitFn,
    },
    /// `parent.attr = model.get_parameter(to)`: the parameter `name` becomes the tensor `to`
    /// (GPT-2's `lm_head.weight` tied to `wte.weight`). Ties come after every other pass.
    Tie {
        name: String,
        to: String,
        at: String,
    },
}

/// A parsed, checked model description, ready to build.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelDesc {
    root: Vec<Node>,
    passes: Vec<Pass>,
    /// One module described on its own (a case step `nn.<class>`): its names are its own.
    single: bool,
}

// ------------------------------------------------------------------------------------------
// Parsing
// ------------------------------------------------------------------------------------------

struct Obj<'a> {
    map: Map<String, Value>,
    at: &'a str,
}

impl Obj<'_> {
    fn new<'a>(v: &Value, at: &'a str, what: &str) -> Result<Obj<'a>> {
        match v {
            Value::Object(m) => Ok(Obj { map: m.clone(), at }),
            other => Err(bad(
                at,
                format!("{what} must be a JSON object, found {other}"),
            )),
        }
    }
    fn take(&mut self, k: &str) -> Option<Value> {
        self.map.remove(k)
    }
    fn finish(self, allowed: &str) -> Result<()> {
        match self.map.keys().next() {
            Some(k) => Err(bad(self.at, format!("unknown field '{k}' ({allowed})"))),
            None => Ok(()),
        }
    }
}

fn int_of(at: &str, key: &str, v: &Value) -> Result<i64> {
    match v {
        Value::Number(n) => n
            .to_string()
            .parse::<i64>()
            .map_err(|_| bad(at, format!("'{key}' must be an integer, found {n}"))),
        _ => Err(bad(at, format!("'{key}' must be an integer, found {v}"))),
    }
}

fn float_of(at: &str, key: &str, v: &Value) -> Result<f64> {
    crate::init::json_float(v).ok_or_else(|| {
        bad(
            at,
            format!("'{key}' must be a number (or \"inf\", \"-inf\", \"nan\"), found {v}"),
        )
    })
}

fn str_of(at: &str, key: &str, v: &Value) -> Result<String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        _ => Err(bad(at, format!("'{key}' must be a string, found {v}"))),
    }
}

fn ints_of(at: &str, key: &str, v: &Value) -> Result<Vec<i64>> {
    match v {
        Value::Array(items) => items.iter().map(|x| int_of(at, key, x)).collect(),
        _ => Ok(vec![int_of(at, key, v).map_err(|_| {
            bad(
                at,
                format!("'{key}' must be an integer or a list of integers, found {v}"),
            )
        })?]),
    }
}

fn dtype_of(at: &str, v: &Value) -> Result<DType> {
    match v {
        Value::String(s) => DType::parse(s).map_err(|_| bad(at, format!("unknown dtype '{s}'"))),
        _ => Err(bad(at, format!("'dtype' must be a string, found {v}"))),
    }
}

struct Parser<'a> {
    classes: &'a Map<String, Value>,
    dtype: DType,
    /// Described classes being expanded (to find a class that contains itself).
    stack: Vec<String>,
}

impl Parser<'_> {
    fn children(&mut self, v: Value, at: &str, class: &str) -> Result<Vec<Node>> {
        let Value::Array(items) = v else {
            return Err(bad(at, format!("'modules' must be a list, found {v}")));
        };
        let auto_names = matches!(class, "Sequential" | "ModuleList");
        let mut out: Vec<Node> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let label = item
                .get("name")
                .and_then(Value::as_str)
                .map(|n| format!(" '{n}'"))
                .unwrap_or_default();
            let at_i = format!("{at}.modules[{i}]{label}");
            let mut repeat = 1;
            let mut item = item.clone();
            if let Value::Object(m) = &mut item {
                if let Some(r) = m.remove("repeat") {
                    if !auto_names {
                        return Err(bad(
                            &at_i,
                            "'repeat' is allowed only in Sequential and ModuleList",
                        ));
                    }
                    repeat = int_of(&at_i, "repeat", &r)?;
                    if repeat < 0 {
                        return Err(bad(&at_i, "'repeat' must not be negative"));
                    }
                }
            }
            for _ in 0..repeat {
                let index_name = out.len().to_string();
                let mut node = self.node(&item, &at_i, auto_names && class == "ModuleList")?;
                if node.name.is_empty() {
                    if !auto_names {
                        return Err(bad(
                            &at_i,
                            format!("missing 'name' (children of {class} are named)"),
                        ));
                    }
                    node.name = index_name;
                } else if auto_names && repeat != 1 {
                    return Err(bad(&at_i, "a repeated module cannot have a 'name'"));
                }
                if matches!(node.kind, NodeKind::Tensor { .. })
                    && class != "Module"
                    && !self.is_described(class)
                {
                    return Err(bad(
                        &at_i,
                        format!("a {class} cannot hold a Parameter or Buffer"),
                    ));
                }
                if node.name.contains('.') || node.name.is_empty() {
                    return Err(bad(
                        &at_i,
                        format!("bad name '{}' (no dots, not empty)", node.name),
                    ));
                }
                if out.iter().any(|o| o.name == node.name) {
                    return Err(bad(&at_i, format!("duplicate name '{}'", node.name)));
                }
                out.push(node);
            }
        }
        Ok(out)
    }

    fn is_described(&self, class: &str) -> bool {
        self.classes.contains_key(class)
    }

    fn node(&mut self, v: &Value, at: &str, forbid_name: bool) -> Result<Node> {
        let mut o = Obj::new(v, at, "a module")?;
        let name = match o.take("name") {
            None => String::new(),
            Some(Value::String(s)) if !forbid_name => s,
            Some(Value::String(_)) => {
                return Err(bad(
                    at,
                    "children of a ModuleList are numbered; drop 'name'",
                ))
            }
            Some(other) => return Err(bad(at, format!("'name' must be a string, found {other}"))),
        };
        let class = match o.take("module") {
            Some(Value::String(s)) => s.strip_prefix("nn.").map(str::to_string).unwrap_or(s),
            Some(other) => {
                return Err(bad(at, format!("'module' must be a string, found {other}")))
            }
            None => return Err(bad(at, "missing field 'module'")),
        };
        let kind = self.kind(&class, &mut o, at)?;
        o.finish(&format!("not an argument of {class}"))?;
        Ok(Node {
            name,
            at: at.to_string(),
            kind,
        })
    }

    fn kind(&mut self, class: &str, o: &mut Obj<'_>, at: &str) -> Result<NodeKind> {
        if let Some(t) = table(class) {
            let mut args = Vec::with_capacity(t.len());
            for &(key, kind, def) in t {
                let v = match o.take(key) {
                    None => match def {
                        Def::Req => {
                            return Err(bad(at, format!("{class}: missing argument '{key}'")));
                        }
                        Def::None => ArgValue::None,
                        Def::Int(i) if kind == Kind::Ints || kind == Kind::Padding => {
                            ArgValue::Ints(vec![i])
                        }
                        Def::Int(i) => ArgValue::Int(i),
                        Def::Float(x) => ArgValue::Float(x),
                        Def::Bool(b) => ArgValue::Bool(b),
                        Def::Str(s) => ArgValue::Str(s.to_string()),
                    },
                    Some(v) => self.arg(at, key, kind, &v)?,
                };
                args.push((key, v));
            }
            let dtype = if takes_dtype(class) {
                match o.take("dtype") {
                    None | Some(Value::Null) => self.dtype,
                    Some(v) => dtype_of(at, &v)?,
                }
            } else {
                self.dtype
            };
            return Ok(NodeKind::Builtin {
                class: class.to_string(),
                args,
                dtype,
            });
        }
        if STATELESS_CLASSES.contains(&class) {
            o.map.clear();
            return Ok(NodeKind::Container {
                class: class.to_string(),
                children: Vec::new(),
            });
        }
        match class {
            "Parameter" | "Buffer" => {
                let buffer = class == "Buffer";
                let size = ints_of(
                    at,
                    "size",
                    &o.take("size")
                        .ok_or_else(|| bad(at, "missing field 'size'"))?,
                )?;
                let init = match o.take("init") {
                    None => "zeros".to_string(),
                    Some(v) => str_of(at, "init", &v)?,
                };
                if !["zeros", "ones", "rand", "randn"].contains(&init.as_str()) {
                    return Err(bad(
                        at,
                        format!("unknown tensor init '{init}' (zeros, ones, rand, randn)"),
                    ));
                }
                let persistent = match o.take("persistent") {
                    None => true,
                    Some(Value::Bool(b)) if buffer => b,
                    Some(v) => {
                        return Err(bad(
                            at,
                            format!("'persistent' must be true or false on a Buffer, found {v}"),
                        ))
                    }
                };
                let dtype = match o.take("dtype") {
                    None | Some(Value::Null) => self.dtype,
                    Some(v) => dtype_of(at, &v)?,
                };
                Ok(NodeKind::Tensor {
                    buffer,
                    persistent,
                    size,
                    init,
                    dtype,
                })
            }
            "Sequential" | "ModuleList" | "ModuleDict" | "Module" => {
                let children = match o.take("modules") {
                    Some(v) => self.children(v, at, class)?,
                    None => Vec::new(),
                };
                Ok(NodeKind::Container {
                    class: class.to_string(),
                    children,
                })
            }
            _ if self.classes.contains_key(class) => {
                if self.stack.iter().any(|c| c == class) {
                    let mut cycle = self.stack.clone();
                    cycle.push(class.to_string());
                    return Err(bad(at, format!("class cycle: {}", cycle.join(" -> "))));
                }
                let body = self.classes[class].clone();
                self.stack.push(class.to_string());
                let children = self.children(body, &format!("classes.{class}"), class);
                self.stack.pop();
                Ok(NodeKind::Container {
                    class: class.to_string(),
                    children: children?,
                })
            }
            _ => Err(bad(at, format!("unknown module '{class}'"))),
        }
    }

    fn arg(&mut self, at: &str, key: &str, kind: Kind, v: &Value) -> Result<ArgValue> {
        Ok(match kind {
            Kind::OptInt | Kind::OptFloat | Kind::OptNode if v.is_null() => ArgValue::None,
            Kind::Int | Kind::OptInt => ArgValue::Int(int_of(at, key, v)?),
            Kind::Float | Kind::OptFloat => ArgValue::Float(float_of(at, key, v)?),
            Kind::Bool => match v {
                Value::Bool(b) => ArgValue::Bool(*b),
                _ => return Err(bad(at, format!("'{key}' must be true or false, found {v}"))),
            },
            Kind::Str => ArgValue::Str(str_of(at, key, v)?),
            Kind::Ints => ArgValue::Ints(ints_of(at, key, v)?),
            Kind::Padding => match v {
                Value::String(s) if s == "same" || s == "valid" => ArgValue::Str(s.clone()),
                Value::String(s) => {
                    return Err(bad(
                        at,
                        format!("invalid padding string '{s}' (same or valid)"),
                    ))
                }
                _ => ArgValue::Ints(ints_of(at, key, v)?),
            },
            Kind::Node | Kind::OptNode => {
                ArgValue::Node(Box::new(self.node(v, &format!("{at}.{key}"), false)?))
            }
        })
    }
}

impl crate::init::ArgSource for Obj<'_> {
    fn float(&mut self, key: &str) -> Result<Option<f64>> {
        self.take(key)
            .map(|v| float_of(self.at, key, &v))
            .transpose()
    }

    fn int(&mut self, key: &str) -> Result<Option<i64>> {
        self.take(key).map(|v| int_of(self.at, key, &v)).transpose()
    }

    fn string(&mut self, key: &str) -> Result<Option<String>> {
        self.take(key).map(|v| str_of(self.at, key, &v)).transpose()
    }

    fn error(&self, reason: String) -> Error {
        bad(self.at, reason)
    }
}

fn parse_init(v: &Value, at: &str) -> Result<InitFn> {
    let mut o = Obj::new(v, at, "an init")?;
    let f = match o.take("fn") {
        Some(v) => str_of(at, "fn", &v)?,
        None => return Err(bad(at, "missing field 'fn'")),
    };
    let init = InitCall::read(&f, &mut o).map_err(|e| match e {
        Error::InvalidArgument { op, reason } => bad(at, format!("{op}: {reason}")),
        other => other,
    })?;
    let Some(init) = init else {
        let names: Vec<&str> = crate::init::INIT_FUNCTIONS.iter().map(|f| f.name).collect();
        return Err(bad(
            at,
            format!("unknown init function '{f}' ({})", names.join(", ")),
        ));
    };
    o.finish(&format!("not an argument of {f}"))?;
    Ok(init)
}

fn parse_pass(v: &Value, at: &str) -> Result<Pass> {
    let mut o = Obj::new(v, at, "an init pass")?;
    if let Some(rules) = o.take("apply") {
        let Value::Array(rules) = rules else {
            return Err(bad(at, "'apply' must be a list of rules"));
        };
        let mut out = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            let at_r = format!("{at}.apply[{i}]");
            let mut ro = Obj::new(r, &at_r, "a rule")?;
            let classes = match ro.take("module") {
                Some(Value::String(s)) => vec![s],
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|c| str_of(&at_r, "module", c))
                    .collect::<Result<Vec<_>>>()?,
                Some(v) => {
                    return Err(bad(
                        &at_r,
                        format!("'module' must be a class name or a list, found {v}"),
                    ))
                }
                None => return Err(bad(&at_r, "missing field 'module'")),
            };
            let classes: Vec<String> = classes
                .into_iter()
                .map(|c| c.strip_prefix("nn.").map(str::to_string).unwrap_or(c))
                .collect();
            let mut inits = Vec::new();
            match ro.take("init") {
                None => {}
                Some(Value::Object(m)) => {
                    for (pname, iv) in &m {
                        inits.push((
                            pname.clone(),
                            parse_init(iv, &format!("{at_r}.init.{pname}"))?,
                        ));
                    }
                }
                Some(v) => {
                    return Err(bad(
                        &at_r,
                        format!("'init' must map parameter names to inits, found {v}"),
                    ))
                }
            }
            let zero_padding_idx = match ro.take("zero_padding_idx") {
                None => false,
                Some(Value::Bool(b)) => b,
                Some(v) => {
                    return Err(bad(
                        &at_r,
                        format!("'zero_padding_idx' must be true or false, found {v}"),
                    ))
                }
            };
            ro.finish("a rule has module, init, zero_padding_idx")?;
            out.push(Rule {
                classes,
                inits,
                zero_padding_idx,
            });
        }
        o.finish("an apply pass has only 'apply'")?;
        return Ok(Pass::Apply(out));
    }
    if let Some(sel) = o.take("named_parameters") {
        let at_s = format!("{at}.named_parameters");
        let mut so = Obj::new(&sel, &at_s, "'named_parameters'")?;
        let name = so
            .take("name")
            .map(|v| str_of(&at_s, "name", &v))
            .transpose()?;
        let endswith = so
            .take("endswith")
            .map(|v| str_of(&at_s, "endswith", &v))
            .transpose()?;
        let min_dim = so
            .take("min_dim")
            .map(|v| int_of(&at_s, "min_dim", &v))
            .transpose()?;
        so.finish("a selection has name, endswith, min_dim")?;
        let init = match o.take("init") {
            Some(v) => parse_init(&v, &format!("{at}.init"))?,
            None => return Err(bad(at, "missing field 'init'")),
        };
        o.finish("a named_parameters pass has named_parameters and init")?;
        return Ok(Pass::Parameters {
            name,
            endswith,
            min_dim,
            init,
        });
    }
    if let Some(name) = o.take("tie") {
        let name = str_of(at, "tie", &name)?;
        let to = match o.take("to") {
            Some(v) => str_of(at, "to", &v)?,
            None => return Err(bad(at, "missing field 'to' (the parameter 'tie' becomes)")),
        };
        o.finish("a tie has tie and to")?;
        return Ok(Pass::Tie {
            name,
            to,
            at: at.to_string(),
        });
    }
    Err(bad(
        at,
        "an init pass has 'apply', 'named_parameters' or 'tie'",
    ))
}

impl ModelDesc {
    /// Parses a description (a JSON object with `format`, optional `dtype`, optional `classes`,
    /// `modules` and optional `init`).
    ///
    /// # Errors
    /// [`Error::CaseFile`] naming the place in the description.
    pub fn from_json(v: &Value) -> Result<ModelDesc> {
        let at = "model";
        let mut o = Obj::new(v, at, "a model description")?;
        match o.take("format") {
            Some(Value::String(s)) if s == MODEL_FORMAT => {}
            Some(v) => {
                return Err(bad(
                    at,
                    format!("'format' must be \"{MODEL_FORMAT}\", found {v}"),
                ))
            }
            None => {
                return Err(bad(
                    at,
                    format!("missing field 'format' (\"{MODEL_FORMAT}\")"),
                ))
            }
        }
        let dtype = match o.take("dtype") {
            None | Some(Value::Null) => DType::Float32,
            Some(v) => dtype_of(at, &v)?,
        };
        let classes = match o.take("classes") {
            None => Map::new(),
            Some(Value::Object(m)) => m,
            Some(v) => return Err(bad(at, format!("'classes' must be an object, found {v}"))),
        };
        for k in classes.keys() {
            if table(k).is_some()
                || STATELESS_CLASSES.contains(&k.as_str())
                || [
                    "Sequential",
                    "ModuleList",
                    "ModuleDict",
                    "Module",
                    "Parameter",
                    "Buffer",
                ]
                .contains(&k.as_str())
            {
                return Err(bad(
                    &format!("classes.{k}"),
                    "a described class cannot reuse a built-in name",
                ));
            }
        }
        let modules = o
            .take("modules")
            .ok_or_else(|| bad(at, "missing field 'modules'"))?;
        let mut p = Parser {
            classes: &classes,
            dtype,
            stack: Vec::new(),
        };
        let root = p.children(modules, at, "Module")?;
        // A class that is never used is still checked (and cannot be cyclic).
        for k in classes.keys() {
            p.stack.clear();
            p.kind(
                k,
                &mut Obj {
                    map: Map::new(),
                    at: "",
                },
                &format!("classes.{k}"),
            )?;
        }
        let passes = match o.take("init") {
            None => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, v)| parse_pass(v, &format!("init[{i}]")))
                .collect::<Result<Vec<_>>>()?,
            Some(v) => {
                return Err(bad(
                    at,
                    format!("'init' must be a list of passes, found {v}"),
                ))
            }
        };
        // A tie is applied as a copy of the final tensor, so nothing may redraw either side after
        // it (PyTorch would redraw both: they are one tensor there).
        if let Some(i) = passes.iter().position(|p| matches!(p, Pass::Tie { .. })) {
            if let Some(j) = passes[i..]
                .iter()
                .position(|p| !matches!(p, Pass::Tie { .. }))
            {
                return Err(bad(
                    &format!("init[{}]", i + j),
                    "ties must come after every other init pass",
                ));
            }
        }
        o.finish("a model has format, dtype, classes, modules, init")?;
        Ok(ModelDesc {
            root,
            passes,
            single: false,
        })
    }

    /// Parses a description from JSON text.
    ///
    /// # Errors
    /// Invalid JSON, or as [`ModelDesc::from_json`].
    pub fn parse(text: &str) -> Result<ModelDesc> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| bad("model", format!("not valid JSON: {e}")))?;
        ModelDesc::from_json(&v)
    }

    /// A description of one built-in module (`class` as PyTorch spells it, without `nn.`) with
    /// the given constructor arguments: what a case step `nn.<class>` builds.
    ///
    /// # Errors
    /// [`Error::CaseFile`] at `at` for an unknown class or a bad argument.
    pub fn single(class: &str, args: Map<String, Value>, at: &str) -> Result<ModelDesc> {
        if table(class).is_none() {
            return Err(bad(at, format!("unknown module '{class}'")));
        }
        let mut m = args;
        m.insert("module".into(), Value::String(class.into()));
        let empty = Map::new();
        let mut p = Parser {
            classes: &empty,
            dtype: DType::Float32,
            stack: Vec::new(),
        };
        let node = p.node(&Value::Object(m), at, false)?;
        Ok(ModelDesc {
            root: vec![node],
            passes: Vec::new(),
            single: true,
        })
    }

    /// Builds the model: every module in description order (drawing as PyTorch's constructors
    /// draw), then lazy modules materialised in description order, then the init passes.
    ///
    /// # Errors
    /// Whatever a constructor or an init rejects (PyTorch raises there too).
    pub fn build(&self, g: &mut CpuGenerator, cx: Context) -> Result<Module> {
        self.build_with_progress(g, cx, &mut |_, _| {})
    }

    /// [`ModelDesc::build`], calling `progress(done, total)` after each module with parameters
    /// (built-in or `Parameter`/`Buffer`) and after each init pass.
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn build_with_progress(
        &self,
        g: &mut CpuGenerator,
        cx: Context,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Module> {
        let total = self.root.iter().map(count_leaves).sum::<usize>() + self.passes.len();
        let mut p = Progress {
            done: 0,
            total,
            f: progress,
        };
        let mut lazies = Vec::new();
        let mut root = Module::new("Module");
        for n in &self.root {
            build_into(&mut root, n, g, cx, &mut lazies, &mut Vec::new(), &mut p)?;
        }
        for (path, in_f, out_f, bias, dtype) in lazies {
            let name = name_at(&root, &path);
            let m = scoped(&name, || lazy_linear(g, in_f, out_f, bias, dtype, cx))?;
            *module_at(&mut root, &path) = m;
        }
        for pass in &self.passes {
            run_pass(&mut root, pass, g, cx)?;
            p.step();
        }
        Ok(root)
    }

    /// [`ModelDesc::build`], then the `state_dict`. For a single-module description the names
    /// are the module's own (`weight`, not `0.weight`).
    ///
    /// # Errors
    /// As [`ModelDesc::build`].
    pub fn state_dict(&self, g: &mut CpuGenerator, cx: Context) -> Result<StateDict> {
        let mut root = self.build(g, cx)?;
        if self.single {
            if let Some((_, m)) = root.children.pop() {
                return Ok(m.into_state_dict());
            }
        }
        Ok(root.into_state_dict())
    }
}

type Lazy = (Vec<usize>, i64, i64, bool, DType);

struct Progress<'a> {
    done: usize,
    total: usize,
    f: &'a mut dyn FnMut(usize, usize),
}

impl Progress<'_> {
    fn step(&mut self) {
        self.done += 1;
        (self.f)(self.done, self.total);
    }
}

fn count_leaves(n: &Node) -> usize {
    match &n.kind {
        NodeKind::Container { children, .. } => children.iter().map(count_leaves).sum(),
        _ => 1,
    }
}

/// The dotted name of the module at `path` (child indices from `root`).
fn name_at(root: &Module, path: &[usize]) -> String {
    let mut m = root;
    let mut parts = Vec::new();
    for &i in path {
        parts.push(m.children[i].0.as_str());
        m = &m.children[i].1;
    }
    parts.join(".")
}

fn module_at<'a>(root: &'a mut Module, path: &[usize]) -> &'a mut Module {
    let mut m = root;
    for &i in path {
        m = &mut m.children[i].1;
    }
    m
}

fn build_into(
    parent: &mut Module,
    n: &Node,
    g: &mut CpuGenerator,
    cx: Context,
    lazies: &mut Vec<Lazy>,
    path: &mut Vec<usize>,
    progress: &mut Progress<'_>,
) -> Result<()> {
    match &n.kind {
        NodeKind::Tensor {
            buffer,
            persistent,
            size,
            init,
            dtype,
        } => {
            let before = snapshot(g);
            let t = match init.as_str() {
                "rand" => ops::rand(g, size, *dtype, cx)?,
                "randn" => ops::randn(g, size, *dtype, cx)?,
                other => {
                    let mut t = Tensor::zeros_checked("torch.zeros", size, *dtype)?;
                    if other == "ones" {
                        t.storage_mut().fill_f64(1.0);
                    }
                    t
                }
            };
            let law = match init.as_str() {
                "rand" => "U(0, 1)",
                "randn" => "N(0, 1)",
                "ones" => "fill with 1.0",
                _ => "fill with 0.0",
            };
            note_step(
                &n.name,
                &t,
                &format!(
                    "torch.{init}({size:?}, dtype=torch.{dtype}){}",
                    if *buffer {
                        " (a buffer)"
                    } else {
                        " (an nn.Parameter)"
                    }
                ),
                law,
                words_since(before.as_ref(), g),
            );
            if *buffer {
                if *persistent {
                    parent.buffers.push((n.name.clone(), t));
                }
            } else {
                super::check_param_dtype("nn.Parameter", *dtype)?;
                parent.params.push((n.name.clone(), t));
            }
            progress.step();
            Ok(())
        }
        NodeKind::Container { class, children } => {
            let mut m = Module::new(class.clone());
            path.push(parent.children.len());
            scoped(&n.name, || {
                for c in children {
                    build_into(&mut m, c, g, cx, lazies, path, progress)?;
                }
                Ok::<(), Error>(())
            })?;
            path.pop();
            parent.children.push((n.name.clone(), m));
            Ok(())
        }
        NodeKind::Builtin { class, .. } => {
            if class == "LazyLinear" {
                let (in_f, out_f, bias, dtype) = lazy_args(n);
                let mut p = path.clone();
                p.push(parent.children.len());
                lazies.push((p, in_f, out_f, bias, dtype));
                parent
                    .children
                    .push((n.name.clone(), Module::new("LazyLinear")));
                progress.step();
                return Ok(());
            }
            let m = scoped(&n.name, || build_builtin(n, g, cx))?;
            parent.children.push((n.name.clone(), m));
            progress.step();
            Ok(())
        }
    }
}

fn lazy_args(n: &Node) -> (i64, i64, bool, DType) {
    let NodeKind::Builtin { args, dtype, .. } = &n.kind else {
        unreachable!("lazy_args on a builtin node")
    };
    let a = Args(args);
    (
        a.int("in_features"),
        a.int("out_features"),
        a.bool("bias"),
        *dtype,
    )
}

struct Args<'a>(&'a [(&'static str, ArgValue)]);

impl Args<'_> {
    fn get(&self, k: &str) -> &ArgValue {
        // Every key looked up here is in the class's table, so it was filled at parse time.
        &self
            .0
            .iter()
            .find(|(n, _)| *n == k)
            .expect("argument in table")
            .1
    }
    fn int(&self, k: &str) -> i64 {
        match self.get(k) {
            ArgValue::Int(i) => *i,
            _ => 0,
        }
    }
    fn opt_int(&self, k: &str) -> Option<i64> {
        match self.get(k) {
            ArgValue::Int(i) => Some(*i),
            _ => None,
        }
    }
    fn float(&self, k: &str) -> f64 {
        match self.get(k) {
            ArgValue::Float(x) => *x,
            _ => 0.0,
        }
    }
    fn bool(&self, k: &str) -> bool {
        matches!(self.get(k), ArgValue::Bool(true))
    }
    fn str(&self, k: &str) -> &str {
        match self.get(k) {
            ArgValue::Str(s) => s,
            _ => "",
        }
    }
    fn ints(&self, k: &str, dims: usize) -> Vec<i64> {
        match self.get(k) {
            // An int is repeated (`_pair(3)`); a list is kept as given, as `_ntuple` keeps it.
            ArgValue::Ints(v) if v.len() == 1 && dims > 1 => vec![v[0]; dims],
            ArgValue::Ints(v) => v.clone(),
            _ => Vec::new(),
        }
    }
    fn node(&self, k: &str) -> Option<&Node> {
        match self.get(k) {
            ArgValue::Node(n) => Some(n),
            _ => None,
        }
    }
}

fn layer_opts(a: &Args<'_>) -> TransformerLayerOptions {
    TransformerLayerOptions {
        d_model: a.int("d_model"),
        nhead: a.int("nhead"),
        dim_feedforward: a.int("dim_feedforward"),
        activation: a.str("activation").to_string(),
        bias: a.bool("bias"),
    }
}

fn build_builtin(n: &Node, g: &mut CpuGenerator, cx: Context) -> Result<Module> {
    let NodeKind::Builtin { class, args, dtype } = &n.kind else {
        return Err(bad(&n.at, "not a built-in module"));
    };
    let a = Args(args);
    let d = *dtype;
    let cls = class.as_str();
    match cls {
        "Linear" => linear_module(
            g,
            a.int("in_features"),
            a.int("out_features"),
            a.bool("bias"),
            d,
            cx,
        ),
        "LazyLinear" => lazy_linear(
            g,
            a.int("in_features"),
            a.int("out_features"),
            a.bool("bias"),
            d,
            cx,
        ),
        "Bilinear" => bilinear(
            g,
            a.int("in1_features"),
            a.int("in2_features"),
            a.int("out_features"),
            a.bool("bias"),
            d,
            cx,
        ),
        "Identity" => Ok(identity()),
        "Conv1d" | "Conv2d" | "Conv3d" | "ConvTranspose1d" | "ConvTranspose2d"
        | "ConvTranspose3d" => {
            let transposed = cls.starts_with("ConvTranspose");
            let dims = usize::from(cls.as_bytes()[cls.len() - 2] - b'0');
            let padding = match a.get("padding") {
                ArgValue::Str(s) if s == "same" => Padding::Same,
                ArgValue::Str(_) => Padding::Valid,
                _ => Padding::Explicit(a.ints("padding", dims)),
            };
            let opts = ConvOptions {
                transposed,
                stride: a.ints("stride", dims),
                padding,
                groups: a.int("groups"),
                bias: a.bool("bias"),
                padding_mode: a.str("padding_mode").to_string(),
            };
            conv(
                g,
                dims,
                a.int("in_channels"),
                a.int("out_channels"),
                &a.ints("kernel_size", dims),
                &opts,
                d,
                cx,
            )
        }
        "Embedding" => embedding(
            g,
            a.int("num_embeddings"),
            a.int("embedding_dim"),
            a.opt_int("padding_idx"),
            d,
            cx,
        ),
        "EmbeddingBag" => embedding_bag(
            g,
            a.int("num_embeddings"),
            a.int("embedding_dim"),
            a.opt_int("padding_idx"),
            d,
            cx,
        ),
        "RNN" | "LSTM" | "GRU" => {
            let mode = match cls {
                "LSTM" => RnnMode::Lstm,
                "GRU" => RnnMode::Gru,
                _ => match a.str("nonlinearity") {
                    "tanh" => RnnMode::RnnTanh,
                    "relu" => RnnMode::RnnRelu,
                    other => {
                        return Err(Error::arg(
                            "nn.RNN",
                            format!(
                                "Unknown nonlinearity '{other}'. Select from 'tanh' or 'relu'."
                            ),
                        ))
                    }
                },
            };
            let opts = RnnOptions {
                num_layers: a.int("num_layers"),
                bias: a.bool("bias"),
                dropout: a.float("dropout"),
                bidirectional: a.bool("bidirectional"),
                proj_size: if cls == "LSTM" { a.int("proj_size") } else { 0 },
            };
            rnn(
                g,
                mode,
                a.int("input_size"),
                a.int("hidden_size"),
                &opts,
                d,
                cx,
            )
        }
        "RNNCell" | "LSTMCell" | "GRUCell" => {
            let mode = match cls {
                "LSTMCell" => RnnMode::Lstm,
                "GRUCell" => RnnMode::Gru,
                _ => RnnMode::RnnTanh,
            };
            rnn_cell(
                g,
                mode,
                a.int("input_size"),
                a.int("hidden_size"),
                a.bool("bias"),
                d,
                cx,
            )
        }
        "MultiheadAttention" => multihead_attention(
            g,
            a.int("embed_dim"),
            a.int("num_heads"),
            a.bool("bias"),
            a.bool("add_bias_kv"),
            a.opt_int("kdim"),
            a.opt_int("vdim"),
            d,
            cx,
        ),
        "TransformerEncoderLayer" => transformer_encoder_layer(g, &layer_opts(&a), d, cx),
        "TransformerDecoderLayer" => transformer_decoder_layer(g, &layer_opts(&a), d, cx),
        "TransformerEncoder" | "TransformerDecoder" => {
            let key = if cls == "TransformerEncoder" {
                "encoder_layer"
            } else {
                "decoder_layer"
            };
            let layer_node = a
                .node(key)
                .ok_or_else(|| bad(&n.at, format!("missing '{key}'")))?;
            let layer = scoped("layers.*", || build_sub(layer_node, g, cx))?;
            let norm = match a.node("norm") {
                Some(nn) => Some(scoped("norm", || build_sub(nn, g, cx))?),
                None => None,
            };
            Ok(if cls == "TransformerEncoder" {
                transformer_encoder(&layer, a.int("num_layers"), norm)
            } else {
                transformer_decoder(&layer, a.int("num_layers"), norm)
            })
        }
        "Transformer" => {
            let opts = TransformerOptions {
                layer: layer_opts(&a),
                num_encoder_layers: a.int("num_encoder_layers"),
                num_decoder_layers: a.int("num_decoder_layers"),
            };
            transformer(g, &opts, d, cx)
        }
        "LayerNorm" => layer_norm(
            &a.ints("normalized_shape", 1),
            a.bool("elementwise_affine"),
            a.bool("bias"),
            d,
        ),
        "RMSNorm" => rms_norm(
            &a.ints("normalized_shape", 1),
            a.bool("elementwise_affine"),
            d,
        ),
        "BatchNorm1d" | "BatchNorm2d" | "BatchNorm3d" => batch_norm(
            cls,
            a.int("num_features"),
            a.bool("affine"),
            a.bool("track_running_stats"),
            a.bool("bias"),
            d,
        ),
        "InstanceNorm1d" | "InstanceNorm2d" | "InstanceNorm3d" => instance_norm(
            cls,
            a.int("num_features"),
            a.bool("affine"),
            a.bool("track_running_stats"),
            d,
        ),
        "GroupNorm" => group_norm(
            a.int("num_groups"),
            a.int("num_channels"),
            a.bool("affine"),
            a.bool("bias"),
            d,
        ),
        "PReLU" => prelu(a.int("num_parameters"), a.float("init"), d),
        _ => Err(bad(&n.at, format!("unknown module '{cls}'"))),
    }
}

/// A module given as an argument (`encoder_layer`, `norm`): built on its own, not registered.
fn build_sub(n: &Node, g: &mut CpuGenerator, cx: Context) -> Result<Module> {
    let mut holder = Module::new("Module");
    let mut lazies = Vec::new();
    let mut quiet = |_: usize, _: usize| {};
    let mut p = Progress {
        done: 0,
        total: 0,
        f: &mut quiet,
    };
    build_into(&mut holder, n, g, cx, &mut lazies, &mut Vec::new(), &mut p)?;
    if !lazies.is_empty() {
        return Err(Error::unsupported(
            "a lazy module given as a constructor argument",
        ));
    }
    Ok(holder
        .children
        .pop()
        .map_or_else(|| Module::new("Module"), |(_, m)| m))
}

fn apply_init(
    g: &mut CpuGenerator,
    name: &str,
    t: &mut Tensor,
    f: &InitFn,
    cx: Context,
) -> Result<()> {
    init_param(g, name, t, ParamInit::new(f.clone()), cx)
}

/// The module at a dotted path and the last segment (`lm_head.weight` gives `lm_head`, `weight`).
fn owner<'a>(root: &'a mut Module, name: &'a str) -> Option<(&'a mut Module, &'a str)> {
    let (path, attr) = name.rsplit_once('.').unwrap_or(("", name));
    let mut m = root;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        m = &mut m.children.iter_mut().find(|(n, _)| n == part)?.1;
    }
    Some((m, attr))
}

/// A tie: the parameter `name` becomes a copy of the parameter `to` (the same tensor in
/// PyTorch; both names stay in the `state_dict`).
fn tie(root: &mut Module, name: &str, to: &str, at: &str) -> Result<()> {
    let missing = |n: &str| bad(at, format!("tie: no parameter '{n}' in the model"));
    let t = owner(root, to)
        .and_then(|(m, attr)| m.param_mut(attr))
        .ok_or_else(|| missing(to))?
        .clone();
    let slot = owner(root, name)
        .and_then(|(m, attr)| m.param_mut(attr))
        .ok_or_else(|| missing(name))?;
    *slot = t;
    note_step(
        name,
        slot,
        &format!("{name} = {to} (tied: one tensor under both names)"),
        &format!("the final value of {to}"),
        Some(0),
    );
    Ok(())
}

/// `module.apply(f)` (children first, then the module) with each module's dotted prefix
/// (`h.0.attn.`, empty for the root).
fn apply_named(
    m: &mut Module,
    prefix: &str,
    f: &mut dyn FnMut(&str, &mut Module) -> Result<()>,
) -> Result<()> {
    for (n, c) in &mut m.children {
        let p = if n.is_empty() {
            prefix.to_string()
        } else {
            format!("{prefix}{n}.")
        };
        apply_named(c, &p, f)?;
    }
    f(prefix, m)
}

fn run_pass(root: &mut Module, pass: &Pass, g: &mut CpuGenerator, cx: Context) -> Result<()> {
    match pass {
        Pass::Tie { name, to, at } => tie(root, name, to, at),
        Pass::Apply(rules) => apply_named(root, "", &mut |prefix, m: &mut Module| {
            let Some(rule) = rules
                .iter()
                .find(|r| r.classes.iter().any(|c| m.is_instance(c)))
            else {
                return Ok(());
            };
            for (pname, f) in &rule.inits {
                if let Some(p) = m.param_mut(pname) {
                    apply_init(g, &format!("{prefix}{pname}"), p, f, cx)?;
                }
            }
            if rule.zero_padding_idx {
                if let Some(row) = m.padding_idx {
                    if let Some(w) = m.param_mut("weight") {
                        zero_row(w, row);
                        note_step(
                            &format!("{prefix}weight"),
                            w,
                            &format!("weight[{row}].zero_() (the apply rule's zero_padding_idx)"),
                            &format!("row {row} set to zeros"),
                            Some(0),
                        );
                    }
                }
            }
            Ok(())
        }),
        Pass::Parameters {
            name,
            endswith,
            min_dim,
            init,
        } => root.for_each_parameter_mut(&mut |pn, p| {
            let hit = name.as_ref().is_none_or(|n| n == pn)
                && endswith.as_ref().is_none_or(|s| pn.ends_with(s.as_str()))
                && min_dim.is_none_or(|d| p.shape().len() as i64 >= d);
            if hit {
                apply_init(g, pn, p, init, cx)
            } else {
                Ok(())
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(text: &str) -> String {
        ModelDesc::parse(text).unwrap_err().to_string()
    }

    const NET: &str = r#"{"format": "torch-rng-model/1", "modules": [
        {"name": "conv1", "module": "Conv2d", "in_channels": 1, "out_channels": 6, "kernel_size": 5},
        {"name": "conv2", "module": "Conv2d", "in_channels": 6, "out_channels": 16, "kernel_size": 5},
        {"name": "fc1", "module": "Linear", "in_features": 400, "out_features": 120},
        {"name": "fc2", "module": "Linear", "in_features": 120, "out_features": 84},
        {"name": "fc3", "module": "Linear", "in_features": 84, "out_features": 10}]}"#;

    #[test]
    fn net_names_and_draws() {
        let d = ModelDesc::parse(NET).unwrap();
        let mut g = CpuGenerator::with_seed(1);
        let sd = d.state_dict(&mut g, Context::default()).unwrap();
        let names: Vec<&str> = sd.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names[..3], ["conv1.weight", "conv1.bias", "conv2.weight"]);
        assert_eq!(names.len(), 10);
        // The same draws as building the modules one after another.
        let mut g2 = CpuGenerator::with_seed(1);
        let c1 = conv(
            &mut g2,
            2,
            1,
            6,
            &[5, 5],
            &ConvOptions::default(),
            DType::Float32,
            Context::default(),
        )
        .unwrap();
        assert_eq!(sd[0].1, c1.params[0].1);
    }

    /// A tie puts the final `to` tensor under both names; ties must come last and name
    /// parameters that exist.
    #[test]
    fn ties() {
        let desc = |init: &str| {
            format!(
                r#"{{"format": "torch-rng-model/1", "modules": [
                {{"name": "wte", "module": "Embedding", "num_embeddings": 5, "embedding_dim": 3}},
                {{"name": "head", "module": "Linear", "in_features": 3, "out_features": 5,
                  "bias": false}}], "init": {init}}}"#
            )
        };
        let d = ModelDesc::parse(&desc(r#"[{"tie": "head.weight", "to": "wte.weight"}]"#)).unwrap();
        let mut g = CpuGenerator::with_seed(0);
        let sd = d.state_dict(&mut g, Context::default()).unwrap();
        assert_eq!(sd[1].0, "head.weight");
        assert_eq!(sd[0].1.bits(), sd[1].1.bits());
        // The Linear still drew its weight (15 words) before the tie replaced it; the 15
        // normals of the embedding take the per-element path (4 words per pair, 8 pairs).
        assert_eq!(g.engine().next_index(), 32 + 15);

        let e = parse_err(&desc(
            r#"[{"tie": "head.weight", "to": "wte.weight"},
                {"named_parameters": {"name": "wte.weight"}, "init": {"fn": "zeros_"}}]"#,
        ));
        assert!(
            e.contains("init[1]") && e.contains("ties must come after"),
            "{e}"
        );
        let e = parse_err(&desc(r#"[{"tie": "head.weight"}]"#));
        assert!(e.contains("missing field 'to'"), "{e}");
        let d = ModelDesc::parse(&desc(r#"[{"tie": "head.bias", "to": "wte.weight"}]"#)).unwrap();
        let e = d
            .state_dict(&mut CpuGenerator::with_seed(0), Context::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no parameter 'head.bias'"), "{e}");
    }

    #[test]
    fn bad_descriptions_name_the_place() {
        let e = parse_err(
            r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Linearr"}]}"#,
        );
        assert!(
            e.contains("modules[0] 'a'") && e.contains("unknown module"),
            "{e}"
        );
        let e = parse_err(
            r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Linear", "in_features": 3}]}"#,
        );
        assert!(e.contains("missing argument 'out_features'"), "{e}");
        let e = parse_err(
            r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Linear", "in_features": "3", "out_features": 2}]}"#,
        );
        assert!(e.contains("'in_features' must be an integer"), "{e}");
        let e = parse_err(
            r#"{"format": "torch-rng-model/1", "modules": [{"name": "a", "module": "Identity"}, {"name": "a", "module": "Identity"}]}"#,
        );
        assert!(
            e.contains("modules[1] 'a'") && e.contains("duplicate name"),
            "{e}"
        );
        let e = parse_err(
            r#"{"format": "torch-rng-model/1", "classes": {"A": [{"name": "b", "module": "B"}], "B": [{"name": "a", "module": "A"}]}, "modules": [{"name": "x", "module": "A"}]}"#,
        );
        assert!(e.contains("class cycle: A -> B -> A"), "{e}");
        let e = parse_err(
            r#"{"format": "torch-rng-model/1", "modules": [], "init": [{"apply": [{"module": "Linear", "init": {"weight": {"fn": "normal"}}}]}]}"#,
        );
        assert!(
            e.contains("init[0].apply[0].init.weight") && e.contains("unknown init function"),
            "{e}"
        );
    }
}
