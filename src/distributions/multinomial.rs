//! `multinomial` with replacement: cumulative distribution and binary search, per row.
//!
//! Mirrors: `multinomial_with_replacement_apply` (`aten/src/ATen/native/cpu/MultinomialKernel.cpp`).
//! Without replacement (and with one sample) PyTorch uses `exponential_` keys instead; that path
//! lives in `ops::samplers`.
//!
//! Per row: `cum[j]` is the running sum of `p[0..=j]` in the accumulate type (float for float32,
//! float16 and bfloat16, double for float64), each `cum[j]` is divided by the total in that type,
//! the last entry is set to exactly 1, then each sample draws `u = u53` and takes the first `j`
//! with `cum[j] >= u` (the comparison in double). Consumes: one `random64()` per sample.

// `!(v >= 0.0)` is deliberate: NaN must fail the check, as in PyTorch.
#![allow(clippy::neg_cmp_op_on_partial_ord)]

use super::transform::u53;
use crate::generator::CpuGenerator;

/// Why a row was rejected (PyTorch's checks inside the kernel, row by row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RowError {
    /// An entry below zero (NaN included: it fails `val >= 0`).
    Negative,
    /// An infinite entry.
    NotFinite,
    /// A row that sums to zero.
    ZeroSum,
}

macro_rules! with_replacement {
    ($name:ident, $t:ty) => {
        /// Samples `out.len()` indices from one row (`probs` already in the accumulate type).
        ///
        /// # Errors
        /// The row's [`RowError`]; nothing is drawn for a rejected row.
        pub fn $name(
            g: &mut CpuGenerator,
            probs: &[$t],
            cum: &mut Vec<$t>,
            out: &mut [i64],
        ) -> Result<(), RowError> {
            cum.clear();
            let mut sum: $t = 0.0;
            for &v in probs {
                if !(v >= 0.0) {
                    return Err(RowError::Negative);
                }
                if !v.is_finite() {
                    return Err(RowError::NotFinite);
                }
                sum += v;
                cum.push(sum);
            }
            if !(sum > 0.0) {
                return Err(RowError::ZeroSum);
            }
            for c in cum.iter_mut() {
                *c /= sum;
            }
            let k = cum.len();
            if let Some(last) = cum.last_mut() {
                *last = 1.0;
            }
            for o in out.iter_mut() {
                let u = u53(g.random64());
                let (mut lo, mut hi) = (0usize, k);
                while hi > lo {
                    let mid = lo + (hi - lo) / 2;
                    if f64::from(cum[mid]) < u {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                *o = lo as i64;
            }
            Ok(())
        }
    };
}

with_replacement!(with_replacement_f32, f32);
with_replacement!(with_replacement_f64, f64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rand5_three_samples_seed42() {
        // torch.manual_seed(42); torch.multinomial(torch.rand(5), 3, replacement=True)
        let mut g = CpuGenerator::with_seed(42);
        let p: Vec<f32> = (0..5)
            .map(|_| super::super::transform::u24(g.random()))
            .collect();
        let mut out = [0i64; 3];
        with_replacement_f32(&mut g, &p, &mut Vec::new(), &mut out).unwrap();
        assert_eq!(out, [3, 1, 0]);
    }

    #[test]
    fn rejections() {
        let mut g = CpuGenerator::with_seed(0);
        let mut c = Vec::new();
        let mut o = [0i64; 2];
        assert_eq!(
            with_replacement_f64(&mut g, &[1.0, -1.0], &mut c, &mut o),
            Err(RowError::Negative)
        );
        assert_eq!(
            with_replacement_f64(&mut g, &[f64::NAN], &mut c, &mut o),
            Err(RowError::Negative)
        );
        assert_eq!(
            with_replacement_f64(&mut g, &[f64::INFINITY], &mut c, &mut o),
            Err(RowError::NotFinite)
        );
        assert_eq!(
            with_replacement_f64(&mut g, &[0.0, 0.0], &mut c, &mut o),
            Err(RowError::ZeroSum)
        );
        assert_eq!(g, CpuGenerator::with_seed(0));
    }
}
