//! Reading a model description: strict and complete before anything is drawn. An unknown module,
//! field or init function, a missing argument, a value of the wrong type, a duplicate name, a class
//! that contains itself, a class that is never used or an `apply` rule naming no known class is an
//! [`Error::CaseFile`] whose location names the place in the description
//! (`modules[1] 'features'.modules[0]`, `classes.Block(d=32).modules[2]`). Built-in classes'
//! arguments are read through the registry ([`crate::modules::registry`]), so a class's JSON form
//! is its Rust declaration.
//!
//! Described classes are instantiated once per distinct argument list and shared, so the result
//! is a graph no larger than the JSON (times its distinct instantiations); the modules it would
//! create, how deep they nest and the work of expanding it are checked against [`Limits`] here,
//! before anything is built, with an [`Error::LimitExceeded`] naming the place.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value};

use super::expr;
use super::{
    bad, Arg, Factory, Instance, Item, ModelDesc, Node, NodeKind, Pass, Rule, Step, TensorInit,
    Then, MODEL_FORMAT,
};
use crate::context::DeviceSpec;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::init::InitCall;
use crate::modules::build::Limits;
use crate::modules::registry::{
    self, ArgKind, ArgValue, Ints, Padding, CONTAINER_CLASSES, STATELESS_CLASSES,
};

/// Keys of a module item that are not constructor arguments.
const ITEM_KEYS: &[&str] = &["name", "module", "repeat", "when", "then"];

/// Expanding classes may visit at most this many JSON values per module the limits allow.
const WORK_PER_MODULE: u64 = 16;

/// The most distinct argument lists described classes may be instantiated with (real models use
/// a few dozen; each costs a pass over its class's body).
const MAX_INSTANCES: u64 = 10_000;

struct Obj<'a> {
    map: Map<String, Value>,
    at: &'a str,
}

impl Obj<'_> {
    fn new<'a>(v: Value, at: &'a str, what: &str) -> Result<Obj<'a>> {
        match v {
            Value::Object(m) => Ok(Obj { map: m, at }),
            other => Err(bad(
                at,
                format!("{what} must be a JSON object, found {other}"),
            )),
        }
    }
    fn take(&mut self, k: &str) -> Option<Value> {
        self.map.shift_remove(k)
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

fn bool_of(at: &str, key: &str, v: &Value) -> Result<bool> {
    match v {
        Value::Bool(b) => Ok(*b),
        _ => Err(bad(at, format!("'{key}' must be true or false, found {v}"))),
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

/// A dotted name of a parameter or submodule (`c_proj.weight`): non-empty segments.
fn dotted(at: &str, key: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.split('.').any(str::is_empty) {
        return Err(bad(
            at,
            format!("'{key}': bad name '{s}' (dotted, no empty segment)"),
        ));
    }
    Ok(())
}

fn is_ident(s: &str) -> bool {
    let mut c = s.chars();
    c.next()
        .is_some_and(|x| x.is_ascii_alphabetic() || x == '_')
        && c.all(|x| x.is_ascii_alphanumeric() || x == '_')
}

/// The compact JSON of an argument value for a location (`d=32`), shortened past 40 characters.
fn shown(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(37).collect::<String>())
    } else {
        s
    }
}

/// A described class as written: its argument names, their defaults, its body.
struct ClassDef {
    args: Vec<String>,
    defaults: Map<String, Value>,
    body: Value,
}

/// The names a container's items take, checked for duplicates in linear time. Numbered items
/// (`Sequential`, `ModuleList`) take their position; a `Sequential` item may be named instead.
struct Names {
    /// Explicit names, with the index and place of their item.
    explicit: HashMap<String, (usize, String)>,
    /// Positions taken by numbered items: `[start, end)`, with the index and place of the item.
    ranges: Vec<(u64, u64, usize, String)>,
    position: u64,
}

impl Names {
    fn new() -> Names {
        Names {
            explicit: HashMap::new(),
            ranges: Vec::new(),
            position: 0,
        }
    }

    fn add(&mut self, name: Option<&str>, count: u64, index: usize, at: &str) -> Result<()> {
        if let Some(n) = name {
            if self
                .explicit
                .insert(n.to_string(), (index, at.to_string()))
                .is_some()
            {
                return Err(bad(at, format!("duplicate name '{n}'")));
            }
            self.position = self.position.saturating_add(1);
        } else {
            let end = self.position.saturating_add(count);
            if count > 0 {
                self.ranges
                    .push((self.position, end, index, at.to_string()));
            }
            self.position = end;
        }
        Ok(())
    }

    /// An explicit name that is also a numbered item's position is a duplicate (reported at the
    /// later of the two items).
    fn finish(&self) -> Result<()> {
        for (n, (i, at)) in &self.explicit {
            let Ok(p) = n.parse::<u64>() else { continue };
            if p.to_string() != *n {
                continue;
            }
            if let Some((_, _, j, other)) = self
                .ranges
                .iter()
                .find(|(s, e, _, _)| (*s..*e).contains(&p))
            {
                let later = if j > i { other } else { at };
                return Err(bad(later, format!("duplicate name '{n}'")));
            }
        }
        Ok(())
    }
}

struct Reader {
    classes: Vec<(String, ClassDef)>,
    dtype: DType,
    limits: Limits,
    instances: Vec<Instance>,
    memo: HashMap<String, usize>,
    /// Described classes being instantiated (to find a class that contains itself).
    stack: Vec<String>,
    used: HashSet<String>,
    /// JSON values visited while substituting class arguments.
    work: u64,
}

impl Reader {
    fn new(classes: Vec<(String, ClassDef)>, dtype: DType, limits: Limits) -> Reader {
        Reader {
            classes,
            dtype,
            limits,
            instances: Vec::new(),
            memo: HashMap::new(),
            stack: Vec::new(),
            used: HashSet::new(),
            work: 0,
        }
    }

    fn class_def(&self, name: &str) -> Option<&ClassDef> {
        self.classes.iter().find(|(n, _)| n == name).map(|(_, d)| d)
    }

    fn is_described(&self, class: &str) -> bool {
        self.class_def(class).is_some()
    }

    /// Whether `name` names a class a module can be an instance of.
    fn known_class(&self, name: &str) -> bool {
        registry::class(name).is_some()
            || STATELESS_CLASSES.contains(&name)
            || CONTAINER_CLASSES.contains(&name)
            || name == "NonDynamicallyQuantizableLinear"
            || self.is_described(name)
    }

    fn too_many_modules(&self, at: &str, what: String) -> Error {
        Error::LimitExceeded {
            place: at.to_string(),
            what,
            limit: "--max-modules",
            max: self.limits.max_modules,
        }
    }

    fn too_deep(&self, at: &str, levels: u64) -> Error {
        Error::LimitExceeded {
            place: at.to_string(),
            what: format!("modules would nest {levels} levels deep"),
            limit: "--max-depth",
            max: self.limits.max_depth,
        }
    }

    /// The items of a module list: modules and init steps. `class` is the container's class;
    /// `depth` the nesting level of the items.
    fn items(&mut self, v: Value, at: &str, class: &str, depth: u64) -> Result<Vec<Item>> {
        let Value::Array(list) = v else {
            return Err(bad(at, format!("'modules' must be a list, found {v}")));
        };
        let numbered = matches!(class, "Sequential" | "ModuleList");
        let steps_here = class == "Module" || self.is_described(class);
        let mut out = Vec::with_capacity(list.len());
        let mut names = Names::new();
        for (i, item) in list.into_iter().enumerate() {
            let label = item
                .get("name")
                .and_then(Value::as_str)
                .map(|n| format!(" '{n}'"))
                .unwrap_or_default();
            let at_i = format!("{at}.modules[{i}]{label}");
            let Value::Object(mut m) = item else {
                return Err(bad(
                    &at_i,
                    format!("an item must be a JSON object, found {item}"),
                ));
            };
            match m.shift_remove("when") {
                None | Some(Value::Bool(true)) => {}
                Some(Value::Bool(false)) => continue,
                Some(other) => {
                    return Err(bad(
                        &at_i,
                        format!("'when' must be true or false, found {other}"),
                    ))
                }
            }
            let is_step = !m.contains_key("module")
                && ["apply", "named_parameters", "tie", "init"]
                    .iter()
                    .any(|k| m.contains_key(*k));
            if is_step {
                if !steps_here {
                    return Err(bad(
                        &at_i,
                        format!(
                            "an init step may stand only in a Module or a described class, \
                             not in a {class}"
                        ),
                    ));
                }
                let step = self.step(Value::Object(m), &at_i)?;
                out.push(Item::Step(step));
                continue;
            }
            let repeat = match m.shift_remove("repeat") {
                None => 1,
                Some(r) if numbered => self.repeat(&r, &at_i)?,
                Some(_) => {
                    return Err(bad(
                        &at_i,
                        "'repeat' is allowed only in Sequential and ModuleList",
                    ))
                }
            };
            let mut node = self.node(Value::Object(m), &at_i, depth, class == "ModuleList")?;
            node.repeat = repeat;
            match &node.name {
                None if !numbered => {
                    return Err(bad(
                        &at_i,
                        format!("missing 'name' (children of {class} are named)"),
                    ));
                }
                Some(_) if numbered && repeat != 1 => {
                    return Err(bad(&at_i, "a repeated module cannot have a 'name'"));
                }
                Some(n) if n.contains('.') || n.is_empty() => {
                    return Err(bad(&at_i, format!("bad name '{n}' (no dots, not empty)")));
                }
                _ => {}
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
            names.add(node.name.as_deref(), repeat, i, &at_i)?;
            out.push(Item::Module(node));
        }
        names.finish()?;
        Ok(out)
    }

    /// A `repeat` count, checked against the module limit before anything is built.
    fn repeat(&self, r: &Value, at: &str) -> Result<u64> {
        let n = int_of(at, "repeat", r)?;
        if n < 0 {
            return Err(bad(at, "'repeat' must not be negative"));
        }
        let n = n as u64;
        if n > self.limits.max_modules {
            return Err(self.too_many_modules(at, format!("'repeat' would create {n} modules")));
        }
        Ok(n)
    }

    /// One module (or Parameter/Buffer) at nesting level `depth`.
    fn node(&mut self, v: Value, at: &str, depth: u64, forbid_name: bool) -> Result<Node> {
        if depth > self.limits.max_depth {
            return Err(self.too_deep(at, depth));
        }
        let mut o = Obj::new(v, at, "a module")?;
        let name = match o.take("name") {
            None => None,
            Some(Value::String(s)) if !forbid_name => Some(s),
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
        let then = o.take("then");
        let kind = self.kind(&class, &mut o, at, depth)?;
        o.finish(&format!("not an argument of {class}"))?;
        let then =
            match then {
                None => Vec::new(),
                Some(_) if matches!(kind, NodeKind::Tensor { .. }) => return Err(bad(
                    at,
                    "'then' is for modules; a Parameter or Buffer takes its init call as 'init'",
                )),
                Some(Value::Object(m)) => {
                    let mut out = Vec::with_capacity(m.len());
                    for (param, call) in m {
                        let at_p = format!("{at}.then.{param}");
                        dotted(&at_p, "then", &param)?;
                        let call = parse_init(call, &at_p)?;
                        out.push(Then {
                            param,
                            call,
                            at: at_p,
                        });
                    }
                    out
                }
                Some(other) => {
                    return Err(bad(
                        at,
                        format!("'then' must map parameter names to init calls, found {other}"),
                    ))
                }
            };
        let node = Node {
            name,
            at: at.to_string(),
            kind,
            repeat: 1,
            then,
        };
        let height = self.height(&node);
        if depth - 1 + height > self.limits.max_depth {
            return Err(self.too_deep(at, depth - 1 + height));
        }
        Ok(node)
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
            None => TensorInit::Factory(Factory::Zeros),
            Some(v @ Value::Object(_)) => TensorInit::Call(parse_init(v, &format!("{at}.init"))?),
            Some(v) => match str_of(at, "init", &v)?.as_str() {
                "zeros" => TensorInit::Factory(Factory::Zeros),
                "ones" => TensorInit::Factory(Factory::Ones),
                "rand" => TensorInit::Factory(Factory::Rand),
                "randn" => TensorInit::Factory(Factory::Randn),
                "empty" => TensorInit::Empty,
                other => {
                    return Err(bad(
                        at,
                        format!(
                            "unknown tensor init '{other}' (zeros, ones, rand, randn, empty, or \
                             an init call such as {{\"fn\": \"normal_\", \"std\": 0.02}})"
                        ),
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

    fn kind(&mut self, class: &str, o: &mut Obj<'_>, at: &str, depth: u64) -> Result<NodeKind> {
        if let Some(entry) = registry::class(class) {
            let mut args = Vec::new();
            for spec in (entry.args)() {
                let v = match (o.take(spec.name), spec.default) {
                    (Some(v), _) => self.arg(at, spec.name, spec.kind, spec.scope, v, depth)?,
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
                items: Vec::new(),
            });
        }
        match class {
            "Parameter" | "Buffer" => self.tensor(class == "Buffer", o, at),
            _ if CONTAINER_CLASSES.contains(&class) => {
                let items = match o.take("modules") {
                    Some(v) => self.items(v, at, class, depth + 1)?,
                    None => Vec::new(),
                };
                Ok(NodeKind::Container {
                    class: class.to_string(),
                    items,
                })
            }
            _ if self.is_described(class) => {
                let (names, defaults) = {
                    let def = self
                        .class_def(class)
                        .map(|d| (d.args.clone(), d.defaults.clone()));
                    def.unwrap_or_default()
                };
                let mut args = Vec::with_capacity(names.len());
                for n in names {
                    let Some(v) = o.take(&n).or_else(|| defaults.get(&n).cloned()) else {
                        return Err(bad(at, format!("{class}: missing argument '{n}'")));
                    };
                    args.push((n, v));
                }
                let instance = self.instantiate(class, &args, at, depth)?;
                Ok(NodeKind::Described { instance })
            }
            _ => Err(bad(at, format!("unknown module '{class}'"))),
        }
    }

    /// The instance of `class` for `args` (made on its first use), checked against the limits.
    fn instantiate(
        &mut self,
        class: &str,
        args: &[(String, Value)],
        at: &str,
        depth: u64,
    ) -> Result<usize> {
        self.used.insert(class.to_string());
        let mut key = class.to_string();
        for (_, v) in args {
            key.push('\u{0}');
            key.push_str(&v.to_string());
        }
        if let Some(&i) = self.memo.get(&key) {
            return Ok(i);
        }
        if self.stack.iter().any(|c| c == class) {
            let mut cycle = self.stack.clone();
            cycle.push(class.to_string());
            return Err(bad(at, format!("class cycle: {}", cycle.join(" -> "))));
        }
        let label = if args.is_empty() {
            format!("classes.{class}")
        } else {
            let list: Vec<String> = args
                .iter()
                .map(|(n, v)| format!("{n}={}", shown(v)))
                .collect();
            format!("classes.{class}({})", list.join(", "))
        };
        let most = self.limits.max_modules.min(MAX_INSTANCES);
        if self.instances.len() as u64 >= most {
            return Err(self.too_many_modules(
                &label,
                format!("the classes would be instantiated with more than {most} argument lists"),
            ));
        }
        let body = self
            .class_def(class)
            .map_or(Value::Null, |d| d.body.clone());
        let body = expr::substitute(&body, args, &mut self.work).map_err(|e| bad(&label, e))?;
        let budget = self.limits.max_modules.saturating_mul(WORK_PER_MODULE);
        if self.work > budget {
            return Err(self.too_many_modules(
                &label,
                format!(
                    "expanding the classes would visit more than {budget} JSON values \
                     ({WORK_PER_MODULE} per module allowed)"
                ),
            ));
        }
        self.stack.push(class.to_string());
        let items = self.items(body, &label, class, depth + 1);
        self.stack.pop();
        let items = items?;
        let (modules, units, height) = self.totals(&items);
        let modules = modules.saturating_add(1);
        if modules > self.limits.max_modules {
            return Err(self.too_many_modules(
                &label,
                format!("one {class} would create {modules} modules"),
            ));
        }
        self.instances.push(Instance {
            class: class.to_string(),
            items,
            modules,
            units,
            height: height + 1,
        });
        let i = self.instances.len() - 1;
        self.memo.insert(key, i);
        Ok(i)
    }

    /// Modules, progress units and height of a list of items (each module item times its
    /// `repeat`), in saturating arithmetic.
    fn totals(&self, items: &[Item]) -> (u64, u64, u64) {
        let (mut modules, mut units, mut height) = (0u64, 0u64, 0u64);
        for item in items {
            match item {
                Item::Step(_) => units = units.saturating_add(1),
                Item::Module(n) => {
                    let (m, u) = self.cost(n);
                    modules = modules.saturating_add(m.saturating_mul(n.repeat));
                    units = units.saturating_add(u.saturating_mul(n.repeat));
                    if n.repeat > 0 {
                        height = height.max(self.height(n));
                    }
                }
            }
        }
        (modules, units, height)
    }

    /// Modules and progress units of one construction of `n`.
    fn cost(&self, n: &Node) -> (u64, u64) {
        match &n.kind {
            NodeKind::Builtin { args, .. } => {
                let mut modules = 1u64;
                for (_, a) in args {
                    if let Arg::Node(sub, _) = a {
                        modules = modules.saturating_add(self.cost(sub).0);
                    }
                }
                (modules, 1)
            }
            NodeKind::Container { items, .. } => {
                let (m, u, _) = self.totals(items);
                (m.saturating_add(1), u)
            }
            NodeKind::Described { instance } => {
                let i = &self.instances[*instance];
                (i.modules, i.units)
            }
            NodeKind::Tensor { .. } => (0, 1),
        }
    }

    /// Module levels from `n` to its deepest descendant, itself included.
    fn height(&self, n: &Node) -> u64 {
        match &n.kind {
            NodeKind::Builtin { args, .. } => {
                1 + args
                    .iter()
                    .filter_map(|(_, a)| match a {
                        Arg::Node(sub, _) => Some(self.height(sub)),
                        Arg::Value(_) => None,
                    })
                    .max()
                    .unwrap_or(0)
            }
            NodeKind::Container { items, .. } => 1 + self.totals(items).2,
            NodeKind::Described { instance } => self.instances[*instance].height,
            NodeKind::Tensor { .. } => 1,
        }
    }

    fn arg(
        &mut self,
        at: &str,
        key: &str,
        kind: ArgKind,
        scope: &'static str,
        v: Value,
        depth: u64,
    ) -> Result<Arg> {
        let value = match kind {
            ArgKind::OptInt | ArgKind::OptFloat | ArgKind::OptModule if v.is_null() => {
                ArgValue::None
            }
            ArgKind::Int | ArgKind::OptInt => ArgValue::Int(int_of(at, key, &v)?),
            ArgKind::Float | ArgKind::OptFloat => ArgValue::Float(float_of(at, key, &v)?),
            ArgKind::Bool => ArgValue::Bool(bool_of(at, key, &v)?),
            ArgKind::Str => ArgValue::Str(str_of(at, key, &v)?),
            ArgKind::Ints => ArgValue::Ints(Ints(ints_of(at, key, &v)?)),
            ArgKind::Padding => ArgValue::Padding(match &v {
                Value::String(s) if s == "same" => Padding::Same,
                Value::String(s) if s == "valid" => Padding::Valid,
                Value::String(s) => {
                    return Err(bad(
                        at,
                        format!("invalid padding string '{s}' (same or valid)"),
                    ))
                }
                _ => Padding::Explicit(Ints(ints_of(at, key, &v)?)),
            }),
            ArgKind::Module | ArgKind::OptModule => {
                let node = self.node(v, &format!("{at}.{key}"), depth + 1, false)?;
                if node.name.is_some() {
                    return Err(bad(
                        &node.at,
                        "a module given as a constructor argument has no 'name'",
                    ));
                }
                return Ok(Arg::Node(Box::new(node), scope));
            }
        };
        Ok(Arg::Value(value))
    }

    /// An init step (`apply`, `named_parameters`, `tie` or `init`, with an optional `on`).
    fn step(&self, v: Value, at: &str) -> Result<Step> {
        let mut o = Obj::new(v, at, "an init step")?;
        let on = match o.take("on") {
            None => None,
            Some(v) => {
                let s = str_of(at, "on", &v)?;
                dotted(at, "on", &s)?;
                Some(s)
            }
        };
        let pass = if let Some(rules) = o.take("apply") {
            let Value::Array(rules) = rules else {
                return Err(bad(at, "'apply' must be a list of rules"));
            };
            let mut out = Vec::with_capacity(rules.len());
            for (i, r) in rules.into_iter().enumerate() {
                out.push(self.rule(r, &format!("{at}.apply[{i}]"))?);
            }
            o.finish("an apply step has apply and on")?;
            Pass::Apply(out)
        } else if let Some(sel) = o.take("named_parameters") {
            let at_s = format!("{at}.named_parameters");
            let mut so = Obj::new(sel, &at_s, "'named_parameters'")?;
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
                Some(v) => parse_init(v, &format!("{at}.init"))?,
                None => return Err(bad(at, "missing field 'init'")),
            };
            o.finish("a named_parameters step has named_parameters, init and on")?;
            Pass::Parameters {
                name,
                endswith,
                min_dim,
                init,
            }
        } else if let Some(name) = o.take("tie") {
            let name = str_of(at, "tie", &name)?;
            let to = match o.take("to") {
                Some(v) => str_of(at, "to", &v)?,
                None => return Err(bad(at, "missing field 'to' (the parameter 'tie' becomes)")),
            };
            dotted(at, "tie", &name)?;
            dotted(at, "to", &to)?;
            o.finish("a tie has tie, to and on")?;
            Pass::Tie { name, to }
        } else if let Some(calls) = o.take("init") {
            let Value::Object(m) = calls else {
                return Err(bad(
                    at,
                    format!("'init' must map parameter names to init calls, found {calls}"),
                ));
            };
            let mut out = Vec::with_capacity(m.len());
            for (param, call) in m {
                let at_p = format!("{at}.init.{param}");
                dotted(&at_p, "init", &param)?;
                out.push((param, parse_init(call, &at_p)?));
            }
            o.finish("an init step has init and on")?;
            Pass::Calls(out)
        } else {
            return Err(bad(
                at,
                "an init step has 'apply', 'named_parameters', 'tie' or 'init'",
            ));
        };
        Ok(Step {
            pass,
            on,
            at: at.to_string(),
        })
    }

    /// One rule of an `apply` step.
    fn rule(&self, r: Value, at_r: &str) -> Result<Rule> {
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
        if let Some(c) = classes.iter().find(|c| !self.known_class(c)) {
            return Err(bad(
                at_r,
                format!("unknown class '{c}' (a built-in module, a container, a stateless layer or a described class)"),
            ));
        }
        let mut inits = Vec::new();
        match ro.take("init") {
            None => {}
            Some(Value::Object(m)) => {
                for (pname, iv) in m {
                    let at_p = format!("{at_r}.init.{pname}");
                    dotted(&at_p, "init", &pname)?;
                    let call = parse_init(iv, &at_p)?;
                    inits.push((pname, call));
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
            Some(v) => bool_of(at_r, "zero_padding_idx", &v)?,
        };
        ro.finish("a rule has module, init, zero_padding_idx")?;
        Ok(Rule {
            classes,
            inits,
            zero_padding_idx,
            at: at_r.to_string(),
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

/// An init call: `{"fn": "normal_", "std": 0.02}`, any `torch.nn.init` function with its Python
/// arguments and PyTorch's defaults, or `timm.layers.trunc_normal_`.
fn parse_init(v: Value, at: &str) -> Result<InitCall> {
    let mut o = Obj::new(v, at, "an init")?;
    let f = match o.take("fn") {
        Some(v) => str_of(at, "fn", &v)?,
        None => return Err(bad(at, "missing field 'fn'")),
    };
    let f = f.strip_prefix("nn.init.").map(str::to_string).unwrap_or(f);
    let init = InitCall::read_description(&f, &mut o).map_err(|e| match e {
        Error::InvalidArgument { op, reason } => bad(at, format!("{op}: {reason}")),
        other => other,
    })?;
    let Some(init) = init else {
        let names: Vec<&str> = crate::init::INIT_FUNCTIONS
            .iter()
            .chain(crate::init::DESCRIPTION_FUNCTIONS)
            .map(|f| f.name)
            .collect();
        return Err(bad(
            at,
            format!("unknown init function '{f}' ({})", names.join(", ")),
        ));
    };
    o.finish(&format!("not an argument of {f}"))?;
    Ok(init)
}

/// A described class as written: `[children]`, or `{"args": [...], "defaults": {...},
/// "modules": [...]}`.
fn class_def(name: &str, v: Value) -> Result<ClassDef> {
    let at = format!("classes.{name}");
    if registry::class(name).is_some()
        || STATELESS_CLASSES.contains(&name)
        || CONTAINER_CLASSES.contains(&name)
        || ["Parameter", "Buffer"].contains(&name)
    {
        return Err(bad(&at, "a described class cannot reuse a built-in name"));
    }
    if !is_ident(name) {
        return Err(bad(&at, "a class name is a Python identifier"));
    }
    let (args, defaults, body) = match v {
        body @ Value::Array(_) => (Vec::new(), Map::new(), body),
        Value::Object(m) => {
            let mut o = Obj { map: m, at: &at };
            let args = match o.take("args") {
                None => Vec::new(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| str_of(&at, "args", x))
                    .collect::<Result<Vec<_>>>()?,
                Some(other) => {
                    return Err(bad(
                        &at,
                        format!("'args' must be a list of names, found {other}"),
                    ))
                }
            };
            let defaults = match o.take("defaults") {
                None => Map::new(),
                Some(Value::Object(d)) => d,
                Some(other) => {
                    return Err(bad(
                        &at,
                        format!("'defaults' must be an object, found {other}"),
                    ))
                }
            };
            let body = o
                .take("modules")
                .ok_or_else(|| bad(&at, "missing field 'modules'"))?;
            o.finish("a class has args, defaults and modules")?;
            (args, defaults, body)
        }
        other => {
            return Err(bad(
                &at,
                format!(
                "a class is a list of modules or an object with args and modules, found {other}"
            ),
            ))
        }
    };
    let mut seen = HashSet::new();
    for a in &args {
        if !is_ident(a) {
            return Err(bad(
                &at,
                format!("argument '{a}' is not a Python identifier"),
            ));
        }
        if ITEM_KEYS.contains(&a.as_str()) || a == "modules" {
            return Err(bad(
                &at,
                format!("argument '{a}' would clash with the item field '{a}'"),
            ));
        }
        if !seen.insert(a.as_str()) {
            return Err(bad(&at, format!("argument '{a}' declared twice")));
        }
    }
    let mut work = 0;
    for (k, v) in &defaults {
        if !seen.contains(k.as_str()) {
            return Err(bad(
                &at,
                format!("a default for '{k}', which is not an argument"),
            ));
        }
        expr::substitute(v, &[], &mut work)
            .map_err(|e| bad(&at, format!("default of '{k}': {e}")))?;
    }
    Ok(ClassDef {
        args,
        defaults,
        body,
    })
}

/// Reads a whole description.
pub(super) fn model(v: &Value, limits: Limits) -> Result<ModelDesc> {
    let at = "model";
    let mut o = Obj::new(v.clone(), at, "a model description")?;
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
    let device = device_of(&mut o, at)?;
    let classes = match o.take("classes") {
        None => Vec::new(),
        Some(Value::Object(m)) => m
            .into_iter()
            .map(|(k, v)| class_def(&k, v).map(|d| (k, d)))
            .collect::<Result<Vec<_>>>()?,
        Some(v) => return Err(bad(at, format!("'classes' must be an object, found {v}"))),
    };
    let modules = o
        .take("modules")
        .ok_or_else(|| bad(at, "missing field 'modules'"))?;
    let mut r = Reader::new(classes, dtype, limits);
    let modules = expr::substitute(&modules, &[], &mut r.work).map_err(|e| bad(at, e))?;
    let root = r.items(modules, at, "Module", 1)?;
    let passes = match o.take("init") {
        None => Vec::new(),
        Some(Value::Array(a)) => a
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let at_i = format!("init[{i}]");
                let v = expr::substitute(&v, &[], &mut 0).map_err(|e| bad(&at_i, e))?;
                r.step(v, &at_i)
            })
            .collect::<Result<Vec<_>>>()?,
        Some(v) => {
            return Err(bad(
                at,
                format!("'init' must be a list of passes, found {v}"),
            ))
        }
    };
    o.finish(
        "a model has format, dtype, device (with gpu, sm_count, max_threads_per_sm), classes, \
         modules, init",
    )?;
    if let Some((name, _)) = r.classes.iter().find(|(n, _)| !r.used.contains(n)) {
        return Err(bad(
            &format!("classes.{name}"),
            format!("class '{name}' is never used"),
        ));
    }
    let (modules, units, _) = r.totals(&root);
    let modules = modules.saturating_add(1);
    if modules > limits.max_modules {
        return Err(r.too_many_modules(at, format!("the model would create {modules} modules")));
    }
    Ok(ModelDesc {
        root,
        instances: r.instances,
        units: units.saturating_add(passes.len() as u64),
        passes,
        single: false,
        limits,
        device,
    })
}

/// The description's device: `device` (`"cpu"` or `"cuda"`) with the GPU fields of
/// [`DeviceSpec`] (`gpu`, `sm_count`, `max_threads_per_sm`).
fn device_of(o: &mut Obj<'_>, at: &str) -> Result<DeviceSpec> {
    let mut text = |key: &str| match o.take(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(bad(at, format!("'{key}' must be a string, found {v}"))),
    };
    let (device, gpu) = (text("device")?, text("gpu")?);
    let mut count = |key: &str| match o.take(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => u32::try_from(int_of(at, key, &v)?)
            .map(Some)
            .map_err(|_| bad(at, format!("'{key}' = {v} is out of range"))),
    };
    let (sm, threads) = (count("sm_count")?, count("max_threads_per_sm")?);
    DeviceSpec::from_fields(device.as_deref(), gpu.as_deref(), sm, threads)
        .map_err(|e| bad(at, e.to_string()))
}

/// A description of one built-in module (`class` as PyTorch spells it, `nn.` optional) with its
/// constructor arguments.
pub(super) fn single(class: &str, args: Map<String, Value>, at: &str) -> Result<ModelDesc> {
    if registry::class(class).is_none() {
        return Err(bad(at, format!("unknown module '{class}'")));
    }
    let mut m = args;
    m.insert("module".into(), Value::String(class.into()));
    let limits = Limits::default();
    let mut r = Reader::new(Vec::new(), DType::Float32, limits);
    let node = r.node(Value::Object(m), at, 1, false)?;
    Ok(ModelDesc {
        root: vec![Item::Module(node)],
        instances: r.instances,
        passes: Vec::new(),
        single: true,
        limits,
        units: 1,
        device: DeviceSpec::Cpu,
    })
}
