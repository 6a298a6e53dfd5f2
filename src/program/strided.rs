//! Strided views of a program's storages: PyTorch's element order, and elements read, cast and
//! written as C++ does.
//!
//! Mirrors: `aten/src/ATen/TensorIterator.cpp` (`reorder_dimensions`: an element-wise kernel on a
//! non-contiguous tensor visits its dimensions by decreasing stride), `c10/core/TensorImpl.h`
//! (`is_contiguous`), `c10/util/TypeCast.h` (`static_cast_with_inter_type`: the conversions of
//! `copy_`).

use half::{bf16, f16};

use crate::dtype::DType;
use crate::dtype::Element as Elem;
use crate::dtype::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16};
use crate::error::{Error, Result};
use crate::tensor::Storage;

/// A view: `as_strided(size, stride, offset)` on a storage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Geo {
    /// Storage offset of element `[0, ..., 0]`.
    pub(crate) offset: usize,
    /// Sizes.
    pub(crate) size: Vec<usize>,
    /// Strides, in elements.
    pub(crate) stride: Vec<usize>,
}

/// Row-major strides of `size` (PyTorch's contiguous strides; a size-0 or size-1 dimension still
/// gets the product of the sizes after it, counting 0 as 1).
pub(crate) fn contiguous_strides(size: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; size.len()];
    let mut acc = 1usize;
    for d in (0..size.len()).rev() {
        s[d] = acc;
        acc = acc.saturating_mul(size[d].max(1));
    }
    s
}

impl Geo {
    /// The contiguous view of a fresh tensor.
    pub(crate) fn contiguous(size: Vec<usize>) -> Geo {
        let stride = contiguous_strides(&size);
        Geo {
            offset: 0,
            size,
            stride,
        }
    }

    /// The number of elements.
    pub(crate) fn numel(&self) -> usize {
        self.size.iter().product()
    }

    /// One past the largest storage offset the view touches (0 when empty).
    pub(crate) fn extent(&self) -> Option<usize> {
        if self.size.contains(&0) {
            return Some(0);
        }
        let mut last = self.offset;
        for (&n, &s) in self.size.iter().zip(&self.stride) {
            last = last.checked_add((n - 1).checked_mul(s)?)?;
        }
        last.checked_add(1)
    }

    /// `is_contiguous()`: strides are row-major on every dimension of size other than 1; an
    /// empty view is contiguous.
    pub(crate) fn is_contiguous(&self) -> bool {
        if self.size.contains(&0) {
            return true;
        }
        let mut expected = 1usize;
        for (&n, &s) in self.size.iter().zip(&self.stride).rev() {
            if n != 1 {
                if s != expected {
                    return false;
                }
                expected *= n;
            }
        }
        true
    }

    /// Whether two elements share a storage slot (PyTorch refuses to write such a view).
    pub(crate) fn overlaps(&self) -> bool {
        let mut dims: Vec<(usize, usize)> = self
            .size
            .iter()
            .zip(&self.stride)
            .filter(|(&n, _)| n > 1)
            .map(|(&n, &s)| (s, n))
            .collect();
        dims.sort_unstable();
        let mut span = 0usize; // offsets reachable by the smaller-stride dims, plus one
        for (s, n) in dims {
            if s == 0 || s < span.max(1) {
                return true;
            }
            span = s * (n - 1) + span.max(1);
        }
        false
    }

    /// The dimensions in TensorIterator's order, outermost first: by decreasing stride (size-1
    /// dimensions do not matter; ties keep the logical order).
    fn iteration_dims(&self) -> Vec<usize> {
        let mut dims: Vec<usize> = (0..self.size.len()).collect();
        dims.sort_by(|&a, &b| self.stride[b].cmp(&self.stride[a]));
        dims
    }

    /// Storage offsets of the elements in logical (row-major) order.
    pub(crate) fn logical_offsets(&self) -> Vec<usize> {
        let dims: Vec<usize> = (0..self.size.len()).collect();
        self.offsets_in(&dims)
    }

    /// Storage offsets in the order PyTorch's element-wise kernels visit them.
    pub(crate) fn iteration_offsets(&self) -> Vec<usize> {
        self.offsets_in(&self.iteration_dims())
    }

    fn offsets_in(&self, dims: &[usize]) -> Vec<usize> {
        let n = self.numel();
        let mut out = Vec::with_capacity(n);
        if n == 0 {
            return out;
        }
        let mut idx = vec![0usize; dims.len()];
        let mut at = self.offset;
        loop {
            out.push(at);
            let mut k = dims.len();
            loop {
                if k == 0 {
                    return out;
                }
                k -= 1;
                let d = dims[k];
                idx[k] += 1;
                at += self.stride[d];
                if idx[k] < self.size[d] {
                    break;
                }
                at -= self.stride[d] * self.size[d];
                idx[k] = 0;
            }
        }
    }

    /// The strides a dense buffer holding the elements in [`Geo::iteration_offsets`] order gives
    /// each logical dimension.
    pub(crate) fn iteration_strides(&self) -> Vec<usize> {
        let dims = self.iteration_dims();
        let mut strides = vec![0usize; self.size.len()];
        let mut acc = 1usize;
        for &d in dims.iter().rev() {
            strides[d] = acc;
            acc *= self.size[d].max(1);
        }
        strides
    }

    /// This view broadcast to `shape` (trailing dimensions aligned, size-1 dimensions stretched
    /// with stride 0), as `expand` does.
    pub(crate) fn broadcast_to(&self, shape: &[usize]) -> Option<Geo> {
        if self.size.len() > shape.len() {
            return None;
        }
        let lead = shape.len() - self.size.len();
        let mut size = shape.to_vec();
        let mut stride = vec![0usize; shape.len()];
        for (i, (&n, &s)) in self.size.iter().zip(&self.stride).enumerate() {
            let d = lead + i;
            if n == shape[d] {
                stride[d] = if n == 1 { 0 } else { s };
            } else if n == 1 {
                stride[d] = 0;
            } else {
                return None;
            }
            size[d] = shape[d];
        }
        Some(Geo {
            offset: self.offset,
            size,
            stride,
        })
    }
}

/// A value as C++ holds it before a cast: a float (any float dtype widened to double, exactly),
/// an integer (any integer dtype, exactly) or a bool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Val {
    /// A floating-point value.
    F(f64),
    /// An integer value.
    I(i128),
    /// A bool.
    B(bool),
}

impl Val {
    pub(crate) fn as_f64(self) -> f64 {
        match self {
            Val::F(v) => v,
            Val::I(v) => v as f64,
            Val::B(b) => f64::from(u8::from(b)),
        }
    }
}

/// Reads element `i` of a storage.
pub(crate) fn get(s: &Storage, i: usize) -> Val {
    match s {
        Storage::F32(v) => Val::F(f64::from(v[i])),
        Storage::F64(v) => Val::F(v[i]),
        Storage::F16(v) => Val::F(f64::from(f16_to_f32(v[i]))),
        Storage::BF16(v) => Val::F(f64::from(bf16_to_f32(v[i]))),
        Storage::I64(v) => Val::I(i128::from(v[i])),
        Storage::I32(v) => Val::I(i128::from(v[i])),
        Storage::I16(v) => Val::I(i128::from(v[i])),
        Storage::I8(v) => Val::I(i128::from(v[i])),
        Storage::U8(v) => Val::I(i128::from(v[i])),
        Storage::U16(v) => Val::I(i128::from(v[i])),
        Storage::U32(v) => Val::I(i128::from(v[i])),
        Storage::U64(v) => Val::I(i128::from(v[i])),
        Storage::Bool(v) => Val::B(v[i]),
        #[allow(unreachable_patterns)]
        _ => Val::B(false),
    }
}

/// Into an integer dtype: C++'s truncating conversion of a double, two's-complement wrapping of
/// an integer.
fn cast_into<T: Elem>(v: Val) -> T {
    match v {
        Val::F(x) => T::from_f64(x),
        Val::I(x) => T::from_i64(x as i64),
        Val::B(b) => T::from_bool(b),
    }
}

/// Writes `v` into element `i`, converted as `static_cast` (through `c10::convert`) converts it.
pub(crate) fn set(s: &mut Storage, i: usize, v: Val) {
    match s {
        Storage::F32(x) => {
            x[i] = match v {
                Val::F(f) => f as f32,
                Val::I(n) => n as i64 as f32,
                Val::B(b) => f32::from(u8::from(b)),
            }
        }
        Storage::F64(x) => x[i] = v.as_f64(),
        Storage::F16(x) => {
            x[i] = match v {
                Val::F(f) => f64_to_f16(f),
                Val::I(n) => f32_to_f16(n as i64 as f32),
                Val::B(b) => f16::from_f32(f32::from(u8::from(b))),
            }
        }
        Storage::BF16(x) => {
            x[i] = match v {
                Val::F(f) => f64_to_bf16(f),
                Val::I(n) => f32_to_bf16(n as i64 as f32),
                Val::B(b) => bf16::from_f32(f32::from(u8::from(b))),
            }
        }
        Storage::I64(x) => x[i] = cast_into(v),
        Storage::I32(x) => x[i] = cast_into(v),
        Storage::I16(x) => x[i] = cast_into(v),
        Storage::I8(x) => x[i] = cast_into(v),
        Storage::U8(x) => x[i] = cast_into(v),
        Storage::U16(x) => x[i] = cast_into(v),
        Storage::U32(x) => x[i] = cast_into(v),
        Storage::U64(x) => {
            x[i] = match v {
                Val::I(n) => n as u64,
                other => cast_into(other),
            }
        }
        Storage::Bool(x) => {
            x[i] = match v {
                Val::F(f) => f != 0.0,
                Val::I(n) => n != 0,
                Val::B(b) => b,
            }
        }
        #[allow(unreachable_patterns)]
        _ => {}
    }
}

/// A value rounded to `dtype` and widened back (what a dtype conversion keeps of it).
pub(crate) fn round_to(dtype: DType, v: Val) -> Val {
    let mut s = Storage::zeros(dtype, 1);
    set(&mut s, 0, v);
    get(&s, 0)
}

/// The elements of `geo` in logical order, copied into a new storage.
pub(crate) fn gather(s: &Storage, offsets: &[usize]) -> Storage {
    let mut out = Storage::zeros(s.dtype(), offsets.len());
    for (j, &i) in offsets.iter().enumerate() {
        set(&mut out, j, get(s, i));
    }
    out
}

/// Writes `src[j]` to `s[offsets[j]]` (same dtype).
pub(crate) fn scatter(s: &mut Storage, offsets: &[usize], src: &Storage) {
    for (j, &i) in offsets.iter().enumerate() {
        set(s, i, get(src, j));
    }
}

/// The category of a dtype for type promotion: bool < integer < float.
fn category(d: DType) -> u8 {
    if d == DType::Bool {
        0
    } else if d.is_float() {
        2
    } else {
        1
    }
}

fn int_bits(d: DType) -> (bool, u32) {
    match d {
        DType::Int8 => (true, 8),
        DType::Int16 => (true, 16),
        DType::Int32 => (true, 32),
        DType::Int64 => (true, 64),
        DType::UInt8 => (false, 8),
        DType::UInt16 => (false, 16),
        DType::UInt32 => (false, 32),
        _ => (false, 64),
    }
}

fn signed(bits: u32) -> DType {
    match bits {
        8 => DType::Int8,
        16 => DType::Int16,
        32 => DType::Int32,
        _ => DType::Int64,
    }
}

/// `torch.promote_types(a, b)`.
///
/// # Errors
/// The unsigned dtypes of 2.3+ with another integer dtype (PyTorch has no promotion for them).
pub(crate) fn promote_types(a: DType, b: DType) -> Result<DType> {
    if a == b {
        return Ok(a);
    }
    let (ca, cb) = (category(a), category(b));
    if ca != cb {
        return Ok(if ca > cb { a } else { b });
    }
    if ca == 2 {
        return Ok(if a == DType::Float64 || b == DType::Float64 {
            DType::Float64
        } else {
            DType::Float32
        });
    }
    if a.is_wide_unsigned() || b.is_wide_unsigned() {
        return Err(Error::unsupported(format!("type promotion of {a} and {b}")));
    }
    let ((sa, ba), (sb, bb)) = (int_bits(a), int_bits(b));
    Ok(match (sa, sb) {
        (true, true) => signed(ba.max(bb)),
        (false, false) => {
            if ba >= bb {
                a
            } else {
                b
            }
        }
        _ => {
            let (sbits, ubits) = if sa { (ba, bb) } else { (bb, ba) };
            if sbits > ubits {
                signed(sbits)
            } else {
                signed((ubits * 2).min(64))
            }
        }
    })
}

/// `c10::canCast(from, to)`: no float into an integer or bool, no integer into bool.
pub(crate) fn can_cast(from: DType, to: DType) -> bool {
    category(from) <= category(to)
}

/// The participants of an element-wise op's type promotion.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Operand {
    /// A tensor of this dtype; `true` when it has at least one dimension.
    Tensor(DType, bool),
    /// A Python number (a "wrapped number"): float, int or bool.
    Number(Val),
}

/// `at::native::result_type` over the operands: dimensioned tensors first, then zero-dim
/// tensors, then Python numbers (a float number counts as the default dtype, float32), combined
/// by category as `c10::combine_categories` does.
pub(crate) fn result_type(ops: &[Operand]) -> Result<DType> {
    let mut dim: Option<DType> = None;
    let mut zero: Option<DType> = None;
    let mut wrapped: Option<DType> = None;
    for op in ops {
        let (slot, d) = match *op {
            Operand::Tensor(d, true) => (&mut dim, d),
            Operand::Tensor(d, false) => (&mut zero, d),
            Operand::Number(Val::F(_)) => (&mut wrapped, DType::Float32),
            Operand::Number(Val::I(_)) => (&mut wrapped, DType::Int64),
            Operand::Number(Val::B(_)) => (&mut wrapped, DType::Bool),
        };
        *slot = Some(match *slot {
            None => d,
            Some(prev) => promote_types(prev, d)?,
        });
    }
    let lower = combine(zero, wrapped)?;
    combine(dim, lower)?.ok_or_else(|| Error::unsupported("an element-wise op without operands"))
}

fn combine(higher: Option<DType>, lower: Option<DType>) -> Result<Option<DType>> {
    let (Some(h), Some(l)) = (higher, lower) else {
        return Ok(higher.or(lower));
    };
    if h.is_float() {
        return Ok(Some(h));
    }
    if h == DType::Bool || l.is_float() {
        return Ok(Some(promote_types(h, l)?));
    }
    Ok(Some(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_order_follows_strides() {
        // a transposed 2x3 matrix: memory order
        let g = Geo {
            offset: 0,
            size: vec![3, 2],
            stride: vec![1, 3],
        };
        assert_eq!(g.iteration_offsets(), [0, 1, 2, 3, 4, 5]);
        assert_eq!(g.logical_offsets(), [0, 3, 1, 4, 2, 5]);
        assert_eq!(g.iteration_strides(), [1, 3]);
        assert!(!g.is_contiguous());
        // a row of a matrix is contiguous at an offset
        let row = Geo {
            offset: 3,
            size: vec![3],
            stride: vec![1],
        };
        assert!(row.is_contiguous());
        assert_eq!(row.iteration_offsets(), [3, 4, 5]);
        assert!(!row.overlaps());
        let expanded = Geo {
            offset: 0,
            size: vec![2, 3],
            stride: vec![0, 1],
        };
        assert!(expanded.overlaps());
    }

    #[test]
    fn promotion() {
        use DType::*;
        let f = |ops: &[Operand]| result_type(ops).unwrap();
        assert_eq!(
            f(&[Operand::Tensor(Float16, true), Operand::Number(Val::F(0.5))]),
            Float16
        );
        assert_eq!(
            f(&[Operand::Tensor(Int64, true), Operand::Number(Val::F(0.5))]),
            Float32
        );
        assert_eq!(
            f(&[
                Operand::Tensor(Float16, true),
                Operand::Tensor(Float32, false)
            ]),
            Float16
        );
        assert_eq!(
            f(&[
                Operand::Tensor(Int32, true),
                Operand::Tensor(Float64, false)
            ]),
            Float64
        );
        assert_eq!(
            f(&[
                Operand::Tensor(Float16, true),
                Operand::Tensor(BFloat16, true)
            ]),
            Float32
        );
        assert_eq!(promote_types(UInt8, Int8).unwrap(), Int16);
        assert!(!can_cast(Float32, Int64));
    }
}
