//! PyTorch's random tensor ops: argument checks exactly where PyTorch checks, then dispatch to the
//! fill kernels.
//!
//! Mirrors: `aten/src/ATen/native/TensorFactories.cpp` (`rand`, `randn`, `normal`, `*_like`) and
//! `aten/src/ATen/native/DistributionTemplates.h` (`uniform_impl_`, `normal_impl_`).
//!
//! Every op takes the generator to draw from and the [`Target`] (kernel variant and release) to
//! reproduce. In-place ops work on contiguous [`Tensor`]s; [`View`] reproduces an in-place op on
//! `torch.empty(size).permute(perm)`, a non-contiguous view whose elements PyTorch visits in memory
//! order.

use crate::distributions::{normal, uniform, Route};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::target::Target;
use crate::tensor::{checked_numel, Storage, Tensor};

pub mod samplers;

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
            Some(p) => t.permuted(p),
            None => t,
        })
    }
}

/// Checks `uniform_`'s bounds for `dtype` and returns them clamped to the dtype's finite range.
///
/// Mirrors: `uniform_impl_` in `aten/src/ATen/native/DistributionTemplates.h`.
pub(crate) fn check_uniform_bounds(
    op: &str,
    dtype: DType,
    from: f64,
    to: f64,
) -> Result<(f64, f64)> {
    let Some(max) = dtype.float_max() else {
        return Err(Error::arg(
            op,
            not_implemented("check_uniform_bounds", dtype),
        ));
    };
    let min = -max;
    // NaN fails these comparisons, as it does in PyTorch.
    if !(from >= min && from <= max) {
        return Err(Error::arg(
            op,
            format!("from={from} is out of bounds for {dtype}"),
        ));
    }
    if !(to >= min && to <= max) {
        return Err(Error::arg(
            op,
            format!("to={to} is out of bounds for {dtype}"),
        ));
    }
    if from > to {
        return Err(Error::arg(
            op,
            format!("expects to return a [from, to) range, but found from={from} > to={to}"),
        ));
    }
    if to - from > max {
        return Err(Error::arg(
            op,
            format!(
                "expects to-from <= the largest {dtype}, but found to={to} and from={from}, \
                 which result in to-from to exceed the limit"
            ),
        ));
    }
    Ok((from.max(min).min(max), to.min(max).max(min)))
}

pub(crate) fn check_normal_std(op: &str, std: f64) -> Result<()> {
    // NaN fails the comparison, as it does in PyTorch.
    if std >= 0.0 {
        Ok(())
    } else {
        Err(Error::arg(
            op,
            format!("expects std >= 0.0, but found std {std}"),
        ))
    }
}

/// Fills `data` in element order with `uniform_(from, to)` values, after PyTorch's checks.
pub(crate) fn fill_uniform(
    g: &mut CpuGenerator,
    op: &str,
    data: &mut Storage,
    from: f64,
    to: f64,
    target: Target,
) -> Result<()> {
    let (from, to) = check_uniform_bounds(op, data.dtype(), from, to)?;
    let fused = target.capability.fused();
    let route = Route::detect();
    let rule = uniform::UniformRule::of(target.era);
    match data {
        Storage::F32(v) => uniform::fill_f32(g, v, from, to, fused, route, rule),
        Storage::F64(v) => uniform::fill_f64(g, v, from, to, fused, route, rule),
        Storage::F16(v) => uniform::fill_f16(g, v, from, to, fused, route, rule),
        Storage::BF16(v) => uniform::fill_bf16(g, v, from, to, fused, route, rule),
        other => {
            return Err(Error::arg(
                op,
                not_implemented("uniform_kernel_cpu", other.dtype()),
            ));
        }
    }
    Ok(())
}

/// Fills `data` with `normal_(mean, std)` values after PyTorch's checks: the fill path when the
/// target is contiguous with at least 16 elements, else the per-element path in element order.
pub(crate) fn fill_normal(
    g: &mut CpuGenerator,
    op: &str,
    data: &mut Storage,
    contiguous: bool,
    mean: f64,
    std: f64,
    target: Target,
) -> Result<()> {
    check_normal_std(op, std)?;
    let n = data.len();
    if n == 0 {
        return Ok(());
    }
    let fill_path = contiguous && n >= 16;
    let cap = target.capability;
    let fused = cap.fused();
    let route = Route::detect();
    let rule = normal::NormalRule::of(target.era);
    match data {
        Storage::F32(v) if fill_path => normal::fill_f32(g, v, mean, std, cap, rule, route),
        Storage::F64(v) if fill_path => normal::fill_f64(g, v, mean, std, cap, rule, route),
        Storage::F16(v) if fill_path => normal::fill_f16(g, v, mean, std, cap, rule, route),
        Storage::BF16(v) if fill_path => normal::fill_bf16(g, v, mean, std, cap, rule, route),
        Storage::F32(v) => normal::per_element_f32(g, v, mean, std, fused),
        Storage::F64(v) => normal::per_element_f64(g, v, mean, std, fused),
        Storage::F16(v) => normal::per_element_f16(g, v, mean, std, fused),
        Storage::BF16(v) => normal::per_element_bf16(g, v, mean, std, fused),
        other => {
            return Err(Error::arg(
                op,
                not_implemented("normal_kernel_cpu", other.dtype()),
            ));
        }
    }
    Ok(())
}

/// `tensor.uniform_(from, to)` on a contiguous tensor.
///
/// Consumes: see [`crate::distributions::uniform`]. Nothing for an empty tensor.
///
/// # Errors
/// As PyTorch: a non-float dtype, bounds outside the dtype's finite range (NaN and infinities
/// included), `from > to`, or `to - from` beyond the dtype's largest value.
pub fn uniform_(
    g: &mut CpuGenerator,
    t: &mut Tensor,
    from: f64,
    to: f64,
    target: Target,
) -> Result<()> {
    fill_uniform(g, "uniform_", t.storage_mut(), from, to, target)
}

/// `tensor.normal_(mean, std)` on a contiguous tensor.
///
/// Consumes: see [`crate::distributions::normal`]. Nothing for an empty tensor.
///
/// # Errors
/// As PyTorch: `std < 0` or NaN; a non-float dtype (for a non-empty tensor).
pub fn normal_(
    g: &mut CpuGenerator,
    t: &mut Tensor,
    mean: f64,
    std: f64,
    target: Target,
) -> Result<()> {
    fill_normal(g, "normal_", t.storage_mut(), true, mean, std, target)
}

/// `torch.empty(size, dtype=dtype)[.permute(perm)].uniform_(from, to)`, returned contiguous.
///
/// # Errors
/// As [`uniform_`], plus size errors.
pub fn uniform_on_view(
    g: &mut CpuGenerator,
    view: &View,
    from: f64,
    to: f64,
    target: Target,
) -> Result<Tensor> {
    view.fill_with("uniform_", |s, _| {
        fill_uniform(g, "uniform_", s, from, to, target)
    })
}

/// `torch.empty(size, dtype=dtype)[.permute(perm)].normal_(mean, std)`, returned contiguous.
/// A non-contiguous view takes the per-element path whatever its size.
///
/// # Errors
/// As [`normal_`], plus size errors.
pub fn normal_on_view(
    g: &mut CpuGenerator,
    view: &View,
    mean: f64,
    std: f64,
    target: Target,
) -> Result<Tensor> {
    view.fill_with("normal_", |s, contiguous| {
        fill_normal(g, "normal_", s, contiguous, mean, std, target)
    })
}

/// `torch.rand(size, dtype=dtype)`: `uniform_(0, 1)` on a new tensor.
///
/// # Errors
/// A negative dimension, a size over the allocation limit, or a non-float dtype.
pub fn rand(g: &mut CpuGenerator, size: &[i64], dtype: DType, target: Target) -> Result<Tensor> {
    let mut t = Tensor::zeros_checked("rand", size, dtype)?;
    fill_uniform(g, "rand", t.storage_mut(), 0.0, 1.0, target)?;
    Ok(t)
}

/// `torch.randn(size, dtype=dtype)`: `normal_(0, 1)` on a new tensor.
///
/// # Errors
/// A negative dimension, a size over the allocation limit, or a non-float dtype.
pub fn randn(g: &mut CpuGenerator, size: &[i64], dtype: DType, target: Target) -> Result<Tensor> {
    let mut t = Tensor::zeros_checked("randn", size, dtype)?;
    fill_normal(g, "randn", t.storage_mut(), true, 0.0, 1.0, target)?;
    Ok(t)
}

/// `torch.normal(mean, std, size, dtype=dtype)` with float `mean` and `std`.
///
/// # Errors
/// As [`randn`], plus `std < 0`.
pub fn normal(
    g: &mut CpuGenerator,
    mean: f64,
    std: f64,
    size: &[i64],
    dtype: DType,
    target: Target,
) -> Result<Tensor> {
    let mut t = Tensor::zeros_checked("normal", size, dtype)?;
    fill_normal(g, "normal", t.storage_mut(), true, mean, std, target)?;
    Ok(t)
}

/// `torch.rand_like(x)`: a new tensor shaped like the view (strides preserved, as `empty_like`
/// preserves a dense permuted layout), filled by `uniform_(0, 1)` in memory order.
///
/// # Errors
/// As [`rand`].
pub fn rand_like(g: &mut CpuGenerator, like: &View, target: Target) -> Result<Tensor> {
    like.fill_with("rand_like", |s, _| {
        fill_uniform(g, "rand_like", s, 0.0, 1.0, target)
    })
}

/// `torch.randn_like(x)`; a permuted (non-contiguous) `x` gives a non-contiguous result, filled by
/// the per-element path.
///
/// # Errors
/// As [`randn`].
pub fn randn_like(g: &mut CpuGenerator, like: &View, target: Target) -> Result<Tensor> {
    like.fill_with("randn_like", |s, contiguous| {
        fill_normal(g, "randn_like", s, contiguous, 0.0, 1.0, target)
    })
}

impl Tensor {
    /// [`Tensor::zeros`] with the op's name in the error.
    pub(crate) fn zeros_checked(op: &str, size: &[i64], dtype: DType) -> Result<Tensor> {
        checked_numel(op, size, dtype)?;
        Tensor::zeros(size, dtype)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Capability;

    fn t() -> Target {
        Target::default()
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
