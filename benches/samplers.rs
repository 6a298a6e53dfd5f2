//! randint, randperm and bernoulli_ throughput, 2^20 and 2^24 elements (default and avx2: the
//! samplers do not depend on the variant, both are listed so that `tools/bench_compare.py` can
//! pair each with PyTorch's run under the same `ATEN_CPU_CAPABILITY`).
//!
//! Groups (read by `tools/bench_compare.py`): `randint_i64` (`randint(0, 1000, (n,))`),
//! `randint_i64_2p30` (`randint(0, 2^30, (n,))`, 64-bit draws), `randperm_i64` (`randperm(n)`),
//! `bernoulli_f32` (`empty(n).bernoulli_(0.3)`); function id = variant, parameter = n.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use torch_rng::{Capability, Context, DType, Tensor, Torch};

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
                let mut torch = Torch::new(Context::new(cap));
                g.bench_with_input(BenchmarkId::new(cap.name(), n), &n, |b, &n| {
                    let size = [n as i64];
                    let mut target = Tensor::zeros(&size, DType::Float32).expect("allocates");
                    b.iter(|| match group {
                        "randint_i64" => torch.randint(0, 1000, &size, DType::Int64).map(drop),
                        "randint_i64_2p30" => {
                            torch.randint(0, 1 << 30, &size, DType::Int64).map(drop)
                        }
                        "randperm_i64" => torch.randperm(n as i64, DType::Int64).map(drop),
                        _ => torch.bernoulli_(&mut target, 0.3),
                    });
                });
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
