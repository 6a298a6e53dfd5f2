//! Case files in, result files out: the contract of `shared/case-format.md` (formats
//! `torch-rng-cases/1` and `torch-rng-results/1`), with the extensions listed in `golden/README.md`.
//!
//! A case file is parsed completely before anything runs: an unknown op or field, a value of the
//! wrong type, a duplicate case name or a case that draws from the default generator before seeding
//! it is refused with an [`Error::CaseFile`] naming the case and step. A step that PyTorch itself
//! rejects (a bad argument) is not a malformed case: it yields `{"error": ...}` and ends its case.

mod case;
pub mod demo;
mod output;

use serde_json::Value;

pub use case::{parse_case_file, Case, Op, Step};
pub use output::{compare_results, results_document, Mismatch, Output};

use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::target::{Target, LATEST_RELEASE};
use crate::{init, modules, ops, state};

/// The outputs of one case, one per step run.
#[derive(Debug)]
pub struct CaseResult {
    /// The case's name.
    pub name: String,
    /// The capability it ran under.
    pub capability: String,
    /// The release it reproduced.
    pub torch_version: String,
    /// One output per step, up to and including a rejected step.
    pub outputs: Vec<Output>,
}

/// The generators a case uses: the default one and any named `torch.Generator()`s.
struct Generators {
    default: CpuGenerator,
    named: Vec<(String, CpuGenerator)>,
}

impl Generators {
    fn get(&mut self, name: Option<&str>) -> &mut CpuGenerator {
        let Some(name) = name else {
            return &mut self.default;
        };
        let i = match self.named.iter().position(|(n, _)| n == name) {
            Some(i) => i,
            None => {
                self.named.push((name.to_string(), CpuGenerator::new()));
                self.named.len() - 1
            }
        };
        &mut self.named[i].1
    }
}

/// Runs one parsed case.
#[must_use]
pub fn run_case(case: &Case) -> CaseResult {
    let target = Target {
        capability: case.capability,
        era: case.era,
    };
    // The default generator's start is never observed: the case was checked to seed it first.
    let mut gens = Generators {
        default: CpuGenerator::new(),
        named: Vec::new(),
    };
    let mut outputs = Vec::with_capacity(case.steps.len());
    for step in &case.steps {
        let g = gens.get(step.generator.as_deref());
        match run_step(g, &step.op, target) {
            Ok(out) => outputs.push(out),
            Err(e) => {
                outputs.push(Output::Error(e.to_string()));
                break;
            }
        }
    }
    CaseResult {
        name: case.name.clone(),
        capability: case.capability.name().to_string(),
        torch_version: case.torch_version.clone(),
        outputs,
    }
}

fn run_step(g: &mut CpuGenerator, op: &Op, target: Target) -> Result<Output> {
    Ok(match op {
        Op::ManualSeed { seed } => {
            let s = crate::generator::seed_from_i128(*seed)?;
            g.manual_seed(s);
            Output::Null
        }
        Op::InitialSeed => Output::Int(i128::from(g.initial_seed())),
        Op::GetRngState => {
            let bytes = state::get_rng_state(g);
            Output::Tensor(crate::tensor::Tensor::from_bytes_u8(bytes))
        }
        Op::SetRngState { state: bytes } => {
            g.set_state(bytes)?;
            Output::Null
        }
        Op::Rand { size, dtype } => Output::Tensor(ops::rand(g, size, *dtype, target)?),
        Op::Randn { size, dtype } => Output::Tensor(ops::randn(g, size, *dtype, target)?),
        Op::RandLike { view } => Output::Tensor(ops::rand_like(g, view, target)?),
        Op::RandnLike { view } => Output::Tensor(ops::randn_like(g, view, target)?),
        Op::Uniform { view, from, to } => {
            Output::Tensor(ops::uniform_on_view(g, view, *from, *to, target)?)
        }
        Op::NormalInPlace { view, mean, std } => {
            Output::Tensor(ops::normal_on_view(g, view, *mean, *std, target)?)
        }
        Op::Normal {
            mean,
            std,
            size,
            dtype,
        } => Output::Tensor(ops::normal(g, *mean, *std, size, *dtype, target)?),
        Op::Linear {
            in_features,
            out_features,
            bias,
            dtype,
        } => Output::StateDict(modules::linear(
            g,
            *in_features,
            *out_features,
            *bias,
            *dtype,
            target,
        )?),
        Op::InitUniform { view, a, b } => {
            Output::Tensor(ops::uniform_on_view(g, view, *a, *b, target)?)
        }
        Op::KaimingUniform {
            view,
            a,
            mode,
            nonlinearity,
        } => {
            view.check_size("nn.init.kaiming_uniform_")?;
            match init::kaiming_uniform_params(&view.shape(), *a, mode, nonlinearity)? {
                Some(p) => Output::Tensor(ops::uniform_on_view(g, view, p.from, p.to, target)?),
                None => Output::Tensor(view.empty("nn.init.kaiming_uniform_")?),
            }
        }
    })
}

/// Parses and runs a whole case file, returning the result document (`torch-rng-results/1`).
///
/// # Errors
/// [`Error::CaseFile`] for a malformed file; nothing is run then.
pub fn replay_str(text: &str) -> Result<Value> {
    let cases = parse_case_file(text)?;
    let results: Vec<CaseResult> = cases.iter().map(run_case).collect();
    Ok(results_document(LATEST_RELEASE, &results))
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
