//! The burn adapter against real PyTorch: `golden/frameworks/tiny_mlp.json`, written by
//! `tools/gen_frameworks.py` with PyTorch 2.15.0 (Embedding, Linear, GELU, LayerNorm, Linear,
//! ReLU, Linear without bias, PyTorch's default init; seeds 0 and 1234; three rows of five tokens,
//! `eval()` forward pass).
//!
//! For each seed: the weights torch-rng builds module by module equal PyTorch's `state_dict` bit
//! for bit (SHA-256 of every tensor, names, order, dtypes, shapes); after `torch_rng_burn::load`
//! the burn module holds them (read back in PyTorch's layout, the transposed Linear weights
//! included, they hash the same); then burn's output agrees with PyTorch's within `TOLERANCE`
//! (absolute), a float32 computation in other kernels. The largest difference is printed
//! (`--nocapture`).

#[path = "../examples/mlp/model.rs"]
#[allow(dead_code)]
mod model;

use std::path::PathBuf;

use burn::tensor::Device;
use serde_json::Value;
use torch_rng::Torch;

/// The largest absolute difference of an output allowed. Outputs here are up to 0.57 in
/// magnitude, and burn's and PyTorch's matmul, erf and layer-norm kernels round differently:
/// measured 1.49e-7 (seed 0) and 5.96e-8 (seed 1234) on an x86-64 host with AVX-512, with burn's
/// `flex` backend (1.19e-7 and 7.45e-8 with `BURN_DEVICE=ndarray` and `--features burn/ndarray`);
/// the bound leaves room for other hosts' kernels.
const TOLERANCE: f32 = 1e-6;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../golden/frameworks/tiny_mlp.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (written by tools/gen_frameworks.py)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn shape(v: &Value) -> Vec<usize> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect()
}

#[test]
fn tiny_mlp_matches_pytorch() {
    let fx = fixture();
    assert_eq!(fx["format"], "torch-rng-frameworks/1");
    let torch_version = fx["torch_version"].as_str().unwrap();
    assert_eq!(
        torch_version.split('+').next(),
        Some(torch_rng::LATEST_RELEASE)
    );
    assert_eq!(
        fx["capability"], "avx2",
        "torch-rng builds with Context::default (avx2)"
    );
    let rows: Vec<Vec<i64>> = fx["input"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().unwrap())
                .collect()
        })
        .collect();
    let device = Device::default();
    let runs = fx["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    let mut worst = 0f32;
    for run in runs {
        let seed = run["seed"].as_u64().unwrap();
        let want = run["state_dict"].as_array().unwrap();
        let sd = model::state_dict(&mut Torch::with_seed(seed)).unwrap();
        assert_eq!(sd.len(), want.len(), "seed {seed}: state_dict length");
        for ((name, t), w) in sd.iter().zip(want) {
            assert_eq!(name, w["name"].as_str().unwrap(), "seed {seed}: name/order");
            assert_eq!(
                t.dtype().name(),
                w["dtype"].as_str().unwrap(),
                "seed {seed} {name}"
            );
            assert_eq!(t.shape(), &shape(&w["shape"])[..], "seed {seed} {name}");
            assert_eq!(
                t.sha256_hex(),
                w["sha256"].as_str().unwrap(),
                "seed {seed} {name}: bytes"
            );
        }

        let mut mlp = model::TinyMlp::new(&device);
        torch_rng_burn::load(&mut mlp, &sd).unwrap();
        // What burn now holds, read back and put in PyTorch's layout and names again.
        let back = torch_rng_burn::state_dict(&mlp).unwrap();
        assert_eq!(back.len(), want.len());
        for (name, t) in &back {
            let w = want.iter().find(|w| w["name"] == name.as_str()).unwrap();
            assert_eq!(
                t.sha256_hex(),
                w["sha256"].as_str().unwrap(),
                "seed {seed} burn {name}"
            );
        }

        let out = mlp.forward(model::tokens(&rows, &device));
        assert_eq!(
            out.dims().to_vec(),
            shape(&run["output"]["shape"]),
            "seed {seed}"
        );
        let got = model::values(out);
        let expected: Vec<f32> = unhex(run["output"]["data_hex"].as_str().unwrap())
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(got.len(), expected.len());
        let (mut max_abs, mut at, mut exact) = (0f32, 0usize, 0usize);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let d = (g - e).abs();
            assert!(d.is_finite(), "seed {seed}: output {i}: {g} vs {e}");
            exact += usize::from(g.to_bits() == e.to_bits());
            if d > max_abs {
                (max_abs, at) = (d, i);
            }
        }
        let largest = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
        println!(
            "burn tiny_mlp seed {seed}: {} outputs, largest |output| {largest:.4}, max |diff| \
             {max_abs:.3e} at {at} ({} vs {}), {exact} bit-identical",
            got.len(),
            got[at],
            expected[at]
        );
        assert!(
            max_abs <= TOLERANCE,
            "seed {seed}: output {at}: burn {} vs PyTorch {} (|diff| {max_abs:e} > {TOLERANCE:e})",
            got[at],
            expected[at]
        );
        worst = worst.max(max_abs);
    }
    println!("burn tiny_mlp: largest |diff| over both seeds {worst:.3e} (tolerance {TOLERANCE:e})");
}
