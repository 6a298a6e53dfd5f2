//! rand and randn throughput, float32, 2^20 and 2^24 elements, both kernel variants.
//!
//! Group and parameter names are read by `tools/bench_compare.py` (groups `rand_f32`, `randn_f32`;
//! function ids `default`, `avx2`; parameter = element count), which prints the ratios to PyTorch.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use torch_rng::{ops, Capability, Context, CpuGenerator, DType};

fn bench(c: &mut Criterion) {
    for (group, normal) in [("rand_f32", false), ("randn_f32", true)] {
        let mut g = c.benchmark_group(group);
        for n in [1usize << 20, 1 << 24] {
            g.throughput(Throughput::Elements(n as u64));
            g.sample_size(if n > 1 << 20 { 10 } else { 30 });
            for cap in [Capability::Default, Capability::Avx2] {
                let cx = Context::new(cap);
                let mut gen = CpuGenerator::with_seed(0);
                g.bench_with_input(BenchmarkId::new(cap.name(), n), &n, |b, &n| {
                    let size = [n as i64];
                    b.iter(|| {
                        if normal {
                            ops::randn(&mut gen, &size, DType::Float32, cx)
                        } else {
                            ops::rand(&mut gen, &size, DType::Float32, cx)
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
