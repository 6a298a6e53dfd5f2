//! The tensor an initialiser writes: typed storage in memory order, seen through a logical shape
//! and strides (a contiguous tensor, or `torch.empty(size).permute(perm)`).
//!
//! Random fills visit memory order, as PyTorch's kernels do; index writes (`eye_`, `dirac_`,
//! `sparse_`, `orthogonal_`'s copy) address logical positions.

use half::{bf16, f16};

use crate::dtype::{f64_to_bf16, f64_to_f16, DType};
use crate::error::{Error, Result};
use crate::tensor::Storage;

/// A writable tensor for the initialisers.
#[derive(Debug)]
pub(crate) struct Buf<'a> {
    /// The elements in memory order.
    pub(crate) data: &'a mut Storage,
    /// The logical shape (what `tensor.shape` reports).
    pub(crate) shape: Vec<usize>,
    /// The memory stride of each logical dimension, in elements.
    pub(crate) strides: Vec<usize>,
    /// Whether PyTorch's `is_contiguous()` holds (decides the `normal_` path).
    pub(crate) contiguous: bool,
}

/// Row-major strides of `shape`.
pub(crate) fn row_major(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1usize; shape.len()];
    for d in (0..shape.len().saturating_sub(1)).rev() {
        s[d] = s[d + 1] * shape[d + 1];
    }
    s
}

/// A scalar converted to an element of `dtype` as `Tensor.fill_` converts it (c10's
/// `checked_convert`): floats round (half and bfloat16 through float), integers truncate toward
/// zero, bool is `v != 0`. Values out of the dtype's range are rejected, infinities and NaN too
/// for integer types.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Elem {
    F32(f32),
    F64(f64),
    F16(f16),
    BF16(bf16),
    Int(i64),
    Bool(bool),
}

impl Elem {
    pub(crate) fn of(op: &str, dtype: DType, v: f64) -> Result<Elem> {
        let overflow = || {
            Error::arg(
                op,
                format!(
                    "value cannot be converted to type {} without overflow",
                    dtype.cpp_name()
                ),
            )
        };
        let finite_in = |max: f64| v.is_nan() || v.is_infinite() || (v >= -max && v <= max);
        Ok(match dtype {
            DType::Float64 => Elem::F64(v),
            DType::Float32 => {
                if !finite_in(f64::from(f32::MAX)) {
                    return Err(overflow());
                }
                Elem::F32(v as f32)
            }
            DType::Float16 => {
                if !finite_in(65504.0) {
                    return Err(overflow());
                }
                Elem::F16(f64_to_f16(v))
            }
            DType::BFloat16 => {
                if !finite_in(f64::from(f32::MAX)) {
                    return Err(overflow());
                }
                Elem::BF16(f64_to_bf16(v))
            }
            DType::Bool => Elem::Bool(v != 0.0),
            int => {
                let (lo, hi): (f64, f64) = match int {
                    DType::Int64 => (-9_223_372_036_854_775_808.0, 9_223_372_036_854_775_807.0),
                    DType::Int32 => (f64::from(i32::MIN), f64::from(i32::MAX)),
                    DType::Int16 => (f64::from(i16::MIN), f64::from(i16::MAX)),
                    DType::Int8 => (f64::from(i8::MIN), f64::from(i8::MAX)),
                    DType::UInt16 => (0.0, f64::from(u16::MAX)),
                    DType::UInt32 => (0.0, f64::from(u32::MAX)),
                    DType::UInt64 => (0.0, 18_446_744_073_709_551_615.0),
                    _ => (0.0, 255.0),
                };
                if !(v >= lo && v <= hi) {
                    return Err(overflow());
                }
                if int == DType::UInt64 {
                    // Above 2^63 the value only fits as its unsigned bit pattern.
                    return Ok(Elem::Int(v.trunc() as u64 as i64));
                }
                Elem::Int(v.trunc() as i64)
            }
        })
    }

    pub(crate) fn one(dtype: DType) -> Elem {
        Elem::of("", dtype, 1.0).unwrap_or(Elem::F32(1.0))
    }

    pub(crate) fn zero(dtype: DType) -> Elem {
        Elem::of("", dtype, 0.0).unwrap_or(Elem::F32(0.0))
    }
}

impl Buf<'_> {
    /// The number of elements.
    pub(crate) fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// The element type.
    pub(crate) fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The memory offset of a logical index.
    pub(crate) fn offset(&self, index: &[usize]) -> usize {
        index.iter().zip(&self.strides).map(|(i, s)| i * s).sum()
    }

    /// Writes `e` at memory offset `at`.
    pub(crate) fn set(&mut self, at: usize, e: Elem) {
        match (&mut *self.data, e) {
            (Storage::F32(v), Elem::F32(x)) => v[at] = x,
            (Storage::F64(v), Elem::F64(x)) => v[at] = x,
            (Storage::F16(v), Elem::F16(x)) => v[at] = x,
            (Storage::BF16(v), Elem::BF16(x)) => v[at] = x,
            (Storage::I64(v), Elem::Int(x)) => v[at] = x,
            (Storage::I32(v), Elem::Int(x)) => v[at] = x as i32,
            (Storage::I16(v), Elem::Int(x)) => v[at] = x as i16,
            (Storage::I8(v), Elem::Int(x)) => v[at] = x as i8,
            (Storage::U8(v), Elem::Int(x)) => v[at] = x as u8,
            (Storage::U16(v), Elem::Int(x)) => v[at] = x as u16,
            (Storage::U32(v), Elem::Int(x)) => v[at] = x as u32,
            (Storage::U64(v), Elem::Int(x)) => v[at] = x as u64,
            (Storage::Bool(v), Elem::Bool(x)) => v[at] = x,
            // Elem::of built `e` for this dtype.
            _ => unreachable!("element type matches the storage"),
        }
    }

    /// Writes `e` everywhere.
    pub(crate) fn fill(&mut self, e: Elem) {
        for i in 0..self.numel() {
            self.set(i, e);
        }
    }
}
