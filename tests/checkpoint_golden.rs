//! Every checkpoint in golden/checkpoints/, written by the real libraries (torch.save,
//! safetensors.torch.save_file, numpy.savez, numpy.savez_compressed) through
//! tools/gen_checkpoints.py, reads back with the names, dtypes, shapes, bytes (sha256), ties and
//! metadata that script computed from the real tensors (golden/checkpoints/expected.json).
#![cfg(feature = "json")]

use std::path::Path;

use serde_json::Value;
use torch_rng::checkpoint::{Checkpoint, Limits};

#[test]
fn golden_checkpoints_read_as_the_libraries_wrote_them() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/checkpoints");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let files = expected["files"].as_object().unwrap();
    assert!(files.len() >= 8);
    let mut failures = Vec::new();
    for (fname, want) in files {
        let mut ck = match Checkpoint::open(dir.join(fname)) {
            Ok(c) => c,
            Err(e) => {
                failures.push(format!("{fname}: {e}"));
                continue;
            }
        };
        assert_eq!(ck.format().name(), want["format"], "{fname}");
        let tensors = want["tensors"].as_array().unwrap();
        if ck.tensors().len() != tensors.len() {
            failures.push(format!(
                "{fname}: {} tensors, expected {}",
                ck.tensors().len(),
                tensors.len()
            ));
            continue;
        }
        for (i, w) in tensors.iter().enumerate() {
            let name = w["name"].as_str().unwrap();
            let pos = if want["ordered"] == true {
                i
            } else {
                match ck.position(name) {
                    Some(p) => p,
                    None => {
                        failures.push(format!("{fname}: no tensor {name}"));
                        continue;
                    }
                }
            };
            let info = ck.tensors()[pos].clone();
            let t = ck.read_tensor(pos).unwrap();
            let shape: Vec<usize> = w["shape"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect();
            let got = (
                info.name(),
                t.dtype().name(),
                t.shape().to_vec(),
                t.sha256_hex(),
            );
            let exp = (
                name,
                w["dtype"].as_str().unwrap(),
                shape,
                w["sha256"].as_str().unwrap().to_string(),
            );
            if got != exp {
                failures.push(format!("{fname}: got {got:?}, expected {exp:?}"));
            }
        }
        let ties: Vec<Vec<String>> = ck.ties().iter().map(|t| t.names.clone()).collect();
        let want_ties: Vec<Vec<String>> = serde_json::from_value(want["ties"].clone()).unwrap();
        if ties != want_ties {
            failures.push(format!("{fname}: ties {ties:?}, expected {want_ties:?}"));
        }
        let meta: Vec<(String, String)> = want["metadata"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let mut got_meta = ck.metadata().to_vec();
        got_meta.sort();
        let mut meta = meta;
        meta.sort();
        if got_meta != meta {
            failures.push(format!("{fname}: metadata {got_meta:?}, expected {meta:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn in_memory_and_file_readers_agree() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/checkpoints");
    for f in [
        "state_dict.pt",
        "arrays_compressed.npz",
        "model.safetensors",
    ] {
        let bytes = std::fs::read(dir.join(f)).unwrap();
        let a = Checkpoint::from_bytes(&bytes, f, &Limits::default())
            .unwrap()
            .read_all()
            .unwrap();
        let b = torch_rng::checkpoint::read_path(dir.join(f)).unwrap();
        assert_eq!(a, b, "{f}");
    }
}
