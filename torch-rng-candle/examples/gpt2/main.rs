//! A GPT-2 / nanoGPT decoder in candle, starting from PyTorch's weights for a seed, built by
//! torch-rng without any file, then one forward pass on fixed tokens:
//!
//! ```sh
//! cargo run --release -p torch-rng-candle --example gpt2 [SEED]
//! ```
//!
//! The weights come from the model description `examples/models/gpt2_tiny.json`; the example
//! also builds them module by module (`model::state_dict_by_hand`, the Python `__init__` order)
//! and checks that both routes give the same bits. `tests/pytorch.rs` compares both with PyTorch.

#[allow(dead_code)] // shared with tests/pytorch.rs, which uses the rest
mod model;

use candle_core::{DType, Device};
use torch_rng::nn::ModelDesc;
use torch_rng::Torch;

const DESCRIPTION: &str = include_str!("../../../examples/models/gpt2_tiny.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seed: u64 = match std::env::args().nth(1) {
        Some(s) => s.parse()?,
        None => 0,
    };
    // torch.manual_seed(seed); model = GPT(config)
    let sd = ModelDesc::parse(DESCRIPTION)?.state_dict(&mut Torch::with_seed(seed))?;
    let by_hand = model::state_dict_by_hand(&mut Torch::with_seed(seed), model::TINY)?;
    let same = sd.len() == by_hand.len()
        && sd
            .iter()
            .zip(&by_hand)
            .all(|((n, t), (m, u))| n == m && t.to_le_bytes() == u.to_le_bytes());
    if !same {
        return Err("the description and the module-by-module build differ".into());
    }

    let dev = Device::Cpu;
    let gpt = model::Gpt::load(
        torch_rng_candle::var_builder(&sd, DType::F32, &dev)?,
        model::TINY,
    )?;
    // The fixture's two sequences (tools/gen_frameworks.py, GPT_TOKENS).
    let rows: Vec<Vec<u32>> = vec![
        (0..16).map(|i| (37 * i + 11) % 100).collect(),
        (0..16).map(|i| (13 * i * i + 5) % 100).collect(),
    ];
    let logits = gpt.forward(&model::tokens(&rows, &dev)?)?;
    println!(
        "seed {seed}: {} state_dict tensors, {} parameters; logits {:?}",
        sd.len(),
        sd.iter().map(|(_, t)| t.numel()).sum::<usize>(),
        logits.dims()
    );
    let last = model::last_logits(&logits)?;
    println!("logits[0, -1, :8] = {:?}", &last[..8]);
    Ok(())
}
