//! The `torch-rng` command as a user runs it: exit codes, standard output and error messages.
#![cfg(feature = "cli")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_torch-rng"))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A case file with one case, written to a temporary path.
fn case_file(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("torch-rng-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, body).unwrap();
    p
}

fn refused(body: &str, expect: &[&str]) {
    let p = case_file("bad.json", body);
    let out = run(&["replay", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "stdout: {}", text(&out.stdout));
    assert!(
        out.stdout.is_empty(),
        "nothing is printed for a refused file"
    );
    let err = text(&out.stderr);
    for e in expect {
        assert!(err.contains(e), "stderr {err:?} lacks {e:?}");
    }
}

#[test]
fn demo_prints_the_posts_tensors() {
    let out = run(&["demo"]);
    assert!(out.status.success());
    let s = text(&out.stdout);
    assert!(s.contains("tensor([[ 0.2975, -0.2548, -0.1119],"));
    assert!(s.contains("        [-0.0707,  0.1601,  0.0285]])"));
    assert!(s.contains("0.5773502691896257"));
    assert!(s.contains("tensor([[ 0.7287, -0.6242, -0.2742],"));
}

#[test]
fn replay_reproduces_the_golden_result_file() {
    let cases = root().join("golden/cases/demo.json");
    let out = run(&["replay", cases.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let actual: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(actual["format"], "torch-rng-results/1");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("golden/results/demo.json")).unwrap(),
    )
    .unwrap();
    let mismatches = torch_rng::replay::compare_results(&expected, &actual).unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
}

#[test]
fn compare_reports_mismatches_with_exit_2() {
    let good = root().join("golden/results/demo.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&good).unwrap()).unwrap();
    doc["cases"][0]["outputs"][1]["state_dict"][0][1]["sha256"] = "00".repeat(32).into();
    let bad = case_file("bad_results.json", &doc.to_string());
    let out = run(&["compare", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains("step 1"),
        "{}",
        text(&out.stdout)
    );
    let same = run(&["compare", good.to_str().unwrap(), good.to_str().unwrap()]);
    assert!(same.status.success());
}

#[test]
fn a_rejected_argument_is_an_error_output_not_a_failure() {
    let p = case_file(
        "rejected.json",
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "neg", "steps": [
            {"op": "manual_seed", "seed": 0}, {"op": "rand", "size": [-1]}, {"op": "rand", "size": [2]}]}]}"#,
    );
    let out = run(&["replay", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outputs = doc["cases"][0]["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 2, "the case ends at the rejected step");
    assert!(outputs[1]["error"]
        .as_str()
        .unwrap()
        .contains("negative dimension"));
}

#[test]
fn malformed_case_files_are_refused_naming_case_and_step() {
    let wrap = |steps: &str| {
        format!(
            r#"{{"format": "torch-rng-cases/1", "cases": [{{"name": "c1", "steps": [{steps}]}}]}}"#
        )
    };
    refused(
        &wrap(r#"{"op": "manual_seed", "seed": 1}, {"op": "frobnicate"}"#),
        &["case 'c1', step 1", "unknown op 'frobnicate'"],
    );
    refused(
        &wrap(r#"{"op": "manual_seed", "seed": 1}, {"op": "rand", "size": [2], "colour": "red"}"#),
        &["case 'c1', step 1", "unknown field 'colour'"],
    );
    refused(
        &wrap(r#"{"op": "rand", "size": [2]}"#),
        &["case 'c1', step 0", "before manual_seed"],
    );
    refused(
        &wrap(r#"{"op": "manual_seed", "seed": 1}, {"op": "rand", "size": "big"}"#),
        &["case 'c1', step 1", "size"],
    );
    refused(
        &wrap(r#"{"op": "manual_seed", "seed": 1}, {"op": "rand"}"#),
        &["case 'c1', step 1", "missing field 'size'"],
    );
    refused(
        &wrap(
            r#"{"op": "manual_seed", "seed": 1}, {"op": "rand", "size": [2], "dtype": "float8"}"#,
        ),
        &["case 'c1', step 1", "unknown dtype"],
    );
    refused(
        &wrap(r#"{"op": "manual_seed", "seed": 1.5}"#),
        &["case 'c1', step 0", "integer"],
    );
    refused(
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "a", "steps": []}, {"name": "a", "steps": []}]}"#,
        &["case 'a'", "duplicate"],
    );
    refused(
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "a", "capability": "neon", "steps": []}]}"#,
        &["case 'a'", "capability"],
    );
    refused(
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "a", "torch_version": "1.13.1", "steps": []}]}"#,
        &["case 'a'", "torch_version"],
    );
    refused(
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "a", "device": "cuda", "steps": []}]}"#,
        &["case 'a'", "device"],
    );
    refused(
        r#"{"format": "torch-rng-cases/2", "cases": []}"#,
        &["format"],
    );
    refused("{not json", &["not valid JSON"]);
}

#[test]
fn ops_may_carry_the_torch_prefix() {
    let p = case_file(
        "prefix.json",
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "p", "steps": [
            {"op": "torch.manual_seed", "seed": 42}, {"op": "torch.rand", "size": [1]}]}]}"#,
    );
    let out = run(&["replay", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["cases"][0]["outputs"][1]["head"][0], "3f61dc66");
}

#[test]
fn private_generators_need_no_seed() {
    let p = case_file(
        "gen.json",
        r#"{"format": "torch-rng-cases/1", "cases": [{"name": "g", "steps": [
            {"op": "initial_seed", "generator": "g"}, {"op": "rand", "size": [1], "generator": "g"}]}]}"#,
    );
    let out = run(&["replay", p.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["cases"][0]["outputs"][0]["int"], 67_280_421_310_721_u64);
}

#[test]
fn usage_errors() {
    let out = run(&["replay", "/nonexistent/cases.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("/nonexistent/cases.json"));
    let out = run(&["bogus"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown command"));
    let out = run(&[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(run(&["--help"]).status.success());
    assert!(text(&run(&["--version"]).stdout).starts_with("torch-rng "));
}

/// The raw bytes of a written safetensors file's data section (after the header), which holds
/// the tensors in state_dict order.
fn safetensors_data(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let n = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    bytes[8 + n..].to_vec()
}

/// `init` takes a recorded program as it takes a description (told apart by `format`), and the
/// natural description of GPT-2 writes exactly the tensors of the program recorded from the real
/// model (golden/programs/gpt2_tiny.json, examples/models/real/gpt2_tiny.json).
#[test]
fn init_builds_programs_and_descriptions_alike() {
    let dir = case_file("unused", "").parent().unwrap().to_path_buf();
    let from_program = dir.join("gpt2_program.safetensors");
    let from_desc = dir.join("gpt2_desc.safetensors");
    for (input, output) in [
        ("golden/programs/gpt2_tiny.json", &from_program),
        ("examples/models/real/gpt2_tiny.json", &from_desc),
    ] {
        let out = run(&[
            "init",
            root().join(input).to_str().unwrap(),
            "--seed",
            "1234",
            "--variant",
            "default",
            "-o",
            output.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{input}: {}", text(&out.stderr));
    }
    assert_eq!(
        safetensors_data(&from_program),
        safetensors_data(&from_desc)
    );
}

/// `init --verify` replays a program's recording seed: exit 0 when every SHA-256 matches, exit
/// 2 naming the first differing tensor and element when one does not.
#[test]
fn init_verify_names_the_first_differing_tensor_and_element() {
    let prog = root().join("golden/programs/bert_tiny.json");
    let out = run(&["init", prog.to_str().unwrap(), "--verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("all 39 exact tensors match"),
        "{}",
        text(&out.stdout)
    );
    // The same program with the stored second element of its third entry changed.
    let mut doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&prog).unwrap()).unwrap();
    doc["check"]["sha256"][2] = "00".repeat(32).into();
    doc["check"]["head"][2][1] = "3f800000".into();
    let bad = case_file("bad_program.json", &doc.to_string());
    let out = run(&["init", bad.to_str().unwrap(), "--verify"]);
    assert_eq!(out.status.code(), Some(2));
    let s = text(&out.stdout);
    assert!(
        s.contains("the first is 'embeddings.token_type_embeddings.weight'")
            && s.contains("first at element #1: 0x3f800000 expected"),
        "{s}"
    );
    assert!(text(&out.stderr).contains("verification failed"));
    // A description has nothing to verify.
    let out = run(&[
        "init",
        root().join("examples/models/net.json").to_str().unwrap(),
        "--verify",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--verify needs a recorded program"));
}

/// Limits from the command line, a file of another format, an output equal to the input.
#[test]
fn init_limits_and_refusals() {
    let net = root().join("examples/models/net.json");
    let out_path = case_file("unused", "").with_file_name("net.safetensors");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "init",
            net.to_str().unwrap(),
            "--seed",
            "1",
            "-o",
            out_path.to_str().unwrap(),
        ];
        v.extend_from_slice(extra);
        run(&v)
    };
    assert!(args(&[]).status.success());
    let out = args(&["--max-modules", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("the model would create 6 modules, more than the limit --max-modules 3"),
        "{}",
        text(&out.stderr)
    );
    let out = args(&["--max-bytes", "1000"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("conv2: the build would allocate 10224 bytes"),
        "{}",
        text(&out.stderr)
    );
    let out = args(&["--max-depth", "x"]);
    assert!(text(&out.stderr).contains("--max-depth: not a non-negative integer"));
    let cases = root().join("golden/cases/demo.json");
    let out = run(&[
        "init",
        cases.to_str().unwrap(),
        "--seed",
        "1",
        "-o",
        "x.npz",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("(a recorded program)"),
        "{}",
        text(&out.stderr)
    );
    let copy = case_file("self.safetensors", &std::fs::read_to_string(&net).unwrap());
    let out = run(&[
        "init",
        copy.to_str().unwrap(),
        "--seed",
        "1",
        "-o",
        copy.to_str().unwrap(),
    ]);
    assert!(
        text(&out.stderr).contains("refusing to overwrite it"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&[
        "explain",
        "--model",
        net.to_str().unwrap(),
        "--max-modules",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--max-modules 2"),
        "{}",
        text(&out.stderr)
    );
}

/// `explain --model` takes a recorded program: every step with its derived numbers and words,
/// tied entries listing the steps of their tensor.
#[test]
fn explain_lists_a_programs_steps() {
    let prog = root().join("golden/programs/nanogpt_tiny.json");
    let out = run(&["explain", "--model", prog.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.starts_with("program "), "{s}");
    assert!(
        s.contains("transformer.h.0.attn.c_attn.weight: nn.init.kaiming_uniform_(")
            && s.contains("fan_in   = shape[1] * prod(shape[2:]) = 32")
            && s.contains("[model.py:164]"),
        "{s}"
    );
    assert!(
        s.contains("'lm_head.weight' is the tensor of 'transformer.wte.weight' (tied)"),
        "{s}"
    );
    let out = run(&["explain", "--model", prog.to_str().unwrap(), "--json"]);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["state_dict"].as_array().unwrap().len(), 29);
}

/// `init --device cuda --gpu ...` builds on the emulated device: a description's own `device`
/// and the flags give the same file, the profile changes the stream past one wave of threads, and
/// inconsistent flags are refused with exit 2. (The bits themselves are checked against the
/// spec's model in src/cuda/model_tests.rs; not yet on a GPU.)
#[test]
fn init_on_a_cuda_device() {
    let desc = r#"{"format": "torch-rng-model/1", "modules": [
        {"name": "fc", "module": "Linear", "in_features": 1000, "out_features": 300}]}"#;
    let on_t4 = desc.replacen(
        "\"modules\"",
        "\"device\": \"cuda\", \"gpu\": \"t4\", \"modules\"",
        1,
    );
    let plain = case_file("cuda_desc.json", desc);
    let own = case_file("cuda_desc_t4.json", &on_t4);
    let dir = plain.parent().unwrap().to_path_buf();
    let build = |model: &Path, extra: &[&str], out: &str| {
        let out = dir.join(out);
        let mut args = vec!["init", model.to_str().unwrap(), "--seed", "0", "-o"];
        args.push(out.to_str().unwrap());
        args.extend_from_slice(extra);
        (run(&args), out)
    };
    let (o, flags_t4) = build(
        &plain,
        &["--device", "cuda", "--gpu", "40,1024"],
        "a.safetensors",
    );
    assert!(o.status.success(), "{}", text(&o.stderr));
    let (o, file_t4) = build(&own, &[], "b.safetensors");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_eq!(safetensors_data(&flags_t4), safetensors_data(&file_t4));
    let (o, h100) = build(&own, &["--gpu", "h100"], "c.safetensors");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_ne!(safetensors_data(&h100), safetensors_data(&file_t4));
    let (o, cpu) = build(&own, &["--device", "cpu"], "d.safetensors");
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert_ne!(safetensors_data(&cpu), safetensors_data(&file_t4));
    for (model, extra, expect) in [
        (&plain, &["--device", "cuda"][..], "needs --gpu"),
        (&plain, &["--gpu", "t4"][..], "add --device cuda"),
        (
            &plain,
            &["--device", "cuda", "--gpu", "gtx480"][..],
            "gtx480",
        ),
        (
            &plain,
            &["--device", "cuda", "--gpu", "16,100"][..],
            "at least 256",
        ),
        (&plain, &["--device", "tpu"][..], "expected cpu or cuda"),
    ] {
        let (o, _) = build(model, extra, "e.safetensors");
        assert_eq!(o.status.code(), Some(2), "{extra:?}");
        assert!(
            text(&o.stderr).contains(expect),
            "{extra:?}: {}",
            text(&o.stderr)
        );
    }
    let o = run(&[
        "explain",
        "nn.Linear",
        "--in-features",
        "3",
        "--out-features",
        "4",
        "--device",
        "cuda",
        "--gpu",
        "h100",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
}

/// `--threads N` changes no byte: `init` of GPT-2's natural description
/// (examples/models/real/gpt2_tiny.json) writes the same file on 1, 2, 3 and 7 threads, and
/// `replay --threads 3` of golden/cases/core_randn.json (tensors up to 2^20 elements) still
/// matches PyTorch's result file; a bad count is refused.
#[test]
fn threads_change_no_byte() {
    let dir = case_file("unused", "").parent().unwrap().to_path_buf();
    let model = root().join("examples/models/real/gpt2_tiny.json");
    let mut files = Vec::new();
    for threads in ["1", "2", "3", "7"] {
        let output = dir.join(format!("gpt2_threads_{threads}.safetensors"));
        let out = run(&[
            "init",
            model.to_str().unwrap(),
            "--seed",
            "7",
            "--threads",
            threads,
            "-o",
            output.to_str().unwrap(),
        ]);
        assert!(out.status.success(), "{threads}: {}", text(&out.stderr));
        files.push(std::fs::read(&output).unwrap());
    }
    assert!(files.iter().all(|f| *f == files[0]));

    let cases = root().join("golden/cases/core_randn.json");
    let out = run(&["replay", cases.to_str().unwrap(), "--threads", "3"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let actual: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("golden/results/core_randn.json")).unwrap(),
    )
    .unwrap();
    let mismatches = torch_rng::replay::compare_results(&expected, &actual).unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");

    for bad in ["-1", "two", ""] {
        let out = run(&["init", model.to_str().unwrap(), "--threads", bad]);
        assert_eq!(out.status.code(), Some(2));
        assert!(text(&out.stderr).contains("--threads"), "{bad}");
    }
}

/// `--shard I/N --shard-dim D` writes, for each tensor, the part `torch.tensor_split(t, N, D)[I]`
/// of the full init (the shards of a 64 x 32 embedding and of 1-D biases along 0; along 1, 1-D
/// tensors are whole on every shard), and `--tensors` keeps only the matching names
/// (examples/models/real/gpt2_tiny.json, seed 3).
#[test]
fn shards_and_tensor_selections_are_parts_of_the_full_init() {
    use torch_rng::checkpoint::Checkpoint;
    let dir = case_file("unused", "").parent().unwrap().to_path_buf();
    let model = root().join("examples/models/real/gpt2_tiny.json");
    let init = |extra: &[&str], file: &str| {
        let output = dir.join(file);
        let mut args = vec![
            "init",
            model.to_str().unwrap(),
            "--seed",
            "3",
            "-o",
            output.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert!(out.status.success(), "{extra:?}: {}", text(&out.stderr));
        let mut c = Checkpoint::open(&output).unwrap();
        c.read_all()
            .unwrap()
            .into_iter()
            .map(|(n, t)| (n, t.to_tensor().unwrap()))
            .collect::<Vec<_>>()
    };
    let full = init(&[], "shard_full.safetensors");
    for dim in [0usize, 1] {
        let shards: Vec<_> = (0..3)
            .map(|i| {
                let s = format!("{i}/3");
                let d = dim.to_string();
                init(
                    &["--shard", &s, "--shard-dim", &d],
                    &format!("shard_{i}_{dim}.safetensors"),
                )
            })
            .collect();
        for (k, (name, t)) in full.iter().enumerate() {
            if t.shape().len() <= dim {
                for s in &shards {
                    assert_eq!(&s[k].1, t, "{name} whole on every shard");
                }
                continue;
            }
            let size = t.shape()[dim];
            let mut start = 0;
            for (i, s) in shards.iter().enumerate() {
                assert_eq!(&s[k].0, name);
                let len = size / 3 + usize::from(i < size % 3);
                assert_eq!(s[k].1, t.narrow(dim, start, len).unwrap(), "{name} {i}/3");
                start += len;
            }
            assert_eq!(start, size);
        }
    }
    let some = init(
        &["--tensors", "*.attn.*weight,lm_head*"],
        "some.safetensors",
    );
    let names: Vec<&str> = some.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "transformer.h.0.attn.c_attn.weight",
            "transformer.h.0.attn.c_proj.weight",
            "transformer.h.1.attn.c_attn.weight",
            "transformer.h.1.attn.c_proj.weight",
            "lm_head.weight"
        ]
    );
    for (n, t) in &some {
        assert_eq!(t, &full.iter().find(|(m, _)| m == n).unwrap().1);
    }
    for (bad, why) in [
        (&["--shard", "3/3"][..], "--shard"),
        (&["--shard", "1"][..], "--shard"),
        (&["--shard-dim", "1"][..], "--shard-dim needs"),
        (&["--tensors", "nothing*"][..], "selects no tensor"),
        // A dimension no tensor has would write the whole model under a shard's name.
        (
            &["--shard", "0/2", "--shard-dim", "9"][..],
            "nothing would be split",
        ),
    ] {
        let output = dir.join("refused.safetensors");
        let mut args = vec![
            "init",
            model.to_str().unwrap(),
            "--seed",
            "3",
            "-o",
            output.to_str().unwrap(),
        ];
        args.extend_from_slice(bad);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}");
        assert!(text(&out.stderr).contains(why), "{bad:?}");
    }
}

/// `torch-rng audit` on checkpoints written by PyTorch 2.15 (golden/audit, tools/gen_audit.py).
#[test]
fn audit_names_the_seed_and_what_changed() {
    let dir = root().join("golden/audit");
    let file = |n: &str| dir.join(n).to_str().unwrap().to_string();
    let out = run(&[
        "audit",
        &file("mlp_seed24601_reinit_scaled.pt"),
        "--model",
        &file("mlp.json"),
        "--seeds",
        "0..100000",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["seed"], 24_601);
    assert_eq!(v["verdict"], "differs");
    let out = run(&[
        "audit",
        &file("mlp_seed42.safetensors"),
        "--tensor",
        "fc1.weight",
        "--op",
        "kaiming_uniform_(a=sqrt(5))",
        "--variants",
        "default",
        "--releases",
        "2.13-2.15",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let t = text(&out.stdout);
    assert!(t.contains("seed 42") && t.contains("identical"), "{t}");
    for (args, expect) in [
        (vec!["audit"], "usage"),
        (vec!["audit", "x.safetensors"], "No such file"),
        (
            vec!["audit", &file("mlp_seed42.safetensors")],
            "give --model",
        ),
        (
            vec![
                "audit",
                &file("mlp_seed42.safetensors"),
                "--tensor",
                "fc1.weight",
            ],
            "go together",
        ),
        (
            vec![
                "audit",
                &file("mlp_seed42.safetensors"),
                "--model",
                &file("mlp.json"),
                "--seeds",
                "9..3",
            ],
            "empty",
        ),
        (
            vec![
                "audit",
                &file("mlp_seed42.safetensors"),
                "--model",
                &file("mlp.json"),
                "--releases",
                "2.16",
            ],
            "2.16",
        ),
        (
            vec![
                "audit",
                &file("mlp_seed42.safetensors"),
                "--model",
                &file("mlp.json"),
                "--variants",
                "neon",
            ],
            "neon",
        ),
        (
            vec!["audit", &file("mlp.json"), "--model", &file("mlp.json")],
            "mlp.json",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty(), "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(expect), "{args:?}: {err}");
    }
}
