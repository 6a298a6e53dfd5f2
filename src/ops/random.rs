//! `random_()`, `random_(to)`, `random_(from, to)`, `randint`, `randint_like`.
//!
//! Mirrors: `random_from_to_impl` and friends in
//! `aten/src/ATen/native/DistributionTemplates.h`; `randint` in
//! `aten/src/ATen/native/TensorFactories.cpp`.

use super::{fresh, not_implemented, View};
use crate::context::Context;
use crate::context::{Rules, WideRandint};
use crate::distributions::block::{extend_u32, extend_u64};
use crate::distributions::ints::{self, Modulus};
use crate::dtype::DType;
use crate::dtype::Element;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::tensor::{each_storage, Storage, Tensor};

/// What `random_` draws per element, after PyTorch's checks.
#[derive(Clone, Copy, Debug)]
pub(crate) enum RandomMode {
    /// `random_()`: `v mod m`, one `random64()` or one `random()`.
    Unbounded { modulus: u64, wide: bool },
    /// `random_(from, to)`: `(v mod range) + base`.
    Range { range: u64, base: i64, wide: bool },
    /// `random_(-2^63, None)`: the whole 64-bit word.
    Full,
}

/// `static_cast<int64_t>` of `numeric_limits<T>::lowest()` and `max()` for an integer or bool
/// dtype (bool: 0 and 1; uint64's maximum becomes -1); `None` for float dtypes.
pub(super) fn int_limits(dtype: DType) -> Option<(i64, i64)> {
    Some(match dtype {
        DType::Int64 => (i64::MIN, i64::MAX),
        DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DType::UInt8 => (0, u8::MAX.into()),
        DType::UInt16 => (0, u16::MAX.into()),
        DType::UInt32 => (0, u32::MAX.into()),
        DType::UInt64 => (0, u64::MAX as i64),
        DType::Bool => (0, 1),
        _ => return None,
    })
}

/// The dtype's bounds as `check_from_to_in_range` compares them (uint64: `[0, INT64_MAX]`, as
/// PyTorch avoids the signed/unsigned comparison).
fn check_in_range(op: &str, from: i64, to_inc: i64, dtype: DType) -> Result<()> {
    let ok = |v: i64| -> bool {
        if let Some(max) = dtype.float_max() {
            (v as f64) >= -max && (v as f64) <= max
        } else {
            let (lo, hi) = match dtype {
                DType::UInt64 => (0, i64::MAX),
                d => int_limits(d).unwrap_or((i64::MIN, i64::MAX)),
            };
            v >= lo && v <= hi
        }
    };
    if !ok(from) {
        return Err(Error::arg(
            op,
            format!("from={from} is out of bounds for {dtype}"),
        ));
    }
    if !ok(to_inc) {
        return Err(Error::arg(
            op,
            format!("to - 1 = {to_inc} is out of bounds for {dtype}"),
        ));
    }
    Ok(())
}

/// `random_from_to_impl`'s checks and range computation.
pub(crate) fn random_mode(
    op: &str,
    from: i64,
    to: Option<i64>,
    dtype: DType,
    wide_rule: WideRandint,
) -> Result<RandomMode> {
    let is_float = dtype.is_float();
    match to {
        Some(to) => {
            if from >= to {
                return Err(Error::arg(
                    op,
                    format!("expects 'from' to be less than 'to', but got from={from} >= to={to}"),
                ));
            }
            let (mut from, mut to) = (from, to);
            if is_float {
                from = ints::update_from(from, dtype);
                to = ints::update_to(to, dtype);
                if from >= to {
                    return Err(Error::arg(
                        op,
                        format!(
                            "expects 'from' cast to {dtype} to be less than 'to' cast to {dtype}, \
                             but got from={from} >= to={to}"
                        ),
                    ));
                }
            }
            check_in_range(op, from, to - 1, dtype)?;
            let range = (to as u64).wrapping_sub(from as u64);
            Ok(RandomMode::Range {
                range,
                base: from,
                wide: ints::use_random64(range, dtype, wide_rule),
            })
        }
        None if from != i64::MIN => {
            let mut from = from;
            let to_inc = if let Some(digits) = dtype.digits() {
                from = ints::update_from(from, dtype);
                let to_inc = 1i64 << digits;
                if from >= to_inc {
                    return Err(Error::arg(
                        op,
                        format!(
                            "expects 'from' cast to {dtype} to be at most 2^{digits}, got {from}"
                        ),
                    ));
                }
                to_inc
            } else {
                // uint64's maximum reads -1, so the range check below rejects every
                // `random_(from, None)` on uint64, as PyTorch does.
                int_limits(dtype).map_or(i64::MAX, |(_, max)| max)
            };
            check_in_range(op, from, to_inc, dtype)?;
            let range = (to_inc as u64).wrapping_sub(from as u64).wrapping_add(1);
            Ok(RandomMode::Range {
                range,
                base: from,
                wide: ints::use_random64(range, dtype, wide_rule),
            })
        }
        None => Ok(RandomMode::Full),
    }
}

/// Appends `n` `random_` values of `mode` to the empty `data`.
fn random_fill(
    g: &mut CpuGenerator,
    op: &str,
    data: &mut Storage,
    n: usize,
    mode: RandomMode,
) -> Result<()> {
    if n == 0 {
        return Ok(());
    }
    match (mode, data.dtype()) {
        (RandomMode::Unbounded { .. }, d) if d.is_wide_unsigned() => {
            return Err(Error::arg(op, not_implemented("random_kernel_cpu", d)));
        }
        (RandomMode::Full, d) => match d {
            DType::Int64 | DType::Float64 | DType::Float32 | DType::BFloat16 => {}
            DType::Float16 | DType::Bool | DType::UInt16 | DType::UInt32 | DType::UInt64 => {
                return Err(Error::arg(
                    op,
                    not_implemented("random_full_64_bits_range_kernel_cpu", d),
                ));
            }
            d => {
                return Err(Error::arg(
                    op,
                    format!("the full 64-bit range handles only int64, double, float and bfloat16, not {d}"),
                ));
            }
        },
        _ => {}
    }
    // `(v mod m) + base`, wrapping in 64 bits (`uniform_int_from_to`; base 0 for `uniform_int`).
    let (modulus, base, wide) = match mode {
        RandomMode::Unbounded { modulus, wide } => (modulus, 0, wide),
        RandomMode::Range { range, base, wide } => (range, base, wide),
        RandomMode::Full => (0, 0, true), // modulus 2^64: the whole word
    };
    let m = Modulus::new(modulus);
    let base = base as u64;
    each_storage!(data, v => if wide {
        extend_u64(g, v, n, |w| Element::from_i64(m.rem_u64(w).wrapping_add(base) as i64));
    } else {
        extend_u32(g, v, n, |w| Element::from_i64(m.rem_u32(w).wrapping_add(base) as i64));
    });
    Ok(())
}

/// `torch.uint16`, `uint32` and `uint64` appeared in PyTorch 2.3: in 2.0 naming them fails.
/// (2.1 and 2.2, which share era L1 with 2.3 – 2.5, lack them too; replay checks the release.)
fn check_dtype_exists(op: &str, dtype: DType, rules: Rules) -> Result<()> {
    if !rules.wide_unsigned_dtypes && dtype.is_wide_unsigned() {
        return Err(Error::arg(
            op,
            format!("torch.{dtype} does not exist before PyTorch 2.3"),
        ));
    }
    Ok(())
}

/// `torch.empty(...)[.permute(...)].random_()`: integers in `[0, max]` (`[0, 2^digits]` for float
/// dtypes), returned contiguous.
///
/// Consumes: one `random64()` per element for int64 and float64, one `random()` otherwise.
///
/// # Errors
/// uint16, uint32 and uint64 (PyTorch has no kernel for them; an empty tensor is accepted), plus
/// size errors.
pub fn random_(g: &mut CpuGenerator, view: &View, cx: Context) -> Result<Tensor> {
    let dtype = view.dtype;
    check_dtype_exists("random_", dtype, cx.rules())?;
    let mode = RandomMode::Unbounded {
        modulus: ints::unbounded_modulus(dtype),
        wide: ints::unbounded_uses_random64(dtype),
    };
    fresh(view, "random_", |s, n| {
        random_fill(g, "random_", s, n, mode)
    })
}

/// `random_(from, to)` on a view; `to = None` means up to the dtype's largest value (2^digits for
/// float dtypes), and `from = -2^63, to = None` the full 64-bit range.
///
/// Consumes: see [`crate::distributions::ints`]; the 64-bit rule depends on `target.era`.
///
/// # Errors
/// As PyTorch: `from >= to` (also after the float nudging), bounds outside the dtype (uint64's
/// upper bound is compared as an int64, so `random_(from, None)` always fails on uint64), and the
/// full range on a dtype other than int64/float64/float32/bfloat16.
pub fn random_from_to(
    g: &mut CpuGenerator,
    view: &View,
    from: i64,
    to: Option<i64>,
    cx: Context,
) -> Result<Tensor> {
    view.check_size("random_")?;
    check_dtype_exists("random_", view.dtype, cx.rules())?;
    let mode = random_mode("random_", from, to, view.dtype, cx.rules().wide_randint)?;
    fresh(view, "random_", |s, n| {
        random_fill(g, "random_", s, n, mode)
    })
}

/// `torch.randint(low, high, size, dtype=dtype)` (`randint(high, size)` is `low = 0`).
///
/// # Errors
/// As [`random_from_to`], plus size errors.
pub fn randint(
    g: &mut CpuGenerator,
    low: i64,
    high: i64,
    size: &[i64],
    dtype: DType,
    cx: Context,
) -> Result<Tensor> {
    random_from_to(g, &View::contiguous(size, dtype), low, Some(high), cx)
}

/// `torch.randint_like(x, low, high)`: `empty_like(x).random_(low, high)` (a permuted `x` keeps
/// its layout, so elements are drawn in its memory order).
///
/// # Errors
/// As [`randint`].
pub fn randint_like(
    g: &mut CpuGenerator,
    like: &View,
    low: i64,
    high: i64,
    cx: Context,
) -> Result<Tensor> {
    random_from_to(g, like, low, Some(high), cx)
}
