//! What a checkpoint is audited against, built for any seed and build: a model description, a
//! recorded program or one init call; and its trace (which step drew which entry, from where in
//! the seed's stream).

use crate::context::{Context, TruncRule};
use crate::dtype::DType;
use crate::error::Result;
use crate::generator::CpuGenerator;
use crate::init::InitCall;
use crate::modules::build::{InitStep, NoteStep, Recorder};
use crate::modules::explain::matches;
use crate::modules::model::ModelDesc;
use crate::program::Program;
use crate::tensor::Tensor;
use crate::torch::Torch;

/// The model side of an audit.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Subject<'a> {
    Desc(&'a ModelDesc),
    Program(&'a Program),
    /// One tensor made by one init call right after `manual_seed`.
    Tensor {
        name: &'a str,
        shape: &'a [usize],
        dtype: DType,
        call: &'a InitCall,
    },
}

/// A built `state_dict` and the generator after the build.
#[derive(Clone, Debug)]
pub(crate) struct Built {
    pub(crate) state: Vec<(String, Tensor)>,
    pub(crate) end: CpuGenerator,
}

/// One step of a traced build.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    /// The `state_dict` entry whose first element is the step's first element.
    pub(crate) entry: Option<usize>,
    /// The init call (a sampler as one), when the step is one.
    pub(crate) call: Option<InitCall>,
    pub(crate) shape: Vec<usize>,
    pub(crate) dtype: DType,
    /// Words drawn from the seed's stream; `None` when unknown.
    pub(crate) words: Option<u64>,
    /// Whether the step set the generator: the stream no longer follows the seed after it.
    pub(crate) resets: bool,
}

impl Step {
    /// Whether the words the step draws depend on the values drawn (rejection sampling).
    pub(crate) fn data_dependent(&self, cx: Context) -> bool {
        matches!(self.call, Some(InitCall::TruncNormal { .. }))
            && cx.rules().trunc_normal == TruncRule::Rejection
    }
}

/// The recorder of a description's build: each step with its words.
#[derive(Default)]
struct Rec {
    steps: Vec<(String, Step)>,
}

impl Recorder for Rec {
    fn counts_words(&self) -> bool {
        true
    }

    fn init(&mut self, step: &InitStep<'_>) -> Result<()> {
        self.steps.push((
            step.name.to_string(),
            Step {
                entry: None,
                call: Some(step.how.call.clone()),
                shape: step.tensor.shape().to_vec(),
                dtype: step.tensor.dtype(),
                words: step.words,
                resets: false,
            },
        ));
        Ok(())
    }

    fn note(&mut self, step: &NoteStep<'_>) {
        self.steps.push((
            step.name.to_string(),
            Step {
                entry: None,
                call: None,
                shape: step.tensor.shape().to_vec(),
                dtype: step.tensor.dtype(),
                words: step.words,
                resets: false,
            },
        ));
    }
}

impl Subject<'_> {
    /// The model built under `cx` after `manual_seed(seed)`.
    pub(crate) fn build(&self, cx: Context, seed: u64) -> Result<Built> {
        let mut torch = Torch::from_parts(cx, CpuGenerator::with_seed(seed));
        let state = match self {
            Subject::Desc(d) => d.state_dict(&mut torch)?,
            Subject::Program(p) => p.state_dict(&mut torch)?,
            Subject::Tensor {
                name,
                shape,
                dtype,
                call,
            } => {
                let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
                let mut t = Tensor::zeros(&size, *dtype)?;
                call.apply_(&mut torch, &mut t)?;
                vec![((*name).to_string(), t)]
            }
        };
        Ok(Built {
            state,
            end: torch.generator().clone(),
        })
    }

    /// [`Subject::build`] with every step recorded.
    pub(crate) fn trace(&self, cx: Context, seed: u64) -> Result<(Built, Vec<Step>)> {
        match self {
            Subject::Desc(d) => {
                let mut torch = Torch::from_parts(cx, CpuGenerator::with_seed(seed));
                let mut rec = Rec::default();
                let root = d.build_recorded(&mut torch, &mut rec)?;
                let state = d.state_dict_of(root)?;
                let steps = rec
                    .steps
                    .into_iter()
                    .map(|(name, mut s)| {
                        s.entry = state.iter().position(|(n, _)| matches(&name, n));
                        s
                    })
                    .collect();
                Ok((
                    Built {
                        state,
                        end: torch.generator().clone(),
                    },
                    steps,
                ))
            }
            Subject::Program(p) => {
                let mut g = CpuGenerator::with_seed(seed);
                let (state, draws) = p.trace(&mut g, cx)?;
                let steps = draws
                    .into_iter()
                    .map(|d| Step {
                        entry: d.entry,
                        call: d.call,
                        shape: d.shape,
                        dtype: d.dtype,
                        words: d.words,
                        resets: d.resets,
                    })
                    .collect();
                Ok((Built { state, end: g }, steps))
            }
            Subject::Tensor {
                shape, dtype, call, ..
            } => {
                let built = self.build(cx, seed)?;
                let words = built.end.words_since(&CpuGenerator::with_seed(seed));
                let step = Step {
                    entry: Some(0),
                    call: Some((*call).clone()),
                    shape: shape.to_vec(),
                    dtype: *dtype,
                    words,
                    resets: false,
                };
                Ok((built, vec![step]))
            }
        }
    }
}
