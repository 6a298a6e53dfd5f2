//! Element types as the CUDA kernels store them: the device's conversions into each dtype.
//!
//! Float → float conversions round to nearest even (`__float2half_rn`, `F2F.BF16.F32`,
//! `cvt.rn.f32.f64`); `static_cast<integer>(float)` compiles to the saturating
//! `cvt.rzi` conversions (NaN → 0), narrower types truncating the 32-bit result; integer →
//! integer casts wrap; `bool` is `!= 0`. Only `geometric_` on integer dtypes converts a float to
//! an integer, and only its values beyond the dtype's range depend on the saturation rule
//! (inferred from the PTX ISA, not measured).

use half::{bf16, f16};

use crate::dtype::{f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16};
use crate::tensor::Storage;

/// A dtype the CUDA kernels write.
pub(crate) trait CudaElem: Copy + Default {
    /// `static_cast<T>(float)` on the device.
    fn from_f32(v: f32) -> Self;
    /// `static_cast<T>(double)` on the device.
    fn from_f64(v: f64) -> Self;
    /// `static_cast<T>(int64_t)` (floats through float for the reduced types, as c10 does).
    fn from_i64(v: i64) -> Self;
    /// `static_cast<T>(bool)`.
    fn from_bool(b: bool) -> Self;
    /// Wraps a buffer.
    fn storage(v: Vec<Self>) -> Storage;
}

/// `cvt.rzi.s64.f64`: truncation, saturating, NaN → 0 (Rust's `as` does exactly this).
fn sat_i64(v: f64) -> i64 {
    v as i64
}

macro_rules! int_elem {
    ($t:ty, $var:ident, $from_float:expr) => {
        impl CudaElem for $t {
            fn from_f32(v: f32) -> $t {
                $from_float(f64::from(v))
            }
            fn from_f64(v: f64) -> $t {
                $from_float(v)
            }
            fn from_i64(v: i64) -> $t {
                v as $t
            }
            fn from_bool(b: bool) -> $t {
                <$t>::from(b)
            }
            fn storage(v: Vec<$t>) -> Storage {
                Storage::$var(v)
            }
        }
    };
}
// 64- and 32-bit destinations saturate in their own width; narrower ones take the low bits of
// the saturated 32-bit conversion.
int_elem!(i64, I64, sat_i64);
int_elem!(i32, I32, |v: f64| v as i32);
int_elem!(i16, I16, |v: f64| (v as i32) as i16);
int_elem!(i8, I8, |v: f64| (v as i32) as i8);
int_elem!(u8, U8, |v: f64| (v as i32) as u8);
int_elem!(u16, U16, |v: f64| (v as i32) as u16);
int_elem!(u32, U32, |v: f64| v as u32);
int_elem!(u64, U64, |v: f64| v as u64);

impl CudaElem for bool {
    fn from_f32(v: f32) -> bool {
        v != 0.0
    }
    fn from_f64(v: f64) -> bool {
        v != 0.0
    }
    fn from_i64(v: i64) -> bool {
        v != 0
    }
    fn from_bool(b: bool) -> bool {
        b
    }
    fn storage(v: Vec<bool>) -> Storage {
        Storage::Bool(v)
    }
}

impl CudaElem for f32 {
    fn from_f32(v: f32) -> f32 {
        v
    }
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn from_i64(v: i64) -> f32 {
        v as f32
    }
    fn from_bool(b: bool) -> f32 {
        f32::from(u8::from(b))
    }
    fn storage(v: Vec<f32>) -> Storage {
        Storage::F32(v)
    }
}

impl CudaElem for f64 {
    fn from_f32(v: f32) -> f64 {
        f64::from(v)
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn from_i64(v: i64) -> f64 {
        v as f64
    }
    fn from_bool(b: bool) -> f64 {
        f64::from(u8::from(b))
    }
    fn storage(v: Vec<f64>) -> Storage {
        Storage::F64(v)
    }
}

impl CudaElem for f16 {
    fn from_f32(v: f32) -> f16 {
        f32_to_f16(v)
    }
    fn from_f64(v: f64) -> f16 {
        f64_to_f16(v)
    }
    fn from_i64(v: i64) -> f16 {
        f32_to_f16(v as f32)
    }
    fn from_bool(b: bool) -> f16 {
        f32_to_f16(f32::from(u8::from(b)))
    }
    fn storage(v: Vec<f16>) -> Storage {
        Storage::F16(v)
    }
}

impl CudaElem for bf16 {
    fn from_f32(v: f32) -> bf16 {
        f32_to_bf16(v)
    }
    fn from_f64(v: f64) -> bf16 {
        f64_to_bf16(v)
    }
    fn from_i64(v: i64) -> bf16 {
        f32_to_bf16(v as f32)
    }
    fn from_bool(b: bool) -> bf16 {
        f32_to_bf16(f32::from(u8::from(b)))
    }
    fn storage(v: Vec<bf16>) -> Storage {
        Storage::BF16(v)
    }
}

/// Runs `$body` with `$t` bound to the element type of `$dtype`.
macro_rules! with_elem {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            $crate::dtype::DType::Float32 => {
                type $t = f32;
                $body
            }
            $crate::dtype::DType::Float64 => {
                type $t = f64;
                $body
            }
            $crate::dtype::DType::Float16 => {
                type $t = half::f16;
                $body
            }
            $crate::dtype::DType::BFloat16 => {
                type $t = half::bf16;
                $body
            }
            $crate::dtype::DType::Int64 => {
                type $t = i64;
                $body
            }
            $crate::dtype::DType::Int32 => {
                type $t = i32;
                $body
            }
            $crate::dtype::DType::Int16 => {
                type $t = i16;
                $body
            }
            $crate::dtype::DType::Int8 => {
                type $t = i8;
                $body
            }
            $crate::dtype::DType::UInt8 => {
                type $t = u8;
                $body
            }
            $crate::dtype::DType::Bool => {
                type $t = bool;
                $body
            }
            $crate::dtype::DType::UInt16 => {
                type $t = u16;
                $body
            }
            $crate::dtype::DType::UInt32 => {
                type $t = u32;
                $body
            }
            $crate::dtype::DType::UInt64 => {
                type $t = u64;
                $body
            }
        }
    };
}
pub(crate) use with_elem;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(<u8 as CudaElem>::from_f32(300.0), 44); // 300 as i32, low byte
        assert_eq!(<i32 as CudaElem>::from_f32(3e10), i32::MAX);
        assert_eq!(<i64 as CudaElem>::from_f32(f32::NAN), 0);
        assert!(<bool as CudaElem>::from_f32(f32::NAN));
        assert_eq!(<i16 as CudaElem>::from_i64(70_000), 70_000i64 as i16);
        assert_eq!(<f16 as CudaElem>::from_f32(1.0).to_bits(), 0x3c00);
        assert_eq!(<bf16 as CudaElem>::from_bool(true).to_bits(), 0x3f80);
    }
}
