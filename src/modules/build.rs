//! What module constructors draw from, the build they reproduce, and who watches them draw.
//!
//! A [`Builder`] carries the generator, the [`Context`] and a [`Recorder`] through every
//! constructor, as ripgrep's searcher carries its `Sink`: building never consults hidden state, and
//! an observer (such as `explain`) is an argument, a no-op ([`NoRecorder`]) by default.

use crate::context::{Context, Device};
use crate::distributions::deferred::Deferrer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::{Deferral, InitCall, Number, Quantity};
use crate::tensor::{checked_numel, Tensor};
use crate::torch::{Rng, Torch};

/// The work a model build may do, checked before anything is expanded or allocated. A
/// description that would need more is refused with [`Error::LimitExceeded`], naming the limit
/// and the place; the per-tensor cap ([`crate::MAX_BYTES`]) applies as well.
///
/// ```
/// use torch_rng::nn::{Limits, ModelDesc};
/// let text = r#"{"format": "torch-rng-model/1", "modules": [
///     {"name": "fc", "module": "Linear", "in_features": 300, "out_features": 400}]}"#;
/// let tight = Limits { max_bytes: 1000, ..Limits::default() };
/// let desc = ModelDesc::parse_with(text, tight)?;
/// let err = desc.state_dict(&mut torch_rng::Torch::with_seed(0)).unwrap_err();
/// assert!(err.to_string().contains("--max-bytes 1000"), "{err}");
/// # Ok::<(), torch_rng::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Modules a description may create: containers, described classes and built-in modules
    /// (each built-in counting once), `repeat`s and class uses expanded. Checked when the
    /// description is read, before anything is built (default 1,000,000). Reading also stops
    /// past 10,000 distinct argument lists of described classes, or past 16 JSON values of
    /// class bodies expanded per module allowed.
    pub max_modules: u64,
    /// Parameter and buffer tensors a build may allocate, temporaries and copies included
    /// (default 1,000,000).
    pub max_parameters: u64,
    /// Bytes of all the tensors a build allocates (default 8 GiB, the per-tensor cap).
    pub max_bytes: u64,
    /// Nesting depth of modules (containers, described classes and module arguments), checked
    /// when the description is read (default 32). Reading, building and the init passes recurse
    /// once per level, so this bounds their stack.
    pub max_depth: u64,
}

impl Limits {
    /// No limits but the per-tensor cap and a depth of 32 (for code that builds modules itself).
    pub const NONE: Limits = Limits {
        max_modules: u64::MAX,
        max_parameters: u64::MAX,
        max_bytes: u64::MAX,
        max_depth: 32,
    };
}

impl Default for Limits {
    fn default() -> Limits {
        if cfg!(fuzzing) {
            // Fuzzing builds (`cargo fuzz` sets `cfg(fuzzing)`): small enough for any input.
            return Limits {
                max_modules: 10_000,
                max_parameters: 10_000,
                max_bytes: 256 << 20,
                max_depth: 32,
            };
        }
        Limits {
            max_modules: 1_000_000,
            max_parameters: 1_000_000,
            max_bytes: 8 << 30,
            max_depth: 32,
        }
    }
}

/// What a build has used of its [`Limits`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Used {
    tensors: u64,
    bytes: u64,
}

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
    /// On a CUDA build, the Philox offset of the device's generator before and after the step.
    pub philox_offset: Option<(u64, u64)>,
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
    /// On a CUDA build, the Philox offset of the device's generator before and after the step.
    pub philox_offset: Option<(u64, u64)>,
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

/// What a builder draws from: a CPU generator, or a [`Torch`] (the generator of its context's
/// device).
#[derive(Debug)]
enum Source<'a> {
    Cpu(&'a mut CpuGenerator),
    Torch(&'a mut Torch),
}

/// The generator, the build and the recorder that module constructors use.
pub struct Builder<'a> {
    source: Source<'a>,
    cx: Context,
    /// The device generator's Philox offset at the last step reported (a CUDA build): every
    /// draw of a build is reported, so the offsets between two reports are the later step's.
    reported_offset: u64,
    rec: &'a mut dyn Recorder,
    scope: Vec<String>,
    limits: Limits,
    used: Used,
    /// Deferred draws (a CPU build whose recorder counts no words), else `None`: fills of
    /// tensors whose words are known ([`Deferral`]) are not computed while building; each tensor
    /// keeps its fill and where its words start, and the generator is moved past them only when
    /// something draws from it for real ([`Builder::settle`]). A fill that a later init
    /// overwrites is never computed, a fill that is written out is computed a chunk at a time,
    /// and a shard computes only its own part.
    defer: Option<Deferrer>,
}

impl std::fmt::Debug for Builder<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("source", &self.source)
            .field("cx", &self.cx)
            .field("scope", &self.scope)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<'a> Builder<'a> {
    /// A builder drawing from the CPU generator `gen` under `cx` (a CPU build: `cx`'s device is
    /// taken as the CPU), reporting to `rec`, with the default [`Limits`].
    pub fn new(gen: &'a mut CpuGenerator, cx: Context, rec: &'a mut dyn Recorder) -> Self {
        let defer = (!rec.counts_words()).then(Deferrer::default);
        Builder {
            source: Source::Cpu(gen),
            cx: Context {
                device: Device::Cpu,
                ..cx
            },
            reported_offset: 0,
            rec,
            scope: Vec::new(),
            limits: Limits::default(),
            used: Used::default(),
            defer,
        }
    }

    /// A builder drawing from `torch` under its context, reporting to `rec`, with the default
    /// [`Limits`]: on a CUDA context ([`Context::on_cuda`]) every parameter is made on the device
    /// and drawn from its CUDA generator (as `nn.Linear(..., device="cuda")` or building under
    /// `with torch.device("cuda")`), each kernel launch reserving its Philox offsets in turn;
    /// what PyTorch draws on the CPU whatever the device (`sparse_`'s permutations) comes from
    /// `torch`'s CPU generator.
    pub fn for_torch(torch: &'a mut Torch, rec: &'a mut dyn Recorder) -> Self {
        let cx = torch.context();
        let reported_offset = torch.cuda_generator().get_offset();
        let defer = (!rec.counts_words() && !cx.is_cuda()).then(Deferrer::default);
        Builder {
            source: Source::Torch(torch),
            cx,
            reported_offset,
            rec,
            scope: Vec::new(),
            limits: Limits::default(),
            used: Used::default(),
            defer,
        }
    }

    /// The builder computing every draw when it is made (no deferred fills): for code that
    /// reads each tensor right after making it.
    #[must_use]
    pub fn eager(mut self) -> Self {
        self.settle();
        self.defer = None;
        self
    }

    /// Ends the build without moving the generator past the deferred draws: for a caller that
    /// drops or reseeds the generator next, and so need not pay for the move (on a 124M-parameter
    /// model a polynomial jump of 1.5–2.5 ms, before any tensor is computed). The generator then
    /// stands before the deferred fills it still owes (those after its last real draw), not
    /// where PyTorch's would; the tensors built are the same.
    pub fn finish_unsettled(mut self) {
        self.defer = None;
    }

    /// Moves the generator past the deferred draws, so that it stands where drawing each of
    /// them would have left it.
    fn settle(&mut self) {
        let Builder { defer, source, .. } = self;
        if let Some(d) = defer {
            d.settle(match source {
                Source::Cpu(g) => g,
                Source::Torch(t) => t.generator_mut(),
            });
        }
    }

    /// Defers `how` on `t` when its draws can wait ([`InitCall::deferral`]); `false` when it
    /// must run now.
    fn try_defer(&mut self, t: &mut Tensor, how: &ParamInit) -> Result<bool> {
        if self.defer.is_none() {
            return Ok(false);
        }
        let Some(step) = how.call.deferral(t.shape(), t.dtype(), self.cx)? else {
            return Ok(false);
        };
        match step {
            Deferral::Nothing => {}
            Deferral::Fill(v) => t.defer_fill(v),
            Deferral::Draw(fill) => {
                let threads = self.cx.thread_count();
                let g: &CpuGenerator = match &self.source {
                    Source::Cpu(g) => g,
                    Source::Torch(t) => t.generator(),
                };
                let Some(d) = self.defer.as_mut() else {
                    return Ok(false);
                };
                t.set_deferred(d.defer(g, fill, threads));
            }
        }
        Ok(true)
    }

    /// The builder with other limits (what it has used so far is kept).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Replaces the limits (what the build has used so far is kept).
    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// The limits this builder checks.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Where the build is, for a message: the current dotted scope, or `the model`.
    fn place(&self) -> String {
        if self.scope.is_empty() {
            "the model".to_string()
        } else {
            self.full_name("")
        }
    }

    /// Charges `count` more tensors of `bytes` bytes in all to the budget, or refuses them.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`] when [`Limits::max_parameters`] or [`Limits::max_bytes`] would be
    /// passed.
    pub fn charge(&mut self, count: u64, bytes: u64) -> Result<()> {
        let tensors = self.used.tensors.saturating_add(count);
        if tensors > self.limits.max_parameters {
            return Err(Error::LimitExceeded {
                place: self.place(),
                what: format!("the build would allocate {tensors} parameter and buffer tensors"),
                limit: "--max-parameters",
                max: self.limits.max_parameters,
            });
        }
        let total = self.used.bytes.saturating_add(bytes);
        if total > self.limits.max_bytes {
            return Err(Error::LimitExceeded {
                place: self.place(),
                what: format!("the build would allocate {total} bytes of tensors"),
                limit: "--max-bytes",
                max: self.limits.max_bytes,
            });
        }
        self.used = Used {
            tensors,
            bytes: total,
        };
        Ok(())
    }

    /// `torch.empty(size, dtype=dtype)` for a parameter or buffer (zeros here), charged to the
    /// budget before it is allocated.
    ///
    /// # Errors
    /// What PyTorch rejects (a negative dimension), a tensor over [`crate::MAX_BYTES`], or
    /// [`Error::LimitExceeded`].
    pub fn empty(&mut self, op: &str, size: &[i64], dtype: DType) -> Result<Tensor> {
        let numel = checked_numel(op, size, dtype)?;
        self.charge(1, (numel as u64).saturating_mul(dtype.size() as u64))?;
        if self.defer.is_some() {
            return Tensor::deferred_zeros(op, size, dtype);
        }
        Tensor::zeros_checked(op, size, dtype)
    }

    /// A copy of `m` (`copy.deepcopy` of a prototype layer), charged to the budget first.
    ///
    /// # Errors
    /// [`Error::LimitExceeded`].
    pub fn copy(&mut self, m: &super::Module) -> Result<super::Module> {
        let mut count = 0u64;
        let mut bytes = 0u64;
        let mut stack = vec![m];
        while let Some(x) = stack.pop() {
            for (_, t) in x.params.iter().chain(&x.buffers) {
                count += 1;
                bytes = bytes.saturating_add((t.numel() * t.dtype().size()) as u64);
            }
            stack.extend(x.children.iter().map(|(_, c)| c));
        }
        self.charge(count, bytes)?;
        Ok(m.clone())
    }

    /// The CPU generator (the default one: modules take no `generator=`). On a CUDA build the
    /// device's draws go through [`Builder::init_param`], [`Builder::rand`] and
    /// [`Builder::randn`].
    pub fn gen(&mut self) -> &mut CpuGenerator {
        self.settle();
        match &mut self.source {
            Source::Cpu(g) => g,
            Source::Torch(t) => t.generator_mut(),
        }
    }

    /// The generator of the build's device, and the CPU generator where it is another one.
    fn rng(&mut self) -> (Rng<'_>, Option<&mut CpuGenerator>) {
        self.settle();
        match &mut self.source {
            Source::Cpu(g) => (Rng::Cpu(g), None),
            Source::Torch(t) => {
                let (r, cpu, _) = t.device_parts();
                (r, cpu)
            }
        }
    }

    /// The device generator's Philox offsets since the last step reported (a CUDA build), and
    /// marks them reported.
    fn offsets_since_report(&mut self) -> Option<(u64, u64)> {
        let now = self.rng().0.philox_offset()?;
        let before = std::mem::replace(&mut self.reported_offset, now);
        Some((before, now))
    }

    /// `torch.rand(size, dtype=dtype)` on the build's device (a `Parameter(torch.rand(...))`).
    ///
    /// # Errors
    /// As [`Torch::rand`].
    pub fn rand(&mut self, size: &[i64], dtype: DType) -> Result<Tensor> {
        if let Some(t) =
            self.defer_factory("rand", size, dtype, InitCall::Uniform { a: 0.0, b: 1.0 })?
        {
            return Ok(t);
        }
        let cx = self.cx;
        self.rng().0.rand(size, dtype, cx)
    }

    /// `torch.rand`/`torch.randn` (`torch.empty(size)` then `call`) deferred, when the build
    /// defers and `call`'s words are known ([`Builder::try_defer`]); `None` otherwise.
    fn defer_factory(
        &mut self,
        op: &str,
        size: &[i64],
        dtype: DType,
        call: InitCall,
    ) -> Result<Option<Tensor>> {
        if self.defer.is_none() {
            return Ok(None);
        }
        let mut t = Tensor::deferred_zeros(op, size, dtype)?;
        Ok(self.try_defer(&mut t, &ParamInit::new(call))?.then_some(t))
    }

    /// `torch.randn(size, dtype=dtype)` on the build's device.
    ///
    /// # Errors
    /// As [`Torch::randn`].
    pub fn randn(&mut self, size: &[i64], dtype: DType) -> Result<Tensor> {
        let std_normal = InitCall::Normal {
            mean: 0.0,
            std: 1.0,
        };
        if let Some(t) = self.defer_factory("randn", size, dtype, std_normal)? {
            return Ok(t);
        }
        let cx = self.cx;
        self.rng().0.randn(size, dtype, cx)
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
        self.rec.counts_words().then(|| self.cpu_gen().clone())
    }

    /// Words drawn from the CPU generator since a [`Builder::snapshot`].
    #[must_use]
    pub fn words_since(&self, before: Option<&CpuGenerator>) -> Option<u64> {
        before.and_then(|b| self.cpu_gen().words_since(b))
    }

    fn cpu_gen(&self) -> &CpuGenerator {
        debug_assert!(
            self.defer.as_ref().is_none_or(Deferrer::is_settled),
            "the generator read with draws deferred"
        );
        match &self.source {
            Source::Cpu(g) => g,
            Source::Torch(t) => t.generator(),
        }
    }

    /// Initialises the tensor `name` with `how.call`, drawing from the generator, and reports it.
    ///
    /// # Errors
    /// Whatever the call rejects.
    pub fn init_param(&mut self, name: &str, t: &mut Tensor, how: &ParamInit) -> Result<()> {
        if self.try_defer(t, how)? {
            let name = self.full_name(name);
            return self.rec.init(&InitStep {
                name: &name,
                how,
                tensor: t,
                words: None,
                philox_offset: None,
                context: self.cx,
            });
        }
        let before = self.snapshot();
        let cx = self.cx;
        let (mut g, default) = self.rng();
        how.call.apply_with(&mut g, default, t, cx)?;
        let words = self.words_since(before.as_ref());
        let philox_offset = self.offsets_since_report();
        let name = self.full_name(name);
        self.rec.init(&InitStep {
            name: &name,
            how,
            tensor: t,
            words,
            philox_offset,
            context: self.cx,
        })
    }

    /// Reports a step that is not an init call.
    pub fn note(&mut self, name: &str, t: &Tensor, call: &str, effect: &str, words: Option<u64>) {
        let philox_offset = self.offsets_since_report();
        let name = self.full_name(name);
        self.rec.note(&NoteStep {
            name: &name,
            tensor: t,
            call,
            effect,
            words,
            philox_offset,
        });
    }
}

impl Drop for Builder<'_> {
    /// Leaves the generator where drawing every deferred fill would have left it.
    fn drop(&mut self) {
        self.settle();
    }
}
