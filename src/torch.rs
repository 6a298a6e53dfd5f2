//! [`Torch`]: a PyTorch build and its generator, the one value every random op draws through.

use crate::context::{Context, CudaDevice, Device};
use crate::cuda::ops as cuda;
use crate::dtype::DType;
use crate::error::Result;
use crate::generator::{manual_seed_everywhere, CpuGenerator, CudaGenerator};
use crate::ops::{self, View};
use crate::tensor::{Storage, Tensor};

/// The PyTorch build being reproduced ([`Context`]: release and CPU kernel variant) and a
/// generator to draw from: what `import torch` gives a Python program, as one value.
///
/// Ops are methods named as PyTorch names them; a trailing `_` fills a tensor in place, as in
/// PyTorch. Each call draws from this value's generator, so `torch.rand(4, generator=g)` is
/// `g.rand(&[4], DType::Float32)` on a `Torch` standing for `g`, and a second generator is a
/// second `Torch` ([`Torch::new_generator`]).
///
/// A new `Torch` holds `torch.Generator()`'s state (c10's default seed). PyTorch seeds its
/// process-wide default generator from the operating system, which cannot be reproduced: call
/// [`Torch::manual_seed`] first, as a reproducible Python program does.
///
/// ```
/// use torch_rng::{Capability, Context, DType, Torch};
/// // torch.manual_seed(42); torch.rand(4)
/// let mut torch = Torch::with_seed(42);
/// assert_eq!(torch.rand(&[4], DType::Float32)?.bits()[0], 0x3f61_dc66);
///
/// // ATEN_CPU_CAPABILITY=default, PyTorch 2.9.1: torch.manual_seed(0); torch.randn(16)
/// let mut old = Torch::new(Context::for_release(Capability::Default, "2.9.1")?);
/// old.manual_seed(0)?;
/// let t = old.randn(&[16], DType::Float32)?;
/// assert_eq!(t.shape(), [16]);
/// # Ok::<(), torch_rng::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Torch {
    context: Context,
    generator: CpuGenerator,
    /// The CUDA device's default generator, seeded with the CPU's by [`Torch::manual_seed`] as
    /// `torch.manual_seed` seeds every device.
    cuda: CudaGenerator,
}

/// The generator a step draws from, with the kernels of its device: what the initialisers,
/// module builds and recorded programs sample through, so that one code path serves the CPU and
/// a CUDA device.
///
/// Fills take storage in memory order (the order PyTorch's kernels visit a dense tensor, for the
/// CPU's TensorIterator and CUDA's grid-stride kernels alike) and write it in place.
#[derive(Debug)]
pub(crate) enum Rng<'a> {
    /// A CPU generator: the CPU kernels of the context's variant and release.
    Cpu(&'a mut CpuGenerator),
    /// A CUDA generator: the CUDA kernels of this device (its launch geometry and CUDA era).
    Cuda(&'a mut CudaGenerator, CudaDevice),
}

impl Rng<'_> {
    /// The same generator, borrowed again (to pass on without giving this one up).
    pub(crate) fn reborrow(&mut self) -> Rng<'_> {
        match self {
            Rng::Cpu(g) => Rng::Cpu(g),
            Rng::Cuda(g, d) => Rng::Cuda(g, *d),
        }
    }

    /// The CUDA generator's Philox offset (`None` on the CPU).
    pub(crate) fn philox_offset(&self) -> Option<u64> {
        match self {
            Rng::Cpu(_) => None,
            Rng::Cuda(g, _) => Some(g.get_offset()),
        }
    }

    /// `t.uniform_(from, to)` on `data` (memory order); `op` names the caller in errors.
    pub(crate) fn fill_uniform(
        &mut self,
        op: &str,
        data: &mut Storage,
        from: f64,
        to: f64,
        cx: Context,
    ) -> Result<()> {
        match self {
            Rng::Cpu(g) => ops::fill_uniform(g, op, data, from, to, cx),
            Rng::Cuda(g, d) => {
                let view = View::contiguous(&[data.len() as i64], data.dtype());
                *data = cuda::uniform_(g, &d.profile, d.era, &view, from, to)?.into_storage();
                Ok(())
            }
        }
    }

    /// `t.normal_(mean, std)` on `data` (memory order); `contiguous` decides the CPU kernel's
    /// path (the CUDA kernel has one path for every layout).
    pub(crate) fn fill_normal(
        &mut self,
        op: &str,
        data: &mut Storage,
        contiguous: bool,
        mean: f64,
        std: f64,
        cx: Context,
    ) -> Result<()> {
        match self {
            Rng::Cpu(g) => ops::fill_normal(g, op, data, contiguous, mean, std, cx),
            Rng::Cuda(g, d) => {
                ops::check_normal_std(op, std)?;
                let view = View::contiguous(&[data.len() as i64], data.dtype());
                *data = cuda::normal_(g, &d.profile, d.era, &view, mean, std)?.into_storage();
                Ok(())
            }
        }
    }

    /// `torch.rand(size, dtype=dtype)` on the device.
    pub(crate) fn rand(&mut self, size: &[i64], dtype: DType, cx: Context) -> Result<Tensor> {
        match self {
            Rng::Cpu(g) => ops::rand(g, size, dtype, cx),
            Rng::Cuda(g, d) => cuda::rand(g, &d.profile, d.era, size, dtype),
        }
    }

    /// `torch.randn(size, dtype=dtype)` on the device.
    pub(crate) fn randn(&mut self, size: &[i64], dtype: DType, cx: Context) -> Result<Tensor> {
        match self {
            Rng::Cpu(g) => ops::randn(g, size, dtype, cx),
            Rng::Cuda(g, d) => cuda::randn(g, &d.profile, d.era, size, dtype),
        }
    }

    /// `torch.randperm(n, dtype=dtype)` on the device.
    pub(crate) fn randperm(&mut self, n: i64, dtype: DType, cx: Context) -> Result<Tensor> {
        match self {
            Rng::Cpu(g) => ops::randperm(g, n, dtype, cx),
            Rng::Cuda(g, d) => cuda::randperm(g, &d.profile, d.era, n, dtype),
        }
    }

    /// `t.random_()` (`bounds` `None`) or `t.random_(from, to)` on a view.
    #[cfg(feature = "json")] // recorded programs' steps
    pub(crate) fn random_(
        &mut self,
        view: &View,
        bounds: Option<(i64, Option<i64>)>,
        cx: Context,
    ) -> Result<Tensor> {
        match (self, bounds) {
            (Rng::Cpu(g), None) => ops::random_(g, view, cx),
            (Rng::Cpu(g), Some((from, to))) => ops::random_from_to(g, view, from, to, cx),
            (Rng::Cuda(g, d), None) => cuda::random_(g, &d.profile, d.era, view),
            (Rng::Cuda(g, d), Some((from, to))) => {
                cuda::random_from_to(g, &d.profile, d.era, view, from, to)
            }
        }
    }

    /// `t.bernoulli_(p)` with a float `p` on a view.
    #[cfg(feature = "json")] // recorded programs' steps
    pub(crate) fn bernoulli_scalar_(&mut self, view: &View, p: f64, cx: Context) -> Result<Tensor> {
        match self {
            Rng::Cpu(g) => ops::bernoulli_scalar_(g, view, p, cx),
            Rng::Cuda(g, d) => cuda::bernoulli_scalar_(g, &d.profile, d.era, view, p),
        }
    }

    /// `t.exponential_(lambd)` on a view.
    #[cfg(feature = "json")] // recorded programs' steps
    pub(crate) fn exponential_(&mut self, view: &View, lambd: f64, cx: Context) -> Result<Tensor> {
        match self {
            Rng::Cpu(g) => ops::exponential_(g, view, lambd, cx),
            Rng::Cuda(g, d) => cuda::exponential_(g, &d.profile, d.era, view, lambd),
        }
    }
}

/// What a CUDA context cannot do yet: torch-rng emulates these ops on the CPU only.
fn cpu_only(op: &str) -> crate::error::Error {
    crate::error::Error::unsupported(format!("{op} on a CUDA device (CPU only)"))
}

fn size_of(t: &Tensor) -> Vec<i64> {
    t.shape().iter().map(|&d| d as i64).collect()
}

/// `torch.empty_like(t)`, as the in-place samplers see their target.
fn view_of(t: &Tensor) -> View {
    View::contiguous(&size_of(t), t.dtype())
}

impl Torch {
    /// The build `context` with `torch.Generator()`'s state.
    #[must_use]
    pub fn new(context: Context) -> Torch {
        Torch {
            context,
            generator: CpuGenerator::new(),
            cuda: CudaGenerator::new(),
        }
    }

    /// PyTorch 2.15 with the `avx2` kernels, after `torch.manual_seed(seed)`.
    #[must_use]
    pub fn with_seed(seed: u64) -> Torch {
        let mut cuda = CudaGenerator::new();
        cuda.manual_seed(seed);
        Torch {
            context: Context::default(),
            generator: CpuGenerator::with_seed(seed),
            cuda,
        }
    }

    /// The build `context` drawing from `generator`.
    #[must_use]
    pub fn from_parts(context: Context, generator: CpuGenerator) -> Torch {
        Torch {
            context,
            generator,
            cuda: CudaGenerator::new(),
        }
    }

    /// A fresh `torch.Generator()` under the same build.
    #[must_use]
    pub fn new_generator(&self) -> Torch {
        Torch::new(self.context)
    }

    /// The build.
    #[must_use]
    pub fn context(&self) -> Context {
        self.context
    }

    /// The generator.
    #[must_use]
    pub fn generator(&self) -> &CpuGenerator {
        &self.generator
    }

    /// The generator, to draw from or restore.
    pub fn generator_mut(&mut self) -> &mut CpuGenerator {
        &mut self.generator
    }

    /// The generator of the context's device ([`Rng::Cuda`] on a CUDA context) and, on a CUDA
    /// context, the CPU generator, which PyTorch still draws from where a call names no device
    /// (`sparse_`'s `torch.randperm(rows)`); on the CPU that generator is the device's.
    pub(crate) fn device_parts(&mut self) -> (Rng<'_>, Option<&mut CpuGenerator>, Context) {
        match self.context.device {
            Device::Cpu => (Rng::Cpu(&mut self.generator), None, self.context),
            Device::Cuda(d) => (
                Rng::Cuda(&mut self.cuda, d),
                Some(&mut self.generator),
                self.context,
            ),
        }
    }

    /// `torch.manual_seed(seed)`: the CPU generator and the CUDA device's, with the same seed;
    /// any Python int from −2^63 to 2^64 − 1 (a negative seed wraps to its 64-bit pattern, as
    /// PyTorch does).
    ///
    /// # Errors
    /// A seed outside that range (PyTorch raises `RuntimeError`); nothing is seeded then.
    pub fn manual_seed(&mut self, seed: impl Into<i128>) -> Result<()> {
        manual_seed_everywhere(
            &mut self.generator,
            std::slice::from_mut(&mut self.cuda),
            seed.into(),
        )
    }

    /// The CUDA device's generator (`torch.cuda.default_generators[0]`).
    #[must_use]
    pub fn cuda_generator(&self) -> &CudaGenerator {
        &self.cuda
    }

    /// The CUDA device's generator, to draw from or restore.
    pub fn cuda_generator_mut(&mut self) -> &mut CudaGenerator {
        &mut self.cuda
    }

    /// `torch.initial_seed()`.
    #[must_use]
    pub fn initial_seed(&self) -> u64 {
        self.generator.initial_seed()
    }

    /// `torch.get_rng_state()`: the 5056-byte CPU state; on a CUDA device
    /// `torch.cuda.get_rng_state()` (16 bytes, 816 in 2.0).
    #[must_use]
    pub fn get_rng_state(&self) -> Vec<u8> {
        match self.context.device {
            Device::Cpu => self.generator.get_state(),
            Device::Cuda(CudaDevice { era, .. }) => self.cuda.get_state(era.rules().state_layout),
        }
    }

    /// `torch.set_rng_state(state)` (on a CUDA device `torch.cuda.set_rng_state(state)`).
    ///
    /// # Errors
    /// A blob PyTorch rejects, or one whose draws PyTorch leaves undefined.
    pub fn set_rng_state(&mut self, state: &[u8]) -> Result<()> {
        match self.context.device {
            Device::Cpu => self.generator.set_state(state),
            Device::Cuda(CudaDevice { era, .. }) => {
                self.cuda.set_state(state, era.rules().state_layout)
            }
        }
    }

    /// `torch.rand(size, dtype=dtype)`.
    ///
    /// # Errors
    /// A negative dimension, a non-float dtype, a tensor over [`crate::MAX_BYTES`].
    pub fn rand(&mut self, size: &[i64], dtype: DType) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::rand(&mut self.generator, size, dtype, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::rand(&mut self.cuda, &profile, era, size, dtype)
            }
        }
    }

    /// `torch.randn(size, dtype=dtype)`.
    ///
    /// # Errors
    /// As [`Torch::rand`].
    pub fn randn(&mut self, size: &[i64], dtype: DType) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::randn(&mut self.generator, size, dtype, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::randn(&mut self.cuda, &profile, era, size, dtype)
            }
        }
    }

    /// `torch.normal(mean, std, size, dtype=dtype)` with float `mean` and `std`.
    ///
    /// # Errors
    /// `std < 0`, then as [`Torch::rand`].
    pub fn normal(&mut self, mean: f64, std: f64, size: &[i64], dtype: DType) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::normal(&mut self.generator, mean, std, size, dtype, self.context),
            Device::Cuda(CudaDevice { profile, era }) => cuda::normal_(
                &mut self.cuda,
                &profile,
                era,
                &View::contiguous(size, dtype),
                mean,
                std,
            ),
        }
    }

    /// `torch.normal(mean, std)` with tensor `mean` and `std` (broadcast).
    ///
    /// # Errors
    /// Shapes that do not broadcast, a negative `std`, non-float tensors.
    pub fn normal_tensors(&mut self, mean: &Tensor, std: &Tensor) -> Result<Tensor> {
        if self.context.is_cuda() {
            return Err(cpu_only("normal(Tensor, Tensor)"));
        }
        ops::normal_tensor_tensor(&mut self.generator, mean, std, self.context)
    }

    /// `torch.normal(mean, std)` with a tensor `mean` and a float `std`.
    ///
    /// # Errors
    /// As [`Torch::normal_tensors`].
    pub fn normal_tensor_float(&mut self, mean: &Tensor, std: f64) -> Result<Tensor> {
        if self.context.is_cuda() {
            return Err(cpu_only("normal(Tensor, float)"));
        }
        ops::normal_tensor_float(&mut self.generator, mean, std, self.context)
    }

    /// `torch.normal(mean, std)` with a float `mean` and a tensor `std`.
    ///
    /// # Errors
    /// As [`Torch::normal_tensors`].
    pub fn normal_float_tensor(&mut self, mean: f64, std: &Tensor) -> Result<Tensor> {
        if self.context.is_cuda() {
            return Err(cpu_only("normal(float, Tensor)"));
        }
        ops::normal_float_tensor(&mut self.generator, mean, std, self.context)
    }

    /// `torch.rand_like(t)`.
    ///
    /// # Errors
    /// As [`Torch::rand`].
    pub fn rand_like(&mut self, t: &Tensor) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::rand_like(&mut self.generator, &view_of(t), self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::uniform_(&mut self.cuda, &profile, era, &view_of(t), 0.0, 1.0)
            }
        }
    }

    /// `torch.randn_like(t)`.
    ///
    /// # Errors
    /// As [`Torch::rand`].
    pub fn randn_like(&mut self, t: &Tensor) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::randn_like(&mut self.generator, &view_of(t), self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::normal_(&mut self.cuda, &profile, era, &view_of(t), 0.0, 1.0)
            }
        }
    }

    /// `torch.randint(low, high, size, dtype=dtype)`.
    ///
    /// # Errors
    /// `low >= high`, bounds outside the dtype, and the size checks.
    pub fn randint(&mut self, low: i64, high: i64, size: &[i64], dtype: DType) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::randint(&mut self.generator, low, high, size, dtype, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::randint(&mut self.cuda, &profile, era, low, high, size, dtype)
            }
        }
    }

    /// `torch.randint_like(t, low, high)`.
    ///
    /// # Errors
    /// As [`Torch::randint`].
    pub fn randint_like(&mut self, t: &Tensor, low: i64, high: i64) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => {
                ops::randint_like(&mut self.generator, &view_of(t), low, high, self.context)
            }
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::random_from_to(&mut self.cuda, &profile, era, &view_of(t), low, Some(high))
            }
        }
    }

    /// `torch.randperm(n, dtype=dtype)`.
    ///
    /// # Errors
    /// `n < 0`, `n` beyond what the dtype holds exactly, and the dtypes PyTorch has no kernel
    /// for.
    pub fn randperm(&mut self, n: i64, dtype: DType) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::randperm(&mut self.generator, n, dtype, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::randperm(&mut self.cuda, &profile, era, n, dtype)
            }
        }
    }

    /// `torch.bernoulli(probs)`.
    ///
    /// # Errors
    /// A non-float `probs`, an entry outside `[0, 1]`.
    pub fn bernoulli(&mut self, probs: &Tensor) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::bernoulli(&mut self.generator, probs),
            Device::Cuda(CudaDevice { era, .. }) => cuda::bernoulli(&mut self.cuda, era, probs),
        }
    }

    /// `torch.bernoulli(x, p)`: a tensor like `x` of Bernoulli(`p`) draws.
    ///
    /// # Errors
    /// `p` outside `[0, 1]`.
    pub fn bernoulli_p(&mut self, x: &Tensor, p: f64) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::bernoulli_p(&mut self.generator, x, p, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::bernoulli_scalar_(&mut self.cuda, &profile, era, &view_of(x), p)
            }
        }
    }

    /// `torch.multinomial(probs, num_samples, replacement)`.
    ///
    /// # Errors
    /// As PyTorch: bad dimensions, negative or non-finite entries, a row summing to 0, too many
    /// samples without replacement.
    pub fn multinomial(
        &mut self,
        probs: &Tensor,
        num_samples: i64,
        replacement: bool,
    ) -> Result<Tensor> {
        if self.context.is_cuda() {
            return Err(cpu_only("multinomial"));
        }
        ops::multinomial(
            &mut self.generator,
            probs,
            num_samples,
            replacement,
            self.context,
        )
    }

    /// `F.dropout(x, p, training=True)` (and `nn.Dropout(p)` in training mode).
    ///
    /// # Errors
    /// `p` outside `[0, 1]`; a non-float `x`.
    pub fn dropout(&mut self, x: &Tensor, p: f64) -> Result<Tensor> {
        match self.context.device {
            Device::Cpu => ops::dropout(&mut self.generator, x, p, self.context),
            Device::Cuda(CudaDevice { profile, era }) => cuda::dropout(
                &mut self.cuda,
                &profile,
                era,
                x,
                &cuda::DropoutInput::default(),
                p,
                (true, false),
            ),
        }
    }

    /// `torch.native_dropout(x, p, train)`: the output and the bool mask.
    ///
    /// # Errors
    /// As [`Torch::dropout`].
    pub fn native_dropout(&mut self, x: &Tensor, p: f64, train: bool) -> Result<(Tensor, Tensor)> {
        match self.context.device {
            Device::Cpu => ops::native_dropout(&mut self.generator, x, p, train, self.context),
            Device::Cuda(CudaDevice { profile, era }) => cuda::native_dropout(
                &mut self.cuda,
                &profile,
                era,
                x,
                &cuda::DropoutInput::default(),
                p,
                train,
            ),
        }
    }

    /// `t.uniform_(from, to)`.
    ///
    /// # Errors
    /// `from > to`, bounds outside the dtype, a non-float dtype.
    pub fn uniform_(&mut self, t: &mut Tensor, from: f64, to: f64) -> Result<()> {
        match self.context.device {
            Device::Cpu => ops::uniform_(&mut self.generator, t, from, to, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                *t = cuda::uniform_(&mut self.cuda, &profile, era, &view_of(t), from, to)?;
                Ok(())
            }
        }
    }

    /// `t.normal_(mean, std)`.
    ///
    /// # Errors
    /// `std < 0`, a non-float dtype.
    pub fn normal_(&mut self, t: &mut Tensor, mean: f64, std: f64) -> Result<()> {
        match self.context.device {
            Device::Cpu => ops::normal_(&mut self.generator, t, mean, std, self.context),
            Device::Cuda(CudaDevice { profile, era }) => {
                *t = cuda::normal_(&mut self.cuda, &profile, era, &view_of(t), mean, std)?;
                Ok(())
            }
        }
    }

    /// `t.random_()`: integers in `[0, 2^digits]` for floats, `[0, max]` for integers.
    ///
    /// # Errors
    /// The dtypes PyTorch has no kernel for (uint16/32/64).
    pub fn random_(&mut self, t: &mut Tensor) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => ops::random_(&mut self.generator, &view_of(t), self.context)?,
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::random_(&mut self.cuda, &profile, era, &view_of(t))?
            }
        };
        Ok(())
    }

    /// `t.random_(from, to)` (`to = None`: up to the dtype's largest value, as PyTorch's
    /// `random_(from, None)`); `t.random_(to)` is `random_from_to_(t, 0, Some(to))`.
    ///
    /// # Errors
    /// `from >= to`, bounds outside the dtype.
    pub fn random_from_to_(&mut self, t: &mut Tensor, from: i64, to: Option<i64>) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => {
                ops::random_from_to(&mut self.generator, &view_of(t), from, to, self.context)?
            }
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::random_from_to(&mut self.cuda, &profile, era, &view_of(t), from, to)?
            }
        };
        Ok(())
    }

    /// `t.bernoulli_(p)` with a float `p`.
    ///
    /// # Errors
    /// `p` outside `[0, 1]`.
    pub fn bernoulli_(&mut self, t: &mut Tensor, p: f64) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => {
                ops::bernoulli_scalar_(&mut self.generator, &view_of(t), p, self.context)?
            }
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::bernoulli_scalar_(&mut self.cuda, &profile, era, &view_of(t), p)?
            }
        };
        Ok(())
    }

    /// `t.bernoulli_(p)` with a tensor `p` broadcast to `t`.
    ///
    /// # Errors
    /// `p` not broadcastable to `t`, a non-float `p`, an entry outside `[0, 1]`.
    pub fn bernoulli_tensor_(&mut self, t: &mut Tensor, p: &Tensor) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => ops::bernoulli_tensor_(&mut self.generator, &size_of(t), t.dtype(), p)?,
            Device::Cuda(CudaDevice { era, .. }) => {
                cuda::bernoulli_tensor_(&mut self.cuda, era, &view_of(t), p)?
            }
        };
        Ok(())
    }

    /// `t.exponential_(lambd)`.
    ///
    /// # Errors
    /// `lambd <= 0`, a non-float dtype.
    pub fn exponential_(&mut self, t: &mut Tensor, lambd: f64) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => {
                ops::exponential_(&mut self.generator, &view_of(t), lambd, self.context)?
            }
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::exponential_(&mut self.cuda, &profile, era, &view_of(t), lambd)?
            }
        };
        Ok(())
    }

    /// `t.geometric_(p)`.
    ///
    /// # Errors
    /// `p` outside `(0, 1)`.
    pub fn geometric_(&mut self, t: &mut Tensor, p: f64) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => ops::geometric_(&mut self.generator, &view_of(t), p, self.context)?,
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::geometric_(&mut self.cuda, &profile, era, &view_of(t), p)?
            }
        };
        Ok(())
    }

    /// `t.log_normal_(mean, std)`.
    ///
    /// # Errors
    /// `std <= 0`, a non-float dtype.
    pub fn log_normal_(&mut self, t: &mut Tensor, mean: f64, std: f64) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => {
                ops::log_normal_(&mut self.generator, &view_of(t), mean, std, self.context)?
            }
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::log_normal_(&mut self.cuda, &profile, era, &view_of(t), mean, std)?
            }
        };
        Ok(())
    }

    /// `t.cauchy_(median, sigma)`.
    ///
    /// # Errors
    /// `sigma <= 0`, a non-float dtype.
    pub fn cauchy_(&mut self, t: &mut Tensor, median: f64, sigma: f64) -> Result<()> {
        *t = match self.context.device {
            Device::Cpu => ops::cauchy_(
                &mut self.generator,
                &view_of(t),
                median,
                sigma,
                self.context,
            )?,
            Device::Cuda(CudaDevice { profile, era }) => {
                cuda::cauchy_(&mut self.cuda, &profile, era, &view_of(t), median, sigma)?
            }
        };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The in-place ops fill the tensor they are given, with the bits of the op on
    /// `torch.empty(size)`.
    #[test]
    fn in_place_ops_fill_their_target() {
        let mut t = Tensor::zeros(&[5], DType::Float32).unwrap();
        let mut torch = Torch::with_seed(3);
        torch.exponential_(&mut t, 1.5).unwrap();
        let mut g = CpuGenerator::with_seed(3);
        let want = ops::exponential_(
            &mut g,
            &View::contiguous(&[5], DType::Float32),
            1.5,
            Context::default(),
        )
        .unwrap();
        assert_eq!(t.bits(), want.bits());
        assert_eq!(torch.generator(), &g);
        let mut i = Tensor::zeros(&[3], DType::Int64).unwrap();
        torch.random_from_to_(&mut i, 0, Some(2)).unwrap();
        assert!(i.bits().iter().all(|&b| b < 2));
        assert!(torch.geometric_(&mut t, 2.0).is_err());
    }

    /// On a CUDA context every op draws from the device's Philox generator through the CUDA
    /// kernels, and `manual_seed` seeds it as `torch.manual_seed` does.
    #[test]
    fn cuda_context_dispatches() {
        use crate::context::DeviceProfile;
        let cx = Context::default()
            .on_cuda(DeviceProfile::h100_sxm(), "2.15.0")
            .unwrap();
        let mut torch = Torch::new(cx);
        torch.manual_seed(0).unwrap();
        let t = torch.rand(&[5], DType::Float32).unwrap();
        let mut g = CudaGenerator::new();
        g.manual_seed(0);
        let Device::Cuda(CudaDevice { profile, era }) = cx.device else {
            unreachable!("a CUDA context")
        };
        let want = cuda::rand(&mut g, &profile, era, &[5], DType::Float32).unwrap();
        assert_eq!(t.bits(), want.bits());
        assert_eq!(torch.cuda_generator(), &g);
        assert_eq!(torch.get_rng_state().len(), 16);
        assert!(torch
            .multinomial(&t, 1, true)
            .unwrap_err()
            .to_string()
            .contains("CUDA"));
    }

    #[test]
    fn seeds_and_state() {
        let mut torch = Torch::new(Context::default());
        torch.manual_seed(-1).unwrap();
        assert_eq!(torch.initial_seed(), u64::MAX);
        assert!(torch.manual_seed(1i128 << 64).is_err());
        let state = torch.get_rng_state();
        let a = torch.rand(&[3], DType::Float64).unwrap();
        torch.set_rng_state(&state).unwrap();
        assert_eq!(torch.rand(&[3], DType::Float64).unwrap(), a);
        assert_eq!(torch.new_generator().initial_seed(), 67_280_421_310_721);
        assert_eq!(torch.cuda_generator().initial_seed(), u64::MAX);
    }
}
