//! Recorded init programs (`torch-rng-program/1`): what building a real PyTorch model did to
//! its weights, recorded from the Python code by `tools/record_init.py`, replayed here for any
//! seed.
//!
//! A program is a list of steps over tensors: allocations, `torch.nn.init` calls (one step
//! each, with PyTorch's arguments), in-place samplers, fills, copies and arithmetic through
//! strided views, and what the code did to the generators (`manual_seed`, saved and restored
//! states). Its `state_dict` names the tensors (a tied weight is one tensor under two names),
//! and its `check` holds the SHA-256 of every entry for the recording seed, so a replay can check
//! itself ([`Program::verify`]). The format is documented in `golden/PROGRAM-FORMAT.md`.
//!
//! ```
//! use torch_rng::nn::Program;
//! use torch_rng::{Capability, Torch};
//! let text = r#"{"format": "torch-rng-program/1", "torch_version": "2.15.0",
//!   "steps": [{"op": "empty", "size": [4, 3], "dtype": "float32"},
//!             {"op": "nn.init.kaiming_uniform_", "t": 0, "a": 2.23606797749979,
//!              "mode": "fan_in", "nonlinearity": "leaky_relu"}],
//!   "state_dict": [["weight", 0]]}"#;
//! let p = Program::parse(text).unwrap();
//! let mut torch = Torch::new(p.context(Capability::Default).unwrap());
//! torch.manual_seed(1).unwrap();
//! let sd = p.state_dict(&mut torch).unwrap();
//! assert_eq!(sd[0].0, "weight");
//! assert_eq!(sd[0].1.bits()[0], 0x3e98_5042); // nn.Linear(3, 4).weight after manual_seed(1)
//! ```
//!
//! Mirrors: the ATen kernels of each op, and
//! `aten/src/ATen/TensorIterator.cpp` for the order in which a kernel visits a non-contiguous
//! view.

mod exec;
mod explain;
mod parse;
mod strided;
mod trace;

pub use parse::{Check, FORMAT, MAX_STEPS};

use crate::context::{Capability, Context, DeviceSpec};
use crate::error::{Error, Result};
use crate::modules::Limits;
use crate::tensor::Tensor;
use crate::torch::Torch;

/// A parsed, validated program.
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    inner: parse::Parsed,
    limits: Limits,
}

/// One `state_dict` entry whose replayed SHA-256 differs from the recorded one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The entry's name.
    pub name: String,
    /// The recorded SHA-256.
    pub expected: String,
    /// The replayed SHA-256.
    pub actual: String,
    /// Whether an op that torch-rng reproduces only within a bound wrote into it (`erfinv_`
    /// through MKL, `orthogonal_`'s LAPACK QR, `trunc_normal_` before 2.12): then a different
    /// SHA-256 is expected, not an error.
    pub bounded: bool,
    /// Where the entries first differ, when the program stores the entry's first elements:
    /// `Ok((index, expected, replayed))` (bit patterns in hex), or `Err(n)` when the `n` stored
    /// elements all agree (the difference lies after them).
    pub element: Option<std::result::Result<(usize, String, String), usize>>,
}

/// The result of [`Program::verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Entries compared.
    pub checked: usize,
    /// Entries whose SHA-256 differs, in `state_dict` order.
    pub mismatches: Vec<Mismatch>,
}

impl Verification {
    /// Whether every entry that torch-rng reproduces exactly matched.
    #[must_use]
    pub fn exact(&self) -> bool {
        self.mismatches.iter().all(|m| m.bounded)
    }
}

/// A replayed `state_dict` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The entry's name.
    pub name: String,
    /// Its tensor (contiguous).
    pub tensor: Tensor,
    /// Whether an op reproduced only within a bound wrote into it (see [`Mismatch::bounded`]).
    pub bounded: bool,
}

impl Program {
    /// Parses and validates a program's JSON text.
    ///
    /// # Errors
    /// [`Error::CaseFile`] naming the place: not JSON, another `format`, an unknown op or field,
    /// a missing field, a value of the wrong type, a `check` whose list does not match the
    /// `state_dict`.
    pub fn parse(text: &str) -> Result<Program> {
        Ok(Program {
            inner: parse::parse(text)?,
            limits: Limits::default(),
        })
    }

    /// The program replayed under `limits` instead of [`Limits::default`]: its `empty` steps may
    /// create at most `max_parameters` tensors of `max_bytes` in all (the other fields do not
    /// apply to programs).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Program {
        self.limits = limits;
        self
    }

    /// The PyTorch release the program was recorded with (`"2.15.0"`).
    #[must_use]
    pub fn torch_version(&self) -> &str {
        &self.inner.torch_version
    }

    /// The Python expression that built the model, when the recorder was given one.
    #[must_use]
    pub fn expr(&self) -> Option<&str> {
        self.inner.expr.as_deref()
    }

    /// The recording seed's check, if the program has one.
    #[must_use]
    pub fn check(&self) -> Option<&Check> {
        self.inner.check.as_ref()
    }

    /// The `state_dict` names, in order.
    #[must_use]
    pub fn names(&self) -> Vec<&str> {
        self.inner
            .state_dict
            .iter()
            .map(|(n, _, _)| n.as_str())
            .collect()
    }

    /// The Python file and line a step was recorded at (`steps[3]`'s `at`), by source index.
    #[must_use]
    pub fn sources(&self) -> &[String] {
        &self.inner.sources
    }

    /// The device the program was recorded on (`device` with the GPU fields; the CPU for a
    /// program without them).
    #[must_use]
    pub fn device(&self) -> DeviceSpec {
        self.inner.device
    }

    /// The [`Context`] of the program's own release and device under `capability`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release torch-rng does not reproduce;
    /// [`Error::InvalidArgument`] for a CUDA program without a GPU profile.
    pub fn context(&self, capability: Capability) -> Result<Context> {
        let release = &self.inner.torch_version;
        self.inner
            .device
            .context(Context::for_release(capability, release)?, release)
    }

    /// Replays the program drawing from `torch` (its generator is the default one, seeded as the
    /// caller wishes: `Torch::manual_seed(seed)` is `torch.manual_seed(seed)` before building the
    /// model) and returns the ordered `state_dict`, with whether each entry is bounded.
    ///
    /// # Errors
    /// What PyTorch would have raised at a step (a bad argument), and malformed references
    /// (a tensor that does not exist, a view outside its storage), each naming the step.
    pub fn entries(&self, torch: &mut Torch) -> Result<Vec<Entry>> {
        let (g, cpu, cx) = torch.device_parts();
        let mut m = exec::Machine::new(g, cpu, cx).limited(self.limits);
        m.run(&self.inner.steps)?;
        Ok(m.entries(&self.inner.state_dict)?
            .into_iter()
            .map(|(name, tensor, bounded)| Entry {
                name,
                tensor,
                bounded,
            })
            .collect())
    }

    /// [`Program::entries`] as `(name, tensor)` pairs: tied entries hold equal tensors.
    ///
    /// # Errors
    /// As [`Program::entries`].
    pub fn state_dict(&self, torch: &mut Torch) -> Result<Vec<(String, Tensor)>> {
        Ok(self
            .entries(torch)?
            .into_iter()
            .map(|e| (e.name, e.tensor))
            .collect())
    }

    /// Replays the recording seed under the recorded capability and compares every entry's
    /// SHA-256 with the recorded one.
    ///
    /// # Errors
    /// [`Error::Unsupported`] when the program has no `check`; otherwise as [`Program::entries`].
    pub fn verify(&self) -> Result<Verification> {
        self.verify_with_threads(1)
    }

    /// [`Program::verify`] with `threads` threads for large fills (0: every core; see
    /// [`Context::with_threads`]): the same verdict, sooner.
    ///
    /// # Errors
    /// As [`Program::verify`].
    pub fn verify_with_threads(&self, threads: usize) -> Result<Verification> {
        let check = self
            .check()
            .ok_or_else(|| Error::unsupported("verify: the program has no 'check'"))?;
        let mut torch = Torch::new(self.context(check.capability)?.with_threads(threads));
        torch.manual_seed(check.seed)?;
        let entries = self.entries(&mut torch)?;
        let mismatches = entries
            .iter()
            .enumerate()
            .zip(&check.sha256)
            .filter_map(|((i, e), expected)| {
                let actual = e.tensor.sha256_hex();
                (actual != *expected).then(|| Mismatch {
                    name: e.name.clone(),
                    expected: expected.clone(),
                    actual,
                    bounded: e.bounded,
                    element: check.head.get(i).map(|head| {
                        let got = e.tensor.head_hex(head.len());
                        head.iter()
                            .zip(&got)
                            .position(|(a, b)| !a.eq_ignore_ascii_case(b))
                            .map_or(Err(head.len()), |k| {
                                Ok((k, head[k].clone(), got[k].clone()))
                            })
                    }),
                })
            })
            .collect();
        Ok(Verification {
            checked: entries.len(),
            mismatches,
        })
    }
}

impl std::fmt::Display for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let exact = self.mismatches.iter().filter(|m| !m.bounded).count();
        let bounded = self.mismatches.len() - exact;
        match self.mismatches.iter().find(|m| !m.bounded) {
            Some(m) => {
                write!(
                    f,
                    "{exact} of {} tensors differ; the first is '{}' (sha256 {} expected, {} \
                     replayed)",
                    self.checked, m.name, m.expected, m.actual
                )?;
                let detail = match &m.element {
                    Some(Ok((i, e, a))) => {
                        format!(", first at element #{i}: 0x{e} expected, 0x{a} replayed")
                    }
                    Some(Err(n)) => format!(", after its first {n} elements, which agree"),
                    None => String::new(),
                };
                f.write_str(&detail)?;
            }
            None => write!(f, "all {} exact tensors match", self.checked - bounded)?,
        }
        if bounded > 0 {
            write!(
                f,
                "; {bounded} bounded tensors (erfinv_, orthogonal_, legacy trunc_normal_) differ, as expected"
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DType;

    fn program(steps: &str, state_dict: &str) -> String {
        format!(
            r#"{{"format": "torch-rng-program/1", "torch_version": "2.15.0", "steps": [{steps}], "state_dict": [{state_dict}]}}"#
        )
    }

    fn err(text: &str) -> String {
        match Program::parse(text) {
            Ok(p) => p
                .entries(&mut Torch::with_seed(0))
                .map(|_| ())
                .expect_err("refused")
                .to_string(),
            Err(e) => e.to_string(),
        }
    }

    const EMPTY: &str = r#"{"op": "empty", "size": [4, 3], "dtype": "float32"}"#;

    /// Issue 10, item 3 for programs: a small file asking for unbounded work or memory.
    #[test]
    fn repeats_tensors_and_bytes_are_bounded() {
        let nested = format!(
            r#"{EMPTY}, {{"repeat": 1000000000, "steps": [{{"repeat": 1000000000, "steps": [{{"op": "fill_", "t": 0, "value": 1}}]}}]}}"#
        );
        let start = std::time::Instant::now();
        let e = err(&program(&nested, ""));
        assert!(e.contains("expand to 1000000000000000001 steps"), "{e}");
        assert!(e.contains("PROGRAM_MAX_STEPS"), "{e}");
        assert!(start.elapsed().as_secs() < 1);
        // Under limits of 1 MiB and 100 tensors: refused before allocating the tensor past them.
        let limits = Limits {
            max_parameters: 100,
            max_bytes: 1 << 20,
            ..Limits::default()
        };
        let limited = |text: &str| {
            Program::parse(text)
                .unwrap()
                .with_limits(limits)
                .entries(&mut Torch::with_seed(0))
                .map(|_| ())
                .expect_err("refused")
                .to_string()
        };
        let big = r#"{"op": "empty", "size": [65536], "dtype": "float32"}"#;
        let e = limited(&program(
            &format!(r#"{{"repeat": 2000, "steps": [{big}]}}"#),
            "",
        ));
        assert!(
            e.contains("would take 1310720 bytes") && e.contains("--max-bytes 1048576"),
            "{e}"
        );
        let e = limited(&program(
            &format!(r#"{{"repeat": 2000, "steps": [{EMPTY}]}}"#),
            "",
        ));
        assert!(
            e.contains("would create 101 tensors") && e.contains("--max-parameters 100"),
            "{e}"
        );
        assert_eq!(Limits::default().max_bytes, crate::tensor::MAX_BYTES);
    }

    #[test]
    fn refuses_malformed_programs_naming_the_place() {
        assert!(err("[").contains("not JSON"));
        assert!(err(&program("", "").replace("program/1", "model/1")).contains("format"));
        let e = err(&program(r#"{"op": "frobnicate_"}"#, ""));
        assert!(
            e.contains("steps[0]") && e.contains("unknown op 'frobnicate_'"),
            "{e}"
        );
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "fill_", "t": 0, "value": 1, "colour": 2}}"#),
            "",
        ));
        assert!(
            e.contains("steps[1]") && e.contains("unknown field 'colour'"),
            "{e}"
        );
        let e = err(&program(r#"{"op": "empty", "size": [4]}"#, ""));
        assert!(e.contains("missing field 'dtype'"), "{e}");
        let e = err(&program(
            r#"{"op": "empty", "size": "four", "dtype": "float32"}"#,
            "",
        ));
        assert!(e.contains("'size' must be a list"), "{e}");
        // Init calls are read through the one schema: PyTorch's defaults fill absent arguments,
        // a value of the wrong kind is refused.
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "nn.init.uniform_", "t": 0, "a": "zero"}}"#),
            "",
        ));
        assert!(e.contains("'a' must be a number"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "nn.init.sparse_", "t": 0}}"#),
            "",
        ));
        assert!(e.contains("missing argument 'sparsity'"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "nn.init.ones_", "t": 0, "gen": "g1"}}"#),
            "",
        ));
        assert!(e.contains("takes no generator"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"repeat": 2, "steps": [{{"op": "zero_"}}]}}"#),
            "",
        ));
        assert!(e.contains("steps[1].steps[0]"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "mul_", "t": 0}}"#),
            "",
        ));
        assert!(e.contains("exactly one of 'src'"), "{e}");
    }

    #[test]
    fn refuses_bad_references_and_generators() {
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "fill_", "t": 3, "value": 1}}"#),
            "",
        ));
        assert!(
            e.contains("steps[1]") && e.contains("names no tensor"),
            "{e}"
        );
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "fill_", "t": [0, 10, [3], [1]], "value": 1}}"#),
            "",
        ));
        assert!(e.contains("outside tensor 0"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "fill_", "t": [0, 0, [3, 2], [0, 1]], "value": 1}}"#),
            "",
        ));
        assert!(e.contains("single memory location"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "normal_", "t": 0, "mean": 0, "std": 1, "gen": "g1"}}"#),
            "",
        ));
        assert!(e.contains("'g1' is used before its manual_seed"), "{e}");
        let e = err(&program(
            r#"{"op": "set_state", "gen": "default", "slot": 4}"#,
            "",
        ));
        assert!(e.contains("slot 4 was never saved"), "{e}");
        let e = err(&program(EMPTY, r#"["w", 1]"#));
        assert!(
            e.contains("'w'") && e.contains("tensor 1 does not exist"),
            "{e}"
        );
        // PyTorch's own rejections, at the step
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "normal_", "t": 0, "mean": 0, "std": -1}}"#),
            "",
        ));
        assert!(e.contains("steps[1]") && e.contains("std >= 0.0"), "{e}");
        let e = err(&program(
            &format!(r#"{EMPTY}, {{"op": "fill_", "t": 0, "value": 1e300}}"#),
            "",
        ));
        assert!(e.contains("overflow"), "{e}");
        let int = r#"{"op": "empty", "size": [2], "dtype": "int64"}"#;
        let e = err(&program(
            &format!(r#"{int}, {{"op": "mul_", "t": 0, "other": 0.5}}"#),
            "",
        ));
        assert!(e.contains("can't be cast"), "{e}");
    }

    #[test]
    fn ties_replays_and_views() {
        // nn.Linear(3, 4) after manual_seed(1), weight tied under a second name, then a row of it
        // zeroed through a view (weight[2].zero_()).
        let text = program(
            &format!(
                r#"{EMPTY}, {{"op": "nn.init.kaiming_uniform_", "t": 0, "a": 2.23606797749979,
                "mode": "fan_in", "nonlinearity": "leaky_relu"}},
                {{"op": "fill_", "t": [0, 6, [3], [1]], "value": 0}}"#
            ),
            r#"["weight", 0], ["tied", 0], ["row", 0, 3, [3], [1]]"#,
        );
        let p = Program::parse(&text).unwrap();
        let sd = p
            .state_dict(&mut Torch::from_parts(
                p.context(Capability::Default).unwrap(),
                crate::CpuGenerator::with_seed(1),
            ))
            .unwrap();
        assert_eq!(sd[0].1.bits()[0], 0x3e98_5042);
        assert_eq!(sd[0].1.bits(), sd[1].1.bits());
        assert_eq!(&sd[0].1.bits()[6..9], [0, 0, 0]);
        assert_eq!(sd[2].1.shape(), [3]);
        assert_eq!(sd[2].1.bits(), sd[0].1.bits()[3..6]);
        assert_eq!(sd[0].1.dtype(), DType::Float32);
    }

    #[test]
    fn verify_names_the_first_differing_tensor() {
        let base = program(
            r#"{"op": "empty", "size": [5], "dtype": "float32"}, {"op": "uniform_", "t": 0, "from": 0, "to": 1}"#,
            r#"["a", 0]"#,
        );
        assert!(Program::parse(&base).unwrap().verify().is_err()); // no check
        let sha = Program::parse(&base)
            .unwrap()
            .state_dict(&mut Torch::with_seed(3))
            .unwrap()[0]
            .1
            .sha256_hex();
        let with = |sha: &str| {
            base.replace(
                r#""state_dict""#,
                &format!(r#""check": {{"seed": 3, "capability": "avx2", "sha256": ["{sha}"]}}, "state_dict""#),
            )
        };
        let v = Program::parse(&with(&sha)).unwrap().verify().unwrap();
        assert!(v.exact() && v.mismatches.is_empty() && v.checked == 1);
        let v = Program::parse(&with(&"0".repeat(64)))
            .unwrap()
            .verify()
            .unwrap();
        assert!(!v.exact());
        assert!(v.to_string().contains("'a'"), "{v}");
        // With the first elements stored, the message names the first differing element.
        let head = Program::parse(&base)
            .unwrap()
            .state_dict(&mut Torch::with_seed(3))
            .unwrap()[0]
            .1
            .head_hex(4);
        let with_head = |h: &[String]| {
            base.replace(
                r#""state_dict""#,
                &format!(
                    r#""check": {{"seed": 3, "capability": "avx2", "sha256": ["{}"], "head": [{:?}]}}, "state_dict""#,
                    "0".repeat(64),
                    h
                ),
            )
        };
        let mut bad_head = head.clone();
        bad_head[2] = "3f800000".into();
        let v = Program::parse(&with_head(&bad_head))
            .unwrap()
            .verify()
            .unwrap();
        assert!(
            v.to_string().contains(&format!(
                "first at element #2: 0x3f800000 expected, 0x{} replayed",
                head[2]
            )),
            "{v}"
        );
        let v = Program::parse(&with_head(&head)).unwrap().verify().unwrap();
        assert!(
            v.to_string()
                .contains("after its first 4 elements, which agree"),
            "{v}"
        );
        let e = Program::parse(&base.replace(
            r#""state_dict""#,
            r#""check": {"seed": 3, "capability": "avx2", "sha256": ["00"], "head": []}, "state_dict""#,
        ))
        .unwrap_err();
        assert!(
            e.to_string().contains("0 heads for 1 state_dict entries"),
            "{e}"
        );
        let e = Program::parse(&base.replace(
            r#""state_dict""#,
            r#""check": {"seed": 3, "capability": "avx2", "sha256": []}, "state_dict""#,
        ))
        .unwrap_err();
        assert!(e
            .to_string()
            .contains("0 SHA-256 values for 1 state_dict entries"));
    }

    /// Deferred draws change nothing but the time: every golden program replayed with its fills
    /// deferred (as `entries` does) gives the tensors of a replay that draws as it goes (an
    /// observed machine), and leaves the generator in the same state.
    #[test]
    fn deferred_replays_equal_eager_replays() {
        struct Quiet;
        impl exec::Observer for Quiet {
            fn step(&mut self, _: &exec::Report<'_>, _: Context) {}
        }
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/programs");
        let mut deferred = 0;
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().is_some_and(|n| n != "results.json"))
            .collect();
        names.sort();
        for path in names {
            let p = Program::parse(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for cap in [Capability::Default, Capability::Avx2] {
                let cx = p.context(cap).unwrap();
                let mut lazy = Torch::new(cx.with_threads(3));
                lazy.manual_seed(1234).unwrap();
                let got = p.state_dict(&mut lazy).unwrap();
                deferred += got.iter().filter(|(_, t)| t.is_deferred()).count();
                let mut eager = Torch::new(cx);
                eager.manual_seed(1234).unwrap();
                let want: Vec<Tensor> = {
                    let (g, cpu, cx) = eager.device_parts();
                    let mut quiet = Quiet;
                    let mut m = exec::Machine::new(g, cpu, cx).observed(&mut quiet);
                    m.run(&p.inner.steps).unwrap();
                    let sd = m.entries(&p.inner.state_dict).unwrap();
                    sd.into_iter().map(|(_, t, _)| t).collect()
                };
                let name = path.display();
                assert_eq!(lazy.generator(), eager.generator(), "{name} {cap}");
                for ((n, a), b) in got.iter().zip(&want) {
                    assert_eq!(a.sha256_hex(), b.sha256_hex(), "{name} {cap} {n}");
                    assert_eq!(a, b, "{name} {cap} {n}");
                }
            }
        }
        assert!(deferred > 50, "{deferred} entries deferred");
    }
}
