//! `torch-rng explain` for modules and models, as a user runs it: output, JSON and refusals
//! (exit status 2 and a message, never a panic).
#![cfg(feature = "cli")]

use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_torch-rng"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .output()
        .expect("the binary runs")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn refused(args: &[&str], expect: &str) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    assert!(err.contains(expect), "{args:?}: {err:?} lacks {expect:?}");
    assert!(!err.contains("panicked"), "{args:?}: {err}");
}

#[test]
fn linear_answers_the_sqrt5_puzzle() {
    let text = ok(&[
        "explain",
        "nn.Linear",
        "--in-features",
        "3",
        "--out-features",
        "4",
    ]);
    for needle in [
        "weight: nn.init.kaiming_uniform_(empty([4, 3], dtype=torch.float32), a=2.23606797749979",
        "gain     = sqrt(2 / (1 + a^2)) = 0.5773502691896257",
        "bias: nn.init.uniform_(empty([4], dtype=torch.float32), a=-0.5773502691896258",
        "bound    = 1 / sqrt(fan_in) = 0.5773502691896258",
        "U(-1/sqrt(fan_in), 1/sqrt(fan_in))",
        "identical in float32 (0x3f13cd3a)",
    ] {
        assert!(text.contains(needle), "{needle:?} missing from\n{text}");
    }
}

#[test]
fn json_for_machines() {
    let out = ok(&[
        "explain",
        "nn.Linear",
        "--in-features",
        "3",
        "--out-features",
        "4",
        "--bias",
        "false",
        "--dtype",
        "float64",
        "--capability",
        "default",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["capability"], "default");
    let sd = v["state_dict"].as_array().expect("state_dict list");
    assert_eq!(sd.len(), 1, "bias=False leaves only the weight");
    assert_eq!(sd[0]["dtype"], "float64");
    assert_eq!(sd[0]["steps"][0]["words"], 24);
    assert_eq!(
        sd[0]["steps"][0]["dtype_values"][1]["bits"],
        "3fe279a74590331c"
    );
}

#[test]
fn attention_and_models() {
    let text = ok(&[
        "explain",
        "nn.MultiheadAttention",
        "--embed-dim",
        "4",
        "--num-heads",
        "2",
    ]);
    assert!(
        text.contains("draw order (differs from the state_dict order): out_proj.weight, out_proj.bias, in_proj_weight"),
        "{text}"
    );
    let text = ok(&["explain", "--model", "examples/models/net.json"]);
    assert!(text.contains("fc3.bias: nn.init.uniform_"), "{text}");
    let old = ok(&[
        "explain",
        "nn.Conv2d",
        "--in-channels",
        "0",
        "--out-channels",
        "4",
        "--kernel-size",
        "3",
        "--torch-version",
        "2.9.1",
    ]);
    assert!(old.contains("uninitialised memory in PyTorch"), "{old}");
}

#[test]
fn bad_arguments_are_refused() {
    refused(&["explain", "nn.Foo"], "unknown module 'Foo'");
    refused(
        &["explain", "nn.Linear", "--in-features", "3"],
        "missing argument 'out_features'",
    );
    refused(
        &[
            "explain",
            "nn.Linear",
            "--in-features",
            "x",
            "--out-features",
            "2",
        ],
        "'in_features' must be an integer",
    );
    refused(
        &[
            "explain",
            "nn.Linear",
            "--in-features",
            "3",
            "--out-features",
            "2",
            "--bogus",
            "1",
        ],
        "bogus",
    );
    refused(&["explain", "nn.Linear", "--in-features"], "needs a value");
    refused(&["explain", "nn.Linear", "in-features", "3"], "usage");
    refused(
        &[
            "explain",
            "nn.Linear",
            "--in-features",
            "3",
            "--in-features",
            "3",
        ],
        "given twice",
    );
    refused(
        &[
            "explain",
            "nn.Conv2d",
            "--in-channels",
            "2",
            "--out-channels",
            "4",
            "--kernel-size",
            "3",
            "--groups",
            "3",
        ],
        "divisible by groups",
    );
    refused(
        &[
            "explain",
            "nn.Linear",
            "--in-features",
            "3",
            "--out-features",
            "4",
            "--dtype",
            "int64",
        ],
        "floating point",
    );
    refused(
        &[
            "explain",
            "nn.Linear",
            "--in-features",
            "3",
            "--out-features",
            "4",
            "--torch-version",
            "1.13",
        ],
        "1.13",
    );
    refused(
        &["explain", "--model", "does/not/exist.json"],
        "does/not/exist.json",
    );
    refused(
        &[
            "explain",
            "--model",
            "examples/models/net.json",
            "--in-features",
            "3",
        ],
        "--model",
    );
    refused(&["explain"], "usage");
}

/// The README's generated blocks are the command's output (regenerate them by pasting it).
#[test]
fn readme_blocks_are_current() {
    let readme = include_str!("../README.md");
    let block = |begin: &str, end: &str| {
        let from = readme.find(begin).expect("README has the begin marker") + begin.len();
        let to = readme.find(end).expect("README has the end marker");
        readme[from..to].to_string()
    };
    let table = block(
        "<!-- explain-table:begin (generated by `torch-rng explain --readme-table`) -->",
        "<!-- explain-table:end -->",
    );
    assert_eq!(
        table.trim(),
        ok(&["explain", "--readme-table"]).trim(),
        "README table is stale: paste `torch-rng explain --readme-table` into it"
    );
    let linear = block(
        "<!-- explain-linear:begin (generated by `torch-rng explain nn.Linear --in-features 3 \
         --out-features 4`) -->\n",
        "<!-- explain-linear:end -->",
    );
    let text = ok(&[
        "explain",
        "nn.Linear",
        "--in-features",
        "3",
        "--out-features",
        "4",
    ]);
    assert_eq!(
        linear,
        format!(
            "```text\n$ torch-rng explain nn.Linear --in-features 3 --out-features 4\n{text}```\n"
        ),
        "README block is stale: paste `torch-rng explain nn.Linear --in-features 3 \
         --out-features 4` into it"
    );
}

/// Init calls on the command line: JSON, and the refusals.
#[test]
fn init_calls() {
    let out = ok(&[
        "explain",
        "nn.init.kaiming_uniform_",
        "--size",
        "4,3",
        "--a",
        "2.2360679774997896",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["params"][0]["words"], 12);
    assert_eq!(
        v["params"][0]["quantities"][1]["value"],
        0.577_350_269_189_625_7
    );
    refused(&["explain", "nn.init.kaiming_uniform_"], "--size");
    refused(
        &["explain", "nn.init.kaiming_uniform_", "--size", "4,x"],
        "not a list of sizes",
    );
    refused(
        &["explain", "nn.init.xavier_uniform_", "--size", "4"],
        "fewer than 2",
    );
    refused(
        &[
            "explain",
            "nn.init.uniform_",
            "--size",
            "2",
            "--dtype",
            "int64",
        ],
        "uniform_",
    );
    refused(
        &["explain", "nn.init.uniform_", "--size", "2", "--std", "1"],
        "takes no argument --std",
    );
    let old = ok(&[
        "explain",
        "trunc_normal_",
        "--size",
        "20",
        "--torch-version",
        "2.5.1",
    ]);
    assert!(old.contains("inverse CDF"), "{old}");
}

/// Module flags: a JSON value, a comma list, a string.
#[test]
fn module_flags() {
    let out = ok(&[
        "explain",
        "nn.Conv2d",
        "--in-channels",
        "2",
        "--out-channels",
        "4",
        "--kernel-size",
        "3,2",
        "--bias",
        "false",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["state_dict"].as_array().unwrap().len(), 1);
    assert_eq!(v["state_dict"][0]["shape"], serde_json::json!([4, 2, 3, 2]));
    assert_eq!(v["state_dict"][0]["steps"][0]["words"], 48);
    refused(&["explain", "nn.Foo"], "unknown module");
    refused(
        &["explain", "nn.Linear", "--in-features", "3"],
        "out_features",
    );
    refused(&["explain", "nn.Linear", "--in-features"], "needs a value");
    refused(&["explain", "nn.Linear", "in-features", "3"], "usage");
    refused(&["explain", "--model"], "usage");
}
