//! PyTorch's mt19937: the 32-bit Mersenne Twister with PyTorch's seed and cursor fields.
//!
//! Mirrors: `aten/src/ATen/core/MT19937RNGEngine.h` (`at::mt19937`).
//!
//! The output stream is the reference `mt19937ar` one (identical to C++ `std::mt19937` seeded with
//! the same 32-bit value). PyTorch keeps the full 64-bit seed for `initial_seed()` and the state
//! bytes, but only its low 32 bits reach the state, so seeds `s` and `s + k * 2^32` give one stream.
//!
//! The 624-word twist ([`Mt19937::twist`]) is kept apart from the per-word tempering so that bulk
//! consumers ([`Mt19937::fill_u32`]) can run the two as tight loops, 8 or 16 words at a time
//! (`mt19937/simd.rs`). [`Mt19937::advance`] jumps ahead by any number of words in `O(log n)`
//! (`engine::jump`).

/// Number of 32-bit words in the state (`MERSENNE_STATE_N`).
pub const MERSENNE_STATE_N: usize = 624;
/// The twist offset (`MERSENNE_STATE_M`).
pub const MERSENNE_STATE_M: usize = 397;
/// The twist matrix constant (`MATRIX_A`).
pub const MATRIX_A: u32 = 0x9908_b0df;
/// Most significant bit of a word (`UMASK`).
pub const UPPER_MASK: u32 = 0x8000_0000;
/// The other 31 bits (`LMASK`).
pub const LOWER_MASK: u32 = 0x7fff_ffff;

mod simd;
#[cfg(target_arch = "x86_64")]
pub(crate) use simd::temper8;

use crate::simd::Lanes;

/// The raw engine state, field for field as PyTorch's `mt19937_data_pod`.
///
/// `left` counts down to the next twist: a draw first decrements it and twists when it reaches 0.
/// `next` is the index of the next state word to temper. After seeding `left == 1`, so the very
/// first draw twists.
#[derive(Clone, PartialEq, Eq)]
pub struct Mt19937 {
    seed: u64,
    left: u32,
    next: u32,
    state: [u32; MERSENNE_STATE_N],
}

impl std::fmt::Debug for Mt19937 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The 2.5 KB state is deliberately not printed.
        f.debug_struct("Mt19937")
            .field("seed", &self.seed)
            .field("left", &self.left)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

/// Tempering of one state word (`temper` in the reference).
#[inline(always)]
#[must_use]
pub fn temper(mut y: u32) -> u32 {
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c_5680;
    y ^= (y << 15) & 0xefc6_0000;
    y ^= y >> 18;
    y
}

/// One word of the twist: the new word `i` from the words `i`, `i + 1` and `i + 397`.
#[inline(always)]
pub(crate) fn mix(cur: u32, next: u32, far: u32) -> u32 {
    let y = (cur & UPPER_MASK) | (next & LOWER_MASK);
    far ^ (y >> 1) ^ ((y & 1).wrapping_neg() & MATRIX_A)
}

impl Mt19937 {
    /// An engine seeded as `at::mt19937(seed)` (and `torch.manual_seed(seed)`) seeds it.
    ///
    /// Mirrors: `aten/src/ATen/core/MT19937RNGEngine.h`, `mt19937_engine::init_with_uint32`.
    #[must_use]
    pub fn new(seed: u64) -> Mt19937 {
        let mut e = Mt19937 {
            seed,
            left: 1,
            next: 0,
            state: [0; MERSENNE_STATE_N],
        };
        e.seed(seed);
        e
    }

    /// Reseeds in place. Only the low 32 bits of `seed` enter the state.
    pub fn seed(&mut self, seed: u64) {
        self.seed = seed;
        self.state[0] = seed as u32; // truncation is PyTorch's: `seed & 0xffffffff`
        for j in 1..MERSENNE_STATE_N {
            let prev = self.state[j - 1];
            self.state[j] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(j as u32);
        }
        self.left = 1;
        self.next = 0;
    }

    /// The 64-bit seed this engine was last seeded with (or restored to).
    #[must_use]
    pub fn seed_value(&self) -> u64 {
        self.seed
    }

    /// `left`: draws remaining before the next twist, plus one (1..=624).
    #[must_use]
    pub fn left(&self) -> u32 {
        self.left
    }

    /// `next`: index of the next state word to be tempered (0..=624).
    #[must_use]
    pub fn next_index(&self) -> u32 {
        self.next
    }

    /// The 624 state words.
    #[must_use]
    pub fn state(&self) -> &[u32; MERSENNE_STATE_N] {
        &self.state
    }

    /// Rebuilds an engine from raw fields. The caller (the state importer) has checked
    /// `1 <= left <= 624`, `next <= 624` and `next + left - 1 <= 624`.
    pub(crate) fn from_parts(
        seed: u64,
        left: u32,
        next: u32,
        state: &[u32; MERSENNE_STATE_N],
    ) -> Mt19937 {
        debug_assert!((1..=624).contains(&left) && next as usize + left as usize <= 625);
        Mt19937 {
            seed,
            left,
            next,
            state: *state,
        }
    }

    /// Regenerates all 624 words in place, in increasing index order (words past index 227 read
    /// already-regenerated words, exactly as the reference does).
    ///
    /// Mirrors: `mt19937_engine::next_state`. Runs 8 or 16 words at a time where the CPU has
    /// AVX2 or AVX-512F, giving the same words as the scalar code (`TORCH_RNG_LANES=scalar`
    /// forces that).
    pub fn twist(&mut self) {
        simd::twist(&mut self.state, Lanes::detect());
    }

    /// One 32-bit draw (`operator()` / `random()`).
    #[inline]
    pub fn random(&mut self) -> u32 {
        self.left -= 1;
        if self.left == 0 {
            self.twist();
            self.left = MERSENNE_STATE_N as u32;
            self.next = 0;
        }
        let y = self.state[self.next as usize];
        self.next += 1;
        temper(y)
    }

    /// Two draws as one 64-bit value, **first draw in the high half**.
    ///
    /// Mirrors: `aten/src/ATen/CPUGeneratorImpl.cpp`, `CPUGeneratorImpl::random64`.
    #[inline]
    pub fn random64(&mut self) -> u64 {
        let hi = self.random();
        let lo = self.random();
        (u64::from(hi) << 32) | u64::from(lo)
    }

    /// Fills `out` with consecutive draws; the same words, in the same order, as calling
    /// [`Mt19937::random`] `out.len()` times, and the same engine state afterwards.
    ///
    /// This is the bulk API: the twist and the tempering run 8 or 16 words at a time where the
    /// CPU allows, so it is several times faster per word than [`Mt19937::random`].
    pub fn fill_u32(&mut self, out: &mut [u32]) {
        self.fill_u32_on(out, Lanes::detect());
    }

    /// [`Mt19937::fill_u32`] on a given SIMD route (which this CPU must support).
    pub(crate) fn fill_u32_on(&mut self, out: &mut [u32], lanes: Lanes) {
        let mut pos = 0;
        while pos < out.len() {
            // Words ready without a twist: `left - 1` of them, starting at `next`.
            let avail = (self.left - 1) as usize;
            if avail == 0 {
                simd::twist(&mut self.state, lanes);
                // As if a draw had just decremented `left` to 0 and twisted: the next draw
                // leaves `left` at 624 and `next` at 1.
                self.left = MERSENNE_STATE_N as u32 + 1;
                self.next = 0;
                continue;
            }
            let take = avail.min(out.len() - pos);
            let start = self.next as usize;
            simd::temper_into(
                &self.state[start..start + take],
                &mut out[pos..pos + take],
                lanes,
            );
            pos += take;
            self.next += take as u32;
            self.left -= take as u32;
        }
    }

    /// Calls `f(raw, at)` on the untempered state words that the next `n` draws temper, run by
    /// run (at most one state's worth each, in order; `at` is the run's first index among the
    /// `n`), twisting between runs on the given route; the engine ends as after `n` draws. A
    /// caller that tempers each word of each run gets [`Mt19937::fill_u32`]'s words.
    pub(crate) fn raw_runs(&mut self, n: usize, lanes: Lanes, mut f: impl FnMut(&[u32], usize)) {
        let mut pos = 0;
        while pos < n {
            let avail = (self.left - 1) as usize;
            if avail == 0 {
                simd::twist(&mut self.state, lanes);
                self.left = MERSENNE_STATE_N as u32 + 1;
                self.next = 0;
                continue;
            }
            let take = avail.min(n - pos);
            let start = self.next as usize;
            f(&self.state[start..start + take], pos);
            pos += take;
            self.next += take as u32;
            self.left -= take as u32;
        }
    }

    /// Fills `out` with consecutive [`Mt19937::random64`] values.
    pub fn fill_u64(&mut self, out: &mut [u64]) {
        let mut buf = [0u32; 2 * 256];
        for chunk in out.chunks_mut(256) {
            let words = &mut buf[..2 * chunk.len()];
            self.fill_u32(words);
            for (o, pair) in chunk.iter_mut().zip(words.chunks_exact(2)) {
                *o = (u64::from(pair[0]) << 32) | u64::from(pair[1]);
            }
        }
    }

    /// Skips `n` draws (the same state as drawing and discarding them); the same as
    /// [`Mt19937::advance`].
    pub fn discard(&mut self, n: u64) {
        self.advance(n);
    }

    /// The state words, for the jump-ahead.
    pub(crate) fn state_mut(&mut self) -> &mut [u32; MERSENNE_STATE_N] {
        &mut self.state
    }

    /// Sets the cursor, for the jump-ahead (`1 <= left`, `next + left <= 625`).
    pub(crate) fn set_cursor(&mut self, left: u32, next: u32) {
        debug_assert!(left >= 1 && next as usize + left as usize <= 625);
        self.left = left;
        self.next = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// C++ [rand.predef]: "Required behavior: The 10000th consecutive invocation of a
    /// default-constructed object of type mt19937 shall produce the value 4123659995."
    #[test]
    fn cpp_standard_10000th_output() {
        let mut e = Mt19937::new(5489);
        let mut last = 0;
        for _ in 0..10_000 {
            last = e.random();
        }
        assert_eq!(last, 4_123_659_995);
    }

    /// `torch.manual_seed(0)`, four `random()` draws (shared/reference/cpu-rng.md section 14,
    /// cross-checked there against numpy's MT19937).
    #[test]
    fn seed0_first_words() {
        let mut e = Mt19937::new(0);
        let got: Vec<u32> = (0..4).map(|_| e.random()).collect();
        assert_eq!(got, [0x8c7f_0aac, 0x97c4_aa2f, 0xb716_a675, 0xd821_ccc0]);
    }

    /// `torch.manual_seed(42)`, first `random64()` (cpu-rng.md section 14).
    #[test]
    fn seed42_random64_high_word_first() {
        let mut e = Mt19937::new(42);
        assert_eq!(e.random64(), 0x5fe1_dc66_cbea_3db3);
    }

    #[test]
    fn state_after_seeding_is_the_reference_init() {
        let e = Mt19937::new(42);
        assert_eq!(e.state()[0], 42);
        assert_eq!(e.state()[1], 0xb93c_8a93);
        assert_eq!((e.left(), e.next_index()), (1, 0));
    }

    #[test]
    fn high_seed_bits_do_not_reach_the_stream() {
        let mut a = Mt19937::new(7);
        let mut b = Mt19937::new(7 + (5u64 << 32));
        for _ in 0..2000 {
            assert_eq!(a.random(), b.random());
        }
        assert_ne!(a.seed_value(), b.seed_value());
    }

    #[test]
    fn fill_matches_single_draws_across_twists() {
        for &(pre, n) in &[
            (0usize, 1usize),
            (0, 624),
            (0, 625),
            (3, 1300),
            (623, 2),
            (624, 624),
        ] {
            let mut a = Mt19937::new(99);
            let mut b = a.clone();
            for _ in 0..pre {
                a.random();
                b.random();
            }
            let want: Vec<u32> = (0..n).map(|_| a.random()).collect();
            let mut got = vec![0; n];
            b.fill_u32(&mut got);
            assert_eq!(want, got, "pre {pre} n {n}");
            assert_eq!(a, b, "state after pre {pre} n {n}");
        }
    }

    /// Every SIMD route of the bulk fill gives the words and the engine state of single draws,
    /// from cursors before, at and after the 624-word refill boundary.
    #[test]
    fn fill_routes_match_single_draws() {
        for lanes in Lanes::available() {
            for &pre in &[0usize, 1, 5, 17, 600, 623, 624, 625, 1247, 1248] {
                for &n in &[0usize, 1, 15, 16, 17, 623, 624, 625, 2000, 5000] {
                    let mut a = Mt19937::new(12345);
                    for _ in 0..pre {
                        a.random();
                    }
                    let mut b = a.clone();
                    let want: Vec<u32> = (0..n).map(|_| a.random()).collect();
                    let mut got = vec![0; n];
                    b.fill_u32_on(&mut got, lanes);
                    if let Some(i) = (0..n).find(|&i| got[i] != want[i]) {
                        panic!(
                            "{lanes:?} pre {pre} n {n}: word {i} {:08x} != {:08x}",
                            got[i], want[i]
                        );
                    }
                    assert_eq!(a, b, "{lanes:?} state after pre {pre} n {n}");
                }
            }
        }
    }

    #[test]
    fn fill_u64_and_discard_match() {
        let mut a = Mt19937::new(3);
        let mut b = a.clone();
        let want: Vec<u64> = (0..700).map(|_| a.random64()).collect();
        let mut got = vec![0; 700];
        b.fill_u64(&mut got);
        assert_eq!(want, got);
        let mut c = Mt19937::new(3);
        c.discard(1400);
        assert_eq!(c, b);
    }

    #[test]
    fn cursor_after_k_draws() {
        let mut e = Mt19937::new(1);
        for k in 1..=624u32 {
            e.random();
            assert_eq!((e.left(), e.next_index()), (625 - k, k));
        }
    }

    #[test]
    fn debug_does_not_print_state() {
        let s = format!("{:?}", Mt19937::new(5));
        assert!(s.len() < 80, "{s}");
    }
}
