//! PyTorch's random ops on a CUDA tensor, emulated on the CPU.
//!
//! Mirrors: `aten/src/ATen/native/cuda/DistributionTemplates.h` (the `*_kernel` functions),
//! `aten/src/ATen/native/DistributionTemplates.h` (the device-independent `*_impl_` checks,
//! shared with the CPU ops through [`crate::ops`]), `aten/src/ATen/native/cuda/Dropout.cu`,
//! `aten/src/ATen/native/Dropout.cpp`, `aten/src/ATen/native/cuda/Randperm.cu` and
//! `Randperm.cuh`; shared/reference/cuda-philox.md sections 4 and 5.
//!
//! Every op takes the device's generator, the [`DeviceProfile`] (which decides the launch grid
//! and so which Philox block feeds which element once a tensor exceeds one wave of threads) and
//! the [`CudaEra`]. In-place ops run on a [`View`] and visit its elements in memory order
//! (TensorIterator order for a dense view); outputs are returned contiguous in logical order.
//!
//! Fidelity (README): integer, uniform, bernoulli, dropout and randperm paths use only integer
//! and IEEE arithmetic and are exact by construction; float64 normal and its relatives depend on
//! libdevice's reciprocal seed in about 1e-5 of values; float32/float16/bfloat16 normal,
//! `log_normal_`, and every float32 `exponential_`, `geometric_` and `cauchy_` go through the
//! GPU's hardware approximations ([`crate::math::mufu`], modelled, not exact). None of it has
//! been checked on a GPU yet.

// `!(x > 0.0)` and friends are deliberate: NaN must fail PyTorch's checks.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use super::curand::{normal2_double, normal4, uniform2_double, uniform4, uniform_f32};
use super::elem::{with_elem, CudaElem};
use super::launch::{plan_nullary, Launch};
use crate::context::Era;
use crate::context::{CudaEra, CudaRules, DropoutVecCap, RandintWide, UniformReversal};
use crate::context::{DeviceProfile, BLOCK_SIZE};
use crate::dtype::{
    bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16, DType,
};
use crate::engine::philox::philox_block;
use crate::engine::Philox4x32;
use crate::error::{Error, Result};
use crate::generator::CudaGenerator;
use crate::math::libdevice::{nv_exp, nv_log, nv_log1p, nv_tan};
use crate::math::mufu::{fast_expf, fast_logf, fast_tanf};
use crate::ops::{check_geometric_p, check_p, check_positive, check_randperm};
use crate::ops::{check_normal_std, check_uniform_bounds, not_implemented, View};
use crate::ops::{random_mode, RandomMode};
use crate::tensor::{checked_numel, Storage, Tensor};

/// The uniform4 / normal4 / 32-bit word paths: four values per curand call.
const U4: u64 = 4;
/// The double and 64-bit integer paths: two values per curand call.
const U2: u64 = 2;

/// The device's types did not exist before 2.3; in the 2.0 era naming them fails.
fn check_dtype_exists(op: &str, dtype: DType, era: CudaEra) -> Result<()> {
    if era == CudaEra::C0 && dtype.is_wide_unsigned() {
        return Err(Error::arg(
            op,
            format!("torch.{dtype} does not exist before PyTorch 2.3"),
        ));
    }
    Ok(())
}

/// The element count of a view, after `torch.empty`'s checks.
fn numel_of(op: &str, view: &View) -> Result<usize> {
    checked_numel(op, &view.size, view.dtype)
}

/// Memory-order storage of `view` → the view's logical, contiguous tensor.
fn finish(view: &View, data: Storage) -> Result<Tensor> {
    let t = Tensor::new(view.size.iter().map(|&d| d.max(0) as usize).collect(), data)?;
    Ok(match &view.perm {
        Some(p) => t.permuted(p)?,
        None => t,
    })
}

/// Runs the planned grid-stride launches: `comps(block)` gives the curand call's values, `tf`
/// turns one into an element. Returns the elements in iteration order.
fn run<C: Copy, T: CudaElem>(
    launches: &[Launch],
    numel: usize,
    comps: impl Fn([u32; 4]) -> [C; 4],
    tf: impl Fn(C) -> T,
) -> Vec<T> {
    let mut out = vec![T::default(); numel];
    for l in launches {
        let t = l.threads();
        let stride = t * l.unroll;
        let base0 = l.start as usize;
        for k in 0..l.iterations() {
            for tid in 0..t {
                let base = tid + k * stride;
                if base >= l.numel {
                    break;
                }
                let vals = comps(l.words(tid, k));
                for j in 0..l.unroll {
                    let li = base + j * t;
                    if li < l.numel {
                        out[base0 + li as usize] = tf(vals[j as usize]);
                    }
                }
            }
        }
    }
    out
}

/// `distribution_nullary_kernel` on `view`: plans the launches (reserving offsets), runs them and
/// returns the view in logical order.
fn nullary<C: Copy, T: CudaElem>(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    rules: CudaRules,
    view: &View,
    unroll: u64,
    comps: impl Fn([u32; 4]) -> [C; 4],
    tf: impl Fn(C) -> T,
) -> Result<Tensor> {
    let n = numel_of("empty", view)?;
    let launches = plan_nullary(g, dev, rules, n as u64, view.dtype.size() as u64, unroll)?;
    let data = run(&launches, n, comps, tf);
    finish(view, T::storage(data))
}

fn pair<T: Copy + Default>(v: [T; 2]) -> [T; 4] {
    [v[0], v[1], T::default(), T::default()]
}

fn words64(w: [u32; 4]) -> [u64; 4] {
    [
        (u64::from(w[0]) << 32) | u64::from(w[1]),
        (u64::from(w[2]) << 32) | u64::from(w[3]),
        0,
        0,
    ]
}

fn words32(w: [u32; 4]) -> [u64; 4] {
    w.map(u64::from)
}

fn empty_of(view: &View) -> Result<Tensor> {
    finish(view, Storage::zeros(view.dtype, 0))
}

// ------------------------------------------------------------------------------------------------
// uniform_, rand
// ------------------------------------------------------------------------------------------------

/// `uniform_(from, to)` on a view of a CUDA tensor.
///
/// Element `li` takes its uniform from [`crate::cuda::curand::uniform_f32`] (float32, float16,
/// bfloat16; unroll 4) or `_curand_uniform_double_hq` (float64; unroll 2), then
/// `value = S(fma(u, range, from))` and, from 2.1, `value == to → from` (2.0: `u == 1 → 0`
/// before scaling). `range` is `to - from` in the storage type, widened.
///
/// Consumes: one reservation of `inc(n)` words (see [`crate::cuda::launch`]).
///
/// # Errors
/// As PyTorch: a non-float dtype, bounds outside the dtype's finite range, `from > to`, or
/// `to - from` beyond the dtype's largest value; plus size errors.
pub fn uniform_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    from: f64,
    to: f64,
) -> Result<Tensor> {
    const OP: &str = "uniform_";
    view.check_size(OP)?;
    let (from, to) = check_uniform_bounds(OP, view.dtype, from, to)?;
    let rules = era.rules();
    let on_value = rules.uniform_reversal == UniformReversal::OnValue;
    let rev = |u: f32| if !on_value && u == 1.0 { 0.0 } else { u };
    match view.dtype {
        DType::Float32 => {
            let (f, t) = (from as f32, to as f32);
            let range = t - f;
            nullary(g, dev, rules, view, U4, uniform4, |u: f32| {
                let v = rev(u).mul_add(range, f);
                if on_value && v == t {
                    f
                } else {
                    v
                }
            })
        }
        DType::Float16 => {
            let (f, t) = (f64_to_f16(from), f64_to_f16(to));
            // Half - Half is computed in float and rounded back to half.
            let range = f16_to_f32(f32_to_f16(f16_to_f32(t) - f16_to_f32(f)));
            let ff = f16_to_f32(f);
            nullary(g, dev, rules, view, U4, uniform4, |u: f32| {
                let v = f32_to_f16(rev(u).mul_add(range, ff));
                if on_value && v == t {
                    f
                } else {
                    v
                }
            })
        }
        DType::BFloat16 => {
            let (f, t) = (f64_to_bf16(from), f64_to_bf16(to));
            let range = bf16_to_f32(f32_to_bf16(bf16_to_f32(t) - bf16_to_f32(f)));
            let ff = bf16_to_f32(f);
            nullary(g, dev, rules, view, U4, uniform4, |u: f32| {
                let v = f32_to_bf16(rev(u).mul_add(range, ff));
                if on_value && v == t {
                    f
                } else {
                    v
                }
            })
        }
        DType::Float64 => {
            let range = to - from;
            let comps = |w| pair(uniform2_double(w));
            nullary(g, dev, rules, view, U2, comps, |u: f64| {
                let u = if !on_value && u == 1.0 { 0.0 } else { u };
                let v = u.mul_add(range, from);
                if on_value && v == to {
                    from
                } else {
                    v
                }
            })
        }
        other => Err(Error::arg(
            OP,
            not_implemented("uniform_kernel_cuda", other),
        )),
    }
}

/// `torch.rand(size, dtype=dtype, device="cuda")`: `uniform_(0, 1)` on a new tensor.
///
/// # Errors
/// As [`uniform_`].
pub fn rand(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    size: &[i64],
    dtype: DType,
) -> Result<Tensor> {
    uniform_(g, dev, era, &View::contiguous(size, dtype), 0.0, 1.0)
}

// ------------------------------------------------------------------------------------------------
// normal_, randn, log_normal_
// ------------------------------------------------------------------------------------------------

/// `normal_(mean, std)` on a view of a CUDA tensor: `S(fma(z, std, mean))` in the opmath type,
/// `z` the component of `curand_normal4` (float32, float16, bfloat16; unroll 4; the sine and
/// cosine **modelled**, see [`crate::math::mufu`]) or `curand_normal2_double` (float64; unroll 2).
///
/// Consumes: one reservation of `inc(n)` words; nothing for an empty tensor.
///
/// # Errors
/// `std < 0` or NaN; a non-float dtype (for a non-empty tensor); size errors.
pub fn normal_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    mean: f64,
    std: f64,
) -> Result<Tensor> {
    const OP: &str = "normal_";
    view.check_size(OP)?;
    check_normal_std(OP, std)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    let rules = era.rules();
    let (m, s) = (mean as f32, std as f32);
    match view.dtype {
        DType::Float32 => nullary(g, dev, rules, view, U4, normal4, |z: f32| z.mul_add(s, m)),
        DType::Float16 => nullary(g, dev, rules, view, U4, normal4, |z: f32| {
            f32_to_f16(z.mul_add(s, m))
        }),
        DType::BFloat16 => nullary(g, dev, rules, view, U4, normal4, |z: f32| {
            f32_to_bf16(z.mul_add(s, m))
        }),
        DType::Float64 => {
            let comps = |w| pair(normal2_double(w));
            nullary(g, dev, rules, view, U2, comps, |z: f64| {
                z.mul_add(std, mean)
            })
        }
        other => Err(Error::arg(OP, not_implemented("normal_kernel_cuda", other))),
    }
}

/// `torch.randn(size, dtype=dtype, device="cuda")`: `normal_(0, 1)` on a new tensor.
///
/// # Errors
/// As [`normal_`].
pub fn randn(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    size: &[i64],
    dtype: DType,
) -> Result<Tensor> {
    normal_(g, dev, era, &View::contiguous(size, dtype), 0.0, 1.0)
}

/// `log_normal_(mean, std)` on a view of a CUDA tensor: `S(exp(fma(z, std, mean)))` with the
/// normal components of [`normal_`]; float32/float16/bfloat16 through `__expf` (modelled),
/// float64 through libdevice `exp`.
///
/// Consumes: as [`normal_`].
///
/// # Errors
/// `std <= 0` or NaN; a non-float dtype (an empty tensor of any dtype is accepted).
pub fn log_normal_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    mean: f64,
    std: f64,
) -> Result<Tensor> {
    const OP: &str = "log_normal_";
    view.check_size(OP)?;
    check_positive(OP, "std", std)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    let rules = era.rules();
    let (m, s) = (mean as f32, std as f32);
    let f = move |z: f32| fast_expf(z.mul_add(s, m));
    match view.dtype {
        DType::Float32 => nullary(g, dev, rules, view, U4, normal4, f),
        DType::Float16 => nullary(g, dev, rules, view, U4, normal4, |z| f32_to_f16(f(z))),
        DType::BFloat16 => nullary(g, dev, rules, view, U4, normal4, |z| f32_to_bf16(f(z))),
        DType::Float64 => {
            let comps = |w| pair(normal2_double(w));
            nullary(g, dev, rules, view, U2, comps, |z: f64| {
                nv_exp(z.mul_add(std, mean))
            })
        }
        other => Err(Error::arg(OP, not_implemented("log_normal_cuda", other))),
    }
}

// ------------------------------------------------------------------------------------------------
// random_, randint
// ------------------------------------------------------------------------------------------------

/// Whether `random_(from, to)` with `range` takes the two-word path in this era.
fn randint_wide(rules: CudaRules, range: u64, dtype: DType) -> bool {
    match rules.randint_wide {
        RandintWide::Range2p28 => range >= 1 << 28,
        RandintWide::Range2p32Some => {
            range >= 1 << 32
                && matches!(
                    dtype,
                    DType::Int64 | DType::Float64 | DType::Float32 | DType::BFloat16
                )
        }
    }
}

fn random_run(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    rules: CudaRules,
    view: &View,
    modulus: u64,
    base: i64,
    wide: bool,
) -> Result<Tensor> {
    // `(v mod m) + base` in 64 bits; modulus 0 stands for 2^64 (the whole word).
    let reduce = move |v: u64| {
        let r = if modulus == 0 { v } else { v % modulus };
        r.wrapping_add(base as u64) as i64
    };
    with_elem!(view.dtype, T => if wide {
        nullary(g, dev, rules, view, U2, words64, |v: u64| T::from_i64(reduce(v)))
    } else {
        nullary(g, dev, rules, view, U4, words32, |v: u64| T::from_i64(reduce(v)))
    })
}

/// `random_()` on a view of a CUDA tensor: `[0, 2^63)` for int64 (two words per element),
/// `[0, 2^53]` for float64 (two words), and one word `mod (max + 1)` (or `2^digits + 1` for
/// float types, `& 1` for bool) otherwise.
///
/// Consumes: one reservation (unroll 2 for int64/float64, 4 otherwise).
///
/// # Errors
/// uint16, uint32, uint64 (no kernel; an empty tensor is accepted); size errors.
pub fn random_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
) -> Result<Tensor> {
    const OP: &str = "random_";
    view.check_size(OP)?;
    check_dtype_exists(OP, view.dtype, era)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    if view.dtype.is_wide_unsigned() {
        return Err(Error::arg(
            OP,
            not_implemented("random_kernel_cuda", view.dtype),
        ));
    }
    let modulus = crate::distributions::ints::unbounded_modulus(view.dtype);
    let wide = crate::distributions::ints::unbounded_uses_random64(view.dtype);
    random_run(g, dev, era.rules(), view, modulus, 0, wide)
}

/// `random_(from, to)` on a view of a CUDA tensor; `to = None` is up to the dtype's largest
/// value (2^digits for float dtypes), `from = -2^63, to = None` the full 64-bit range.
///
/// One word (`word mod range + from`, unroll 4) or, on the era's 64-bit rule (2.7+:
/// `range ≥ 2^28`; before: `range ≥ 2^32` for int64/float64/float32/bfloat16), two
/// (`(x << 32 | y) mod range + from`, unroll 2).
///
/// # Errors
/// As PyTorch (the checks are device-independent and shared with the CPU op): `from >= to`
/// (also after the float nudging), bounds outside the dtype, and the full range on a dtype other
/// than int64/float64/float32/bfloat16; plus size errors.
pub fn random_from_to(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    from: i64,
    to: Option<i64>,
) -> Result<Tensor> {
    const OP: &str = "random_";
    view.check_size(OP)?;
    check_dtype_exists(OP, view.dtype, era)?;
    // The CPU era only decides the CPU's `wide` flag, which is recomputed below.
    let mode = random_mode(
        OP,
        from,
        to,
        view.dtype,
        Era::default().rules().wide_randint,
    )?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    let rules = era.rules();
    match mode {
        RandomMode::Range { range, base, .. } => {
            let wide = randint_wide(rules, range, view.dtype);
            random_run(g, dev, rules, view, range, base, wide)
        }
        RandomMode::Full => match view.dtype {
            DType::Int64 | DType::Float64 | DType::Float32 | DType::BFloat16 => {
                random_run(g, dev, rules, view, 0, 0, true)
            }
            DType::Float16 | DType::Bool | DType::UInt16 | DType::UInt32 | DType::UInt64 => {
                Err(Error::arg(
                    OP,
                    not_implemented("random_full_64_bits_range_kernel_cuda", view.dtype),
                ))
            }
            d => Err(Error::arg(
                OP,
                format!(
                    "random_full_64_bits_range_kernel_cuda handles only int64, double, float and \
                     bfloat16, not {d}"
                ),
            )),
        },
        RandomMode::Unbounded { .. } => random_(g, dev, era, view),
    }
}

/// `torch.randint(low, high, size, dtype=dtype, device="cuda")`.
///
/// # Errors
/// As [`random_from_to`].
pub fn randint(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    low: i64,
    high: i64,
    size: &[i64],
    dtype: DType,
) -> Result<Tensor> {
    random_from_to(g, dev, era, &View::contiguous(size, dtype), low, Some(high))
}

// ------------------------------------------------------------------------------------------------
// bernoulli
// ------------------------------------------------------------------------------------------------

/// `bernoulli_(p)` with a float `p` on a view of a CUDA tensor: `u < f32(p)` with the float
/// uniform of the element's word (unroll 4), or `u < p` in double with the double uniform for
/// float64 (unroll 2). Note the strict `<` (the tensor-`p` kernel uses `<=`).
///
/// Consumes: one reservation of `inc(n)` words.
///
/// # Errors
/// `p` outside `[0, 1]` or NaN (even for an empty tensor); uint16, uint32, uint64 (no kernel).
pub fn bernoulli_scalar_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    p: f64,
) -> Result<Tensor> {
    const OP: &str = "bernoulli_";
    view.check_size(OP)?;
    check_dtype_exists(OP, view.dtype, era)?;
    check_p(OP, p)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    if view.dtype.is_wide_unsigned() {
        return Err(Error::arg(
            OP,
            not_implemented("bernoulli_scalar_cuda_", view.dtype),
        ));
    }
    let rules = era.rules();
    let pf = p as f32;
    with_elem!(view.dtype, T => if view.dtype == DType::Float64 {
        let comps = |w| pair(uniform2_double(w));
        nullary(g, dev, rules, view, U2, comps, |u: f64| T::from_bool(u < p))
    } else {
        nullary(g, dev, rules, view, U4, uniform4, |u: f32| T::from_bool(u < pf))
    })
}

/// Row-major index into `src` broadcast to `dst` (`expand`), for every row-major index of `dst`.
fn broadcast_index(src: &[usize], dst: &[usize]) -> Option<Vec<usize>> {
    if src.len() > dst.len() {
        return None;
    }
    let off = dst.len() - src.len();
    if src.iter().zip(&dst[off..]).any(|(&a, &b)| a != b && a != 1) {
        return None;
    }
    let mut strides = vec![0usize; dst.len()];
    let mut s = 1;
    for i in (0..src.len()).rev() {
        strides[off + i] = if src[i] == 1 { 0 } else { s };
        s *= src[i];
    }
    let total: usize = dst.iter().product();
    let mut out = Vec::with_capacity(total);
    let mut counter = vec![0usize; dst.len()];
    for _ in 0..total {
        out.push(counter.iter().zip(&strides).map(|(c, s)| c * s).sum());
        for d in (0..dst.len()).rev() {
            counter[d] += 1;
            if counter[d] < dst[d] {
                break;
            }
            counter[d] = 0;
        }
    }
    Some(out)
}

/// `torch.empty(size, dtype=dtype)[.permute(...)].bernoulli_(p)` on a CUDA tensor with a tensor
/// `p` broadcast to the view's shape.
///
/// A different kernel (`CUDA_tensor_apply2`, 512 threads per block, 4 elements per thread): the
/// call reserves 10 → 12 words whatever the size; element `i` of the view's **logical**
/// row-major order (not memory order) takes word `i mod 4` of block `offset / 4` of subsequence
/// `i div 4`, compared `u <= p` with `p` as float32 (float64 for a float64 target).
///
/// Consumes: 12 words (nothing for an empty target). PyTorch reserves them before checking `p`,
/// so a rejected `p` still advances the generator, as here.
///
/// # Errors
/// An integer or bool `p`, a `p` not broadcastable to the view, an entry outside `[0, 1]` (a
/// device-side assertion in PyTorch), uint16/uint32/uint64 targets; size errors.
pub fn bernoulli_tensor_(
    g: &mut CudaGenerator,
    era: CudaEra,
    view: &View,
    p: &Tensor,
) -> Result<Tensor> {
    const OP: &str = "bernoulli_";
    view.check_size(OP)?;
    check_dtype_exists(OP, view.dtype, era)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    let (seed, offset) = g.philox_cuda_state(10);
    if !p.dtype().is_float() {
        return Err(Error::arg(
            OP,
            format!(
                "expected probabilities tensor to have floating type, got {}",
                p.dtype().cpp_name()
            ),
        ));
    }
    let shape = view.shape();
    let Some(idx) = broadcast_index(p.shape(), &shape) else {
        return Err(Error::arg(
            OP,
            format!("p of shape {:?} cannot be expanded to {shape:?}", p.shape()),
        ));
    };
    if view.dtype.is_wide_unsigned() {
        return Err(Error::arg(
            OP,
            not_implemented("bernoulli_tensor_cuda_self_", view.dtype),
        ));
    }
    let pv = crate::ops::values_f64(p);
    if let Some(bad) = pv.iter().find(|x| !(0.0..=1.0).contains(*x)) {
        return Err(Error::arg(
            OP,
            format!("device-side assertion: every p must be in [0, 1], found {bad}"),
        ));
    }
    let double = view.dtype == DType::Float64;
    let n = idx.len();
    // Logical element i: thread i / 4, word i % 4 of the thread's first block.
    let keep = |i: usize, pj: f64| -> bool {
        let w = philox_block(seed, offset / 4, (i / 4) as u64)[i % 4];
        let u = uniform_f32(w);
        if double {
            f64::from(u) <= pj
        } else {
            u <= pj as f32
        }
    };
    let logical: Storage = with_elem!(view.dtype, T => T::storage(
        (0..n).map(|i| T::from_bool(keep(i, pv[idx[i]]))).collect()
    ));
    Tensor::new(shape, logical)
}

/// `torch.bernoulli(probs)` on a CUDA tensor: `empty_like(probs).bernoulli_(probs)`.
///
/// # Errors
/// As [`bernoulli_tensor_`].
pub fn bernoulli(g: &mut CudaGenerator, era: CudaEra, probs: &Tensor) -> Result<Tensor> {
    let size: Vec<i64> = probs.shape().iter().map(|&d| d as i64).collect();
    bernoulli_tensor_(g, era, &View::contiguous(&size, probs.dtype()), probs)
}

// ------------------------------------------------------------------------------------------------
// dropout
// ------------------------------------------------------------------------------------------------

/// How a dropout input sits in memory: this decides the fused kernel's vector width and the
/// element order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropoutInput {
    /// `Some(perm)` for a dense input whose storage is `torch.empty(size).permute(perm)` (memory
    /// order differs from logical order); `None` for a contiguous input.
    pub perm: Option<Vec<usize>>,
    /// `false` for an input that is not non-overlapping-and-dense (a slice such as `x[:, :32]`):
    /// the kernel then runs unvectorised in logical order.
    pub dense: bool,
    /// The alignment of `x.data_ptr()` in bytes. PyTorch's caching allocator hands out blocks
    /// aligned to 512 bytes; a view with a storage offset can be less aligned.
    pub align_bytes: u64,
}

impl Default for DropoutInput {
    /// A fresh contiguous tensor (512-byte aligned).
    fn default() -> DropoutInput {
        DropoutInput {
            perm: None,
            dense: true,
            align_bytes: 512,
        }
    }
}

/// The fused dropout kernel's vector width.
///
/// Mirrors: `get_vector_size` / `memory::can_vectorize_up_to` (`aten/src/ATen/native/cuda/
/// Dropout.cu`, `MemoryAccess.cuh`): 1 for a non-dense input; else the largest of 8, 4, 2
/// elements the pointer is aligned to, capped at 16 bytes (2.6+) or 4 elements (before), then
/// halved until it divides `numel`.
#[must_use]
pub fn dropout_vec(input: &DropoutInput, itemsize: u64, numel: u64, era: CudaEra) -> u64 {
    if !input.dense {
        return 1;
    }
    let mut vec = [8u64, 4, 2]
        .into_iter()
        .find(|&v| input.align_bytes.is_multiple_of(v * itemsize))
        .unwrap_or(1);
    let cap = match era.rules().dropout_vec_cap {
        DropoutVecCap::Four => 4,
        DropoutVecCap::SixteenBytes => 16 / itemsize,
    };
    vec = vec.min(cap.max(1));
    while vec > 1 && !numel.is_multiple_of(vec) {
        vec /= 2;
    }
    vec
}

/// The storage shape of a dense input whose logical `shape` is its storage permuted by `perm`
/// (`size[perm[i]] = shape[i]`).
fn storage_size(shape: &[usize], perm: Option<&[usize]>) -> Result<Vec<i64>> {
    let Some(perm) = perm else {
        return Ok(shape.iter().map(|&d| d as i64).collect());
    };
    let mut size = vec![0i64; shape.len()];
    let mut seen = vec![false; shape.len()];
    let ok = perm.len() == shape.len()
        && perm
            .iter()
            .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
    if !ok {
        return Err(Error::arg(
            "dropout",
            format!(
                "{perm:?} is not a permutation of the input's {} dimensions",
                shape.len()
            ),
        ));
    }
    for (i, &p) in perm.iter().enumerate() {
        size[p] = shape[i] as i64;
    }
    Ok(size)
}

/// For every logical index of a dense view with storage permuted by `perm`, its memory index.
fn memory_index(shape: &[usize], perm: Option<&[usize]>) -> Result<Vec<usize>> {
    let n: usize = shape.iter().product();
    let Some(perm) = perm else {
        return Ok((0..n).collect());
    };
    let size: Vec<usize> = storage_size(shape, Some(perm))?
        .into_iter()
        .map(|d| d as usize)
        .collect();
    let idx = Tensor::new(size, Storage::I64((0..n as i64).collect()))?.permuted(perm)?;
    Ok(idx.bits().into_iter().map(|b| b as usize).collect())
}

/// The fused kernel's keep flags for every element in **logical** order.
fn fused_keep_flags(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    x: &Tensor,
    input: &DropoutInput,
    keep_prob: f64,
) -> Result<Vec<bool>> {
    let n = x.numel() as u64;
    let dtype = x.dtype();
    let grid = dev.grid_for(n);
    let t = BLOCK_SIZE * grid;
    let (seed, offset) = g.philox_cuda_state(((n - 1) / (t * 4) + 1) * 4);
    if !dtype.is_float() {
        return Err(Error::arg(
            "native_dropout",
            not_implemented("fused_dropout", dtype),
        ));
    }
    let pa32 = keep_prob as f32;
    let keep = |u: f32| {
        if dtype == DType::Float64 {
            f64::from(u) < keep_prob
        } else {
            u < pa32
        }
    };
    let vec = dropout_vec(input, dtype.size() as u64, n, era);
    let base = offset / 4;
    let mut flags = vec![false; n as usize];
    if vec == 1 {
        // Grid-stride, unroll 4, logical order.
        for (li, f) in flags.iter_mut().enumerate() {
            let li = li as u64;
            let k = li / (4 * t);
            let r = li % (4 * t);
            let w = philox_block(seed, base + k, r % t);
            *f = keep(uniform_f32(w[(r / t) as usize]));
        }
        return Ok(flags);
    }
    // Vectorised: memory element e = (it * T + tid) * VEC + i uses call it * max(1, VEC/4) + i/4.
    let mem = memory_index(x.shape(), input.perm.as_deref())?;
    let calls = (vec / 4).max(1);
    let mut by_memory = vec![false; n as usize];
    for (e, f) in by_memory.iter_mut().enumerate() {
        let e = e as u64;
        let it = e / (t * vec);
        let tid = (e % (t * vec)) / vec;
        let i = e % vec;
        let w = philox_block(seed, base + it * calls + i / 4, tid);
        *f = keep(uniform_f32(w[(i % 4) as usize]));
    }
    for (l, f) in flags.iter_mut().enumerate() {
        *f = by_memory[mem[l]];
    }
    Ok(flags)
}

/// `(x * float(mask)) * scale` stored in `x`'s dtype, per element, in the opmath type.
fn scaled(x: &Tensor, keep: &[bool], keep_prob: f64) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    let s32 = 1.0f32 / keep_prob as f32;
    let s64 = 1.0 / keep_prob;
    let m32 = |k: bool| f32::from(u8::from(k));
    let data = match x.storage() {
        Storage::F32(v) => Storage::F32(
            v.iter()
                .zip(keep)
                .map(|(&a, &k)| (a * m32(k)) * s32)
                .collect(),
        ),
        Storage::F16(v) => Storage::F16(
            v.iter()
                .zip(keep)
                .map(|(&a, &k)| f32_to_f16((f16_to_f32(a) * m32(k)) * s32))
                .collect(),
        ),
        Storage::BF16(v) => Storage::BF16(
            v.iter()
                .zip(keep)
                .map(|(&a, &k)| f32_to_bf16((bf16_to_f32(a) * m32(k)) * s32))
                .collect(),
        ),
        Storage::F64(v) => Storage::F64(
            v.iter()
                .zip(keep)
                .map(|(&a, &k)| (a * f64::from(u8::from(k))) * s64)
                .collect(),
        ),
        other => {
            return Err(Error::arg(
                "native_dropout",
                not_implemented("fused_dropout", other.dtype()),
            ))
        }
    };
    Tensor::new(shape, data)
}

fn check_dropout_p(op: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("dropout probability has to be between 0 and 1, but got {p}"),
        ))
    }
}

/// `torch.native_dropout(x, p, train)` on a CUDA tensor (the fused kernel `F.dropout` uses):
/// returns `(output, mask)`, the mask bool.
///
/// `train = false` gives `(x, ones)`; `p = 1` gives zeros without drawing; otherwise
/// `keep = 1 − p`, the kernel reserves `((n−1) div (256·grid·4) + 1) × 4` words (unroll 4 whatever
/// the vector width), flags `u < f32(keep)` (float32 `u`; compared in double for float64), and
/// stores `S((x · mask) · scale)` with `scale = 1 / keep` rounded once to the opmath type. Dropped
/// negative inputs give −0, dropped infinities NaN. The vector width ([`dropout_vec`]) decides
/// which word feeds which element (cuda-philox.md section 5.6).
///
/// Consumes: the reservation above (nothing when `train` is false, `p = 1` or `x` is empty).
///
/// # Errors
/// `p` outside `[0, 1]`; a non-float `x` (after the reservation, as in PyTorch).
pub fn native_dropout(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    x: &Tensor,
    input: &DropoutInput,
    p: f64,
    train: bool,
) -> Result<(Tensor, Tensor)> {
    const OP: &str = "native_dropout";
    check_dropout_p(OP, p)?;
    let shape = x.shape().to_vec();
    let n = x.numel();
    if !train {
        return Ok((x.clone(), Tensor::new(shape, Storage::Bool(vec![true; n]))?));
    }
    if p == 1.0 {
        return Ok((
            Tensor::new(shape.clone(), Storage::zeros(x.dtype(), n))?,
            Tensor::new(shape, Storage::Bool(vec![false; n]))?,
        ));
    }
    if n == 0 {
        return Ok((x.clone(), Tensor::new(shape, Storage::Bool(Vec::new()))?));
    }
    let keep_prob = 1.0 - p;
    let keep = fused_keep_flags(g, dev, era, x, input, keep_prob)?;
    let out = scaled(x, &keep, keep_prob)?;
    Ok((out, Tensor::new(shape, Storage::Bool(keep))?))
}

/// `F.dropout(x, p, training, inplace)` on a CUDA tensor (the flags as one pair).
///
/// Not in place, training, `0 < p < 1` and a non-empty `x`: the fused kernel
/// ([`native_dropout`]'s output). `p = 0`, evaluation or an empty `x`: `x` unchanged, no draw.
/// `p = 1`: `x * 0`. In place (`inplace = true`): the unfused path, `noise =
/// empty_like(x).bernoulli_(1 − p)` ([`bernoulli_scalar_`], memory order), `noise *= 1/f32(1 − p)`
/// (CUDA divides by a CPU scalar through its reciprocal), `x *= noise`; that last rule is read
/// from source, unverified.
///
/// # Errors
/// As [`native_dropout`].
pub fn dropout(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    x: &Tensor,
    input: &DropoutInput,
    p: f64,
    (training, inplace): (bool, bool),
) -> Result<Tensor> {
    const OP: &str = "dropout";
    check_dropout_p(OP, p)?;
    if p == 0.0 || !training || x.numel() == 0 {
        return Ok(x.clone());
    }
    let dtype = x.dtype();
    if p == 1.0 {
        let zero = Tensor::new(x.shape().to_vec(), Storage::zeros(dtype, x.numel()))?;
        let z = vec![false; x.numel()];
        return if dtype.is_float() {
            scaled(x, &z, 1.0)
        } else {
            Ok(zero)
        };
    }
    if !inplace {
        return Ok(native_dropout(g, dev, era, x, input, p, true)?.0);
    }
    let q = 1.0 - p;
    // The noise tensor is `empty_like(x)`: x's layout, filled in memory order.
    let size = storage_size(x.shape(), input.perm.as_deref())?;
    let view = View {
        size,
        dtype,
        perm: input.perm.clone(),
    };
    let noise = bernoulli_scalar_(g, dev, era, &view, q)?;
    if !dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!("result type Float can't be cast to the desired output type {dtype}"),
        ));
    }
    let keep: Vec<bool> = noise.bits().iter().map(|&b| b != 0).collect();
    let inv32 = 1.0f32 / q as f32;
    let inv64 = 1.0 / q;
    let m = |k: bool| f32::from(u8::from(k));
    let data = match x.storage() {
        Storage::F32(v) => Storage::F32(
            v.iter()
                .zip(&keep)
                .map(|(&a, &k)| a * (m(k) * inv32))
                .collect(),
        ),
        Storage::F16(v) => Storage::F16(
            v.iter()
                .zip(&keep)
                .map(|(&a, &k)| {
                    let nz = f16_to_f32(f32_to_f16(m(k) * inv32));
                    f32_to_f16(f16_to_f32(a) * nz)
                })
                .collect(),
        ),
        Storage::BF16(v) => Storage::BF16(
            v.iter()
                .zip(&keep)
                .map(|(&a, &k)| {
                    let nz = bf16_to_f32(f32_to_bf16(m(k) * inv32));
                    f32_to_bf16(bf16_to_f32(a) * nz)
                })
                .collect(),
        ),
        Storage::F64(v) => Storage::F64(
            v.iter()
                .zip(&keep)
                .map(|(&a, &k)| a * (f64::from(u8::from(k)) * inv64))
                .collect(),
        ),
        // Checked above: only float dtypes reach here.
        other => return Err(Error::arg(OP, not_implemented("mul_cuda", other.dtype()))),
    };
    Tensor::new(x.shape().to_vec(), data)
}

// ------------------------------------------------------------------------------------------------
// randperm
// ------------------------------------------------------------------------------------------------

/// The key width of CUDA `randperm`: `min(64, ceil(log2(n − (6n² + 1) / (12 ln 0.9))))` in
/// double (glibc `log`, `log2`, `ceil` on the host, as PyTorch computes it on the host).
#[must_use]
pub fn randperm_bits(n: i64) -> u32 {
    use crate::math::libm;
    let nd = n as f64;
    let log_threshold_12 = libm::log(0.9) * 12.0;
    let bits = libm::log2(nd - (6.0 * nd * nd + 1.0) / log_threshold_12).ceil();
    // The argument is at least 1 + 7 / (12 |ln 0.9|) for n ≥ 1, so `bits` is positive.
    (bits as u32).min(64)
}

/// `torch.randperm(n, dtype=dtype, device="cuda")`.
///
/// 1. Keys: `bits ≤ 32` (n ≤ 30,083): an int32 tensor `.random_(INT32_MIN, INT32_MAX)` (range
///    2^32 − 1: the 64-bit path from 2.7, one word before); else int64 keys
///    `.random_(INT64_MIN, INT64_MAX)` (two words).
/// 2. A stable radix sort of `(key, arange(n))` on key bits `[0, bits)` (cub flips the sign bit
///    of signed keys first).
/// 3. Islands of equal masked keys: reserve `n` words; the first thread `s` of each island of
///    length `L ≥ 2` runs `curand_init(seed, s, offset)` and a Fisher–Yates shuffle of it with
///    `curand() % (i + 1)` for `i = L−1 … 1`.
///
/// Consumes: the keys' reservation, then `ceil4(n)` words (randperm(10): 4 + 12).
///
/// # Errors
/// As PyTorch: `n < 0`, `n` beyond the dtype's exact integers, bool and the wide unsigned types;
/// bfloat16 has no CUDA kernel (PyTorch fails after drawing the keys, as here).
pub fn randperm(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    n: i64,
    dtype: DType,
) -> Result<Tensor> {
    const OP: &str = "randperm";
    check_dtype_exists(OP, dtype, era)?;
    check_randperm(n, dtype)?;
    checked_numel(OP, &[n], dtype)?;
    if n == 0 {
        return Tensor::new(vec![0], Storage::zeros(dtype, 0));
    }
    let bits = randperm_bits(n);
    let nu = n as usize;
    // Sort keys: the low `bits` bits of the key with its sign bit flipped; equality of masked
    // raw keys (what the island kernel compares) is equality of these.
    let (sort_keys, width): (Vec<u64>, u32) = if bits <= 32 {
        let keys = random_from_to(
            g,
            dev,
            era,
            &View::contiguous(&[n], DType::Int32),
            i64::from(i32::MIN),
            Some(i64::from(i32::MAX)),
        )?;
        let k = keys.bits().into_iter().map(|b| b ^ 0x8000_0000).collect();
        (k, 32)
    } else {
        let keys = random_from_to(
            g,
            dev,
            era,
            &View::contiguous(&[n], DType::Int64),
            i64::MIN,
            Some(i64::MAX),
        )?;
        let k = keys.bits().into_iter().map(|b| b ^ (1 << 63)).collect();
        (k, 64)
    };
    if dtype == DType::BFloat16 {
        return Err(Error::arg(OP, not_implemented("randperm_out_cuda", dtype)));
    }
    // `(1UL << bits) - 1` on the host: a shift by 64 is masked to 0 on x86-64, so 64-bit keys
    // compare with mask 0 (every key equal: one island of n elements).
    let mask = if bits >= 64 { 0 } else { (1u64 << bits) - 1 };
    let sort_mask = if bits >= width {
        u64::MAX >> (64 - width)
    } else {
        (1u64 << bits) - 1
    };
    let mut order: Vec<usize> = (0..nu).collect();
    order.sort_by_key(|&i| sort_keys[i] & sort_mask); // stable
                                                      // The island kernel compares the sorted raw keys under `mask` (sign flip undone: equality
                                                      // of the flipped keys under the mask equals equality of the raw keys when the sign bit is
                                                      // outside the mask, and is unaffected inside it).
    let flip = if width == 32 { 0x8000_0000u64 } else { 1 << 63 };
    let island_key: Vec<u64> = order
        .iter()
        .map(|&i| (sort_keys[i] ^ flip) & mask)
        .collect();
    let mut data: Vec<u64> = order.iter().map(|&i| i as u64).collect();
    let (seed, offset) = g.philox_cuda_state(n as u64);
    let mut s = 0usize;
    while s + 1 < nu {
        let mut len = 1;
        while s + len < nu && island_key[s + len] == island_key[s] {
            len += 1;
        }
        if len >= 2 {
            let mut st = Philox4x32::new(seed, s as u64, offset);
            for i in (1..len).rev() {
                let r = (st.curand() % (i as u32 + 1)) as usize;
                if r != i {
                    data.swap(s + i, s + r);
                }
            }
        }
        s += len;
    }
    let vals: Vec<i64> = data.into_iter().map(|v| v as i64).collect();
    let storage =
        with_elem!(dtype, T => T::storage(vals.iter().map(|&v| T::from_i64(v)).collect()));
    Tensor::new(vec![nu], storage)
}

// ------------------------------------------------------------------------------------------------
// exponential_, geometric_, cauchy_
// ------------------------------------------------------------------------------------------------

/// `exponential_(lambd)` on a view of a CUDA tensor: with the element's uniform `u`,
/// `log = u ≥ 1 − ε/2 ? −ε/2 : log(u)` (ε of the opmath type), then `(−1/λ) · log`.
/// float32/float16/bfloat16: `__logf` (modelled; not exact); float64: libdevice `log`.
///
/// Consumes: one reservation (unroll 4, or 2 for float64).
///
/// # Errors
/// `lambd <= 0` or NaN; a non-float dtype (an empty tensor of any dtype is accepted).
pub fn exponential_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    lambd: f64,
) -> Result<Tensor> {
    const OP: &str = "exponential_";
    view.check_size(OP)?;
    check_positive(OP, "lambda", lambd)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    if !view.dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!(
                "Exponential distribution is a continuous probability distribution. dtype must \
                 be a floating point but you specified {}",
                view.dtype
            ),
        ));
    }
    let rules = era.rules();
    let l32 = lambd as f32;
    let f = move |u: f32| {
        let eps_half = f32::EPSILON / 2.0;
        let log = if u >= 1.0 - eps_half {
            -eps_half
        } else {
            fast_logf(u)
        };
        (-1.0f32 / l32) * log
    };
    match view.dtype {
        DType::Float32 => nullary(g, dev, rules, view, U4, uniform4, f),
        DType::Float16 => nullary(g, dev, rules, view, U4, uniform4, |u| f32_to_f16(f(u))),
        DType::BFloat16 => nullary(g, dev, rules, view, U4, uniform4, |u| f32_to_bf16(f(u))),
        _ => {
            let comps = |w| pair(uniform2_double(w));
            nullary(g, dev, rules, view, U2, comps, |u: f64| {
                let eps_half = f64::EPSILON / 2.0;
                let log = if u >= 1.0 - eps_half {
                    -eps_half
                } else {
                    nv_log(u)
                };
                (-1.0 / lambd) * log
            })
        }
    }
}

/// `geometric_(p)` on a view of a CUDA tensor: `ceil(log(u) / log1p(−p))` cast to the dtype
/// (integers allowed). float64 targets use the double uniform and libdevice `log`/`log1p`;
/// every other dtype computes in float with `__logf(u) / __logf(1 − p)` (CUDA has no fast
/// `log1p`; modelled, not exact).
///
/// Consumes: one reservation (unroll 4, or 2 for float64).
///
/// # Errors
/// `p` outside `(0, 1)`; bool, uint16, uint32, uint64 (no kernel; an empty tensor is accepted).
pub fn geometric_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    p: f64,
) -> Result<Tensor> {
    const OP: &str = "geometric_";
    view.check_size(OP)?;
    check_dtype_exists(OP, view.dtype, era)?;
    check_geometric_p(OP, p)?;
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    let dtype = view.dtype;
    if dtype == DType::Bool || dtype.is_wide_unsigned() {
        return Err(Error::arg(OP, not_implemented("geometric_cuda", dtype)));
    }
    let rules = era.rules();
    let p32 = p as f32;
    let denom32 = fast_logf(1.0f32 + -p32);
    let denom64 = nv_log1p(-p);
    with_elem!(dtype, T => if dtype == DType::Float64 {
        let comps = |w| pair(uniform2_double(w));
        nullary(g, dev, rules, view, U2, comps, |u: f64| T::from_f64((nv_log(u) / denom64).ceil()))
    } else {
        nullary(g, dev, rules, view, U4, uniform4, |u: f32| {
            T::from_f32((fast_logf(u) / denom32).ceil())
        })
    })
}

/// `cauchy_(median, sigma)` on a view of a CUDA tensor: `fma(sigma, tan(π (u − 0.5)), median)`;
/// float32/float16/bfloat16 clamp `u` to `[ε, 1 − ε]` and use `__tanf` (modelled, not exact);
/// float64 uses libdevice `tan` without clamping.
///
/// Consumes: one reservation (unroll 4, or 2 for float64).
///
/// # Errors
/// `sigma <= 0` or NaN; a non-float dtype (even when empty).
pub fn cauchy_(
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
    view: &View,
    median: f64,
    sigma: f64,
) -> Result<Tensor> {
    const OP: &str = "cauchy_";
    view.check_size(OP)?;
    check_positive(OP, "sigma", sigma)?;
    if !view.dtype.is_float() {
        return Err(Error::arg(
            OP,
            format!(
                "Cauchy distribution is a continuous probability distribution. dtype must be a \
                 floating point but you specified {}",
                view.dtype
            ),
        ));
    }
    if numel_of(OP, view)? == 0 {
        return empty_of(view);
    }
    let rules = era.rules();
    let (m32, s32) = (median as f32, sigma as f32);
    let f = move |u: f32| {
        let u = u.clamp(f32::EPSILON, 1.0 - f32::EPSILON);
        s32.mul_add(fast_tanf(std::f32::consts::PI * (u - 0.5)), m32)
    };
    match view.dtype {
        DType::Float32 => nullary(g, dev, rules, view, U4, uniform4, f),
        DType::Float16 => nullary(g, dev, rules, view, U4, uniform4, |u| f32_to_f16(f(u))),
        DType::BFloat16 => nullary(g, dev, rules, view, U4, uniform4, |u| f32_to_bf16(f(u))),
        _ => {
            let comps = |w| pair(uniform2_double(w));
            nullary(g, dev, rules, view, U2, comps, |u: f64| {
                let t = nv_tan(std::f64::consts::PI * (u - 0.5)).unwrap_or(f64::NAN);
                sigma.mul_add(t, median)
            })
        }
    }
}

#[cfg(test)]
mod tests;
