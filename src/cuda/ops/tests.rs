//! Tests of the CUDA ops. Sources, by evidence (shared/reference/cuda-philox.md section 0):
//! * [VP] real CUDA outputs published in public repositories and docs, printed to 4 decimals:
//!   these tests compare to 4 decimals only, because that is all the evidence there is;
//! * [S]+[BIN] the spec's predicted exact values (its emulator, section 8);
//! * structural tests (offset accounting, mappings, error paths).
//!
//! Predictions of the spec's Python model over a wider grid are in `tests/cuda_model.rs`.

use super::*;

fn h200() -> DeviceProfile {
    DeviceProfile::h200()
}

const ERA: CudaEra = CudaEra::C4;

fn seeded(seed: u64) -> CudaGenerator {
    CudaGenerator::with_seed(seed)
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.as_f32().expect("a float32 tensor").to_vec()
}

/// `|got - want| <= 5e-5`, i.e. equal when printed to 4 decimals (both sides of a rounding
/// boundary allowed).
fn assert_4dp(got: &[f32], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            (f64::from(g) - w).abs() <= 5.000_1e-5,
            "{what}[{i}]: {g} vs published {w}"
        );
    }
}

// ------------------------------------------------------------------------------------------------
// [VP] published 4-decimal values (cuda-philox.md section 8): tests of the mapping to 4 decimals
// ------------------------------------------------------------------------------------------------

/// [VP] seed 0, `torch.rand(36)` on CUDA. 4 decimals only.
#[test]
fn vp_seed0_rand36_to_4_decimals() {
    let want = [
        0.3990, 0.5167, 0.0249, 0.9401, 0.9459, 0.7967, 0.4150, 0.8203, 0.2290, 0.9096, 0.1183,
        0.0752, 0.4092, 0.9601, 0.2093, 0.1940, 0.8909, 0.4387, 0.3570, 0.5454, 0.8299, 0.2099,
        0.7684, 0.4290, 0.2117, 0.6606, 0.1654, 0.4250, 0.9927, 0.6964, 0.2472, 0.7028, 0.7494,
        0.9303, 0.0494, 0.0750,
    ];
    let mut g = seeded(0);
    let t = rand(&mut g, &h200(), ERA, &[36], DType::Float32).unwrap();
    assert_4dp(&f32s(&t), &want, "rand(36)");
    assert_eq!(g.get_offset(), 4);
}

/// [VP] seed 0, `rand(10)` then `rand(10)`: the second call (offset 4, counter 1). 4 decimals.
#[test]
fn vp_seed0_second_rand10_to_4_decimals() {
    let want = [
        0.9722, 0.7910, 0.4690, 0.3300, 0.3345, 0.3783, 0.7640, 0.6405, 0.1103, 0.3594,
    ];
    let mut g = seeded(0);
    rand(&mut g, &h200(), ERA, &[10], DType::Float32).unwrap();
    let t = rand(&mut g, &h200(), ERA, &[10], DType::Float32).unwrap();
    assert_4dp(&f32s(&t), &want, "second rand(10)");
}

/// [VP] seed 0, `torch.randn(8, 8)`, first row. 4 decimals (the hardware sine is modelled).
#[test]
fn vp_seed0_randn_8x8_first_row_to_4_decimals() {
    let want = [
        -0.9247, -0.4253, -2.6438, 0.1452, -0.1209, -0.5797, -0.6229, -0.3284,
    ];
    let mut g = seeded(0);
    let t = randn(&mut g, &h200(), ERA, &[8, 8], DType::Float32).unwrap();
    assert_eq!(t.shape(), [8, 8]);
    assert_4dp(&f32s(&t)[..8], &want, "randn(8, 8)[0]");
}

/// [VP] seed 42, `torch.randn(19)`. 4 decimals.
#[test]
fn vp_seed42_randn19_to_4_decimals() {
    let want = [
        0.1940, 2.1614, -0.1721, 0.8491, -1.9244, 0.6530, -0.6494, -0.8175, 0.5280, -1.2753,
        -1.6621, -0.3033, -0.0926, 0.1992, -1.1204, 1.8577, -0.7145, 0.6881, 0.7968,
    ];
    let mut g = seeded(42);
    let t = randn(&mut g, &h200(), ERA, &[19], DType::Float32).unwrap();
    assert_4dp(&f32s(&t), &want, "randn(19)");
}

/// [VP] seed 42, `torch.rand(3, 4)`; `torch.cuda.manual_seed(1234); torch.randn(3)`. 4 decimals.
#[test]
fn vp_seed42_rand_3x4_and_seed1234_randn3_to_4_decimals() {
    let want = [
        0.6130, 0.0101, 0.3984, 0.0403, 0.1563, 0.4825, 0.7362, 0.4060, 0.5189, 0.2867, 0.2416,
        0.9228,
    ];
    let mut g = seeded(42);
    let t = rand(&mut g, &h200(), ERA, &[3, 4], DType::Float32).unwrap();
    assert_4dp(&f32s(&t), &want, "rand(3, 4)");
    let mut g = seeded(1234);
    let t = randn(&mut g, &h200(), ERA, &[3], DType::Float32).unwrap();
    assert_4dp(&f32s(&t), &[-1.6165, 0.5685, -0.5102], "randn(3)");
}

// ------------------------------------------------------------------------------------------------
// [S]+[BIN] the spec's predicted exact values (section 8)
// ------------------------------------------------------------------------------------------------

/// seed 0 `torch.rand(8)`: float32 and float16 bits.
#[test]
fn predicted_seed0_rand8_bits() {
    let mut g = seeded(0);
    let t = rand(&mut g, &h200(), ERA, &[8], DType::Float32).unwrap();
    assert_eq!(
        t.bits(),
        [
            0x3ecc_4fd2,
            0x3f04_4516,
            0x3ccc_3acf,
            0x3f70_a90b,
            0x3f72_237f,
            0x3f4b_f694,
            0x3ed4_7cbb,
            0x3f51_fc5c
        ]
    );
    let mut g = seeded(0);
    let h = rand(&mut g, &h200(), ERA, &[8], DType::Float16).unwrap();
    assert_eq!(
        h.bits(),
        [0x3662, 0x3822, 0x2662, 0x3b85, 0x3b91, 0x3a60, 0x36a4, 0x3a90]
    );
}

/// seed 0 `torch.rand(4, dtype=float64)`.
#[test]
fn predicted_seed0_rand4_f64() {
    let mut g = seeded(0);
    let t = rand(&mut g, &h200(), ERA, &[4], DType::Float64).unwrap();
    let want: [f64; 4] = [
        0.880_520_268_400_938_3,
        0.939_657_839_052_128,
        0.712_927_306_549_956_6,
        0.067_757_680_379_450_46,
    ];
    let got = t.as_f64().unwrap();
    for (a, b) in got.iter().zip(want) {
        assert_eq!(a.to_bits(), b.to_bits(), "{a} vs {b}");
    }
}

/// seed 0 `randint(0, 10, (8,))`, `randint(0, 2**40, (4,))`, `randint(0, 3e9, (4,))` (2.7+ and
/// before).
#[test]
fn predicted_seed0_randint() {
    let p = h200();
    let mut g = seeded(0);
    let t = randint(&mut g, &p, ERA, 0, 10, &[8], DType::Int64).unwrap();
    assert_eq!(t.bits(), [1, 7, 1, 2, 3, 4, 3, 3]);
    let mut g = seeded(0);
    let t = randint(&mut g, &p, ERA, 0, 1 << 40, &[4], DType::Int64).unwrap();
    assert_eq!(
        t.bits(),
        [
            918_609_839_501,
            970_403_442_346,
            514_163_107_673,
            807_744_870_072
        ]
    );
    let mut g = seeded(0);
    let t = randint(
        &mut g,
        &p,
        CudaEra::C4,
        0,
        3_000_000_000,
        &[4],
        DType::Int64,
    )
    .unwrap();
    assert_eq!(
        t.bits(),
        [267_848_589, 547_148_458, 1_619_952_985, 27_953_336]
    );
    let mut g = seeded(0);
    let t = randint(
        &mut g,
        &p,
        CudaEra::C3,
        0,
        3_000_000_000,
        &[4],
        DType::Int64,
    )
    .unwrap();
    assert_eq!(
        t.bits(),
        [1_713_891_541, 2_219_120_097, 107_075_191, 1_037_610_172]
    );
}

/// seed 0, float32 n = 8: `bernoulli_(0.3)`, `torch.bernoulli(full(0.3))` (offset 12),
/// `F.dropout(ones(8), 0.1)` (VEC 4: element 5 dropped, offset 4).
#[test]
fn predicted_seed0_bernoulli_and_dropout() {
    let p = h200();
    let mut g = seeded(0);
    let v = View::contiguous(&[8], DType::Float32);
    let t = bernoulli_scalar_(&mut g, &p, ERA, &v, 0.3).unwrap();
    assert_eq!(f32s(&t), [0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    let mut g = seeded(0);
    let probs = Tensor::new(vec![8], Storage::F32(vec![0.3; 8])).unwrap();
    let t = bernoulli(&mut g, ERA, &probs).unwrap();
    assert_eq!(f32s(&t), [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
    assert_eq!(g.get_offset(), 12);
    let mut g = seeded(0);
    let x = Tensor::new(vec![8], Storage::F32(vec![1.0; 8])).unwrap();
    let y = dropout(
        &mut g,
        &p,
        ERA,
        &x,
        &DropoutInput::default(),
        0.1,
        (true, false),
    )
    .unwrap();
    let ys = f32s(&y);
    for (i, &v) in ys.iter().enumerate() {
        let want = if i == 5 { 0.0 } else { 1.111_111_2 };
        assert_eq!(v.to_bits(), f32::to_bits(want), "element {i}");
    }
    assert_eq!(g.get_offset(), 4);
}

/// seed 0 `torch.randperm(10)`: 2.7+ and before (offset 16 in both).
#[test]
fn predicted_seed0_randperm10() {
    let p = h200();
    for (era, want) in [
        (CudaEra::C4, [0u64, 1, 9, 5, 7, 8, 6, 3, 4, 2]),
        (CudaEra::C3, [5, 9, 8, 2, 3, 0, 4, 6, 7, 1]),
    ] {
        let mut g = seeded(0);
        let t = randperm(&mut g, &p, era, 10, DType::Int64).unwrap();
        assert_eq!(t.bits(), want, "{era}");
        assert_eq!(g.get_offset(), 16);
    }
}

/// seed 42 `torch.randn(4)` float32 bits with the hardware sine modelled ("may differ in the
/// last bits" on a GPU: a model-vs-model check).
#[test]
fn predicted_seed42_randn4_modelled_bits() {
    let mut g = seeded(42);
    let t = randn(&mut g, &h200(), ERA, &[4], DType::Float32).unwrap();
    assert_eq!(
        t.bits(),
        [0x3e46_aced, 0x400a_53f2, 0xbe30_2de9, 0x3f59_5c0a]
    );
}

// ------------------------------------------------------------------------------------------------
// structure
// ------------------------------------------------------------------------------------------------

/// Below one wave every element uses component 0 of its own thread's first block, whatever the
/// GPU; above it the profile matters.
#[test]
fn small_tensors_are_gpu_independent() {
    let a = rand(&mut seeded(3), &h200(), ERA, &[5000], DType::Float32).unwrap();
    let b = rand(
        &mut seeded(3),
        &DeviceProfile::t4(),
        ERA,
        &[5000],
        DType::Float32,
    )
    .unwrap();
    assert_eq!(a, b);
    let n = DeviceProfile::t4().max_threads() as i64 + 1;
    let a = rand(&mut seeded(3), &h200(), ERA, &[n], DType::Float32).unwrap();
    let b = rand(
        &mut seeded(3),
        &DeviceProfile::t4(),
        ERA,
        &[n],
        DType::Float32,
    )
    .unwrap();
    assert_eq!(a.bits()[..40_960], b.bits()[..40_960]);
    assert_ne!(a.bits()[40_960], b.bits()[40_960]);
}

#[test]
fn element_mapping_past_one_wave() {
    // T4: T = 40960; rand(n) with n = 4T + 5 uses 2 iterations; element 4T + 3 is iteration 1,
    // thread 3, component 0.
    let p = DeviceProfile::t4();
    let t = p.max_threads();
    let n = 4 * t + 5;
    let out = rand(&mut seeded(11), &p, ERA, &[n as i64], DType::Float32).unwrap();
    let bits = out.bits();
    for &li in &[0u64, 7, t - 1, t, 2 * t + 9, 4 * t - 1, 4 * t, 4 * t + 4] {
        let k = li / (4 * t);
        let r = li % (4 * t);
        let w = philox_block(11, k, r % t)[(r / t) as usize];
        let u = uniform_f32(w);
        let u = if u == 1.0 { 0.0 } else { u };
        assert_eq!(bits[li as usize], u64::from(u.to_bits()), "li {li}");
    }
}

type BoxedOp = Box<dyn Fn(&mut CudaGenerator) -> Result<Tensor>>;

#[test]
fn offsets_per_op() {
    let p = h200();
    let t = p.max_threads() as i64;
    let cases: Vec<(&str, BoxedOp, u64)> = vec![
        (
            "rand(10^6)",
            Box::new(|g| rand(g, &h200(), ERA, &[1_000_000], DType::Float32)),
            4,
        ),
        (
            "rand(5T)",
            Box::new(move |g| rand(g, &h200(), ERA, &[5 * t], DType::Float32)),
            8,
        ),
        (
            "rand(5T) f64",
            Box::new(move |g| rand(g, &h200(), ERA, &[5 * t], DType::Float64)),
            12,
        ),
        (
            "randint 2^40",
            Box::new(move |g| randint(g, &h200(), ERA, 0, 1 << 40, &[5 * t], DType::Int64)),
            12,
        ),
        (
            "randint 2^40 2.0",
            Box::new(move |g| randint(g, &h200(), CudaEra::C0, 0, 1 << 40, &[5 * t], DType::Int64)),
            8,
        ),
        (
            "randn(0)",
            Box::new(|g| randn(g, &h200(), ERA, &[0], DType::Float32)),
            0,
        ),
        (
            "randperm(10)",
            Box::new(|g| randperm(g, &h200(), ERA, 10, DType::Int64)),
            16,
        ),
        (
            "randperm(0)",
            Box::new(|g| randperm(g, &h200(), ERA, 0, DType::Int64)),
            0,
        ),
    ];
    for (name, f, want) in cases {
        let mut g = seeded(5);
        f(&mut g).unwrap();
        assert_eq!(g.get_offset(), want, "{name}");
    }
}

/// 2.0 reverses the bounds on the draw: float16 `rand` keeps 1.0 where 2.1+ gives 0.
#[test]
fn uniform_reversal_by_era() {
    // find a seed/element whose float32 uniform rounds to 1.0 in half but is below 1
    let p = h200();
    let n = 1 << 14;
    let mut found = false;
    for seed in 0..200u64 {
        let a = rand(&mut seeded(seed), &p, CudaEra::C0, &[n], DType::Float16).unwrap();
        let b = rand(&mut seeded(seed), &p, CudaEra::C4, &[n], DType::Float16).unwrap();
        let (ab, bb) = (a.bits(), b.bits());
        if let Some(i) = ab.iter().position(|&x| x == 0x3c00) {
            assert_eq!(bb[i], 0, "seed {seed} element {i}");
            found = true;
            break;
        }
        assert!(!bb.contains(&0x3c00));
    }
    assert!(found);
}

#[test]
fn uniform_bounds_and_value_reversal() {
    let p = h200();
    let v = View::contiguous(&[1000], DType::Float32);
    let t = uniform_(&mut seeded(1), &p, ERA, &v, -3.0, 5.0).unwrap();
    assert!(f32s(&t).iter().all(|&x| (-3.0..5.0).contains(&x)));
    // argument checks are the CPU op's
    assert!(uniform_(&mut seeded(1), &p, ERA, &v, 1.0, 0.0).is_err());
    let vi = View::contiguous(&[3], DType::Int64);
    assert!(uniform_(&mut seeded(1), &p, ERA, &vi, 0.0, 1.0).is_err());
    let mut g = seeded(1);
    assert!(normal_(&mut g, &p, ERA, &v, 0.0, -1.0).is_err());
    assert!(normal_(&mut g, &p, ERA, &vi, 0.0, 1.0).is_err());
    assert_eq!(g.get_offset(), 0, "rejected calls reserve nothing");
}

#[test]
fn normal_mean_std_is_one_fma() {
    let p = h200();
    let v = View::contiguous(&[64], DType::Float32);
    let z = normal_(&mut seeded(4), &p, ERA, &v, 0.0, 1.0).unwrap();
    let y = normal_(&mut seeded(4), &p, ERA, &v, 2.0, 0.5).unwrap();
    for (a, b) in f32s(&z).iter().zip(f32s(&y)) {
        assert_eq!(a.mul_add(0.5, 2.0).to_bits(), b.to_bits());
    }
    // -0 from u = 1 becomes +0 through fma(z, 1, 0): no -0 ever appears
    assert!(f32s(&z).iter().all(|x| x.to_bits() != 0x8000_0000));
}

#[test]
fn permuted_targets_fill_in_memory_order() {
    let p = h200();
    let contiguous = rand(&mut seeded(2), &p, ERA, &[3, 4], DType::Float32).unwrap();
    let v = View::permuted(&[3, 4], DType::Float32, &[1, 0]).unwrap();
    let t = uniform_(&mut seeded(2), &p, ERA, &v, 0.0, 1.0).unwrap();
    assert_eq!(t.shape(), [4, 3]);
    let (c, tt) = (contiguous.bits(), t.bits());
    for i in 0..3 {
        for j in 0..4 {
            assert_eq!(tt[j * 3 + i], c[i * 4 + j]);
        }
    }
}

#[test]
fn random_paths() {
    let p = h200();
    // random_() on int64 uses two words per element: x << 32 | y mod 2^63
    let v = View::contiguous(&[2], DType::Int64);
    let t = random_(&mut seeded(0), &p, ERA, &v).unwrap();
    let w0 = philox_block(0, 0, 0);
    let w1 = philox_block(0, 0, 1);
    let want0 = ((u64::from(w0[0]) << 32) | u64::from(w0[1])) % (1 << 63);
    let want1 = ((u64::from(w1[0]) << 32) | u64::from(w1[1])) % (1 << 63);
    assert_eq!(t.bits(), [want0, want1]);
    // random_() on int32: one word mod 2^31
    let v = View::contiguous(&[1], DType::Int32);
    let t = random_(&mut seeded(0), &p, ERA, &v).unwrap();
    assert_eq!(t.bits(), [u64::from(w0[0] % (1 << 31))]);
    // full 64-bit range
    let v = View::contiguous(&[1], DType::Int64);
    let t = random_from_to(&mut seeded(0), &p, ERA, &v, i64::MIN, None).unwrap();
    assert_eq!(t.bits(), [(u64::from(w0[0]) << 32) | u64::from(w0[1])]);
    let vh = View::contiguous(&[1], DType::Float16);
    assert!(random_from_to(&mut seeded(0), &p, ERA, &vh, i64::MIN, None).is_err());
    let vu = View::contiguous(&[1], DType::UInt32);
    assert!(random_(&mut seeded(0), &p, ERA, &vu).is_err());
    assert!(random_(&mut seeded(0), &p, CudaEra::C0, &vu).is_err());
    assert!(random_from_to(&mut seeded(0), &p, ERA, &vu, 0, Some(10)).is_ok());
    // bool and the narrow types
    let vb = View::contiguous(&[4], DType::Bool);
    let t = random_(&mut seeded(0), &p, ERA, &vb).unwrap();
    let want: Vec<u64> = (0..4)
        .map(|tid| u64::from(philox_block(0, 0, tid)[0] & 1))
        .collect();
    assert_eq!(t.bits(), want);
}

#[test]
fn bernoulli_tensor_rules() {
    let p = h200();
    let _ = p;
    let v = View::contiguous(&[2, 3], DType::Float32);
    // broadcast p over rows; logical order; 12 words whatever the size
    let probs = Tensor::new(vec![3], Storage::F32(vec![0.0, 1.0, 0.5])).unwrap();
    let mut g = seeded(9);
    let t = bernoulli_tensor_(&mut g, ERA, &v, &probs).unwrap();
    let b = f32s(&t);
    assert_eq!((b[0], b[1], b[3], b[4]), (0.0, 1.0, 0.0, 1.0));
    assert_eq!(g.get_offset(), 12);
    // an integer p is rejected after the reservation, as PyTorch does
    let ip = Tensor::new(vec![3], Storage::I64(vec![0, 1, 0])).unwrap();
    let mut g = seeded(9);
    assert!(bernoulli_tensor_(&mut g, ERA, &v, &ip).is_err());
    assert_eq!(g.get_offset(), 12);
    let bad = Tensor::new(vec![3], Storage::F32(vec![0.0, 1.5, 0.5])).unwrap();
    assert!(bernoulli_tensor_(&mut seeded(9), ERA, &v, &bad).is_err());
    let wrong = Tensor::new(vec![2], Storage::F32(vec![0.0, 1.0])).unwrap();
    assert!(bernoulli_tensor_(&mut seeded(9), ERA, &v, &wrong).is_err());
    // empty target: nothing reserved
    let mut g = seeded(9);
    let e = View::contiguous(&[0, 3], DType::Float32);
    assert_eq!(bernoulli_tensor_(&mut g, ERA, &e, &ip).unwrap().numel(), 0);
    assert_eq!(g.get_offset(), 0);
    // scalar p
    let mut g = seeded(9);
    assert!(bernoulli_scalar_(&mut g, &h200(), ERA, &v, 1.5).is_err());
    let vu = View::contiguous(&[1], DType::UInt16);
    assert!(bernoulli_scalar_(&mut g, &h200(), ERA, &vu, 0.5).is_err());
}

#[test]
fn dropout_vector_width() {
    let d = DropoutInput::default();
    assert_eq!(dropout_vec(&d, 4, 1000, CudaEra::C4), 4);
    assert_eq!(dropout_vec(&d, 2, 1000, CudaEra::C4), 8);
    assert_eq!(dropout_vec(&d, 2, 1000, CudaEra::C2), 4);
    assert_eq!(dropout_vec(&d, 8, 1000, CudaEra::C4), 2);
    assert_eq!(dropout_vec(&d, 8, 1000, CudaEra::C2), 4);
    assert_eq!(dropout_vec(&d, 4, 1002, CudaEra::C4), 2);
    assert_eq!(dropout_vec(&d, 4, 1001, CudaEra::C4), 1);
    let offset = DropoutInput {
        align_bytes: 8,
        ..DropoutInput::default()
    };
    assert_eq!(dropout_vec(&offset, 4, 1000, CudaEra::C4), 2);
    let slice = DropoutInput {
        dense: false,
        ..DropoutInput::default()
    };
    assert_eq!(dropout_vec(&slice, 4, 1000, CudaEra::C4), 1);
}

#[test]
fn dropout_mappings() {
    let p = h200();
    let n = 1000usize;
    let x = Tensor::new(vec![n], Storage::F32(vec![-1.5; n])).unwrap();
    // VEC 4 == grid-stride component j of thread li for li < T (T > n here): same mask as
    // bernoulli on word 0... no: VEC 4 takes element e from call e/4 of thread e/4 (component e%4)
    let mut g = seeded(1);
    let (_, m4) = native_dropout(&mut g, &p, ERA, &x, &DropoutInput::default(), 0.5, true).unwrap();
    let keep: Vec<bool> = m4.bits().iter().map(|&b| b != 0).collect();
    for (e, &k) in keep.iter().enumerate() {
        let w = philox_block(1, 0, (e / 4) as u64)[e % 4];
        assert_eq!(k, uniform_f32(w) < 0.5, "vec4 element {e}");
    }
    // VEC 1 (n odd): grid-stride, component 0 of thread e
    let x1 = Tensor::new(vec![n + 1], Storage::F32(vec![2.0; n + 1])).unwrap();
    let (y1, m1) = native_dropout(
        &mut seeded(1),
        &p,
        ERA,
        &x1,
        &DropoutInput::default(),
        0.5,
        true,
    )
    .unwrap();
    for e in 0..=n {
        let w = philox_block(1, 0, e as u64)[0];
        let k = uniform_f32(w) < 0.5;
        assert_eq!(m1.bits()[e] != 0, k, "vec1 element {e}");
        assert_eq!(f32s(&y1)[e], if k { 4.0 } else { 0.0 });
    }
    // VEC 2 (float64): only x, y of a fresh call per iteration
    let x2 = Tensor::new(vec![6], Storage::F64(vec![1.0; 6])).unwrap();
    let (_, m2) = native_dropout(
        &mut seeded(1),
        &p,
        ERA,
        &x2,
        &DropoutInput::default(),
        0.5,
        true,
    )
    .unwrap();
    for e in 0..6 {
        let w = philox_block(1, 0, (e / 2) as u64)[e % 2];
        assert_eq!(
            m2.bits()[e] != 0,
            f64::from(uniform_f32(w)) < 0.5,
            "vec2 element {e}"
        );
    }
    // VEC 8 (float16, 2.6+): element e uses call (e%8)/4 of thread e/8
    let x8 = Tensor::new(vec![16], Storage::F16(vec![half::f16::ONE; 16])).unwrap();
    let (_, m8) = native_dropout(
        &mut seeded(1),
        &p,
        ERA,
        &x8,
        &DropoutInput::default(),
        0.5,
        true,
    )
    .unwrap();
    for e in 0..16 {
        let w = philox_block(1, ((e % 8) / 4) as u64, (e / 8) as u64)[e % 4];
        assert_eq!(m8.bits()[e] != 0, uniform_f32(w) < 0.5, "vec8 element {e}");
    }
    // dropped negative inputs give -0.0
    let (y, m) = native_dropout(
        &mut seeded(1),
        &p,
        ERA,
        &x,
        &DropoutInput::default(),
        0.5,
        true,
    )
    .unwrap();
    let i = m.bits().iter().position(|&b| b == 0).unwrap();
    assert_eq!(f32s(&y)[i].to_bits(), 0x8000_0000);
}

#[test]
fn dropout_shortcuts_draw_nothing() {
    let p = h200();
    let x = Tensor::new(vec![4], Storage::F32(vec![1.0, -2.0, f32::INFINITY, 3.0])).unwrap();
    let d = DropoutInput::default();
    let mut g = seeded(3);
    assert_eq!(
        dropout(&mut g, &p, ERA, &x, &d, 0.0, (true, false)).unwrap(),
        x
    );
    assert_eq!(
        dropout(&mut g, &p, ERA, &x, &d, 0.5, (false, false)).unwrap(),
        x
    );
    let z = dropout(&mut g, &p, ERA, &x, &d, 1.0, (true, false)).unwrap();
    assert_eq!(z.bits()[1], 0x8000_0000);
    assert!(f32s(&z)[2].is_nan());
    let (o, m) = native_dropout(&mut g, &p, ERA, &x, &d, 0.3, false).unwrap();
    assert_eq!((o, m.bits()), (x.clone(), vec![1, 1, 1, 1]));
    assert_eq!(g.get_offset(), 0);
    assert!(dropout(&mut g, &p, ERA, &x, &d, 1.5, (true, false)).is_err());
    // an integer input fails after the reservation
    let xi = Tensor::new(vec![4], Storage::I64(vec![1; 4])).unwrap();
    assert!(native_dropout(&mut g, &p, ERA, &xi, &d, 0.5, true).is_err());
    assert_eq!(g.get_offset(), 4);
}

#[test]
fn dropout_inplace_is_the_bernoulli_path() {
    let p = h200();
    let x = Tensor::new(vec![10], Storage::F32(vec![3.0; 10])).unwrap();
    let d = DropoutInput::default();
    let y = dropout(&mut seeded(8), &p, ERA, &x, &d, 0.25, (true, true)).unwrap();
    let v = View::contiguous(&[10], DType::Float32);
    let noise = bernoulli_scalar_(&mut seeded(8), &p, ERA, &v, 0.75).unwrap();
    for (a, m) in f32s(&y).iter().zip(f32s(&noise)) {
        assert_eq!(a.to_bits(), (3.0 * (m * (1.0f32 / 0.75))).to_bits());
    }
}

#[test]
fn randperm_rules() {
    let p = h200();
    for n in [1i64, 2, 3, 17, 1000, 40_000] {
        let t = randperm(&mut seeded(n as u64), &p, ERA, n, DType::Int64).unwrap();
        let mut b = t.bits();
        b.sort_unstable();
        assert_eq!(b, (0..n as u64).collect::<Vec<_>>(), "n {n}");
    }
    assert_eq!(randperm_bits(10), 9);
    assert_eq!(randperm_bits(1000), 23);
    assert_eq!(randperm_bits(30_083), 32);
    assert_eq!(randperm_bits(30_084), 33);
    assert_eq!(randperm_bits(100_000), 36);
    let mut g = seeded(0);
    assert!(randperm(&mut g, &p, ERA, -1, DType::Int64).is_err());
    assert_eq!(g.get_offset(), 0);
    assert!(randperm(&mut g, &p, ERA, 5, DType::BFloat16).is_err());
    assert_eq!(
        g.get_offset(),
        4,
        "the keys were drawn before the dtype failed"
    );
    let h = randperm(&mut seeded(0), &p, ERA, 10, DType::Float16).unwrap();
    let i = randperm(&mut seeded(0), &p, ERA, 10, DType::Int64).unwrap();
    let hv: Vec<u64> = h
        .bits()
        .iter()
        .map(|&b| f16_to_f32(half::f16::from_bits(b as u16)) as u64)
        .collect();
    assert_eq!(hv, i.bits());
}

#[test]
fn continuous_distributions() {
    let p = h200();
    let v = View::contiguous(&[4096], DType::Float32);
    let e = exponential_(&mut seeded(1), &p, ERA, &v, 2.0).unwrap();
    assert!(f32s(&e).iter().all(|&x| x > 0.0 && x.is_finite()));
    let c = cauchy_(&mut seeded(1), &p, ERA, &v, 0.0, 1.0).unwrap();
    assert!(f32s(&c).iter().all(|x| x.is_finite()));
    let l = log_normal_(&mut seeded(1), &p, ERA, &v, 0.0, 1.0).unwrap();
    assert!(f32s(&l).iter().all(|&x| x > 0.0));
    let vi = View::contiguous(&[4096], DType::Int64);
    let gm = geometric_(&mut seeded(1), &p, ERA, &vi, 0.3).unwrap();
    assert!(gm.bits().iter().all(|x| (1..200).contains(x)));
    // float64 paths: two values per block
    let vd = View::contiguous(&[8], DType::Float64);
    let mut g = seeded(1);
    let ed = exponential_(&mut g, &p, ERA, &vd, 1.0).unwrap();
    let u = uniform2_double(philox_block(1, 0, 0))[0];
    assert_eq!(
        ed.as_f64().unwrap()[0].to_bits(),
        ((-1.0 / 1.0) * nv_log(u)).to_bits()
    );
    // checks
    assert!(exponential_(&mut g, &p, ERA, &v, 0.0).is_err());
    assert!(exponential_(&mut g, &p, ERA, &vi, 1.0).is_err());
    assert!(geometric_(&mut g, &p, ERA, &vi, 1.0).is_err());
    let vb = View::contiguous(&[2], DType::Bool);
    assert!(geometric_(&mut g, &p, ERA, &vb, 0.5).is_err());
    assert!(cauchy_(&mut g, &p, ERA, &vi, 0.0, 1.0).is_err());
    assert!(log_normal_(&mut g, &p, ERA, &v, 0.0, 0.0).is_err());
    let empty = View::contiguous(&[0], DType::Int64);
    let mut g = seeded(1);
    assert!(exponential_(&mut g, &p, ERA, &empty, 1.0).is_ok());
    assert!(cauchy_(&mut g, &p, ERA, &empty, 0.0, 1.0).is_err());
    assert_eq!(g.get_offset(), 0);
}

#[test]
fn dropout_layouts() {
    let p = h200();
    let x = Tensor::new(vec![3, 4], Storage::F32(vec![1.0; 12])).unwrap();
    let bad = DropoutInput {
        perm: Some(vec![0, 0]),
        ..DropoutInput::default()
    };
    assert!(native_dropout(&mut seeded(1), &p, ERA, &x, &bad, 0.5, true).is_err());
    assert!(dropout(&mut seeded(1), &p, ERA, &x, &bad, 0.5, (true, true)).is_err());
    // A dense permuted input (storage 4 x 3, x = storage.permute(1, 0)) is processed in memory
    // order by the VEC 4 kernel: logical (i, j) sits at memory j * 3 + i.
    let perm = DropoutInput {
        perm: Some(vec![1, 0]),
        ..DropoutInput::default()
    };
    let (_, m) = native_dropout(&mut seeded(1), &p, ERA, &x, &perm, 0.5, true).unwrap();
    for i in 0..3 {
        for j in 0..4 {
            let e = j * 3 + i;
            let w = philox_block(1, 0, (e / 4) as u64)[e % 4];
            assert_eq!(m.bits()[i * 4 + j] != 0, uniform_f32(w) < 0.5, "({i}, {j})");
        }
    }
    // A non-dense input runs unvectorised in logical order: element e from thread e.
    let slice = DropoutInput {
        dense: false,
        ..DropoutInput::default()
    };
    let (_, m) = native_dropout(&mut seeded(1), &p, ERA, &x, &slice, 0.5, true).unwrap();
    for e in 0..12 {
        let w = philox_block(1, 0, e as u64)[0];
        assert_eq!(m.bits()[e] != 0, uniform_f32(w) < 0.5, "element {e}");
    }
}

#[test]
fn plan_rejects_other_unrolls() {
    let mut g = seeded(1);
    let rules = ERA.rules();
    assert!(crate::cuda::launch::plan_nullary(&mut g, &h200(), rules, 10, 4, 3).is_err());
    assert!(crate::cuda::launch::plan_nullary(&mut g, &h200(), rules, 10, 4, 0).is_err());
    assert_eq!(g.get_offset(), 0);
    assert_eq!(crate::cuda::launch::counter_offset(&h200(), 0, 4), 0);
}
