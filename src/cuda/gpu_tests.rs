#![cfg(feature = "cli")]
//! Replays fixtures recorded on a real GPU by `tools/gen_golden_cuda.py` (golden/cuda/cases/ and
//! golden/cuda/results/) against torch-rng's CUDA emulation, when they are present.
//!
//! Each case names its GPU geometry (`sm_count`, `max_threads_per_sm`) and release. Steps are
//! interpreted with [`crate::cuda::ops`] and the CUDA generator; `get_rng_state` after every
//! op pins the offset increments.
//!
//! Comparison per output:
//! * integer, uniform, bernoulli, dropout, randperm, float64 paths and the stateless ops' CPU-side
//!   integer kernels: sha256 (bit-exact), or every recorded sample for the split launches (which
//!   are not materialised: their elements are computed one by one from the launch plan);
//! * outputs that go through the GPU's hardware approximations (float32/float16/bfloat16
//!   `randn`/`normal_`/`log_normal_`, and every non-float64 `exponential_`, `geometric_`,
//!   `cauchy_`, and the CUDA stateless normal): element by element within a bound, with the exact
//!   fraction printed;
//! * float64 normal-family outputs: within 1 ulp (libdevice's reciprocal seed).
//!
//! Without fixtures the test passes and says so: no GPU has been used yet.
//! `tests/data/cuda_dry_run/cases/` (written by `gen_golden_cuda.py --dry-run`) is parsed and run
//! in any case, so that the script and this interpreter agree on every op and field.

// Test code: one interpreter of fixture steps, kept in one piece.
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
use crate::cuda::ops::{self, DropoutInput};
use crate::ops::View;
use crate::stateless::{self, StatelessDevice};
use crate::{CudaGenerator, DType, Error, Storage, Tensor};
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

fn num(s: &Value, key: &str, default: f64) -> f64 {
    s.get(key).and_then(Value::as_f64).unwrap_or(default)
}

fn view_of(s: &Value, default: DType) -> View {
    let size = ints(&s["size"]);
    let dtype = dtype_of(s, default);
    match s.get("permute") {
        Some(p) if !p.is_null() => {
            let perm: Vec<usize> = ints(p).into_iter().map(|x| x as usize).collect();
            View::permuted(&size, dtype, &perm).expect("permutation")
        }
        _ => View::contiguous(&size, dtype),
    }
}

/// A tensor literal (`{"dtype", "data"}`, integers of 64-bit types exact).
fn literal(spec: &Value) -> Tensor {
    let dtype = DType::parse(spec["dtype"].as_str().unwrap()).unwrap();
    let mut shape = Vec::new();
    let mut leaves = Vec::new();
    fn walk<'v>(v: &'v Value, d: usize, shape: &mut Vec<usize>, out: &mut Vec<&'v Value>) {
        if let Some(a) = v.as_array() {
            if shape.len() == d {
                shape.push(a.len());
            }
            for x in a {
                walk(x, d + 1, shape, out);
            }
        } else {
            out.push(v);
        }
    }
    walk(&spec["data"], 0, &mut shape, &mut leaves);
    let data = match dtype {
        DType::UInt64 => Storage::U64(
            leaves
                .iter()
                .map(|v| v.to_string().parse().unwrap())
                .collect(),
        ),
        DType::Float32 => Storage::F32(leaves.iter().map(|v| v.as_f64().unwrap() as f32).collect()),
        DType::Float64 => Storage::F64(leaves.iter().map(|v| v.as_f64().unwrap()).collect()),
        DType::Int64 => Storage::I64(leaves.iter().map(|v| v.as_i64().unwrap()).collect()),
        other => panic!("literal of {other}"),
    };
    Tensor::new(shape, data).unwrap()
}

/// A `{"fill", "size", "dtype", ...}` input: its logical values and memory layout.
fn filled(spec: &Value) -> (Tensor, DropoutInput) {
    if spec.get("fill").is_none() {
        return (literal(spec), DropoutInput::default());
    }
    let size: Vec<usize> = ints(&spec["size"])
        .into_iter()
        .map(|d| d as usize)
        .collect();
    let dtype = dtype_of(spec, DType::Float32);
    let fill = spec["fill"].as_f64().unwrap();
    let mut layout = DropoutInput::default();
    let mut shape = size.clone();
    if let Some(p) = spec.get("permute").filter(|p| !p.is_null()) {
        let perm: Vec<usize> = ints(p).into_iter().map(|x| x as usize).collect();
        shape = perm.iter().map(|&i| size[i]).collect();
        layout.perm = Some(perm);
    }
    if let Some(k) = spec.get("narrow").and_then(Value::as_u64) {
        *shape.last_mut().unwrap() = k as usize;
        layout.dense = false;
    }
    if let Some(k) = spec.get("storage_offset").and_then(Value::as_u64) {
        let bytes = k * dtype.size() as u64;
        layout.align_bytes = 1 << bytes.trailing_zeros().min(9);
    }
    let n: usize = shape.iter().product();
    let data = match dtype {
        DType::Float32 => Storage::F32(vec![fill as f32; n]),
        DType::Float64 => Storage::F64(vec![fill; n]),
        DType::Float16 => Storage::F16(vec![half::f16::from_f64(fill); n]),
        DType::BFloat16 => Storage::BF16(vec![half::bf16::from_f64(fill); n]),
        other => panic!("fill of {other}"),
    };
    (Tensor::new(shape, data).unwrap(), layout)
}

/// What a step produced.
enum Out {
    None,
    Tensor(Tensor),
    Named(Vec<(String, Tensor)>),
    /// A split launch, not materialised: element index → bits.
    Sampled(Box<dyn Fn(u64) -> u64>),
}

struct Machine {
    g: CudaGenerator,
    dev: DeviceProfile,
    era: CudaEra,
}

/// Elements above which a rand/randint/random_ output is checked through its samples only.
const MATERIALISE_LIMIT: u64 = 1 << 26;

impl Machine {
    fn sampled(&mut self, s: &Value) -> Option<Result<Out, Error>> {
        let op = s["op"].as_str().unwrap();
        if !matches!(op, "rand" | "randint" | "random_") {
            return None;
        }
        let n: u64 = ints(&s["size"]).iter().map(|&d| d as u64).product();
        if n <= MATERIALISE_LIMIT {
            return None;
        }
        let dtype = dtype_of(
            s,
            if op == "rand" {
                DType::Float32
            } else {
                DType::Int64
            },
        );
        let rules = self.era.rules();
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
        let launches = match plan_nullary(&mut self.g, &self.dev, rules, n, dtype.size() as u64, 4)
        {
            Ok(l) => l,
            Err(e) => return Some(Err(e)),
        };
        Some(Ok(Out::Sampled(Box::new(move |e| {
            let (l, li) = find(&launches, e).expect("index inside the tensor");
            let slot = l.locate(li);
            let w = crate::engine::philox::philox_block(l.seed(), slot.block, slot.subsequence);
            transform(w, slot.component)
        }))))
    }

    fn step(&mut self, s: &Value) -> Result<Out, Error> {
        if let Some(r) = self.sampled(s) {
            return r;
        }
        let (g, dev, era) = (&mut self.g, &self.dev, self.era);
        let layout = era.rules().state_layout;
        let t = match s["op"].as_str().unwrap() {
            "manual_seed" => {
                let seed: i128 = s["seed"].to_string().parse().unwrap();
                g.manual_seed(crate::generator::seed_from_i128(seed)?);
                return Ok(Out::None);
            }
            "set_rng_state" => {
                let hex = s["state"].as_str().unwrap();
                let bytes: Vec<u8> = (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                    .collect();
                g.set_state(&bytes, layout)?;
                return Ok(Out::None);
            }
            "get_rng_state" => Tensor::from_bytes_u8(g.get_state(layout)),
            "rand" => ops::rand(g, dev, era, &ints(&s["size"]), dtype_of(s, DType::Float32))?,
            "randn" => ops::randn(g, dev, era, &ints(&s["size"]), dtype_of(s, DType::Float32))?,
            "uniform_" => ops::uniform_(
                g,
                dev,
                era,
                &view_of(s, DType::Float32),
                num(s, "from", 0.0),
                num(s, "to", 1.0),
            )?,
            "normal_" => ops::normal_(
                g,
                dev,
                era,
                &view_of(s, DType::Float32),
                num(s, "mean", 0.0),
                num(s, "std", 1.0),
            )?,
            "randint" => ops::randint(
                g,
                dev,
                era,
                s.get("low").and_then(Value::as_i64).unwrap_or(0),
                s["high"].as_i64().unwrap(),
                &ints(&s["size"]),
                dtype_of(s, DType::Int64),
            )?,
            "random_" => {
                let v = view_of(s, DType::Float32);
                match (s.get("from"), s.get("to")) {
                    (None, None) => ops::random_(g, dev, era, &v)?,
                    (None, Some(to)) => ops::random_from_to(g, dev, era, &v, 0, to.as_i64())?,
                    (Some(from), to) => {
                        let to = to.and_then(Value::as_i64);
                        ops::random_from_to(g, dev, era, &v, from.as_i64().unwrap(), to)?
                    }
                }
            }
            "bernoulli_" => {
                let v = view_of(s, DType::Float32);
                match s.get("p") {
                    Some(p) if p.is_object() => ops::bernoulli_tensor_(g, era, &v, &literal(p))?,
                    p => ops::bernoulli_scalar_(
                        g,
                        dev,
                        era,
                        &v,
                        p.and_then(Value::as_f64).unwrap_or(0.5),
                    )?,
                }
            }
            "bernoulli" => ops::bernoulli(g, era, &filled(&s["input"]).0)?,
            "native_dropout" => {
                let (x, layout) = filled(&s["input"]);
                let train = s.get("train").and_then(Value::as_bool).unwrap_or(true);
                let (o, m) =
                    ops::native_dropout(g, dev, era, &x, &layout, num(s, "p", 0.5), train)?;
                return Ok(Out::Named(vec![("output".into(), o), ("mask".into(), m)]));
            }
            "nn.functional.dropout" => {
                let (x, layout) = filled(&s["input"]);
                ops::dropout(
                    g,
                    dev,
                    era,
                    &x,
                    &layout,
                    num(s, "p", 0.5),
                    (
                        s.get("training").and_then(Value::as_bool).unwrap_or(true),
                        s.get("inplace").and_then(Value::as_bool).unwrap_or(false),
                    ),
                )?
            }
            "randperm" => ops::randperm(
                g,
                dev,
                era,
                s["n"].as_i64().unwrap(),
                dtype_of(s, DType::Int64),
            )?,
            "exponential_" => ops::exponential_(
                g,
                dev,
                era,
                &view_of(s, DType::Float32),
                num(s, "lambd", 1.0),
            )?,
            "geometric_" => {
                ops::geometric_(g, dev, era, &view_of(s, DType::Float32), num(s, "p", 0.5))?
            }
            "log_normal_" => ops::log_normal_(
                g,
                dev,
                era,
                &view_of(s, DType::Float32),
                num(s, "mean", 1.0),
                num(s, "std", 2.0),
            )?,
            "cauchy_" => ops::cauchy_(
                g,
                dev,
                era,
                &view_of(s, DType::Float32),
                num(s, "median", 0.0),
                num(s, "sigma", 1.0),
            )?,
            "_philox_uniform_" => stateless::philox_uniform_(
                &view_of(s, DType::Float32),
                &literal(&s["key"]),
                num(s, "low", 0.0),
                num(s, "high", 1.0),
                StatelessDevice::Cuda,
            )?,
            "_philox_normal_" => stateless::philox_normal_(
                &view_of(s, DType::Float32),
                &literal(&s["key"]),
                num(s, "mean", 0.0),
                num(s, "std", 1.0),
                StatelessDevice::Cuda,
            )?,
            "_philox_randint_" => stateless::philox_randint_(
                &view_of(s, DType::Int64),
                &literal(&s["key"]),
                s.get("low").and_then(Value::as_i64),
                s.get("high").and_then(Value::as_i64),
                StatelessDevice::Cuda,
            )?,
            other => panic!("gen_golden_cuda.py emits an op this test does not know: {other}"),
        };
        Ok(Out::Tensor(t))
    }
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

fn rule(step: &Value, dtype: DType) -> Rule {
    let op = step["op"].as_str().unwrap_or("");
    let float64 = dtype == DType::Float64;
    match op {
        "randn" | "normal_" | "log_normal_" | "_philox_normal_" if float64 => Rule::NearExact,
        "exponential_" | "cauchy_" if float64 => Rule::NearExact,
        "randn" | "normal_" | "log_normal_" | "_philox_normal_" => Rule::Modelled {
            rel: 2e-6,
            abs: 2e-5,
        },
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

fn replay(cases: &Value, results: Option<&Value>, tally: &mut Tally) {
    for (ci, case) in cases["cases"].as_array().unwrap().iter().enumerate() {
        let name = case["name"].as_str().unwrap();
        let sm = case["sm_count"].as_u64().unwrap() as u32;
        let tpsm = case["max_threads_per_sm"].as_u64().unwrap() as u32;
        let mut m = Machine {
            g: CudaGenerator::new(),
            dev: DeviceProfile::custom(sm, tpsm).unwrap(),
            era: CudaEra::of_release(case["torch_version"].as_str().unwrap()).unwrap(),
        };
        let outputs = results.map(|r| &r["cases"][ci]);
        if let Some(o) = outputs {
            assert_eq!(o["name"], case["name"], "results out of order");
        }
        for (si, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            let want = outputs.map(|o| &o["outputs"][si]);
            let got = m.step(step);
            let Some(want) = want else {
                continue; // structural run: only that it runs
            };
            match (got, want) {
                (Err(_), w) if w.get("error").is_some() => break,
                (Err(e), _) => {
                    tally
                        .failures
                        .push(format!("{name} step {si}: rejected ({e}), GPU ran it"));
                    break;
                }
                (Ok(_), w) if w.get("error").is_some() => {
                    tally
                        .failures
                        .push(format!("{name} step {si}: ran, GPU rejected it"));
                    break;
                }
                (Ok(Out::None), _) => {}
                (Ok(Out::Tensor(t)), w) => {
                    compare(&format!("{name} step {si}"), step, &t, w, tally)
                }
                (Ok(Out::Named(items)), w) => {
                    for (k, t) in items {
                        let rec = w["state_dict"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|p| p[0] == k.as_str())
                            .map(|p| &p[1])
                            .unwrap();
                        compare(&format!("{name} step {si} {k}"), step, &t, rec, tally);
                    }
                }
                (Ok(Out::Sampled(f)), w) => {
                    let samples = w["samples"].as_array().expect("a split output has samples");
                    let bad = samples.iter().find(|p| {
                        f(p[0].as_u64().unwrap())
                            != u64::from_str_radix(p[1].as_str().unwrap(), 16).unwrap()
                    });
                    match bad {
                        None => tally.exact_outputs += 1,
                        Some(p) => tally
                            .failures
                            .push(format!("{name} step {si}: sample {p} differs")),
                    }
                }
            }
        }
    }
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
        let cases: Value = serde_json::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
        let rpath = dir.join("results").join(f.file_name().unwrap());
        let results: Value = serde_json::from_str(
            &std::fs::read_to_string(&rpath).unwrap_or_else(|e| panic!("{}: {e}", rpath.display())),
        )
        .unwrap();
        eprintln!("cuda_gpu: {} on {}", f.display(), results["device"]);
        replay(&cases, Some(&results), &mut tally);
    }
    eprintln!(
        "cuda_gpu: {} outputs bit-exact (or within 1 ulp where libdevice's seed decides); \
         modelled elements: {} of {} bit-exact",
        tally.exact_outputs, tally.modelled_exact, tally.modelled_elems
    );
    assert!(tally.failures.is_empty(), "{}", tally.failures.join("\n"));
}

/// Every op and field `gen_golden_cuda.py` emits runs here (the dry run's case file).
#[test]
fn dry_run_cases_run() {
    let path = root().join("tests/data/cuda_dry_run/cases/dry_run__cpu__2_15_0.json");
    let cases: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(cases["cases"].as_array().unwrap().len() > 400);
    let mut tally = Tally::default();
    replay(&cases, None, &mut tally);
}

/// A tensor record as `gen_golden_cuda.py` writes it.
fn record_of(t: &Tensor) -> Value {
    let n = t.numel();
    let head = t.head_hex(16);
    let mut rec = serde_json::json!({
        "dtype": t.dtype().name(), "shape": t.shape(), "sha256": t.sha256_hex(), "head": head,
    });
    if n > 65536 {
        let all = t.head_hex(n);
        let mut idx: Vec<usize> = (0..64)
            .chain(n - 64..n)
            .chain((0..4096).map(|i| i * (n - 1) / 4095))
            .collect();
        idx.sort_unstable();
        idx.dedup();
        rec["samples"] = idx
            .iter()
            .map(|&i| serde_json::json!([i, all[i]]))
            .collect();
    }
    rec
}

/// The comparison path, exercised without a GPU: results recorded from the emulation itself
/// replay clean, and tampered ones fail where they should.
#[test]
fn comparison_machinery_self_check() {
    let path = root().join("tests/data/cuda_dry_run/cases/dry_run__cpu__2_15_0.json");
    let mut cases: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keep = |n: &str| {
        n.starts_with("rand_float32_1000_s0")
            || n.starts_with("randn_float32_16389_s0")
            || n.starts_with("dropout_vec_float16")
            || n == "set_state_then_rand"
            || n.starts_with("geometric_0p05_int64_1000")
            || n.starts_with("philox_normal_float32")
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
        "name": "split", "torch_version": "2.15.0", "sm_count": 4, "max_threads_per_sm": 1024,
        "steps": [{"op": "manual_seed", "seed": 1}, {"op": "rand", "size": [536_870_913]},
                  {"op": "get_rng_state"}]}));
    let n_cases = cases["cases"].as_array().unwrap().len();
    assert!(n_cases >= 8, "{n_cases}");
    // Record every output from the emulation.
    let mut results = Vec::new();
    for case in cases["cases"].as_array().unwrap() {
        let mut m = Machine {
            g: CudaGenerator::new(),
            dev: DeviceProfile::custom(4, 1024).unwrap(),
            era: CudaEra::C4,
        };
        let mut outs = Vec::new();
        for step in case["steps"].as_array().unwrap() {
            outs.push(match m.step(step) {
                Err(e) => serde_json::json!({"error": e.to_string()}),
                Ok(Out::None) => Value::Null,
                Ok(Out::Tensor(t)) => record_of(&t),
                Ok(Out::Named(items)) => serde_json::json!({"state_dict": items
                    .iter()
                    .map(|(k, t)| serde_json::json!([k, record_of(t)]))
                    .collect::<Vec<_>>()}),
                Ok(Out::Sampled(f)) => {
                    let n = 536_870_913u64;
                    let samples: Vec<Value> = [0u64, 1, 268_435_455, 268_435_456, n - 1]
                        .iter()
                        .map(|&i| serde_json::json!([i, format!("{:08x}", f(i))]))
                        .collect();
                    serde_json::json!({"samples": samples})
                }
            });
        }
        results.push(serde_json::json!({"name": case["name"], "outputs": outs}));
    }
    let mut doc = serde_json::json!({"cases": results});
    let mut tally = Tally::default();
    replay(&cases, Some(&doc), &mut tally);
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
    // Tamper: an exact output's hash, a modelled element within and beyond its bound.
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
    replay(&cases, Some(&doc), &mut tally);
    assert_eq!(tally.failures.len(), 1, "{:?}", tally.failures);
    assert!(tally.failures[0].contains("rand_float32_1000_s0"));
    assert_eq!(tally.modelled_exact + 1, tally.modelled_elems);
    doc["cases"][g]["outputs"][1]["head"][3] = Value::from(format!("{:08x}", bits ^ 0x0040_0000));
    let mut tally = Tally::default();
    replay(&cases, Some(&doc), &mut tally);
    assert_eq!(tally.failures.len(), 2, "{:?}", tally.failures);
}
