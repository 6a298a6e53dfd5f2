//! Reading and writing checkpoint files: safetensors, NumPy `.npz` and PyTorch `.pt`.
//!
//! Every reader treats its input as hostile: a malformed file is an [`Error::Malformed`] that
//! names the file, the item and the problem; it never panics, and its work and memory are bounded
//! by [`Limits`] (checked before anything is allocated). A reader first builds an index (names,
//! dtypes, shapes, where the bytes are) from the file's headers; tensor bytes are read one tensor
//! at a time, so reading a model needs about the size of its largest tensor, not of the file
//! (for a `.pt` tensor that is a view of part of a storage: the storage plus the view).
//!
//! * safetensors ([`Format::Safetensors`]): strict, see [`safetensors`](self#safetensors).
//! * `.npz` ([`Format::Npz`]): `numpy.savez` (stored) and `numpy.savez_compressed` (deflated)
//!   archives of `.npy` members, zip64 included.
//! * `.pt` ([`Format::TorchZip`], [`Format::TorchLegacy`]): what `torch.save` writes for a
//!   `state_dict` (or a dict of them), read by a small pickle machine that executes nothing and
//!   knows only the globals `torch.save` emits for tensors.
//!
//! The writers ([`SafetensorsWriter`], [`NpzWriter`]) stream: the header is written from the
//! tensors' names, dtypes and shapes, then each tensor's bytes as they are produced. With
//! [`AtomicFile`] the output appears under its name only when complete, and an existing file is
//! never touched on failure.
//!
//! # Formats and limits
//!
//! **safetensors**: an 8-byte little-endian header length `n` (at most
//! [`Limits::max_header_bytes`], 100,000,000 as in the reference implementation), `n` bytes of
//! UTF-8 JSON starting with `{` (trailing spaces allowed), then the data. The JSON is one object:
//! `__metadata__` (an object of string values) and, per tensor, exactly `dtype`, `shape` and
//! `data_offsets`. Refused: duplicate keys, unknown keys, nesting deeper than 4, a shape whose
//! byte size differs from its `data_offsets` range, ranges that overlap, leave gaps, or do not
//! end exactly at the end of the file, and every overflow. Dtypes: `BOOL U8 I8 I16 U16 I32 U32
//! I64 U64 F16 BF16 F32 F64`; the format's other dtypes (`F8_*`, `C64`, ...) are refused by name.
//!
//! **npz**: a zip archive (read from its central directory; zip64 supported; stored or deflated
//! members; CRC-32 checked on every read) whose members are all `<name>.npy`. A `.npy` member has
//! format version 1.0, 2.0 or 3.0, a header of at most [`Limits::max_npy_header_bytes`] (10,000,
//! NumPy's own default), C order, and one of the dtypes `<f8 <f4 <f2 <i8 <i4 <i2 |i1 |u1 |b1 <u2
//! <u4 <u8` (`<` or `|` for one-byte types). Refused: Fortran order, object and structured
//! dtypes, big-endian data, encrypted or multi-disk archives, members that overlap or lie outside
//! the file, data after the array. NumPy has no bfloat16: torch-rng's writer stores bfloat16 as
//! its `uint16` bit patterns, which read back as [`DType::UInt16`]; use
//! [`RawTensor::reinterpret`] where the model says bfloat16.
//!
//! **pt**: the zip format of `torch.save` since PyTorch 1.6 (`<archive>/data.pkl`,
//! `<archive>/data/<key>`, `byteorder`, `version`) and the legacy format before it (a sequence of
//! pickles followed by the storages). Accepted pickle globals: `collections.OrderedDict`,
//! `torch._utils._rebuild_tensor_v2`, `_rebuild_tensor_v3`, `_rebuild_parameter`,
//! `_rebuild_parameter_with_state`, the typed storages `torch.FloatStorage` ... `torch.BoolStorage`,
//! `torch.storage.UntypedStorage` and the dtype objects `torch.float32` ...; anything else is
//! refused by name. The root must be a dict; nested dicts (`{"model": state_dict}`), lists and
//! tuples are walked and their tensors named `model.weight`, `layers.0.bias`; non-tensor leaves
//! (an epoch number, a string) are skipped. Tensors may be non-contiguous and may share storage
//! (reported as [`Tie`]s); big-endian zip files are byte-swapped (big-endian legacy files are
//! refused). Refused by name: whole pickled modules (`torch.nn.modules...`), NumPy scalars,
//! sparse, quantized and subclass tensors, complex and float8 storages. A storage counts against
//! [`Limits::max_tensor_bytes`] like a tensor; the pickle against [`Limits::max_pickle_bytes`],
//! and it may copy no more than 16 words per byte out of memoised objects.
//!
//! Zip member names must be UTF-8 (flag bit 11 or ASCII); names in code page 437 are refused,
//! so that files whose UTF-8 names lack the flag (older torch-rng `.npz` files) read back as
//! written.
//!
//! Every reader refuses more than [`Limits::max_tensors`] tensors, a tensor over
//! [`Limits::max_tensor_bytes`] (8 GiB by default, [`crate::tensor::MAX_BYTES`]), more than
//! [`Limits::max_total_bytes`] in all, more than [`Limits::max_ndim`] dimensions, and names over
//! [`Limits::max_name_bytes`].

mod atomic;
mod json;
mod npy;
mod npz;
mod pickle;
mod pt;
mod safetensors;
mod zip;

#[cfg(test)]
mod tests;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

use half::{bf16, f16};
use sha2::{Digest, Sha256};

pub use atomic::{ensure_distinct, AtomicFile, Sink};
pub use npz::npz_bytes;
pub use npz::NpzWriter;
pub use safetensors::safetensors_bytes;
pub use safetensors::SafetensorsWriter;
pub use zip::Zip64;

use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::{Storage, Tensor};

/// A writer of announced tensors in order, for [`write_items`]: a tensor's start (its name and
/// byte count checked), its bytes in pieces, its end.
trait TensorSink {
    fn begin(&mut self, name: &str, nbytes: u64) -> Result<()>;
    fn bytes(&mut self, b: &[u8]) -> Result<()>;
    fn end(&mut self) -> Result<()>;
    /// Where the first byte of each of the next `n` tensors goes, modulo
    /// [`crate::tensor::PHASE`], as far as the sink knows (0 where it does not, or for the
    /// tensors past those it announced). Only the speed of the writes depends on it.
    fn phases(&self, n: usize) -> Vec<usize> {
        vec![0; n]
    }
}

/// Writes each of `items` in turn to `w`, the chunks of deferred tensors computed ahead on their
/// threads across tensor boundaries ([`crate::stream`]). Stops at the first error; nothing is
/// computed for the tensors after it.
fn write_items(w: &mut impl TensorSink, items: &[(&str, &Tensor)]) -> Result<()> {
    let list: Vec<crate::stream::Item<'_>> = items
        .iter()
        .map(|&(_, t)| crate::stream::Item::Tensor(t))
        .collect();
    let phases = w.phases(items.len());
    crate::stream::each(&list, &phases, |feed| {
        for &(name, t) in items {
            w.begin(name, (t.numel() * t.dtype().size()) as u64)?;
            let mut failed = Ok(());
            feed.next(&mut |b| {
                if failed.is_ok() {
                    failed = w.bytes(b);
                }
            });
            failed?;
            w.end()?;
        }
        Ok(())
    })
}

/// The bounds a reader enforces before it allocates or loops. Adjust a copy of
/// [`Limits::default`] to read larger (or, when fuzzing, smaller) files.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The most tensors in one file (default 1,000,000).
    pub max_tensors: usize,
    /// The largest tensor, in bytes (default [`crate::tensor::MAX_BYTES`], 8 GiB).
    pub max_tensor_bytes: u64,
    /// All tensors together, in bytes (default 1 TiB).
    pub max_total_bytes: u64,
    /// The longest safetensors JSON header, in bytes (default 100,000,000).
    pub max_header_bytes: u64,
    /// The longest `.npy` header, in bytes (default 10,000, as `numpy.load`).
    pub max_npy_header_bytes: u64,
    /// The largest `.pt` pickle (`data.pkl`), in bytes (default 256 MiB).
    pub max_pickle_bytes: u64,
    /// The most dimensions of one tensor (default 64).
    pub max_ndim: usize,
    /// The longest tensor name, in bytes (default 65,535).
    pub max_name_bytes: usize,
    /// How deeply dicts, lists and tuples may nest in a `.pt` pickle (default 32).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_tensors: 1_000_000,
            max_tensor_bytes: crate::tensor::MAX_BYTES,
            max_total_bytes: 1 << 40,
            max_header_bytes: 100_000_000,
            max_npy_header_bytes: 10_000,
            max_pickle_bytes: 256 << 20,
            max_ndim: 64,
            max_name_bytes: 65_535,
            max_depth: 32,
        }
    }
}

/// The kind of a checkpoint file, found from its content (never from its name).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// safetensors.
    Safetensors,
    /// A NumPy `.npz` archive.
    Npz,
    /// `torch.save`'s zip format (PyTorch 1.6 and later).
    TorchZip,
    /// `torch.save`'s legacy format (`_use_new_zipfile_serialization=False`).
    TorchLegacy,
}

impl Format {
    /// A short name: `safetensors`, `npz`, `pt`, `pt (legacy)`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Format::Safetensors => "safetensors",
            Format::Npz => "npz",
            Format::TorchZip => "pt",
            Format::TorchLegacy => "pt (legacy)",
        }
    }
}

/// Where a `.pt` tensor lies in its storage (element units of the tensor's dtype).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageView {
    /// The storage key (`"0"`, `"1"`, ...).
    pub storage: String,
    /// The first element's offset in the storage.
    pub offset: u64,
    /// The stride of each dimension.
    pub stride: Vec<u64>,
}

/// A tensor's entry in a checkpoint's index: name, dtype, shape and, for `.pt`, its view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorInfo {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    view: Option<StorageView>,
}

impl TensorInfo {
    /// The name (`state_dict` key; nested dict keys joined with `.`).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The dtype.
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Where a `.pt` tensor lies in its storage; `None` for the other formats.
    #[must_use]
    pub fn view(&self) -> Option<&StorageView> {
        self.view.as_ref()
    }

    /// The contiguous byte size (checked when the index was built).
    #[must_use]
    pub fn nbytes(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product::<u64>() * self.dtype.size() as u64
    }
}

/// Tensors of a `.pt` file that share one storage (tied weights, or views of one buffer).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tie {
    /// The storage key.
    pub storage: String,
    /// The tensors on it, in file order.
    pub names: Vec<String>,
    /// Whether they are all the same view (dtype, offset, shape, stride): a plain tie.
    pub same_view: bool,
}

/// A tensor read from a checkpoint: dtype, shape and its contiguous little-endian bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct RawTensor {
    dtype: DType,
    shape: Vec<usize>,
    data: Vec<u8>,
}

impl std::fmt::Debug for RawTensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTensor")
            .field("dtype", &self.dtype)
            .field("shape", &self.shape)
            .field("nbytes", &self.data.len())
            .finish()
    }
}

impl RawTensor {
    /// A tensor from its contiguous little-endian bytes.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `data` is not `shape`'s element count times the dtype size.
    pub fn new(dtype: DType, shape: Vec<usize>, data: Vec<u8>) -> Result<RawTensor> {
        match byte_size(&shape, dtype) {
            Some(n) if n == data.len() as u64 => Ok(RawTensor { dtype, shape, data }),
            _ => Err(Error::arg(
                "RawTensor::new",
                format!(
                    "shape {shape:?} of {dtype} does not take {} bytes",
                    data.len()
                ),
            )),
        }
    }

    /// The bytes of a contiguous [`Tensor`] (bool as one byte, 0 or 1).
    #[must_use]
    pub fn from_tensor(t: &Tensor) -> RawTensor {
        RawTensor {
            dtype: t.dtype(),
            shape: t.shape().to_vec(),
            data: t.to_le_bytes(),
        }
    }

    /// The dtype.
    #[must_use]
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    #[must_use]
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The contiguous little-endian bytes.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Consumes the tensor, returning its bytes.
    #[must_use]
    pub fn into_bytes(self) -> Vec<u8> {
        self.data
    }

    /// Lowercase hex SHA-256 of the bytes (as [`Tensor::sha256_hex`]).
    #[must_use]
    pub fn sha256_hex(&self) -> String {
        Sha256::digest(&self.data)
            .iter()
            .fold(String::with_capacity(64), |mut s, b| {
                let _ = write!(s, "{b:02x}");
                s
            })
    }

    /// The same bytes seen as another dtype of the same size (`uint16` → `bfloat16` for a
    /// bfloat16 tensor stored in an `.npz`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the element sizes differ.
    pub fn reinterpret(self, dtype: DType) -> Result<RawTensor> {
        if dtype.size() != self.dtype.size() {
            return Err(Error::arg(
                "RawTensor::reinterpret",
                format!("{} and {dtype} differ in size", self.dtype),
            ));
        }
        Ok(RawTensor { dtype, ..self })
    }

    /// The typed tensor.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a bool byte other than 0 or 1 (which [`Tensor`] cannot
    /// hold).
    pub fn to_tensor(&self) -> Result<Tensor> {
        macro_rules! le {
            ($t:ty, $variant:ident) => {
                Storage::$variant(
                    self.data
                        .chunks_exact(std::mem::size_of::<$t>())
                        .map(|c| <$t>::from_le_bytes(c.try_into().expect("chunk of the size")))
                        .collect(),
                )
            };
        }
        let data = match self.dtype {
            DType::Float32 => le!(f32, F32),
            DType::Float64 => le!(f64, F64),
            DType::Float16 => Storage::F16(
                self.data
                    .chunks_exact(2)
                    .map(|c| f16::from_bits(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            ),
            DType::BFloat16 => Storage::BF16(
                self.data
                    .chunks_exact(2)
                    .map(|c| bf16::from_bits(u16::from_le_bytes([c[0], c[1]])))
                    .collect(),
            ),
            DType::Int64 => le!(i64, I64),
            DType::Int32 => le!(i32, I32),
            DType::Int16 => le!(i16, I16),
            DType::Int8 => Storage::I8(self.data.iter().map(|&b| b as i8).collect()),
            DType::UInt8 => Storage::U8(self.data.clone()),
            DType::Bool => {
                if let Some(b) = self.data.iter().find(|&&b| b > 1) {
                    return Err(Error::arg(
                        "RawTensor::to_tensor",
                        format!("bool byte {b:#04x} is neither 0 nor 1"),
                    ));
                }
                Storage::Bool(self.data.iter().map(|&b| b == 1).collect())
            }
            DType::UInt16 => le!(u16, U16),
            DType::UInt32 => le!(u32, U32),
            DType::UInt64 => le!(u64, U64),
        };
        Tensor::new(self.shape.clone(), data)
    }
}

/// The byte size of `shape` elements of `dtype`, `None` on overflow.
pub(crate) fn byte_size(shape: &[usize], dtype: DType) -> Option<u64> {
    shape
        .iter()
        .try_fold(dtype.size() as u64, |acc, &d| acc.checked_mul(d as u64))
}

/// A seekable input with its length and a name for messages; every read is bounds-checked
/// before its buffer is allocated.
pub(crate) struct Src<R> {
    r: R,
    len: u64,
    location: String,
}

impl<R: Read + Seek> Src<R> {
    fn new(mut r: R, location: &str) -> Result<Src<R>> {
        let io = |e: std::io::Error| Error::io(location.to_string(), e);
        let len = r.seek(SeekFrom::End(0)).map_err(io)?;
        Ok(Src {
            r,
            len,
            location: location.to_string(),
        })
    }

    /// `n` bytes at `offset`, refused (before allocating) if they are not all in the file.
    pub(crate) fn read_at(&mut self, offset: u64, n: u64, what: &str) -> Result<Vec<u8>> {
        match offset.checked_add(n) {
            Some(end) if end <= self.len => {}
            _ => {
                return Err(self.bad(format!(
                "{what} ({n} bytes at offset {offset}) lies past the end of the file ({} bytes)",
                self.len
            )))
            }
        }
        let mut buf = Vec::new();
        buf.try_reserve_exact(n as usize)
            .map_err(|_| self.bad(format!("cannot allocate {n} bytes for {what}")))?;
        buf.resize(n as usize, 0);
        self.r
            .seek(SeekFrom::Start(offset))
            .and_then(|_| self.r.read_exact(&mut buf))
            .map_err(|e| Error::io(self.location.clone(), e))?;
        Ok(buf)
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn bad(&self, reason: impl Into<String>) -> Error {
        Error::Malformed {
            location: self.location.clone(),
            reason: reason.into(),
        }
    }
}

/// An error about `item` in the file at `location`.
pub(crate) fn malformed(location: &str, item: &str, reason: impl Into<String>) -> Error {
    Error::Malformed {
        location: if item.is_empty() {
            location.to_string()
        } else {
            format!("{location}: {item}")
        },
        reason: reason.into(),
    }
}

/// How to produce one tensor's bytes.
#[derive(Clone, Debug)]
pub(crate) enum Plan {
    /// Contiguous little-endian bytes at a file range.
    Range { offset: u64, len: u64 },
    /// The array of an `.npy` zip member, after its header.
    Npy { member: zip::Entry, header_len: u64 },
    /// A view of a `.pt` storage.
    Storage {
        source: pt::StorageSource,
        offset: u64,
        stride: Vec<u64>,
        swap: bool,
    },
}

/// An open checkpoint: its index of tensors, its metadata and ties, and the source it reads
/// tensor bytes from on demand.
#[derive(Debug)]
pub struct Checkpoint<R> {
    src: Src<R>,
    format: Format,
    limits: Limits,
    tensors: Vec<TensorInfo>,
    plans: Vec<Plan>,
    total_bytes: u64,
    names: std::collections::HashSet<String>,
    metadata: Vec<(String, String)>,
    ties: Vec<Tie>,
}

impl<R> std::fmt::Debug for Src<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Src")
            .field("location", &self.location)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl Checkpoint<File> {
    /// Opens a checkpoint file with the default [`Limits`], finding its format from its content.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read, [`Error::Malformed`] if it is not a well-formed
    /// safetensors, npz or `.pt` file within the limits.
    pub fn open(path: impl AsRef<Path>) -> Result<Checkpoint<File>> {
        Checkpoint::open_with(path, &Limits::default())
    }

    /// [`Checkpoint::open`] with explicit limits.
    ///
    /// # Errors
    /// As [`Checkpoint::open`].
    pub fn open_with(path: impl AsRef<Path>, limits: &Limits) -> Result<Checkpoint<File>> {
        let path = path.as_ref();
        let f = File::open(path).map_err(|e| Error::io(path.display().to_string(), e))?;
        Checkpoint::from_reader(f, &path.display().to_string(), limits)
    }
}

impl<'a> Checkpoint<Cursor<&'a [u8]>> {
    /// A checkpoint held in memory, named `location` in messages.
    ///
    /// # Errors
    /// [`Error::Malformed`] as [`Checkpoint::open`].
    pub fn from_bytes(
        bytes: &'a [u8],
        location: &str,
        limits: &Limits,
    ) -> Result<Checkpoint<Cursor<&'a [u8]>>> {
        Checkpoint::from_reader(Cursor::new(bytes), location, limits)
    }
}

impl<R: Read + Seek> Checkpoint<R> {
    /// A checkpoint read from any seekable source, named `location` in messages.
    ///
    /// # Errors
    /// [`Error::Io`] on a read failure, [`Error::Malformed`] as [`Checkpoint::open`].
    pub fn from_reader(r: R, location: &str, limits: &Limits) -> Result<Checkpoint<R>> {
        Checkpoint::read_as(r, location, limits, None)
    }

    /// [`Checkpoint::from_reader`] for a file that must be of `format` (its content is not
    /// used to choose the reader).
    ///
    /// # Errors
    /// As [`Checkpoint::from_reader`].
    pub fn from_reader_as(
        r: R,
        location: &str,
        limits: &Limits,
        format: Format,
    ) -> Result<Checkpoint<R>> {
        Checkpoint::read_as(r, location, limits, Some(format))
    }

    fn read_as(
        r: R,
        location: &str,
        limits: &Limits,
        format: Option<Format>,
    ) -> Result<Checkpoint<R>> {
        let mut src = Src::new(r, location)?;
        let forced = format;
        let format = if let Some(f) = format {
            f
        } else {
            let head = src.read_at(0, src.len().min(16), "the start of the file")?;
            detect(&head).ok_or_else(|| {
                src.bad("not a safetensors, npz or PyTorch file (unrecognised first bytes)")
            })?
        };
        let mut ck = Checkpoint {
            src,
            format,
            limits: limits.clone(),
            tensors: Vec::new(),
            plans: Vec::new(),
            total_bytes: 0,
            names: std::collections::HashSet::new(),
            metadata: Vec::new(),
            ties: Vec::new(),
        };
        match format {
            Format::Safetensors => safetensors::index(&mut ck)?,
            Format::Npz | Format::TorchZip => {
                let entries = zip::central_directory(&mut ck.src, &ck.limits)?;
                // An archive with `data.pkl` is a torch file unless the caller said npz.
                let torch = match forced {
                    Some(f) => f == Format::TorchZip,
                    None => pt::is_torch_zip(&entries),
                };
                if torch {
                    ck.format = Format::TorchZip;
                    pt::index_zip(&mut ck, &entries)?;
                } else {
                    ck.format = Format::Npz;
                    npz::index(&mut ck, entries)?;
                }
            }
            Format::TorchLegacy => pt::index_legacy(&mut ck)?,
        }
        Ok(ck)
    }

    /// Adds one tensor to the index, checking the limits on names, dimensions and bytes.
    pub(crate) fn push(&mut self, info: TensorInfo, plan: Plan) -> Result<()> {
        let item = format!("tensor '{}'", info.name);
        if self.tensors.len() >= self.limits.max_tensors {
            return Err(self.src.bad(format!(
                "more than {} tensors (Limits::max_tensors)",
                self.limits.max_tensors
            )));
        }
        if info.name.len() > self.limits.max_name_bytes {
            return Err(self.src.bad(format!(
                "a tensor name of {} bytes is longer than {} (Limits::max_name_bytes)",
                info.name.len(),
                self.limits.max_name_bytes
            )));
        }
        let loc = self.src.location.clone();
        if info.shape.len() > self.limits.max_ndim {
            return Err(malformed(
                &loc,
                &item,
                format!(
                    "{} dimensions are more than {} (Limits::max_ndim)",
                    info.shape.len(),
                    self.limits.max_ndim
                ),
            ));
        }
        let bytes = byte_size(&info.shape, info.dtype)
            .ok_or_else(|| malformed(&loc, &item, format!("shape {:?} overflows", info.shape)))?;
        if bytes > self.limits.max_tensor_bytes {
            return Err(malformed(
                &loc,
                &item,
                format!(
                    "{bytes} bytes are more than {} (Limits::max_tensor_bytes)",
                    self.limits.max_tensor_bytes
                ),
            ));
        }
        let total = self.total_bytes.saturating_add(bytes);
        if total > self.limits.max_total_bytes {
            return Err(malformed(
                &loc,
                &item,
                format!(
                    "the tensors need more than {} bytes in all (Limits::max_total_bytes)",
                    self.limits.max_total_bytes
                ),
            ));
        }
        if !self.names.insert(info.name.clone()) {
            return Err(malformed(&loc, &item, "the name appears twice"));
        }
        self.total_bytes = total;
        self.tensors.push(info);
        self.plans.push(plan);
        Ok(())
    }

    /// The file's format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// The name the file goes by in messages (its path, or the `location` it was opened with).
    #[must_use]
    pub fn location(&self) -> &str {
        &self.src.location
    }

    /// The tensors, in file order (safetensors: data order; npz: archive order; `.pt`: dict order).
    #[must_use]
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The index of the tensor called `name`.
    #[must_use]
    pub fn position(&self, name: &str) -> Option<usize> {
        self.tensors.iter().position(|t| t.name == name)
    }

    /// The safetensors `__metadata__` pairs, in file order (empty for the other formats).
    #[must_use]
    pub fn metadata(&self) -> &[(String, String)] {
        &self.metadata
    }

    /// The storages that hold more than one tensor (`.pt` only).
    #[must_use]
    pub fn ties(&self) -> &[Tie] {
        &self.ties
    }

    /// Reads tensor `i` (an index into [`Checkpoint::tensors`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an index out of range, [`Error::Io`] on a read failure,
    /// [`Error::Malformed`] if the bytes are not what the index promised (a CRC mismatch, a
    /// truncated or corrupt deflate stream).
    pub fn read_tensor(&mut self, i: usize) -> Result<RawTensor> {
        let (Some(info), Some(plan)) = (self.tensors.get(i), self.plans.get(i)) else {
            return Err(Error::arg(
                "Checkpoint::read_tensor",
                format!("index {i} out of range for {} tensors", self.tensors.len()),
            ));
        };
        let (info, plan) = (info.clone(), plan.clone());
        let item = format!("tensor '{}'", info.name);
        let data = match plan {
            Plan::Range { offset, len } => self.src.read_at(offset, len, &item)?,
            Plan::Npy { member, header_len } => {
                let mut v = zip::read_member(&mut self.src, &member)?;
                v.drain(..header_len as usize);
                v
            }
            Plan::Storage {
                source,
                offset,
                stride,
                swap,
            } => {
                let storage = pt::read_storage(&mut self.src, &source)?;
                pt::gather(
                    storage,
                    info.dtype.size(),
                    &info.shape,
                    offset,
                    &stride,
                    swap,
                )
            }
        };
        RawTensor::new(info.dtype, info.shape, data).map_err(|_| {
            malformed(
                &self.src.location,
                &item,
                "data size differs from the index",
            )
        })
    }

    /// Reads every tensor, in order.
    ///
    /// # Errors
    /// As [`Checkpoint::read_tensor`].
    pub fn read_all(&mut self) -> Result<Vec<(String, RawTensor)>> {
        (0..self.tensors.len())
            .map(|i| Ok((self.tensors[i].name.clone(), self.read_tensor(i)?)))
            .collect()
    }
}

/// The format a file's first bytes announce.
fn detect(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        // npz and torch zips are told apart by their members.
        return Some(Format::Npz);
    }
    // A legacy torch file starts with a pickle (of its magic number, checked by the reader).
    if head.len() >= 2 && head[0] == 0x80 && (2..=5).contains(&head[1]) {
        return Some(Format::TorchLegacy);
    }
    if head.len() >= 9 && head[8] == b'{' {
        return Some(Format::Safetensors);
    }
    None
}

/// Reads every tensor of the checkpoint file at `path` (default limits).
///
/// # Errors
/// As [`Checkpoint::open`] and [`Checkpoint::read_tensor`].
pub fn read_path(path: impl AsRef<Path>) -> Result<Vec<(String, RawTensor)>> {
    Checkpoint::open(path)?.read_all()
}

/// Reads `data` as a checkpoint of `format` (found from the content when `None`) under small
/// limits (16 MiB per tensor, 64 MiB in all, a 1 MiB pickle), then reads every tensor and
/// checks the reader's own invariants, panicking only if the reader broke one. For the fuzz
/// targets (`fuzz/`) and the smoke test (`tests/fuzz_smoke.rs`); returns whether it was read.
#[doc(hidden)]
#[must_use]
pub fn fuzz_read(data: &[u8], format: Option<Format>) -> bool {
    let limits = Limits {
        max_tensor_bytes: 16 << 20,
        max_total_bytes: 64 << 20,
        max_pickle_bytes: 1 << 20,
        max_tensors: 10_000,
        ..Limits::default()
    };
    let ck = match format {
        Some(f) => Checkpoint::from_reader_as(Cursor::new(data), "fuzz", &limits, f),
        None => Checkpoint::from_bytes(data, "fuzz", &limits),
    };
    let Ok(mut ck) = ck else {
        return false;
    };
    let mut ok = true;
    for i in 0..ck.tensors().len() {
        let info = ck.tensors()[i].clone();
        match ck.read_tensor(i) {
            Ok(t) => {
                assert_eq!(t.bytes().len() as u64, info.nbytes(), "{}", info.name());
                assert_eq!(t.shape(), info.shape());
                assert_eq!(t.dtype(), info.dtype());
            }
            Err(e) => {
                assert!(!e.to_string().is_empty());
                ok = false;
            }
        }
    }
    ok
}

/// Runs the pickle machine on `data` (pickles back to back, as in a legacy `.pt` file) and
/// walks each result for tensors, under small limits. For the fuzz targets and the smoke test.
#[doc(hidden)]
pub fn fuzz_pickle(data: &[u8]) {
    let mut m = pickle::Machine::default();
    let mut at = 0;
    while at < data.len() {
        let Ok((root, end)) = m.run(data, at) else {
            return;
        };
        assert!(end > at && end <= data.len());
        if let Ok(found) = pickle::tensors(&m, root, 32, 100_000, 65_535, 1 << 20) {
            assert!(found
                .iter()
                .all(|f| f.tensor.size.len() == f.tensor.stride.len()));
        }
        at = end;
    }
}
