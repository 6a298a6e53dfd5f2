//! Every `torch.nn.init` function declared once ([`INIT_FUNCTIONS`]): its Python name, its
//! arguments in signature order with PyTorch's defaults, and whether it takes `generator=`.
//!
//! Model descriptions, case files and the command line all read init calls through
//! [`InitCall::read`], which asks an [`ArgSource`] for each declared argument by kind; `explain`
//! prints a call's arguments through [`InitCall::args`]. A float argument may be a number or one of
//! the spellings of [`parse_float`] (`inf`, `-inf`, `nan`): the one reader of special floats.

use super::call::InitCall;
use super::{FanMode, Nonlinearity};
use crate::error::{Error, Result};

/// The kind of value an init argument takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgKind {
    /// A Python float.
    Float,
    /// A Python int.
    Int,
    /// A Python str.
    Str,
}

/// A literal argument value (a default, or a value printed back).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Literal {
    /// A Python float.
    Float(f64),
    /// A Python int.
    Int(i64),
    /// A Python str.
    Str(&'static str),
}

/// One argument of an init function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitArg {
    /// Its Python name.
    pub name: &'static str,
    /// Its kind.
    pub kind: ArgKind,
    /// PyTorch's default; `None` when the argument is required.
    pub default: Option<Literal>,
}

/// One `torch.nn.init` function.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InitFn {
    /// Its name without `nn.init.` (`kaiming_uniform_`).
    pub name: &'static str,
    /// Its arguments after the tensor, in signature order (`generator` excluded).
    pub args: &'static [InitArg],
    /// Whether it takes `generator=` (from PyTorch 2.1; every function that draws).
    pub generator: bool,
}

const fn float(name: &'static str, default: f64) -> InitArg {
    InitArg {
        name,
        kind: ArgKind::Float,
        default: Some(Literal::Float(default)),
    }
}

const fn required_float(name: &'static str) -> InitArg {
    InitArg {
        name,
        kind: ArgKind::Float,
        default: None,
    }
}

const KAIMING_ARGS: &[InitArg] = &[
    float("a", 0.0),
    InitArg {
        name: "mode",
        kind: ArgKind::Str,
        default: Some(Literal::Str("fan_in")),
    },
    InitArg {
        name: "nonlinearity",
        kind: ArgKind::Str,
        default: Some(Literal::Str("leaky_relu")),
    },
];

/// Every init function torch-rng reproduces, as `torch/nn/init.py` declares it.
pub const INIT_FUNCTIONS: &[InitFn] = &[
    InitFn {
        name: "uniform_",
        args: &[float("a", 0.0), float("b", 1.0)],
        generator: true,
    },
    InitFn {
        name: "normal_",
        args: &[float("mean", 0.0), float("std", 1.0)],
        generator: true,
    },
    InitFn {
        name: "trunc_normal_",
        args: &[
            float("mean", 0.0),
            float("std", 1.0),
            float("a", -2.0),
            float("b", 2.0),
        ],
        generator: true,
    },
    InitFn {
        name: "constant_",
        args: &[required_float("val")],
        generator: false,
    },
    InitFn {
        name: "ones_",
        args: &[],
        generator: false,
    },
    InitFn {
        name: "zeros_",
        args: &[],
        generator: false,
    },
    InitFn {
        name: "eye_",
        args: &[],
        generator: false,
    },
    InitFn {
        name: "dirac_",
        args: &[InitArg {
            name: "groups",
            kind: ArgKind::Int,
            default: Some(Literal::Int(1)),
        }],
        generator: false,
    },
    InitFn {
        name: "xavier_uniform_",
        args: &[float("gain", 1.0)],
        generator: true,
    },
    InitFn {
        name: "xavier_normal_",
        args: &[float("gain", 1.0)],
        generator: true,
    },
    InitFn {
        name: "kaiming_uniform_",
        args: KAIMING_ARGS,
        generator: true,
    },
    InitFn {
        name: "kaiming_normal_",
        args: KAIMING_ARGS,
        generator: true,
    },
    InitFn {
        name: "orthogonal_",
        args: &[float("gain", 1.0)],
        generator: true,
    },
    InitFn {
        name: "sparse_",
        args: &[required_float("sparsity"), float("std", 0.01)],
        generator: true,
    },
];

/// The init function named `name` (`kaiming_uniform_` or `nn.init.kaiming_uniform_`).
#[must_use]
pub fn init_function(name: &str) -> Option<&'static InitFn> {
    let name = name.strip_prefix("nn.init.").unwrap_or(name);
    INIT_FUNCTIONS.iter().find(|f| f.name == name)
}

/// The non-finite floats as case files, descriptions and the command line spell them: `inf`,
/// `-inf`, `nan` (JSON has no literal for them). The one reader of special floats, shared with the
/// Python tools (`tools/golden_ops/common.py`, `NONFINITE`).
#[must_use]
pub fn special_float(text: &str) -> Option<f64> {
    match text {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

/// A float from command-line text: a decimal number or a [`special_float`] spelling.
#[must_use]
pub fn parse_float(text: &str) -> Option<f64> {
    special_float(text).or_else(|| {
        // Rust's reader also takes `infinity` and `NaN`; only digits are numbers here.
        let numeric = text.bytes().any(|b| b.is_ascii_digit())
            && text
                .bytes()
                .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
        if numeric {
            text.parse::<f64>().ok()
        } else {
            None
        }
    })
}

/// A float from a JSON value: a number, or a [`special_float`] string.
#[cfg(feature = "json")]
pub(crate) fn json_float(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.to_string().parse::<f64>().ok(),
        serde_json::Value::String(s) => special_float(s),
        _ => None,
    }
}

/// Where an init call's argument values come from: a JSON object (a case step, a description) or
/// command-line pairs. Each method returns `Ok(None)` when the argument is absent and an error
/// naming the place when it is present with the wrong kind.
pub(crate) trait ArgSource {
    /// A float argument.
    fn float(&mut self, key: &str) -> Result<Option<f64>>;
    /// An int argument.
    fn int(&mut self, key: &str) -> Result<Option<i64>>;
    /// A str argument.
    fn string(&mut self, key: &str) -> Result<Option<String>>;
    /// An error at the source's place.
    fn error(&self, reason: String) -> Error;
}

/// One argument value as read, before it is checked.
enum Value {
    Float(f64),
    Int(i64),
    Str(String),
}

impl InitCall {
    /// Reads the call to `name` (`kaiming_uniform_`, `nn.init.` optional) from `src`: each
    /// declared argument by kind, PyTorch's defaults for the absent ones. The caller rejects any
    /// argument left over.
    ///
    /// Returns `Ok(None)` for a name that is no init function. A malformed argument (wrong kind, a
    /// required one missing) is the source's error; a value PyTorch itself rejects (an unknown
    /// `mode` or `nonlinearity`) is an [`Error::InvalidArgument`] as PyTorch raises it.
    pub(crate) fn read(name: &str, src: &mut dyn ArgSource) -> Result<Option<InitCall>> {
        let Some(f) = init_function(name) else {
            return Ok(None);
        };
        let mut values = Vec::with_capacity(f.args.len());
        for arg in f.args {
            let v = match arg.kind {
                ArgKind::Float => src.float(arg.name)?.map(Value::Float),
                ArgKind::Int => src.int(arg.name)?.map(Value::Int),
                ArgKind::Str => src.string(arg.name)?.map(Value::Str),
            };
            let v = match (v, arg.default) {
                (Some(v), _) => v,
                (None, Some(Literal::Float(x))) => Value::Float(x),
                (None, Some(Literal::Int(i))) => Value::Int(i),
                (None, Some(Literal::Str(s))) => Value::Str(s.to_string()),
                (None, None) => {
                    return Err(src.error(format!(
                        "nn.init.{}: missing argument '{}'",
                        f.name, arg.name
                    )))
                }
            };
            values.push(v);
        }
        Ok(Some(Self::from_values(f.name, values)?))
    }

    /// The call from its function name and one value per declared argument, in order.
    fn from_values(name: &str, values: Vec<Value>) -> Result<InitCall> {
        let mut it = values.into_iter();
        let mut float = || match it.next() {
            Some(Value::Float(x)) => x,
            _ => unreachable!("the schema declares a float here"),
        };
        let call = match name {
            "uniform_" => InitCall::Uniform {
                a: float(),
                b: float(),
            },
            "normal_" => InitCall::Normal {
                mean: float(),
                std: float(),
            },
            "trunc_normal_" => InitCall::TruncNormal {
                mean: float(),
                std: float(),
                a: float(),
                b: float(),
            },
            "constant_" => InitCall::Constant { val: float() },
            "ones_" => InitCall::Ones,
            "zeros_" => InitCall::Zeros,
            "eye_" => InitCall::Eye,
            "xavier_uniform_" => InitCall::XavierUniform { gain: float() },
            "xavier_normal_" => InitCall::XavierNormal { gain: float() },
            "orthogonal_" => InitCall::Orthogonal { gain: float() },
            "sparse_" => InitCall::Sparse {
                sparsity: float(),
                std: float(),
            },
            "dirac_" | "kaiming_uniform_" | "kaiming_normal_" => {
                return Self::from_mixed(name, &it.collect::<Vec<_>>())
            }
            _ => unreachable!("every declared function is listed"),
        };
        Ok(call)
    }

    fn from_mixed(name: &str, values: &[Value]) -> Result<InitCall> {
        match (name, values) {
            ("dirac_", [Value::Int(groups)]) => Ok(InitCall::Dirac { groups: *groups }),
            (_, [Value::Float(a), Value::Str(mode), Value::Str(nl)]) => {
                // PyTorch checks the mode when it computes the fan, then the nonlinearity.
                let mode = FanMode::parse(mode)?;
                let nonlinearity = Nonlinearity::parse(nl)?;
                Ok(if name == "kaiming_uniform_" {
                    InitCall::KaimingUniform {
                        a: *a,
                        mode,
                        nonlinearity,
                    }
                } else {
                    InitCall::KaimingNormal {
                        a: *a,
                        mode,
                        nonlinearity,
                    }
                })
            }
            _ => unreachable!("the schema declares these kinds"),
        }
    }

    /// The declaration of the call's function.
    #[must_use]
    pub fn function(&self) -> &'static InitFn {
        let name = self.op_name().strip_prefix("nn.init.").unwrap_or_default();
        init_function(name).unwrap_or(&INIT_FUNCTIONS[0])
    }

    /// The call's arguments in signature order, as Python would receive them.
    #[must_use]
    pub fn args(&self) -> Vec<(&'static str, Literal)> {
        let values: Vec<Literal> = match self {
            InitCall::Uniform { a, b } => vec![Literal::Float(*a), Literal::Float(*b)],
            InitCall::Normal { mean, std } => vec![Literal::Float(*mean), Literal::Float(*std)],
            InitCall::TruncNormal { mean, std, a, b } => [mean, std, a, b]
                .iter()
                .map(|x| Literal::Float(**x))
                .collect(),
            InitCall::Constant { val } => vec![Literal::Float(*val)],
            InitCall::Ones | InitCall::Zeros | InitCall::Eye => Vec::new(),
            InitCall::Dirac { groups } => vec![Literal::Int(*groups)],
            InitCall::XavierUniform { gain }
            | InitCall::XavierNormal { gain }
            | InitCall::Orthogonal { gain } => vec![Literal::Float(*gain)],
            InitCall::KaimingUniform {
                a,
                mode,
                nonlinearity,
            }
            | InitCall::KaimingNormal {
                a,
                mode,
                nonlinearity,
            } => vec![
                Literal::Float(*a),
                Literal::Str(mode.name()),
                Literal::Str(nonlinearity.name()),
            ],
            InitCall::Sparse { sparsity, std } => {
                vec![Literal::Float(*sparsity), Literal::Float(*std)]
            }
        };
        self.function()
            .args
            .iter()
            .map(|a| a.name)
            .zip(values)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Pairs(Vec<(&'static str, &'static str)>);

    impl ArgSource for Pairs {
        fn float(&mut self, key: &str) -> Result<Option<f64>> {
            self.take(key)
                .map(|v| parse_float(&v).ok_or_else(|| self.error(format!("{key}: {v}"))))
                .transpose()
        }
        fn int(&mut self, key: &str) -> Result<Option<i64>> {
            self.take(key)
                .map(|v| v.parse().map_err(|_| self.error(format!("{key}: {v}"))))
                .transpose()
        }
        fn string(&mut self, key: &str) -> Result<Option<String>> {
            Ok(self.take(key))
        }
        fn error(&self, reason: String) -> Error {
            Error::arg("test", reason)
        }
    }

    impl Pairs {
        fn take(&mut self, key: &str) -> Option<String> {
            let i = self.0.iter().position(|(k, _)| *k == key)?;
            Some(self.0.remove(i).1.to_string())
        }
    }

    #[test]
    fn every_function_reads_and_prints_its_declared_arguments() {
        for f in INIT_FUNCTIONS {
            let mut src = Pairs(vec![("val", "0.5"), ("sparsity", "0.1")]);
            let call = InitCall::read(f.name, &mut src).unwrap().unwrap();
            assert_eq!(call.op_name(), format!("nn.init.{}", f.name));
            assert_eq!(call.function(), f);
            assert_eq!(call.takes_generator(), f.generator, "{}", f.name);
            let names: Vec<&str> = call.args().iter().map(|(n, _)| *n).collect();
            let declared: Vec<&str> = f.args.iter().map(|a| a.name).collect();
            assert_eq!(names, declared, "{}", f.name);
            for (arg, (_, v)) in f.args.iter().zip(call.args()) {
                if let Some(d) = arg.default {
                    assert_eq!(d, v, "{}: {}", f.name, arg.name);
                }
            }
        }
        assert!(InitCall::read("normal", &mut Pairs(vec![]))
            .unwrap()
            .is_none());
    }

    #[test]
    fn values_pytorch_rejects_and_malformed_ones() {
        let bad_mode = InitCall::read("kaiming_uniform_", &mut Pairs(vec![("mode", "fan_avg")]));
        assert!(matches!(bad_mode, Err(Error::InvalidArgument { .. })));
        let upper = InitCall::read("kaiming_normal_", &mut Pairs(vec![("mode", "FAN_OUT")]))
            .unwrap()
            .unwrap();
        assert!(matches!(
            upper,
            InitCall::KaimingNormal {
                mode: FanMode::FanOut,
                ..
            }
        ));
        assert!(InitCall::read("constant_", &mut Pairs(vec![])).is_err());
        assert!(InitCall::read("uniform_", &mut Pairs(vec![("a", "x")])).is_err());
    }

    #[test]
    fn special_floats() {
        for (t, v) in [
            ("inf", f64::INFINITY),
            ("-inf", f64::NEG_INFINITY),
            ("0.25", 0.25),
            ("-1e-3", -1e-3),
            ("3", 3.0),
        ] {
            assert_eq!(parse_float(t), Some(v), "{t}");
        }
        assert!(parse_float("nan").unwrap().is_nan());
        for bad in ["", "-", "x", "1.0.0", "infinity", "NaN", "Inf", "+inf"] {
            assert_eq!(parse_float(bad), None, "{bad}");
        }
        assert_eq!(special_float("0.5"), None);
    }
}
