//! A pickle machine that understands only what `torch.save` writes for tensors and dicts, and
//! executes nothing.
//!
//! Mirrors: CPython's `Lib/pickle.py` (`_Unpickler`, the opcodes of protocols 2 to 5 that carry
//! data) and `torch/serialization.py` (`_save`'s `persistent_id`, `_legacy_save`), with
//! `torch/_utils.py` (`_rebuild_tensor_v2`, `_rebuild_tensor_v3`, `_rebuild_parameter`,
//! `_rebuild_parameter_with_state`).
//!
//! Objects live in an arena and refer to each other by index, so that a memo entry shared many
//! times costs nothing to copy, a dict filled after being memoised is seen filled through every
//! reference (as in Python), and nothing is dropped recursively. Every opcode consumes at least
//! one byte and creates at most one object, so the work and memory are linear in the input.

use std::collections::HashMap;

use crate::dtype::DType;

/// An object's index in the arena.
pub(crate) type Id = usize;

/// What a `.pt` storage holds: elements of a dtype (`torch.FloatStorage`), or bytes
/// (`torch.storage.UntypedStorage`, whose tensors name their dtype).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StorageKind {
    Typed(DType),
    Untyped,
}

impl StorageKind {
    pub(crate) fn elem_size(self) -> u64 {
        match self {
            StorageKind::Typed(d) => d.size() as u64,
            StorageKind::Untyped => 1,
        }
    }
}

/// A storage named by a persistent id: `('storage', type, key, location, numel)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StorageRef {
    pub(crate) kind: StorageKind,
    pub(crate) key: String,
    /// Elements of `kind` (bytes for an untyped storage).
    pub(crate) numel: u64,
}

/// A tensor rebuilt by `_rebuild_tensor_v2`/`_v3`: a view of a storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TensorRec {
    pub(crate) storage: StorageRef,
    pub(crate) dtype: DType,
    pub(crate) offset: u64,
    pub(crate) size: Vec<u64>,
    pub(crate) stride: Vec<u64>,
}

/// The globals the machine accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Global {
    OrderedDict,
    RebuildTensorV2,
    RebuildTensorV3,
    RebuildParameter,
    RebuildParameterWithState,
    Storage(StorageKind),
    Dtype(DType),
}

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Obj {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits: its little-endian two's complement bytes.
    BigInt(Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(usize),
    Tuple(Vec<Id>),
    List(Vec<Id>),
    Dict(Vec<(Id, Id)>),
    Global(Global),
    Storage(StorageRef),
    Tensor(TensorRec),
}

impl Obj {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Obj::None => "None",
            Obj::Bool(_) => "a bool",
            Obj::Int(_) | Obj::BigInt(_) => "an int",
            Obj::Float(_) => "a float",
            Obj::Str(_) => "a str",
            Obj::Bytes(_) => "bytes",
            Obj::Tuple(_) => "a tuple",
            Obj::List(_) => "a list",
            Obj::Dict(_) => "a dict",
            Obj::Global(_) => "a global",
            Obj::Storage(_) => "a storage",
            Obj::Tensor(_) => "a tensor",
        }
    }
}

/// The arena after one or more pickles have run.
#[derive(Debug, Default)]
pub(crate) struct Machine {
    pub(crate) objs: Vec<Obj>,
    /// Words copied out of shared objects (tensor sizes and strides, storage keys); bounded by
    /// a multiple of the input so that a memoised tuple reused by every record cannot amplify.
    copied: u64,
    copy_limit: u64,
}

/// The most dimensions a tensor record may have, and the longest storage key.
const MAX_DIMS: usize = 1024;
const MAX_KEY: usize = 1024;

fn global(module: &str, name: &str) -> Result<Global, String> {
    let storage = |d| Ok(Global::Storage(StorageKind::Typed(d)));
    match (module, name) {
        ("collections", "OrderedDict") => Ok(Global::OrderedDict),
        ("torch._utils", "_rebuild_tensor_v2") => Ok(Global::RebuildTensorV2),
        ("torch._utils", "_rebuild_tensor_v3") => Ok(Global::RebuildTensorV3),
        ("torch._utils", "_rebuild_parameter") => Ok(Global::RebuildParameter),
        ("torch._utils", "_rebuild_parameter_with_state") => Ok(Global::RebuildParameterWithState),
        ("torch.storage" | "torch", "UntypedStorage") => Ok(Global::Storage(StorageKind::Untyped)),
        ("torch", "FloatStorage") => storage(DType::Float32),
        ("torch", "DoubleStorage") => storage(DType::Float64),
        ("torch", "HalfStorage") => storage(DType::Float16),
        ("torch", "BFloat16Storage") => storage(DType::BFloat16),
        ("torch", "LongStorage") => storage(DType::Int64),
        ("torch", "IntStorage") => storage(DType::Int32),
        ("torch", "ShortStorage") => storage(DType::Int16),
        ("torch", "CharStorage") => storage(DType::Int8),
        ("torch", "ByteStorage") => storage(DType::UInt8),
        ("torch", "BoolStorage") => storage(DType::Bool),
        ("torch", n) if n.ends_with("Storage") => {
            Err(format!("storage type torch.{n} is not supported"))
        }
        ("torch", n) => match DType::parse(n) {
            Ok(d) => Ok(Global::Dtype(d)),
            Err(_) => Err(format!(
                "global 'torch.{n}' is not allowed (not a supported dtype)"
            )),
        },
        (m, n) => Err(format!("global '{m}.{n}' is not allowed")),
    }
}

enum Item {
    Obj(Id),
    Mark,
}

impl Machine {
    fn new_obj(&mut self, o: Obj) -> Id {
        self.objs.push(o);
        self.objs.len() - 1
    }

    pub(crate) fn get(&self, id: Id) -> &Obj {
        &self.objs[id]
    }

    fn int(&self, id: Id, what: &str) -> Result<i64, String> {
        match self.get(id) {
            Obj::Int(v) => Ok(*v),
            Obj::Bool(b) => Ok(i64::from(*b)),
            o => Err(format!("{what} is {}, not an int", o.kind())),
        }
    }

    fn uint(&self, id: Id, what: &str) -> Result<u64, String> {
        let v = self.int(id, what)?;
        u64::try_from(v).map_err(|_| format!("{what} is negative ({v})"))
    }

    fn ints(&self, id: Id, what: &str) -> Result<Vec<u64>, String> {
        match self.get(id) {
            Obj::Tuple(v) | Obj::List(v) if v.len() > MAX_DIMS => {
                Err(format!("{what} has {} dimensions", v.len()))
            }
            Obj::Tuple(v) | Obj::List(v) => v.iter().map(|&i| self.uint(i, what)).collect(),
            o => Err(format!("{what} is {}, not a tuple", o.kind())),
        }
    }

    /// Counts `n` words copied; an error once the pickle has copied more than its budget.
    fn copy(&mut self, n: usize) -> Result<(), String> {
        self.copied += n as u64;
        if self.copied > self.copy_limit {
            return Err(format!(
                "the pickle copies more than {} words (16 per input byte)",
                self.copy_limit
            ));
        }
        Ok(())
    }

    /// A persistent id: `('storage', type, key, location, numel)`, plus `view_metadata`
    /// (which must be `None`) in the legacy format.
    fn persistent(&mut self, pid: Id) -> Result<Id, String> {
        let Obj::Tuple(t) = self.get(pid) else {
            return Err(format!(
                "persistent id is {}, not a tuple",
                self.get(pid).kind()
            ));
        };
        if !(t.len() == 5 || t.len() == 6) {
            return Err("persistent id is not ('storage', type, key, location, numel)".into());
        }
        let t = t.clone();
        if self.get(t[0]) != &Obj::Str("storage".into()) {
            return Err("persistent id is not ('storage', type, key, location, numel)".into());
        }
        let Obj::Global(Global::Storage(kind)) = *self.get(t[1]) else {
            return Err(format!(
                "persistent id names {} as its storage type",
                self.get(t[1]).kind()
            ));
        };
        let Obj::Str(key) = self.get(t[2]) else {
            return Err("storage key is not a str".into());
        };
        if key.len() > MAX_KEY {
            return Err(format!("a storage key of {} bytes", key.len()));
        }
        let key = key.clone();
        self.copy(key.len() / 8 + 1)?;
        if !matches!(self.get(t[3]), Obj::Str(_)) {
            return Err("storage location is not a str".into());
        }
        let numel = self.uint(t[4], "storage size")?;
        if t.len() == 6 && self.get(t[5]) != &Obj::None {
            return Err("storage views (legacy view_metadata) are not supported".into());
        }
        Ok(self.new_obj(Obj::Storage(StorageRef { kind, key, numel })))
    }

    fn reduce(&mut self, f: Id, args: Id) -> Result<Id, String> {
        let Obj::Global(g) = *self.get(f) else {
            return Err(format!(
                "REDUCE calls {}, not an allowed global",
                self.get(f).kind()
            ));
        };
        let Obj::Tuple(a) = self.get(args) else {
            return Err("REDUCE arguments are not a tuple".into());
        };
        if a.len() > 8 {
            return Err(format!("{g:?} called with {} arguments", a.len()));
        }
        let a = a.clone();
        let tensor = |m: &Machine, dtype: Option<DType>| -> Result<Obj, String> {
            let Obj::Storage(s) = m.get(a[0]) else {
                return Err(format!("tensor storage is {}", m.get(a[0]).kind()));
            };
            let dtype = match (dtype, s.kind) {
                (None, StorageKind::Typed(d)) | (Some(d), StorageKind::Untyped) => d,
                (None, StorageKind::Untyped) => {
                    return Err("_rebuild_tensor_v2 of an untyped storage".into())
                }
                (Some(d), StorageKind::Typed(s)) if s == d => d,
                (Some(d), StorageKind::Typed(s)) => {
                    return Err(format!("a {d} tensor on a {s} storage"))
                }
            };
            let size = m.ints(a[2], "tensor size")?;
            let stride = m.ints(a[3], "tensor stride")?;
            if size.len() != stride.len() {
                return Err(format!(
                    "tensor size has {} dimensions and stride {}",
                    size.len(),
                    stride.len()
                ));
            }
            Ok(Obj::Tensor(TensorRec {
                storage: s.clone(),
                dtype,
                offset: m.uint(a[1], "storage offset")?,
                size,
                stride,
            }))
        };
        let o = match g {
            Global::OrderedDict if a.is_empty() => Obj::Dict(Vec::new()),
            Global::OrderedDict => return Err("OrderedDict called with arguments".into()),
            Global::RebuildTensorV2 if a.len() == 6 || a.len() == 7 => {
                let t = tensor(self, None)?;
                self.charge(&t)?;
                t
            }
            Global::RebuildTensorV3 if a.len() == 7 || a.len() == 8 => {
                let Obj::Global(Global::Dtype(d)) = *self.get(a[6]) else {
                    return Err("_rebuild_tensor_v3 without a dtype".into());
                };
                let t = tensor(self, Some(d))?;
                self.charge(&t)?;
                t
            }
            Global::RebuildParameter if a.len() == 3 => return self.param(a[0]),
            Global::RebuildParameterWithState if a.len() == 4 => return self.param(a[0]),
            _ => return Err(format!("{g:?} called with {} arguments", a.len())),
        };
        Ok(self.new_obj(o))
    }

    fn charge(&mut self, t: &Obj) -> Result<(), String> {
        match t {
            Obj::Tensor(r) => {
                self.copy(r.size.len() + r.stride.len() + r.storage.key.len() / 8 + 1)
            }
            _ => Ok(()),
        }
    }

    fn param(&self, t: Id) -> Result<Id, String> {
        match self.get(t) {
            Obj::Tensor(_) => Ok(t),
            o => Err(format!("_rebuild_parameter of {}", o.kind())),
        }
    }

    /// Runs the pickle that starts at `data[start..]`; returns its result and where it ended.
    #[allow(clippy::too_many_lines)] // one arm per opcode, as in pickle.py's dispatch table
    pub(crate) fn run(&mut self, data: &[u8], start: usize) -> Result<(Id, usize), String> {
        self.copy_limit = 16 * data.len() as u64 + 65_536;
        let mut stack: Vec<Item> = Vec::new();
        let mut marks: Vec<usize> = Vec::new();
        let mut memo: HashMap<u64, Id> = HashMap::new();
        let mut p = start;
        macro_rules! take {
            ($n:expr) => {{
                let n: usize = $n;
                let s = data
                    .get(p..)
                    .and_then(|d| d.get(..n))
                    .ok_or_else(|| format!("truncated pickle at offset {p}"))?;
                p += n;
                s
            }};
        }
        macro_rules! pop {
            () => {
                match stack.pop() {
                    Some(Item::Obj(id)) => id,
                    Some(Item::Mark) => return Err(format!("unexpected mark at offset {p}")),
                    None => return Err(format!("stack underflow at offset {p}")),
                }
            };
        }
        macro_rules! top {
            () => {
                match stack.last() {
                    Some(Item::Obj(id)) => *id,
                    _ => return Err(format!("stack underflow at offset {p}")),
                }
            };
        }
        let pop_mark = |stack: &mut Vec<Item>, marks: &mut Vec<usize>, p: usize| {
            let m = marks
                .pop()
                .ok_or_else(|| format!("no mark at offset {p}"))?;
            let items: Vec<Id> = stack
                .drain(m..)
                .map(|i| match i {
                    Item::Obj(id) => Ok(id),
                    Item::Mark => Err(format!("nested mark at offset {p}")),
                })
                .collect::<Result<_, String>>()?;
            stack.pop(); // the mark itself
            Ok::<_, String>(items)
        };
        loop {
            let at = p;
            let op = take!(1)[0];
            let id = match op {
                0x80 => {
                    let v = take!(1)[0];
                    if !(2..=5).contains(&v) {
                        return Err(format!("pickle protocol {v} is not supported"));
                    }
                    continue;
                }
                0x95 => {
                    take!(8);
                    continue;
                }
                b'.' => {
                    let r = pop!();
                    return Ok((r, p));
                }
                b'(' => {
                    marks.push(stack.len() + 1);
                    stack.push(Item::Mark);
                    continue;
                }
                b'0' => {
                    match stack.pop() {
                        Some(Item::Mark) => {
                            marks.pop();
                        }
                        Some(Item::Obj(_)) => {}
                        None => return Err(format!("stack underflow at offset {at}")),
                    }
                    continue;
                }
                b'1' => {
                    pop_mark(&mut stack, &mut marks, at)?;
                    continue;
                }
                b'2' => top!(),
                b'}' => self.new_obj(Obj::Dict(Vec::new())),
                b']' => self.new_obj(Obj::List(Vec::new())),
                b')' => self.new_obj(Obj::Tuple(Vec::new())),
                b't' => {
                    let items = pop_mark(&mut stack, &mut marks, at)?;
                    self.new_obj(Obj::Tuple(items))
                }
                b'l' => {
                    let items = pop_mark(&mut stack, &mut marks, at)?;
                    self.new_obj(Obj::List(items))
                }
                b'd' => {
                    let items = pop_mark(&mut stack, &mut marks, at)?;
                    if items.len() % 2 != 0 {
                        return Err(format!("odd number of items for DICT at offset {at}"));
                    }
                    let pairs = items.chunks_exact(2).map(|c| (c[0], c[1])).collect();
                    self.new_obj(Obj::Dict(pairs))
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(pop!());
                    }
                    items.reverse();
                    self.new_obj(Obj::Tuple(items))
                }
                b'a' | b'e' => {
                    let items = if op == b'a' {
                        vec![pop!()]
                    } else {
                        pop_mark(&mut stack, &mut marks, at)?
                    };
                    let l = top!();
                    match &mut self.objs[l] {
                        Obj::List(v) => v.extend(items),
                        o => return Err(format!("APPEND to {} at offset {at}", o.kind())),
                    }
                    continue;
                }
                b's' | b'u' => {
                    let items = if op == b's' {
                        let v = pop!();
                        let k = pop!();
                        vec![k, v]
                    } else {
                        pop_mark(&mut stack, &mut marks, at)?
                    };
                    if items.len() % 2 != 0 {
                        return Err(format!("odd number of items for SETITEMS at offset {at}"));
                    }
                    let d = top!();
                    match &mut self.objs[d] {
                        Obj::Dict(v) => v.extend(items.chunks_exact(2).map(|c| (c[0], c[1]))),
                        o => return Err(format!("SETITEM on {} at offset {at}", o.kind())),
                    }
                    continue;
                }
                b'J' => {
                    let b = take!(4);
                    let v = i32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                    self.new_obj(Obj::Int(i64::from(v)))
                }
                b'K' => {
                    let v = take!(1)[0];
                    self.new_obj(Obj::Int(i64::from(v)))
                }
                b'M' => {
                    let b = take!(2);
                    self.new_obj(Obj::Int(i64::from(u16::from_le_bytes([b[0], b[1]]))))
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        usize::from(take!(1)[0])
                    } else {
                        let b = take!(4);
                        u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                    };
                    if n > 256 {
                        return Err(format!("a {n}-byte integer at offset {at} is too long"));
                    }
                    let b = take!(n);
                    if n <= 8 {
                        // Sign-extend the little-endian two's complement bytes.
                        let fill = if b.last().is_some_and(|&x| x & 0x80 != 0) {
                            0xFF
                        } else {
                            0
                        };
                        let mut w = [fill; 8];
                        w[..n].copy_from_slice(b);
                        self.new_obj(Obj::Int(i64::from_le_bytes(w)))
                    } else {
                        self.new_obj(Obj::BigInt(b.to_vec()))
                    }
                }
                b'N' => self.new_obj(Obj::None),
                0x88 => self.new_obj(Obj::Bool(true)),
                0x89 => self.new_obj(Obj::Bool(false)),
                b'G' => {
                    let b = take!(8);
                    let v = f64::from_be_bytes(b.try_into().expect("8 bytes"));
                    self.new_obj(Obj::Float(v))
                }
                b'X' | 0x8c | 0x8d | b'U' | b'T' | b'C' | b'B' | 0x8e => {
                    let n = match op {
                        0x8c | b'U' | b'C' => usize::from(take!(1)[0]),
                        b'X' | b'T' | b'B' => {
                            let b = take!(4);
                            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
                        }
                        _ => {
                            let b = take!(8);
                            usize::try_from(u64::from_le_bytes(b.try_into().expect("8 bytes")))
                                .map_err(|_| format!("string length at offset {at} overflows"))?
                        }
                    };
                    let b = take!(n);
                    match op {
                        b'X' | 0x8c | 0x8d => {
                            let s = std::str::from_utf8(b)
                                .map_err(|_| format!("string at offset {at} is not UTF-8"))?;
                            self.new_obj(Obj::Str(s.to_string()))
                        }
                        // Python 2 str: latin-1.
                        b'U' | b'T' => {
                            self.new_obj(Obj::Str(b.iter().map(|&c| char::from(c)).collect()))
                        }
                        _ => self.new_obj(Obj::Bytes(n)),
                    }
                }
                b'c' => {
                    let line = |p: &mut usize| -> Result<String, String> {
                        let rest = data.get(*p..).unwrap_or_default();
                        let end = rest
                            .iter()
                            .take(256)
                            .position(|&c| c == b'\n')
                            .ok_or_else(|| format!("unterminated GLOBAL at offset {at}"))?;
                        let s = std::str::from_utf8(&rest[..end])
                            .map_err(|_| format!("GLOBAL at offset {at} is not UTF-8"))?
                            .to_string();
                        *p += end + 1;
                        Ok(s)
                    };
                    let module = line(&mut p)?;
                    let name = line(&mut p)?;
                    let g = global(&module, &name)?;
                    self.new_obj(Obj::Global(g))
                }
                0x93 => {
                    let name = pop!();
                    let module = pop!();
                    let (Obj::Str(m), Obj::Str(n)) = (self.get(module), self.get(name)) else {
                        return Err(format!("STACK_GLOBAL of non-strings at offset {at}"));
                    };
                    let g = global(m, n)?;
                    self.new_obj(Obj::Global(g))
                }
                b'Q' => {
                    let pid = pop!();
                    self.persistent(pid)
                        .map_err(|e| format!("{e} (offset {at})"))?
                }
                b'R' => {
                    let args = pop!();
                    let f = pop!();
                    self.reduce(f, args)
                        .map_err(|e| format!("{e} (offset {at})"))?
                }
                b'b' => {
                    let _state = pop!();
                    let o = top!();
                    match self.get(o) {
                        // An OrderedDict's `__dict__` (a state_dict's `_metadata`), and a
                        // parameter's state: neither changes the tensors.
                        Obj::Dict(_) | Obj::Tensor(_) => continue,
                        o => return Err(format!("BUILD of {} at offset {at}", o.kind())),
                    }
                }
                b'q' | b'r' | 0x94 => {
                    let key = match op {
                        b'q' => u64::from(take!(1)[0]),
                        b'r' => {
                            let b = take!(4);
                            u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                        }
                        _ => memo.len() as u64,
                    };
                    let t = top!();
                    memo.insert(key, t);
                    continue;
                }
                b'h' | b'j' => {
                    let key = if op == b'h' {
                        u64::from(take!(1)[0])
                    } else {
                        let b = take!(4);
                        u64::from(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    };
                    *memo
                        .get(&key)
                        .ok_or_else(|| format!("memo key {key} is unset at offset {at}"))?
                }
                op => {
                    let name = match op {
                        b'P' => " (PERSID)",
                        0x81 => " (NEWOBJ)",
                        0x92 => " (NEWOBJ_EX)",
                        b'i' => " (INST)",
                        b'o' => " (OBJ)",
                        b'I' | b'L' | b'F' | b'S' | b'V' => " (a protocol 0 opcode)",
                        0x8f..=0x91 => " (a set)",
                        0x96..=0x98 => " (an out-of-band buffer)",
                        _ => "",
                    };
                    return Err(format!(
                        "pickle opcode {op:#04x}{name} at offset {at} is not supported"
                    ));
                }
            };
            stack.push(Item::Obj(id));
        }
    }
}

/// A tensor found in the object tree, with its dotted name.
pub(crate) struct Found<'a> {
    pub(crate) name: String,
    pub(crate) tensor: &'a TensorRec,
}

/// The tensors under `root` (a dict), depth first in dict order. Nested dicts, lists and
/// tuples add `key.` to the name; other leaves are skipped. `max_depth` bounds the nesting,
/// `max_visits` the objects visited (a shared sub-dict is visited once per reference),
/// `max_name` each name and `max_names_total` all the names built together.
pub(crate) fn tensors(
    m: &Machine,
    root: Id,
    max_depth: usize,
    max_visits: usize,
    max_name: usize,
    max_names_total: u64,
) -> Result<Vec<Found<'_>>, String> {
    if !matches!(m.get(root), Obj::Dict(_)) {
        return Err(format!(
            "the pickled object is {}, not a dict (a state_dict)",
            m.get(root).kind()
        ));
    }
    let mut out = Vec::new();
    let mut todo: Vec<(Id, String, usize)> = vec![(root, String::new(), 0)];
    let (mut visits, mut names_total) = (0usize, 0u64);
    while let Some((id, name, depth)) = todo.pop() {
        visits += 1;
        if visits > max_visits {
            return Err(format!("more than {max_visits} objects to visit"));
        }
        let children: Vec<(std::borrow::Cow<'_, str>, Id)> = match m.get(id) {
            Obj::Tensor(t) => {
                out.push(Found { name, tensor: t });
                continue;
            }
            Obj::Dict(items) => items
                .iter()
                .map(|&(k, v)| match m.get(k) {
                    Obj::Str(s) => Ok((std::borrow::Cow::Borrowed(s.as_str()), v)),
                    Obj::Int(i) => Ok((std::borrow::Cow::Owned(i.to_string()), v)),
                    o => Err(format!("a dict key is {}, not a str or int", o.kind())),
                })
                .collect::<Result<_, String>>()?,
            Obj::List(items) | Obj::Tuple(items) => items
                .iter()
                .enumerate()
                .map(|(i, &v)| (std::borrow::Cow::Owned(i.to_string()), v))
                .collect(),
            _ => continue,
        };
        if depth >= max_depth {
            return Err(format!(
                "dicts nest deeper than {max_depth} (Limits::max_depth) at '{name}'"
            ));
        }
        for (k, v) in children.into_iter().rev() {
            let len = if name.is_empty() {
                k.len()
            } else {
                name.len() + 1 + k.len()
            };
            if len > max_name {
                return Err(format!(
                    "a name of {len} bytes is longer than {max_name} (Limits::max_name_bytes)"
                ));
            }
            names_total += len as u64;
            if names_total > max_names_total {
                return Err(format!(
                    "the names need more than {max_names_total} bytes (Limits::max_pickle_bytes)"
                ));
            }
            let full = if name.is_empty() {
                k.into_owned()
            } else {
                format!("{name}.{k}")
            };
            todo.push((v, full, depth + 1));
        }
    }
    Ok(out)
}
