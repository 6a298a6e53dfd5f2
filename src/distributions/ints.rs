//! Integer sampling: `random_`, `randint`, `randint_like` (word → value, and the bound rules).
//!
//! Mirrors: `aten/src/ATen/core/TransformationHelper.h` (`uniform_int_from_to`,
//! `uniform_int_full_range`, `uniform_int`), `aten/src/ATen/core/DistributionsHelper.h`
//! (`uniform_int_from_to_distribution`, `uniform_int_distribution`) and
//! `aten/src/ATen/native/DistributionTemplates.h` (`update_from`, `update_to`).
//!
//! Consumes, per element in iteration order:
//! * `random_(from, to)`: one `random64()` when the 64-bit rule holds ([`use_random64`]),
//!   otherwise one `random()`;
//! * `random_(-2^63, None)`: one `random64()`;
//! * `random_()`: one `random64()` for int64 and float64, one `random()` otherwise.

use crate::context::WideRandint;
use crate::dtype::DType;

/// Whether `random_(from, to)` draws 64 bits per element for this range, dtype and release.
///
/// From 2.7 any range of at least 2^28 does (PyTorch accepts about 5 % skew from `%` below
/// that). Before, only a range of at least 2^32 in int64, float64, float32 or bfloat16 did, so an
/// int32 range of exactly 2^32 drew 32 bits.
#[must_use]
pub fn use_random64(range: u64, dtype: DType, rule: WideRandint) -> bool {
    if rule == WideRandint::Current {
        range >= 1 << 28
    } else {
        range >= 1 << 32
            && matches!(
                dtype,
                DType::Int64 | DType::Float64 | DType::Float32 | DType::BFloat16
            )
    }
}

#[cfg(test)]
/// `uniform_int_from_to`: `(v mod range) + base`, wrapping in 64 bits, as a signed value.
#[inline]
#[must_use]
pub fn from_to(v: u64, range: u64, base: i64) -> i64 {
    (v % range).wrapping_add(base as u64) as i64
}

/// An exact `v mod d` for a fixed `d`, without a division per element.
///
/// PyTorch divides (`v % range`); this computes the same remainder by multiplication:
/// * 32-bit `v` ([`Modulus::rem_u32`]): Lemire, Kaser and Kurz, "Faster remainder by direct
///   computation" (2019), exact for every 32-bit `v` and `d < 2^32` with `c = ceil(2^64 / d)`:
///   `v mod d = hi64(lo64(c * v) * d)`.
/// * 64-bit `v` ([`Modulus::rem_u64`]): the quotient by Granlund and Montgomery, "Division by
///   invariant integers using multiplication" (1994), figure 4.1, exact for every 64-bit `v` and
///   `1 <= d < 2^64`: `t = hi64(m * v)`, `q = (t + ((v - t) >> 1)) >> (l - 1)` with
///   `l = ceil(log2 d)` and `m = floor(2^64 (2^l - d) / d) + 1`; then `v - q d`.
///
/// Powers of two take a mask. `d = 0` stands for 2^64 (every value is its own remainder).
#[derive(Clone, Copy, Debug)]
pub struct Modulus {
    d: u64,
    /// `d - 1` when `d` is a power of two (or 0 for 2^64, with `pow2_mask = u64::MAX`).
    pow2_mask: Option<u64>,
    /// Lemire's `c` (unused when `d >= 2^32`).
    c32: u64,
    /// Granlund–Montgomery's `m` and `l - 1`.
    m64: u64,
    shift: u32,
}

impl Modulus {
    /// Precomputes the constants for `d` (`0` meaning 2^64).
    #[must_use]
    pub fn new(d: u64) -> Modulus {
        if d == 0 || d.is_power_of_two() {
            return Modulus {
                d,
                pow2_mask: Some(d.wrapping_sub(1)),
                c32: 0,
                m64: 0,
                shift: 0,
            };
        }
        // d >= 3 here, so l >= 2 and 2^l - d < d.
        let l = 64 - (d - 1).leading_zeros();
        let m64 = (((1u128 << l) - u128::from(d)) << 64) / u128::from(d) + 1;
        Modulus {
            d,
            pow2_mask: None,
            c32: if u32::try_from(d).is_ok() {
                u64::MAX / d + 1
            } else {
                0
            },
            m64: m64 as u64,
            shift: l - 1,
        }
    }

    /// `u64::from(v) % d`.
    #[inline(always)]
    #[must_use]
    pub fn rem_u32(&self, v: u32) -> u64 {
        let v = u64::from(v);
        if let Some(mask) = self.pow2_mask {
            return v & mask;
        }
        if self.c32 == 0 {
            return v; // d > v
        }
        let low = self.c32.wrapping_mul(v);
        ((u128::from(low) * u128::from(self.d)) >> 64) as u64
    }

    /// `v % d`.
    #[inline(always)]
    #[must_use]
    pub fn rem_u64(&self, v: u64) -> u64 {
        if let Some(mask) = self.pow2_mask {
            return v & mask;
        }
        let t = ((u128::from(self.m64) * u128::from(v)) >> 64) as u64;
        let q = (t + ((v - t) >> 1)) >> self.shift;
        v - q * self.d
    }
}

/// `uniform_int` (the argument-less `random_()`): the modulus per dtype.
///
/// bool keeps the low bit; integers take `v mod (max + 1)`; float dtypes `v mod (2^digits + 1)`,
/// so every integer of `[0, 2^digits]` can appear.
#[must_use]
pub fn unbounded_modulus(dtype: DType) -> u64 {
    match dtype {
        DType::Bool => 2,
        DType::UInt8 => 1 << 8,
        DType::Int8 => 1 << 7,
        DType::Int16 => 1 << 15,
        DType::Int32 => 1 << 31,
        DType::Int64 => 1 << 63,
        other => (1u64 << other.digits().unwrap_or(24)) + 1,
    }
}

/// Whether the argument-less `random_()` draws `random64()` for `dtype` (int64 and float64).
#[must_use]
pub fn unbounded_uses_random64(dtype: DType) -> bool {
    matches!(dtype, DType::Int64 | DType::Float64)
}

/// `static_cast<int64_t>(static_cast<T>(v))` for a float dtype: `v` rounded to the dtype (int64 →
/// float32 → float16/bfloat16 for the reduced types) and truncated back.
fn round_trip(v: i64, dtype: DType) -> i64 {
    let x = match dtype {
        DType::Float64 => v as f64,
        DType::Float16 => f64::from(crate::dtype::f32_to_f16(v as f32).to_f32_const()),
        DType::BFloat16 => f64::from(crate::dtype::bf16_to_f32(crate::dtype::f32_to_bf16(
            v as f32,
        ))),
        _ => f64::from(v as f32),
    };
    crate::dtype::f64_to_i64_c(x)
}

/// floor(log2 |x|) as PyTorch's shift loop computes it (0 for |x| <= 1).
fn floor_log2(x: i64) -> u32 {
    x.unsigned_abs().checked_ilog2().unwrap_or(0)
}

/// `update_from<T>`: moves `from` right to the next value whose successor survives the cast to
/// the float dtype, so no sample can round below `from`.
#[must_use]
pub fn update_from(from: i64, dtype: DType) -> i64 {
    let digits = dtype.digits().unwrap_or(53);
    let plus1 = round_trip(from.wrapping_add(1), dtype);
    if plus1 < from {
        let n = floor_log2(from.wrapping_add(1));
        return plus1.wrapping_add(1i64 << (n + 1).saturating_sub(digits));
    }
    from
}

/// `update_to<T>`: moves `to` left so that no sample can round up to `to` in the float dtype
/// (float32 `randint(0, 2^30)` samples from a range of 2^30 − 64).
#[must_use]
pub fn update_to(to: i64, dtype: DType) -> i64 {
    let digits = dtype.digits().unwrap_or(53);
    let minus1 = round_trip(to.wrapping_sub(1), dtype);
    if minus1 >= to {
        let n = floor_log2(to.wrapping_sub(1));
        return minus1.wrapping_sub(1i64 << (n + 1).saturating_sub(digits));
    }
    to
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generator::CpuGenerator;

    #[test]
    fn randint_0_10_seed42() {
        // torch.manual_seed(42); torch.randint(0, 10, (8,)) (cpu-rng.md section 14)
        let mut g = CpuGenerator::with_seed(42);
        let v: Vec<i64> = (0..8)
            .map(|_| from_to(u64::from(g.random()), 10, 0))
            .collect();
        assert_eq!(v, [2, 7, 6, 4, 6, 5, 0, 4]);
    }

    #[test]
    fn threshold_by_era() {
        // randint(0, 2**30, (2,)): 2.15 draws 64 bits, 2.5 draws 32.
        let mut g = CpuGenerator::with_seed(42);
        assert!(use_random64(
            1 << 30,
            DType::Int64,
            crate::context::Era::R4.rules().wide_randint
        ));
        let v: Vec<i64> = (0..2).map(|_| from_to(g.random64(), 1 << 30, 0)).collect();
        assert_eq!(v, [199_900_595, 787_846_414]);
        assert!(!use_random64(
            1 << 30,
            DType::Int64,
            crate::context::Era::L1.rules().wide_randint
        ));
        let mut g = CpuGenerator::with_seed(42);
        let v: Vec<i64> = (0..2)
            .map(|_| from_to(u64::from(g.random()), 1 << 30, 0))
            .collect();
        assert_eq!(v, [534_895_718, 199_900_595]);
        assert!(!use_random64(
            1 << 32,
            DType::Int32,
            crate::context::Era::L1.rules().wide_randint
        ));
        assert!(use_random64(
            1 << 32,
            DType::Float32,
            crate::context::Era::L1.rules().wide_randint
        ));
    }

    #[test]
    fn modulus_is_exact() {
        let mut divisors: Vec<u64> = vec![
            1,
            2,
            3,
            5,
            7,
            10,
            1000,
            (1 << 28) - 1,
            1 << 28,
            (1 << 28) + 1,
            (1 << 31) - 1,
            u64::from(u32::MAX) - 4,
            u64::from(u32::MAX),
            1 << 32,
            (1 << 32) + 1,
            1 << 40,
            (1 << 40) + 12345,
            (1 << 63) - 1,
            1 << 63,
            (1 << 63) + 1,
            u64::MAX - 1,
            u64::MAX,
        ];
        let mut g = CpuGenerator::with_seed(3);
        for _ in 0..200 {
            divisors.push(g.random64() >> (g.random() % 64));
            divisors.push(u64::from(g.random()) >> (g.random() % 32));
        }
        for d in divisors.into_iter().filter(|&d| d > 0) {
            let m = Modulus::new(d);
            let mut values: Vec<u64> = vec![0, 1, d - 1, d, d.wrapping_add(1), u64::MAX];
            values.extend([u64::from(u32::MAX), 2 * d.min(1 << 62) - 1]);
            values.extend((0..300).map(|_| g.random64()));
            for v in values {
                assert_eq!(m.rem_u64(v), v % d, "{v} mod {d}");
                let w = v as u32;
                assert_eq!(m.rem_u32(w), u64::from(w) % d, "{w} mod {d} (32-bit)");
            }
        }
        // d = 0 stands for 2^64
        assert_eq!(Modulus::new(0).rem_u64(u64::MAX), u64::MAX);
    }

    #[test]
    fn bound_nudging() {
        assert_eq!(update_to(1 << 30, DType::Float32), (1 << 30) - 64);
        assert_eq!(update_to(65504, DType::Float16), 65472);
        assert_eq!(update_to(10, DType::Float32), 10);
        assert_eq!(update_from(-(1 << 30) - 70, DType::Float32), -(1 << 30));
        assert_eq!(update_from(5, DType::BFloat16), 5);
    }
}
