//! Audits of checkpoints made by real PyTorch 2.15 (golden/audit/, written by
//! tools/gen_audit.py: torch.save and safetensors.torch files of a few models and seeds, some
//! changed after init: one tensor re-initialised, one scaled, one SGD step, one tie made after
//! init, a CNN built under avx2 and searched under default only). The expected answers
//! (golden/audit/expected.json) were derived by that script from what it did: the seed it gave
//! manual_seed, the variants whose PyTorch build gives the same bits, which tensors it changed
//! and how, which tensors are the same for seed and seed + 1.
#![cfg(feature = "json")]

use std::path::Path;

use serde_json::Value;
use torch_rng::audit::{self, Against, Modification, Options, Report, Status, Verdict};
use torch_rng::checkpoint::Checkpoint;
use torch_rng::nn::ModelDesc;
use torch_rng::{Capability, Era};

fn dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/audit")
}

fn run(case: &Value) -> Report {
    let d = dir();
    let desc = ModelDesc::parse(
        &std::fs::read_to_string(d.join(case["model"].as_str().unwrap())).unwrap(),
    )
    .unwrap();
    let mut file = Checkpoint::open(d.join(case["file"].as_str().unwrap())).unwrap();
    let mut options = Options::default();
    options.variants = case["options"]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Capability::parse(v.as_str().unwrap()).unwrap())
        .collect();
    if let Some(r) = case["options"]["seeds"].as_array() {
        options.seeds = Some((r[0].as_u64().unwrap(), r[1].as_u64().unwrap()));
    } else {
        // Common seeds only: a range of one seed that is common anyway.
        options.seeds = Some((0, 0));
    }
    audit::audit(&mut file, Against::Model(&desc), &options).unwrap()
}

fn check(case: &Value, report: &Report) -> Vec<String> {
    let name = case["name"].as_str().unwrap();
    let mut bad = Vec::new();
    let mut expect = |ok: bool, what: String| {
        if !ok {
            bad.push(format!("{name}: {what}"));
        }
    };
    expect(
        report.format == case["format"].as_str().unwrap(),
        format!("format {}", report.format),
    );
    expect(
        report.seed == case["seed"].as_u64(),
        format!("seed {:?}", report.seed),
    );
    expect(
        report.search.found_in == case["found_in"].as_str(),
        format!("found in {:?}", report.search.found_in),
    );
    let verdict = match case["verdict"].as_str().unwrap() {
        "identical" => Verdict::Identical,
        _ => Verdict::Differs,
    };
    expect(
        report.verdict == verdict,
        format!("verdict {:?}", report.verdict),
    );
    // The variants that give the file's bits under 2.15's era are the ones PyTorch 2.15 gave
    // the same bits under; none when the file's own variant was not searched.
    let era = Era::of_release("2.15.0").unwrap();
    let mut got: Vec<&str> = report
        .combinations
        .iter()
        .filter(|c| c.era == era)
        .map(|c| c.capability.name())
        .collect();
    got.sort_unstable();
    let mut want: Vec<&str> = case["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    want.sort_unstable();
    if !want.is_empty() {
        expect(got == want, format!("variants {got:?}, expected {want:?}"));
    }
    let tensors = case["tensors"].as_array().unwrap();
    expect(
        report.tensors.len() == tensors.len(),
        format!("{} tensors reported", report.tensors.len()),
    );
    for want in tensors {
        let tname = want["name"].as_str().unwrap();
        let Some(t) = report.tensors.iter().find(|t| t.name == tname) else {
            expect(false, format!("{tname} not reported"));
            continue;
        };
        expect(
            t.decided_by_seed == want["decided_by_seed"].as_bool().unwrap(),
            format!("{tname}: decided_by_seed {}", t.decided_by_seed),
        );
        if let Some(of) = want["tie_of"].as_str() {
            expect(
                t.tie_of.as_deref() == Some(of),
                format!("{tname}: tie_of {:?}", t.tie_of),
            );
        }
        let ok = match (want["status"].as_str().unwrap(), &t.status) {
            ("identical", Status::Identical) => true,
            ("variant_ulp", Status::VariantUlp { diff, .. }) => {
                diff.max_ulp == want["max_ulp"].as_u64().unwrap()
            }
            (
                "reinitialised",
                Status::Reinitialised {
                    fits, reproduced, ..
                },
            ) => {
                let call = want["fits"].as_str().unwrap();
                fits.iter().any(|f| f.call == call)
                    && (!want["reproduced"].as_bool().unwrap()
                        || reproduced.as_ref().is_some_and(|r| r.0 == call))
            }
            ("modified", Status::Modified { how, .. }) => match (&want["how"]["kind"], how) {
                (k, Modification::Scaled { factor, exact }) if k == "scaled" => {
                    *factor == want["how"]["factor"].as_f64().unwrap() && *exact
                }
                (k, Modification::Tie { of }) if k == "tie" => {
                    of == want["how"]["of"].as_str().unwrap()
                }
                (k, Modification::Perturbed { .. }) if k == "perturbed" => true,
                _ => false,
            },
            _ => false,
        };
        expect(
            ok,
            format!("{tname}: expected {}, got {:?}", want["status"], t.status),
        );
    }
    bad
}

#[test]
fn audits_of_pytorch_checkpoints_give_the_generators_answers() {
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("expected.json")).unwrap())
            .unwrap();
    assert_eq!(expected["pins"]["torch"], "2.15.0");
    let cases = expected["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    let mut failures = Vec::new();
    for case in cases {
        let report = run(case);
        let bad = check(case, &report);
        if !bad.is_empty() {
            failures.extend(bad);
            failures.push(report.to_text());
        }
        // The JSON form carries the same answer.
        let json = report.to_json();
        assert_eq!(json["seed"], case["seed"], "{}", case["name"]);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
