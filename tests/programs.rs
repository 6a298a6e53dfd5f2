//! Recorded programs replayed against the real models.
//!
//! `golden/programs/<name>.json` were recorded by `tools/record_init.py` from the real libraries
//! (torchvision, transformers, timm, nanoGPT) and from `tools/program_models.py`;
//! `golden/programs/results.json` holds the SHA-256 of every `state_dict` entry of the real model
//! built in real PyTorch for seeds 0, 1 and 1234 under both kernel variants
//! (`tools/gen_programs.py`). Every program is replayed for every run and compared by SHA-256;
//! entries written by an op that torch-rng reproduces only within a bound (`erfinv_` through MKL,
//! `orthogonal_`'s QR) are compared element by element instead, within the README's bounds: 2 ulps
//! or 32·2^-23 (float32), 64·2^-52·max(|x|, 1) (float64). All failures are reported at once; `TORCH_RNG_PROGRAMS=substring`
//! filters by program name.

use serde_json::Value;
use torch_rng::nn::Program;
use torch_rng::{Capability, Context, CpuGenerator, DType, Tensor, Torch};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/programs");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| {
            u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex written by gen_programs.py")
        })
        .collect()
}

/// Distance in ulps between two floats of the same width, as ordered integers.
fn ulps(a: i64, b: i64) -> u64 {
    a.abs_diff(b)
}

fn ordered32(bits: u32) -> i64 {
    let v = i64::from(bits & 0x7fff_ffff);
    if bits >> 31 == 1 {
        -v
    } else {
        v
    }
}

fn ordered64(bits: u64) -> i128 {
    let v = i128::from(bits & 0x7fff_ffff_ffff_ffff);
    if bits >> 63 == 1 {
        -v
    } else {
        v
    }
}

/// `orthogonal_`'s bound in the README: 32 ε·|gain| with ε = 2^-23 (the models here use gain 1).
const ORTHOGONAL_BOUND_F32: f32 = 32.0 / 8_388_608.0;

/// The number of inexact elements of a bounded entry, or the first element outside its bound.
fn within_bound(t: &Tensor, expected: &[u8]) -> Result<usize, String> {
    let got = t.to_le_bytes();
    if got.len() != expected.len() {
        return Err(format!("{} bytes, expected {}", got.len(), expected.len()));
    }
    let mut inexact = 0;
    match t.dtype() {
        DType::Float32 => {
            for (i, (a, b)) in got.chunks(4).zip(expected.chunks(4)).enumerate() {
                let a = u32::from_le_bytes(a.try_into().unwrap());
                let b = u32::from_le_bytes(b.try_into().unwrap());
                if a != b {
                    inexact += 1;
                    let diff = (f32::from_bits(a) - f32::from_bits(b)).abs();
                    if ulps(ordered32(a), ordered32(b)) > 2 && diff > ORTHOGONAL_BOUND_F32 {
                        return Err(format!("element {i}: {a:08x}, expected {b:08x}"));
                    }
                }
            }
        }
        DType::Float64 => {
            for (i, (a, b)) in got.chunks(8).zip(expected.chunks(8)).enumerate() {
                let a = u64::from_le_bytes(a.try_into().unwrap());
                let b = u64::from_le_bytes(b.try_into().unwrap());
                if a != b {
                    inexact += 1;
                    let (x, y) = (f64::from_bits(a), f64::from_bits(b));
                    let bound = 64.0 * f64::EPSILON * y.abs().max(1.0);
                    if ordered64(a) != ordered64(b) && (x - y).abs() > bound {
                        return Err(format!("element {i}: {a:016x}, expected {b:016x}"));
                    }
                }
            }
        }
        other => return Err(format!("bounded {other} entry")),
    }
    Ok(inexact)
}

#[test]
fn programs_match_pytorch() {
    let results: Value = serde_json::from_str(&read("results.json")).unwrap();
    assert_eq!(results["format"], "torch-rng-program-results/1");
    let filter = std::env::var("TORCH_RNG_PROGRAMS").unwrap_or_default();
    let mut failures = Vec::new();
    let mut checked = 0usize;
    let mut inexact = 0usize;
    for (name, spec) in results["programs"].as_object().unwrap() {
        if !name.contains(&filter) {
            continue;
        }
        let program = Program::parse(&read(&format!("{name}.json")))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        for run in spec["runs"].as_array().unwrap() {
            let seed = run["seed"].as_u64().unwrap();
            let cap = Capability::parse(run["capability"].as_str().unwrap()).unwrap();
            let target: Context = program.context(cap).unwrap();
            let label = format!("{name} seed {seed} {}", cap.name());
            let entries = match program.entries(&mut Torch::from_parts(
                target,
                CpuGenerator::with_seed(seed),
            )) {
                Ok(e) => e,
                Err(e) => {
                    failures.push(format!("{label}: {e}"));
                    continue;
                }
            };
            let shas = run["sha256"].as_array().unwrap();
            if shas.len() != entries.len() {
                failures.push(format!(
                    "{label}: {} entries, expected {}",
                    entries.len(),
                    shas.len()
                ));
                continue;
            }
            for (e, sha) in entries.iter().zip(shas) {
                checked += 1;
                if e.tensor.sha256_hex() == sha.as_str().unwrap() {
                    continue;
                }
                match run["values"].get(&e.name).and_then(Value::as_str) {
                    Some(hex) if e.bounded => match within_bound(&e.tensor, &hex_bytes(hex)) {
                        Ok(n) => inexact += n,
                        Err(why) => {
                            failures.push(format!("{label}: '{}' outside its bound: {why}", e.name))
                        }
                    },
                    _ => failures.push(format!(
                        "{label}: '{}' sha256 {} expected {} (bounded: {})",
                        e.name,
                        e.tensor.sha256_hex(),
                        sha,
                        e.bounded
                    )),
                }
            }
        }
    }
    println!("{checked} entries compared, {inexact} bounded elements inexact");
    assert!(checked > 0 || !filter.is_empty(), "no program was compared");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_program_verifies_itself() {
    let mut n = 0;
    for entry in std::fs::read_dir(DIR).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_str().unwrap().to_string();
        if !file.ends_with(".json") || file == "results.json" {
            continue;
        }
        let program = Program::parse(&read(&file)).unwrap();
        let v = program.verify().unwrap();
        assert!(v.exact(), "{file}: {v}");
        n += 1;
    }
    assert!(n >= 6);
}
