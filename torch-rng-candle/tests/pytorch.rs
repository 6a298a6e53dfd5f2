//! The candle adapter against real PyTorch: `golden/frameworks/gpt2_tiny.json`, written by
//! `tools/gen_frameworks.py` with PyTorch 2.15.0 (a GPT-2 / nanoGPT decoder, seeds 0 and 1234,
//! two sequences of 16 tokens, `eval()` forward pass).
//!
//! For each seed: the weights built by torch-rng (from `examples/models/gpt2_tiny.json`, and
//! module by module as a user would write them) equal PyTorch's `state_dict` bit for bit (SHA-256
//! of every tensor, names, order, dtypes, shapes), and so do the candle tensors made from them;
//! then candle's logits agree with PyTorch's within `TOLERANCE` (absolute), a float32 computation
//! in other kernels. The largest difference is printed (`--nocapture`).

#[path = "../examples/gpt2/model.rs"]
#[allow(dead_code)]
mod model;

use std::path::PathBuf;

use candle_core::{DType, Device};
use serde_json::Value;
use sha2::{Digest, Sha256};
use torch_rng::nn::ModelDesc;
use torch_rng::Torch;

/// The largest absolute difference of a logit allowed. Logits here are of order 0.1 to 0.5, and
/// PyTorch's and candle's matmul, softmax, erf and layer-norm kernels round differently: measured
/// 1.19e-7 (one float32 ulp at 0.4) for both seeds, on an x86-64 host with AVX-512; the bound
/// leaves room for other hosts' kernels.
const TOLERANCE: f32 = 1e-6;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fixture() -> Value {
    let path = root().join("golden/frameworks/gpt2_tiny.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (written by tools/gen_frameworks.py)",
            path.display()
        )
    });
    serde_json::from_str(&text).expect("the fixture is JSON")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

/// Names, order, dtypes, shapes and SHA-256 of `sd` against the fixture's `state_dict`, and the
/// SHA-256 of the candle tensors made from it.
fn check_weights(route: &str, seed: u64, sd: &torch_rng::nn::StateDict, want: &[Value]) {
    assert_eq!(
        sd.len(),
        want.len(),
        "{route} seed {seed}: state_dict length"
    );
    let candle = torch_rng_candle::state_dict(sd, &Device::Cpu).expect("converts");
    for ((name, t), w) in sd.iter().zip(want) {
        let at = format!("{route} seed {seed} {name}");
        assert_eq!(name, w["name"].as_str().unwrap(), "{at}: name/order");
        assert_eq!(
            t.dtype().name(),
            w["dtype"].as_str().unwrap(),
            "{at}: dtype"
        );
        let shape: Vec<usize> = w["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(t.shape(), &shape[..], "{at}: shape");
        let expected = w["sha256"].as_str().unwrap();
        assert_eq!(
            t.sha256_hex(),
            expected,
            "{at}: torch-rng bytes differ from PyTorch's"
        );
        let c = &candle[name];
        assert_eq!(c.dims(), &shape[..], "{at}: candle shape");
        let bytes: Vec<u8> = c
            .flatten_all()
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(
            sha256(&bytes),
            expected,
            "{at}: candle bytes differ from PyTorch's"
        );
    }
}

#[test]
fn gpt2_tiny_matches_pytorch() {
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
    let rows: Vec<Vec<u32>> = fx["input"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();
    let desc = ModelDesc::parse(include_str!("../../examples/models/gpt2_tiny.json")).unwrap();
    let dev = Device::Cpu;
    let mut worst = 0f32;
    let runs = fx["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for run in runs {
        let seed = run["seed"].as_u64().unwrap();
        let want = run["state_dict"].as_array().unwrap();
        let sd = desc.state_dict(&mut Torch::with_seed(seed)).unwrap();
        check_weights("description", seed, &sd, want);
        let by_hand = model::state_dict_by_hand(&mut Torch::with_seed(seed), model::TINY).unwrap();
        check_weights("module by module", seed, &by_hand, want);

        let vb = torch_rng_candle::var_builder(&sd, DType::F32, &dev).unwrap();
        let gpt = model::Gpt::load(vb, model::TINY).unwrap();
        let logits = gpt.forward(&model::tokens(&rows, &dev).unwrap()).unwrap();
        let out = &run["output"];
        let shape: Vec<usize> = out["shape"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_u64().unwrap() as usize)
            .collect();
        assert_eq!(logits.dims(), &shape[..], "seed {seed}: logits shape");
        let got = model::values(&logits).unwrap();
        let expected: Vec<f32> = unhex(out["data_hex"].as_str().unwrap())
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        assert_eq!(got.len(), expected.len());
        let (mut max_abs, mut at, mut exact) = (0f32, 0usize, 0usize);
        for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
            let d = (g - e).abs();
            assert!(d.is_finite(), "seed {seed}: logit {i}: {g} vs {e}");
            exact += usize::from(g.to_bits() == e.to_bits());
            if d > max_abs {
                (max_abs, at) = (d, i);
            }
        }
        let largest = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
        println!(
            "candle gpt2_tiny seed {seed}: {} logits, largest |logit| {largest:.4}, max |diff| \
             {max_abs:.3e} at {at} ({} vs {}), {exact} bit-identical",
            got.len(),
            got[at],
            expected[at]
        );
        assert!(
            max_abs <= TOLERANCE,
            "seed {seed}: logit {at}: candle {} vs PyTorch {} (|diff| {max_abs:e} > {TOLERANCE:e})",
            got[at],
            expected[at]
        );
        worst = worst.max(max_abs);
    }
    println!(
        "candle gpt2_tiny: largest |diff| over both seeds {worst:.3e} (tolerance {TOLERANCE:e})"
    );
}
