//! The registry of `torch.nn` classes: each class is one type that declares its constructor
//! arguments once ([`Class::args`]: names, kinds, PyTorch's defaults) and builds itself
//! ([`Class::build`]); [`CLASSES`] lists them all. JSON descriptions, case steps `nn.<Class>`,
//! `explain`'s flags and the Python fixture tables (`tools/golden_ops/nn_classes.json`, generated
//! from here and checked by a test) all read that one declaration, as ripgrep's flag parser, help
//! and docs all read its one list of flags.
//!
//! Adding a module: one file with its type (the `nn_class!` macro declares the arguments and
//! writes the struct, its `new` and its setters) and its `build`, plus one line in [`CLASSES`].

use super::build::{Builder, NoRecorder};
use super::Module;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::torch::Torch;

/// The kind of value a constructor argument takes, as the JSON reader checks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A Python int.
    Int,
    /// A Python int or `None`.
    OptInt,
    /// A Python float (an int is accepted).
    Float,
    /// A Python float or `None`.
    OptFloat,
    /// `True` / `False`.
    Bool,
    /// A Python str.
    Str,
    /// An int or a tuple of ints (`kernel_size`, `normalized_shape`).
    Ints,
    /// Ints, or the strings `same` / `valid` (a convolution's `padding`).
    Padding,
    /// A module, constructed before this one (`encoder_layer`).
    Module,
    /// A module or `None`.
    OptModule,
}

impl ArgKind {
    /// The name the Python fixture tables use (`tools/golden_ops/common.py`, `KINDS`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            ArgKind::Int => "int",
            ArgKind::OptInt => "opt_int",
            ArgKind::Float => "float",
            ArgKind::OptFloat => "opt_float",
            ArgKind::Bool => "bool",
            ArgKind::Str => "str",
            ArgKind::Ints => "ints",
            ArgKind::Padding => "padding",
            ArgKind::Module => "node",
            ArgKind::OptModule => "opt_node",
        }
    }
}

/// An int or a tuple of ints, as `_ntuple` sees it: one int stands for every dimension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ints(pub Vec<i64>);

impl Ints {
    /// `_ntuple(dims)`: one int repeated `dims` times; a list is kept as given.
    #[must_use]
    pub fn expand(&self, dims: usize) -> Vec<i64> {
        match self.0.as_slice() {
            [one] if dims > 1 => vec![*one; dims],
            other => other.to_vec(),
        }
    }
}

impl From<i64> for Ints {
    fn from(v: i64) -> Ints {
        Ints(vec![v])
    }
}

impl<const N: usize> From<[i64; N]> for Ints {
    fn from(v: [i64; N]) -> Ints {
        Ints(v.to_vec())
    }
}

impl From<Vec<i64>> for Ints {
    fn from(v: Vec<i64>) -> Ints {
        Ints(v)
    }
}

impl From<&[i64]> for Ints {
    fn from(v: &[i64]) -> Ints {
        Ints(v.to_vec())
    }
}

/// A convolution's `padding` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Padding {
    /// Explicit padding per spatial dimension (does not affect the parameters).
    Explicit(Ints),
    /// `padding='same'` (refused with a stride other than 1, as PyTorch does).
    Same,
    /// `padding='valid'`.
    Valid,
}

impl<T: Into<Ints>> From<T> for Padding {
    fn from(v: T) -> Padding {
        Padding::Explicit(v.into())
    }
}

/// A constructor argument's value.
#[derive(Clone, Debug, PartialEq)]
pub enum ArgValue {
    /// An int.
    Int(i64),
    /// A float.
    Float(f64),
    /// A bool.
    Bool(bool),
    /// A str.
    Str(String),
    /// Ints.
    Ints(Ints),
    /// `same` / `valid` / ints.
    Padding(Padding),
    /// A constructed module.
    Module(Box<Module>),
    /// Python's `None`.
    None,
}

/// One constructor argument: name, kind and PyTorch's default.
#[derive(Clone, Debug, PartialEq)]
pub struct ArgSpec {
    /// Its Python name.
    pub name: &'static str,
    /// Its kind.
    pub kind: ArgKind,
    /// PyTorch's default; `None` when the argument is required.
    pub default: Option<ArgValue>,
    /// For a module argument: the name its draws are reported under (`layers.*`, since
    /// `TransformerEncoder` deep-copies its layer into `layers.0`, `layers.1`, ...).
    pub scope: &'static str,
}

/// A Rust type that holds a constructor argument.
pub trait ArgType: Sized + Clone {
    /// The kind the JSON reader checks.
    const KIND: ArgKind;
    /// The value as the registry passes it (`None` for a value of another kind).
    fn from_value(v: ArgValue) -> Option<Self>;
    /// The value as an [`ArgValue`].
    fn to_value(&self) -> ArgValue;
}

macro_rules! arg_type {
    ($t:ty, $kind:ident, $v:ident => $from:expr, $s:ident => $to:expr) => {
        impl ArgType for $t {
            const KIND: ArgKind = ArgKind::$kind;
            fn from_value($v: ArgValue) -> Option<Self> {
                $from
            }
            fn to_value(&self) -> ArgValue {
                let $s = self;
                $to
            }
        }
    };
}

arg_type!(i64, Int, v => match v { ArgValue::Int(i) => Some(i), _ => None }, s => ArgValue::Int(*s));
arg_type!(Option<i64>, OptInt, v => match v {
    ArgValue::Int(i) => Some(Some(i)),
    ArgValue::None => Some(None),
    _ => None,
}, s => s.map_or(ArgValue::None, ArgValue::Int));
arg_type!(f64, Float, v => match v {
    ArgValue::Float(x) => Some(x),
    ArgValue::Int(i) => Some(i as f64),
    _ => None,
}, s => ArgValue::Float(*s));
arg_type!(Option<f64>, OptFloat, v => match v {
    ArgValue::Float(x) => Some(Some(x)),
    ArgValue::Int(i) => Some(Some(i as f64)),
    ArgValue::None => Some(None),
    _ => None,
}, s => s.map_or(ArgValue::None, ArgValue::Float));
arg_type!(bool, Bool, v => match v { ArgValue::Bool(b) => Some(b), _ => None }, s => ArgValue::Bool(*s));
arg_type!(String, Str, v => match v { ArgValue::Str(t) => Some(t), _ => None }, s => ArgValue::Str(s.clone()));
arg_type!(Ints, Ints, v => match v { ArgValue::Ints(i) => Some(i), _ => None }, s => ArgValue::Ints(s.clone()));
arg_type!(Padding, Padding, v => match v {
    ArgValue::Padding(p) => Some(p),
    ArgValue::Ints(i) => Some(Padding::Explicit(i)),
    _ => None,
}, s => ArgValue::Padding(s.clone()));
arg_type!(Module, Module, v => match v { ArgValue::Module(m) => Some(*m), _ => None }, s => ArgValue::Module(Box::new(s.clone())));
arg_type!(Option<Module>, OptModule, v => match v {
    ArgValue::Module(m) => Some(Some(*m)),
    ArgValue::None => Some(None),
    _ => None,
}, s => s.as_ref().map_or(ArgValue::None, |m| ArgValue::Module(Box::new(m.clone()))));

/// Constructor arguments by name, in declaration order.
pub type ArgValues = Vec<(&'static str, ArgValue)>;

/// Takes the argument `name` out of `args` as a `T` (what `nn_class!`'s `from_args` does per
/// field).
///
/// # Errors
/// [`Error::CaseFile`] when it is missing or of another kind (the JSON reader checked both, so
/// only a hand-made [`ArgValues`] can fail here).
pub fn take_arg<T: ArgType>(class: &str, args: &mut ArgValues, name: &str) -> Result<T> {
    let i = args.iter().position(|(n, _)| *n == name);
    let v = i.map(|i| args.remove(i).1);
    v.and_then(T::from_value).ok_or_else(|| Error::CaseFile {
        location: format!("nn.{class}"),
        reason: format!("argument '{name}' missing or of the wrong kind"),
    })
}

/// A `torch.nn` class: its constructor's arguments and how it builds.
pub trait Class: Sized {
    /// PyTorch's class name (`Linear`).
    const NAME: &'static str;
    /// Whether the constructor takes `dtype=`.
    const TAKES_DTYPE: bool;

    /// The constructor's arguments in signature order (`dtype` excluded).
    fn args() -> Vec<ArgSpec>;

    /// The class from argument values (one per declared argument) and a dtype.
    ///
    /// # Errors
    /// A missing argument or one of the wrong kind.
    fn from_args(args: ArgValues, dtype: Option<DType>) -> Result<Self>;

    /// The arguments as values, in declaration order (for display and recorded programs).
    fn to_args(&self) -> ArgValues;

    /// Constructs the module through a [`Builder`] (its generator, build and recorder), drawing
    /// what PyTorch's constructor draws, in its order. Classes built inside others (a
    /// Transformer's layers) are constructed through the same builder.
    ///
    /// # Errors
    /// What PyTorch's constructor rejects.
    fn construct(&self, b: &mut Builder<'_>) -> Result<Module>;

    /// The module, drawing from `torch`'s generator: `nn.<Class>(...)` in a Python program (on a
    /// CUDA context, `nn.<Class>(..., device="cuda")`).
    ///
    /// ```
    /// use torch_rng::nn::{Class, Linear};
    /// use torch_rng::Torch;
    /// // torch.manual_seed(1); nn.Linear(3, 4)
    /// let m = Linear::new(3, 4).build(&mut Torch::with_seed(1))?;
    /// assert_eq!(m.state_dict()[0].1.bits()[0], 0x3e98_5043);
    /// # Ok::<(), torch_rng::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Class::construct`].
    fn build(&self, torch: &mut Torch) -> Result<Module> {
        // On a CUDA context the parameters are made on the device (`device="cuda"`).
        self.construct(&mut Builder::for_torch(torch, &mut NoRecorder))
    }
}

/// One entry of [`CLASSES`]: a class as the description reader and the case format see it.
#[derive(Clone, Copy)]
pub struct ClassEntry {
    /// PyTorch's class name.
    pub name: &'static str,
    /// The constructor's arguments.
    pub args: fn() -> Vec<ArgSpec>,
    /// Whether the constructor takes `dtype=`.
    pub takes_dtype: bool,
    build: fn(ArgValues, Option<DType>, &mut Builder<'_>) -> Result<Module>,
}

impl std::fmt::Debug for ClassEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClassEntry")
            .field("name", &self.name)
            .field("takes_dtype", &self.takes_dtype)
            .finish_non_exhaustive()
    }
}

impl ClassEntry {
    /// Builds the class from argument values.
    ///
    /// # Errors
    /// As [`Class::from_args`], then [`Class::build`].
    pub fn build(
        &self,
        args: ArgValues,
        dtype: Option<DType>,
        b: &mut Builder<'_>,
    ) -> Result<Module> {
        (self.build)(args, dtype, b)
    }

    /// The argument names the class accepts, `dtype` included where it takes one.
    #[must_use]
    pub fn argument_names(&self) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = (self.args)().iter().map(|a| a.name).collect();
        if self.takes_dtype {
            names.push("dtype");
        }
        names
    }
}

fn build_dyn<C: Class>(
    args: ArgValues,
    dtype: Option<DType>,
    b: &mut Builder<'_>,
) -> Result<Module> {
    C::from_args(args, dtype)?.construct(b)
}

/// The entry of class `C`.
const fn entry<C: Class>() -> ClassEntry {
    ClassEntry {
        name: C::NAME,
        args: C::args,
        takes_dtype: C::TAKES_DTYPE,
        build: build_dyn::<C>,
    }
}

use super::{
    attention::MultiheadAttention,
    conv::{Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d},
    embedding::{Embedding, EmbeddingBag},
    linear::{Bilinear, Identity, LazyLinear, Linear},
    norm::{
        BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d, InstanceNorm2d,
        InstanceNorm3d, LayerNorm, PReLU, RMSNorm,
    },
    rnn::{GRUCell, LSTMCell, RNNCell, GRU, LSTM, RNN},
    transformer::{
        Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder,
        TransformerEncoderLayer,
    },
};

/// Every built-in class with parameters or buffers, once.
pub static CLASSES: &[ClassEntry] = &[
    entry::<Linear>(),
    entry::<LazyLinear>(),
    entry::<Bilinear>(),
    entry::<Identity>(),
    entry::<Conv1d>(),
    entry::<Conv2d>(),
    entry::<Conv3d>(),
    entry::<ConvTranspose1d>(),
    entry::<ConvTranspose2d>(),
    entry::<ConvTranspose3d>(),
    entry::<Embedding>(),
    entry::<EmbeddingBag>(),
    entry::<RNN>(),
    entry::<LSTM>(),
    entry::<GRU>(),
    entry::<RNNCell>(),
    entry::<LSTMCell>(),
    entry::<GRUCell>(),
    entry::<MultiheadAttention>(),
    entry::<TransformerEncoderLayer>(),
    entry::<TransformerDecoderLayer>(),
    entry::<TransformerEncoder>(),
    entry::<TransformerDecoder>(),
    entry::<Transformer>(),
    entry::<LayerNorm>(),
    entry::<RMSNorm>(),
    entry::<BatchNorm1d>(),
    entry::<BatchNorm2d>(),
    entry::<BatchNorm3d>(),
    entry::<InstanceNorm1d>(),
    entry::<InstanceNorm2d>(),
    entry::<InstanceNorm3d>(),
    entry::<GroupNorm>(),
    entry::<PReLU>(),
];

/// The built-in class named `name` (`nn.` optional).
#[must_use]
pub fn class(name: &str) -> Option<&'static ClassEntry> {
    let name = name.strip_prefix("nn.").unwrap_or(name);
    CLASSES.iter().find(|c| c.name == name)
}

/// Layers without parameters or buffers (activations, pooling, dropout, reshaping) that a model
/// may contain. They draw nothing at construction; their arguments go to PyTorch as given.
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

/// The containers a description may use.
pub const CONTAINER_CLASSES: &[&str] = &["Sequential", "ModuleList", "ModuleDict", "Module"];

/// Declares a `torch.nn` class that takes `dtype=`: the struct with one public field per
/// constructor argument plus `dtype`, `new(required...)`, one setter per optional argument, and the
/// [`Class`] methods `args`, `from_args` and `to_args`. The class's `build` is written by hand
/// beside it (`impl ... { fn build_module(&self, b) }`).
macro_rules! nn_class {
    (
        $(#[$meta:meta])*
        $name:ident = $py:literal {
            $($(#[$rmeta:meta])* $req:ident : $rty:ty),* ;
            $($(#[$ometa:meta])* $opt:ident : $oty:ty = $odef:expr),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $($(#[$rmeta])* pub $req: $rty,)*
            $($(#[$ometa])* pub $opt: $oty,)*
            /// `dtype=`; `None` is PyTorch's default dtype (float32).
            pub dtype: Option<$crate::dtype::DType>,
        }

        impl $name {
            /// The class with the required arguments and PyTorch's defaults for the rest.
            #[must_use]
            #[allow(clippy::new_without_default)]
            pub fn new($($req: impl Into<$rty>),*) -> $name {
                $name {
                    $($req: $req.into(),)*
                    $($opt: $odef,)*
                    dtype: None,
                }
            }

            $(
                #[doc = concat!("Sets `", stringify!($opt), "`.")]
                #[must_use]
                pub fn $opt(mut self, v: impl Into<$oty>) -> $name {
                    self.$opt = v.into();
                    self
                }
            )*

            /// Sets `dtype`.
            #[must_use]
            pub fn dtype(mut self, dtype: $crate::dtype::DType) -> $name {
                self.dtype = Some(dtype);
                self
            }

            /// The dtype the parameters take.
            #[allow(dead_code)] // classes that pass `dtype` on to their parts do not use it
            fn param_dtype(&self) -> $crate::dtype::DType {
                self.dtype.unwrap_or($crate::dtype::DType::Float32)
            }
        }

        impl $crate::modules::registry::Class for $name {
            const NAME: &'static str = $py;
            const TAKES_DTYPE: bool = true;

            fn args() -> Vec<$crate::modules::registry::ArgSpec> {
                use $crate::modules::registry::{ArgSpec, ArgType};
                vec![
                    $(ArgSpec {
                        name: stringify!($req),
                        kind: <$rty as ArgType>::KIND,
                        default: None,
                        scope: stringify!($req),
                    },)*
                    $(ArgSpec {
                        name: stringify!($opt),
                        kind: <$oty as ArgType>::KIND,
                        default: Some(ArgType::to_value(&{ let d: $oty = $odef; d })),
                        scope: stringify!($opt),
                    },)*
                ]
            }

            fn from_args(
                mut args: $crate::modules::registry::ArgValues,
                dtype: Option<$crate::dtype::DType>,
            ) -> $crate::error::Result<$name> {
                use $crate::modules::registry::take_arg;
                Ok($name {
                    $($req: take_arg(<$name as $crate::modules::registry::Class>::NAME, &mut args, stringify!($req))?,)*
                    $($opt: take_arg(<$name as $crate::modules::registry::Class>::NAME, &mut args, stringify!($opt))?,)*
                    dtype,
                })
            }

            fn to_args(&self) -> $crate::modules::registry::ArgValues {
                use $crate::modules::registry::ArgType;
                vec![
                    $((stringify!($req), self.$req.to_value()),)*
                    $((stringify!($opt), self.$opt.to_value()),)*
                ]
            }

            fn construct(&self, b: &mut $crate::modules::build::Builder<'_>) -> $crate::error::Result<$crate::modules::Module> {
                self.build_module(b)
            }
        }
    };
}
pub(crate) use nn_class;

/// `tools/golden_ops/nn_classes.json`: the registry as the Python fixture tables read it.
#[cfg(all(test, feature = "json"))]
fn python_tables() -> String {
    use serde_json::{json, Map, Value};
    let mut classes = Map::new();
    for c in CLASSES {
        let args = (c.args)();
        let mut fields = Map::new();
        for a in &args {
            fields.insert(a.name.to_string(), json!(a.kind.name()));
        }
        let required: Vec<&str> = args
            .iter()
            .filter(|a| a.default.is_none())
            .map(|a| a.name)
            .collect();
        classes.insert(
            c.name.to_string(),
            json!({"args": Value::Object(fields), "required": required, "dtype": c.takes_dtype}),
        );
    }
    let doc = json!({
        "generated_by": "torch-rng (src/modules/registry.rs); regenerate with TORCH_RNG_BLESS=1 cargo test --lib python_tables",
        "classes": Value::Object(classes),
        "stateless": STATELESS_CLASSES,
        "containers": CONTAINER_CLASSES,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_args_round_trip() {
        for (i, c) in CLASSES.iter().enumerate() {
            assert!(
                CLASSES[..i].iter().all(|o| o.name != c.name),
                "{} twice",
                c.name
            );
            assert!(class(c.name).is_some() && class(&format!("nn.{}", c.name)).is_some());
            assert!(!STATELESS_CLASSES.contains(&c.name));
            let names = c.argument_names();
            let mut sorted = names.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "{}: duplicate argument", c.name);
        }
        let lin = Linear::new(3, 4).bias(false);
        let back = Linear::from_args(lin.to_args(), None).unwrap();
        assert_eq!(back, lin);
        assert!(Linear::from_args(Vec::new(), None).is_err());
    }

    /// The Python fixture tables are the registry (`tools/golden_ops/modules.py` reads this file).
    #[cfg(feature = "json")]
    #[test]
    fn python_tables_are_current() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tools/golden_ops/nn_classes.json"
        );
        let want = python_tables();
        if std::env::var_os("TORCH_RNG_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "tools/golden_ops/nn_classes.json is stale: TORCH_RNG_BLESS=1 cargo test --lib python_tables"
        );
    }
}
