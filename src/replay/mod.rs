//! Case files in, result files out: the contract of `shared/case-format.md` (formats
//! `torch-rng-cases/1` and `torch-rng-results/1`), with the extensions listed in `golden/README.md`.
//!
//! A case file is parsed completely before anything runs: an unknown op or field, a value of the
//! wrong type, a duplicate case name or a case that draws from the default generator before seeding
//! it is refused with an [`Error::CaseFile`] naming the case and step. A step that PyTorch itself
//! rejects (a bad argument) is not a malformed case: it yields `{"error": ...}` and ends its case.

pub(crate) mod case;
mod fields;
pub mod ops;
mod output;

use serde_json::Value;

pub use case::{parse_case_file, Case, Step};
pub(crate) use fields::Fields;
pub use output::{compare_results, results_document, Mismatch, Output, Tolerance};

use crate::context::{Context, CudaDevice, Device, LATEST_RELEASE};
use crate::error::{Error, Result};
use crate::generator::{CpuGenerator, CudaGenerator};
use crate::torch::Rng;

/// The most bytes of step outputs a case may keep for later steps to read (outputs no later step
/// reads are freed once recorded); past it the case ends with an error output. Each tensor is
/// also bounded by [`crate::MAX_BYTES`], and a model step by its [`crate::nn::Limits`].
pub const CASE_MAX_KEPT_BYTES: u64 = 8 << 30;

/// The outputs of one case, one per step run.
#[derive(Debug)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// The capability it ran under.
    pub capability: String,
    /// The release it reproduced.
    pub torch_version: String,
    /// The device it ran on (a CUDA case's device is repeated in its result).
    pub device: Device,
    /// One output per step, up to and including a rejected step.
    pub outputs: Vec<Output>,
}

/// The generators a case uses: the default CPU one and any named `torch.Generator()`s; in a CUDA
/// case also the device's default generator, and the named generators are
/// `torch.Generator(device="cuda")`s.
#[derive(Debug)]
pub struct Generators {
    default: CpuGenerator,
    named: Vec<(String, CpuGenerator)>,
    cuda: CudaGenerator,
    named_cuda: Vec<(String, CudaGenerator)>,
}

/// The entry named `name` (created on first use by `fresh`).
fn named_entry<'a, G>(list: &'a mut Vec<(String, G)>, name: &str, fresh: fn() -> G) -> &'a mut G {
    let i = if let Some(i) = list.iter().position(|(n, _)| n == name) {
        i
    } else {
        list.push((name.to_string(), fresh()));
        list.len() - 1
    };
    &mut list[i].1
}

impl Generators {
    /// The named CPU generator (created on first use as `torch.Generator()`), or the default
    /// one.
    pub fn get(&mut self, name: Option<&str>) -> &mut CpuGenerator {
        match name {
            None => &mut self.default,
            Some(name) => named_entry(&mut self.named, name, CpuGenerator::new),
        }
    }

    /// The named CUDA generator (created on first use as `torch.Generator(device="cuda")`), or
    /// the device's default one (`torch.cuda.default_generators[0]`).
    pub fn get_cuda(&mut self, name: Option<&str>) -> &mut CudaGenerator {
        match name {
            None => &mut self.cuda,
            Some(name) => named_entry(&mut self.named_cuda, name, CudaGenerator::new),
        }
    }
}

/// What a step sees while it runs.
#[derive(Debug)]
pub struct StepContext<'a> {
    gens: &'a mut Generators,
    generator: Option<&'a str>,
    /// The build being reproduced.
    pub cx: Context,
    /// The outputs of the case's earlier steps.
    pub previous: &'a [Output],
}

impl StepContext<'_> {
    /// The CPU generator the step draws from (its `generator` field, or the default one).
    pub fn gen(&mut self) -> &mut CpuGenerator {
        self.gens.get(self.generator)
    }

    /// The case's CUDA device, in a CUDA case.
    #[must_use]
    pub fn cuda_device(&self) -> Option<CudaDevice> {
        match self.cx.device {
            Device::Cpu => None,
            Device::Cuda(d) => Some(d),
        }
    }

    /// The CUDA generator the step uses (its `generator` field, or the device's default one).
    pub fn cuda_gen(&mut self) -> &mut CudaGenerator {
        self.gens.get_cuda(self.generator)
    }

    /// The step's generator on the case's device and the default CPU generator, for `sparse_`
    /// (its permutations come from the default CPU generator). On the CPU without a named
    /// generator the second is `None`: the step's generator is the default one.
    pub(crate) fn rng_and_cpu_default(&mut self) -> (Rng<'_>, Option<&mut CpuGenerator>) {
        let dev = self.cuda_device();
        let name = self.generator;
        let Generators {
            default,
            named,
            cuda,
            named_cuda,
        } = &mut *self.gens;
        match (dev, name) {
            (None, None) => (Rng::Cpu(default), None),
            (None, Some(n)) => (
                Rng::Cpu(named_entry(named, n, CpuGenerator::new)),
                Some(default),
            ),
            (Some(d), None) => (Rng::Cuda(cuda, d), Some(default)),
            (Some(d), Some(n)) => (
                Rng::Cuda(named_entry(named_cuda, n, CudaGenerator::new), d),
                Some(default),
            ),
        }
    }

    /// The default CPU generator and the device's default CUDA generator (`torch.manual_seed`
    /// seeds both; a module build draws from both).
    pub(crate) fn defaults(&mut self) -> (&mut CpuGenerator, &mut CudaGenerator) {
        (&mut self.gens.default, &mut self.gens.cuda)
    }

    /// The default generator, whatever the step names (for calls such as `sparse_` that draw
    /// from it regardless).
    pub fn default_gen(&mut self) -> &mut CpuGenerator {
        self.gens.get(None)
    }

    /// The name of the step's `generator`, if it names one.
    #[must_use]
    pub fn generator_name(&self) -> Option<&str> {
        self.generator
    }

    /// The step's named generator and the default generator, both at once (for `sparse_` with
    /// `generator=`, which draws from both). Without a named generator the first is a fresh
    /// `torch.Generator()` that nothing should use: call [`StepContext::gen`] instead.
    pub fn step_and_default(&mut self) -> (&mut CpuGenerator, &mut CpuGenerator) {
        let name = self.generator.unwrap_or("");
        self.gens.get(Some(name));
        let Generators { default, named, .. } = &mut *self.gens;
        let i = named.iter().position(|(n, _)| n == name).unwrap_or(0);
        (&mut named[i].1, default)
    }
}

/// Runs one parsed case.
#[must_use]
pub fn run_case(case: &Case) -> CaseResult {
    run_case_with_threads(case, 1)
}

/// Runs one parsed case with `threads` threads for large fills (0: every core; see
/// [`Context::with_threads`]): the same result as [`run_case`], sooner.
#[must_use]
pub fn run_case_with_threads(case: &Case, threads: usize) -> CaseResult {
    run_case_with(case, true, threads)
}

/// Runs one parsed case keeping every output whole (no [`Output::Recorded`]): for the tests that
/// compare tensors element by element (the GPU fixtures' bounded comparisons).
#[cfg(all(test, feature = "cli"))]
pub(crate) fn run_case_kept(case: &Case) -> CaseResult {
    run_case_with(case, false, 1)
}

/// Runs one parsed case; `free` records each output once no later step reads it.
fn run_case_with(case: &Case, free: bool, threads: usize) -> CaseResult {
    let cx = Context {
        capability: case.capability,
        era: case.era,
        device: case.device,
        ..Context::default()
    }
    .with_threads(threads);
    // The default generators' start is never observed: the case was checked to seed them first.
    let mut gens = Generators {
        default: CpuGenerator::new(),
        named: Vec::new(),
        cuda: CudaGenerator::new(),
        named_cuda: Vec::new(),
    };
    // The last step that reads each step's output: an output is freed (kept as its record) once
    // no later step reads it, so a case holds only the tensors it still needs.
    let mut last_read = vec![0usize; case.steps.len()];
    for (i, step) in case.steps.iter().enumerate() {
        for r in step.op.references() {
            if let Some(slot) = last_read.get_mut(r) {
                *slot = (*slot).max(i);
            }
        }
    }
    let mut outputs: Vec<Output> = Vec::with_capacity(case.steps.len());
    for (i, step) in case.steps.iter().enumerate() {
        let mut ctx = StepContext {
            gens: &mut gens,
            generator: step.generator.as_deref(),
            cx,
            previous: &outputs,
        };
        match step.op.run(&mut ctx) {
            Ok(Output::Tensor(t)) if step.tolerance.is_some() => {
                outputs.push(Output::Bounded(
                    t,
                    step.tolerance.clone().unwrap_or_default(),
                ));
            }
            Ok(Output::StateDict(sd)) if step.tolerance.is_some() => {
                let bounded = step.bounded.clone();
                match bounded.iter().find(|n| !sd.iter().any(|(k, _)| k == *n)) {
                    Some(n) => {
                        outputs.push(Output::Error(format!(
                            "'bounded' names '{n}', which is not in the state_dict"
                        )));
                        break;
                    }
                    None => outputs.push(Output::BoundedStateDict(
                        sd,
                        step.tolerance.clone().unwrap_or_default(),
                        bounded,
                    )),
                }
            }
            Ok(out) => outputs.push(out),
            Err(e) => {
                outputs.push(Output::Error(e.to_string()));
                break;
            }
        }
        let done = std::iter::once(i)
            .chain(step.op.references())
            .filter(|&j| free && last_read[j] <= i);
        for j in done.collect::<Vec<_>>() {
            if let Some(o) = outputs.get_mut(j) {
                *o = std::mem::replace(o, Output::Null).recorded();
            }
        }
        let kept: u128 = outputs.iter().map(Output::tensor_bytes).sum();
        if kept > u128::from(CASE_MAX_KEPT_BYTES) {
            outputs.push(Output::Error(format!(
                "the case keeps {kept} bytes of outputs that later steps read, more than the \
                 limit of {CASE_MAX_KEPT_BYTES} (replay::CASE_MAX_KEPT_BYTES)"
            )));
            break;
        }
    }
    CaseResult {
        name: case.name.clone(),
        capability: case.capability.name().to_string(),
        torch_version: case.torch_version.clone(),
        device: case.device,
        outputs,
    }
}

/// Parses and runs a whole case file, returning the result document (`torch-rng-results/1`).
///
/// # Errors
/// [`Error::CaseFile`] for a malformed file; nothing is run then.
pub fn replay_str(text: &str) -> Result<Value> {
    replay_str_with_threads(text, 1)
}

/// [`replay_str`] with `threads` threads for large fills (0: every core): the same document.
///
/// # Errors
/// As [`replay_str`].
pub fn replay_str_with_threads(text: &str, threads: usize) -> Result<Value> {
    let cases = parse_case_file(text)?;
    let results: Vec<CaseResult> = cases
        .iter()
        .map(|c| run_case_with_threads(c, threads))
        .collect();
    Ok(results_document(&document_release(&cases), &results))
}

/// The top-level `torch_version` of a result document: the cases' release when they share one (the
/// latest for an empty file), else `"mixed"`, as `tools/gen_golden.py` writes it.
fn document_release(cases: &[Case]) -> String {
    match cases.split_first() {
        None => LATEST_RELEASE.to_string(),
        Some((first, rest)) if rest.iter().all(|c| c.torch_version == first.torch_version) => {
            first.torch_version.clone()
        }
        Some(_) => "mixed".to_string(),
    }
}

/// Formats a result document as the golden files are written: two-space indentation, key order
/// kept, a final newline.
#[must_use]
pub fn to_pretty_json(doc: &Value) -> String {
    let mut s = serde_json::to_string_pretty(doc).unwrap_or_default();
    s.push('\n');
    s
}

pub(crate) fn case_error(location: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::CaseFile {
        location: location.into(),
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 10, item 4: every step's output was kept until the end of the file. Now a case's
    /// outputs are records once no later step reads them (a referenced one is kept until then).
    #[test]
    fn outputs_are_freed_once_recorded() {
        let text = r#"{"format": "torch-rng-cases/1", "cases": [{"name": "c", "steps": [
            {"op": "manual_seed", "seed": 0},
            {"op": "rand", "size": [1000]},
            {"op": "rand", "size": [3]},
            {"op": "bernoulli", "input": {"step": 1}},
            {"op": "randn", "size": [4]}]}]}"#;
        let cases = parse_case_file(text).unwrap();
        let r = run_case(&cases[0]);
        assert_eq!(r.outputs.len(), 5);
        for o in &r.outputs {
            assert_eq!(o.tensor_bytes(), 0, "{o:?}");
        }
        assert!(matches!(r.outputs[1], Output::Recorded(_)));
        // The records are what the tensors would have written.
        let doc = results_document("2.15.0", &[r]);
        assert_eq!(
            doc["cases"][0]["outputs"][1]["shape"],
            serde_json::json!([1000])
        );
        assert_eq!(doc["cases"][0]["outputs"][3]["dtype"], "float32");
    }
}
