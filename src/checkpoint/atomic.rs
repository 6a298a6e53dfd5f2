//! Atomic output: a temporary file beside the target, synced (unless asked not to), then renamed
//! over it.

use std::fs::{File, OpenOptions};
use std::io::{Cursor, IoSlice, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// Where a writer's bytes go, and what closing it yields.
pub trait Sink: Write {
    /// What [`Sink::close`] returns.
    type Output;
    /// Completes the output (for an [`AtomicFile`]: sync and rename into place).
    ///
    /// # Errors
    /// [`Error::Io`] if the output cannot be completed.
    fn close(self) -> Result<Self::Output>;
    /// A name for error messages.
    fn describe(&self) -> String {
        "output".to_string()
    }
}

impl Sink for Vec<u8> {
    type Output = Vec<u8>;
    fn close(self) -> Result<Vec<u8>> {
        Ok(self)
    }
}

impl Sink for Cursor<Vec<u8>> {
    type Output = Vec<u8>;
    fn close(self) -> Result<Vec<u8>> {
        Ok(self.into_inner())
    }
}

/// A file written under a temporary name beside `target` and renamed onto it by
/// [`AtomicFile::commit`]: until then `target` (if it exists) is untouched, and if the
/// `AtomicFile` is dropped uncommitted (an error, a panic) the temporary file is removed.
///
/// Writes are gathered so that each `write` call the kernel sees ends on a multiple of
/// 4096 bytes (a page) of the file (the few bytes past the last boundary wait for the next call,
/// and writes smaller than 64 KiB wait whole, so that a model's many small tensors cost few
/// calls): writes that start and end on page boundaries let the page cache take whole large
/// folios instead of a partial page at each end. Measured on this project's ext4 host: a C
/// program writing 500 MB in 1 MiB pieces took a median 0.15 s from an odd offset against 0.12
/// s aligned; `init` of GPT-2, whose chunks were all offset by its header, about 2 % less (within
/// the host's noise).
#[derive(Debug)]
pub struct AtomicFile {
    file: Option<File>,
    tmp: PathBuf,
    target: PathBuf,
    sync: bool,
    /// Bytes accepted but not yet handed to the kernel; they follow the file's position.
    held: Vec<u8>,
    /// The file's position (where `held` starts).
    at: u64,
    /// A reservation under way on another thread, and its length ([`AtomicFile::reserve`]).
    reserving: Option<(u64, std::thread::JoinHandle<std::io::Result<()>>)>,
}

/// The file boundary each write to the kernel ends on (a page, the smallest unit the page cache
/// holds).
const ALIGN: u64 = 4096;

/// Writes up to this size, with the bytes already held, are held rather than written.
const HELD: usize = 64 * 1024;

static COUNTER: AtomicU64 = AtomicU64::new(0);

impl AtomicFile {
    /// Creates the temporary file `.<name>.<pid>-<n>.tmp` in `target`'s directory.
    ///
    /// # Errors
    /// [`Error::Io`] if `target` is a directory, has no file name, or the temporary file cannot
    /// be created.
    pub fn create(target: impl AsRef<Path>) -> Result<AtomicFile> {
        let target = target.as_ref().to_path_buf();
        let io = |m: String| Error::io(target.display().to_string(), std::io::Error::other(m));
        if target.is_dir() {
            return Err(io("is a directory".into()));
        }
        let name = target
            .file_name()
            .ok_or_else(|| io("has no file name".into()))?
            .to_string_lossy()
            .into_owned();
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .read(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| io(format!("cannot create {}: {e}", tmp.display())))?;
        Ok(AtomicFile {
            file: Some(file),
            tmp,
            target,
            sync: true,
            held: Vec::new(),
            at: 0,
            reserving: None,
        })
    }

    /// The file committed without syncing it to the disk first (as `torch.save`, safetensors'
    /// `save_file` and `numpy.save` write): it still appears only once whole, but a power loss or
    /// a system crash soon after may leave the target empty or missing. Syncing half a gigabyte
    /// can take longer than computing it.
    #[must_use]
    pub fn without_sync(mut self) -> AtomicFile {
        self.sync = false;
        self
    }

    /// Reserves `len` bytes of disk for the file before it is written (Linux: `fallocate` with
    /// `FALLOC_FL_KEEP_SIZE`, so the file's length still grows only as it is written; elsewhere,
    /// and on file systems that cannot preallocate, nothing happens). Writes into reserved space
    /// skip the file system's per-block delayed allocation (on ext4 here, a 500 MB `init` spends
    /// about a quarter less time in the kernel). Reserve at most the bytes that will be written:
    /// space reserved past the final length stays allocated.
    ///
    /// A disk with fewer free bytes than `len` is an error now, before anything is computed. The
    /// reservation itself (1.5–2.6 ms for 500 MB on ext4 here) runs on another thread while the
    /// caller goes on computing; the first bytes handed to the kernel wait for it, and an error
    /// it meets (another process took the space meanwhile) is that write's error.
    ///
    /// # Errors
    /// [`Error::Io`] if the disk has not `len` bytes free, or the file cannot be shared with the
    /// reserving thread.
    pub fn reserve(&mut self, len: u64) -> Result<()> {
        if len == 0 {
            return Ok(());
        }
        #[cfg(target_os = "linux")]
        {
            let Some(file) = self.file.as_ref() else {
                return Ok(());
            };
            let Ok(n) = libc::off_t::try_from(len) else {
                return Ok(());
            };
            if let Some(free) = free_bytes(file).filter(|&free| free < len) {
                return Err(self.io(&std::io::Error::new(
                    std::io::ErrorKind::StorageFull,
                    format!("cannot reserve {len} bytes for the output: {free} bytes free"),
                )));
            }
            let file = file.try_clone().map_err(|e| self.io(&e))?;
            self.reserved().map_err(|e| self.io(&e))?;
            let job = std::thread::Builder::new()
                .name("torch-rng-reserve".into())
                .spawn(move || preallocate(&file, n));
            if let Ok(h) = job {
                self.reserving = Some((len, h));
            } else if let Some(f) = self.file.as_ref() {
                // No thread to be had: reserve on this one.
                preallocate(f, n).map_err(|e| self.io(&reservation_failed(len, &e)))?;
            }
        }
        Ok(())
    }

    /// Waits for the reservation under way, if any; its error, if it met one other than "not
    /// supported".
    fn reserved(&mut self) -> std::io::Result<()> {
        match self.reserving.take() {
            Some((len, h)) => match h.join() {
                Ok(r) => r.map_err(|e| reservation_failed(len, &e)),
                // The reservation only speeds the writes up.
                Err(_) => Ok(()),
            },
            None => Ok(()),
        }
    }

    /// The path the file will have once committed.
    #[must_use]
    pub fn target(&self) -> &Path {
        &self.target
    }

    fn io(&self, e: &std::io::Error) -> Error {
        Error::io(
            self.target.display().to_string(),
            std::io::Error::new(e.kind(), e.to_string()),
        )
    }

    fn file(&mut self) -> std::io::Result<&mut File> {
        self.file
            .as_mut()
            .ok_or_else(|| std::io::Error::other("already committed"))
    }

    /// Flushes and syncs the temporary file, renames it onto the target, and syncs the
    /// directory so that the rename survives a crash (without either sync after
    /// [`AtomicFile::without_sync`]).
    ///
    /// # Errors
    /// [`Error::Io`] if any step fails; the target is then untouched and the temporary file
    /// removed.
    pub fn commit(mut self) -> Result<()> {
        if self.file.is_none() {
            return Ok(());
        }
        self.flush().map_err(|e| self.io(&e))?;
        let Some(mut f) = self.file.take() else {
            return Ok(());
        };
        f.flush()
            .and_then(|()| if self.sync { f.sync_all() } else { Ok(()) })
            .map_err(|e| self.io(&e))?;
        drop(f);
        std::fs::rename(&self.tmp, &self.target).map_err(|e| self.io(&e))?;
        if !self.sync {
            return Ok(());
        }
        // The data is already durable; a directory that cannot be synced (some file systems)
        // only weakens the rename's durability, so its error is not the caller's failure.
        if let Some(dir) = self.target.parent().filter(|p| !p.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        Ok(())
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        let _ = self.reserved();
        if self.file.take().is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

impl AtomicFile {
    /// Writes the held bytes, then `data`, whole (looping over short writes).
    fn send(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.reserved()?;
        let mut held = std::mem::take(&mut self.held);
        let f = self.file()?;
        let (mut a, mut b) = (&held[..], data);
        while !a.is_empty() || !b.is_empty() {
            let n = match f.write_vectored(&[IoSlice::new(a), IoSlice::new(b)]) {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            let from_a = n.min(a.len());
            a = &a[from_a..];
            b = &b[n - from_a..];
        }
        self.at += (held.len() + data.len()) as u64;
        held.clear();
        self.held = held;
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file()?;
        if self.held.len() + buf.len() <= HELD {
            self.held.extend_from_slice(buf);
            return Ok(buf.len());
        }
        // Send the held bytes and the part of `buf` that ends on a boundary; hold the rest
        // (under `ALIGN` bytes, or all of a `buf` too short to reach the next boundary).
        let start = self.at + self.held.len() as u64;
        let end = start + buf.len() as u64;
        let take = ((end & !(ALIGN - 1)).saturating_sub(start) as usize).min(buf.len());
        self.send(&buf[..take])?;
        self.held.extend_from_slice(&buf[take..]);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        if !self.held.is_empty() {
            self.send(&[])?;
        }
        self.reserved()?;
        self.file()?.flush()
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, pos: SeekFrom) -> std::io::Result<u64> {
        self.flush()?;
        self.at = self.file()?.seek(pos)?;
        Ok(self.at)
    }
}

impl Sink for AtomicFile {
    type Output = ();
    fn close(self) -> Result<()> {
        self.commit()
    }
    fn describe(&self) -> String {
        self.target.display().to_string()
    }
}

/// Reserves `len` bytes of `file` from its start, keeping its length (`Ok` where the file system
/// cannot preallocate).
#[cfg(target_os = "linux")]
fn preallocate(file: &File, len: libc::off_t) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor is `file`'s, open for the call; `fallocate` reads only its arguments.
    let r = unsafe { libc::fallocate(file.as_raw_fd(), libc::FALLOC_FL_KEEP_SIZE, 0, len) };
    if r == 0 {
        return Ok(());
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL) => Ok(()),
        _ => Err(e),
    }
}

/// The bytes free on `file`'s file system (blocks free, the reserved ones included: what a
/// privileged writer may still take), if known.
#[cfg(target_os = "linux")]
fn free_bytes(file: &File) -> Option<u64> {
    use std::os::fd::AsRawFd;
    // SAFETY: `statvfs` is plain data; all zeros is a valid value to be overwritten.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: the descriptor is `file`'s, open for the call; `st` is a valid place to write.
    let r = unsafe { libc::fstatvfs(file.as_raw_fd(), &raw mut st) };
    // Both fields are narrower than 64 bits on some 32-bit targets.
    #[allow(clippy::useless_conversion)]
    let (blocks, size) = (u64::from(st.f_bfree), u64::from(st.f_frsize));
    (r == 0).then(|| blocks.saturating_mul(size))
}

/// A failed reservation of `len` bytes, as the error of the write that waited for it.
fn reservation_failed(len: u64, e: &std::io::Error) -> std::io::Error {
    std::io::Error::new(
        e.kind(),
        format!("cannot reserve {len} bytes for the output: {e}"),
    )
}

/// Refuses an `output` path that names the same file as one of `inputs` (after resolving
/// symbolic links and `..`, and, on Unix, comparing device and inode so that hard links count).
/// An output that does not exist yet is compared through its canonical parent directory.
///
/// # Errors
/// [`Error::InvalidArgument`] naming both paths when they are the same file; [`Error::Io`] if
/// an input cannot be resolved.
pub fn ensure_distinct(output: impl AsRef<Path>, inputs: &[&Path]) -> Result<()> {
    let output = output.as_ref();
    let out = resolve(output);
    for &input in inputs {
        let inp =
            std::fs::canonicalize(input).map_err(|e| Error::io(input.display().to_string(), e))?;
        if out.as_ref() == Some(&inp) || same_file(output, input) {
            return Err(Error::arg(
                "output",
                format!(
                    "{} is the input {}; refusing to overwrite it",
                    output.display(),
                    input.display()
                ),
            ));
        }
    }
    Ok(())
}

/// The canonical form of a path that may not exist yet.
fn resolve(p: &Path) -> Option<PathBuf> {
    if let Ok(c) = std::fs::canonicalize(p) {
        return Some(c);
    }
    let name = p.file_name()?;
    let parent = match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    Some(std::fs::canonicalize(parent).ok()?.join(name))
}

#[cfg(unix)]
fn same_file(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &Path, _: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tmpdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("torch-rng-atomic-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn commit_replaces_and_drop_leaves_the_old_file() {
        let d = tmpdir("commit");
        let t = d.join("out.bin");
        std::fs::write(&t, b"old").unwrap();
        {
            let mut f = AtomicFile::create(&t).unwrap();
            f.write_all(b"partial").unwrap();
            // Dropped without commit: as if the writer failed half way.
        }
        assert_eq!(std::fs::read(&t).unwrap(), b"old");
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            1,
            "temporary file left"
        );
        let mut f = AtomicFile::create(&t).unwrap();
        f.reserve(0).unwrap();
        f.reserve(3).unwrap();
        f.write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&t).unwrap(), b"new");
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 1);
        assert!(AtomicFile::create(&d).is_err(), "a directory is refused");
        std::fs::remove_dir_all(&d).ok();
    }

    /// A reservation no disk can hold is an error naming it (where the file system can
    /// preallocate at all), and the file is left as it was.
    #[test]
    fn an_impossible_reservation_is_an_error() {
        let d = tmpdir("reserve");
        let t = d.join("out.bin");
        let mut f = AtomicFile::create(&t).unwrap();
        if let Err(e) = f.reserve(1 << 62) {
            assert!(e.to_string().contains("cannot reserve"), "{e}");
        }
        f.write_all(b"ok").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&t).unwrap(), b"ok");
        std::fs::remove_dir_all(&d).ok();
    }

    /// A reservation runs on another thread: the writes after it, a commit and a drop wait for
    /// it (a dropped file leaves no temporary file behind, whether the reservation ended or not).
    #[test]
    fn writes_commits_and_drops_wait_for_the_reservation() {
        let d = tmpdir("reserving");
        let t = d.join("out.bin");
        let mut f = AtomicFile::create(&t).unwrap();
        f.reserve(1 << 20).unwrap();
        drop(f);
        assert_eq!(
            std::fs::read_dir(&d).unwrap().count(),
            0,
            "temporary file left"
        );
        let mut f = AtomicFile::create(&t).unwrap();
        f.reserve(1 << 20).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|k| (k % 251) as u8).collect();
        f.write_all(&data).unwrap();
        f.reserve(1 << 20).unwrap();
        f.write_all(b"tail").unwrap();
        f.commit().unwrap();
        let mut want = data;
        want.extend_from_slice(b"tail");
        assert_eq!(std::fs::read(&t).unwrap(), want);
        std::fs::remove_dir_all(&d).ok();
    }

    /// Held and aligned writes give the bytes written, in order, whatever the pieces' sizes,
    /// across seeks (a zip writer patches its headers) and short last pieces.
    #[test]
    fn pieces_of_every_size_and_seeks_give_the_same_bytes() {
        let d = tmpdir("pieces");
        let t = d.join("out.bin");
        let mut f = AtomicFile::create(&t).unwrap();
        let mut model = Cursor::new(Vec::new());
        let sizes = [
            0,
            1,
            7,
            4095,
            4096,
            4097,
            65_536,
            65_537,
            3,
            1 << 20,
            (1 << 20) + 3,
            2,
            123_457,
            1,
        ];
        let mut k = 0u32;
        let mut piece = |n: usize| -> Vec<u8> {
            (0..n)
                .map(|_| {
                    k = k.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    (k >> 16) as u8
                })
                .collect()
        };
        for (i, &n) in sizes.iter().enumerate() {
            let p = piece(n);
            f.write_all(&p).unwrap();
            model.write_all(&p).unwrap();
            if i == 6 {
                // Patch a header-like field near the start, then carry on at the end.
                for w in [&mut f as &mut dyn WriteSeek, &mut model] {
                    assert_eq!(w.seek(SeekFrom::Start(5)).unwrap(), 5);
                    w.write_all(b"patched").unwrap();
                    w.seek(SeekFrom::End(0)).unwrap();
                }
            }
        }
        assert_eq!(
            f.stream_position().unwrap(),
            model.stream_position().unwrap()
        );
        f.commit().unwrap();
        let got = std::fs::read(&t).unwrap();
        let want = model.into_inner();
        assert_eq!(got.len(), want.len());
        assert!(got == want, "contents differ");
        std::fs::remove_dir_all(&d).ok();
    }

    trait WriteSeek: Write + Seek {}
    impl<T: Write + Seek> WriteSeek for T {}

    #[test]
    fn output_equal_to_an_input_is_refused() {
        let d = tmpdir("distinct");
        let a = d.join("model.json");
        std::fs::write(&a, b"{}").unwrap();
        let sub = d.join("sub");
        std::fs::create_dir_all(&sub).unwrap();
        let same = sub.join("..").join("model.json");
        assert!(ensure_distinct(&same, &[&a]).is_err());
        assert!(ensure_distinct(&a, &[&a]).is_err());
        assert!(ensure_distinct(d.join("new.safetensors"), &[&a]).is_ok());
        #[cfg(unix)]
        {
            let link = d.join("link.json");
            std::os::unix::fs::symlink(&a, &link).unwrap();
            assert!(ensure_distinct(&link, &[&a]).is_err());
            let hard = d.join("hard.json");
            std::fs::hard_link(&a, &hard).unwrap();
            assert!(ensure_distinct(&hard, &[&a]).is_err());
        }
        std::fs::remove_dir_all(&d).ok();
    }
}
