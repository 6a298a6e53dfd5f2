//! The random kernels in place: mt19937 throughput, `uniform_` and `normal_` on existing float32
//! and float64 tensors of 2^20, 2^24 and 2^26 elements, both kernel variants.
//!
//! Groups: `engine_u32` (`Mt19937::fill_u32` into a 2^20-word buffer; `CpuGenerator::random` one
//! word at a time; function id = method), `engine_advance` (one jump of 2^40 words, and one
//! precomputed jump of 2^20 words), `uniform_f32_inplace`, `uniform_f64_inplace`,
//! `normal_f32_inplace`, `normal_f64_inplace` (function id = variant `default` / `avx2`,
//! parameter = element count: 2^20, 2^24, 2^26), and `uniform_f32_inplace_threads`,
//! `normal_f32_inplace_threads` (every core, 2^24 and 2^26). Run `TORCH_RNG_LANES=scalar|avx2` to
//! cap the SIMD route.

use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use torch_rng::{Capability, Context, CpuGenerator, DType, Mt19937, Mt19937Jump, Tensor, Torch};

fn engine(c: &mut Criterion) {
    let mut g = c.benchmark_group("engine_u32");
    let n = 1usize << 20;
    g.throughput(Throughput::Elements(n as u64));
    let mut e = Mt19937::new(0);
    let mut buf = vec![0u32; n];
    g.bench_function(BenchmarkId::new("fill_u32", n), |b| {
        b.iter(|| e.fill_u32(&mut buf));
    });
    let mut gen = CpuGenerator::with_seed(0);
    g.bench_function(BenchmarkId::new("random", n), |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for _ in 0..n {
                acc ^= gen.random();
            }
            acc
        });
    });
    g.finish();
    let mut g = c.benchmark_group("engine_advance");
    g.sample_size(20);
    g.bench_function("advance_2p40", |b| b.iter(|| e.advance(1 << 40)));
    let jump = Mt19937Jump::new(1 << 20);
    g.bench_function("jump_precomputed_2p20", |b| b.iter(|| e.jump(&jump)));
    g.finish();
}

/// `uniform_` or `normal_` (`normal`) in place on `dtype` tensors of each size in `sizes`, both
/// variants, on `threads` threads (0: every core).
fn in_place(
    c: &mut Criterion,
    group: &str,
    (dtype, normal): (DType, bool),
    sizes: &[usize],
    threads: usize,
) {
    let mut g = c.benchmark_group(group);
    for &n in sizes {
        g.throughput(Throughput::Elements(n as u64));
        g.sample_size(if n > 1 << 20 { 10 } else { 30 });
        // One call per sample at the large sizes (a 2^26 float64 normal_ takes a second).
        g.sampling_mode(if n > 1 << 20 {
            SamplingMode::Flat
        } else {
            SamplingMode::Auto
        });
        for cap in [Capability::Default, Capability::Avx2] {
            let mut torch = Torch::new(Context::new(cap).with_threads(threads));
            let mut t = Tensor::zeros(&[n as i64], dtype).expect("size");
            g.bench_with_input(BenchmarkId::new(cap.name(), n), &n, |b, _| {
                b.iter(|| {
                    if normal {
                        torch.normal_(&mut t, 0.0, 1.0)
                    } else {
                        torch.uniform_(&mut t, 0.0, 1.0)
                    }
                });
            });
        }
    }
    g.finish();
}

fn kernels(c: &mut Criterion) {
    for (group, kind) in [
        ("uniform_f32_inplace", (DType::Float32, false)),
        ("uniform_f64_inplace", (DType::Float64, false)),
        ("normal_f32_inplace", (DType::Float32, true)),
        ("normal_f64_inplace", (DType::Float64, true)),
    ] {
        in_place(c, group, kind, &[1 << 20, 1 << 24, 1 << 26], 1);
    }
}

/// `uniform_` and `normal_` float32 in place on every core (`Context::with_threads(0)`), the
/// same bits as one thread: `tools/bench_compare.py` sets them against PyTorch on one thread.
fn threaded(c: &mut Criterion) {
    for (group, normal) in [
        ("uniform_f32_inplace_threads", false),
        ("normal_f32_inplace_threads", true),
    ] {
        in_place(c, group, (DType::Float32, normal), &[1 << 24, 1 << 26], 0);
    }
}

criterion_group!(benches, engine, kernels, threaded);
criterion_main!(benches);
