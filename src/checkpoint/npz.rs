//! NumPy `.npz`: the reader's index and the streaming writer.
//!
//! Format: `numpy.savez` / `numpy.savez_compressed` (`numpy/lib/_npyio_impl.py`): a zip archive
//! with one `<key>.npy` member per array, stored or deflated.

use std::io::{Read, Seek};

use super::zip::{self, Entry, Zip64, ZipWriter};
use super::{byte_size, malformed, npy, Checkpoint, Plan, Sink, TensorInfo};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Reads the `.npy` headers of every member into `ck`'s index.
pub(crate) fn index<R: Read + Seek>(ck: &mut Checkpoint<R>, entries: Vec<Entry>) -> Result<()> {
    let loc = ck.src.location.clone();
    for e in entries {
        let item = format!("member '{}'", e.name);
        let Some(name) = e.name.strip_suffix(".npy") else {
            return Err(malformed(
                &loc,
                &item,
                "is not a .npy array (an npz holds only <name>.npy members)",
            ));
        };
        let want = npy::PREAMBLE + ck.limits.max_npy_header_bytes;
        let head = zip::read_prefix(&mut ck.src, &e, want)?;
        let h = npy::parse_header(&head, ck.limits.max_npy_header_bytes, ck.limits.max_ndim)
            .map_err(|r| malformed(&loc, &item, r))?;
        let nbytes = byte_size(&h.shape, h.dtype)
            .ok_or_else(|| malformed(&loc, &item, format!("shape {:?} overflows", h.shape)))?;
        if h.data_offset.checked_add(nbytes) != Some(e.usize) {
            return Err(malformed(
                &loc,
                &item,
                format!(
                    "holds {} bytes of array data but shape {:?} of {} needs {nbytes}",
                    e.usize.saturating_sub(h.data_offset),
                    h.shape,
                    h.dtype
                ),
            ));
        }
        let info = TensorInfo {
            name: name.to_string(),
            dtype: h.dtype,
            shape: h.shape,
            view: None,
        };
        ck.push(
            info,
            Plan::Npy {
                member: e,
                header_len: h.data_offset,
            },
        )?;
    }
    Ok(())
}

/// Why `name` cannot be an npz key: an archive member `<name>.npy` must not be able to leave
/// the directory it is extracted to, and must fit in a zip name field.
fn check_name(name: &str) -> std::result::Result<(), String> {
    let member = name.len() + 4;
    if member > 0xFFFF {
        return Err(format!(
            "member name of {member} bytes is longer than a zip name field (65,535)"
        ));
    }
    if name.contains('\0') {
        return Err("contains a NUL byte".into());
    }
    if name.starts_with('/') || name.starts_with('\\') {
        return Err("is an absolute path".into());
    }
    let b = name.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Err("starts with a drive letter".into());
    }
    if name.split(['/', '\\']).any(|c| c == "..") {
        return Err("has a '..' path component".into());
    }
    Ok(())
}

struct Spec {
    name: String,
    dtype: DType,
    shape: Vec<usize>,
    nbytes: u64,
}

/// A streaming `.npz` writer: a stored zip of one `.npy` per tensor, named `<name>.npy`, in the
/// order announced, each written as soon as its bytes are given. bfloat16 tensors are stored as
/// their `uint16` bit patterns (NumPy has no bfloat16).
///
/// Member names are checked when the writer is created: no absolute paths, drive letters, `..`
/// components or NUL bytes, at most 65,535 bytes; non-ASCII names carry the zip UTF-8 flag.
/// zip64 records are written where sizes, offsets or the member count need them, so the output
/// is byte-identical to what torch-rng's first npz writer wrote for the archives that did not
/// need them (zip64 and the UTF-8 flag are the only differences).
#[derive(Debug)]
pub struct NpzWriter<W> {
    zip: ZipWriter<W>,
    specs: Vec<Spec>,
    next: usize,
}

impl<W> std::fmt::Debug for ZipWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ZipWriter")
    }
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)
    }
}

impl NpzWriter<super::AtomicFile> {
    /// A writer to `path` through an [`super::AtomicFile`]: the file appears only when
    /// [`NpzWriter::finish`] succeeds.
    ///
    /// # Errors
    /// As [`super::AtomicFile::create`] and [`NpzWriter::new`].
    pub fn create(
        path: impl AsRef<std::path::Path>,
        tensors: &[(&str, DType, &[usize])],
    ) -> Result<NpzWriter<super::AtomicFile>> {
        NpzWriter::new(super::AtomicFile::create(path)?, tensors)
    }
}

impl<W: Sink + Seek> super::TensorSink for NpzWriter<W> {
    fn begin(&mut self, name: &str, nbytes: u64) -> Result<()> {
        self.start_next(name, nbytes)
    }
    fn bytes(&mut self, b: &[u8]) -> Result<()> {
        self.zip.data(b)
    }
    fn end(&mut self) -> Result<()> {
        self.zip.end()?;
        self.next += 1;
        Ok(())
    }
    fn phases(&self, n: usize) -> Vec<usize> {
        // Each member: its local header, its `.npy` header, its data.
        let mut at = self.zip.position();
        let phase = crate::tensor::PHASE as u64;
        let mut phases: Vec<usize> = self.specs[self.next..]
            .iter()
            .take(n)
            .map(|s| {
                let head = npy::header(s.dtype, &s.shape).len() as u64;
                let member = format!("{}.npy", s.name);
                at = at
                    .wrapping_add(
                        self.zip
                            .local_header_len(&member, head.wrapping_add(s.nbytes)),
                    )
                    .wrapping_add(head);
                let p = (at % phase) as usize;
                at = at.wrapping_add(s.nbytes);
                p
            })
            .collect();
        phases.resize(n, 0);
        phases
    }
}

impl<W: Sink + Seek> NpzWriter<W> {
    /// A writer of `tensors` (name, dtype, shape, in order), zip64 only where needed.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a name that cannot be a member (see above), a duplicate
    /// name, or a shape whose size overflows.
    pub fn new(w: W, tensors: &[(&str, DType, &[usize])]) -> Result<NpzWriter<W>> {
        NpzWriter::with_zip64(w, tensors, Zip64::Auto)
    }

    /// [`NpzWriter::new`] with an explicit zip64 policy.
    ///
    /// # Errors
    /// As [`NpzWriter::new`].
    pub fn with_zip64(
        w: W,
        tensors: &[(&str, DType, &[usize])],
        zip64: Zip64,
    ) -> Result<NpzWriter<W>> {
        let mut names = std::collections::HashSet::new();
        let mut specs = Vec::with_capacity(tensors.len());
        for &(name, dtype, shape) in tensors {
            check_name(name)
                .map_err(|r| Error::arg("npz writer", format!("tensor name {name:?} {r}")))?;
            if !names.insert(name) {
                return Err(Error::arg(
                    "npz writer",
                    format!("tensor name {name:?} appears twice"),
                ));
            }
            let nbytes = byte_size(shape, dtype).ok_or_else(|| {
                Error::arg(
                    "npz writer",
                    format!("shape {shape:?} of {name:?} overflows"),
                )
            })?;
            specs.push(Spec {
                name: name.to_string(),
                dtype,
                shape: shape.to_vec(),
                nbytes,
            });
        }
        let describe = w.describe();
        Ok(NpzWriter {
            zip: ZipWriter::new(w, zip64, describe),
            specs,
            next: 0,
        })
    }

    /// Writes the next tensor's contiguous little-endian bytes as `<name>.npy`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a name out of order or a byte count that differs from its
    /// shape; [`Error::Io`] if writing fails.
    pub fn write_tensor(&mut self, name: &str, data: &[u8]) -> Result<()> {
        self.start_next(name, data.len() as u64)?;
        self.zip.data(data)?;
        self.zip.end()?;
        self.next += 1;
        Ok(())
    }

    /// Checks that `name` is the next tensor announced with `nbytes` bytes, and starts its
    /// member with the `.npy` header.
    fn start_next(&mut self, name: &str, nbytes: u64) -> Result<()> {
        let arg = |r: String| Error::arg("npz writer", r);
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
        let header = npy::header(spec.dtype, &spec.shape);
        let member = format!("{name}.npy");
        self.zip.start(&member, header.len() as u64 + spec.nbytes)?;
        self.zip.data(&header)
    }

    /// [`NpzWriter::write_tensor`] with a [`Tensor`]'s bytes, encoded a bounded chunk at a time
    /// ([`Tensor::for_each_le_chunk`]): no copy of the whole tensor is made.
    ///
    /// # Errors
    /// As [`NpzWriter::write_tensor`].
    pub fn write(&mut self, name: &str, t: &Tensor) -> Result<()> {
        self.write_many(&[(name, t)])
    }

    /// [`NpzWriter::write`] for each of `items` in turn, with the chunks of deferred tensors
    /// computed ahead on their threads across tensor boundaries (as
    /// [`super::SafetensorsWriter::write_many`]).
    ///
    /// # Errors
    /// As [`NpzWriter::write`], for the first tensor that fails; nothing is computed for the
    /// tensors after it.
    pub fn write_many(&mut self, items: &[(&str, &Tensor)]) -> Result<()> {
        super::write_items(self, items)
    }

    /// Checks that every tensor was written, writes the central directory and closes the output
    /// ([`Sink::close`]).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if tensors are missing, [`Error::Io`] if writing fails.
    pub fn finish(self) -> Result<W::Output> {
        if let Some(s) = self.specs.get(self.next) {
            return Err(Error::arg(
                "npz writer",
                format!(
                    "finished before tensor {:?} ({} of {} written)",
                    s.name,
                    self.next,
                    self.specs.len()
                ),
            ));
        }
        self.zip.finish()?.close()
    }
}

/// The `.npz` file for `tensors` (name, tensor), in memory.
///
/// # Errors
/// As [`NpzWriter::new`].
pub fn npz_bytes(tensors: &[(String, Tensor)]) -> Result<Vec<u8>> {
    let specs: Vec<(&str, DType, &[usize])> = tensors
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect();
    let mut w = NpzWriter::new(std::io::Cursor::new(Vec::new()), &specs)?;
    for (n, t) in tensors {
        w.write(n, t)?;
    }
    w.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_escape_are_refused() {
        for bad in [
            "/tmp/evil",
            "\\x",
            "a/../../b",
            "..",
            "C:x",
            "a\0b",
            &"n".repeat(65_532),
        ] {
            assert!(check_name(bad).is_err(), "{bad:.20}");
        }
        for good in ["a.weight", "a/b", "..a", "é", &"n".repeat(65_531)] {
            assert!(check_name(good).is_ok(), "{good:.20}");
        }
    }
}
