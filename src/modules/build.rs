//! What module constructors draw from, the build they reproduce, and who watches them draw.
//!
//! A [`Builder`] carries the generator, the [`Context`] and a [`Recorder`] through every
//! constructor, as ripgrep's searcher carries its `Sink`: building never consults hidden state, and
//! an observer (such as `explain`) is an argument, a no-op ([`NoRecorder`]) by default.

use crate::context::Context;
use crate::error::Result;
use crate::generator::CpuGenerator;
use crate::init::{InitCall, Number, Quantity};
use crate::tensor::Tensor;

/// How a module initialises one tensor: an init call, and the quantities the module derives in
/// Python before making it (Linear's bias bound `1 / sqrt(fan_in)`, an RNN's `1 / sqrt(hidden)`).
#[derive(Clone, Debug, PartialEq)]
pub struct ParamInit {
    /// The `torch.nn.init` call.
    pub call: InitCall,
    /// Quantities the module computes before the call, in its order.
    pub derived: Vec<Quantity>,
}

impl ParamInit {
    /// The call with nothing derived before it.
    #[must_use]
    pub fn new(call: InitCall) -> ParamInit {
        ParamInit {
            call,
            derived: Vec::new(),
        }
    }

    /// Adds a quantity the module derives before the call.
    #[must_use]
    pub fn with(mut self, name: &'static str, formula: &str, value: Number) -> ParamInit {
        self.derived.push(Quantity {
            name,
            formula: formula.to_string(),
            value,
        });
        self
    }
}

/// An init call that ran on a tensor during a build.
#[derive(Debug)]
pub struct InitStep<'a> {
    /// The tensor's dotted name (`encoder.layers.*.linear1.weight`: a `*` segment stands for
    /// every deep copy of a prototype layer).
    pub name: &'a str,
    /// The call and what was derived for it.
    pub how: &'a ParamInit,
    /// The tensor after the call.
    pub tensor: &'a Tensor,
    /// The 32-bit words it drew (when the recorder asked for counts).
    pub words: Option<u64>,
    /// The build reproduced.
    pub context: Context,
}

/// Something other than an init call that set a tensor (a factory call, a row zeroed, a tie).
#[derive(Debug)]
pub struct NoteStep<'a> {
    /// The tensor's dotted name.
    pub name: &'a str,
    /// The tensor after the step.
    pub tensor: &'a Tensor,
    /// The Python call (`weight[1].fill_(0)`).
    pub call: &'a str,
    /// What it does to the elements.
    pub effect: &'a str,
    /// The 32-bit words it drew (when the recorder asked for counts).
    pub words: Option<u64>,
}

/// An observer of a build: told every step that sets a tensor, in draw order.
pub trait Recorder {
    /// Whether steps should carry word counts (each costs a copy of the generator).
    fn counts_words(&self) -> bool {
        false
    }

    /// An init call ran.
    ///
    /// # Errors
    /// Whatever the recorder fails on (the build stops there).
    fn init(&mut self, step: &InitStep<'_>) -> Result<()> {
        let _ = step;
        Ok(())
    }

    /// Another step ran.
    fn note(&mut self, step: &NoteStep<'_>) {
        let _ = step;
    }
}

/// The recorder that records nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRecorder;

impl Recorder for NoRecorder {}

/// The generator, the build and the recorder that module constructors use.
pub struct Builder<'a> {
    gen: &'a mut CpuGenerator,
    cx: Context,
    rec: &'a mut dyn Recorder,
    scope: Vec<String>,
}

impl std::fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("gen", &self.gen)
            .field("cx", &self.cx)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<'a> Builder<'a> {
    /// A builder drawing from `gen` under `cx`, reporting to `rec`.
    pub fn new(gen: &'a mut CpuGenerator, cx: Context, rec: &'a mut dyn Recorder) -> Self {
        Builder {
            gen,
            cx,
            rec,
            scope: Vec::new(),
        }
    }

    /// The generator (the default one: modules take no `generator=`).
    pub fn gen(&mut self) -> &mut CpuGenerator {
        self.gen
    }

    /// The build reproduced.
    #[must_use]
    pub fn context(&self) -> Context {
        self.cx
    }

    /// Runs `f` with `name` appended to the names steps are reported under (an empty name adds
    /// nothing).
    pub fn scoped<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        if name.is_empty() {
            return f(self);
        }
        self.scope.push(name.to_string());
        let out = f(self);
        self.scope.pop();
        out
    }

    /// The dotted name of `local` in the current scope.
    #[must_use]
    pub fn full_name(&self, local: &str) -> String {
        let mut parts: Vec<&str> = self.scope.iter().map(String::as_str).collect();
        if !local.is_empty() {
            parts.push(local);
        }
        parts.join(".")
    }

    /// A copy of the generator's state when the recorder counts words, to pass to
    /// [`Builder::words_since`] after a step.
    #[must_use]
    pub fn snapshot(&self) -> Option<CpuGenerator> {
        self.rec.counts_words().then(|| self.gen.clone())
    }

    /// Words drawn since a [`Builder::snapshot`].
    #[must_use]
    pub fn words_since(&self, before: Option<&CpuGenerator>) -> Option<u64> {
        before.and_then(|b| self.gen.words_since(b))
    }

    /// Initialises the tensor `name` with `how.call`, drawing from the generator, and reports it.
    ///
    /// # Errors
    /// Whatever the call rejects.
    pub fn init_param(&mut self, name: &str, t: &mut Tensor, how: &ParamInit) -> Result<()> {
        let before = self.snapshot();
        how.call.apply(self.gen, t, self.cx)?;
        let words = self.words_since(before.as_ref());
        let name = self.full_name(name);
        self.rec.init(&InitStep {
            name: &name,
            how,
            tensor: t,
            words,
            context: self.cx,
        })
    }

    /// Reports a step that is not an init call.
    pub fn note(&mut self, name: &str, t: &Tensor, call: &str, effect: &str, words: Option<u64>) {
        let name = self.full_name(name);
        self.rec.note(&NoteStep {
            name: &name,
            tensor: t,
            call,
            effect,
            words,
        });
    }
}
