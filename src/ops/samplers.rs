//! The remaining CPU samplers: `randperm`, and (in [`ints`]) `randint`/`random_`.
//!
//! Mirrors: `aten/src/ATen/native/TensorFactories.cpp` (`randperm_out_cpu`,
//! `check_supported_max_int_with_precision`).

use half::{bf16, f16};

use super::not_implemented;
use crate::distributions::perm;
use crate::dtype::{f32_to_bf16, f32_to_f16, DType};
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::target::{Era, Target};
use crate::tensor::{Storage, Tensor};

/// Checks `randperm`'s `n` for `dtype` as PyTorch does, before anything is drawn.
///
/// Mirrors: `check_supported_max_int_with_precision` (`aten/src/ATen/native/TensorFactories.h`):
/// the largest value `n - 1` must convert to the dtype, and float dtypes must hold every integer
/// up to `n - 1` exactly (float16: n ≤ 2049, float32: n ≤ 2^24 + 1, float64: n ≤ 2^53 + 1).
/// bfloat16 has no such check: PyTorch accepts any `n` and rounds the indices.
fn check_randperm(n: i64, dtype: DType) -> Result<()> {
    const OP: &str = "randperm";
    if n < 0 {
        return Err(Error::arg(OP, format!("n must be non-negative, got {n}")));
    }
    let max = n.saturating_sub(1);
    let limit: Option<(i64, &str)> = match dtype {
        DType::Int8 => Some((
            i64::from(i8::MAX),
            "value cannot be converted to type int8_t",
        )),
        DType::UInt8 => Some((
            i64::from(u8::MAX),
            "value cannot be converted to type uint8_t",
        )),
        DType::Int16 => Some((
            i64::from(i16::MAX),
            "value cannot be converted to type int16_t",
        )),
        DType::Int32 => Some((
            i64::from(i32::MAX),
            "value cannot be converted to type int32_t",
        )),
        _ => None,
    };
    if let Some((lim, what)) = limit {
        if max > lim {
            return Err(Error::arg(OP, format!("n = {n}: {what} without overflow")));
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
    if dtype == DType::Bool {
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
/// integers; `bool`. Plus the allocation limit.
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
