//! safetensors: the strict reader's index and the streaming writer.
//!
//! Format: <https://github.com/huggingface/safetensors> (`safetensors/src/tensor.rs`): an 8-byte
//! little-endian header size, a JSON header, then the tensors' bytes, which the header's
//! `data_offsets` (relative to the end of the header) must cover exactly, in order.

use std::fmt::Write as _;
use std::io::{Read, Seek};

use super::json::{self, Value};
use super::{byte_size, malformed, Checkpoint, Plan, Sink, TensorInfo};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// The format's dtype name (`F32`, `BF16`, `BOOL`).
pub(crate) fn dtype_name(d: DType) -> &'static str {
    match d {
        DType::Float32 => "F32",
        DType::Float64 => "F64",
        DType::Float16 => "F16",
        DType::BFloat16 => "BF16",
        DType::Int64 => "I64",
        DType::Int32 => "I32",
        DType::Int16 => "I16",
        DType::Int8 => "I8",
        DType::UInt8 => "U8",
        DType::Bool => "BOOL",
        DType::UInt16 => "U16",
        DType::UInt32 => "U32",
        DType::UInt64 => "U64",
    }
}

fn parse_dtype(s: &str) -> std::result::Result<DType, String> {
    DType::ALL
        .into_iter()
        .find(|&d| dtype_name(d) == s)
        .ok_or_else(|| {
            const OTHERS: [&str; 8] = [
                "F4", "F6_E2M3", "F6_E3M2", "F8_E5M2", "F8_E4M3", "F8_E8M0", "C64", "C128",
            ];
            if OTHERS.contains(&s) {
                format!("dtype {s} is not supported")
            } else {
                format!("unknown dtype {s:?}")
            }
        })
}

/// Reads the header of a safetensors file into `ck`'s index.
#[allow(clippy::too_many_lines)] // the header's checks in the order the format states them
pub(crate) fn index<R: Read + Seek>(ck: &mut Checkpoint<R>) -> Result<()> {
    let loc = ck.src.location.clone();
    let bad = |r: String| malformed(&loc, "", r);
    let len = ck.src.len();
    let first = ck.src.read_at(0, 8, "the header size")?;
    let n = u64::from_le_bytes(first.try_into().expect("read_at returned 8 bytes"));
    if n > ck.limits.max_header_bytes {
        return Err(bad(format!(
            "header size {n} is more than {} (Limits::max_header_bytes)",
            ck.limits.max_header_bytes
        )));
    }
    if n > len - 8 {
        return Err(bad(format!(
            "header size {n} is past the end of the file ({len} bytes)"
        )));
    }
    let header = ck.src.read_at(8, n, "the header")?;
    let text =
        std::str::from_utf8(&header).map_err(|e| bad(format!("header is not UTF-8: {e}")))?;
    if !text.starts_with('{') {
        return Err(bad("header does not start with '{'".into()));
    }
    let Value::Object(fields) =
        json::parse(text, 3).map_err(|e| bad(format!("header is not valid JSON: {e}")))?
    else {
        return Err(bad("header is not a JSON object".into()));
    };
    let data_start = 8 + n;
    let data_len = len - data_start;
    let mut tensors: Vec<(u64, u64, TensorInfo)> = Vec::with_capacity(fields.len());
    for (name, v) in fields {
        let item = format!("tensor '{name}'");
        let bad = |r: String| malformed(&loc, &item, r);
        if name == "__metadata__" {
            let Value::Object(m) = v else {
                return Err(malformed(
                    &loc,
                    "__metadata__",
                    format!("is {}, not an object", v.kind()),
                ));
            };
            for (k, v) in m {
                match v {
                    Value::String(s) => ck.metadata.push((k, s)),
                    v => {
                        return Err(malformed(
                            &loc,
                            &format!("__metadata__ '{k}'"),
                            format!("is {}, not a string", v.kind()),
                        ))
                    }
                }
            }
            continue;
        }
        let Value::Object(entry) = v else {
            return Err(bad(format!("is {}, not an object", v.kind())));
        };
        let (mut dtype, mut shape, mut offsets) = (None, None, None);
        for (k, v) in entry {
            match k.as_str() {
                "dtype" => match v {
                    Value::String(s) => dtype = Some(parse_dtype(&s).map_err(&bad)?),
                    v => return Err(bad(format!("dtype is {}, not a string", v.kind()))),
                },
                "shape" => {
                    let Value::Array(dims) = v else {
                        return Err(bad(format!("shape is {}, not an array", v.kind())));
                    };
                    if dims.len() > ck.limits.max_ndim {
                        return Err(bad(format!(
                            "{} dimensions are more than {} (Limits::max_ndim)",
                            dims.len(),
                            ck.limits.max_ndim
                        )));
                    }
                    shape =
                        Some(
                            dims.iter()
                                .map(|d| {
                                    d.as_u64().and_then(|d| usize::try_from(d).ok()).ok_or_else(
                                        || bad(format!("shape has {d:?}, not a dimension size")),
                                    )
                                })
                                .collect::<Result<Vec<usize>>>()?,
                        );
                }
                "data_offsets" => match &v {
                    Value::Array(o) if o.len() == 2 => match (o[0].as_u64(), o[1].as_u64()) {
                        (Some(b), Some(e)) if b <= e => offsets = Some((b, e)),
                        _ => {
                            return Err(bad(format!(
                                "data_offsets {o:?} are not two ascending byte offsets"
                            )))
                        }
                    },
                    v => return Err(bad(format!("data_offsets is not [begin, end]: {v:?}"))),
                },
                other => return Err(bad(format!("unknown field {other:?}"))),
            }
        }
        let dtype = dtype.ok_or_else(|| bad("no dtype".into()))?;
        let shape = shape.ok_or_else(|| bad("no shape".into()))?;
        let (b, e) = offsets.ok_or_else(|| bad("no data_offsets".into()))?;
        let nbytes =
            byte_size(&shape, dtype).ok_or_else(|| bad(format!("shape {shape:?} overflows")))?;
        if nbytes != e - b {
            return Err(bad(format!(
                "shape {shape:?} of {} needs {nbytes} bytes but data_offsets [{b}, {e}] hold {}",
                dtype_name(dtype),
                e - b
            )));
        }
        tensors.push((
            b,
            e,
            TensorInfo {
                name,
                dtype,
                shape,
                view: None,
            },
        ));
    }
    // Data order; an empty tensor sorts before a non-empty one at the same offset.
    tensors.sort_by_key(|t| (t.0, t.1));
    let mut at = 0u64;
    for (b, e, info) in tensors {
        if b != at {
            return Err(malformed(
                &loc,
                &format!("tensor '{}'", info.name),
                if b > at {
                    format!("data_offsets [{b}, {e}] leave a gap after byte {at}")
                } else {
                    format!("data_offsets [{b}, {e}] overlap the tensor before (ends at {at})")
                },
            ));
        }
        if e > data_len {
            return Err(malformed(
                &loc,
                &format!("tensor '{}'", info.name),
                format!("data_offsets [{b}, {e}] are past the end of the data ({data_len} bytes)"),
            ));
        }
        at = e;
        ck.push(
            info,
            Plan::Range {
                offset: data_start + b,
                len: e - b,
            },
        )?;
    }
    if at != data_len {
        return Err(bad(format!(
            "the tensors end at byte {at} of the data but the file has {data_len}"
        )));
    }
    Ok(())
}

/// One tensor a writer is told about in advance.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    nbytes: u64,
}

/// A streaming safetensors writer: the header is written by [`SafetensorsWriter::new`] from the
/// tensors' names, dtypes and shapes, then each tensor's bytes in that order, so that no more
/// than one tensor needs to be in memory.
///
/// The output is what `export` has always written: tensors in the given order with ascending
/// `data_offsets`, `__metadata__` first when not empty, the header padded with spaces to a
/// multiple of 8.
///
/// # Examples
/// ```
/// use torch_rng::checkpoint::{Checkpoint, Limits, SafetensorsWriter};
/// use torch_rng::DType;
/// let mut w = SafetensorsWriter::new(
///     Vec::new(),
///     &[("w", DType::Float32, &[2][..])],
///     &[("seed".into(), "1".into())],
/// )?;
/// w.write_tensor("w", &[0, 0, 128, 63, 0, 0, 0, 64])?;
/// let bytes = w.finish()?;
/// let ck = Checkpoint::from_bytes(&bytes, "w.safetensors", &Limits::default())?;
/// assert_eq!(ck.tensors()[0].shape(), [2]);
/// # Ok::<(), torch_rng::Error>(())
/// ```
#[derive(Debug)]
pub struct SafetensorsWriter<W> {
    w: W,
    specs: Vec<Spec>,
    next: usize,
    /// The data's first byte in the output (the header's length).
    start: u64,
}

impl SafetensorsWriter<super::AtomicFile> {
    /// A writer to `path` through an [`super::AtomicFile`]: the file appears (replacing any
    /// file there) only when [`SafetensorsWriter::finish`] succeeds.
    ///
    /// # Errors
    /// As [`super::AtomicFile::create`] and [`SafetensorsWriter::new`].
    pub fn create(
        path: impl AsRef<std::path::Path>,
        tensors: &[(&str, DType, &[usize])],
        metadata: &[(String, String)],
    ) -> Result<SafetensorsWriter<super::AtomicFile>> {
        SafetensorsWriter::new(super::AtomicFile::create(path)?, tensors, metadata)
    }
}

impl<W: Sink> super::TensorSink for SafetensorsWriter<W> {
    fn begin(&mut self, name: &str, nbytes: u64) -> Result<()> {
        self.check_next(name, nbytes)
    }
    fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.w
            .write_all(b)
            .map_err(|e| Error::io(self.w.describe(), e))
    }
    fn end(&mut self) -> Result<()> {
        self.next += 1;
        Ok(())
    }
    fn phases(&self, n: usize) -> Vec<usize> {
        let mut at = self.start;
        for s in &self.specs[..self.next] {
            at = at.wrapping_add(s.nbytes);
        }
        let phase = crate::tensor::PHASE as u64;
        let mut phases: Vec<usize> = self.specs[self.next..]
            .iter()
            .take(n)
            .map(|s| {
                let p = (at % phase) as usize;
                at = at.wrapping_add(s.nbytes);
                p
            })
            .collect();
        phases.resize(n, 0);
        phases
    }
}

impl<W: Sink> SafetensorsWriter<W> {
    /// Writes the header for `tensors` (name, dtype, shape, in file order) and `metadata`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a duplicate name or metadata key, the reserved name
    /// `__metadata__`, or sizes that overflow; [`Error::Io`] if writing fails.
    pub fn new(
        mut w: W,
        tensors: &[(&str, DType, &[usize])],
        metadata: &[(String, String)],
    ) -> Result<SafetensorsWriter<W>> {
        let arg = |r: String| Error::arg("safetensors writer", r);
        let mut header = String::from("{");
        let mut first = true;
        if !metadata.is_empty() {
            let mut keys = std::collections::HashSet::new();
            header.push_str("\"__metadata__\":{");
            for (i, (k, v)) in metadata.iter().enumerate() {
                if !keys.insert(k.as_str()) {
                    return Err(arg(format!("metadata key {k:?} appears twice")));
                }
                if i > 0 {
                    header.push(',');
                }
                json::quote(k, &mut header);
                header.push(':');
                json::quote(v, &mut header);
            }
            header.push('}');
            first = false;
        }
        let mut names = std::collections::HashSet::new();
        let mut specs = Vec::with_capacity(tensors.len());
        let mut offset = 0u64;
        for &(name, dtype, shape) in tensors {
            if name == "__metadata__" {
                return Err(arg("a tensor cannot be named __metadata__".into()));
            }
            if !names.insert(name) {
                return Err(arg(format!("tensor name {name:?} appears twice")));
            }
            let nbytes =
                byte_size(shape, dtype).ok_or_else(|| arg(format!("shape {shape:?} overflows")))?;
            let end = offset
                .checked_add(nbytes)
                .ok_or_else(|| arg("the file would be over 2^64 bytes".into()))?;
            if !first {
                header.push(',');
            }
            first = false;
            json::quote(name, &mut header);
            header.push_str(":{\"dtype\":\"");
            header.push_str(dtype_name(dtype));
            header.push_str("\",\"shape\":[");
            let dims: Vec<String> = shape.iter().map(ToString::to_string).collect();
            header.push_str(&dims.join(","));
            let _ = write!(header, "],\"data_offsets\":[{offset},{end}]}}");
            offset = end;
            specs.push(Spec {
                name: name.to_string(),
                nbytes,
            });
        }
        header.push('}');
        while header.len() % 8 != 0 {
            header.push(' ');
        }
        let path = w.describe();
        let io = |e: std::io::Error| Error::io(path.clone(), e);
        w.write_all(&(header.len() as u64).to_le_bytes())
            .and_then(|()| w.write_all(header.as_bytes()))
            .map_err(io)?;
        Ok(SafetensorsWriter {
            w,
            specs,
            next: 0,
            start: 8 + header.len() as u64,
        })
    }

    /// Writes the next tensor's contiguous little-endian bytes; `name` must be the next one
    /// announced.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a name out of order or a byte count that differs from its
    /// shape; [`Error::Io`] if writing fails.
    pub fn write_tensor(&mut self, name: &str, data: &[u8]) -> Result<()> {
        self.check_next(name, data.len() as u64)?;
        if let Err(e) = self.w.write_all(data) {
            return Err(Error::io(self.w.describe(), e));
        }
        self.next += 1;
        Ok(())
    }

    /// Checks that `name` is the next tensor announced and that it has `nbytes` bytes.
    fn check_next(&self, name: &str, nbytes: u64) -> Result<()> {
        let arg = |r: String| Error::arg("safetensors writer", r);
        let spec = self.specs.get(self.next).ok_or_else(|| {
            arg(format!(
                "tensor {name:?} was not announced (all tensors are written)"
            ))
        })?;
        if spec.name != name {
            return Err(arg(format!(
                "tensor {name:?} written where {:?} is next",
                spec.name
            )));
        }
        if spec.nbytes != nbytes {
            return Err(arg(format!(
                "tensor {name:?} needs {} bytes, got {nbytes}",
                spec.nbytes,
            )));
        }
        Ok(())
    }

    /// [`SafetensorsWriter::write_tensor`] with a [`Tensor`]'s bytes, encoded a bounded chunk at
    /// a time ([`Tensor::for_each_le_chunk`]): no copy of the whole tensor is made.
    ///
    /// # Errors
    /// As [`SafetensorsWriter::write_tensor`].
    pub fn write(&mut self, name: &str, t: &Tensor) -> Result<()> {
        self.write_many(&[(name, t)])
    }

    /// [`SafetensorsWriter::write`] for each of `items` in turn, with the chunks of deferred
    /// tensors computed ahead on their threads across tensor boundaries: no thread waits at the
    /// end of one tensor for the others to start the next (see [`Tensor::for_each_le_chunk`]
    /// for one tensor).
    ///
    /// # Errors
    /// As [`SafetensorsWriter::write`], for the first tensor that fails; nothing is computed
    /// for the tensors after it.
    pub fn write_many(&mut self, items: &[(&str, &Tensor)]) -> Result<()> {
        super::write_items(self, items)
    }

    /// Checks that every tensor was written and closes the output ([`Sink::close`]: an
    /// [`super::AtomicFile`] is synced and renamed into place; a `Vec` is returned).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if tensors are missing, or the output's error.
    pub fn finish(self) -> Result<W::Output> {
        if let Some(s) = self.specs.get(self.next) {
            return Err(Error::arg(
                "safetensors writer",
                format!(
                    "finished before tensor {:?} ({} of {} written)",
                    s.name,
                    self.next,
                    self.specs.len()
                ),
            ));
        }
        self.w.close()
    }
}

/// The safetensors file for `tensors` (name, tensor), in memory.
///
/// # Errors
/// As [`SafetensorsWriter::new`].
pub fn safetensors_bytes(
    tensors: &[(String, Tensor)],
    metadata: &[(String, String)],
) -> Result<Vec<u8>> {
    let specs: Vec<(&str, DType, &[usize])> = tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect();
    let mut w = SafetensorsWriter::new(Vec::new(), &specs, metadata)?;
    for (n, t) in tensors {
        w.write(n, t)?;
    }
    w.finish()
}
