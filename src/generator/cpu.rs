//! The CPU generator (`torch.Generator()` and the default generator).
//!
//! Mirrors: `aten/src/ATen/CPUGeneratorImpl.cpp` (`CPUGeneratorImpl`).

use crate::engine::{Mt19937, Mt19937Jump};
use crate::error::{Error, Result};
use crate::simd::Lanes;

/// PyTorch's CPU generator: an [`Mt19937`] plus the cached second Box–Muller samples.
///
/// Only the double cache is used by CPU kernels (the scalar normal path); the float cache exists
/// in the state bytes and is carried along. `Clone` copies the engine and both caches, as
/// `Generator.clone_state()` does; there is no `Copy` and no `Default`.
#[derive(Clone, PartialEq)]
pub struct CpuGenerator {
    engine: Mt19937,
    next_double_normal_sample: Option<f64>,
    next_float_normal_sample: Option<f32>,
}

impl std::fmt::Debug for CpuGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuGenerator")
            .field("initial_seed", &self.engine.seed_value())
            .field("left", &self.engine.left())
            .field("next", &self.engine.next_index())
            .field("normal_cached", &self.next_double_normal_sample.is_some())
            .finish_non_exhaustive()
    }
}

/// Converts a Python seed to the `u64` PyTorch stores.
///
/// `torch.manual_seed` accepts `-2^63 <= seed < 2^64`; negative seeds wrap modulo 2^64
/// (`-1` becomes `0xffff_ffff_ffff_ffff`).
///
/// # Errors
/// [`Error::InvalidArgument`] for a seed outside that range, as PyTorch raises.
pub fn seed_from_i128(seed: i128) -> Result<u64> {
    if seed < i128::from(i64::MIN) || seed > i128::from(u64::MAX) {
        return Err(Error::arg(
            "manual_seed",
            format!("seed {seed} is out of range [{}, {}]", i64::MIN, u64::MAX),
        ));
    }
    Ok(seed as u64) // two's-complement wrap of the negative range, as PyTorch reinterprets it
}

impl CpuGenerator {
    /// The seed of a fresh `torch.Generator()` (`c10::detail::default_rng_seed_val`).
    pub const DEFAULT_SEED: u64 = 67_280_421_310_721;

    /// A generator as `torch.Generator()` creates it, seeded with [`Self::DEFAULT_SEED`].
    // No `Default` impl on purpose: a seeded generator should be created by naming its seed.
    #[allow(clippy::new_without_default)]
    #[must_use]
    pub fn new() -> CpuGenerator {
        CpuGenerator::with_seed(Self::DEFAULT_SEED)
    }

    /// A generator after `manual_seed(seed)`.
    #[must_use]
    pub fn with_seed(seed: u64) -> CpuGenerator {
        CpuGenerator {
            engine: Mt19937::new(seed),
            next_double_normal_sample: None,
            next_float_normal_sample: None,
        }
    }

    /// `manual_seed(seed)`: reseeds the engine and clears both normal caches.
    pub fn manual_seed(&mut self, seed: u64) {
        self.engine.seed(seed);
        self.next_double_normal_sample = None;
        self.next_float_normal_sample = None;
    }

    /// `initial_seed()`: the full 64-bit seed last given (or restored from state bytes).
    #[must_use]
    pub fn initial_seed(&self) -> u64 {
        self.engine.seed_value()
    }

    /// One 32-bit draw.
    #[inline]
    pub fn random(&mut self) -> u32 {
        self.engine.random()
    }

    /// Two draws as one 64-bit value, the first in the high half.
    #[inline]
    pub fn random64(&mut self) -> u64 {
        self.engine.random64()
    }

    /// `out.len()` consecutive 32-bit draws.
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        self.engine.fill_u32(out);
    }

    /// The engine's untempered words for the next `n` draws, run by run (see
    /// [`Mt19937::raw_runs`]).
    pub(crate) fn raw_runs(&mut self, n: usize, lanes: Lanes, f: impl FnMut(&[u32], usize)) {
        self.engine.raw_runs(n, lanes, f);
    }

    /// `out.len()` consecutive 64-bit draws.
    pub fn fill_u64(&mut self, out: &mut [u64]) {
        self.engine.fill_u64(out);
    }

    /// Advances the word stream by `words` 32-bit draws in `O(log words)`: the engine ends where
    /// `words` calls of [`CpuGenerator::random`] would leave it (see [`Mt19937::advance`]).
    ///
    /// What it means exactly:
    /// * **Words, not values.** One `random()` is one word; one `random64()` (and so one float64
    ///   uniform) is two words, high first. To skip `k` 64-bit draws, advance by `2k`.
    /// * **The cached normal samples are left as they are**, neither consumed nor cleared. This
    ///   is what every word-drawing kernel does (the fill kernels neither read nor clear the
    ///   cache), so `advance(n)` followed by a fill kernel gives the same values as running a
    ///   kernel that draws `n` words first. A per-element normal draw after the jump still returns
    ///   a cached sample first, exactly as it would have after `n` draws. To start a parallel part
    ///   of a stream from a clean cache, call [`CpuGenerator::clear_normal_cache`] as well.
    /// * The seed (`initial_seed`) is unchanged.
    pub fn advance(&mut self, words: u64) {
        self.engine.advance(words);
    }

    /// Advances by `jump.words()` draws with a precomputed polynomial (fast repeated jumps of one
    /// stride); otherwise as [`CpuGenerator::advance`].
    pub fn jump(&mut self, jump: &Mt19937Jump) {
        self.engine.jump(jump);
    }

    /// Drops both cached normal samples (as `manual_seed` does, without reseeding).
    pub fn clear_normal_cache(&mut self) {
        self.next_double_normal_sample = None;
        self.next_float_normal_sample = None;
    }

    /// The engine.
    #[must_use]
    pub fn engine(&self) -> &Mt19937 {
        &self.engine
    }

    /// How many 32-bit words were drawn to get from the state `earlier` to this one (a 64-bit draw
    /// counts two), found by stepping a copy of `earlier`'s engine; `None` past 2^32 words or when
    /// this state does not follow `earlier`.
    #[must_use]
    pub fn words_since(&self, earlier: &CpuGenerator) -> Option<u64> {
        const N: u64 = 624;
        let mut e = earlier.engine.clone();
        let goal = &self.engine;
        let diff = (u64::from(goal.next_index()) + N - u64::from(e.next_index())) % N;
        e.discard(diff);
        let mut count = diff;
        while e != *goal {
            if count > 1 << 32 {
                return None;
            }
            e.discard(N);
            count += N;
        }
        Some(count)
    }

    pub(crate) fn engine_mut(&mut self) -> &mut Mt19937 {
        &mut self.engine
    }

    /// The cached double normal sample, if any.
    #[must_use]
    pub fn next_double_normal_sample(&self) -> Option<f64> {
        self.next_double_normal_sample
    }

    /// The cached float normal sample, if any (no CPU kernel reads it).
    #[must_use]
    pub fn next_float_normal_sample(&self) -> Option<f32> {
        self.next_float_normal_sample
    }

    pub(crate) fn take_double_normal_sample(&mut self) -> Option<f64> {
        self.next_double_normal_sample.take()
    }

    pub(crate) fn set_double_normal_sample(&mut self, v: Option<f64>) {
        self.next_double_normal_sample = v;
    }

    pub(crate) fn from_parts(
        engine: Mt19937,
        double: Option<f64>,
        float: Option<f32>,
    ) -> CpuGenerator {
        CpuGenerator {
            engine,
            next_double_normal_sample: double,
            next_float_normal_sample: float,
        }
    }
}

#[cfg(feature = "rand_core")]
mod rand_core_impl {
    //! `rand_core` 0.10 traits. They only call the inherent methods. Note that `rand`'s own
    //! distributions turn words into values differently from PyTorch: use this crate's ops for
    //! PyTorch's values, and these traits only to feed PyTorch's word stream elsewhere.

    use super::CpuGenerator;
    use crate::engine::Mt19937;
    use core::convert::Infallible;

    macro_rules! impl_try_rng {
        ($t:ty) => {
            impl rand_core::TryRng for $t {
                type Error = Infallible;
                fn try_next_u32(&mut self) -> Result<u32, Infallible> {
                    Ok(self.random())
                }
                /// PyTorch's `random64`: the first draw is the **high** half (rand_core's own
                /// helpers put the first word low).
                fn try_next_u64(&mut self) -> Result<u64, Infallible> {
                    Ok(self.random64())
                }
                fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
                    for chunk in dst.chunks_mut(4) {
                        let w = self.random().to_le_bytes();
                        chunk.copy_from_slice(&w[..chunk.len()]);
                    }
                    Ok(())
                }
            }
        };
    }
    impl_try_rng!(Mt19937);
    impl_try_rng!(CpuGenerator);

    /// Seeding matches `torch.manual_seed`: `from_seed` takes the 8 little-endian bytes of the
    /// seed, and `seed_from_u64(s)` is overridden to be `manual_seed(s)` (rand_core's provided
    /// version would first expand `s` through PCG32).
    impl rand_core::SeedableRng for CpuGenerator {
        type Seed = [u8; 8];
        fn from_seed(seed: [u8; 8]) -> CpuGenerator {
            CpuGenerator::with_seed(u64::from_le_bytes(seed))
        }
        fn seed_from_u64(seed: u64) -> CpuGenerator {
            CpuGenerator::with_seed(seed)
        }
    }

    /// As for [`CpuGenerator`]: seeding is `torch.manual_seed`'s.
    impl rand_core::SeedableRng for Mt19937 {
        type Seed = [u8; 8];
        fn from_seed(seed: [u8; 8]) -> Mt19937 {
            Mt19937::new(u64::from_le_bytes(seed))
        }
        fn seed_from_u64(seed: u64) -> Mt19937 {
            Mt19937::new(seed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_generator_seed() {
        let g = CpuGenerator::new();
        assert_eq!(g.initial_seed(), 67_280_421_310_721);
        assert_eq!(g.engine().state()[0], 0xf19c_d101);
    }

    #[test]
    fn seed_wrapping() {
        assert_eq!(seed_from_i128(-1).unwrap(), u64::MAX);
        assert_eq!(seed_from_i128(i128::from(i64::MIN)).unwrap(), 1 << 63);
        assert_eq!(seed_from_i128(i128::from(u64::MAX)).unwrap(), u64::MAX);
        assert!(seed_from_i128(1 << 64).is_err());
        assert!(seed_from_i128(i128::from(i64::MIN) - 1).is_err());
    }

    #[test]
    fn reseed_clears_caches() {
        let mut g = CpuGenerator::with_seed(1);
        g.set_double_normal_sample(Some(0.5));
        g.manual_seed(1);
        assert_eq!(g.next_double_normal_sample(), None);
        assert_eq!(g, CpuGenerator::with_seed(1));
    }

    /// `advance(n)` equals `n` single draws, keeps the normal cache, and a `random64` counts as
    /// two words.
    #[test]
    fn advance_counts_words_and_keeps_the_cache() {
        for n in [0u64, 1, 623, 624, 625, 10_000, 2_000_001] {
            let mut a = CpuGenerator::with_seed(4);
            a.set_double_normal_sample(Some(0.25));
            let mut b = a.clone();
            for _ in 0..n {
                a.random();
            }
            b.advance(n);
            assert_eq!(a, b, "n {n}");
            assert_eq!(b.next_double_normal_sample(), Some(0.25));
        }
        let mut a = CpuGenerator::with_seed(4);
        let mut b = a.clone();
        for _ in 0..1001 {
            a.random64();
        }
        b.advance(2 * 1001);
        assert_eq!(a.random64(), b.random64());
        let j = Mt19937Jump::new(5000);
        let mut c = CpuGenerator::with_seed(4);
        c.jump(&j);
        let mut d = CpuGenerator::with_seed(4);
        d.advance(5000);
        assert_eq!(c, d);
        d.clear_normal_cache();
        assert_eq!(d.next_double_normal_sample(), None);
    }

    #[cfg(feature = "rand_core")]
    #[test]
    fn rand_core_traits_follow_pytorch() {
        use crate::engine::Mt19937;
        use rand_core::{Rng, SeedableRng};
        let mut g = CpuGenerator::from_seed(42u64.to_le_bytes());
        assert_eq!(g.next_u64(), 0x5fe1_dc66_cbea_3db3);
        assert_eq!(CpuGenerator::seed_from_u64(42), CpuGenerator::with_seed(42));
        assert_eq!(Mt19937::seed_from_u64(42), Mt19937::new(42));
        let mut h = CpuGenerator::with_seed(42);
        let mut bytes = [0u8; 6];
        h.fill_bytes(&mut bytes);
        let mut k = CpuGenerator::with_seed(42);
        let w0 = k.random().to_le_bytes();
        let w1 = k.random().to_le_bytes();
        assert_eq!(bytes, [w0[0], w0[1], w0[2], w0[3], w1[0], w1[1]]);
    }
}
