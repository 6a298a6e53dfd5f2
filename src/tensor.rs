//! Owned contiguous tensors: a shape plus typed data, raw little-endian bytes and SHA-256.

use std::sync::{Arc, OnceLock};

use half::{bf16, f16};
use sha2::{Digest, Sha256};

use crate::dtype::{DType, Element};
use crate::error::{Error, Result};

/// The largest tensor torch-rng allocates, in bytes (8 GiB). Larger requests are refused with
/// [`Error::TooLarge`] before any allocation.
pub const MAX_BYTES: u64 = 8 << 30;

/// The cap [`checked_numel`] applies: [`MAX_BYTES`], or 64 MiB in fuzzing builds (`cargo fuzz`
/// sets `cfg(fuzzing)`), so that no fuzz input can make the fuzzer allocate gigabytes.
pub(crate) const ALLOC_CAP: u64 = if cfg!(fuzzing) { 64 << 20 } else { MAX_BYTES };

/// Typed element storage, row-major.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Storage {
    /// float32 elements.
    F32(Vec<f32>),
    /// float64 elements.
    F64(Vec<f64>),
    /// float16 elements.
    F16(Vec<f16>),
    /// bfloat16 elements.
    BF16(Vec<bf16>),
    /// int64 elements.
    I64(Vec<i64>),
    /// int32 elements.
    I32(Vec<i32>),
    /// int16 elements.
    I16(Vec<i16>),
    /// int8 elements.
    I8(Vec<i8>),
    /// uint8 elements.
    U8(Vec<u8>),
    /// bool elements.
    Bool(Vec<bool>),
    /// uint16 elements.
    U16(Vec<u16>),
    /// uint32 elements.
    U32(Vec<u32>),
    /// uint64 elements.
    U64(Vec<u64>),
}

impl Storage {
    /// `n` zero elements of `dtype`.
    #[must_use]
    pub fn zeros(dtype: DType, n: usize) -> Storage {
        let s = match dtype {
            DType::Float32 => Storage::F32(vec![0.0; n]),
            DType::Float64 => Storage::F64(vec![0.0; n]),
            DType::Float16 => Storage::F16(vec![f16::ZERO; n]),
            DType::BFloat16 => Storage::BF16(vec![bf16::ZERO; n]),
            DType::Int64 => Storage::I64(vec![0; n]),
            DType::Int32 => Storage::I32(vec![0; n]),
            DType::Int16 => Storage::I16(vec![0; n]),
            DType::Int8 => Storage::I8(vec![0; n]),
            DType::UInt8 => Storage::U8(vec![0; n]),
            DType::Bool => Storage::Bool(vec![false; n]),
            DType::UInt16 => Storage::U16(vec![0; n]),
            DType::UInt32 => Storage::U32(vec![0; n]),
            DType::UInt64 => Storage::U64(vec![0; n]),
        };
        s.with_huge_pages()
    }

    /// `n` zero elements of `dtype`, or [`Error::OutOfMemory`] when the allocator cannot provide
    /// them (where [`Storage::zeros`] would abort the process).
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] naming `op` and the bytes asked for.
    pub fn try_zeros(op: &str, dtype: DType, n: usize) -> Result<Storage> {
        // From the allocator's zeroed memory (`calloc`: fresh pages are zero already, so nothing
        // is written until the tensor is), not a reservation then a memset.
        fn zeroed<T: bytemuck::Zeroable>(n: usize) -> Option<Vec<T>> {
            bytemuck::allocation::try_zeroed_vec(n).ok()
        }
        Storage::allocated(op, dtype, n, storage_from!(dtype, zeroed(n)))
    }

    /// No elements of `dtype`, with room for `n` (for kernels that append), or
    /// [`Error::OutOfMemory`].
    pub(crate) fn try_with_capacity(op: &str, dtype: DType, n: usize) -> Result<Storage> {
        fn alloc<T>(n: usize) -> Option<Vec<T>> {
            let mut v = Vec::new();
            v.try_reserve_exact(n).ok()?;
            Some(v)
        }
        Storage::allocated(op, dtype, n, storage_from!(dtype, alloc(n)))
    }

    /// A fresh allocation of `n` elements of `dtype` for `op` (advised to be huge pages), or
    /// [`Error::OutOfMemory`] naming the bytes asked for.
    fn allocated(op: &str, dtype: DType, n: usize, s: Option<Storage>) -> Result<Storage> {
        s.map(Storage::with_huge_pages)
            .ok_or_else(|| Error::OutOfMemory {
                op: op.to_string(),
                bytes: (n as u128) * dtype.size() as u128,
            })
    }

    /// A fresh storage, its pages (none touched yet) advised to be transparent huge pages.
    fn with_huge_pages(self) -> Storage {
        each_storage!(&self, v => advise_huge_pages(v));
        self
    }

    /// The address of the first element.
    pub(crate) fn addr(&self) -> usize {
        each_storage!(self, v => v.as_ptr() as usize)
    }

    /// The number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            Storage::F32(v) => v.len(),
            Storage::F64(v) => v.len(),
            Storage::F16(v) => v.len(),
            Storage::BF16(v) => v.len(),
            Storage::I64(v) => v.len(),
            Storage::I32(v) => v.len(),
            Storage::I16(v) => v.len(),
            Storage::I8(v) => v.len(),
            Storage::U8(v) => v.len(),
            Storage::Bool(v) => v.len(),
            Storage::U16(v) => v.len(),
            Storage::U32(v) => v.len(),
            Storage::U64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The float64 elements (empty for another dtype).
    pub(crate) fn into_f64(self) -> Vec<f64> {
        match self {
            Storage::F64(v) => v,
            _ => Vec::new(),
        }
    }

    /// Element `i`'s bit pattern, widened to u64 (two's complement for signed integers).
    pub(crate) fn bits_at(&self, i: usize) -> u64 {
        match self {
            Storage::F32(v) => u64::from(v[i].to_bits()),
            Storage::F64(v) => v[i].to_bits(),
            Storage::F16(v) => u64::from(v[i].to_bits()),
            Storage::BF16(v) => u64::from(v[i].to_bits()),
            Storage::I64(v) => v[i] as u64,
            Storage::I32(v) => u64::from(v[i] as u32),
            Storage::I16(v) => u64::from(v[i] as u16),
            Storage::I8(v) => u64::from(v[i] as u8),
            Storage::U8(v) => u64::from(v[i]),
            Storage::Bool(v) => u64::from(v[i]),
            Storage::U16(v) => u64::from(v[i]),
            Storage::U32(v) => u64::from(v[i]),
            Storage::U64(v) => v[i],
        }
    }
    /// Every element set to `v` converted as C++'s `static_cast` does ([`Element::from_f64`]);
    /// callers converting a Python scalar check it first with
    /// [`crate::dtype::check_fill_scalar`].
    pub(crate) fn fill_f64(&mut self, v: f64) {
        self.fill_range_f64(0..self.len(), v);
    }

    /// Elements `range` set to `v` (as [`Storage::fill_f64`]).
    pub(crate) fn fill_range_f64(&mut self, range: std::ops::Range<usize>, v: f64) {
        fn fill<T: Element>(x: &mut [T], v: f64) {
            x.fill(T::from_f64(v));
        }
        each_storage!(self, x => fill(&mut x[range], v));
    }

    /// Element `at` set to `v` (as [`Storage::fill_f64`]).
    pub(crate) fn set_f64(&mut self, at: usize, v: f64) {
        each_storage!(self, x => x[at] = Element::from_f64(v));
    }
}

/// Asks the kernel to back the 2 MiB-aligned part of `v`'s allocation with transparent huge pages
/// (Linux, allocations of 4 MiB or more; `madvise(MADV_HUGEPAGE)`, on hosts where they are enabled
/// "on advice", as here). A fresh tensor is then faulted in 2 MiB at a time instead of 4 KiB:
/// filling a new 64 MiB tensor took about 26 ms of page faults here, 8 ms with the advice. Only
/// advice: the contents are untouched, and a refusal changes nothing.
fn advise_huge_pages<T>(v: &Vec<T>) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let bytes = v.capacity().saturating_mul(std::mem::size_of::<T>());
        if bytes < 2 * HUGE {
            return;
        }
        let at = v.as_ptr() as usize;
        let (start, end) = (at.next_multiple_of(HUGE), (at + bytes) / HUGE * HUGE);
        if end > start {
            // SAFETY: `start .. end` lies inside `v`'s live allocation; `MADV_HUGEPAGE` neither
            // reads nor changes memory, and its result is only advice (ignored).
            unsafe { libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE) };
        }
    }
    let _ = v;
}

/// `$alloc(..)` (an `Option<Vec<T>>` generic in `T`) as the storage of `$dtype`'s element type:
/// `Option<Storage>`.
macro_rules! storage_from {
    ($dtype:expr, $alloc:ident($($arg:expr),*)) => {
        match $dtype {
            DType::Float32 => $alloc($($arg),*).map(Storage::F32),
            DType::Float64 => $alloc($($arg),*).map(Storage::F64),
            DType::Float16 => $alloc($($arg),*).map(Storage::F16),
            DType::BFloat16 => $alloc($($arg),*).map(Storage::BF16),
            DType::Int64 => $alloc($($arg),*).map(Storage::I64),
            DType::Int32 => $alloc($($arg),*).map(Storage::I32),
            DType::Int16 => $alloc($($arg),*).map(Storage::I16),
            DType::Int8 => $alloc($($arg),*).map(Storage::I8),
            DType::UInt8 => $alloc($($arg),*).map(Storage::U8),
            DType::Bool => $alloc($($arg),*).map(Storage::Bool),
            DType::UInt16 => $alloc($($arg),*).map(Storage::U16),
            DType::UInt32 => $alloc($($arg),*).map(Storage::U32),
            DType::UInt64 => $alloc($($arg),*).map(Storage::U64),
        }
    };
}
use storage_from;

/// Runs `$body` with `$v` bound to the typed slice of the storage `$s` (a `Storage`, `&Storage`
/// or `&mut Storage`), whatever its element type.
macro_rules! each_storage {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            Storage::F32($v) => $body,
            Storage::F64($v) => $body,
            Storage::F16($v) => $body,
            Storage::BF16($v) => $body,
            Storage::I64($v) => $body,
            Storage::I32($v) => $body,
            Storage::I16($v) => $body,
            Storage::I8($v) => $body,
            Storage::U8($v) => $body,
            Storage::Bool($v) => $body,
            Storage::U16($v) => $body,
            Storage::U32($v) => $body,
            Storage::U64($v) => $body,
        }
    };
}
pub(crate) use each_storage;

/// A caller's buffer of one element type, borrowed for an in-place fill: what the slice entry
/// points of [`crate::Torch`] (`uniform_into`, `normal_into`, ...) write into, element by element
/// as the same op on a contiguous 1-D tensor of that length would.
///
/// Every `&mut [f32]`, `&mut [f64]`, `&mut [f16]`, ... converts into one (`From`).
#[non_exhaustive]
#[derive(Debug, PartialEq)]
pub enum SliceMut<'a> {
    /// float32 elements.
    F32(&'a mut [f32]),
    /// float64 elements.
    F64(&'a mut [f64]),
    /// float16 elements.
    F16(&'a mut [f16]),
    /// bfloat16 elements.
    BF16(&'a mut [bf16]),
    /// int64 elements.
    I64(&'a mut [i64]),
    /// int32 elements.
    I32(&'a mut [i32]),
    /// int16 elements.
    I16(&'a mut [i16]),
    /// int8 elements.
    I8(&'a mut [i8]),
    /// uint8 elements.
    U8(&'a mut [u8]),
    /// bool elements.
    Bool(&'a mut [bool]),
    /// uint16 elements.
    U16(&'a mut [u16]),
    /// uint32 elements.
    U32(&'a mut [u32]),
    /// uint64 elements.
    U64(&'a mut [u64]),
}

/// Runs `$body` with `$v` bound to the typed slice of the [`SliceMut`] `$s`.
macro_rules! each_slice {
    ($s:expr, $v:ident => $body:expr) => {
        match $s {
            SliceMut::F32($v) => $body,
            SliceMut::F64($v) => $body,
            SliceMut::F16($v) => $body,
            SliceMut::BF16($v) => $body,
            SliceMut::I64($v) => $body,
            SliceMut::I32($v) => $body,
            SliceMut::I16($v) => $body,
            SliceMut::I8($v) => $body,
            SliceMut::U8($v) => $body,
            SliceMut::Bool($v) => $body,
            SliceMut::U16($v) => $body,
            SliceMut::U32($v) => $body,
            SliceMut::U64($v) => $body,
        }
    };
}

macro_rules! slice_from {
    ($($t:ty => $variant:ident),*) => {$(
        impl<'a> From<&'a mut [$t]> for SliceMut<'a> {
            fn from(v: &'a mut [$t]) -> SliceMut<'a> {
                SliceMut::$variant(v)
            }
        }
    )*};
}
slice_from!(f32 => F32, f64 => F64, f16 => F16, bf16 => BF16, i64 => I64, i32 => I32,
    i16 => I16, i8 => I8, u8 => U8, bool => Bool, u16 => U16, u32 => U32, u64 => U64);

impl<'a> SliceMut<'a> {
    /// The number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        match self {
            SliceMut::F32(v) => v.len(),
            SliceMut::F64(v) => v.len(),
            SliceMut::F16(v) => v.len(),
            SliceMut::BF16(v) => v.len(),
            SliceMut::I64(v) => v.len(),
            SliceMut::I32(v) => v.len(),
            SliceMut::I16(v) => v.len(),
            SliceMut::I8(v) => v.len(),
            SliceMut::U8(v) => v.len(),
            SliceMut::Bool(v) => v.len(),
            SliceMut::U16(v) => v.len(),
            SliceMut::U32(v) => v.len(),
            SliceMut::U64(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The dtype of the elements.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match self {
            SliceMut::F32(_) => DType::Float32,
            SliceMut::F64(_) => DType::Float64,
            SliceMut::F16(_) => DType::Float16,
            SliceMut::BF16(_) => DType::BFloat16,
            SliceMut::I64(_) => DType::Int64,
            SliceMut::I32(_) => DType::Int32,
            SliceMut::I16(_) => DType::Int16,
            SliceMut::I8(_) => DType::Int8,
            SliceMut::U8(_) => DType::UInt8,
            SliceMut::Bool(_) => DType::Bool,
            SliceMut::U16(_) => DType::UInt16,
            SliceMut::U32(_) => DType::UInt32,
            SliceMut::U64(_) => DType::UInt64,
        }
    }

    /// A shorter-lived borrow of the same elements.
    #[must_use]
    pub fn reborrow(&mut self) -> SliceMut<'_> {
        each_slice!(self, v => SliceMut::from(&mut **v))
    }

    /// The elements before `mid` and from `mid` on.
    ///
    /// # Panics
    /// If `mid > len` (as [`slice::split_at_mut`]).
    #[must_use]
    pub fn split_at(self, mid: usize) -> (SliceMut<'a>, SliceMut<'a>) {
        each_slice!(self, v => {
            let (a, b) = v.split_at_mut(mid);
            (SliceMut::from(a), SliceMut::from(b))
        })
    }

    /// The elements `range`.
    ///
    /// # Panics
    /// If the range is out of bounds.
    #[must_use]
    pub fn slice(self, range: std::ops::Range<usize>) -> SliceMut<'a> {
        each_slice!(self, v => SliceMut::from(&mut v[range]))
    }
}

impl Storage {
    /// The elements as a borrowed [`SliceMut`].
    #[must_use]
    pub fn as_slice_mut(&mut self) -> SliceMut<'_> {
        each_storage!(self, v => SliceMut::from(&mut v[..]))
    }
}

/// A contiguous (row-major) tensor.
///
/// A tensor made by a model build may hold its elements *deferred*: what they will be (a constant,
/// or a fill whose words are known, with where in the generator's stream they start), computed
/// the first time they are read. Every accessor gives the computed elements; a writer that only
/// streams the bytes ([`Tensor::for_each_le_chunk`]) computes them a chunk at a time and never
/// holds the whole tensor.
pub struct Tensor {
    shape: Vec<usize>,
    data: Data,
}

/// Elements computed later, on demand (see [`Tensor`]).
pub(crate) trait Deferred: Send + Sync + std::fmt::Debug {
    /// The element type.
    fn dtype(&self) -> DType;
    /// The number of elements.
    fn len(&self) -> usize;
    /// All the elements, or [`Error::OutOfMemory`] when they cannot be allocated.
    fn compute(&self) -> Result<Storage>;
    /// The elements' little-endian bytes, in order, a bounded chunk at a time. `phase` is where
    /// the first byte goes modulo [`PHASE`] (in a file, its position): chunks
    /// are handed from addresses that agree with it where they can ([`lead`]).
    fn for_each_le_chunk(&self, phase: usize, f: &mut dyn FnMut(&[u8]));
    /// Of each of `outer` rows of `row` elements, the `take` elements from `skip` on, still
    /// deferred; `None` when this source cannot cut itself (the caller computes, then cuts).
    fn narrow(&self, cut: Cut) -> Option<Arc<dyn Deferred>>;
    /// This source as chunks that several threads can compute, each from its own position
    /// ([`crate::stream`]); `None` when only [`Deferred::for_each_le_chunk`] can stream it.
    fn chunked(&self) -> Option<&dyn Chunked> {
        None
    }
}

/// A deferred source whose elements any thread can compute, a range at a time.
pub(crate) trait Chunked: Deferred {
    /// Threads worth using for this source (1: stream it on the caller's thread).
    fn threads(&self) -> usize;
    /// A reader of the elements, for one thread.
    fn reader(&self) -> Box<dyn ChunkReader<'_> + '_>;
}

/// One thread's reader of a [`Chunked`] source (`'s`: the source's borrow).
pub(crate) trait ChunkReader<'s>: Send {
    /// Computes elements `k0 .. k0 + out.len()` into `out`; calls ask for increasing positions.
    fn fill(&mut self, k0: usize, out: SliceMut<'_>);
    /// Moves forward, computing nothing, to where computing elements from `k0` on starts (a
    /// reader already there or past it stays).
    fn skip_to(&mut self, k0: usize);
    /// Another reader standing where this one stands.
    fn fork(&self) -> Box<dyn ChunkReader<'s> + 's>;
}

/// A cut of a row-major tensor along one dimension: of each of `outer` rows of `row` elements,
/// the `take` elements from `skip` on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Cut {
    /// Rows (the product of the dimensions before the cut one).
    pub(crate) outer: usize,
    /// Elements per row.
    pub(crate) row: usize,
    /// Elements skipped at the start of each row.
    pub(crate) skip: usize,
    /// Elements kept of each row.
    pub(crate) take: usize,
}

impl Cut {
    /// The elements kept.
    pub(crate) fn len(&self) -> usize {
        self.outer * self.take
    }

    /// The position in the uncut tensor of element `k` of the cut.
    pub(crate) fn source(&self, k: usize) -> usize {
        (k / self.take) * self.row + self.skip + k % self.take
    }

    /// Calls `f(a, k0, k1)` for each run `k0 .. k1` of the cut's elements `from .. to` that is
    /// contiguous in the uncut tensor, starting there at `a`.
    pub(crate) fn runs(&self, from: usize, to: usize, mut f: impl FnMut(usize, usize, usize)) {
        let mut k = from;
        while k < to {
            let end = ((k / self.take + 1) * self.take).min(to);
            f(self.source(k), k, end);
            k = end;
        }
    }
}

/// Every element equal: `torch.empty` (zeros here) or a `fill_`, deferred so that a build
/// touches no memory for tensors that are overwritten or only written out.
#[derive(Debug)]
struct Constant {
    dtype: DType,
    len: usize,
    value: f64,
}

impl Deferred for Constant {
    fn dtype(&self) -> DType {
        self.dtype
    }
    fn len(&self) -> usize {
        self.len
    }
    fn compute(&self) -> Result<Storage> {
        let mut s = Storage::try_zeros("empty", self.dtype, self.len)?;
        if self.value.to_bits() != 0 {
            s.fill_f64(self.value);
        }
        Ok(s)
    }
    fn for_each_le_chunk(&self, phase: usize, f: &mut dyn FnMut(&[u8])) {
        // One chunk of the value, handed from the element that agrees with `phase` (every
        // chunk of `CHUNK` elements starts at the same phase).
        let mut chunk = Storage::zeros(self.dtype, self.len.min(CHUNK) + PHASE);
        if self.value.to_bits() != 0 {
            chunk.fill_f64(self.value);
        }
        let e = lead_in(&chunk, phase);
        let mut scratch = Vec::new();
        let mut left = self.len;
        while left > 0 {
            let n = left.min(CHUNK);
            with_le_bytes(&chunk, e..e + n, &mut scratch, f);
            left -= n;
        }
    }
    fn narrow(&self, cut: Cut) -> Option<Arc<dyn Deferred>> {
        Some(Arc::new(Constant {
            len: cut.len(),
            ..*self
        }))
    }
}

/// `d`'s elements, or the allocator's failure handler (which aborts) when they cannot be
/// allocated.
fn or_abort(d: &dyn Deferred) -> Storage {
    d.compute().unwrap_or_else(|_| {
        let bytes = d.len().saturating_mul(d.dtype().size());
        let layout = std::alloc::Layout::from_size_align(bytes, 8)
            .unwrap_or(std::alloc::Layout::new::<u64>());
        std::alloc::handle_alloc_error(layout)
    })
}

/// A tensor's elements: computed, or deferred (and computed at most once, when first read).
enum Data {
    Ready(Storage),
    Deferred(Arc<dyn Deferred>, OnceLock<Storage>),
}

impl Clone for Data {
    fn clone(&self) -> Data {
        match self {
            Data::Ready(s) => Data::Ready(s.clone()),
            Data::Deferred(d, cell) => match cell.get() {
                Some(s) => Data::Ready(s.clone()),
                None => Data::Deferred(Arc::clone(d), OnceLock::new()),
            },
        }
    }
}

impl Clone for Tensor {
    fn clone(&self) -> Tensor {
        Tensor {
            shape: self.shape.clone(),
            data: self.data.clone(),
        }
    }
}

impl PartialEq for Tensor {
    fn eq(&self, other: &Tensor) -> bool {
        self.shape == other.shape && self.data() == other.data()
    }
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Tensor");
        s.field("shape", &self.shape);
        match &self.data {
            Data::Deferred(d, cell) if cell.get().is_none() => s.field("deferred", d),
            _ => s.field("data", self.data()),
        };
        s.finish()
    }
}

/// Elements per chunk of [`Tensor::for_each_le_chunk`].
pub(crate) const CHUNK: usize = 1 << 14;

/// Bytes of the address agreement asked of a chunk ([`lead`]). Linux copies written bytes
/// into the page cache at about 9 GB/s here when the source's address and the file position
/// agree modulo 32 bytes, and a third slower when they do not (a C program writing 500 MB of a
/// 1 MiB buffer from offsets 0 to 80: 55 ms at multiples of 32, 71-73 ms at 4, 8, 16, 24, 48
/// and 80). A buffer from the allocator starts 16 bytes into a page, and safetensors data
/// starts wherever the header ends.
pub(crate) const PHASE: usize = 64;

/// The elements of `size` bytes to skip from `addr` to reach an address that agrees with
/// `phase` modulo [`PHASE`] (0 where no whole number of elements does).
pub(crate) fn lead(addr: usize, size: usize, phase: usize) -> usize {
    let gap = phase.wrapping_sub(addr) % PHASE;
    if gap.is_multiple_of(size) {
        gap / size
    } else {
        0
    }
}

/// Where `buf`'s elements start for bytes going to `phase` ([`lead`]); `buf` holds [`PHASE`]
/// elements more than it hands out.
pub(crate) fn lead_in(buf: &Storage, phase: usize) -> usize {
    lead(buf.addr(), buf.dtype().size(), phase)
}

/// Calls `f` with the little-endian bytes of the elements `range` of `s`: their memory itself on
/// a little-endian host (bool excepted: one byte each, 0 or 1, through `scratch`), else an encoded
/// copy in `scratch`.
pub(crate) fn with_le_bytes(
    s: &Storage,
    range: std::ops::Range<usize>,
    scratch: &mut Vec<u8>,
    f: &mut dyn FnMut(&[u8]),
) {
    #[cfg(target_endian = "little")]
    {
        use bytemuck::cast_slice;
        let bytes: Option<&[u8]> = match s {
            Storage::F32(v) => Some(cast_slice(&v[range.clone()])),
            Storage::F64(v) => Some(cast_slice(&v[range.clone()])),
            Storage::F16(v) => Some(cast_slice(&v[range.clone()])),
            Storage::BF16(v) => Some(cast_slice(&v[range.clone()])),
            Storage::I64(v) => Some(cast_slice(&v[range.clone()])),
            Storage::I32(v) => Some(cast_slice(&v[range.clone()])),
            Storage::I16(v) => Some(cast_slice(&v[range.clone()])),
            Storage::I8(v) => Some(cast_slice(&v[range.clone()])),
            Storage::U8(v) => Some(&v[range.clone()]),
            Storage::U16(v) => Some(cast_slice(&v[range.clone()])),
            Storage::U32(v) => Some(cast_slice(&v[range.clone()])),
            Storage::U64(v) => Some(cast_slice(&v[range.clone()])),
            Storage::Bool(_) => None,
        };
        if let Some(b) = bytes {
            f(b);
            return;
        }
    }
    encode_le(s, range, scratch);
    f(scratch);
}

/// The little-endian bytes of the elements `range` of `s`, in `out` (replacing its contents).
fn encode_le(s: &Storage, range: std::ops::Range<usize>, out: &mut Vec<u8>) {
    fn enc<T: Copy, const N: usize>(v: &[T], to_le: fn(T) -> [u8; N], out: &mut Vec<u8>) {
        // Every byte is overwritten: only a longer buffer than last time is zeroed first.
        out.truncate(v.len() * N);
        out.resize(v.len() * N, 0);
        for (d, &x) in out.chunks_exact_mut(N).zip(v) {
            d.copy_from_slice(&to_le(x));
        }
    }
    match s {
        Storage::F32(v) => enc(&v[range], f32::to_le_bytes, out),
        Storage::F64(v) => enc(&v[range], f64::to_le_bytes, out),
        Storage::F16(v) => enc(&v[range], f16::to_le_bytes, out),
        Storage::BF16(v) => enc(&v[range], bf16::to_le_bytes, out),
        Storage::I64(v) => enc(&v[range], i64::to_le_bytes, out),
        Storage::I32(v) => enc(&v[range], i32::to_le_bytes, out),
        Storage::I16(v) => enc(&v[range], i16::to_le_bytes, out),
        Storage::I8(v) => enc(&v[range], i8::to_le_bytes, out),
        Storage::U8(v) => enc(&v[range], |x| [x], out),
        Storage::Bool(v) => enc(&v[range], |b| [u8::from(b)], out),
        Storage::U16(v) => enc(&v[range], u16::to_le_bytes, out),
        Storage::U32(v) => enc(&v[range], u32::to_le_bytes, out),
        Storage::U64(v) => enc(&v[range], u64::to_le_bytes, out),
    }
}

/// Checks a PyTorch size argument and returns its element count.
///
/// PyTorch rejects negative dimensions; torch-rng also refuses anything over [`MAX_BYTES`] bytes
/// of `dtype` before allocating.
///
/// # Errors
/// [`Error::InvalidArgument`] for a negative dimension, [`Error::TooLarge`] past the limit.
pub fn checked_numel(op: &str, size: &[i64], dtype: DType) -> Result<usize> {
    if let Some(&d) = size.iter().find(|&&d| d < 0) {
        return Err(Error::arg(
            op,
            format!("trying to create tensor with negative dimension {d}: {size:?}"),
        ));
    }
    // torch.empty computes contiguous strides in int64 (each a product of the later sizes, a 0
    // counted as 1) and refuses when one overflows, even for an empty tensor.
    let mut stride: i64 = 1;
    for &d in size.iter().skip(1).rev() {
        stride = stride
            .checked_mul(d.max(1))
            .ok_or_else(|| Error::arg(op, format!("Stride calculation overflowed: {size:?}")))?;
    }
    let mut numel: u128 = 1;
    for &d in size {
        numel = numel.saturating_mul(d as u128);
    }
    let bytes = numel.saturating_mul(dtype.size() as u128);
    if bytes > u128::from(ALLOC_CAP) {
        return Err(Error::TooLarge {
            op: op.to_string(),
            numel,
            dtype: dtype.name(),
            limit: ALLOC_CAP,
        });
    }
    Ok(numel as usize)
}

impl Tensor {
    /// A tensor from a shape and data whose length is the shape's product.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the lengths disagree.
    pub fn new(shape: Vec<usize>, data: Storage) -> Result<Tensor> {
        let n = shape
            .iter()
            .try_fold(1usize, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                Error::arg(
                    "Tensor::new",
                    format!("the element count of shape {shape:?} overflows"),
                )
            })?;
        if data.len() != n {
            return Err(Error::arg(
                "Tensor::new",
                format!("shape {shape:?} needs {n} elements, got {}", data.len()),
            ));
        }
        Ok(Tensor {
            shape,
            data: Data::Ready(data),
        })
    }

    /// A zero-filled tensor (PyTorch's `torch.zeros`; also what torch-rng uses for `torch.empty`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a negative dimension, [`Error::TooLarge`] past [`MAX_BYTES`],
    /// [`Error::OutOfMemory`] when the allocator fails.
    pub fn zeros(size: &[i64], dtype: DType) -> Result<Tensor> {
        Tensor::zeros_for("empty", size, dtype)
    }

    /// [`Tensor::zeros`] for `op`: its size errors and an allocation failure name `op`.
    pub(crate) fn zeros_for(op: &str, size: &[i64], dtype: DType) -> Result<Tensor> {
        let n = checked_numel(op, size, dtype)?;
        let shape = size.iter().map(|&d| d as usize).collect();
        Ok(Tensor {
            shape,
            data: Data::Ready(Storage::try_zeros(op, dtype, n)?),
        })
    }

    /// `torch.empty(size, dtype=dtype)` whose zeros are deferred: no memory is touched until the
    /// elements are read (a model build overwrites most parameters, or only writes them out).
    ///
    /// # Errors
    /// As [`Tensor::zeros`] (the size checks; the allocation happens when first read).
    pub(crate) fn deferred_zeros(op: &str, size: &[i64], dtype: DType) -> Result<Tensor> {
        let n = checked_numel(op, size, dtype)?;
        let mut t = Tensor {
            shape: size.iter().map(|&d| d as usize).collect(),
            data: Data::Ready(Storage::zeros(dtype, 0)),
        };
        t.set_deferred(Arc::new(Constant {
            dtype,
            len: n,
            value: 0.0,
        }));
        Ok(t)
    }

    /// A 1-D tensor of `data`.
    #[cfg_attr(not(feature = "json"), allow(dead_code))] // for program replays
    pub(crate) fn from_storage(data: Storage) -> Tensor {
        Tensor {
            shape: vec![data.len()],
            data: Data::Ready(data),
        }
    }

    /// The same elements (deferred ones stay deferred) under another shape of as many elements.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if the element counts differ.
    #[cfg_attr(not(feature = "json"), allow(dead_code))] // for program replays
    pub(crate) fn reshaped(self, shape: Vec<usize>) -> Result<Tensor> {
        if shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(self.numel()) {
            return Err(Error::arg(
                "reshape",
                format!("shape {shape:?} is invalid for {} elements", self.numel()),
            ));
        }
        Ok(Tensor {
            shape,
            data: self.data,
        })
    }

    /// Replaces the elements with `value` converted to the dtype (a `fill_` the caller checked),
    /// deferred.
    pub(crate) fn defer_fill(&mut self, value: f64) {
        let (dtype, len) = (self.dtype(), self.numel());
        self.set_deferred(Arc::new(Constant { dtype, len, value }));
    }

    /// Replaces the elements with `src`'s (of this tensor's dtype and element count), computed
    /// when first read.
    pub(crate) fn set_deferred(&mut self, src: Arc<dyn Deferred>) {
        debug_assert_eq!(src.len(), self.shape.iter().product::<usize>());
        self.data = Data::Deferred(src, OnceLock::new());
    }

    /// The source of the elements while they are deferred and not computed yet.
    pub(crate) fn pending(&self) -> Option<&dyn Deferred> {
        match &self.data {
            Data::Deferred(d, cell) if cell.get().is_none() => Some(d.as_ref()),
            _ => None,
        }
    }

    /// Whether the elements are deferred and not computed yet.
    #[must_use]
    pub fn is_deferred(&self) -> bool {
        matches!(&self.data, Data::Deferred(_, cell) if cell.get().is_none())
    }

    /// The computed elements (computing deferred ones now; an allocation failure aborts, as a
    /// `Vec`'s does: [`Tensor::try_storage`] returns it instead).
    fn data(&self) -> &Storage {
        match &self.data {
            Data::Ready(s) => s,
            Data::Deferred(d, cell) => cell.get_or_init(|| or_abort(d.as_ref())),
        }
    }

    /// The computed elements, to change them (they stop being deferred).
    fn data_mut(&mut self) -> &mut Storage {
        if let Data::Deferred(d, cell) = &mut self.data {
            let s = cell.take().unwrap_or_else(|| or_abort(d.as_ref()));
            self.data = Data::Ready(s);
        }
        match &mut self.data {
            Data::Ready(s) => s,
            Data::Deferred(..) => unreachable!("made ready above"),
        }
    }

    /// The elements `start .. start + length` along dimension `dim`, as a new contiguous tensor
    /// (PyTorch's `Tensor.narrow`, then `.contiguous()`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `dim` is not a dimension or the range leaves it;
    /// [`Error::OutOfMemory`] when the allocator fails.
    ///
    /// ```
    /// use torch_rng::{Storage, Tensor};
    /// let t = Tensor::new(vec![2, 3], Storage::F32(vec![0., 1., 2., 3., 4., 5.]))?;
    /// let cols = t.narrow(1, 1, 2)?;
    /// assert_eq!(cols.shape(), &[2, 2]);
    /// assert_eq!(cols.as_f32(), Some(&[1., 2., 4., 5.][..]));
    /// # Ok::<(), torch_rng::Error>(())
    /// ```
    pub fn narrow(&self, dim: usize, start: usize, length: usize) -> Result<Tensor> {
        /// Copies `take` elements from `skip` on of each `row`-element row of `src`.
        fn copy<T: Copy>(src: &[T], dst: &mut [T], row: usize, take: usize, skip: usize) {
            if take == 0 {
                return;
            }
            for (d, s) in dst.chunks_exact_mut(take).zip(src.chunks_exact(row)) {
                d.copy_from_slice(&s[skip..skip + take]);
            }
        }
        let size = *self.shape.get(dim).ok_or_else(|| {
            Error::arg(
                "narrow",
                format!(
                    "dimension {dim} out of range for a {}-d tensor",
                    self.shape.len()
                ),
            )
        })?;
        if start.checked_add(length).is_none_or(|end| end > size) {
            return Err(Error::arg(
                "narrow",
                format!("start ({start}) + length ({length}) exceeds dimension size ({size})"),
            ));
        }
        let inner: usize = self.shape[dim + 1..].iter().product();
        let outer: usize = self.shape[..dim].iter().product();
        let mut shape = self.shape.clone();
        shape[dim] = length;
        let (row, take, skip) = (size * inner, length * inner, start * inner);
        if let Data::Deferred(d, cell) = &self.data {
            let cut = Cut {
                outer,
                row,
                skip,
                take,
            };
            if let Some(part) = cell.get().is_none().then(|| d.narrow(cut)).flatten() {
                return Ok(Tensor {
                    shape,
                    data: Data::Deferred(part, OnceLock::new()),
                });
            }
        }
        let mut data = Storage::try_zeros("narrow", self.dtype(), outer * length * inner)?;
        match (self.data(), &mut data) {
            (Storage::F32(s), Storage::F32(d)) => copy(s, d, row, take, skip),
            (Storage::F64(s), Storage::F64(d)) => copy(s, d, row, take, skip),
            (Storage::F16(s), Storage::F16(d)) => copy(s, d, row, take, skip),
            (Storage::BF16(s), Storage::BF16(d)) => copy(s, d, row, take, skip),
            (Storage::I64(s), Storage::I64(d)) => copy(s, d, row, take, skip),
            (Storage::I32(s), Storage::I32(d)) => copy(s, d, row, take, skip),
            (Storage::I16(s), Storage::I16(d)) => copy(s, d, row, take, skip),
            (Storage::I8(s), Storage::I8(d)) => copy(s, d, row, take, skip),
            (Storage::U8(s), Storage::U8(d)) => copy(s, d, row, take, skip),
            (Storage::Bool(s), Storage::Bool(d)) => copy(s, d, row, take, skip),
            (Storage::U16(s), Storage::U16(d)) => copy(s, d, row, take, skip),
            (Storage::U32(s), Storage::U32(d)) => copy(s, d, row, take, skip),
            (Storage::U64(s), Storage::U64(d)) => copy(s, d, row, take, skip),
            // try_zeros made `data` of this tensor's dtype.
            _ => unreachable!("narrow: storage of another dtype"),
        }
        Ok(Tensor {
            shape,
            data: Data::Ready(data),
        })
    }

    /// A 1-D uint8 tensor holding `bytes` (as `get_rng_state` returns).
    #[must_use]
    pub fn from_bytes_u8(bytes: Vec<u8>) -> Tensor {
        Tensor {
            shape: vec![bytes.len()],
            data: Data::Ready(Storage::U8(bytes)),
        }
    }

    /// The shape.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The number of elements.
    #[must_use]
    pub fn numel(&self) -> usize {
        match &self.data {
            Data::Ready(s) => s.len(),
            Data::Deferred(d, _) => d.len(),
        }
    }

    /// The dtype.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match &self.data {
            Data::Ready(s) => s.dtype(),
            Data::Deferred(d, _) => d.dtype(),
        }
    }

    /// The typed data (computing deferred elements now: see [`Tensor`]).
    #[must_use]
    pub fn storage(&self) -> &Storage {
        self.data()
    }

    /// [`Tensor::storage`], or [`Error::OutOfMemory`] when deferred elements cannot be allocated
    /// (where `storage` aborts the process, as a failed `Vec` allocation does).
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] naming the op and the bytes.
    pub fn try_storage(&self) -> Result<&Storage> {
        match &self.data {
            Data::Ready(s) => Ok(s),
            Data::Deferred(d, cell) => {
                if let Some(s) = cell.get() {
                    return Ok(s);
                }
                let s = d.compute()?;
                Ok(cell.get_or_init(|| s))
            }
        }
    }
}

impl Storage {
    /// The dtype of the elements.
    #[must_use]
    pub fn dtype(&self) -> DType {
        match self {
            Storage::F32(_) => DType::Float32,
            Storage::F64(_) => DType::Float64,
            Storage::F16(_) => DType::Float16,
            Storage::BF16(_) => DType::BFloat16,
            Storage::I64(_) => DType::Int64,
            Storage::I32(_) => DType::Int32,
            Storage::I16(_) => DType::Int16,
            Storage::I8(_) => DType::Int8,
            Storage::U8(_) => DType::UInt8,
            Storage::Bool(_) => DType::Bool,
            Storage::U16(_) => DType::UInt16,
            Storage::U32(_) => DType::UInt32,
            Storage::U64(_) => DType::UInt64,
        }
    }
}

impl Tensor {
    pub(crate) fn storage_mut(&mut self) -> &mut Storage {
        self.data_mut()
    }

    /// Consumes the tensor, returning its typed data.
    #[must_use]
    pub fn into_storage(mut self) -> Storage {
        std::mem::replace(self.data_mut(), Storage::U8(Vec::new()))
    }

    /// float32 data, if this is a float32 tensor.
    #[must_use]
    pub fn as_f32(&self) -> Option<&[f32]> {
        match self.data() {
            Storage::F32(v) => Some(v),
            _ => None,
        }
    }

    /// float64 data, if this is a float64 tensor.
    #[must_use]
    pub fn as_f64(&self) -> Option<&[f64]> {
        match self.data() {
            Storage::F64(v) => Some(v),
            _ => None,
        }
    }

    /// Each element's bit pattern, widened to u64 (two's complement for signed integers): eight
    /// bytes per element, so meant for small tensors ([`Tensor::head_hex`] reads a few).
    #[must_use]
    pub fn bits(&self) -> Vec<u64> {
        match self.data() {
            Storage::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            Storage::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
            Storage::F16(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            Storage::BF16(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
            Storage::I64(v) => v.iter().map(|&x| x as u64).collect(),
            Storage::I32(v) => v.iter().map(|&x| u64::from(x as u32)).collect(),
            Storage::I16(v) => v.iter().map(|&x| u64::from(x as u16)).collect(),
            Storage::I8(v) => v.iter().map(|&x| u64::from(x as u8)).collect(),
            Storage::U8(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Storage::Bool(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Storage::U16(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Storage::U32(v) => v.iter().map(|&x| u64::from(x)).collect(),
            Storage::U64(v) => v.clone(),
        }
    }

    /// The raw little-endian bytes of the contiguous tensor (bool as one byte, 0 or 1).
    #[must_use]
    pub fn to_le_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.numel() * self.dtype().size());
        self.for_each_le_chunk(|b| out.extend_from_slice(b));
        out
    }

    /// Calls `f` with the raw little-endian bytes of the tensor, in order, a bounded chunk at a
    /// time (no copy of the whole tensor).
    pub fn for_each_le_chunk(&self, mut f: impl FnMut(&[u8])) {
        self.for_each_le_chunk_at(0, &mut f);
    }

    /// [`Tensor::for_each_le_chunk`] for bytes whose first goes to `phase` modulo
    /// [`PHASE`]: elements still deferred are computed into buffers placed to
    /// agree with it (computed ones are handed from where they are).
    pub(crate) fn for_each_le_chunk_at(&self, phase: usize, f: &mut dyn FnMut(&[u8])) {
        if let Data::Deferred(d, cell) = &self.data {
            if cell.get().is_none() {
                d.for_each_le_chunk(phase, f);
                return;
            }
        }
        let mut buf = Vec::new();
        let s = self.data();
        let n = s.len();
        let mut at = 0;
        while at < n {
            let end = (at + CHUNK).min(n);
            with_le_bytes(s, at..end, &mut buf, f);
            at = end;
        }
    }

    /// Lowercase hex SHA-256 of [`Tensor::to_le_bytes`], hashed as it is encoded.
    #[must_use]
    pub fn sha256_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut hasher = Sha256::new();
        self.for_each_le_chunk(|b| hasher.update(b));
        let digest = hasher.finalize();
        let mut s = String::with_capacity(64);
        for b in digest {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 15)]));
        }
        s
    }

    /// The first `n` elements as lowercase hex bit patterns, zero-padded to the dtype's width.
    #[must_use]
    pub fn head_hex(&self, n: usize) -> Vec<String> {
        let width = self.dtype().size() * 2;
        let n = n.min(self.numel());
        (0..n)
            .map(|i| format!("{:0width$x}", self.data().bits_at(i)))
            .collect()
    }

    /// Reorders a tensor whose data is the storage of `torch.empty(shape).permute(perm)` into the
    /// contiguous layout of that view (shape permuted). `perm` must be a permutation of the dims.
    ///
    /// # Errors
    /// [`Error::OutOfMemory`] when the result cannot be allocated.
    pub(crate) fn permuted(self, perm: &[usize]) -> Result<Tensor> {
        let src_shape = self.shape.clone();
        let ndim = src_shape.len();
        let new_shape: Vec<usize> = perm.iter().map(|&p| src_shape[p]).collect();
        let mut src_strides = vec![1usize; ndim];
        for d in (0..ndim.saturating_sub(1)).rev() {
            src_strides[d] = src_strides[d + 1] * src_shape[d + 1];
        }
        let view_strides: Vec<usize> = perm.iter().map(|&p| src_strides[p]).collect();
        let n = self.numel();
        macro_rules! g {
            ($v:expr, $variant:ident) => {
                Storage::$variant(gather($v, n, &new_shape, &view_strides)?)
            };
        }
        let data = match self.data() {
            Storage::F32(v) => g!(v, F32),
            Storage::F64(v) => g!(v, F64),
            Storage::F16(v) => g!(v, F16),
            Storage::BF16(v) => g!(v, BF16),
            Storage::I64(v) => g!(v, I64),
            Storage::I32(v) => g!(v, I32),
            Storage::I16(v) => g!(v, I16),
            Storage::I8(v) => g!(v, I8),
            Storage::U8(v) => g!(v, U8),
            Storage::Bool(v) => g!(v, Bool),
            Storage::U16(v) => g!(v, U16),
            Storage::U32(v) => g!(v, U32),
            Storage::U64(v) => g!(v, U64),
        };
        Ok(Tensor {
            shape: new_shape,
            data: Data::Ready(data),
        })
    }
}

/// Output positions in row-major order over `shape`, each reading its source offset through
/// `strides`: an odometer, so nothing of the tensor's size is allocated besides the result.
fn gather<T: Copy>(v: &[T], n: usize, shape: &[usize], strides: &[usize]) -> Result<Vec<T>> {
    let mut out = Vec::new();
    out.try_reserve_exact(n).map_err(|_| Error::OutOfMemory {
        op: "permute".into(),
        bytes: (n * std::mem::size_of::<T>()) as u128,
    })?;
    let mut counter = vec![0usize; shape.len()];
    let mut at = 0usize;
    for _ in 0..n {
        out.push(v[at]);
        for d in (0..shape.len()).rev() {
            counter[d] += 1;
            at += strides[d];
            if counter[d] < shape[d] {
                break;
            }
            at -= strides[d] * shape[d];
            counter[d] = 0;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Large fresh storages (advised to be huge pages) are zero and writable to their last
    /// element, whole or appended to, for every allocating path.
    #[test]
    fn large_fresh_storages_are_zero_and_writable() {
        let n = (5 << 20) + 3;
        for mut s in [
            Storage::zeros(DType::Float32, n),
            Storage::try_zeros("test", DType::Float32, n).unwrap(),
        ] {
            let Storage::F32(v) = &mut s else {
                unreachable!()
            };
            assert!(v.iter().all(|&x| x.to_bits() == 0));
            v[n - 1] = 1.5;
            v[0] = -2.0;
            assert_eq!((v[0], v[n - 1], v.len()), (-2.0, 1.5, n));
        }
        let Storage::I64(mut v) = Storage::try_with_capacity("test", DType::Int64, n).unwrap()
        else {
            unreachable!()
        };
        v.extend((0..n as i64).map(|i| i * 3));
        assert_eq!((v.len(), v[n - 1]), (n, 3 * (n as i64 - 1)));
    }

    #[test]
    fn bytes_hash_and_head() {
        let t = Tensor::new(vec![2], Storage::F32(vec![1.0, -2.0])).unwrap();
        assert_eq!(t.to_le_bytes(), [0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0]);
        assert_eq!(t.head_hex(16), ["3f800000", "c0000000"]);
        assert_eq!(t.sha256_hex().len(), 64);
        let b = Tensor::new(vec![3], Storage::Bool(vec![true, false, true])).unwrap();
        assert_eq!(b.to_le_bytes(), [1, 0, 1]);
        assert_eq!(b.head_hex(2), ["01", "00"]);
        let i = Tensor::new(vec![1], Storage::I16(vec![-1])).unwrap();
        assert_eq!(i.head_hex(1), ["ffff"]);
    }

    #[test]
    fn empty_tensor_hash_is_sha256_of_nothing() {
        let t = Tensor::new(vec![0, 3], Storage::F32(vec![])).unwrap();
        assert_eq!(
            t.sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn shape_mismatch_is_an_error() {
        assert!(Tensor::new(vec![2, 2], Storage::F32(vec![0.0; 3])).is_err());
    }

    #[test]
    fn numel_checks() {
        assert_eq!(checked_numel("rand", &[2, 3], DType::Float32).unwrap(), 6);
        assert_eq!(checked_numel("rand", &[], DType::Float32).unwrap(), 1);
        assert!(matches!(
            checked_numel("rand", &[-1], DType::Float32),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            checked_numel("rand", &[1 << 40, 1 << 40], DType::Float32),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn permute_transposes() {
        let t = Tensor::new(vec![2, 3], Storage::I64((0..6).collect())).unwrap();
        let p = t.permuted(&[1, 0]).unwrap();
        assert_eq!(p.shape(), [3, 2]);
        assert_eq!(p.bits(), [0, 3, 1, 4, 2, 5]);
    }
}
