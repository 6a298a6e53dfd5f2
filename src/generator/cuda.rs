//! The CUDA generator (`torch.Generator(device="cuda")` and the per-device default generators).
//!
//! Mirrors: `aten/src/ATen/cuda/CUDAGeneratorImpl.cpp` (`CUDAGeneratorImpl`,
//! `CUDAGeneratorState::increase`, `createCUDAGenerator`) and `torch/cuda/random.py`
//! (`manual_seed`, `manual_seed_all`), `torch/random.py` (`manual_seed`).
//!
//! A CUDA generator holds no stream, only `(seed, philox_offset_per_thread)`. Each kernel reserves
//! a slice of the Philox counter space *before* it launches ([`CudaGenerator::philox_cuda_state`])
//! and every thread then runs `curand_init(seed, thread index, offset)`; what a kernel draws is
//! decided by the launch geometry ([`crate::cuda`]), never by this type.
//!
//! Seeding: PyTorch seeds a device's default generator non-deterministically on first use, so a
//! reproducible program calls `torch.manual_seed` (all devices and the CPU),
//! `torch.cuda.manual_seed` (the current device) or `torch.cuda.manual_seed_all` first; all three
//! set the seed and reset the offset to 0. CUDA graphs give the same values as eager execution
//! from the same state (cuda-philox.md section 3) and need no model here.

use crate::error::{Error, Result};
use crate::generator::{seed_from_i128, CpuGenerator};

/// A CUDA generator: the seed and the Philox offset (in 32-bit words per thread).
///
/// `Clone` but not `Copy`; no `Default` (a fresh `torch.Generator(device="cuda")` is
/// [`CudaGenerator::new`]).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CudaGenerator {
    seed: u64,
    philox_offset_per_thread: u64,
}

impl CudaGenerator {
    /// The seed of a fresh `torch.Generator(device="cuda")` (`c10::detail::default_rng_seed_val`,
    /// set by `createCUDAGenerator`), with offset 0.
    pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

    /// `torch.Generator(device="cuda")`: seed [`Self::DEFAULT_SEED`], offset 0.
    #[allow(clippy::new_without_default)]
    #[must_use]
    pub fn new() -> CudaGenerator {
        CudaGenerator::with_seed(Self::DEFAULT_SEED)
    }

    /// A generator after `manual_seed(seed)`: the seed, offset 0.
    #[must_use]
    pub fn with_seed(seed: u64) -> CudaGenerator {
        CudaGenerator {
            seed,
            philox_offset_per_thread: 0,
        }
    }

    /// `manual_seed(seed)` (`set_current_seed`): the seed, and the offset back to 0.
    pub fn manual_seed(&mut self, seed: u64) {
        self.seed = seed;
        self.philox_offset_per_thread = 0;
    }

    /// `initial_seed()`: the 64-bit seed.
    #[must_use]
    pub fn initial_seed(&self) -> u64 {
        self.seed
    }

    /// `get_offset()`: the Philox offset, a multiple of 4.
    #[must_use]
    pub fn get_offset(&self) -> u64 {
        self.philox_offset_per_thread
    }

    /// `set_offset(offset)`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] when `offset` is not a multiple of 4, as PyTorch's
    /// `set_philox_offset_per_thread` checks (see its Note "Why enforce RNG offset % 4 == 0?").
    pub fn set_offset(&mut self, offset: u64) -> Result<()> {
        if !offset.is_multiple_of(4) {
            return Err(Error::arg(
                "set_offset",
                format!("offset must be a multiple of 4, got {offset}"),
            ));
        }
        self.philox_offset_per_thread = offset;
        Ok(())
    }

    /// `philox_cuda_state(increment)`: returns `(seed, offset)` for the kernel about to launch
    /// and advances the offset by `increment` rounded up to a multiple of 4
    /// (`CUDAGeneratorState::increase`). The offset wraps modulo 2^64.
    pub fn philox_cuda_state(&mut self, increment: u64) -> (u64, u64) {
        let old = self.philox_offset_per_thread;
        let rounded = increment.div_ceil(4).wrapping_mul(4);
        self.philox_offset_per_thread = old.wrapping_add(rounded);
        (self.seed, old)
    }
}

/// `torch.cuda.manual_seed_all(seed)`: seeds every device's default generator.
///
/// # Errors
/// [`Error::InvalidArgument`] for a seed outside `[-2^63, 2^64)`, as PyTorch raises (negative
/// seeds wrap two's-complement: `-1` becomes `2^64 - 1`).
pub fn manual_seed_all(devices: &mut [CudaGenerator], seed: i128) -> Result<()> {
    let s = seed_from_i128(seed)?;
    for g in devices {
        g.manual_seed(s);
    }
    Ok(())
}

/// `torch.manual_seed(seed)`: seeds the CPU default generator and every CUDA device's
/// (`manual_seed_all`), with the same 64-bit seed.
///
/// # Errors
/// As [`manual_seed_all`]; nothing is seeded then.
pub fn manual_seed_everywhere(
    cpu: &mut CpuGenerator,
    devices: &mut [CudaGenerator],
    seed: i128,
) -> Result<()> {
    cpu.manual_seed(seed_from_i128(seed)?);
    manual_seed_all(devices, seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_generator() {
        let g = CudaGenerator::new();
        assert_eq!(g.initial_seed(), 0x3d30_f19c_d101);
        assert_eq!(g.get_offset(), 0);
    }

    #[test]
    fn reservation_rounds_up_to_four() {
        let mut g = CudaGenerator::with_seed(5);
        assert_eq!(g.philox_cuda_state(4), (5, 0));
        assert_eq!(g.philox_cuda_state(10), (5, 4)); // bernoulli(p_tensor): 10 -> 12
        assert_eq!(g.get_offset(), 16);
        assert_eq!(g.philox_cuda_state(0), (5, 16)); // nothing reserved
        assert_eq!(g.philox_cuda_state(1), (5, 16));
        assert_eq!(g.get_offset(), 20);
        g.set_offset(u64::MAX - 3).unwrap();
        assert_eq!(g.philox_cuda_state(8).1, u64::MAX - 3);
        assert_eq!(g.get_offset(), 4); // wraps modulo 2^64
    }

    #[test]
    fn seeding_resets_the_offset() {
        let mut g = CudaGenerator::with_seed(1);
        g.philox_cuda_state(40);
        g.manual_seed(2);
        assert_eq!((g.initial_seed(), g.get_offset()), (2, 0));
        assert!(g.set_offset(6).is_err());
        assert_eq!(g.get_offset(), 0);
        g.set_offset(8).unwrap();
        assert_eq!(g.get_offset(), 8);
    }

    #[test]
    fn torch_manual_seed_seeds_every_device_and_the_cpu() {
        let mut cpu = CpuGenerator::with_seed(3);
        let mut devs = vec![CudaGenerator::with_seed(9); 2];
        devs[1].philox_cuda_state(12);
        manual_seed_everywhere(&mut cpu, &mut devs, -1).unwrap();
        assert_eq!(cpu.initial_seed(), u64::MAX);
        assert!(devs
            .iter()
            .all(|g| g.initial_seed() == u64::MAX && g.get_offset() == 0));
        assert!(manual_seed_all(&mut devs, 1 << 64).is_err());
        assert!(manual_seed_everywhere(&mut cpu, &mut devs, -(1 << 63) - 1).is_err());
        assert_eq!(cpu.initial_seed(), u64::MAX);
    }
}
