//! Whole-model initialisation: a GPT-2 small shaped model (124,439,808 parameters,
//! `examples/gpt2_124m.json`: construction draws, then the GPT-2 `apply` init and the scaled
//! `c_proj` init) on one thread, per kernel variant, every tensor computed in memory (a build
//! defers its fills until a tensor is read; `torch-rng init` computes them a chunk at a time as it
//! writes). `tools/bench_compare.py` times the same model built in PyTorch.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use torch_rng::nn::ModelDesc;
use torch_rng::{Capability, Context, CpuGenerator, Torch};

fn gpt2(c: &mut Criterion) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gpt2_124m.json");
    let desc = ModelDesc::parse(&std::fs::read_to_string(path).expect("examples/gpt2_124m.json"))
        .expect("valid description");
    let params = 124_439_808u64;
    let mut group = c.benchmark_group("model_gpt2_124m");
    group.sample_size(10);
    group.throughput(Throughput::Elements(params));
    for cap in [Capability::Default, Capability::Avx2] {
        group.bench_with_input(BenchmarkId::new(cap.name(), params), &cap, |b, &cap| {
            b.iter(|| {
                let mut torch = Torch::from_parts(Context::new(cap), CpuGenerator::with_seed(0));
                let m = desc.build(&mut torch).expect("builds");
                assert_eq!(m.num_parameters() as u64, params);
                let sd = m.into_state_dict();
                for (_, t) in &sd {
                    criterion::black_box(t.storage());
                }
                sd
            });
        });
    }
    group.finish();
}

criterion_group!(benches, gpt2);
criterion_main!(benches);
