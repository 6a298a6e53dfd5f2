//! `torch-rng init` writes a safetensors file that reads back to the model's `state_dict`, and
//! whose tensors have the SHA-256 PyTorch recorded for the same model and seed
//! (golden/results/models_examples.json).

use std::path::Path;

use serde_json::Value;
use torch_rng::checkpoint::Checkpoint;
use torch_rng::nn::ModelDesc;
use torch_rng::Torch;

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn init_writes_what_pytorch_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = root.join("examples/models/net.json");
    let dir = std::env::temp_dir().join(format!("torch-rng-init-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("net.safetensors");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_torch-rng"))
        .args([
            "init",
            model.to_str().unwrap(),
            "--seed",
            "1",
            "--variant",
            "avx2",
            "-o",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    let mut file = Checkpoint::open(&out).unwrap();
    let meta = file.metadata().to_vec();
    let tensors: Vec<(String, String, Vec<usize>, Vec<u8>)> = file
        .read_all()
        .unwrap()
        .into_iter()
        .map(|(n, r)| {
            let dtype = r.dtype().name().to_string();
            let shape = r.shape().to_vec();
            (n, dtype, shape, r.into_bytes())
        })
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    assert!(meta.contains(&("seed".to_string(), "1".to_string())));
    assert!(meta.contains(&("variant".to_string(), "avx2".to_string())));
    assert!(meta.contains(&(
        "torch_version".to_string(),
        torch_rng::LATEST_RELEASE.to_string()
    )));

    // The same as the library's state_dict, name for name and byte for byte.
    let desc = ModelDesc::parse(&std::fs::read_to_string(&model).unwrap()).unwrap();
    let sd = desc.state_dict(&mut Torch::with_seed(1)).unwrap();
    assert_eq!(tensors.len(), sd.len());
    for ((name, dtype, shape, data), (sd_name, t)) in tensors.iter().zip(&sd) {
        assert_eq!(name, sd_name);
        assert_eq!(dtype, "float32");
        assert_eq!(shape, t.shape());
        assert_eq!(data, &t.to_le_bytes(), "{name}");
    }

    // And PyTorch's bytes, as gen_golden recorded them.
    let results: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("golden/results/models_examples.json")).unwrap(),
    )
    .unwrap();
    let case = results["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "model_net_seed1_avx2")
        .expect("golden case model_net_seed1_avx2");
    let expected = case["outputs"][1]["state_dict"].as_array().unwrap();
    assert_eq!(expected.len(), tensors.len());
    for (e, (name, _, _, data)) in expected.iter().zip(&tensors) {
        assert_eq!(e[0].as_str().unwrap(), name);
        assert_eq!(e[1]["sha256"].as_str().unwrap(), sha256_hex(data), "{name}");
    }
}
