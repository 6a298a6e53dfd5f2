#![cfg(feature = "cli")]
//! Replays every case file in `golden/cases/` in-process and compares each tensor's SHA-256 with the
//! result file `tools/gen_golden.py` wrote from real PyTorch (`golden/results/`).
//!
//! All failures are reported at once, each with the first differing element in hex where the
//! recorded head shows it. `TORCH_RNG_CASES=substring` runs only the cases whose name contains it.

use std::path::{Path, PathBuf};

use serde_json::Value;
use torch_rng::replay::{compare_results, parse_case_file, results_document, run_case};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

#[test]
fn every_golden_case_matches_pytorch() {
    let filter = std::env::var("TORCH_RNG_CASES").unwrap_or_default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(golden_dir().join("cases"))
        .expect("golden/cases exists")
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no case files in golden/cases");
    let mut failures = Vec::new();
    let mut ran = 0;
    for case_path in &files {
        let file = case_path.file_name().unwrap().to_string_lossy().to_string();
        let result_path = golden_dir().join("results").join(&file);
        let cases = parse_case_file(&std::fs::read_to_string(case_path).unwrap())
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        let expected: Value = serde_json::from_str(
            &std::fs::read_to_string(&result_path)
                .unwrap_or_else(|e| panic!("{}: {e}", result_path.display())),
        )
        .unwrap();
        let selected: Vec<_> = cases.iter().filter(|c| c.name.contains(&filter)).collect();
        let results: Vec<_> = selected.iter().map(|c| run_case(c)).collect();
        ran += results.len();
        let actual = results_document(torch_rng::LATEST_RELEASE, &results);
        let mut expected = expected;
        if let Some(list) = expected.get_mut("cases").and_then(Value::as_array_mut) {
            list.retain(|c| c["name"].as_str().is_some_and(|n| n.contains(&filter)));
        }
        for m in compare_results(&expected, &actual).unwrap() {
            failures.push(format!("{file}: {m}"));
        }
    }
    eprintln!("replayed {ran} golden cases from {} files", files.len());
    assert!(
        failures.is_empty(),
        "{} mismatches against PyTorch:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
