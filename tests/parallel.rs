//! Threads change nothing but the time: every parallelised fill gives, for 1, 2, 3 and 7
//! threads, the bits and the final generator state of one thread (the reference is the
//! single-threaded kernel, itself checked against PyTorch by the golden tests).
//!
//! Sizes are odd (not multiples of 16, so `normal_` recomputes its tail) and large enough that
//! the fills really split (`MIN_PARALLEL` is 2^18 elements, each thread gets at least 2^16).

use torch_rng::{Capability, Context, CpuGenerator, DType, Tensor, Torch};

const THREADS: [usize; 3] = [2, 3, 7];
const FLOATS: [DType; 4] = [
    DType::Float32,
    DType::Float64,
    DType::Float16,
    DType::BFloat16,
];

fn torch(cx: Context, threads: usize, seed: u64) -> Torch {
    let mut g = CpuGenerator::with_seed(seed);
    // Start mid-way through the engine's 624-word block.
    g.advance(3);
    Torch::from_parts(cx.with_threads(threads), g)
}

fn first_difference(a: &Tensor, b: &Tensor) -> Option<usize> {
    a.bits().iter().zip(b.bits()).position(|(x, y)| *x != y)
}

/// Runs `op` on one thread and on each of [`THREADS`], comparing bits and generators.
fn same_for_every_thread_count(what: &str, cx: Context, op: &dyn Fn(&mut Torch) -> Tensor) {
    let mut one = torch(cx, 1, 11);
    let want = op(&mut one);
    for t in THREADS {
        let mut many = torch(cx, t, 11);
        let got = op(&mut many);
        assert_eq!(got.shape(), want.shape());
        if let Some(i) = first_difference(&got, &want) {
            panic!(
                "{what}, {t} threads: element {i} is {:#x}, one thread gives {:#x}",
                got.bits()[i],
                want.bits()[i]
            );
        }
        assert_eq!(many.generator(), one.generator(), "{what}, {t} threads");
    }
}

fn contexts() -> Vec<(String, Context)> {
    let mut v = Vec::new();
    for cap in [Capability::Default, Capability::Avx2] {
        // 2.15 (current), 2.12 (float16/bfloat16 normal blocks redrawn), 2.9 (legacy reduced
        // normal and uniform), 2.0.
        for release in ["2.15.0", "2.12.0", "2.9.1", "2.0.1"] {
            let cx = Context::for_release(cap, release).expect("a known release");
            v.push((format!("{release} {cap}"), cx));
        }
    }
    v
}

#[test]
fn uniform_is_the_same_on_every_thread_count() {
    let n = 458_765; // 7 * 2^16 + 13
    for (name, cx) in contexts() {
        for dtype in FLOATS {
            same_for_every_thread_count(&format!("rand {dtype} {name}"), cx, &|t| {
                t.rand(&[n], dtype).unwrap()
            });
        }
        same_for_every_thread_count(&format!("uniform_(-2, 3) float32 {name}"), cx, &|t| {
            let mut x = Tensor::zeros(&[677, 691], DType::Float32).unwrap();
            t.uniform_(&mut x, -2.0, 3.0).unwrap();
            x
        });
    }
}

#[test]
fn normal_is_the_same_on_every_thread_count() {
    let n = 458_765; // n % 16 = 13: the recomputed tail
    for (name, cx) in contexts() {
        for dtype in FLOATS {
            same_for_every_thread_count(&format!("randn {dtype} {name}"), cx, &|t| {
                t.randn(&[n], dtype).unwrap()
            });
        }
        same_for_every_thread_count(&format!("normal_(0.5, 2) float64 {name}"), cx, &|t| {
            let mut x = Tensor::zeros(&[677, 691], DType::Float64).unwrap();
            t.normal_(&mut x, 0.5, 2.0).unwrap();
            x
        });
    }
}

/// A multiple of 16 (no tail) and a size where each of 7 threads gets a few blocks only.
#[test]
fn normal_without_tail_and_at_the_threshold() {
    for (name, cx) in contexts().into_iter().step_by(3) {
        for n in [1i64 << 19, 1 << 18, (1 << 18) + 1] {
            same_for_every_thread_count(&format!("randn({n}) {name}"), cx, &|t| {
                t.randn(&[n], DType::Float32).unwrap()
            });
        }
    }
}

/// The fill path neither reads nor writes the cached normal sample, on any thread count: a
/// per-element draw after a parallel fill returns the sample cached before it.
#[test]
fn the_normal_cache_survives_parallel_fills() {
    for threads in [1, 2, 3, 7] {
        let mut t = Torch::from_parts(
            Context::default().with_threads(threads),
            CpuGenerator::with_seed(4),
        );
        t.randn(&[1], DType::Float64).unwrap(); // caches the sine sample
        let cached = t.generator().next_double_normal_sample();
        assert!(cached.is_some());
        t.randn(&[500_001], DType::Float32).unwrap();
        t.rand(&[500_001], DType::Float64).unwrap();
        assert_eq!(t.generator().next_double_normal_sample(), cached);
    }
}

#[test]
fn zero_threads_means_every_core() {
    let cx = Context::default().with_threads(0);
    assert!(cx.thread_count() >= 1);
    let mut a = Torch::from_parts(cx, CpuGenerator::with_seed(1));
    let mut b = Torch::from_parts(Context::default(), CpuGenerator::with_seed(1));
    let n = 300_001;
    assert_eq!(
        a.randn(&[n], DType::Float32).unwrap(),
        b.randn(&[n], DType::Float32).unwrap()
    );
}

/// The golden case files with the largest tensors, replayed on 3 threads, still match the
/// result files `tools/gen_golden.py` wrote from PyTorch 2.15 (golden/cases, golden/results).
#[test]
fn golden_cases_match_pytorch_on_three_threads() {
    use torch_rng::replay::{compare_results, parse_case_file, results_document};
    let golden = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden");
    for file in [
        "core_rand.json",
        "core_randn.json",
        "init_basic.json",
        "models_examples.json",
        "models_real.json",
    ] {
        let read = |dir: &str| std::fs::read_to_string(golden.join(dir).join(file)).unwrap();
        let cases = parse_case_file(&read("cases")).unwrap();
        let results: Vec<_> = cases
            .iter()
            .map(|c| torch_rng::replay::run_case_with_threads(c, 3))
            .collect();
        let actual = results_document(torch_rng::LATEST_RELEASE, &results);
        let expected: serde_json::Value = serde_json::from_str(&read("results")).unwrap();
        let mismatches = compare_results(&expected, &actual).unwrap();
        assert!(mismatches.is_empty(), "{file}: {mismatches:?}");
    }
}

/// A GPT-2 shaped description (examples/models/real/gpt2_tiny.json: the natural description of
/// Hugging Face's GPT2LMHeadModel) widened so that its embeddings and projections split across
/// threads (640 x 512 and 512 x 2048 elements): every state_dict entry has the SHA-256 of one
/// thread on 2, 3 and 7 threads, under both variants, and the generator ends in the same state.
#[test]
fn whole_models_are_the_same_on_every_thread_count() {
    use torch_rng::nn::ModelDesc;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/models/real/gpt2_tiny.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let top = &mut v["modules"];
    top[0]["vocab_size"] = 640.into();
    top[0]["n_positions"] = 33.into();
    top[0]["n_embd"] = 512.into();
    top[1]["in_features"] = 512.into();
    top[1]["out_features"] = 640.into();
    let desc = ModelDesc::from_json(&v).unwrap();
    for cap in [Capability::Default, Capability::Avx2] {
        let hashes = |threads: usize| {
            let mut t = torch(Context::new(cap), threads, 1234);
            let sd = desc.state_dict(&mut t).unwrap();
            let h: Vec<(String, String)> = sd
                .iter()
                .map(|(n, x)| (n.clone(), x.sha256_hex()))
                .collect();
            (h, t.generator().clone())
        };
        let (want, g) = hashes(1);
        assert!(want.len() > 20);
        for threads in THREADS {
            let (got, h) = hashes(threads);
            for (a, b) in want.iter().zip(&got) {
                assert_eq!(a, b, "{cap}, {threads} threads");
            }
            assert_eq!(g, h, "{cap}, {threads} threads");
        }
    }
}

/// A recorded program (golden/programs/gpt2_tiny.json, from the real GPT-2) replayed on 7
/// threads gives the SHA-256s it recorded from PyTorch.
#[test]
fn recorded_programs_verify_on_seven_threads() {
    use torch_rng::nn::Program;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/programs/gpt2_tiny.json");
    let p = Program::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let check = p.check().unwrap();
    let mut t = Torch::new(p.context(check.capability).unwrap().with_threads(7));
    t.manual_seed(check.seed).unwrap();
    let sd = p.state_dict(&mut t).unwrap();
    for ((name, x), want) in sd.iter().zip(&check.sha256) {
        assert_eq!(&x.sha256_hex(), want, "{name}");
    }
    assert!(p.verify_with_threads(7).unwrap().exact());
}
