//! The remaining CPU samplers: `randperm`, `random_`/`randint`/`randint_like`, `bernoulli`,
//! dropout, `exponential_`, `geometric_`, `log_normal_`, `cauchy_`, `multinomial` and `normal`
//! with tensor arguments.
//!
//! Mirrors: `aten/src/ATen/native/TensorFactories.cpp` (`randperm_out_cpu`, `randint`),
//! `aten/src/ATen/native/DistributionTemplates.h` (`random_from_to_impl`, the `*_impl_` checks,
//! `normal_out_impl`), `aten/src/ATen/native/Distributions.cpp` (`multinomial`),
//! `aten/src/ATen/native/Dropout.cpp` (`_dropout_impl`, `native_dropout_cpu`).
//!
//! Checks come first, in PyTorch's order; a rejected call draws nothing, except where PyTorch
//! itself fails half-way (multinomial rows, dropout of an integer tensor), which ends a case
//! anyway. In-place ops on a [`View`] fill in memory order, like every element-wise kernel; the
//! legacy MKL kernels (2.0–2.6) fill a contiguous buffer in logical order and copy it back.

// `!(x >= 0.0)` and friends are deliberate: NaN must fail PyTorch's checks.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use half::{bf16, f16};

use super::{fill_normal, not_implemented, View};
use crate::distributions::bernoulli::{self, Mcg31, ScalarThreshold};
use crate::distributions::block::{extend_u32, extend_u64};
use crate::distributions::continuous::{self, LegacyExponential};
use crate::distributions::ints::{self, Modulus};
use crate::distributions::multinomial::{self, RowError};
use crate::distributions::perm;
use crate::dtype::{bf16_to_f32, f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16, DType};
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::target::{Era, Target};
use crate::tensor::{Storage, Tensor};

/// An element type of [`Storage`], with C++'s conversions into it.
pub(crate) trait Elem: Copy {
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

/// C++ `static_cast<int32_t>(double)` on x86-64 (`cvttsd2si`, 32-bit).
fn f64_to_i32_c(x: f64) -> i32 {
    if x > -2_147_483_649.0 && x < 2_147_483_648.0 {
        x as i32
    } else {
        i32::MIN
    }
}

macro_rules! int_elem {
    ($t:ty, $from_f64:expr) => {
        impl Elem for $t {
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
int_elem!(i64, ints::f64_to_i64_c);
int_elem!(i32, f64_to_i32_c);
int_elem!(i16, |v| f64_to_i32_c(v) as i16);
int_elem!(i8, |v| f64_to_i32_c(v) as i8);
int_elem!(u8, |v| f64_to_i32_c(v) as u8);
int_elem!(u16, |v| f64_to_i32_c(v) as u16);
int_elem!(u32, |v| ints::f64_to_i64_c(v) as u32);
int_elem!(u64, f64_to_u64_c);

/// C++ `static_cast<uint64_t>(double)` as x86-64 compilers emit it without AVX-512: below 2^63
/// (and NaN) the signed conversion, from 2^63 the signed conversion of `x - 2^63` with the top
/// bit flipped.
fn f64_to_u64_c(x: f64) -> u64 {
    let two63 = (1u64 << 63) as f64;
    if x >= two63 {
        (ints::f64_to_i64_c(x - two63) as u64) ^ (1 << 63)
    } else {
        ints::f64_to_i64_c(x) as u64
    }
}

impl Elem for bool {
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
impl Elem for f64 {
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
impl Elem for f32 {
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
impl Elem for f16 {
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
impl Elem for bf16 {
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

/// Runs `$body` with `$v` bound to the typed slice of `$s`, whatever its element type.
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
            #[allow(unreachable_patterns)]
            other => {
                return Err(Error::unsupported(format!("dtype {}", other.dtype())));
            }
        }
    };
}

fn fill_each<T: Elem>(v: &mut [T], mut f: impl FnMut() -> T) {
    for o in v {
        *o = f();
    }
}

/// `torch.empty(...)[.permute(...)]` filled in memory order by `fill`, returned contiguous in the
/// view's logical order. `fill` gets an empty storage of the view's dtype and the element count,
/// and appends the elements (so none is written twice).
fn fresh(
    view: &View,
    op: &str,
    fill: impl FnOnce(&mut Storage, usize) -> Result<()>,
) -> Result<Tensor> {
    let n = crate::tensor::checked_numel(op, &view.size, view.dtype)?;
    let mut s = Storage::zeros(view.dtype, 0);
    fill(&mut s, n)?;
    let t = Tensor::new(view.size.iter().map(|&d| d as usize).collect(), s)?;
    Ok(match &view.perm {
        Some(p) => t.permuted(p),
        None => t,
    })
}

/// Every element of `t` as a double, in row-major order.
pub(crate) fn values_f64(t: &Tensor) -> Result<Vec<f64>> {
    Ok(each_storage!(t.storage(), v => v.iter().map(|x| Elem::to_f64(*x)).collect()))
}

/// A tensor of `shape` and `dtype` holding `vals` converted as `static_cast<T>(double)`.
pub(crate) fn tensor_from_f64(shape: Vec<usize>, dtype: DType, vals: &[f64]) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let mut s = Storage::zeros(dtype, n);
    each_storage!(&mut s, v => {
        for (o, &x) in v.iter_mut().zip(vals) {
            *o = Elem::from_f64(x);
        }
    });
    Tensor::new(shape, s)
}

fn numel_of(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Checks `randperm`'s `n` for `dtype` as PyTorch does, before anything is drawn.
///
/// Mirrors: `check_supported_max_int_with_precision` (`aten/src/ATen/native/TensorFactories.h`):
/// the largest value `n - 1` must convert to the dtype, and float dtypes must hold every integer
/// up to `n - 1` exactly (float16: n ≤ 2049, float32: n ≤ 2^24 + 1, float64: n ≤ 2^53 + 1).
/// bfloat16 has no such check: PyTorch accepts any `n` and rounds the indices.
pub(crate) fn check_randperm(n: i64, dtype: DType) -> Result<()> {
    const OP: &str = "randperm";
    if n < 0 {
        return Err(Error::arg(OP, format!("n must be non-negative, got {n}")));
    }
    if let Some((_, lim)) = int_limits(dtype).filter(|_| dtype != DType::Bool) {
        // uint64's limit reads -1 here, but PyTorch has no uint64 randperm (rejected below).
        if lim > 0 && n.saturating_sub(1) > lim {
            return Err(Error::arg(
                OP,
                format!("n = {n}: value cannot be converted to type {dtype} without overflow"),
            ));
        }
    }
    let float_limit = match dtype {
        DType::Float16 => Some(((1i64 << 11) + 1, "2049 for Half")),
        DType::Float32 => Some(((1i64 << 24) + 1, "2^24+1 for Float")),
        DType::Float64 => Some(((1i64 << 53) + 1, "2^53+1 for Double")),
        _ => None,
    };
    if let Some((lim, what)) = float_limit {
        if n > lim {
            return Err(Error::arg(
                OP,
                format!("n = {n} cannot be greater than {what} type"),
            ));
        }
    }
    if dtype == DType::Bool || dtype.is_wide_unsigned() {
        return Err(Error::arg(OP, not_implemented("randperm", dtype)));
    }
    Ok(())
}

/// Shuffles `out` (length n) with the algorithm of `era`; `conv` converts an index to the dtype.
fn shuffle<T: Copy>(g: &mut CpuGenerator, out: &mut [T], era: Era, conv: impl Fn(u64) -> T) {
    if era >= Era::R1 && out.len() as u64 >= perm::INSIDE_OUT_MIN_N {
        perm::inside_out(g, out, conv);
    } else {
        for (i, o) in out.iter_mut().enumerate() {
            *o = conv(i as u64);
        }
        perm::fisher_yates(g, out);
    }
}

/// `torch.randperm(n, dtype=dtype)`: a random permutation of `0..n`.
///
/// Consumes: `n - 1` words (forward Fisher–Yates), or `2n` words for `n >= 214748364` from 2.6
/// (inside-out shuffle with 64-bit draws); see [`crate::distributions::perm`]. Capability-independent.
///
/// float16 and bfloat16 indices go through float32 (round to nearest even); bfloat16 accepts any
/// `n`, so indices above 256 are rounded and repeat, exactly as PyTorch stores them.
///
/// # Errors
/// As PyTorch: `n < 0`; `n - 1` beyond an integer dtype; `n` beyond a float dtype's exact
/// integers; `bool`, `uint16`, `uint32`, `uint64` (PyTorch has no kernel for them). Plus the
/// allocation limit.
pub fn randperm(g: &mut CpuGenerator, n: i64, dtype: DType, target: Target) -> Result<Tensor> {
    check_randperm(n, dtype)?;
    let mut t = Tensor::zeros_checked("randperm", &[n], dtype)?;
    let era = target.era;
    match t.storage_mut() {
        Storage::I64(v) => shuffle(g, v, era, |i| i as i64),
        Storage::I32(v) => shuffle(g, v, era, |i| i as i32),
        Storage::I16(v) => shuffle(g, v, era, |i| i as i16),
        Storage::I8(v) => shuffle(g, v, era, |i| i as i8),
        Storage::U8(v) => shuffle(g, v, era, |i| i as u8),
        Storage::F64(v) => shuffle(g, v, era, |i| i as f64),
        Storage::F32(v) => shuffle(g, v, era, |i| i as f32),
        Storage::F16(v) => shuffle(g, v, era, |i| -> f16 { f32_to_f16(i as f32) }),
        Storage::BF16(v) => shuffle(g, v, era, |i| -> bf16 { f32_to_bf16(i as f32) }),
        other => {
            return Err(Error::arg(
                "randperm",
                not_implemented("randperm", other.dtype()),
            ))
        }
    }
    Ok(t)
}

// ------------------------------------------------------------------------------------------------
// random_, randint, randint_like
// ------------------------------------------------------------------------------------------------

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
fn int_limits(dtype: DType) -> Option<(i64, i64)> {
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
    era: Era,
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
                wide: ints::use_random64(range, dtype, era),
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
                wide: ints::use_random64(range, dtype, era),
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
        extend_u64(g, v, n, |w| Elem::from_i64(m.rem_u64(w).wrapping_add(base) as i64));
    } else {
        extend_u32(g, v, n, |w| Elem::from_i64(m.rem_u32(w).wrapping_add(base) as i64));
    });
    Ok(())
}

/// `torch.uint16`, `uint32` and `uint64` appeared in PyTorch 2.3: in 2.0 naming them fails.
/// (2.1 and 2.2, which share era L1 with 2.3 – 2.5, lack them too; replay checks the release.)
fn check_dtype_exists(op: &str, dtype: DType, era: Era) -> Result<()> {
    if era == Era::L0 && dtype.is_wide_unsigned() {
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
pub fn random_(g: &mut CpuGenerator, view: &View, target: Target) -> Result<Tensor> {
    let dtype = view.dtype;
    check_dtype_exists("random_", dtype, target.era)?;
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
    target: Target,
) -> Result<Tensor> {
    view.check_size("random_")?;
    check_dtype_exists("random_", view.dtype, target.era)?;
    let mode = random_mode("random_", from, to, view.dtype, target.era)?;
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
    target: Target,
) -> Result<Tensor> {
    random_from_to(g, &View::contiguous(size, dtype), low, Some(high), target)
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
    target: Target,
) -> Result<Tensor> {
    random_from_to(g, like, low, Some(high), target)
}

// ------------------------------------------------------------------------------------------------
// bernoulli
// ------------------------------------------------------------------------------------------------

pub(crate) fn check_p(op: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("expects p to be in [0, 1], but got p={p}"),
        ))
    }
}

/// Fills `data` (row-major over the logical shape) from the legacy MKL stream; one seed word.
fn bernoulli_legacy(g: &mut CpuGenerator, data: &mut Storage, p: f64) -> Result<()> {
    let mut stream = Mcg31::new(g.random());
    each_storage!(data, v => fill_each(v, || Elem::from_i64(i64::from(bernoulli::legacy(&mut stream, p)))));
    Ok(())
}

/// `bernoulli_(p)` with a float `p` on a view, returned contiguous.
///
/// Consumes: 2.7+: one `random64()` per element in memory order; 2.0–2.6: one `random()` per
/// call (none when empty), elements in logical order (see [`crate::distributions::bernoulli`]).
///
/// # Errors
/// `p` outside `[0, 1]` or NaN (even for an empty tensor), plus size errors.
pub fn bernoulli_scalar_(
    g: &mut CpuGenerator,
    view: &View,
    p: f64,
    target: Target,
) -> Result<Tensor> {
    view.check_size("bernoulli_")?;
    check_p("bernoulli_", p)?;
    if view.dtype.is_wide_unsigned() && !view.shape().contains(&0) {
        return Err(Error::arg(
            "bernoulli_",
            not_implemented("bernoulli_scalar_cpu_", view.dtype),
        ));
    }
    if target.era < Era::R2 {
        let mut t = Tensor::zeros_checked("bernoulli_", &view_shape_i64(view), view.dtype)?;
        if t.numel() > 0 {
            bernoulli_legacy(g, t.storage_mut(), p)?;
        }
        return Ok(t);
    }
    let threshold = ScalarThreshold::new(p);
    fresh(view, "bernoulli_", |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Elem::from_bool(threshold.test(w))));
        Ok(())
    })
}

fn view_shape_i64(view: &View) -> Vec<i64> {
    view.shape().iter().map(|&d| d as i64).collect()
}

/// Broadcast shape of two shapes (`infer_size`).
fn broadcast_shape(op: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n {
            a[i + a.len() - n]
        } else {
            1
        };
        let db = if i + b.len() >= n {
            b[i + b.len() - n]
        } else {
            1
        };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::arg(
                op,
                format!("the size of tensor a ({da}) must match the size of tensor b ({db}) at non-singleton dimension {i}"),
            ));
        };
    }
    Ok(out)
}

/// For each row-major index of `dst`, the row-major index of `src` broadcast to it.
fn expand_index(src: &[usize], dst: &[usize]) -> Vec<usize> {
    let n = dst.len();
    let off = n - src.len();
    let mut strides = vec![0usize; n];
    let mut s = 1;
    for i in (0..src.len()).rev() {
        strides[off + i] = if src[i] == 1 { 0 } else { s };
        s *= src[i];
    }
    let total = numel_of(dst);
    let mut out = Vec::with_capacity(total);
    let mut counter = vec![0usize; n];
    for _ in 0..total {
        out.push(counter.iter().zip(&strides).map(|(c, s)| c * s).sum());
        for d in (0..n).rev() {
            counter[d] += 1;
            if counter[d] < dst[d] {
                break;
            }
            counter[d] = 0;
        }
    }
    out
}

/// `torch.empty(size, dtype=dtype).bernoulli_(p)` with a tensor `p`, broadcast to `size`.
///
/// Consumes: per element in row-major order, one `random64()` for a float64 `p`, one `random()`
/// for float32/float16/bfloat16 (compared in float). Same in every release.
///
/// # Errors
/// As PyTorch: `p` not broadcastable to `size`, an integer or bool `p`, an entry outside
/// `[0, 1]`. An empty target accepts anything.
pub fn bernoulli_tensor_(
    g: &mut CpuGenerator,
    size: &[i64],
    dtype: DType,
    p: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "bernoulli_";
    let n = crate::tensor::checked_numel(OP, size, dtype)?;
    let shape: Vec<usize> = size.iter().map(|&d| d as usize).collect();
    if n == 0 {
        return Tensor::new(shape, Storage::zeros(dtype, 0));
    }
    if dtype.is_wide_unsigned() {
        return Err(Error::arg(
            OP,
            not_implemented("bernoulli_tensor_cpu_self_", dtype),
        ));
    }
    let ok = p.shape().len() <= shape.len()
        && p.shape()
            .iter()
            .rev()
            .zip(shape.iter().rev())
            .all(|(&a, &b)| a == b || a == 1);
    if !ok {
        return Err(Error::arg(
            OP,
            format!(
                "p of shape {:?} cannot be expanded to {:?}",
                p.shape(),
                shape
            ),
        ));
    }
    let wide = match p.dtype() {
        DType::Float64 => true,
        DType::Float32 | DType::Float16 | DType::BFloat16 => false,
        d => {
            return Err(Error::arg(
                OP,
                not_implemented("bernoulli_tensor_cpu_p_", d),
            ))
        }
    };
    let pv = values_f64(p)?;
    if let Some(bad) = pv.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(Error::arg(
            OP,
            format!("expects every p in [0, 1], found {bad}"),
        ));
    }
    let idx = expand_index(p.shape(), &shape);
    let mut it = idx.iter().map(|&j| pv[j]);
    // `expand_index` gives one index per element, so `it` outlasts the fill.
    let mut next_p = move || it.next().unwrap_or(0.0);
    let mut s = Storage::zeros(dtype, 0);
    each_storage!(&mut s, v => if wide {
        extend_u64(g, v, n, |w| Elem::from_bool(bernoulli::tensor_f64_of(w, next_p())));
    } else {
        extend_u32(g, v, n, |w| Elem::from_bool(bernoulli::tensor_f32_of(w, next_p() as f32)));
    });
    Tensor::new(shape, s)
}

/// `torch.bernoulli(probs)`: `empty_like(probs).bernoulli_(probs)` (same dtype as `probs`).
///
/// # Errors
/// As [`bernoulli_tensor_`].
pub fn bernoulli(g: &mut CpuGenerator, probs: &Tensor) -> Result<Tensor> {
    let size: Vec<i64> = probs.shape().iter().map(|&d| d as i64).collect();
    bernoulli_tensor_(g, &size, probs.dtype(), probs)
}

/// `torch.bernoulli(x, p)` with a float `p`: `empty_like(x).bernoulli_(p)`.
///
/// # Errors
/// As [`bernoulli_scalar_`].
pub fn bernoulli_p(g: &mut CpuGenerator, x: &Tensor, p: f64, target: Target) -> Result<Tensor> {
    let size: Vec<i64> = x.shape().iter().map(|&d| d as i64).collect();
    bernoulli_scalar_(g, &View::contiguous(&size, x.dtype()), p, target)
}

// ------------------------------------------------------------------------------------------------
// dropout
// ------------------------------------------------------------------------------------------------

/// `a op b` for an output of dtype `out` whose other operand is a float of `other` dtype (or a
/// scalar, `other = out`): computed in double when either is float64, else in float, then
/// rounded to `out` (PyTorch's CPU kernels compute float16/bfloat16 in float).
fn arith(
    out: DType,
    other: DType,
    a: f64,
    b: f64,
    op: fn(f64, f64) -> f64,
    opf: fn(f32, f32) -> f32,
) -> f64 {
    if out == DType::Float64 || other == DType::Float64 {
        op(a, b)
    } else {
        f64::from(opf(a as f32, b as f32))
    }
}

fn mul64(a: f64, b: f64) -> f64 {
    a * b
}
fn mul32(a: f32, b: f32) -> f32 {
    a * b
}
fn add64(a: f64, b: f64) -> f64 {
    a + b
}
fn add32(a: f32, b: f32) -> f32 {
    a + b
}
fn div64(a: f64, b: f64) -> f64 {
    a / b
}
fn div32(a: f32, b: f32) -> f32 {
    a / b
}

/// Bernoulli(1 − p) keep flags for `n` elements, by the release's scalar kernel.
fn keep_flags(g: &mut CpuGenerator, n: usize, q: f64, target: Target) -> Vec<bool> {
    if n == 0 {
        return Vec::new();
    }
    if target.era < Era::R2 {
        let mut s = Mcg31::new(g.random());
        (0..n).map(|_| bernoulli::legacy(&mut s, q)).collect()
    } else {
        let mut keep = Vec::new();
        let threshold = ScalarThreshold::new(q);
        extend_u64(g, &mut keep, n, |w| threshold.test(w));
        keep
    }
}

/// `F.dropout(x, p, training=True)` (also `nn.Dropout(p)` in training mode and `inplace=True`,
/// which give the same values): `x * (bernoulli_(1 − p) / (1 − p))` in `x`'s dtype.
///
/// `p = 0` and empty inputs return `x`; `p = 1` returns `x * 0` without drawing.
///
/// Consumes: as [`bernoulli_scalar_`] with `1 − p`, in row-major order.
///
/// # Errors
/// `p` outside `[0, 1]` (or NaN); a non-float `x` (PyTorch fails after drawing).
pub fn dropout(g: &mut CpuGenerator, x: &Tensor, p: f64, target: Target) -> Result<Tensor> {
    const OP: &str = "dropout";
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::arg(
            OP,
            format!("dropout probability has to be between 0 and 1, but got {p}"),
        ));
    }
    let dtype = x.dtype();
    if p == 0.0 || x.numel() == 0 {
        return Ok(x.clone());
    }
    let xs = values_f64(x)?;
    if p == 1.0 {
        if !dtype.is_float() {
            return Tensor::new(x.shape().to_vec(), Storage::zeros(dtype, x.numel()));
        }
        let v: Vec<f64> = xs
            .iter()
            .map(|&a| arith(dtype, dtype, a, 0.0, mul64, mul32))
            .collect();
        return tensor_from_f64(x.shape().to_vec(), dtype, &v);
    }
    let q = 1.0 - p;
    let keep = keep_flags(g, xs.len(), q, target);
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("result type Float can't be cast to the desired output type {dtype}"),
        ));
    }
    // noise = keep / (1 - p), stored in the dtype; the divisor is the scalar rounded to float
    // unless the tensor is float64.
    // 2.0 rounds the divisor to float16/bfloat16 first; later releases divide by f32(1 - p).
    let divisor = if target.era == Era::L0 {
        single(dtype, q)
    } else {
        q
    };
    let scaled = single(
        dtype,
        match dtype {
            DType::Float64 => 1.0 / q,
            _ => f64::from(1.0f32 / divisor as f32),
        },
    );
    let v: Vec<f64> = xs
        .iter()
        .zip(&keep)
        .map(|(&a, &k)| arith(dtype, dtype, a, if k { scaled } else { 0.0 }, mul64, mul32))
        .collect();
    tensor_from_f64(x.shape().to_vec(), dtype, &v)
}

/// `v` rounded to `dtype` and widened back.
fn single(dtype: DType, v: f64) -> f64 {
    match dtype {
        DType::Float16 => Elem::to_f64(f64_to_f16(v)),
        DType::BFloat16 => Elem::to_f64(f64_to_bf16(v)),
        DType::Float32 => f64::from(v as f32),
        _ => v,
    }
}

/// `torch.native_dropout(x, p, train)`: `(x * mask * T(1 / (1 − p)), mask)` with a bool
/// `mask = bernoulli_(1 − p)`; `train = false` gives `(x, ones)`. Unlike `F.dropout`, `p = 0` and
/// `p = 1` still draw (the scale is 0 when `p = 1`), and an empty `x` gives a mask of `x`'s dtype.
///
/// # Errors
/// `1 − p` outside `[0, 1]`; a non-float `x` (after drawing, as PyTorch).
pub fn native_dropout(
    g: &mut CpuGenerator,
    x: &Tensor,
    p: f64,
    train: bool,
    target: Target,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "native_dropout";
    let shape = x.shape().to_vec();
    if x.numel() == 0 {
        return Ok((x.clone(), Tensor::new(shape, Storage::zeros(x.dtype(), 0))?));
    }
    if !train {
        let n = x.numel();
        return Ok((x.clone(), Tensor::new(shape, Storage::Bool(vec![true; n]))?));
    }
    let q = 1.0 - p;
    check_p("bernoulli_", q).map_err(|e| Error::arg(OP, e.to_string()))?;
    let scale = if q == 0.0 { 0.0 } else { 1.0 / q };
    let keep = keep_flags(g, x.numel(), q, target);
    let dtype = x.dtype();
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("result type Float can't be cast to the desired output type {dtype}"),
        ));
    }
    let xs = values_f64(x)?;
    // `mul_(scale)` converts the double scalar to the tensor's dtype first (float16 too).
    let scale_t = single(dtype, scale);
    let v: Vec<f64> = xs
        .iter()
        .zip(&keep)
        .map(|(&a, &k)| {
            let masked = arith(dtype, dtype, a, if k { 1.0 } else { 0.0 }, mul64, mul32);
            arith(dtype, dtype, single(dtype, masked), scale_t, mul64, mul32)
        })
        .collect();
    let out = tensor_from_f64(shape.clone(), dtype, &v)?;
    Ok((out, Tensor::new(shape, Storage::Bool(keep))?))
}

// ------------------------------------------------------------------------------------------------
// exponential_, geometric_, log_normal_, cauchy_
// ------------------------------------------------------------------------------------------------

fn require_float(op: &str, kernel: &str, dtype: DType) -> Result<()> {
    if dtype.is_float() {
        Ok(())
    } else {
        Err(Error::arg(op, not_implemented(kernel, dtype)))
    }
}

/// `exponential_(lambd)` on a view, returned contiguous.
///
/// Consumes: 2.7+ (and `lambd = inf` everywhere): one `random64()` per element in memory order.
/// 2.0–2.6: one word (float32/float16/bfloat16) or one `random64()` (float64) per call, values in
/// logical order from MKL's stream, reproduced **approximately** (see
/// [`crate::distributions::continuous::LegacyExponential`]).
///
/// # Errors
/// `lambd <= 0` or NaN; a non-float dtype (an empty tensor of any dtype is accepted).
pub fn exponential_(
    g: &mut CpuGenerator,
    view: &View,
    lambd: f64,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "exponential_";
    view.check_size(OP)?;
    if !(lambd > 0.0) {
        return Err(Error::arg(
            OP,
            format!("expects lambda > 0.0, but found lambda={lambd}"),
        ));
    }
    let empty = view.shape().contains(&0);
    if !empty {
        require_float(OP, "exponential_cpu", view.dtype)?;
    }
    if target.era < Era::R2 && lambd.is_finite() {
        let mut t = Tensor::zeros_checked(OP, &view_shape_i64(view), view.dtype)?;
        if !empty {
            let mut e = LegacyExponential::new(g, lambd, view.dtype != DType::Float64);
            each_storage!(t.storage_mut(), v => fill_each(v, || Elem::from_f64(e.sample())));
        }
        return Ok(t);
    }
    fresh(view, OP, |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Elem::from_f64(continuous::exponential_of(w, lambd))));
        Ok(())
    })
}

/// `geometric_(p)` on a view: `ceil(log(u) / log1p(-p))` cast to the dtype (integers allowed).
///
/// Consumes: one `random64()` per element in memory order.
///
/// # Errors
/// `p` outside `(0, 1)`; a bool tensor (an empty one is accepted).
pub fn geometric_(g: &mut CpuGenerator, view: &View, p: f64, target: Target) -> Result<Tensor> {
    const OP: &str = "geometric_";
    let _ = target;
    view.check_size(OP)?;
    if !(p > 0.0 && p < 1.0) {
        return Err(Error::arg(
            OP,
            format!("expects p to be in (0, 1), but got p={p}"),
        ));
    }
    let dtype = view.dtype;
    if !view.shape().contains(&0) && (dtype == DType::Bool || dtype.is_wide_unsigned()) {
        return Err(Error::arg(OP, not_implemented("geometric_cpu", dtype)));
    }
    fresh(view, OP, |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Elem::from_f64(continuous::geometric_of(w, p))));
        Ok(())
    })
}

/// `log_normal_(mean, std)` on a view: `exp(z * std + mean)`, `z` from the double normal cache.
///
/// Consumes: as the per-element normal path (two `random64()` per fresh pair, the cache shared).
///
/// # Errors
/// `std <= 0` or NaN; a non-float dtype (an empty tensor of any dtype is accepted).
pub fn log_normal_(
    g: &mut CpuGenerator,
    view: &View,
    mean: f64,
    std: f64,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "log_normal_";
    view.check_size(OP)?;
    if !(std > 0.0) {
        return Err(Error::arg(
            OP,
            format!("expects std > 0.0, but found std={std}"),
        ));
    }
    if !view.shape().contains(&0) {
        require_float(OP, "log_normal_cpu", view.dtype)?;
    }
    let fused = target.capability.fused();
    view.fill_with(OP, |s, _| {
        each_storage!(s, v => fill_each(v, || Elem::from_f64(continuous::log_normal(g, mean, std, fused))));
        Ok(())
    })
}

/// `cauchy_(median, sigma)` on a view: `median + sigma * tan(pi * (u - 0.5))`.
///
/// Consumes: one `random64()` per element in memory order.
///
/// # Errors
/// `sigma <= 0` or NaN; a non-float dtype (even when empty).
pub fn cauchy_(
    g: &mut CpuGenerator,
    view: &View,
    median: f64,
    sigma: f64,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "cauchy_";
    view.check_size(OP)?;
    if !(sigma > 0.0) {
        return Err(Error::arg(
            OP,
            format!("expects sigma > 0.0, but found sigma={sigma}"),
        ));
    }
    if !view.dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!(
                "dtype must be a floating point but you specified {}",
                view.dtype
            ),
        ));
    }
    let fused = target.capability.fused();
    fresh(view, OP, |s, n| {
        each_storage!(s, v => extend_u64(g, v, n, |w| Elem::from_f64(continuous::cauchy_of(w, median, sigma, fused))));
        Ok(())
    })
}

// ------------------------------------------------------------------------------------------------
// multinomial
// ------------------------------------------------------------------------------------------------

/// `torch.multinomial(probs, num_samples, replacement)` for 1-D or 2-D float `probs`; int64
/// indices of shape `[num_samples]` or `[rows, num_samples]`.
///
/// * With replacement and `num_samples > 1`: cumulative distribution and binary search
///   ([`crate::distributions::multinomial`]), one `random64()` per sample, row by row.
/// * Otherwise (PyTorch's fast path): `q = empty_like(probs).exponential_(1)` (so this follows
///   [`exponential_`] and its release), `key = probs / q` in the dtype, then the index of the
///   largest key (the first one on ties), or the `num_samples` largest keys in decreasing order.
///   Equal keys (only possible among zero probabilities, when `num_samples` exceeds the number of
///   non-zero entries) are ordered by index here; PyTorch's `topk` may order them otherwise.
///
/// # Errors
/// As PyTorch: not 1-D or 2-D; not a float dtype; `num_samples <= 0`; more samples than
/// categories without replacement; more than 2^24 categories; a negative, infinite or NaN
/// entry; a row summing to zero.
pub fn multinomial(
    g: &mut CpuGenerator,
    probs: &Tensor,
    num_samples: i64,
    replacement: bool,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "multinomial";
    let shape = probs.shape().to_vec();
    if shape.is_empty() || shape.len() > 2 {
        return Err(Error::arg(OP, "prob_dist must be 1 or 2 dim"));
    }
    let dtype = probs.dtype();
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("only supports floating-point dtypes for input, got {dtype}"),
        ));
    }
    if num_samples <= 0 {
        return Err(Error::arg(OP, "cannot sample n_sample <= 0 samples"));
    }
    let k = shape[shape.len() - 1];
    if !replacement && num_samples as u64 > k as u64 {
        return Err(Error::arg(
            OP,
            "cannot sample n_sample > prob_dist.size(-1) samples without replacement",
        ));
    }
    if k > 1 << 24 {
        return Err(Error::arg(OP, "number of categories cannot exceed 2^24"));
    }
    let rows = if shape.len() == 2 { shape[0] } else { 1 };
    let n = num_samples as usize;
    let out_shape = if shape.len() == 2 {
        vec![rows, n]
    } else {
        vec![n]
    };
    crate::tensor::checked_numel(OP, &[rows as i64, num_samples], DType::Int64)?;
    let pv = values_f64(probs)?;
    let mut out = vec![0i64; rows * n];
    if replacement && n > 1 {
        let mut cum32 = Vec::new();
        let mut cum64 = Vec::new();
        for r in 0..rows {
            let row = &pv[r * k..(r + 1) * k];
            let dst = &mut out[r * n..(r + 1) * n];
            let res = if dtype == DType::Float64 {
                multinomial::with_replacement_f64(g, row, &mut cum64, dst)
            } else {
                let row32: Vec<f32> = row.iter().map(|&x| x as f32).collect();
                multinomial::with_replacement_f32(g, &row32, &mut cum32, dst)
            };
            res.map_err(|e| {
                Error::arg(
                    OP,
                    match e {
                        RowError::Negative => "invalid multinomial distribution (encountering probability entry < 0)",
                        RowError::NotFinite => "invalid multinomial distribution (encountering probability entry = infinity or NaN)",
                        RowError::ZeroSum => "invalid multinomial distribution (sum of probabilities <= 0)",
                    },
                )
            })?;
        }
        return Tensor::new(out_shape, Storage::I64(out));
    }
    if !pv.iter().all(|x| (0.0..f64::INFINITY).contains(x)) {
        return Err(Error::arg(
            OP,
            "probability tensor contains either `inf`, `nan` or element < 0",
        ));
    }
    if (0..rows).any(|r| pv[r * k..(r + 1) * k].iter().all(|&x| x == 0.0)) {
        return Err(Error::arg(
            OP,
            "invalid multinomial distribution (sum of probabilities <= 0)",
        ));
    }
    let q = exponential_(g, &View::contiguous(&[pv.len() as i64], dtype), 1.0, target)?;
    let qv = values_f64(&q)?;
    let keys: Vec<f64> = pv
        .iter()
        .zip(&qv)
        .map(|(&a, &b)| single(dtype, arith(dtype, dtype, a, b, div64, div32)))
        .collect();
    for r in 0..rows {
        let row = &keys[r * k..(r + 1) * k];
        let mut order: Vec<usize> = (0..k).collect();
        // Largest first, NaN counted as largest (as topk does); ties by index.
        order.sort_by(|&i, &j| {
            let (a, b) = (row[i], row[j]);
            match (a.is_nan(), b.is_nan()) {
                (true, false) => std::cmp::Ordering::Less,
                (false, true) => std::cmp::Ordering::Greater,
                _ => b
                    .partial_cmp(&a)
                    .unwrap_or(std::cmp::Ordering::Equal)
                    .then(i.cmp(&j)),
            }
        });
        for (o, &i) in out[r * n..(r + 1) * n].iter_mut().zip(&order) {
            *o = i as i64;
        }
    }
    Tensor::new(out_shape, Storage::I64(out))
}

// ------------------------------------------------------------------------------------------------
// normal with tensor arguments
// ------------------------------------------------------------------------------------------------

fn check_std_tensor(op: &str, std: &Tensor) -> Result<Vec<f64>> {
    let sv = values_f64(std)?;
    if sv.iter().any(|x| !(*x >= 0.0)) {
        return Err(Error::arg(op, "normal expects all elements of std >= 0.0"));
    }
    Ok(sv)
}

/// A new contiguous tensor of `shape`/`dtype` filled by `normal_(0, std)`.
fn standard(
    g: &mut CpuGenerator,
    op: &str,
    shape: &[usize],
    dtype: DType,
    std: f64,
    target: Target,
) -> Result<(Tensor, Vec<f64>)> {
    let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
    let mut t = Tensor::zeros_checked(op, &size, dtype)?;
    fill_normal(g, op, t.storage_mut(), true, 0.0, std, target)?;
    let v = values_f64(&t)?;
    Ok((t, v))
}

/// `torch.normal(mean, std)` with tensor `mean` and `std`: `out = empty(broadcast shape, dtype of
/// mean).normal_(0, 1)`, then `out *= std`, then `out += mean`, each rounded to the output dtype
/// (computed in double when either operand is float64, else in float).
///
/// Consumes: as `normal_(0, 1)` on a contiguous tensor of the broadcast shape.
///
/// # Errors
/// A negative or NaN `std` entry; shapes that do not broadcast; a non-float `mean`.
pub fn normal_tensor_tensor(
    g: &mut CpuGenerator,
    mean: &Tensor,
    std: &Tensor,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "normal";
    let sv = check_std_tensor(OP, std)?;
    let shape = broadcast_shape(OP, mean.shape(), std.shape())?;
    let dtype = mean.dtype();
    let (_, z) = standard(g, OP, &shape, dtype, 1.0, target)?;
    let mv = values_f64(mean)?;
    let (si, mi) = (
        expand_index(std.shape(), &shape),
        expand_index(mean.shape(), &shape),
    );
    let v: Vec<f64> = z
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let y = single(dtype, arith(dtype, std.dtype(), x, sv[si[i]], mul64, mul32));
            arith(dtype, dtype, y, mv[mi[i]], add64, add32)
        })
        .collect();
    tensor_from_f64(shape, dtype, &v)
}

/// `torch.normal(mean, std)` with a tensor `mean` and a float `std`: `normal_(0, std)` on a tensor
/// shaped like `mean`, then `+= mean`.
///
/// # Errors
/// `std < 0` or NaN; a non-float `mean`.
pub fn normal_tensor_float(
    g: &mut CpuGenerator,
    mean: &Tensor,
    std: f64,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "normal";
    if !(std >= 0.0) {
        return Err(Error::arg(
            OP,
            format!("normal expects std >= 0.0, but found std {std}"),
        ));
    }
    let dtype = mean.dtype();
    let shape = mean.shape().to_vec();
    let (_, z) = standard(g, OP, &shape, dtype, std, target)?;
    let mv = values_f64(mean)?;
    let v: Vec<f64> = z
        .iter()
        .zip(&mv)
        .map(|(&x, &m)| arith(dtype, dtype, x, m, add64, add32))
        .collect();
    tensor_from_f64(shape, dtype, &v)
}

/// `torch.normal(mean, std)` with a float `mean` and a tensor `std`: `normal_(0, 1)` on a tensor
/// shaped like `std`, `*= std`, then `+= mean` with `mean` first rounded to the dtype (PyTorch
/// adds it as a 0-dim tensor of that dtype).
///
/// # Errors
/// A negative or NaN `std` entry; a non-float `std`.
pub fn normal_float_tensor(
    g: &mut CpuGenerator,
    mean: f64,
    std: &Tensor,
    target: Target,
) -> Result<Tensor> {
    const OP: &str = "normal";
    let sv = check_std_tensor(OP, std)?;
    let dtype = std.dtype();
    let shape = std.shape().to_vec();
    let (_, z) = standard(g, OP, &shape, dtype, 1.0, target)?;
    let m = single(dtype, mean);
    let v: Vec<f64> = z
        .iter()
        .zip(&sv)
        .map(|(&x, &s)| {
            let y = single(dtype, arith(dtype, dtype, x, s, mul64, mul32));
            arith(dtype, dtype, y, m, add64, add32)
        })
        .collect();
    tensor_from_f64(shape, dtype, &v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Target {
        Target::default()
    }

    #[test]
    fn randperm_seed42() {
        let mut g = CpuGenerator::with_seed(42);
        let p = randperm(&mut g, 10, DType::Int64, t()).unwrap();
        assert_eq!(p.bits(), [2, 6, 1, 8, 4, 5, 0, 9, 3, 7]);
        let mut g = CpuGenerator::with_seed(42);
        let p = randperm(&mut g, 10, DType::Float32, t()).unwrap();
        let want: Vec<u64> = [2, 6, 1, 8, 4, 5, 0, 9, 3, 7]
            .iter()
            .map(|&x| u64::from((x as f32).to_bits()))
            .collect();
        assert_eq!(p.bits(), want);
    }

    #[test]
    fn randperm_rejections_draw_nothing() {
        let mut g = CpuGenerator::with_seed(1);
        for (n, d) in [
            (-1, DType::Int64),
            (129, DType::Int8),
            (257, DType::UInt8),
            (32769, DType::Int16),
            (2050, DType::Float16),
            ((1 << 24) + 2, DType::Float32),
            (3, DType::Bool),
        ] {
            assert!(randperm(&mut g, n, d, t()).is_err(), "{n} {d}");
        }
        for (n, d) in [
            (128, DType::Int8),
            (256, DType::UInt8),
            (2049, DType::Float16),
        ] {
            assert!(randperm(&mut g.clone(), n, d, t()).is_ok(), "{n} {d}");
        }
        assert_eq!(g, CpuGenerator::with_seed(1));
    }

    #[test]
    fn bfloat16_indices_round() {
        let mut g = CpuGenerator::with_seed(0);
        let p = randperm(&mut g, 258, DType::BFloat16, t()).unwrap();
        let mut vals: Vec<u64> = p.bits();
        vals.sort_unstable();
        // 257 rounds to 256 (ties to even), so 256 appears twice and 257 never.
        assert_eq!(vals.iter().filter(|&&b| b == 0x4380).count(), 2);
    }
}
