//! Release eras through the public API: the `torch_version` setting of the library, the case format
//! and the demo. The bits of each era are checked against real PyTorch by the golden cases
//! (`golden/cases/eras_core.json`); these tests cover the plumbing around them.

use torch_rng::replay::{parse_case_file, replay_str};
use torch_rng::{Capability, Context, DType, Era, Error, Torch};

/// Every release from 2.0 to 2.15 is accepted, and the switch points are those of
/// shared/reference/version-eras.md section 1.
#[test]
fn every_release_maps_to_its_era() {
    let expect = |minor: u32| match minor {
        0 => Era::L0,
        1..=5 => Era::L1,
        6 => Era::R1,
        7..=11 => Era::R2,
        12 => Era::R3,
        _ => Era::R4,
    };
    for minor in 0..=15 {
        for patch in 0..=2 {
            let release = format!("2.{minor}.{patch}");
            assert_eq!(
                Era::of_release(&release).unwrap(),
                expect(minor),
                "{release}"
            );
        }
    }
    for bad in ["1.13.1", "2.16.0", "3.0.0", "two", "2.5.1.post1"] {
        let got = Era::of_release(bad);
        assert!(
            matches!(got, Err(Error::Unsupported { .. })),
            "{bad}: {got:?}"
        );
    }
}

/// torch.manual_seed(42); torch.rand(4, dtype=torch.float16) in 2.11 keeps 11 bits of each word,
/// in 2.12 24 (cpu-rng.md section 14 has the 2.15 values).
#[test]
fn target_for_release_selects_the_kernel() {
    let rand_f16 = |release: &str| {
        let mut torch = Torch::new(Context::for_release(Capability::Avx2, release).unwrap());
        torch.manual_seed(42).unwrap();
        torch.rand(&[4], DType::Float16).unwrap().bits()
    };
    assert_eq!(rand_f16("2.12.1"), [0x3b0f, 0x3b52, 0x3620, 0x3bad]);
    assert_eq!(rand_f16("2.15.0"), rand_f16("2.12.0"));
    let legacy = rand_f16("2.11.0");
    assert_ne!(legacy, rand_f16("2.12.0"));
    assert_eq!(legacy, rand_f16("2.0.1"));
}

fn case_file(torch_version: &str) -> String {
    format!(
        r#"{{"format": "torch-rng-cases/1", "cases": [{{"name": "c", "torch_version": "{torch_version}",
            "steps": [{{"op": "manual_seed", "seed": 1}}, {{"op": "rand", "size": [3], "dtype": "bfloat16"}}]}}]}}"#
    )
}

#[test]
fn case_files_name_their_release() {
    let cases = parse_case_file(&case_file("2.9.1")).unwrap();
    assert_eq!(
        (cases[0].era, cases[0].torch_version.as_str()),
        (Era::R2, "2.9.1")
    );
    let err = parse_case_file(&case_file("1.13.1")).unwrap_err();
    assert!(matches!(err, Error::CaseFile { .. }), "{err}");
    assert!(err.to_string().contains("1.13.1"), "{err}");
    let doc = replay_str(&case_file("2.0.1")).unwrap();
    assert_eq!(doc["torch_version"], "2.0.1");
    assert_eq!(doc["cases"][0]["torch_version"], "2.0.1");
}

/// The demo's float32 experiments did not change between releases; only the header names the
/// release.
#[cfg(feature = "cli")]
#[test]
fn demo_is_the_same_in_every_era() {
    let demo = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_torch-rng"))
            .arg("demo")
            .args(args)
            .output()
            .expect("the binary runs")
    };
    let text = |o: &std::process::Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let latest = text(&demo(&[]));
    for era in Era::ALL {
        let out = demo(&["--torch-version", &era.first_release()]);
        assert!(out.status.success(), "{era}");
        let old = text(&out);
        let strip = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(strip(&old), strip(&latest), "{era}");
        assert!(old.lines().next().unwrap().contains(&era.first_release()));
    }
    assert_eq!(demo(&["--torch-version", "1.13.1"]).status.code(), Some(2));
}
