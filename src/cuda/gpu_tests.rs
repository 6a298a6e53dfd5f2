#![cfg(feature = "cli")]
//! Replays fixtures recorded on a real GPU by `tools/gen_golden_cuda.py` (golden/cuda/cases/ and
//! golden/cuda/results/) against torch-rng's CUDA emulation, when they are present.
//!
//! The case files are ordinary case files (`"device": "cuda"` with the GPU's `sm_count` and
//! `max_threads_per_sm`): they are read by [`crate::replay::parse_case_file`] and run by
//! [`crate::replay::run_case`], the code behind `torch-rng replay`. Only the three split launches
//! (tensors of 2 GB, past 32-bit indexing) are not materialised: their elements are computed one
//! by one from the launch plan and checked at the recorded samples.
//!
//! Comparison per output:
//! * integer, uniform, bernoulli, dropout, randperm paths, offsets, states, the stateless ops'
//!   integer kernels, every uniform-only `nn.init` call and module: sha256 (bit-exact);
//! * outputs that go through the GPU's hardware approximations (float32/float16/bfloat16
//!   `randn`/`normal_`/`log_normal_` and the normal-based `nn.init` calls and modules, every
//!   non-float64 `exponential_`, `geometric_`, `cauchy_`, and the CUDA stateless normal): element
//!   by element within a bound, with the exact fraction printed;
//! * float64 normal-family outputs: within 1 ulp (libdevice's reciprocal seed);
//! * `orthogonal_`: within a bound (the GPU's QR is cuSOLVER's, torch-rng's a Householder QR).
//!
//! Without fixtures the test passes and says so: no GPU has been used yet.
//! `tests/data/cuda_dry_run/cases/` (written by `gen_golden_cuda.py --dry-run`) is parsed and run
//! in any case, so that the script and the replay agree on every op and field.

// Test code: one comparison of fixture outputs, kept in one piece.
#![allow(
    clippy::too_many_lines,
    clippy::items_after_statements,
    clippy::match_same_arms,
    clippy::semicolon_if_nothing_returned
)]

use std::path::{Path, PathBuf};

use crate::context::{CudaEra, DeviceProfile};
use crate::cuda::curand;
use crate::cuda::launch::{find, plan_nullary};
use crate::replay::{parse_case_file, run_case_kept, Output};
use crate::{CudaGenerator, DType, Tensor};
use serde_json::Value;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("a list")
        .iter()
        .map(|x| x.as_i64().expect("an integer"))
        .collect()
}

fn dtype_of(s: &Value, default: DType) -> DType {
    s.get("dtype")
        .and_then(Value::as_str)
        .map_or(default, |d| DType::parse(d).expect("dtype"))
}

/// What a step produced.
enum Got {
    /// Through the replay.
    Out(Output),
    /// A split launch, not materialised: element index → bits.
    Sampled(Box<dyn Fn(u64) -> u64>),
}

/// Elements above which a rand/randint/random_ output is checked through its samples only.
const MATERIALISE_LIMIT: u64 = 1 << 26;

/// Whether a step is a split launch too large to materialise.
fn is_large(s: &Value) -> bool {
    let op = s["op"].as_str().unwrap_or("");
    matches!(op, "rand" | "randint" | "random_")
        && ints(&s["size"]).iter().map(|&d| d as u64).product::<u64>() > MATERIALISE_LIMIT
}

/// A split launch's elements, one by one from the launch plan (the offsets are reserved).
fn sampled(
    s: &Value,
    g: &mut CudaGenerator,
    dev: &DeviceProfile,
    era: CudaEra,
) -> Result<Box<dyn Fn(u64) -> u64>, crate::Error> {
    let op = s["op"].as_str().unwrap();
    let n: u64 = ints(&s["size"]).iter().map(|&d| d as u64).product();
    let dtype = dtype_of(
        s,
        if op == "rand" {
            DType::Float32
        } else {
            DType::Int64
        },
    );
    let rules = era.rules();
    // Only the one-word paths are sampled (the fixtures' split cases use them).
    let transform: Box<dyn Fn([u32; 4], usize) -> u64> = match (op, dtype) {
        ("rand", DType::Float32) => Box::new(|w: [u32; 4], j: usize| {
            let u = curand::uniform_f32(w[j]);
            u64::from(if u == 1.0 { 0.0f32 } else { u }.to_bits())
        }),
        ("randint", DType::Int64) => {
            let (low, high) = (s["low"].as_i64().unwrap(), s["high"].as_i64().unwrap());
            let range = (high - low) as u64;
            assert!(range < 1 << 28, "sampled randint covers the one-word path");
            Box::new(move |w: [u32; 4], j: usize| {
                (u64::from(w[j]) % range).wrapping_add(low as u64)
            })
        }
        ("random_", DType::UInt8) => Box::new(|w: [u32; 4], j: usize| u64::from(w[j] % 256)),
        other => panic!("no sampled path for {other:?}"),
    };
    let launches = plan_nullary(g, dev, rules, n, dtype.size() as u64, 4)?;
    Ok(Box::new(move |e| {
        let (l, li) = find(&launches, e).expect("index inside the tensor");
        let slot = l.locate(li);
        let w = crate::engine::philox::philox_block(l.seed(), slot.block, slot.subsequence);
        transform(w, slot.component)
    }))
}

/// A case with a split launch: its seeding, the launch (sampled) and the state after, each as the
/// replay would give it.
fn run_large(case: &Value) -> Vec<Got> {
    let sm = case["sm_count"].as_u64().unwrap() as u32;
    let tpsm = case["max_threads_per_sm"].as_u64().unwrap() as u32;
    let dev = DeviceProfile::custom(sm, tpsm).unwrap();
    let era = CudaEra::of_release(case["torch_version"].as_str().unwrap_or("2.15.0")).unwrap();
    let mut g = CudaGenerator::new();
    let mut out = Vec::new();
    for s in case["steps"].as_array().unwrap() {
        let got = match s["op"].as_str().unwrap() {
            "cuda.manual_seed" | "manual_seed" => {
                let seed: i128 = s["seed"].to_string().parse().unwrap();
                g.manual_seed(crate::generator::seed_from_i128(seed).unwrap());
                Got::Out(Output::Null)
            }
            "cuda.get_rng_state" => Got::Out(Output::Tensor(Tensor::from_bytes_u8(
                g.get_state(era.rules().state_layout),
            ))),
            _ if is_large(s) => match sampled(s, &mut g, &dev, era) {
                Ok(f) => Got::Sampled(f),
                Err(e) => Got::Out(Output::Error(e.to_string())),
            },
            other => panic!("a split-launch case with a step the test does not know: {other}"),
        };
        let stop = matches!(got, Got::Out(Output::Error(_)));
        out.push(got);
        if stop {
            break;
        }
    }
    out
}

/// How an output is compared.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Rule {
    Exact,
    /// Within 1 ulp (libdevice's reciprocal seed).
    NearExact,
    /// Through the hardware approximations: within `rel` relative or `abs` absolute.
    Modelled {
        rel: f64,
        abs: f64,
    },
}

/// The normal draws: the hardware sine and cosine (float), libdevice's seed (float64).
fn normal_rule(float64: bool) -> Rule {
    if float64 {
        Rule::NearExact
    } else {
        Rule::Modelled {
            rel: 2e-6,
            abs: 2e-5,
        }
    }
}

fn rule(step: &Value, dtype: DType) -> Rule {
    let op = step["op"].as_str().unwrap_or("");
    let float64 = dtype == DType::Float64;
    match op {
        "randn" | "normal_" | "log_normal_" | "_philox_normal_" => normal_rule(float64),
        // Every normal-based init call and module default (Embedding's normal_).
        "nn.init.normal_"
        | "nn.init.xavier_normal_"
        | "nn.init.kaiming_normal_"
        | "nn.init.trunc_normal_"
        | "nn.init.sparse_"
        | "nn.Embedding" => normal_rule(float64),
        // cuSOLVER's QR against a Householder QR in double.
        "nn.init.orthogonal_" => Rule::Modelled {
            rel: 1e-4,
            abs: 1e-5,
        },
        "exponential_" | "cauchy_" if float64 => Rule::NearExact,
        "exponential_" => Rule::Modelled {
            rel: 2e-6,
            abs: 1e-6,
        },
        "cauchy_" => Rule::Modelled {
            rel: 1e-4,
            abs: 1e-5,
        },
        "geometric_" if !float64 => Rule::Modelled { rel: 0.0, abs: 1.0 },
        _ => Rule::Exact,
    }
}

fn as_f64(bits: u64, dtype: DType) -> f64 {
    match dtype {
        DType::Float32 => f64::from(f32::from_bits(bits as u32)),
        DType::Float64 => f64::from_bits(bits),
        DType::Float16 => half::f16::from_bits(bits as u16).to_f64(),
        DType::BFloat16 => half::bf16::from_bits(bits as u16).to_f64(),
        DType::UInt64 => bits as f64,
        _ => {
            let w = dtype.size() * 8;
            ((bits << (64 - w)) as i64 >> (64 - w)) as f64
        }
    }
}

#[derive(Default)]
struct Tally {
    exact_outputs: usize,
    modelled_elems: usize,
    modelled_exact: usize,
    rejected_both: usize,
    failures: Vec<String>,
}

fn compare(name: &str, step: &Value, got: &Tensor, want: &Value, tally: &mut Tally) {
    let dtype = got.dtype();
    if got.shape()
        != ints(&want["shape"])
            .iter()
            .map(|&d| d as usize)
            .collect::<Vec<_>>()
    {
        tally.failures.push(format!(
            "{name}: shape {:?} vs {}",
            got.shape(),
            want["shape"]
        ));
        return;
    }
    if got.sha256_hex() == want["sha256"].as_str().unwrap_or("") {
        tally.exact_outputs += 1;
        if let Rule::Modelled { .. } = rule(step, dtype) {
            tally.modelled_elems += got.numel();
            tally.modelled_exact += got.numel();
        }
        return;
    }
    let bits = got.bits();
    let mut expected: Vec<(usize, u64)> = want["head"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, h)| (i, u64::from_str_radix(h.as_str().unwrap(), 16).unwrap()))
        .collect();
    if let Some(s) = want.get("samples").and_then(Value::as_array) {
        expected.extend(s.iter().map(|p| {
            (
                p[0].as_u64().unwrap() as usize,
                u64::from_str_radix(p[1].as_str().unwrap(), 16).unwrap(),
            )
        }));
    }
    match rule(step, dtype) {
        Rule::Exact => {
            let first = expected.iter().find(|(i, b)| bits[*i] != *b);
            tally.failures.push(format!(
                "{name}: sha256 differs (first differing recorded element: {first:x?})"
            ));
        }
        Rule::NearExact => {
            for &(i, b) in &expected {
                if bits[i].abs_diff(b) > 1 {
                    tally
                        .failures
                        .push(format!("{name}[{i}]: {:x} vs GPU {b:x}", bits[i]));
                    return;
                }
            }
            tally.exact_outputs += 1;
        }
        Rule::Modelled { rel, abs } => {
            for &(i, b) in &expected {
                tally.modelled_elems += 1;
                if bits[i] == b {
                    tally.modelled_exact += 1;
                    continue;
                }
                let (x, y) = (as_f64(bits[i], dtype), as_f64(b, dtype));
                let ulp = match dtype {
                    DType::Float16 => 2f64.powi(-10),
                    DType::BFloat16 => 2f64.powi(-7),
                    _ => 2f64.powi(-23),
                } * y.abs().max(1e-30);
                if (x - y).abs() > abs.max(rel * y.abs()) + 2.0 * ulp {
                    tally
                        .failures
                        .push(format!("{name}[{i}]: {x} vs GPU {y} (beyond the bound)"));
                    return;
                }
            }
        }
    }
}

/// Replays every case of a case file, and compares with `results` when given (else only runs
/// them: a structural check). Returns the outputs.
fn replay(cases_text: &str, results: Option<&Value>, tally: &mut Tally) -> Vec<Vec<Got>> {
    let doc: Value = serde_json::from_str(cases_text).unwrap();
    let parsed = parse_case_file(cases_text).unwrap_or_else(|e| panic!("the case file: {e}"));
    let mut all = Vec::new();
    for (ci, (cj, case)) in doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&parsed)
        .enumerate()
    {
        let name = case.name.as_str();
        let steps = cj["steps"].as_array().unwrap();
        let outs: Vec<Got> = if steps.iter().any(is_large) {
            run_large(cj)
        } else {
            run_case_kept(case)
                .outputs
                .into_iter()
                .map(Got::Out)
                .collect()
        };
        let Some(results) = results else {
            all.push(outs);
            continue; // structural run: only that it runs
        };
        let want_case = &results["cases"][ci];
        assert_eq!(want_case["name"], cj["name"], "results out of order");
        for (si, got) in outs.iter().enumerate() {
            let want = &want_case["outputs"][si];
            let step = &steps[si];
            let at = format!("{name} step {si}");
            let want_error = want.get("error").is_some();
            match got {
                Got::Out(Output::Error(_)) if want_error => {
                    tally.rejected_both += 1;
                }
                Got::Out(Output::Error(e)) => {
                    tally
                        .failures
                        .push(format!("{at}: rejected ({e}), GPU ran it"));
                }
                _ if want_error => {
                    tally.failures.push(format!("{at}: ran, GPU rejected it"));
                }
                Got::Out(Output::Null) => {
                    if !want.is_null() {
                        tally
                            .failures
                            .push(format!("{at}: no output, GPU gave {want}"));
                    }
                }
                Got::Out(Output::Int(n)) => {
                    let w = &want["int"];
                    let w = w.as_str().map_or_else(|| w.to_string(), str::to_string);
                    if n.to_string() == w {
                        tally.exact_outputs += 1;
                    } else {
                        tally.failures.push(format!("{at}: {n}, GPU {w}"));
                    }
                }
                Got::Out(Output::Tensor(t) | Output::Bounded(t, _)) => {
                    compare(&at, step, t, want, tally);
                }
                Got::Out(Output::StateDict(sd) | Output::BoundedStateDict(sd, ..)) => {
                    for (k, t) in sd {
                        let rec = want["state_dict"]
                            .as_array()
                            .and_then(|l| l.iter().find(|p| p[0] == k.as_str()))
                            .map(|p| &p[1]);
                        match rec {
                            Some(rec) => compare(&format!("{at} {k}"), step, t, rec, tally),
                            None => tally
                                .failures
                                .push(format!("{at}: no entry {k} on the GPU")),
                        }
                    }
                }
                Got::Out(Output::Recorded(_)) => {
                    tally
                        .failures
                        .push(format!("{at}: output freed (run_case_kept keeps them)"));
                }
                Got::Sampled(f) => {
                    let samples = want["samples"]
                        .as_array()
                        .expect("a split output has samples");
                    let bad = samples.iter().find(|p| {
                        f(p[0].as_u64().unwrap())
                            != u64::from_str_radix(p[1].as_str().unwrap(), 16).unwrap()
                    });
                    match bad {
                        None => tally.exact_outputs += 1,
                        Some(p) => tally.failures.push(format!("{at}: sample {p} differs")),
                    }
                }
            }
            if matches!(got, Got::Out(Output::Error(_))) || want_error {
                break;
            }
        }
        let (n_got, n_want) = (
            outs.len(),
            want_case["outputs"].as_array().map_or(0, Vec::len),
        );
        if n_got != n_want && !outs.iter().any(|g| matches!(g, Got::Out(Output::Error(_)))) {
            tally.failures.push(format!(
                "{name}: {n_got} outputs, the GPU recorded {n_want}"
            ));
        }
        all.push(outs);
    }
    all
}

#[test]
fn gpu_fixtures_replay() {
    let dir = root().join("golden").join("cuda");
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|x| x == "json"));
    files.sort();
    if files.is_empty() {
        eprintln!(
            "cuda_gpu: no GPU fixtures in golden/cuda/ (run tools/gen_golden_cuda.py on a GPU \
             host): nothing compared, the CUDA emulation has not been checked on a GPU"
        );
        return;
    }
    let mut tally = Tally::default();
    for f in &files {
        let cases = std::fs::read_to_string(f).unwrap();
        let rpath = dir.join("results").join(f.file_name().unwrap());
        let results: Value = serde_json::from_str(
            &std::fs::read_to_string(&rpath).unwrap_or_else(|e| panic!("{}: {e}", rpath.display())),
        )
        .unwrap();
        eprintln!("cuda_gpu: {} on {}", f.display(), results["device"]);
        replay(&cases, Some(&results), &mut tally);
    }
    eprintln!(
        "cuda_gpu: {} outputs bit-exact (or within 1 ulp where libdevice's seed decides), {} \
         steps rejected by both; modelled elements: {} of {} bit-exact",
        tally.exact_outputs, tally.rejected_both, tally.modelled_exact, tally.modelled_elems
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
}

fn dry_run_text() -> String {
    let path = root().join("tests/data/cuda_dry_run/cases/dry_run__cpu__2_15_0.json");
    std::fs::read_to_string(path).unwrap()
}

/// Every case `gen_golden_cuda.py` writes parses as an ordinary case file and runs through the
/// replay (the dry run's case file); the only rejections are the ones PyTorch's CUDA kernels make
/// too (a 64-bit `random_` on float16, an offset that is not a multiple of 4).
#[test]
fn dry_run_cases_run() {
    let text = dry_run_text();
    let doc: Value = serde_json::from_str(&text).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() > 500, "{}", cases.len());
    let mut tally = Tally::default();
    let outs = replay(&text, None, &mut tally);
    let mut rejected = Vec::new();
    for (c, o) in cases.iter().zip(&outs) {
        assert!(!o.is_empty());
        if let Some(Got::Out(Output::Error(e))) = o.last() {
            rejected.push(format!("{}: {e}", c["name"].as_str().unwrap()));
        }
    }
    assert_eq!(rejected.len(), 3, "{rejected:#?}");
    assert!(rejected
        .iter()
        .any(|r| r.starts_with("random_full64_float16_1000")));
    assert!(rejected
        .iter()
        .any(|r| r.starts_with("set_offset_then_randn")));
}

/// A result document for `cases` from the emulation's own outputs (records as `gen_golden_cuda.py`
/// writes them, samples for the split launch).
fn record_results(cases: &Value, outs: &[Vec<Got>]) -> Value {
    let mut results = Vec::new();
    for (case, o) in cases["cases"].as_array().unwrap().iter().zip(outs) {
        let outputs: Vec<Value> = o
            .iter()
            .map(|g| match g {
                Got::Out(out) => out.to_json(),
                Got::Sampled(f) => {
                    let n = 536_870_913u64;
                    let samples: Vec<Value> = [0u64, 1, 268_435_455, 268_435_456, n - 1]
                        .iter()
                        .map(|&i| serde_json::json!([i, format!("{:08x}", f(i))]))
                        .collect();
                    serde_json::json!({"samples": samples})
                }
            })
            .collect();
        results.push(serde_json::json!({"name": case["name"], "outputs": outputs}));
    }
    serde_json::json!({"cases": results})
}

/// The comparison path, exercised without a GPU: results recorded from the emulation itself
/// replay clean, and tampered ones fail where they should.
#[test]
fn comparison_machinery_self_check() {
    let mut cases: Value = serde_json::from_str(&dry_run_text()).unwrap();
    let keep = |n: &str| {
        n.starts_with("rand_float32_1000_s0")
            || n.starts_with("randn_float32_16389_s0")
            || n.starts_with("dropout_vec_float16")
            || n == "set_state_then_rand"
            || n.starts_with("geometric_0p05_int64_1000")
            || n.starts_with("philox_normal_float32")
            || n.starts_with("module_Embedding")
            || n == "torch_manual_seed_then_rand"
    };
    cases["cases"]
        .as_array_mut()
        .unwrap()
        .retain(|c| keep(c["name"].as_str().unwrap()));
    // A split launch, checked through samples only.
    cases["cases"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
        "name": "split", "torch_version": "2.15.0", "device": "cuda", "sm_count": 4,
        "max_threads_per_sm": 1024,
        "steps": [{"op": "cuda.manual_seed", "seed": 1}, {"op": "rand", "size": [536_870_913]},
                  {"op": "cuda.get_rng_state"}]}));
    let n_cases = cases["cases"].as_array().unwrap().len();
    assert!(n_cases >= 10, "{n_cases}");
    let text = cases.to_string();
    // Record every output from the emulation.
    let outs = replay(&text, None, &mut Tally::default());
    let mut doc = record_results(&cases, &outs);
    let mut tally = Tally::default();
    replay(&text, Some(&doc), &mut tally);
    assert!(tally.failures.is_empty(), "{:?}", tally.failures);
    assert!(tally.exact_outputs > 10);
    // The split case's two pieces reserve after the whole (T = 4096, unroll 4):
    // inc(2^29 + 1) + inc(2^28) + inc(2^28 + 1) = 131076 + 65536 + 65540.
    let split = doc["cases"].as_array().unwrap().last().unwrap();
    let head = split["outputs"][2]["head"].as_array().unwrap();
    let offset = (8..16).rev().fold(0u64, |acc, i| {
        (acc << 8) | u64::from_str_radix(head[i].as_str().unwrap(), 16).unwrap()
    });
    assert_eq!(offset, 131_076 + 65_536 + 65_540);
    // Tamper: an exact output's hash, a modelled element within and beyond its bound, an offset.
    let case_idx = |name: &str| {
        cases["cases"]
            .as_array()
            .unwrap()
            .iter()
            .position(|c| c["name"].as_str().unwrap().starts_with(name))
            .unwrap()
    };
    let r = case_idx("rand_float32_1000_s0");
    doc["cases"][r]["outputs"][1]["sha256"] = Value::from("00");
    let g = case_idx("randn_float32_16389_s0");
    let sample = doc["cases"][g]["outputs"][1]["head"][3]
        .as_str()
        .unwrap()
        .to_string();
    let bits = u32::from_str_radix(&sample, 16).unwrap();
    doc["cases"][g]["outputs"][1]["sha256"] = Value::from("00");
    doc["cases"][g]["outputs"][1]["head"][3] = Value::from(format!("{:08x}", bits + 1));
    let mut tally = Tally::default();
    replay(&text, Some(&doc), &mut tally);
    assert_eq!(tally.failures.len(), 1, "{:?}", tally.failures);
    assert!(tally.failures[0].contains("rand_float32_1000_s0"));
    assert_eq!(tally.modelled_exact + 1, tally.modelled_elems);
    doc["cases"][g]["outputs"][1]["head"][3] = Value::from(format!("{:08x}", bits ^ 0x0040_0000));
    let o = case_idx("torch_manual_seed_then_rand");
    doc["cases"][o]["outputs"][2]["int"] = Value::from(999);
    let mut tally = Tally::default();
    replay(&text, Some(&doc), &mut tally);
    assert_eq!(tally.failures.len(), 3, "{:?}", tally.failures);
    assert!(tally.failures[2].contains("999"), "{:?}", tally.failures);
}
