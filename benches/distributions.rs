//! rand and randn throughput, float32, 2^20 and 2^24 elements, both kernel variants.
//!
//! Group and parameter names are read by `tools/bench_compare.py` (groups `rand_f32`, `randn_f32`;
//! function ids `default`, `avx2`; parameter = element count), which prints the ratios to PyTorch.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use torch_rng::{Capability, Context, DType, Torch};

fn bench(c: &mut Criterion) {
    for (group, normal) in [("rand_f32", false), ("randn_f32", true)] {
        let mut g = c.benchmark_group(group);
        for n in [1usize << 20, 1 << 24] {
            g.throughput(Throughput::Elements(n as u64));
            g.sample_size(if n > 1 << 20 { 10 } else { 30 });
            for cap in [Capability::Default, Capability::Avx2] {
                let mut torch = Torch::new(Context::new(cap));
                g.bench_with_input(BenchmarkId::new(cap.name(), n), &n, |b, &n| {
                    let size = [n as i64];
                    b.iter(|| {
                        if normal {
                            torch.randn(&size, DType::Float32)
                        } else {
                            torch.rand(&size, DType::Float32)
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
