//! The draws of a replay, step by step, for `audit`: which `state_dict` entry each sampling step
//! wrote from its first element on, with which call, and how many words it took from the default
//! generator (so that `audit` can find where in the seed's stream an entry's values begin).

use super::exec::{Machine, Observer, Report};
use super::parse::Op;
use super::Program;
use crate::context::Context;
use crate::dtype::DType;
use crate::error::Result;
use crate::generator::CpuGenerator;
use crate::init::InitCall;
use crate::tensor::Tensor;

/// One step of a replay, as `audit` sees it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Draw {
    /// The `state_dict` entry (by position) whose element 0 the step wrote as element 0 of a
    /// contiguous view; `None` when the step wrote elsewhere or nothing.
    pub(crate) entry: Option<usize>,
    /// The call, when the step samples the whole view as an init call would (`nn.init.*`,
    /// `uniform_`, `normal_`).
    pub(crate) call: Option<InitCall>,
    /// The view's shape.
    pub(crate) shape: Vec<usize>,
    /// The tensor's dtype.
    pub(crate) dtype: DType,
    /// Words the step drew from the default generator (0 for a step on another generator);
    /// `None` when unknown or when the step reseeded or restored the default generator.
    pub(crate) words: Option<u64>,
    /// Whether the step set the default generator (`manual_seed`, `set_state`): the stream
    /// after it no longer follows the seed's.
    pub(crate) resets: bool,
}

struct Tracer {
    /// `state_dict` entries: (position, tensor number, view contiguous from offset 0).
    entries: Vec<(usize, usize, bool)>,
    draws: Vec<Draw>,
}

fn on_default(gen: Option<&String>) -> bool {
    gen.is_none_or(|g| g == "default")
}

impl Observer for Tracer {
    fn step(&mut self, r: &Report<'_>, _cx: Context) {
        let (call, gen, resets) = match &r.step.op {
            Op::Init { call, gen, .. } => (Some(call.clone()), gen.as_ref(), false),
            Op::Uniform { from, to, gen, .. } => (
                Some(InitCall::Uniform { a: *from, b: *to }),
                gen.as_ref(),
                false,
            ),
            Op::Normal { mean, std, gen, .. } => (
                Some(InitCall::Normal {
                    mean: *mean,
                    std: *std,
                }),
                gen.as_ref(),
                false,
            ),
            Op::Randperm { gen, .. }
            | Op::Random { gen, .. }
            | Op::Bernoulli { gen, .. }
            | Op::Exponential { gen, .. } => (None, gen.as_ref(), false),
            Op::ManualSeed { gen, .. } | Op::SetState { gen, .. } => {
                (None, Some(gen), gen == "default")
            }
            _ => (None, None, false),
        };
        let words = if resets {
            None
        } else if on_default(gen) {
            r.words
        } else {
            Some(0)
        };
        let (entry, shape) = match r.target {
            Some((i, geo)) => {
                let whole = geo.offset == 0 && geo.is_contiguous();
                let entry = self
                    .entries
                    .iter()
                    .find(|(_, t, from_start)| *t == i && *from_start)
                    .map(|(k, _, _)| *k)
                    .filter(|_| whole);
                (entry, geo.size.clone())
            }
            None => (None, Vec::new()),
        };
        // A sampler on another generator is not a draw from the seed's stream.
        let call = call.filter(|_| on_default(gen));
        self.draws.push(Draw {
            entry,
            call,
            shape,
            dtype: r.dtype.unwrap_or(DType::Float32),
            words,
            resets,
        });
    }
}

/// A replay's `state_dict` and its steps.
type Traced = (Vec<(String, Tensor)>, Vec<Draw>);

impl Program {
    /// Replays the program drawing from `g` under `cx`, recording every step ([`Draw`]), and
    /// returns the `state_dict` with the steps.
    ///
    /// # Errors
    /// As [`Program::entries`].
    pub(crate) fn trace(&self, g: &mut CpuGenerator, cx: Context) -> Result<Traced> {
        let entries = self
            .inner
            .state_dict
            .iter()
            .enumerate()
            .map(|(k, (_, idx, view))| {
                let from_start = view
                    .as_ref()
                    .is_none_or(|v| v.offset == 0 && v.is_contiguous());
                (k, *idx, from_start)
            })
            .collect();
        let mut tracer = Tracer {
            entries,
            draws: Vec::new(),
        };
        let state = {
            // The audit traces CPU draws (word positions in the MT19937 stream).
            let cx = Context {
                device: crate::context::Device::Cpu,
                ..cx
            };
            let mut m = Machine::new(crate::torch::Rng::Cpu(g), None, cx).observed(&mut tracer);
            m.run(&self.inner.steps)?;
            m.entries(&self.inner.state_dict)?
                .into_iter()
                .map(|(name, t, _)| (name, t))
                .collect::<Vec<_>>()
        };
        Ok((state, tracer.draws))
    }
}
