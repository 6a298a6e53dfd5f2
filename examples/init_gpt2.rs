//! Times `examples/gpt2_124m.json` (GPT-2 small, 124,439,808 parameters) built by torch-rng on one
//! thread: `cargo run --release --example init_gpt2 [default|avx2]`.

use torch_rng::nn::ModelDesc;
use torch_rng::{Capability, Context, CpuGenerator, Torch};

fn main() {
    let cap = std::env::args().nth(1).unwrap_or_else(|| "avx2".into());
    let cap = Capability::parse(&cap).expect("default, avx2 or avx512");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/gpt2_124m.json");
    let desc = ModelDesc::parse(&std::fs::read_to_string(path).expect("readable"))
        .expect("valid description");
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = std::time::Instant::now();
        let mut torch = Torch::from_parts(Context::new(cap), CpuGenerator::with_seed(0));
        let m = desc.build(&mut torch).expect("builds");
        times.push(start.elapsed().as_secs_f64());
        assert_eq!(m.num_parameters(), 124_439_808);
    }
    times.sort_by(f64::total_cmp);
    println!("{cap}: {:.3} s (best of 3), {times:?}", times[0]);
}
