//! randint, randperm and bernoulli_ throughput, 2^20 and 2^24 elements (default and avx2: the
//! samplers do not depend on the variant, both are listed so that `tools/bench_compare.py` can
//! pair each with PyTorch's run under the same `ATEN_CPU_CAPABILITY`).
//!
//! Groups (read by `tools/bench_compare.py`): `randint_i64` (`randint(0, 1000, (n,))`),
//! `randint_i64_2p30` (`randint(0, 2^30, (n,))`, 64-bit draws), `randperm_i64` (`randperm(n)`),
//! `bernoulli_f32` (`empty(n).bernoulli_(0.3)`); function id = variant, parameter = n.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use torch_rng::ops::{self as samplers, View};
use torch_rng::{Capability, Context, CpuGenerator, DType};

fn bench(c: &mut Criterion) {
    for group in [
        "randint_i64",
        "randint_i64_2p30",
        "randperm_i64",
        "bernoulli_f32",
    ] {
        let mut g = c.benchmark_group(group);
        for n in [1usize << 20, 1 << 24] {
            g.throughput(Throughput::Elements(n as u64));
            g.sample_size(10);
            for cap in [Capability::Default, Capability::Avx2] {
                let cx = Context::new(cap);
                let mut gen = CpuGenerator::with_seed(0);
                g.bench_with_input(BenchmarkId::new(cap.name(), n), &n, |b, &n| {
                    let size = [n as i64];
                    let view = View::contiguous(&size, DType::Float32);
                    b.iter(|| match group {
                        "randint_i64" => {
                            samplers::randint(&mut gen, 0, 1000, &size, DType::Int64, cx)
                        }
                        "randint_i64_2p30" => {
                            samplers::randint(&mut gen, 0, 1 << 30, &size, DType::Int64, cx)
                        }
                        "randperm_i64" => samplers::randperm(&mut gen, n as i64, DType::Int64, cx),
                        _ => samplers::bernoulli_scalar_(&mut gen, &view, 0.3, cx),
                    });
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
