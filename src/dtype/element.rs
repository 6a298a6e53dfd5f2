//! Scalar → element conversions: the one place where a value becomes an element of a dtype.
//!
//! Two rules exist in PyTorch and both live here:
//! * [`Element`]: C++'s `static_cast<T>` as x86-64 compiles it, used by kernels (a sampled double
//!   stored into an integer tensor, `randperm` indices into a float tensor, a 0/1 flag).
//! * [`check_fill_scalar`]: c10's `checked_convert`, the check `fill_` and the init functions
//!   make before converting a Python scalar (out-of-range values are refused); the value is then
//!   converted with [`Element::from_f64`].

use half::{bf16, f16};

use super::{bf16_to_f32, f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16, DType};
use crate::error::{Error, Result};

/// An element type of a tensor's storage, with C++'s conversions into it.
pub(crate) trait Element: Copy {
    /// `static_cast<T>(int64_t)`: round to nearest even for float types (float16/bfloat16 through
    /// float32), two's-complement truncation for integers, `!= 0` for bool.
    fn from_i64(v: i64) -> Self;
    /// `static_cast<T>(double)` as x86-64 compiles it: float16/bfloat16 through float32; integers
    /// by truncation (`cvttsd2si`: out of range or NaN gives the integer indefinite value, and
    /// types narrower than int32 keep the low bits of the 32-bit conversion); bool `!= 0`.
    fn from_f64(v: f64) -> Self;
    /// The value as a double (exact for every type but int64 beyond 2^53).
    fn to_f64(self) -> f64;
    /// `static_cast<T>(bool)` (0 or 1), chosen without a branch (a Bernoulli fill loop would
    /// mispredict it on every other element).
    fn from_bool(b: bool) -> Self;
}

/// C++ `static_cast<int64_t>(x)` on x86-64 (`cvttsd2si`): truncation, and `INT64_MIN` for NaN or
/// anything outside the int64 range (where C++ leaves it undefined).
#[inline]
#[must_use]
pub(crate) fn f64_to_i64_c(x: f64) -> i64 {
    let two63 = (1u64 << 63) as f64;
    if x.is_nan() || !(-two63..two63).contains(&x) {
        i64::MIN
    } else {
        x as i64
    }
}

/// C++ `static_cast<int32_t>(double)` on x86-64 (`cvttsd2si`, 32-bit).
fn f64_to_i32_c(x: f64) -> i32 {
    if x > -2_147_483_649.0 && x < 2_147_483_648.0 {
        x as i32
    } else {
        i32::MIN
    }
}

/// C++ `static_cast<uint64_t>(double)` as x86-64 compilers emit it without AVX-512: below 2^63
/// (and NaN) the signed conversion, from 2^63 the signed conversion of `x - 2^63` with the top
/// bit flipped.
fn f64_to_u64_c(x: f64) -> u64 {
    let two63 = (1u64 << 63) as f64;
    if x >= two63 {
        (f64_to_i64_c(x - two63) as u64) ^ (1 << 63)
    } else {
        f64_to_i64_c(x) as u64
    }
}

macro_rules! int_element {
    ($t:ty, $from_f64:expr) => {
        impl Element for $t {
            fn from_i64(v: i64) -> $t {
                v as $t
            }
            fn from_f64(v: f64) -> $t {
                $from_f64(v)
            }
            fn to_f64(self) -> f64 {
                self as f64
            }
            fn from_bool(b: bool) -> $t {
                <$t>::from(b)
            }
        }
    };
}
int_element!(i64, f64_to_i64_c);
int_element!(i32, f64_to_i32_c);
int_element!(i16, |v| f64_to_i32_c(v) as i16);
int_element!(i8, |v| f64_to_i32_c(v) as i8);
int_element!(u8, |v| f64_to_i32_c(v) as u8);
int_element!(u16, |v| f64_to_i32_c(v) as u16);
int_element!(u32, |v| f64_to_i64_c(v) as u32);
int_element!(u64, f64_to_u64_c);

impl Element for bool {
    fn from_i64(v: i64) -> bool {
        v != 0
    }
    fn from_f64(v: f64) -> bool {
        v != 0.0
    }
    fn to_f64(self) -> f64 {
        f64::from(u8::from(self))
    }
    fn from_bool(b: bool) -> bool {
        b
    }
}
impl Element for f64 {
    fn from_i64(v: i64) -> f64 {
        v as f64
    }
    fn from_f64(v: f64) -> f64 {
        v
    }
    fn to_f64(self) -> f64 {
        self
    }
    fn from_bool(b: bool) -> f64 {
        f64::from_bits(u64::from(b) * 0x3ff0_0000_0000_0000)
    }
}
impl Element for f32 {
    fn from_i64(v: i64) -> f32 {
        v as f32
    }
    fn from_f64(v: f64) -> f32 {
        v as f32
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_bool(b: bool) -> f32 {
        f32::from_bits(u32::from(b) * 0x3f80_0000)
    }
}
impl Element for f16 {
    fn from_i64(v: i64) -> f16 {
        f32_to_f16(v as f32)
    }
    fn from_f64(v: f64) -> f16 {
        f64_to_f16(v)
    }
    fn to_f64(self) -> f64 {
        f64::from(self.to_f32_const())
    }
    fn from_bool(b: bool) -> f16 {
        f16::from_bits(u16::from(b) * 0x3c00)
    }
}
impl Element for bf16 {
    fn from_i64(v: i64) -> bf16 {
        f32_to_bf16(v as f32)
    }
    fn from_f64(v: f64) -> bf16 {
        f64_to_bf16(v)
    }
    fn to_f64(self) -> f64 {
        f64::from(bf16_to_f32(self))
    }
    fn from_bool(b: bool) -> bf16 {
        bf16::from_bits(u16::from(b) * 0x3f80)
    }
}

/// c10's `checked_convert<T>(double)` as `fill_` and `constant_` make it: floats must lie in the
/// dtype's finite range unless infinite or NaN, integers in the integer range (NaN and infinities
/// refused); bool takes anything. The value itself is then stored with [`Element::from_f64`]
/// (truncation toward zero for integers, c10's rounding for floats).
///
/// # Errors
/// [`Error::InvalidArgument`] naming `op` when the value overflows the dtype.
pub(crate) fn check_fill_scalar(op: &str, dtype: DType, v: f64) -> Result<()> {
    let finite_in = |max: f64| v.is_nan() || v.is_infinite() || (v >= -max && v <= max);
    let ok = match dtype {
        DType::Float64 | DType::Bool => true,
        DType::Float32 | DType::BFloat16 => finite_in(f64::from(f32::MAX)),
        DType::Float16 => finite_in(65504.0),
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
            v >= lo && v <= hi
        }
    };
    if ok {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!(
                "value cannot be converted to type {} without overflow",
                dtype.cpp_name()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_casts() {
        assert_eq!(f64_to_i64_c(f64::NAN), i64::MIN);
        assert_eq!(f64_to_i64_c(-2.7), -2);
        assert_eq!(f64_to_i64_c(1e300), i64::MIN);
        assert_eq!(
            <u64 as Element>::from_f64(1.8e19),
            18_000_000_000_000_000_000
        );
        assert_eq!(<i8 as Element>::from_f64(300.0), 44);
        assert_eq!(<f32 as Element>::from_bool(true).to_bits(), 0x3f80_0000);
        assert_eq!(<f16 as Element>::from_i64(2049).to_bits(), 0x6800);
    }

    #[test]
    fn fill_scalar_checks() {
        assert!(check_fill_scalar("fill_", DType::Float16, 65504.0).is_ok());
        assert!(check_fill_scalar("fill_", DType::Float16, 1e6).is_err());
        assert!(check_fill_scalar("fill_", DType::Float16, f64::INFINITY).is_ok());
        assert!(check_fill_scalar("fill_", DType::Int8, 128.0).is_err());
        assert!(check_fill_scalar("fill_", DType::Int32, f64::NAN).is_err());
        assert!(check_fill_scalar("fill_", DType::UInt64, 1.8e19).is_ok());
        assert!(check_fill_scalar("fill_", DType::Bool, f64::NAN).is_ok());
    }
}
