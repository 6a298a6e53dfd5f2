//! Dtypes and c10's narrowing rules.
//!
//! Mirrors: `c10/util/Half.h`, `c10/util/BFloat16.h`, `c10/core/ScalarType.h`.
//!
//! Every crossing between float widths goes through this module (STYLE rule 8). c10's reduced
//! types only have a `float` constructor, so a `double` reaches float16/bfloat16 through float32:
//! two roundings, both to nearest even. bfloat16 writes one canonical NaN (`0x7fc0`).

mod element;

pub(crate) use element::{check_fill_scalar, f64_to_i64_c, Element};

use half::{bf16, f16};

use crate::error::{Error, Result};

/// A PyTorch dtype, displayed exactly as the case format spells it (`float32`, `bfloat16`).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DType {
    /// `torch.float32`, IEEE binary32.
    Float32,
    /// `torch.float64`, IEEE binary64.
    Float64,
    /// `torch.float16`, IEEE binary16.
    Float16,
    /// `torch.bfloat16`, the upper half of a binary32.
    BFloat16,
    /// `torch.int64`.
    Int64,
    /// `torch.int32`.
    Int32,
    /// `torch.int16`.
    Int16,
    /// `torch.int8`.
    Int8,
    /// `torch.uint8`.
    UInt8,
    /// `torch.bool`, one byte 0 or 1.
    Bool,
    /// `torch.uint16` (PyTorch 2.3 and later; few kernels accept it).
    UInt16,
    /// `torch.uint32` (PyTorch 2.3 and later; few kernels accept it).
    UInt32,
    /// `torch.uint64` (PyTorch 2.3 and later; few kernels accept it).
    UInt64,
}

impl DType {
    /// Every dtype, in the order above.
    pub const ALL: [DType; 13] = [
        DType::Float32,
        DType::Float64,
        DType::Float16,
        DType::BFloat16,
        DType::Int64,
        DType::Int32,
        DType::Int16,
        DType::Int8,
        DType::UInt8,
        DType::Bool,
        DType::UInt16,
        DType::UInt32,
        DType::UInt64,
    ];

    /// The name without `torch.` (`float32`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            DType::Float32 => "float32",
            DType::Float64 => "float64",
            DType::Float16 => "float16",
            DType::BFloat16 => "bfloat16",
            DType::Int64 => "int64",
            DType::Int32 => "int32",
            DType::Int16 => "int16",
            DType::Int8 => "int8",
            DType::UInt8 => "uint8",
            DType::Bool => "bool",
            DType::UInt16 => "uint16",
            DType::UInt32 => "uint32",
            DType::UInt64 => "uint64",
        }
    }

    /// Parses a dtype name; PyTorch's aliases (`float`, `double`, `half`, `long`, `int`) too.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a name that is not one of these dtypes.
    pub fn parse(name: &str) -> Result<DType> {
        let name = name.strip_prefix("torch.").unwrap_or(name);
        Ok(match name {
            "float32" | "float" => DType::Float32,
            "float64" | "double" => DType::Float64,
            "float16" | "half" => DType::Float16,
            "bfloat16" => DType::BFloat16,
            "int64" | "long" => DType::Int64,
            "int32" | "int" => DType::Int32,
            "int16" | "short" => DType::Int16,
            "int8" => DType::Int8,
            "uint8" => DType::UInt8,
            "bool" => DType::Bool,
            "uint16" => DType::UInt16,
            "uint32" => DType::UInt32,
            "uint64" => DType::UInt64,
            _ => return Err(Error::unsupported(format!("dtype '{name}'"))),
        })
    }

    /// Bytes per element.
    #[must_use]
    pub fn size(self) -> usize {
        match self {
            DType::Float64 | DType::Int64 | DType::UInt64 => 8,
            DType::Float32 | DType::Int32 | DType::UInt32 => 4,
            DType::Float16 | DType::BFloat16 | DType::Int16 | DType::UInt16 => 2,
            DType::Int8 | DType::UInt8 | DType::Bool => 1,
        }
    }

    /// Whether this is a floating-point dtype.
    #[must_use]
    pub fn is_float(self) -> bool {
        matches!(
            self,
            DType::Float32 | DType::Float64 | DType::Float16 | DType::BFloat16
        )
    }

    /// Mantissa digits including the implicit bit (`std::numeric_limits<T>::digits`): 24, 53, 11
    /// and 8 for float32, float64, float16 and bfloat16. `None` for integer dtypes.
    #[must_use]
    pub fn digits(self) -> Option<u32> {
        match self {
            DType::Float32 => Some(24),
            DType::Float64 => Some(53),
            DType::Float16 => Some(11),
            DType::BFloat16 => Some(8),
            _ => None,
        }
    }

    /// PyTorch's C++ type name, as its error messages spell it (`Float`, `Half`, `Long`).
    #[must_use]
    pub fn cpp_name(self) -> &'static str {
        match self {
            DType::Float32 => "Float",
            DType::Float64 => "Double",
            DType::Float16 => "Half",
            DType::BFloat16 => "BFloat16",
            DType::Int64 => "Long",
            DType::Int32 => "Int",
            DType::Int16 => "Short",
            DType::Int8 => "Char",
            DType::UInt8 => "Byte",
            DType::Bool => "Bool",
            DType::UInt16 => "UInt16",
            DType::UInt32 => "UInt32",
            DType::UInt64 => "UInt64",
        }
    }

    /// Whether this is one of the wide unsigned dtypes (`uint16`, `uint32`, `uint64`), which
    /// PyTorch added in 2.3 and which most of its kernels reject.
    #[must_use]
    pub fn is_wide_unsigned(self) -> bool {
        matches!(self, DType::UInt16 | DType::UInt32 | DType::UInt64)
    }

    /// The largest finite value of a float dtype, as a double.
    #[must_use]
    pub fn float_max(self) -> Option<f64> {
        match self {
            DType::Float32 => Some(f64::from(f32::MAX)),
            DType::Float64 => Some(f64::MAX),
            DType::Float16 => Some(65504.0),
            DType::BFloat16 => Some(f64::from(f32::from_bits(0x7f7f_0000))),
            _ => None,
        }
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// float32 → float16, round to nearest even (c10 `Half(float)`).
#[inline]
#[must_use]
pub fn f32_to_f16(x: f32) -> f16 {
    f16::from_f32_const(x)
}

/// float32 → bfloat16 as c10 rounds it: nearest even on the bit pattern, every NaN → `0x7fc0`.
///
/// Mirrors: `c10/util/BFloat16.h`, `round_to_nearest_even`.
#[inline]
#[must_use]
pub fn f32_to_bf16(x: f32) -> bf16 {
    if x.is_nan() {
        return bf16::from_bits(0x7fc0);
    }
    let bits = x.to_bits();
    // Adding 0x7fff plus the lowest kept bit rounds half-way cases to the even neighbour.
    let rounded = (u64::from(bits) + 0x7fff + u64::from((bits >> 16) & 1)) >> 16;
    bf16::from_bits(rounded as u16)
}

/// float64 → float16 through float32 (two roundings, as c10 has only a float constructor).
#[inline]
#[must_use]
pub fn f64_to_f16(x: f64) -> f16 {
    f32_to_f16(x as f32)
}

/// float64 → bfloat16 through float32 (two roundings).
#[inline]
#[must_use]
pub fn f64_to_bf16(x: f64) -> bf16 {
    f32_to_bf16(x as f32)
}

/// float16 → float32 (exact).
#[inline]
#[must_use]
pub fn f16_to_f32(x: f16) -> f32 {
    x.to_f32_const()
}

/// bfloat16 → float32 (exact).
#[inline]
#[must_use]
pub fn bf16_to_f32(x: bf16) -> f32 {
    f32::from_bits(u32::from(x.to_bits()) << 16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in DType::ALL {
            assert_eq!(DType::parse(d.name()).unwrap(), d);
            assert_eq!(d.to_string(), d.name());
        }
        assert!(DType::parse("complex64").is_err());
    }

    #[test]
    fn bf16_rounding_cases() {
        // below the tie: 0x3f80_7fff rounds down
        assert_eq!(f32_to_bf16(f32::from_bits(0x3f80_7fff)).to_bits(), 0x3f80);
        // tie, even below: 0x3f80_8000 stays at 0x3f80
        assert_eq!(f32_to_bf16(f32::from_bits(0x3f80_8000)).to_bits(), 0x3f80);
        // tie from odd: 0x3f81_8000 goes up to 0x3f82
        assert_eq!(f32_to_bf16(f32::from_bits(0x3f81_8000)).to_bits(), 0x3f82);
        // above the tie
        assert_eq!(f32_to_bf16(f32::from_bits(0x3f80_8001)).to_bits(), 0x3f81);
        // every NaN becomes the canonical one, sign and payload dropped
        assert_eq!(f32_to_bf16(f32::from_bits(0xffc0_1234)).to_bits(), 0x7fc0);
        assert_eq!(f32_to_bf16(-0.0).to_bits(), 0x8000);
        // overflow to infinity
        assert_eq!(f32_to_bf16(f32::MAX).to_bits(), 0x7f80);
    }

    #[test]
    fn f16_rounding_cases() {
        // 1 + 2^-11 is the tie between 1 and 1 + 2^-10: to even (1.0)
        assert_eq!(f32_to_f16(f32::from_bits(0x3f80_1000)).to_bits(), 0x3c00);
        // tie from odd: 1 + 3*2^-11 goes up
        assert_eq!(f32_to_f16(f32::from_bits(0x3f80_3000)).to_bits(), 0x3c02);
        assert_eq!(f32_to_f16(65520.0).to_bits(), 0x7c00);
        assert_eq!(f32_to_f16(65519.0).to_bits(), 0x7bff);
    }

    #[test]
    fn double_rounding_through_f32() {
        // A double just above the f16 tie that rounds to the tie in f32 and then to even in f16.
        let x = 1.0 + 2f64.powi(-11) + 2f64.powi(-40);
        assert_eq!(f64_to_f16(x).to_bits(), 0x3c00);
    }
}
