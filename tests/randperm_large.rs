//! `randperm(214748363)` and `randperm(214748364)` (int32): the last n of the forward
//! Fisher–Yates shuffle and the first of the 2.6+ inside-out one, against the sha256 that
//! `tools/gen_golden.py golden/cases_large/samplers_randperm_large.json` recorded from PyTorch
//! 2.15.0 (`golden/results/samplers_randperm_large.json`).
//!
//! About 1.7 GB and 20+ s, so it is not part of the default golden run:
//! `cargo test --release --test randperm_large -- --ignored`.

use std::path::Path;

use serde_json::Value;
use torch_rng::replay::{compare_results, parse_case_file, results_document, run_case};

#[test]
#[ignore = "allocates 1.7 GB and takes 20+ s; run with --ignored"]
fn randperm_at_the_inside_out_threshold_matches_pytorch() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    let cases = std::fs::read_to_string(root.join("cases_large/samplers_randperm_large.json"))
        .expect("the large case file exists");
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("results/samplers_randperm_large.json"))
            .expect("its result file exists"),
    )
    .expect("valid JSON");
    let cases = parse_case_file(&cases).expect("a valid case file");
    let results: Vec<_> = cases.iter().map(run_case).collect();
    let actual = results_document(torch_rng::LATEST_RELEASE, &results);
    let mismatches = compare_results(&expected, &actual).unwrap();
    assert!(mismatches.is_empty(), "{mismatches:?}");
}
