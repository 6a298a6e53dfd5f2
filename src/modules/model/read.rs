//! Reading a model description: strict and complete before anything is drawn. An unknown module,
//! field or init function, a missing argument, a value of the wrong type, a duplicate name or a
//! class that contains itself is an [`Error::CaseFile`] whose location names the place in the
//! description (`modules[1] 'features'.modules[0]`). Built-in classes' arguments are read through
//! the registry ([`crate::modules::registry`]), so a class's JSON form is its Rust declaration.

use serde_json::{Map, Value};

use super::{bad, Arg, ModelDesc, Node, NodeKind, Pass, Rule, TensorInit, MODEL_FORMAT};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;
use crate::modules::registry::{
    self, ArgKind, ArgValue, Ints, Padding, CONTAINER_CLASSES, STATELESS_CLASSES,
};

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

    /// `nn.Parameter(torch.<init>(size))` or a registered buffer.
    fn tensor(&self, buffer: bool, o: &mut Obj<'_>, at: &str) -> Result<NodeKind> {
        let size = ints_of(
            at,
            "size",
            &o.take("size")
                .ok_or_else(|| bad(at, "missing field 'size'"))?,
        )?;
        let init = match o.take("init") {
            None => TensorInit::Zeros,
            Some(v) => match str_of(at, "init", &v)?.as_str() {
                "zeros" => TensorInit::Zeros,
                "ones" => TensorInit::Ones,
                "rand" => TensorInit::Rand,
                "randn" => TensorInit::Randn,
                other => {
                    return Err(bad(
                        at,
                        format!("unknown tensor init '{other}' (zeros, ones, rand, randn)"),
                    ))
                }
            },
        };
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

    fn kind(&mut self, class: &str, o: &mut Obj<'_>, at: &str) -> Result<NodeKind> {
        if let Some(entry) = registry::class(class) {
            let mut args = Vec::new();
            for spec in (entry.args)() {
                let v = match (o.take(spec.name), spec.default) {
                    (Some(v), _) => self.arg(at, spec.name, spec.kind, spec.scope, &v)?,
                    (None, Some(d)) => Arg::Value(d),
                    (None, None) => {
                        return Err(bad(
                            at,
                            format!("{class}: missing argument '{}'", spec.name),
                        ));
                    }
                };
                args.push((spec.name, v));
            }
            let dtype = if entry.takes_dtype {
                Some(match o.take("dtype") {
                    None | Some(Value::Null) => self.dtype,
                    Some(v) => dtype_of(at, &v)?,
                })
            } else {
                None
            };
            return Ok(NodeKind::Builtin {
                class: entry,
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
            "Parameter" | "Buffer" => self.tensor(class == "Buffer", o, at),
            _ if CONTAINER_CLASSES.contains(&class) => {
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

    fn arg(
        &mut self,
        at: &str,
        key: &str,
        kind: ArgKind,
        scope: &'static str,
        v: &Value,
    ) -> Result<Arg> {
        let value = match kind {
            ArgKind::OptInt | ArgKind::OptFloat | ArgKind::OptModule if v.is_null() => {
                ArgValue::None
            }
            ArgKind::Int | ArgKind::OptInt => ArgValue::Int(int_of(at, key, v)?),
            ArgKind::Float | ArgKind::OptFloat => ArgValue::Float(float_of(at, key, v)?),
            ArgKind::Bool => match v {
                Value::Bool(b) => ArgValue::Bool(*b),
                _ => return Err(bad(at, format!("'{key}' must be true or false, found {v}"))),
            },
            ArgKind::Str => ArgValue::Str(str_of(at, key, v)?),
            ArgKind::Ints => ArgValue::Ints(Ints(ints_of(at, key, v)?)),
            ArgKind::Padding => ArgValue::Padding(match v {
                Value::String(s) if s == "same" => Padding::Same,
                Value::String(s) if s == "valid" => Padding::Valid,
                Value::String(s) => {
                    return Err(bad(
                        at,
                        format!("invalid padding string '{s}' (same or valid)"),
                    ))
                }
                _ => Padding::Explicit(Ints(ints_of(at, key, v)?)),
            }),
            ArgKind::Module | ArgKind::OptModule => {
                let node = self.node(v, &format!("{at}.{key}"), false)?;
                return Ok(Arg::Node(Box::new(node), scope));
            }
        };
        Ok(Arg::Value(value))
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

fn parse_init(v: &Value, at: &str) -> Result<InitCall> {
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

/// One rule of an `apply` pass.
fn parse_rule(r: &Value, at_r: &str) -> Result<Rule> {
    let mut ro = Obj::new(r, at_r, "a rule")?;
    let classes = match ro.take("module") {
        Some(Value::String(s)) => vec![s],
        Some(Value::Array(a)) => a
            .iter()
            .map(|c| str_of(at_r, "module", c))
            .collect::<Result<Vec<_>>>()?,
        Some(v) => {
            return Err(bad(
                at_r,
                format!("'module' must be a class name or a list, found {v}"),
            ))
        }
        None => return Err(bad(at_r, "missing field 'module'")),
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
                at_r,
                format!("'init' must map parameter names to inits, found {v}"),
            ))
        }
    }
    let zero_padding_idx = match ro.take("zero_padding_idx") {
        None => false,
        Some(Value::Bool(b)) => b,
        Some(v) => {
            return Err(bad(
                at_r,
                format!("'zero_padding_idx' must be true or false, found {v}"),
            ))
        }
    };
    ro.finish("a rule has module, init, zero_padding_idx")?;
    Ok(Rule {
        classes,
        inits,
        zero_padding_idx,
    })
}

fn parse_pass(v: &Value, at: &str) -> Result<Pass> {
    let mut o = Obj::new(v, at, "an init pass")?;
    if let Some(rules) = o.take("apply") {
        let Value::Array(rules) = rules else {
            return Err(bad(at, "'apply' must be a list of rules"));
        };
        let mut out = Vec::new();
        for (i, r) in rules.iter().enumerate() {
            out.push(parse_rule(r, &format!("{at}.apply[{i}]"))?);
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

/// Reads a whole description.
pub(super) fn model(v: &Value) -> Result<ModelDesc> {
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
        if registry::class(k).is_some()
            || STATELESS_CLASSES.contains(&k.as_str())
            || CONTAINER_CLASSES.contains(&k.as_str())
            || ["Parameter", "Buffer"].contains(&k.as_str())
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

/// A description of one built-in module (`class` as PyTorch spells it, `nn.` optional) with its
/// constructor arguments.
pub(super) fn single(class: &str, args: Map<String, Value>, at: &str) -> Result<ModelDesc> {
    if registry::class(class).is_none() {
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
