//! PyTorch's random tensor ops: argument checks exactly where PyTorch checks, then dispatch to the
//! fill kernels.
//!
//! Mirrors: `aten/src/ATen/native/TensorFactories.cpp` (`rand`, `randn`, `normal`, `*_like`) and
//! `aten/src/ATen/native/DistributionTemplates.h` (`uniform_impl_`, `normal_impl_`).
//!
//! Every op takes the generator to draw from and the [`Context`] (kernel variant and release) to
//! reproduce. In-place ops work on contiguous [`Tensor`]s; [`View`] reproduces an in-place op on
//! `torch.empty(size).permute(perm)`, a non-contiguous view whose elements PyTorch visits in memory
//! order.

// `!(x >= 0.0)` and friends are deliberate: NaN must fail PyTorch's checks.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use crate::dtype::Element;
use crate::dtype::{f64_to_bf16, f64_to_f16, DType};
use crate::error::{Error, Result};
use crate::tensor::{checked_numel, each_storage, Storage, Tensor};

mod bernoulli;
mod continuous;
mod dropout;
mod multinomial;
mod normal;
mod random;
mod randperm;
mod uniform;

pub use bernoulli::{bernoulli, bernoulli_p, bernoulli_scalar_, bernoulli_tensor_};
pub use continuous::{cauchy_, exponential_, geometric_, log_normal_};
pub(crate) use continuous::{check_geometric_p, check_positive};
pub use dropout::{dropout, native_dropout};
pub use multinomial::multinomial;
pub(crate) use normal::check_normal_std;
pub(crate) use normal::fill_normal;
#[cfg(feature = "json")]
pub use normal::normal_on_view;
pub use normal::{
    normal, normal_, normal_float_tensor, normal_tensor_float, normal_tensor_tensor, randn,
    randn_like,
};
pub use random::{randint, randint_like, random_, random_from_to};
pub(crate) use random::{random_mode, RandomMode};
pub(crate) use randperm::check_randperm;
pub use randperm::randperm;
pub(crate) use uniform::check_uniform_bounds;
pub(crate) use uniform::fill_uniform;
#[cfg(feature = "json")]
pub use uniform::uniform_on_view;
pub use uniform::{rand, rand_like, uniform_};

pub(crate) fn not_implemented(kernel: &str, dtype: DType) -> String {
    format!("\"{kernel}\" not implemented for '{}'", dtype.cpp_name())
}

/// A target for an in-place op: `torch.empty(size, dtype=dtype)`, optionally seen through
/// `.permute(perm)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    /// Shape of the contiguous storage (`torch.empty`'s size).
    pub size: Vec<i64>,
    /// Element type.
    pub dtype: DType,
    /// Dimension order of the view; `None` for the contiguous tensor itself.
    pub perm: Option<Vec<usize>>,
}

impl View {
    /// The contiguous tensor `torch.empty(size, dtype=dtype)`.
    #[must_use]
    pub fn contiguous(size: &[i64], dtype: DType) -> View {
        View {
            size: size.to_vec(),
            dtype,
            perm: None,
        }
    }

    #[cfg(feature = "json")]
    /// `torch.empty(size, dtype=dtype).permute(perm)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] if `perm` is not a permutation of the dimensions.
    pub fn permuted(size: &[i64], dtype: DType, perm: &[usize]) -> Result<View> {
        let mut seen = vec![false; size.len()];
        let ok = perm.len() == size.len()
            && perm
                .iter()
                .all(|&p| p < seen.len() && !std::mem::replace(&mut seen[p], true));
        if !ok {
            return Err(Error::arg(
                "permute",
                format!(
                    "{perm:?} is not a permutation of the {} dimensions",
                    size.len()
                ),
            ));
        }
        Ok(View {
            size: size.to_vec(),
            dtype,
            perm: Some(perm.to_vec()),
        })
    }

    /// The logical shape of the view (the permuted size).
    ///
    /// Negative sizes are clamped to 0 here; [`View::check_size`] reports them.
    #[must_use]
    pub fn shape(&self) -> Vec<usize> {
        let size: Vec<usize> = self.size.iter().map(|&d| d.max(0) as usize).collect();
        match &self.perm {
            Some(p) => p.iter().map(|&i| size[i]).collect(),
            None => size,
        }
    }

    /// Checks the size as `torch.empty` would (negative dimensions, allocation limit).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] or [`Error::TooLarge`].
    pub fn check_size(&self, op: &str) -> Result<()> {
        checked_numel(op, &self.size, self.dtype).map(|_| ())
    }

    /// Whether PyTorch's `is_contiguous()` holds for the view: strides match row-major order on
    /// every dimension of size other than 1 (an empty tensor is contiguous).
    #[must_use]
    pub fn is_contiguous(&self) -> bool {
        let Some(perm) = &self.perm else { return true };
        let n = self.size.len();
        let mut strides = vec![1i64; n];
        for d in (0..n.saturating_sub(1)).rev() {
            strides[d] = strides[d + 1] * self.size[d + 1];
        }
        if self.size.contains(&0) {
            return true;
        }
        let mut expected = 1i64;
        for &p in perm.iter().rev() {
            let (sz, st) = (self.size[p], strides[p]);
            if sz != 1 {
                if st != expected {
                    return false;
                }
                expected *= sz;
            }
        }
        true
    }

    /// Runs `fill` on zeroed storage in memory order, then returns the view made contiguous.
    fn fill_with(
        &self,
        op: &str,
        fill: impl FnOnce(&mut Storage, bool) -> Result<()>,
    ) -> Result<Tensor> {
        let mut t = Tensor::zeros_checked(op, &self.size, self.dtype)?;
        let contiguous = self.is_contiguous();
        fill(t.storage_mut(), contiguous)?;
        Ok(match &self.perm {
            Some(p) => t.permuted(p)?,
            None => t,
        })
    }
}

fn fill_each<T: Element>(v: &mut [T], mut f: impl FnMut() -> T) {
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
    // Empty, with room for the n elements the fill appends.
    let mut s = Storage::try_with_capacity(op, view.dtype, n)?;
    fill(&mut s, n)?;
    let t = Tensor::new(view.size.iter().map(|&d| d as usize).collect(), s)?;
    Ok(match &view.perm {
        Some(p) => t.permuted(p)?,
        None => t,
    })
}

/// Every element of `t` as a double, in row-major order.
pub(crate) fn values_f64(t: &Tensor) -> Vec<f64> {
    each_storage!(t.storage(), v => v.iter().map(|x| Element::to_f64(*x)).collect())
}

/// A tensor of `shape` and `dtype` holding `vals` converted as `static_cast<T>(double)`.
pub(crate) fn tensor_from_f64(shape: Vec<usize>, dtype: DType, vals: &[f64]) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    let mut s = Storage::zeros(dtype, n);
    each_storage!(&mut s, v => {
        for (o, &x) in v.iter_mut().zip(vals) {
            *o = Element::from_f64(x);
        }
    });
    Tensor::new(shape, s)
}

fn numel_of(shape: &[usize]) -> usize {
    shape.iter().product()
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

/// `a op b` for an output of dtype `out` whose other operand is a float of `other` dtype (or a
/// scalar, `other = out`): computed in double when either is float64, else in float, then
/// rounded to `out` (PyTorch's CPU kernels compute float16/bfloat16 in float).
pub(super) fn arith(
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

pub(super) fn mul64(a: f64, b: f64) -> f64 {
    a * b
}
pub(super) fn mul32(a: f32, b: f32) -> f32 {
    a * b
}
pub(super) fn add64(a: f64, b: f64) -> f64 {
    a + b
}
pub(super) fn add32(a: f32, b: f32) -> f32 {
    a + b
}
pub(super) fn div64(a: f64, b: f64) -> f64 {
    a / b
}
pub(super) fn div32(a: f32, b: f32) -> f32 {
    a / b
}

/// `v` rounded to `dtype` and widened back.
pub(super) fn single(dtype: DType, v: f64) -> f64 {
    match dtype {
        DType::Float16 => Element::to_f64(f64_to_f16(v)),
        DType::BFloat16 => Element::to_f64(f64_to_bf16(v)),
        DType::Float32 => f64::from(v as f32),
        _ => v,
    }
}

/// Checks a Bernoulli probability, as `bernoulli_` and dropout do (NaN fails).
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

impl Tensor {
    /// [`Tensor::zeros`] with the op's name in the error.
    pub(crate) fn zeros_checked(op: &str, size: &[i64], dtype: DType) -> Result<Tensor> {
        Tensor::zeros_for(op, size, dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Capability, Context};
    use crate::generator::CpuGenerator;

    fn t() -> Context {
        Context::default()
    }

    #[test]
    fn rand_dtypes_seed42() {
        // cpu-rng.md section 14
        let mut g = CpuGenerator::with_seed(42);
        assert_eq!(
            rand(&mut g, &[4], DType::Float16, t()).unwrap().bits(),
            [0x3b0f, 0x3b52, 0x3620, 0x3bad]
        );
        let mut g = CpuGenerator::with_seed(42);
        assert_eq!(
            rand(&mut g, &[4], DType::BFloat16, t()).unwrap().bits(),
            [0x3f62, 0x3f6a, 0x3ec4, 0x3f76]
        );
        let mut g = CpuGenerator::with_seed(42);
        assert_eq!(
            rand(&mut g, &[2], DType::Float64, t()).unwrap().bits(),
            [0x3fad_c66c_bea3_db30, 0x3fb0_1ae1_77ac_a870]
        );
    }

    #[test]
    fn argument_errors() {
        let mut g = CpuGenerator::with_seed(0);
        assert!(rand(&mut g, &[2], DType::Int64, t()).is_err());
        assert!(rand(&mut g, &[-1], DType::Float32, t()).is_err());
        assert!(randn(&mut g, &[3], DType::Bool, t()).is_err());
        let mut x = Tensor::zeros(&[3], DType::Float16).unwrap();
        assert!(uniform_(&mut g, &mut x, 0.0, 1e6, t()).is_err());
        assert!(uniform_(&mut g, &mut x, 1.0, 0.0, t()).is_err());
        assert!(uniform_(&mut g, &mut x, f64::NAN, 0.0, t()).is_err());
        assert!(normal_(&mut g, &mut x, 0.0, -1.0, t()).is_err());
        assert!(normal_(&mut g, &mut x, 0.0, f64::NAN, t()).is_err());
        let mut y = Tensor::zeros(&[3], DType::Float32).unwrap();
        assert!(uniform_(&mut g, &mut y, -3e38, 3e38, t()).is_err());
        // nothing was drawn by the rejected calls
        assert_eq!(g, CpuGenerator::with_seed(0));
    }

    #[test]
    fn contiguity_of_views() {
        let d = DType::Float32;
        assert!(!View::permuted(&[40, 40], d, &[1, 0])
            .unwrap()
            .is_contiguous());
        assert!(View::permuted(&[1, 20], d, &[1, 0])
            .unwrap()
            .is_contiguous());
        assert!(!View::permuted(&[2, 4, 4, 3], d, &[0, 3, 1, 2])
            .unwrap()
            .is_contiguous());
        assert!(View::permuted(&[0, 3], d, &[1, 0]).unwrap().is_contiguous());
        assert!(View::permuted(&[2, 3], d, &[0, 0]).is_err());
        assert!(View::permuted(&[2, 3], d, &[0]).is_err());
    }

    #[test]
    fn cache_survives_the_fill_path() {
        // randn(1); randn(16); randn(1): the last value is the sine sample cached by the first.
        let mut g = CpuGenerator::with_seed(9);
        randn(&mut g, &[1], DType::Float64, t()).unwrap();
        let cached = g.next_double_normal_sample().unwrap();
        randn(&mut g, &[16], DType::Float32, t()).unwrap();
        let last = randn(&mut g, &[1], DType::Float64, t()).unwrap();
        assert_eq!(last.as_f64().unwrap()[0].to_bits(), cached.to_bits());
        let _ = Capability::Default;
    }
}

#[cfg(test)]
mod sampler_tests;
