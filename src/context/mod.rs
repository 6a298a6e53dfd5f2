//! What PyTorch build is being reproduced: the CPU kernel variant and the release, as one
//! [`Context`] value passed to every op (STYLE rule 18: options resolved once).
//!
//! The release decides behaviour through [`Rules`]: one exhaustive table of what each [`Era`]
//! changes, read where behaviour differs (STYLE rule 21). The table of releases and eras is
//! `era`'s, and `golden/releases.json` (read by the Python tools) is generated from it.

mod cuda_era;
mod device;
mod era;

pub use cuda_era::{
    CudaEra, CudaRules, CudaStateLayout, DropoutVecCap, OffsetUnroll, RandintWide, UniformReversal,
};
pub use device::{CudaDevice, Device, DeviceProfile, DeviceSpec, BLOCK_SIZE};
pub use era::{
    BernoulliKernel, Era, ExponentialKernel, NormalRule, ReducedNormal, ReleaseEra, Rules,
    TruncRule, UniformRule, WideRandint, FIXTURE_RELEASES, LATEST_RELEASE, RELEASE_ERAS,
};

use crate::error::{Error, Result};

/// The x86-64 kernel variant PyTorch dispatched to (`ATEN_CPU_CAPABILITY`).
///
/// This is data, never detected from the host (STYLE rule 7): every variant is emulated on any
/// machine. `Avx512` behaves exactly as `Avx2` for every RNG kernel (PyTorch 2.15 has no AVX-512
/// copy of the distribution kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Capability {
    /// The baseline x86-64 build: no fused multiply-add, glibc `logf`/`sinf`/`cosf` in the normal
    /// kernel.
    Default,
    /// The AVX2 build (`-mavx2 -mfma`): contracted multiply-adds and the Cephes-style vector
    /// log/sincos in the normal kernel. What any current x86-64 CPU runs.
    #[default]
    Avx2,
    /// The AVX-512 level; the RNG kernels are the AVX2 ones.
    Avx512,
}

impl Capability {
    /// Every variant, in `ATEN_CPU_CAPABILITY` order.
    pub const ALL: [Capability; 3] = [Capability::Default, Capability::Avx2, Capability::Avx512];

    /// Parses `default`, `avx2` or `avx512` (as `ATEN_CPU_CAPABILITY` spells them, any case).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for any other name.
    pub fn parse(s: &str) -> Result<Capability> {
        Capability::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                Error::unsupported(format!(
                    "capability '{s}' (expected default, avx2 or avx512)"
                ))
            })
    }

    /// The name as `ATEN_CPU_CAPABILITY` spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Capability::Default => "default",
            Capability::Avx2 => "avx2",
            Capability::Avx512 => "avx512",
        }
    }

    /// Whether the compiler contracted `a * b + c` into a fused multiply-add in this build.
    #[must_use]
    pub fn fused(self) -> bool {
        !matches!(self, Capability::Default)
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The PyTorch build being reproduced: its CPU kernel variant and its release era.
///
/// One value of this type travels with every op instead of separate variant and release
/// arguments. The default is PyTorch 2.15 with the `avx2` kernels, what a current x86-64 machine
/// runs.
///
/// ```
/// use torch_rng::{Capability, Context, Era};
/// let cx = Context::for_release(Capability::Default, "2.9.1").unwrap();
/// assert_eq!((cx.capability, cx.era), (Capability::Default, Era::R2));
/// assert!(Context::for_release(Capability::Avx2, "1.13.1").is_err());
/// assert_eq!(Context::default(), Context::new(Capability::Avx2));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    /// The CPU kernel variant.
    pub capability: Capability,
    /// The release era.
    pub era: Era,
    /// Where tensors are made (`torch.set_default_device`): the CPU, or a CUDA device with its
    /// launch geometry.
    pub device: Device,
    /// How many threads a large CPU fill may use (1 by default: the calling thread only; 0: every
    /// core, [`std::thread::available_parallelism`]). Never changes a bit: each thread starts
    /// from the generator jumped to its part of the stream (see [`Context::with_threads`]).
    pub threads: usize,
}

/// The most threads one fill uses, whatever [`Context::threads`] asks for (a larger count would
/// only add threads that each skip further and compute less).
pub const MAX_THREADS: usize = 256;

impl Default for Context {
    fn default() -> Context {
        Context::new(Capability::default())
    }
}

impl Context {
    /// The given capability in the latest era.
    #[must_use]
    pub fn new(capability: Capability) -> Context {
        Context {
            capability,
            era: Era::default(),
            device: Device::Cpu,
            threads: 1,
        }
    }

    /// The same build with `threads` threads for large fills (0: every core).
    ///
    /// Threads change nothing but the time: `uniform_` and `normal_` (and `rand`, `randn`, the
    /// `nn.init` calls built on them, and whole-model `init`) on a large tensor split it into
    /// parts, each computed from a copy of the generator advanced to the part's first word
    /// ([`CpuGenerator::advance`](crate::CpuGenerator::advance)), and the generator ends where
    /// one thread would leave it. Ops whose word count depends on the values drawn
    /// (`trunc_normal_`'s rejection rounds, `randperm`, `multinomial`) and the per-element normal
    /// path (which shares the cached sample) stay on one thread.
    ///
    /// ```
    /// use torch_rng::{Context, DType, Torch};
    /// let mut one = Torch::from_parts(Context::default(), torch_rng::CpuGenerator::with_seed(0));
    /// let mut four = Torch::from_parts(
    ///     Context::default().with_threads(4),
    ///     torch_rng::CpuGenerator::with_seed(0),
    /// );
    /// let n = 1 << 20;
    /// assert_eq!(one.randn(&[n], DType::Float32)?, four.randn(&[n], DType::Float32)?);
    /// assert_eq!(one.generator(), four.generator());
    /// # Ok::<(), torch_rng::Error>(())
    /// ```
    #[must_use]
    pub fn with_threads(self, threads: usize) -> Context {
        Context { threads, ..self }
    }

    /// The thread count [`Context::threads`] stands for: 0 resolved to the cores available, and
    /// at most [`MAX_THREADS`].
    #[must_use]
    pub fn thread_count(self) -> usize {
        match self.threads {
            0 => std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            n => n,
        }
        .min(MAX_THREADS)
    }

    /// The given capability in the era of a PyTorch release (`"2.5.1"`, `"2.12.0"`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release outside 2.0 – 2.15 (see [`Era::of_release`]).
    pub fn for_release(capability: Capability, release: &str) -> Result<Context> {
        Ok(Context {
            capability,
            era: Era::of_release(release)?,
            device: Device::Cpu,
            threads: 1,
        })
    }

    /// A CUDA device of geometry `profile` under the CUDA behaviour of `release`: ops draw from
    /// the device's Philox generator through the emulated CUDA kernels (`torch.set_default_device
    /// ("cuda")`, or `device="cuda"` on every call). CPU-side arithmetic keeps `self`'s variant.
    ///
    /// ```
    /// use torch_rng::{Context, DeviceProfile};
    /// let cx = Context::default().on_cuda(DeviceProfile::h100_sxm(), "2.15.0").unwrap();
    /// assert!(cx.is_cuda());
    /// ```
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release outside 2.0 – 2.15.
    pub fn on_cuda(self, profile: DeviceProfile, release: &str) -> Result<Context> {
        Ok(Context {
            era: Era::of_release(release)?,
            device: Device::Cuda(CudaDevice {
                profile,
                era: CudaEra::of_release(release)?,
            }),
            ..self
        })
    }

    /// Whether tensors are made on a CUDA device.
    #[must_use]
    pub fn is_cuda(self) -> bool {
        matches!(self.device, Device::Cuda(_))
    }

    /// What the release era does differently ([`Era::rules`]).
    #[must_use]
    pub fn rules(self) -> Rules {
        self.era.rules()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_capabilities() {
        assert_eq!(Capability::parse("AVX2").unwrap(), Capability::Avx2);
        assert_eq!(Capability::parse("default").unwrap(), Capability::Default);
        assert!(Capability::parse("neon").is_err());
        assert_eq!(Capability::default(), Capability::Avx2);
        assert!(Capability::Avx512.fused() && !Capability::Default.fused());
        for c in Capability::ALL {
            assert_eq!(Capability::parse(c.name()).unwrap(), c);
        }
    }

    #[test]
    fn context_of_release() {
        let cx = Context::for_release(Capability::Default, "2.0.1").unwrap();
        assert_eq!((cx.capability, cx.era), (Capability::Default, Era::L0));
        assert_eq!(cx.rules(), Era::L0.rules());
    }
}
