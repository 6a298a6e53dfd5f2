//! A small model written in burn (`model::TinyMlp`: Embedding, Linear, GELU, LayerNorm, Linear,
//! ReLU, Linear without bias), starting from PyTorch's weights for a seed, built by torch-rng
//! module by module without any file, then one forward pass:
//!
//! ```sh
//! cargo run --release -p torch-rng-burn --example mlp [SEED]
//! ```
//!
//! `tests/pytorch.rs` compares the weights and the output with PyTorch's.

mod model;

use burn::tensor::Device;
use torch_rng::Torch;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 0,
    };
    let device = Device::default();
    // torch.manual_seed(seed); model = TinyMlp(c)
    let sd = model::state_dict(&mut Torch::with_seed(seed))?;
    let mut mlp = model::TinyMlp::new(&device);
    torch_rng_burn::load(&mut mlp, &sd)?;
    // The fixture's tokens (tools/gen_frameworks.py, MLP_TOKENS).
    let rows: Vec<Vec<i64>> = vec![
        (0..5).map(|i| (5 * i + 3) % 16).collect(),
        (0..5).map(|i| (7 * i * i + 1) % 16).collect(),
        vec![15, 0, 15, 0, 8],
    ];
    let out = mlp.forward(model::tokens(&rows, &device));
    println!("seed {seed}: output {:?}", out.dims());
    println!("output[0, 0, :] = {:?}", &model::values(out)[..model::OUT]);
    Ok(())
}
