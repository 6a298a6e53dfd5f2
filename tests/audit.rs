//! `audit` from the library: npz files, recorded programs, one tensor with its init call, names,
//! shapes and dtypes that do not fit the model, hostile files, the JSON form. The weights are
//! torch-rng's own builds, which the golden suites (golden/cases, golden/programs) check bit for
//! bit against PyTorch 2.15; tests/audit_golden.rs audits files written by PyTorch itself.
#![cfg(feature = "json")]

use std::path::Path;

use torch_rng::audit::{self, Against, Options, Status, Verdict};
use torch_rng::checkpoint::{self, Checkpoint, Limits};
use torch_rng::nn::{ModelDesc, Program};
use torch_rng::{Capability, Context, DType, Error, Storage, Tensor, Torch};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn mlp() -> ModelDesc {
    ModelDesc::parse(&std::fs::read_to_string(root().join("golden/audit/mlp.json")).unwrap())
        .unwrap()
}

fn build(desc: &ModelDesc, seed: u64, cap: Capability) -> Vec<(String, Tensor)> {
    let mut torch = Torch::new(Context::new(cap));
    torch.manual_seed(seed).unwrap();
    desc.state_dict(&mut torch).unwrap()
}

fn options(seeds: (u64, u64)) -> Options {
    Options::default().with_seeds(seeds.0, seeds.1)
}

#[test]
fn finds_the_seed_of_an_npz_file_in_the_range() {
    let desc = mlp();
    let bytes = checkpoint::npz_bytes(&build(&desc, 70_001, Capability::Avx2)).unwrap();
    let mut file = Checkpoint::from_bytes(&bytes, "w.npz", &Limits::default()).unwrap();
    let report =
        audit::audit(&mut file, Against::Model(&desc), &options((70_000, 80_000))).unwrap();
    assert_eq!(report.format, "npz");
    assert_eq!(report.seed, Some(70_001));
    assert_eq!(report.search.found_in, Some("range"));
    assert_eq!(report.verdict, Verdict::Identical);
    assert!(report
        .combinations
        .iter()
        .all(|c| c.capability == Capability::Avx2));
    // LayerNorm's ones and zeros are listed apart.
    let apart: Vec<&str> = report
        .tensors
        .iter()
        .filter(|t| !t.decided_by_seed)
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(apart, ["norm.weight", "norm.bias"]);
    assert!(report.search.seeds_tried > 0 && report.search.seeds_per_second > 0.0);
}

#[test]
fn a_file_from_outside_the_range_is_not_found() {
    let desc = mlp();
    let bytes =
        checkpoint::safetensors_bytes(&build(&desc, 5_000, Capability::Default), &[]).unwrap();
    let mut file = Checkpoint::from_bytes(&bytes, "w.safetensors", &Limits::default()).unwrap();
    let mut o = options((0, 999));
    o.common_seeds = false;
    let report = audit::audit(&mut file, Against::Model(&desc), &o).unwrap();
    assert_eq!(report.seed, None);
    assert_eq!(report.verdict, Verdict::NotFound);
    assert_eq!(report.search.seeds_tried % 1000, 0, "{:?}", report.search);
    for t in report.tensors.iter().filter(|t| t.decided_by_seed) {
        assert!(matches!(t.status, Status::Unmatched { .. }), "{t:?}");
    }
}

#[test]
fn audits_a_recorded_program() {
    let program = Program::parse(
        &std::fs::read_to_string(root().join("golden/programs/gpt2_tiny.json")).unwrap(),
    )
    .unwrap();
    let mut torch = Torch::new(Context::default());
    torch.manual_seed(2024).unwrap();
    let state = program.state_dict(&mut torch).unwrap();
    let bytes = checkpoint::safetensors_bytes(&state, &[]).unwrap();
    let mut file = Checkpoint::from_bytes(&bytes, "gpt2.safetensors", &Limits::default()).unwrap();
    let mut o = options((0, 0));
    o.releases = vec![15];
    let report = audit::audit(&mut file, Against::Program(&program), &o).unwrap();
    assert_eq!(report.seed, Some(2024), "{}", report.to_text());
    assert_eq!(report.verdict, Verdict::Identical, "{}", report.to_text());
}

#[test]
fn one_tensor_with_its_init_call() {
    // Written by PyTorch 2.15 after torch.manual_seed(42) (tools/gen_audit.py): fc1.weight is
    // the first tensor drawn, by Linear's kaiming_uniform_(a=sqrt(5)).
    let path = root().join("golden/audit/mlp_seed42.safetensors");
    let call = audit::parse_op("kaiming_uniform_(a=sqrt(5))").unwrap();
    let mut file = Checkpoint::open(&path).unwrap();
    let against = Against::Tensor {
        name: "fc1.weight",
        call: &call,
    };
    let report = audit::audit(&mut file, against, &options((0, 1000))).unwrap();
    assert_eq!(report.seed, Some(42));
    assert_eq!(report.tensors.len(), 1);
    assert_eq!(report.tensors[0].status, Status::Identical);
    // fc2.weight was drawn after other tensors: no seed gives it right after manual_seed.
    let mut file = Checkpoint::open(&path).unwrap();
    let against = Against::Tensor {
        name: "fc2.weight",
        call: &call,
    };
    let report = audit::audit(&mut file, against, &options((0, 1000))).unwrap();
    assert_eq!(report.verdict, Verdict::NotFound);
    // A name the file lacks is an error naming it.
    let mut file = Checkpoint::open(&path).unwrap();
    let e = audit::audit(
        &mut file,
        Against::Tensor {
            name: "nope",
            call: &call,
        },
        &options((0, 1)),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no tensor 'nope'"), "{e}");
}

#[test]
fn names_shapes_and_dtypes_that_do_not_fit() {
    let desc = mlp();
    let mut state = build(&desc, 1234, Capability::Default);
    // fc1.weight transposed, norm.weight as float16, fc2.bias dropped, an extra tensor.
    let w = state[0].1.clone();
    let (r, c) = (w.shape()[0], w.shape()[1]);
    let Storage::F32(v) = w.storage() else {
        panic!()
    };
    let t: Vec<f32> = (0..r * c).map(|k| v[(k % r) * c + k / r]).collect();
    state[0].1 = Tensor::new(vec![c, r], Storage::F32(t)).unwrap();
    let Storage::F32(ones) = state[2].1.storage() else {
        panic!()
    };
    let halves = ones.iter().map(|&x| half::f16::from_f32(x)).collect();
    state[2].1 = Tensor::new(vec![32], Storage::F16(halves)).unwrap();
    state.retain(|(n, _)| n != "fc2.bias");
    state.push((
        "extra.step".into(),
        Tensor::zeros(&[1], DType::Int64).unwrap(),
    ));
    let bytes = checkpoint::safetensors_bytes(&state, &[]).unwrap();
    let mut file = Checkpoint::from_bytes(&bytes, "w.safetensors", &Limits::default()).unwrap();
    let report = audit::audit(&mut file, Against::Model(&desc), &options((0, 10))).unwrap();
    assert_eq!(report.seed, Some(1234), "{}", report.to_text());
    assert_eq!(report.verdict, Verdict::Differs);
    let status = |n: &str| &report.tensors.iter().find(|t| t.name == n).unwrap().status;
    match status("fc1.weight") {
        Status::DoesNotFit { reason } => assert!(reason.contains("transposed"), "{reason}"),
        s => panic!("{s:?}"),
    }
    match status("norm.weight") {
        Status::DoesNotFit { reason } => assert!(reason.contains("cast to float16"), "{reason}"),
        s => panic!("{s:?}"),
    }
    assert_eq!(*status("extra.step"), Status::NotInModel);
    assert!(matches!(status("fc2.bias"), Status::Missing { .. }));
    assert_eq!(*status("fc2.weight"), Status::Identical);
}

#[test]
fn a_module_prefix_is_stripped() {
    let desc = mlp();
    let state: Vec<(String, Tensor)> = build(&desc, 3407, Capability::Default)
        .into_iter()
        .map(|(n, t)| (format!("module.{n}"), t))
        .collect();
    let bytes = checkpoint::safetensors_bytes(&state, &[]).unwrap();
    let mut file = Checkpoint::from_bytes(&bytes, "ddp.safetensors", &Limits::default()).unwrap();
    let report = audit::audit(&mut file, Against::Model(&desc), &options((0, 0))).unwrap();
    assert_eq!(report.prefix.as_deref(), Some("module."));
    assert_eq!(report.seed, Some(3407));
    assert_eq!(report.verdict, Verdict::Identical);
}

#[test]
fn corrupt_and_hostile_files_are_errors() {
    let desc = mlp();
    for name in ["mlp_seed42.safetensors", "pair_seed3407_tied.pt"] {
        let good = std::fs::read(root().join("golden/audit").join(name)).unwrap();
        let ext = name.rsplit('.').next().unwrap();
        // Every truncation, and flipped bytes through the file: an error or a report, never a
        // panic.
        let mut cuts: Vec<usize> = (0..good.len()).step_by(97).collect();
        cuts.push(good.len() - 1);
        for cut in cuts {
            let bytes = &good[..cut];
            if let Ok(mut f) =
                Checkpoint::from_bytes(bytes, &format!("x.{ext}"), &Limits::default())
            {
                let _ = audit::audit(&mut f, Against::Model(&desc), &options((0, 3)));
            }
        }
        for at in (0..good.len()).step_by(61) {
            let mut bytes = good.clone();
            bytes[at] ^= 0xA5;
            if let Ok(mut f) =
                Checkpoint::from_bytes(&bytes, &format!("x.{ext}"), &Limits::default())
            {
                let _ = audit::audit(&mut f, Against::Model(&desc), &options((0, 3)));
            }
        }
    }
    // A pickle that is not a state_dict of tensors is refused, with a message.
    let e = Checkpoint::from_bytes(b"\x80\x04K\x01.", "x.pt", &Limits::default()).unwrap_err();
    assert!(
        matches!(e, Error::Malformed { .. } | Error::Unsupported { .. }),
        "{e}"
    );
}

#[test]
fn the_report_serialises_as_its_json() {
    let desc = mlp();
    let path = root().join("golden/audit/mlp_seed24601_reinit_scaled.pt");
    let mut file = Checkpoint::open(path).unwrap();
    let report =
        audit::audit(&mut file, Against::Model(&desc), &options((24_000, 25_000))).unwrap();
    let via_serde = serde_json::to_value(&report).unwrap();
    assert_eq!(via_serde, report.to_json());
    assert_eq!(via_serde["seed"], 24_601);
    assert_eq!(via_serde["verdict"], "differs");
    let text = report.to_text();
    assert!(text.contains("re-initialised"), "{text}");
    assert!(text.contains("scaled by 0.5"), "{text}");
}

#[test]
fn options_reject_what_they_cannot_search() {
    let desc = mlp();
    let bytes = checkpoint::safetensors_bytes(&build(&desc, 0, Capability::Default), &[]).unwrap();
    let mut file = Checkpoint::from_bytes(&bytes, "w.safetensors", &Limits::default()).unwrap();
    let mut o = Options::default();
    o.variants.clear();
    assert!(audit::audit(&mut file, Against::Model(&desc), &o).is_err());
    let mut o = Options::default();
    o.releases.clear();
    assert!(audit::audit(&mut file, Against::Model(&desc), &o).is_err());
}
