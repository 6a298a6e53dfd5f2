//! rand and randn throughput (allocating a new tensor each time), float32 and float64, 2^20, 2^24
//! and 2^26 elements, both kernel variants.
//!
//! Group and parameter names are read by `tools/bench_compare.py` (groups `rand_f32`,
//! `randn_f32`, `rand_f64`, `randn_f64`;
//! function ids `default`, `avx2`; parameter = element count), which prints the ratios to PyTorch.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use torch_rng::{Capability, Context, DType, Torch};

fn bench(c: &mut Criterion) {
    for (group, dtype, normal) in [
        ("rand_f32", DType::Float32, false),
        ("randn_f32", DType::Float32, true),
        ("rand_f64", DType::Float64, false),
        ("randn_f64", DType::Float64, true),
    ] {
        let mut g = c.benchmark_group(group);
        for n in [1usize << 20, 1 << 24, 1 << 26] {
            g.throughput(Throughput::Elements(n as u64));
            g.sample_size(if n > 1 << 20 { 10 } else { 30 });
            if n > 1 << 20 {
                g.sampling_mode(criterion::SamplingMode::Flat);
            }
            for cap in [Capability::Default, Capability::Avx2] {
                let mut torch = Torch::new(Context::new(cap));
                g.bench_with_input(BenchmarkId::new(cap.name(), n), &n, |b, &n| {
                    let size = [n as i64];
                    b.iter(|| {
                        if normal {
                            torch.randn(&size, dtype)
                        } else {
                            torch.rand(&size, dtype)
                        }
                    });
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
