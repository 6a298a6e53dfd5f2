//! PyTorch 2.15's stateless Philox ops: `torch._philox_uniform_`, `_philox_normal_`,
//! `_philox_randint_`, `_philox_key_split`, `_philox_key_fold_in` (behind
//! `torch.func._random`), on the CPU (bit-exact, checked against PyTorch's CPU kernel) and on a
//! CUDA device (emulated).
//!
//! Mirrors: `aten/src/ATen/native/PhiloxDistribution.cpp` (CPU) and
//! `aten/src/ATen/native/cuda/PhiloxDistribution.cu` (CUDA) at 2.15.0,
//! `aten/src/ATen/cpu/StatelessPhilox4x32.h`, `aten/src/ATen/cuda/StatelessPhilox4x32.cuh`,
//! `torch/_meta_registrations.py` (the checks), `torch/func/_random.py`.
//!
//! A **key** is a uint64 tensor of shape `(2,)` holding `(seed, offset)`, or `(*batch, 2)`. There is
//! no generator state: chunk `c` of a key's output is the Philox block
//! `Philox4x32-10(counter = (offset + c) lo, hi, 0, 0; key = seed lo, hi)` — subsequence 0, the
//! offset counting **blocks** — and supplies 4 elements (float32, float16, bfloat16 and integer
//! dtypes up to 32 bits) or 2 (float64, int64, uint64: words packed `x << 32 | y`, `z << 32 | w`).
//! A batched key has `ndim == output ndim + 1`, its batch dimensions broadcastable to the
//! output's; the trailing run of size-1 key dimensions is what one key fills (contiguous, in
//! logical order), the leading dimensions are broadcast so that every output slice gets its key.
//! Non-contiguous outputs are filled in logical order (PyTorch fills `self.contiguous()` and copies
//! back).
//!
//! Transforms, CPU (no fused multiply-adds, glibc `logf`/`sinf`/`cosf`/`log`/`sin`/`cos`):
//! * uniform: `x = (word & (2^d − 1)) · 2^−d` (`d` = the dtype's digits, in float or double), then
//!   `x · (high − low) + low` with `high − low` in the dtype;
//! * normal float: `u_i = fma(word_i, 2^−32, 2^−33)`, radii `sqrt(−2 log u1)`, `sqrt(−2 log u3)`,
//!   angles `2π u2`, `2π u4`, output `(r1 cos, r1 sin, r2 cos, r2 sin)`, then `z · std + mean`;
//! * normal double: `u = fma(x, 2^−32, y · 2^−64 + 2^−65)` from the words of each pair, radius from
//!   the first pair, angle `2π` times the second, output `(r cos, r sin)`;
//! * randint: see [`philox_randint_`].
//!
//! CUDA differs only in the arithmetic (the words and the element mapping are the same, by design):
//! `x · range + low` and `z · std + mean` are fused multiply-adds; the float normal takes
//! `__logf` and `__sincosf` (hardware approximations, **modelled**: [`crate::math::mufu`]), the
//! double normal libdevice `log` and `sincos`. Read from the 2.15.0 sm_90 SASS of the float
//! normal kernel (`MUFU.LG2`, `FMUL.RZ` by 1/2π, `MUFU.SIN`/`MUFU.COS`, `FFMA` with std and mean);
//! not yet checked against a GPU.

// `!(x > 0.0)` and friends are deliberate: NaN must fail PyTorch's checks.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use crate::cuda::elem::{with_elem, CudaElem};
use crate::dtype::{
    bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16, DType,
};
use crate::engine::philox::philox4x32_10;
use crate::error::{Error, Result};
use crate::math::libdevice::{nv_log, nv_sincos};
use crate::math::{libm, mufu};
use crate::ops::{not_implemented, View};
use crate::tensor::{checked_numel, Storage, Tensor};

/// Where a stateless op runs: the kernels differ only in floating-point arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum StatelessDevice {
    /// PyTorch's CPU kernel (the reference of the golden fixtures).
    #[default]
    Cpu,
    /// PyTorch's CUDA kernel (emulated; hardware sine/cosine/log modelled).
    Cuda,
}

/// `philox_4x32(seed, offset)`: the block at counter `(offset, 0)` (subsequence 0).
#[inline]
#[must_use]
pub fn stateless_block(seed: u64, offset: u64) -> [u32; 4] {
    philox4x32_10(
        [offset as u32, (offset >> 32) as u32, 0, 0],
        [seed as u32, (seed >> 32) as u32],
    )
}

/// The `(seed, offset)` pairs of a uint64 key tensor of shape `(*batch, 2)`, row-major.
fn key_pairs(op: &str, key: &Tensor, shape_msg: &str) -> Result<Vec<(u64, u64)>> {
    let Storage::U64(v) = key.storage() else {
        return Err(Error::arg(
            op,
            format!("key must have dtype uint64, got {}", key.dtype().cpp_name()),
        ));
    };
    if key.shape().last() != Some(&2) {
        return Err(Error::arg(
            op,
            format!(
                "key must have shape {shape_msg}, got shape {:?}",
                key.shape()
            ),
        ));
    }
    Ok(v.chunks_exact(2).map(|p| (p[0], p[1])).collect())
}

/// The derived key of a block: `(x | y << 32, z | w << 32)`.
fn derive(r: [u32; 4]) -> (u64, u64) {
    (
        u64::from(r[0]) | (u64::from(r[1]) << 32),
        u64::from(r[2]) | (u64::from(r[3]) << 32),
    )
}

fn key_tensor(shape: Vec<usize>, pairs: &[(u64, u64)]) -> Result<Tensor> {
    let data = pairs.iter().flat_map(|&(s, o)| [s, o]).collect();
    Tensor::new(shape, Storage::U64(data))
}

/// `torch._philox_key_split(key, num_splits)`: split `s` of each key `(seed, offset)` is the
/// derived key of block `offset + s`; the output has shape `(num_splits, *batch, 2)`.
///
/// # Errors
/// As PyTorch: a key not of shape `(*batch, 2)` or not uint64; `num_splits <= 0`.
pub fn philox_key_split(key: &Tensor, num_splits: i64) -> Result<Tensor> {
    const OP: &str = "_philox_key_split";
    let keys = key_pairs(OP, key, "(*batch, 2)")?;
    if num_splits <= 0 {
        return Err(Error::arg(
            OP,
            format!("num_splits must be positive, got {num_splits}"),
        ));
    }
    let mut shape = vec![num_splits as usize];
    shape.extend_from_slice(key.shape());
    crate::tensor::checked_numel(
        OP,
        &shape.iter().map(|&d| d as i64).collect::<Vec<_>>(),
        DType::UInt64,
    )?;
    let mut out = Vec::with_capacity(keys.len() * num_splits as usize);
    for s in 0..num_splits as u64 {
        for &(seed, offset) in &keys {
            out.push(derive(stateless_block(seed, offset.wrapping_add(s))));
        }
    }
    key_tensor(shape, &out)
}

/// `torch._philox_key_fold_in(key, data)`: each key `(seed, offset)` becomes the derived key of
/// block `offset + data` (`data` reinterpreted as uint64); the shape is kept. Equal to
/// `split(key, data + 1)[data]`.
///
/// # Errors
/// As PyTorch: a key not of shape `(*batch, 2)` or not uint64.
pub fn philox_key_fold_in(key: &Tensor, data: i64) -> Result<Tensor> {
    const OP: &str = "_philox_key_fold_in";
    let keys = key_pairs(OP, key, "(*batch, 2)")?;
    let out: Vec<(u64, u64)> = keys
        .iter()
        .map(|&(seed, offset)| derive(stateless_block(seed, offset.wrapping_add(data as u64))))
        .collect();
    key_tensor(key.shape().to_vec(), &out)
}

/// `torch._philox_key_fold_in(key, data)` with `data` a one-element uint64 tensor.
///
/// # Errors
/// As [`philox_key_fold_in`], plus `data` not uint64 or not a single value.
pub fn philox_key_fold_in_tensor(key: &Tensor, data: &Tensor) -> Result<Tensor> {
    const OP: &str = "_philox_key_fold_in";
    key_pairs(OP, key, "(*batch, 2)")?;
    let Storage::U64(d) = data.storage() else {
        return Err(Error::arg(
            OP,
            format!(
                "data must have dtype uint64, got {}",
                data.dtype().cpp_name()
            ),
        ));
    };
    if d.len() != 1 {
        return Err(Error::arg(
            OP,
            format!("data must be a single value, got {} elements", d.len()),
        ));
    }
    philox_key_fold_in(key, d[0] as i64)
}

/// Checks a distribution op's key against the output shape and returns, per key in output order,
/// its `(seed, offset)` and how many consecutive output elements it fills.
fn key_layout(op: &str, shape: &[usize], key: &Tensor) -> Result<(Vec<(u64, u64)>, usize)> {
    let pairs = key_pairs(op, key, "(2,) or (*batch, 2)")?;
    let numel: usize = shape.iter().product();
    if key.shape().len() == 1 {
        return Ok((pairs, numel));
    }
    let kb = &key.shape()[..key.shape().len() - 1];
    if kb.len() != shape.len() {
        return Err(Error::arg(
            op,
            format!(
                "batched key must have ndim == output ndim + 1, got key shape {:?} with output \
                 shape {shape:?}",
                key.shape()
            ),
        ));
    }
    if kb.iter().zip(shape).any(|(&k, &s)| k != 1 && k != s) {
        return Err(Error::arg(
            op,
            format!("key batch shape {kb:?} is not broadcastable with output shape {shape:?}"),
        ));
    }
    // The trailing run of size-1 key dimensions is filled by one key.
    let mut key_dims = shape.len();
    let mut per_key = 1usize;
    while key_dims > 0 && kb[key_dims - 1] == 1 {
        key_dims -= 1;
        per_key *= shape[key_dims];
    }
    // Every combination of the leading dimensions, row-major, picks its (broadcast) key.
    let lead = &shape[..key_dims];
    let count: usize = lead.iter().product();
    let mut kstrides = vec![0usize; key_dims];
    let mut s = 1;
    for d in (0..kb.len()).rev() {
        if d < key_dims {
            kstrides[d] = if kb[d] == 1 { 0 } else { s };
        }
        s *= kb[d];
    }
    let mut out = Vec::with_capacity(count);
    let mut counter = vec![0usize; key_dims];
    for _ in 0..count {
        let k: usize = counter.iter().zip(&kstrides).map(|(c, s)| c * s).sum();
        out.push(pairs[k]);
        for d in (0..key_dims).rev() {
            counter[d] += 1;
            if counter[d] < lead[d] {
                break;
            }
            counter[d] = 0;
        }
    }
    if numel == 0 {
        out.clear();
    }
    Ok((out, per_key))
}

/// Fills `numel` elements key by key: chunk `c` of a key is `sample(seed, offset + c)`, giving
/// `epc` elements.
fn fill<T: Copy, C: Copy>(
    keys: &[(u64, u64)],
    per_key: usize,
    epc: usize,
    sample: impl Fn(u64, u64) -> [C; 4],
    param: impl Fn(C) -> T,
) -> Vec<T> {
    let mut out = Vec::with_capacity(keys.len() * per_key);
    for &(seed, offset) in keys {
        let chunks = per_key.div_ceil(epc);
        for c in 0..chunks {
            let vals = sample(seed, offset.wrapping_add(c as u64));
            let take = epc.min(per_key - c * epc);
            out.extend(vals[..take].iter().map(|&v| param(v)));
        }
    }
    out
}

fn packed64(r: [u32; 4]) -> [u64; 4] {
    [
        (u64::from(r[0]) << 32) | u64::from(r[1]),
        (u64::from(r[2]) << 32) | u64::from(r[3]),
        0,
        0,
    ]
}

/// Rounding through a reduced dtype: float → dtype → float, and double → dtype → float.
type RoundPair = (fn(f32) -> f32, fn(f64) -> f32);

fn float_check(op: &str, view: &View) -> Result<()> {
    if view.dtype.is_float() {
        Ok(())
    } else {
        Err(Error::arg(op, not_implemented(op, view.dtype)))
    }
}

/// `torch._philox_uniform_(self, key, low, high)` on `torch.empty(size, dtype)[.permute(...)]`,
/// returned in logical order.
///
/// Consumes: nothing (stateless); chunk `c` of each key is block `offset + c`.
///
/// # Errors
/// As PyTorch: a non-float dtype, a key that is not uint64 of shape `(2,)` or `(*batch, 2)`, a
/// batched key whose ndim is not the output's + 1 or whose batch shape does not broadcast; size
/// errors. Bounds are not checked (PyTorch does not): `low > high` and infinities pass through.
pub fn philox_uniform_(
    view: &View,
    key: &Tensor,
    low: f64,
    high: f64,
    device: StatelessDevice,
) -> Result<Tensor> {
    const OP: &str = "_philox_uniform_";
    view.check_size(OP)?;
    float_check(OP, view)?;
    let shape = view.shape();
    let (keys, per_key) = key_layout(OP, &shape, key)?;
    let fused = device == StatelessDevice::Cuda;
    let words = |s, o| stateless_block(s, o);
    let data = match view.dtype {
        DType::Float32 => {
            let (lo, hi) = (low as f32, high as f32);
            let range = hi - lo;
            Storage::F32(fill(&keys, per_key, 4, words, |w: u32| {
                let x = (w & 0xff_ffff) as f32 * f32::from_bits(0x3380_0000); // 2^-24
                if fused {
                    x.mul_add(range, lo)
                } else {
                    x * range + lo
                }
            }))
        }
        DType::Float16 | DType::BFloat16 => {
            let half = view.dtype == DType::Float16;
            // low and high in the dtype; their difference computed in float and rounded back.
            let (to_s, from_s): RoundPair = if half {
                (|v| f16_to_f32(f32_to_f16(v)), |v| f16_to_f32(f64_to_f16(v)))
            } else {
                (
                    |v| bf16_to_f32(f32_to_bf16(v)),
                    |v| bf16_to_f32(f64_to_bf16(v)),
                )
            };
            let (lo, hi) = (from_s(low), from_s(high));
            let range = to_s(hi - lo);
            let digits = view.dtype.digits().unwrap_or(11);
            let mask = (1u32 << digits) - 1;
            let div = 1.0f32 / (1u32 << digits) as f32;
            let vals = fill(&keys, per_key, 4, words, |w: u32| {
                let x = (w & mask) as f32 * div;
                if fused {
                    x.mul_add(range, lo)
                } else {
                    x * range + lo
                }
            });
            if half {
                Storage::F16(vals.into_iter().map(f32_to_f16).collect())
            } else {
                Storage::BF16(vals.into_iter().map(f32_to_bf16).collect())
            }
        }
        _ => {
            let range = high - low;
            let sample = |s, o| packed64(stateless_block(s, o));
            Storage::F64(fill(&keys, per_key, 2, sample, |v: u64| {
                let x = (v & ((1 << 53) - 1)) as f64 * (1.0 / (1u64 << 53) as f64);
                if fused {
                    x.mul_add(range, low)
                } else {
                    x * range + low
                }
            }))
        }
    };
    Tensor::new(shape, data)
}

/// The CPU float Box–Muller of `_philox_normal_`: `(r1 cos a, r1 sin a, r2 cos b, r2 sin b)`.
fn box_muller_cpu(r: [u32; 4]) -> [f32; 4] {
    let m = f32::from_bits(0x2f80_0000);
    let u = r.map(|x| (x as f32).mul_add(m, m * 0.5));
    let two_pi = std::f32::consts::TAU; // the literal 6.2831853071795864f
    let r1 = libm::sqrtf(-2.0 * libm::logf(u[0]));
    let r2 = libm::sqrtf(-2.0 * libm::logf(u[2]));
    let (a, b) = (two_pi * u[1], two_pi * u[3]);
    [
        r1 * libm::cosf(a),
        r1 * libm::sinf(a),
        r2 * libm::cosf(b),
        r2 * libm::sinf(b),
    ]
}

/// The CUDA float Box–Muller: `__logf` and `__sincosf` (modelled).
fn box_muller_cuda(r: [u32; 4]) -> [f32; 4] {
    let m = f32::from_bits(0x2f80_0000);
    let u = r.map(|x| (x as f32).mul_add(m, m * 0.5));
    let two_pi = std::f32::consts::TAU; // the literal 6.2831853071795864f
    let r1 = (-2.0 * mufu::fast_logf(u[0])).sqrt();
    let r2 = (-2.0 * mufu::fast_logf(u[2])).sqrt();
    let (s1, c1) = mufu::sincos_approx(two_pi * u[1]);
    let (s2, c2) = mufu::sincos_approx(two_pi * u[3]);
    [r1 * c1, r1 * s1, r2 * c2, r2 * s2]
}

/// The double Box–Muller on both devices (`log`, `sin`, `cos` from glibc or libdevice).
fn box_muller_f64(r: [u32; 4], device: StatelessDevice) -> [f64; 4] {
    let m = 2.328_306_436_538_696_3e-10_f64; // 2^-32
    let c = m * m * 0.5;
    // y · 2^-64 is exact, so the CUDA build's contraction of `y * M * M + c` changes nothing.
    let u1 = f64::from(r[0]).mul_add(m, f64::from(r[1]) * m * m + c);
    let u2 = f64::from(r[2]).mul_add(m, f64::from(r[3]) * m * m + c);
    let two_pi = std::f64::consts::TAU; // the literal 6.2831853071795864
    let (rad, s, co) = match device {
        StatelessDevice::Cpu => {
            let rad = libm::sqrt(-2.0 * libm::log(u1));
            let a = two_pi * u2;
            (rad, libm::sin(a), libm::cos(a))
        }
        StatelessDevice::Cuda => {
            let rad = (-2.0 * nv_log(u1)).sqrt();
            // The angle is in (0, 2π], always on libdevice's fast path.
            let (s, co) = nv_sincos(two_pi * u2).unwrap_or((f64::NAN, f64::NAN));
            (rad, s, co)
        }
    };
    [rad * co, rad * s, 0.0, 0.0]
}

/// `torch._philox_normal_(self, key, mean, std)` on `torch.empty(size, dtype)[.permute(...)]`,
/// returned in logical order.
///
/// Consumes: nothing (stateless).
///
/// # Errors
/// As [`philox_uniform_`]. `std` is not checked (PyTorch does not: a negative or NaN std passes).
pub fn philox_normal_(
    view: &View,
    key: &Tensor,
    mean: f64,
    std: f64,
    device: StatelessDevice,
) -> Result<Tensor> {
    const OP: &str = "_philox_normal_";
    view.check_size(OP)?;
    float_check(OP, view)?;
    let shape = view.shape();
    let (keys, per_key) = key_layout(OP, &shape, key)?;
    let cuda = device == StatelessDevice::Cuda;
    let (mu, sigma) = (mean as f32, std as f32);
    let param = move |z: f32| {
        if cuda {
            z.mul_add(sigma, mu)
        } else {
            z * sigma + mu
        }
    };
    let sample = move |s, o| {
        let r = stateless_block(s, o);
        if cuda {
            box_muller_cuda(r)
        } else {
            box_muller_cpu(r)
        }
    };
    let data = match view.dtype {
        DType::Float32 => Storage::F32(fill(&keys, per_key, 4, sample, param)),
        DType::Float16 => Storage::F16(fill(&keys, per_key, 4, sample, |z| f32_to_f16(param(z)))),
        DType::BFloat16 => {
            Storage::BF16(fill(&keys, per_key, 4, sample, |z| f32_to_bf16(param(z))))
        }
        _ => {
            let sample = |s, o| box_muller_f64(stateless_block(s, o), device);
            Storage::F64(fill(&keys, per_key, 2, sample, |z: f64| {
                if cuda {
                    z.mul_add(std, mean)
                } else {
                    z * std + mean
                }
            }))
        }
    };
    Tensor::new(shape, data)
}

/// `torch._philox_randint_(self, key, low, high)` on `torch.empty(size, dtype)[.permute(...)]`
/// for the integer dtypes other than bool, returned in logical order.
///
/// Each element draws one 32-bit word (dtypes up to 32 bits, 4 per block; narrower types keep
/// the low bits) or one 64-bit word (int64, uint64; 2 per block, `x << 32 | y`). With
/// `high = None` and `low` either `None` or the dtype's minimum the raw bits are stored (the
/// dtype's full range). Otherwise `low` defaults to the dtype's minimum and `high` to its maximum
/// plus one, `range = (high − low) mod 2^W` (`W` = 32 or 64) and the value is
/// `word mod range + low`, truncated to the dtype.
///
/// Consumes: nothing (stateless).
///
/// # Errors
/// As PyTorch: a dtype that is not one of the eight integer types; `range = 0` (an empty
/// `[low, high)`); for the 32-bit words a range of 2^28 or more that does not divide 2^32; key
/// errors as [`philox_uniform_`]; size errors.
pub fn philox_randint_(
    view: &View,
    key: &Tensor,
    low: Option<i64>,
    high: Option<i64>,
    device: StatelessDevice,
) -> Result<Tensor> {
    const OP: &str = "_philox_randint_";
    let _ = device; // the integer kernels of the two devices agree
    view.check_size(OP)?;
    let (bits, signed) = match view.dtype {
        DType::Int8 => (8u32, true),
        DType::Int16 => (16, true),
        DType::Int32 => (32, true),
        DType::Int64 => (64, true),
        DType::UInt8 => (8, false),
        DType::UInt16 => (16, false),
        DType::UInt32 => (32, false),
        DType::UInt64 => (64, false),
        d => {
            return Err(Error::arg(
                OP,
                format!("self must have an integer dtype, got {}", d.cpp_name()),
            ))
        }
    };
    let wide = bits == 64;
    let w: u32 = if wide { 64 } else { 32 };
    let dmin: i128 = if signed { -(1i128 << (bits - 1)) } else { 0 };
    let dmax1 = dmin + (1i128 << bits);
    let full = high.is_none() && low.is_none_or(|l| i128::from(l) == dmin);
    let (lo, range) = if full {
        (0u64, 0u64)
    } else {
        let l = low.map_or(dmin, i128::from);
        let h = high.map_or(dmax1, i128::from);
        let r = (h - l).rem_euclid(1i128 << w) as u64;
        if r == 0 {
            return Err(Error::arg(
                OP,
                "[low, high) must be non-empty; pass high=None for the dtype's full range",
            ));
        }
        if !wide && r >= 1 << 28 && !(1u64 << 32).is_multiple_of(r) {
            return Err(Error::arg(
                OP,
                format!(
                    "range (high - low = {r}) does not divide 2^32 evenly and is too large for \
                     the output dtype {}",
                    view.dtype.cpp_name()
                ),
            ));
        }
        (l as i64 as u64, r)
    };
    let shape = view.shape();
    let (keys, per_key) = key_layout(OP, &shape, key)?;
    checked_numel(OP, &view.size, view.dtype)?;
    let reduce = move |v: u64| -> i64 {
        if full {
            v as i64
        } else {
            (v % range).wrapping_add(lo) as i64
        }
    };
    let data = with_elem!(view.dtype, T => if wide {
        let sample = |s, o| packed64(stateless_block(s, o));
        T::storage(fill(&keys, per_key, 2, sample, |v: u64| T::from_i64(reduce(v))))
    } else {
        let sample = |s, o| stateless_block(s, o).map(u64::from);
        T::storage(fill(&keys, per_key, 4, sample, |v: u64| T::from_i64(reduce(v))))
    });
    Tensor::new(shape, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u64, offset: u64) -> Tensor {
        Tensor::new(vec![2], Storage::U64(vec![seed, offset])).unwrap()
    }

    /// `torch._philox_randint_(empty(10, dtype=uint32), tensor([42, 0], dtype=uint64))`: the
    /// Philox blocks of counters 0, 1, 2 under key 42 (cuda-philox.md section 8: block 0 is
    /// `9ceaf053 77f5493b 12bf50ad 5742b3d7`).
    #[test]
    fn randint_full_range_is_the_raw_stream() {
        let v = View::contiguous(&[10], DType::UInt32);
        let t = philox_randint_(&v, &key(42, 0), None, None, StatelessDevice::Cpu).unwrap();
        let b = t.bits();
        assert_eq!(
            &b[..4],
            &[0x9cea_f053, 0x77f5_493b, 0x12bf_50ad, 0x5742_b3d7]
        );
        let b1 = stateless_block(42, 1);
        assert_eq!(b[4], u64::from(b1[0]));
        let v = View::contiguous(&[3], DType::UInt64);
        let t = philox_randint_(&v, &key(42, 0), None, None, StatelessDevice::Cpu).unwrap();
        assert_eq!(t.bits()[0], 0x9cea_f053_77f5_493b);
    }

    #[test]
    fn randint_rules() {
        let k = key(7, 3);
        let v8 = View::contiguous(&[4], DType::Int8);
        let raw = philox_randint_(&v8, &k, None, None, StatelessDevice::Cpu).unwrap();
        let from_min = philox_randint_(&v8, &k, Some(-128), None, StatelessDevice::Cpu).unwrap();
        let shifted =
            philox_randint_(&v8, &k, Some(-128), Some(128), StatelessDevice::Cpu).unwrap();
        assert_eq!(raw, from_min);
        assert_ne!(raw, shifted);
        let v32 = View::contiguous(&[4], DType::Int32);
        assert!(philox_randint_(&v32, &k, None, Some(10), StatelessDevice::Cpu).is_err());
        assert!(philox_randint_(&v32, &k, Some(0), Some(1 << 30), StatelessDevice::Cpu).is_ok());
        assert!(philox_randint_(
            &v32,
            &k,
            Some(-(1 << 31)),
            Some(1 << 31),
            StatelessDevice::Cpu
        )
        .is_err());
        let v64 = View::contiguous(&[4], DType::Int64);
        assert!(philox_randint_(&v64, &k, None, Some(i64::MIN), StatelessDevice::Cpu).is_err());
        assert!(philox_randint_(&v64, &k, Some(5), Some(3), StatelessDevice::Cpu).is_ok());
        let vb = View::contiguous(&[4], DType::Bool);
        assert!(philox_randint_(&vb, &k, None, None, StatelessDevice::Cpu).is_err());
    }

    #[test]
    fn split_and_fold_in_agree() {
        let k = Tensor::new(vec![2, 2], Storage::U64(vec![1, 2, 3, 4])).unwrap();
        let s = philox_key_split(&k, 3).unwrap();
        assert_eq!(s.shape(), [3, 2, 2]);
        let f = philox_key_fold_in(&k, 2).unwrap();
        assert_eq!(f.bits(), s.bits()[8..].to_vec());
        let d = Tensor::new(vec![1], Storage::U64(vec![2])).unwrap();
        assert_eq!(philox_key_fold_in_tensor(&k, &d).unwrap(), f);
        // fold_in(key, -1) is offset + 2^64 - 1
        let m = philox_key_fold_in(&key(1, 2), -1).unwrap();
        assert_eq!(m.bits(), {
            let (a, b) = derive(stateless_block(1, 1));
            vec![a, b]
        });
        assert!(philox_key_split(&k, 0).is_err());
        assert!(philox_key_split(
            &Tensor::new(vec![3], Storage::U64(vec![1, 2, 3])).unwrap(),
            2
        )
        .is_err());
        let bad = Tensor::new(vec![2], Storage::I64(vec![1, 2])).unwrap();
        assert!(philox_key_fold_in(&bad, 1).is_err());
        let two = Tensor::new(vec![2], Storage::U64(vec![1, 2])).unwrap();
        assert!(philox_key_fold_in_tensor(&k, &two).is_err());
        let empty = Tensor::new(vec![0, 2], Storage::U64(vec![])).unwrap();
        assert_eq!(philox_key_split(&empty, 3).unwrap().shape(), [3, 0, 2]);
    }

    #[test]
    fn batched_keys() {
        // output (2, 3): key (2, 1, 2) gives each row its own key; (1, 3, 2) each column.
        let rows = Tensor::new(vec![2, 1, 2], Storage::U64(vec![5, 0, 6, 0])).unwrap();
        let v = View::contiguous(&[2, 3], DType::Float32);
        let t = philox_uniform_(&v, &rows, 0.0, 1.0, StatelessDevice::Cpu).unwrap();
        let r0 = philox_uniform_(
            &View::contiguous(&[3], DType::Float32),
            &key(5, 0),
            0.0,
            1.0,
            StatelessDevice::Cpu,
        )
        .unwrap();
        let r1 = philox_uniform_(
            &View::contiguous(&[3], DType::Float32),
            &key(6, 0),
            0.0,
            1.0,
            StatelessDevice::Cpu,
        )
        .unwrap();
        assert_eq!(t.bits(), [r0.bits(), r1.bits()].concat());
        let cols = Tensor::new(vec![1, 3, 2], Storage::U64(vec![5, 0, 6, 0, 7, 0])).unwrap();
        let c = philox_uniform_(&v, &cols, 0.0, 1.0, StatelessDevice::Cpu).unwrap();
        let first: Vec<u64> = [5u64, 6, 7]
            .iter()
            .map(|&s| {
                philox_uniform_(
                    &View::contiguous(&[1], DType::Float32),
                    &key(s, 0),
                    0.0,
                    1.0,
                    StatelessDevice::Cpu,
                )
                .unwrap()
                .bits()[0]
            })
            .collect();
        assert_eq!(c.bits(), [first.clone(), first].concat());
        let bad = Tensor::new(vec![1, 2], Storage::U64(vec![5, 0])).unwrap();
        assert!(philox_uniform_(&v, &bad, 0.0, 1.0, StatelessDevice::Cpu).is_err());
        let wrong = Tensor::new(vec![3, 1, 2], Storage::U64(vec![0; 6])).unwrap();
        assert!(philox_uniform_(&v, &wrong, 0.0, 1.0, StatelessDevice::Cpu).is_err());
    }

    #[test]
    fn devices_share_words_and_differ_in_arithmetic() {
        let v = View::contiguous(&[64], DType::Float32);
        let k = key(9, 11);
        let a = philox_uniform_(&v, &k, -2.0, 3.0, StatelessDevice::Cpu).unwrap();
        let b = philox_uniform_(&v, &k, -2.0, 3.0, StatelessDevice::Cuda).unwrap();
        let (af, bf) = (a.as_f32().unwrap(), b.as_f32().unwrap());
        assert!(af.iter().zip(bf).all(|(x, y)| (x - y).abs() <= 1e-6));
        let vi = View::contiguous(&[9], DType::Int64);
        assert_eq!(
            philox_randint_(&vi, &k, Some(0), Some(10), StatelessDevice::Cpu).unwrap(),
            philox_randint_(&vi, &k, Some(0), Some(10), StatelessDevice::Cuda).unwrap()
        );
        let n = philox_normal_(&v, &k, 0.0, 1.0, StatelessDevice::Cuda).unwrap();
        let m = philox_normal_(&v, &k, 0.0, 1.0, StatelessDevice::Cpu).unwrap();
        let (nf, mf) = (n.as_f32().unwrap(), m.as_f32().unwrap());
        assert!(nf.iter().zip(mf).all(|(x, y)| (x - y).abs() <= 1e-4));
    }
}
