//! Tests of the samplers: known answers, draw counts and refusals.

use super::*;
use crate::context::Context;
use crate::generator::CpuGenerator;

fn t() -> Context {
    Context::default()
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
