//! Comparing a file's tensor with the init, element by element: bits, ulps, correlation, and what
//! a modified tensor's values say about the change.

use std::collections::HashSet;

use super::report::{Diff, Modification};
use crate::dtype::{f32_to_bf16, f32_to_f16, f64_to_bf16, f64_to_f16, DType};
use crate::tensor::{Storage, Tensor};

/// Differences up to this many ulp count as "equal up to the variant".
pub(crate) const NEAR_ULP: u64 = 2;
/// Differences up to this many ulp of the tensor's largest magnitude also count as "equal up to
/// the variant": the avx2 kernels' vectorised `log`/`cos` in the normal fill differ from the
/// default kernels' by an absolute error of a few ulp at the tensor's scale, which is many ulp
/// of an element near zero (measured with PyTorch 2.15, `kaiming_normal_` and `normal_`: up to
/// 4.0 ulp of the largest magnitude, 17,094 ulp of the element; golden/audit).
pub(crate) const NEAR_SCALE_ULP: f64 = 8.0;
/// The fewest elements a correlation is computed from.
pub(crate) const RELATED_MIN: usize = 32;
/// The correlation above which a candidate's values are "related" to the file's (a modified
/// tensor: trained, scaled, quantised). For 32 independent pairs, |r| ≥ 0.8 has a probability
/// below 1e-7 (t = 7.3 with 30 degrees of freedom), and the search confirms any candidate with a
/// whole build.
pub(crate) const RELATED_CORR: f64 = 0.8;

/// How close a candidate's elements are to the file's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Closeness {
    Unrelated,
    /// |correlation| ≥ [`RELATED_CORR`] over at least [`RELATED_MIN`] elements.
    Related,
    /// Every element within [`NEAR_ULP`] ulp, or within [`NEAR_SCALE_ULP`] ulp of the
    /// candidate's largest magnitude.
    Near,
    Exact,
}

/// The information an exactly equal element carries, in bits (its mantissa bits; for integer
/// dtypes a nominal 8, for bool 1).
pub(crate) fn element_bits(dtype: DType) -> u64 {
    match dtype {
        DType::Bool => 1,
        _ => dtype.digits().map_or(8, |d| u64::from(d - 1)),
    }
}

/// Element `i` as a double (integers exactly up to 2^53).
pub(crate) fn value(s: &Storage, i: usize) -> f64 {
    match s {
        Storage::F32(v) => f64::from(v[i]),
        Storage::F64(v) => v[i],
        Storage::F16(v) => f64::from(v[i].to_f32()),
        Storage::BF16(v) => f64::from(v[i].to_f32()),
        Storage::I64(v) => v[i] as f64,
        Storage::I32(v) => f64::from(v[i]),
        Storage::I16(v) => f64::from(v[i]),
        Storage::I8(v) => f64::from(v[i]),
        Storage::U8(v) => f64::from(v[i]),
        Storage::Bool(v) => f64::from(u8::from(v[i])),
        Storage::U16(v) => f64::from(v[i]),
        Storage::U32(v) => f64::from(v[i]),
        Storage::U64(v) => v[i] as f64,
    }
}

/// A bit pattern as a position on the number line: adjacent floats differ by 1; integers are
/// their values.
fn ordinal(dtype: DType, bits: u64) -> i128 {
    let sign_magnitude = |width: u32| {
        let sign = 1u64 << (width - 1);
        let mag = i128::from(bits & (sign - 1));
        if bits & sign != 0 {
            -mag
        } else {
            mag
        }
    };
    match dtype {
        DType::Float32 => sign_magnitude(32),
        DType::Float64 => sign_magnitude(64),
        DType::Float16 | DType::BFloat16 => sign_magnitude(16),
        DType::Int64 => i128::from(bits as i64),
        DType::Int32 => i128::from(bits as u32 as i32),
        DType::Int16 => i128::from(bits as u16 as i16),
        DType::Int8 => i128::from(bits as u8 as i8),
        _ => i128::from(bits),
    }
}

/// The distance of two elements in ulp (integers: their difference).
pub(crate) fn ulp(dtype: DType, a: u64, b: u64) -> u64 {
    let d = (ordinal(dtype, a) - ordinal(dtype, b)).unsigned_abs();
    u64::try_from(d).unwrap_or(u64::MAX)
}

/// Pearson correlation of the first `n` elements; `None` when either is constant or not finite.
pub(crate) fn correlation(a: &Storage, b: &Storage, n: usize) -> Option<f64> {
    if n < 2 {
        return None;
    }
    let (mut sa, mut sb) = (0.0, 0.0);
    for i in 0..n {
        sa += value(a, i);
        sb += value(b, i);
    }
    let (ma, mb) = (sa / n as f64, sb / n as f64);
    let (mut cab, mut caa, mut cbb) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (x, y) = (value(a, i) - ma, value(b, i) - mb);
        cab += x * y;
        caa += x * x;
        cbb += y * y;
    }
    let r = cab / (caa * cbb).sqrt();
    r.is_finite().then_some(r)
}

/// How close the first `n` elements of `cand` are to `file` (same dtype; `n` no more than
/// either holds).
pub(crate) fn closeness(file: &Storage, cand: &Storage, n: usize) -> Closeness {
    let dtype = file.dtype();
    if cand.dtype() != dtype || file.len() < n || cand.len() < n {
        return Closeness::Unrelated;
    }
    let tolerance = scale_tolerance(cand, n);
    let mut exact = true;
    for i in 0..n {
        let (a, b) = (file.bits_at(i), cand.bits_at(i));
        if a != b {
            exact = false;
            // NaN differences are not within any tolerance.
            let within = (value(file, i) - value(cand, i)).abs() <= tolerance;
            if ulp(dtype, a, b) > NEAR_ULP && !within {
                return if n >= RELATED_MIN
                    && correlation(file, cand, n).is_some_and(|r| r.abs() >= RELATED_CORR)
                {
                    Closeness::Related
                } else {
                    Closeness::Unrelated
                };
            }
        }
    }
    if exact {
        Closeness::Exact
    } else {
        Closeness::Near
    }
}

/// [`NEAR_SCALE_ULP`] ulp of the largest magnitude of the first `n` elements (0 for integer
/// dtypes and non-finite values).
fn scale_tolerance(s: &Storage, n: usize) -> f64 {
    let Some(digits) = s.dtype().digits().filter(|_| s.dtype().is_float()) else {
        return 0.0;
    };
    let largest = (0..n).map(|i| value(s, i).abs()).fold(0.0, f64::max);
    if !largest.is_finite() || largest == 0.0 {
        return 0.0;
    }
    // The ulp of `largest`: 2^(exponent - (digits - 1)).
    let ulp = 2f64.powi(largest.log2().floor() as i32 - (digits as i32 - 1));
    NEAR_SCALE_ULP * ulp
}

/// Whether `file` equals `init` up to the variant: every element bit-identical or near
/// ([`Closeness::Near`]), a float dtype.
pub(crate) fn near(file: &Tensor, init: &Tensor) -> bool {
    file.dtype().is_float()
        && file.numel() == init.numel()
        && closeness(file.storage(), init.storage(), file.numel()) >= Closeness::Near
}

/// Element-by-element differences of two tensors of one dtype and size.
pub(crate) fn diff(file: &Storage, init: &Storage) -> Diff {
    let dtype = file.dtype();
    let n = file.len().min(init.len());
    let mut d = Diff {
        numel: n as u64,
        differing: 0,
        max_ulp: 0,
        max_abs: 0.0,
    };
    for i in 0..n {
        let (a, b) = (file.bits_at(i), init.bits_at(i));
        if a != b {
            d.differing += 1;
            d.max_ulp = d.max_ulp.max(ulp(dtype, a, b));
            let abs = (value(file, i) - value(init, i)).abs();
            if abs > d.max_abs || abs.is_nan() {
                d.max_abs = abs;
            }
        }
    }
    d
}

/// `init * factor` in the tensor's dtype, as `w.mul_(factor)` rounds it (float32: the factor
/// rounded to float; float16/bfloat16: in float, then rounded).
fn scaled_bits(s: &Storage, i: usize, factor: f64) -> u64 {
    match s {
        Storage::F32(v) => u64::from((v[i] * factor as f32).to_bits()),
        Storage::F64(v) => (v[i] * factor).to_bits(),
        Storage::F16(v) => u64::from(f32_to_f16(v[i].to_f32() * factor as f32).to_bits()),
        Storage::BF16(v) => u64::from(f32_to_bf16(v[i].to_f32() * factor as f32).to_bits()),
        _ => s.bits_at(i),
    }
}

/// Whether every element is `init` times one factor, and the factor.
fn scale(file: &Storage, init: &Storage) -> Option<Modification> {
    let n = file.len();
    let mut ratios: Vec<f64> = (0..n)
        .filter(|&i| value(init, i) != 0.0)
        .map(|i| value(file, i) / value(init, i))
        .filter(|r| r.is_finite())
        .collect();
    if ratios.len() < 2 {
        return None;
    }
    ratios.sort_by(f64::total_cmp);
    let r = ratios[ratios.len() / 2];
    if r == 0.0 || (r - 1.0).abs() < 1e-6 {
        return None;
    }
    let tol = |x: f64| 1e-5 * x.abs().max(f64::MIN_POSITIVE);
    let fits = (0..n).all(|i| {
        let (f, x) = (value(file, i), value(init, i));
        (f - r * x).abs() <= tol(r * x) + if x == 0.0 { 0.0 } else { tol(f) }
    });
    if !fits {
        return None;
    }
    // The factor as Python would write it: the shortest decimal that gives every element.
    let candidates = [
        r,
        format!("{r:.6}").parse().unwrap_or(r),
        format!("{r:.3}").parse().unwrap_or(r),
        format!("{r:.1}").parse().unwrap_or(r),
    ];
    let exact_with = |c: f64| (0..n).all(|i| scaled_bits(init, i, c) == file.bits_at(i));
    let exact = candidates.iter().rev().copied().find(|&c| exact_with(c));
    Some(Modification::Scaled {
        factor: exact.unwrap_or(r),
        exact: exact.is_some(),
    })
}

fn distinct_at_most(s: &Storage, limit: usize) -> Option<usize> {
    let mut seen = HashSet::new();
    for i in 0..s.len() {
        seen.insert(s.bits_at(i));
        if seen.len() > limit {
            return None;
        }
    }
    Some(seen.len())
}

/// What a tensor that differs beyond the variant's last bits tells about its change; `None` when
/// its values are unrelated to the init (re-initialised). `tie` names a tensor of the file it
/// equals byte for byte.
pub(crate) fn modification(
    file: &Tensor,
    init: &Tensor,
    tie: Option<&str>,
) -> Option<Modification> {
    if let Some(of) = tie {
        return Some(Modification::Tie { of: of.to_string() });
    }
    let (fs, is) = (file.storage(), init.storage());
    let n = fs.len();
    let differing: Vec<usize> = (0..n).filter(|&i| fs.bits_at(i) != is.bits_at(i)).collect();
    if !differing.is_empty() && differing.iter().all(|&i| value(fs, i) == 0.0) {
        return Some(Modification::Pruned {
            zeroed: differing.len() as u64,
        });
    }
    if !file.dtype().is_float() {
        return None;
    }
    if let Some(m) = scale(fs, is) {
        return Some(m);
    }
    let r = correlation(fs, is, n);
    let related = match r {
        Some(r) if n >= 8 => r >= 0.5,
        _ => {
            // Too few elements for a correlation: close in value to the init's scale.
            let scale = (0..n).map(|i| value(is, i).abs()).fold(0.0, f64::max);
            scale > 0.0 && (0..n).all(|i| (value(fs, i) - value(is, i)).abs() <= 0.1 * scale)
        }
    };
    if !related {
        return None;
    }
    if let (Some(levels), None) = (distinct_at_most(fs, 256), distinct_at_most(is, 1024)) {
        return Some(Modification::Quantised {
            levels: levels as u64,
        });
    }
    Some(Modification::Perturbed {
        correlation: r.unwrap_or(f64::NAN),
    })
}

/// The init converted to `dtype` as `tensor.to(dtype)` rounds (round to nearest even), when
/// both are float dtypes.
pub(crate) fn cast(init: &Tensor, dtype: DType) -> Option<Tensor> {
    if !init.dtype().is_float() || !dtype.is_float() {
        return None;
    }
    let s = init.storage();
    let n = s.len();
    let data = match (s, dtype) {
        (Storage::F32(v), DType::Float16) => {
            Storage::F16(v.iter().map(|&x| f32_to_f16(x)).collect())
        }
        (Storage::F32(v), DType::BFloat16) => {
            Storage::BF16(v.iter().map(|&x| f32_to_bf16(x)).collect())
        }
        (_, DType::Float16) => Storage::F16((0..n).map(|i| f64_to_f16(value(s, i))).collect()),
        (_, DType::BFloat16) => Storage::BF16((0..n).map(|i| f64_to_bf16(value(s, i))).collect()),
        (_, DType::Float32) => Storage::F32((0..n).map(|i| value(s, i) as f32).collect()),
        (_, _) => Storage::F64((0..n).map(|i| value(s, i)).collect()),
    };
    Tensor::new(init.shape().to_vec(), data).ok()
}

/// A 2-D tensor transposed (contiguous).
pub(crate) fn transposed(t: &Tensor) -> Option<Tensor> {
    let [r, c] = t.shape() else {
        return None;
    };
    let (r, c) = (*r, *c);
    let s = t.storage();
    let idx = |k: usize| (k % r) * c + k / r;
    macro_rules! tr {
        ($v:expr, $variant:ident) => {
            Storage::$variant((0..r * c).map(|k| $v[idx(k)]).collect())
        };
    }
    let data = match s {
        Storage::F32(v) => tr!(v, F32),
        Storage::F64(v) => tr!(v, F64),
        Storage::F16(v) => tr!(v, F16),
        Storage::BF16(v) => tr!(v, BF16),
        _ => return None,
    };
    Tensor::new(vec![c, r], data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f32s(v: &[f32]) -> Tensor {
        Tensor::new(vec![v.len()], Storage::F32(v.to_vec())).unwrap()
    }

    #[test]
    fn ulps_cross_zero_and_count_adjacent_floats() {
        let one = u64::from(1f32.to_bits());
        assert_eq!(ulp(DType::Float32, one, one + 1), 1);
        assert_eq!(ulp(DType::Float32, 0, 0x8000_0000), 0); // +0 and -0
        let tiny = 1u64; // the smallest subnormal
        assert_eq!(ulp(DType::Float32, tiny, 0x8000_0001), 2);
        assert_eq!(ulp(DType::Int64, 5, (-3i64) as u64), 8);
        assert_eq!(ulp(DType::Float64, 0, u64::MAX), (1u64 << 63) - 1);
    }

    #[test]
    fn closeness_levels() {
        let a: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 64) as f32 - 32.0) / 64.0)
            .collect();
        let t = f32s(&a);
        assert_eq!(closeness(t.storage(), t.storage(), 64), Closeness::Exact);
        let near: Vec<f32> = a.iter().map(|x| f32::from_bits(x.to_bits() + 1)).collect();
        assert_eq!(
            closeness(t.storage(), f32s(&near).storage(), 64),
            Closeness::Near
        );
        let trained: Vec<f32> = a
            .iter()
            .enumerate()
            .map(|(i, x)| x + 0.01 * (i % 3) as f32)
            .collect();
        assert_eq!(
            closeness(t.storage(), f32s(&trained).storage(), 64),
            Closeness::Related
        );
        let other: Vec<f32> = (0..64)
            .map(|i| ((i * 11 % 64) as f32 - 32.0) / 64.0)
            .collect();
        assert_eq!(
            closeness(t.storage(), f32s(&other).storage(), 64),
            Closeness::Unrelated
        );
        // A short prefix is never "related".
        assert_eq!(
            closeness(t.storage(), f32s(&trained).storage(), 8),
            Closeness::Unrelated
        );
    }

    #[test]
    fn modifications_are_told_apart() {
        let a: Vec<f32> = (0..100)
            .map(|i| ((i * 37 % 100) as f32 - 50.0) / 123.0)
            .collect();
        let init = f32s(&a);
        let half: Vec<f32> = a.iter().map(|x| x * 0.5).collect();
        assert_eq!(
            modification(&f32s(&half), &init, None),
            Some(Modification::Scaled {
                factor: 0.5,
                exact: true
            })
        );
        let pruned: Vec<f32> = a
            .iter()
            .map(|&x| if x.abs() < 0.1 { 0.0 } else { x })
            .collect();
        assert!(matches!(
            modification(&f32s(&pruned), &init, None),
            Some(Modification::Pruned { .. })
        ));
        let quant: Vec<f32> = a.iter().map(|x| (x * 8.0).round() / 8.0).collect();
        assert!(matches!(
            modification(&f32s(&quant), &init, None),
            Some(Modification::Perturbed { .. } | Modification::Quantised { .. })
        ));
        let other: Vec<f32> = (0..100)
            .map(|i| ((i * 11 % 100) as f32 - 50.0) / 123.0)
            .collect();
        assert_eq!(modification(&f32s(&other), &init, None), None);
        assert_eq!(
            modification(&f32s(&other), &init, Some("w")),
            Some(Modification::Tie { of: "w".into() })
        );
    }

    #[test]
    fn casts_and_transposes() {
        let t = Tensor::new(vec![2, 3], Storage::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])).unwrap();
        let tt = transposed(&t).unwrap();
        assert_eq!(tt.shape(), [3, 2]);
        assert_eq!(tt.as_f32().unwrap(), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        let h = cast(&t, DType::Float16).unwrap();
        assert_eq!(h.dtype(), DType::Float16);
        assert_eq!(h.bits()[0], 0x3c00);
    }
}
