//! Philox4x32-10 and curand's counter stream over it.
//!
//! Mirrors: NVIDIA curand `curand_philox4x32_x.h` (`curandStatePhilox4_32_10_t`, `curand_init`,
//! `skipahead`, `skipahead_sequence`, `curand`, `curand4`) and
//! `aten/src/ATen/core/PhiloxRNGEngine.h` (`at::Philox4_32`, the same word stream addressed in
//! 128-bit blocks).
//!
//! Philox4x32-10 (Salmon et al., "Parallel Random Numbers: As Easy as 1, 2, 3", SC11) maps a 128-bit
//! counter `(c0, c1, c2, c3)` and a 64-bit key `(k0, k1)` to four 32-bit words. PyTorch and curand
//! put the generator seed in the key (low word first), the *block index* in `(c0, c1)` and the
//! *subsequence* (the CUDA thread index, or 0 for the stateless ops) in `(c2, c3)`.
//!
//! [`Philox4x32`] is curand's stream: a counter, the cached block at that counter and the index of
//! the next unused word. Offsets are counted in **32-bit words** as curand counts them; ATen's engine
//! counts in 128-bit blocks ([`Philox4x32::new_aten`]). Floats are not made here: curand's uniform,
//! normal and Box–Muller conversions live in [`crate::cuda::curand`].

/// First round multiplier (`PHILOX_M4x32_0`).
pub const PHILOX_M4X32_0: u32 = 0xD251_1F53;
/// Second round multiplier (`PHILOX_M4x32_1`).
pub const PHILOX_M4X32_1: u32 = 0xCD9E_8D57;
/// Key increment of the first key word, the golden ratio (`PHILOX_W32_0`).
pub const PHILOX_W32_0: u32 = 0x9E37_79B9;
/// Key increment of the second key word, `sqrt(3) - 1` (`PHILOX_W32_1`).
pub const PHILOX_W32_1: u32 = 0xBB67_AE85;

/// One Philox4x32 round with round key `key`.
#[inline(always)]
#[must_use]
pub fn philox4x32_round(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    let p0 = u64::from(PHILOX_M4X32_0) * u64::from(ctr[0]);
    let p1 = u64::from(PHILOX_M4X32_1) * u64::from(ctr[2]);
    [
        (p1 >> 32) as u32 ^ ctr[1] ^ key[0],
        p1 as u32,
        (p0 >> 32) as u32 ^ ctr[3] ^ key[1],
        p0 as u32,
    ]
}

/// Philox4x32 with `rounds` rounds: the key is bumped by the Weyl increments before every round
/// after the first, and there is no final key addition.
#[inline]
#[must_use]
pub fn philox4x32_r(mut ctr: [u32; 4], mut key: [u32; 2], rounds: u32) -> [u32; 4] {
    for r in 0..rounds {
        if r > 0 {
            key[0] = key[0].wrapping_add(PHILOX_W32_0);
            key[1] = key[1].wrapping_add(PHILOX_W32_1);
        }
        ctr = philox4x32_round(ctr, key);
    }
    ctr
}

/// Philox4x32-10, the block function (`curand_Philox4x32_10`).
#[inline]
#[must_use]
pub fn philox4x32_10(ctr: [u32; 4], key: [u32; 2]) -> [u32; 4] {
    philox4x32_r(ctr, key, 10)
}

/// The key PyTorch and curand derive from a 64-bit seed: `(seed lo, seed hi)`.
#[inline]
#[must_use]
pub fn seed_key(seed: u64) -> [u32; 2] {
    [seed as u32, (seed >> 32) as u32]
}

/// The block at block index `block` of subsequence `subsequence` under `seed`:
/// `Philox4x32-10(c = (block lo, block hi, subsequence lo, subsequence hi), key = seed)`.
///
/// This is what the `k`-th `curand4()` of a thread returns after
/// `curand_init(seed, subsequence, offset)` with `offset % 4 == 0` and `block = offset / 4 + k`
/// (barring the carry quirk of [`Philox4x32::skipahead`], which needs `offset ≥ 2^66`).
#[inline]
#[must_use]
pub fn philox_block(seed: u64, block: u64, subsequence: u64) -> [u32; 4] {
    philox4x32_10(
        [
            block as u32,
            (block >> 32) as u32,
            subsequence as u32,
            (subsequence >> 32) as u32,
        ],
        seed_key(seed),
    )
}

/// curand's Philox4x32-10 word stream (`curandStatePhilox4_32_10_t` without its Box–Muller
/// caches, which [`crate::cuda::curand::CurandStatePhilox`] adds).
///
/// `output` is always `Philox(ctr, key)`; `state` (curand's `STATE`, 0..=3) is the index of the
/// next unused word of it.
///
/// Consumes: [`Philox4x32::curand`] one word; [`Philox4x32::curand4`] the four words from `state`
/// on (the tail from the next block when `state > 0`) and one counter step.
#[derive(Clone, PartialEq, Eq)]
pub struct Philox4x32 {
    ctr: [u32; 4],
    key: [u32; 2],
    output: [u32; 4],
    state: u32,
}

impl std::fmt::Debug for Philox4x32 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is the seed; printing it is harmless (it is what `initial_seed` returns), but
        // the cached output block is not state anyone needs to read.
        f.debug_struct("Philox4x32")
            .field("ctr", &self.ctr)
            .field("key", &self.key)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Philox4x32 {
    /// `curand_init(seed, subsequence, offset, &state)`: key from the seed, counter 0, then
    /// [`skipahead_sequence`](Self::skipahead_sequence)`(subsequence)` and
    /// [`skipahead`](Self::skipahead)`(offset)`. `offset` counts 32-bit words.
    #[must_use]
    pub fn new(seed: u64, subsequence: u64, offset: u64) -> Philox4x32 {
        let key = seed_key(seed);
        let mut e = Philox4x32 {
            ctr: [0; 4],
            key,
            output: philox4x32_10([0; 4], key),
            state: 0,
        };
        e.skipahead_sequence(subsequence);
        e.skipahead(offset);
        e
    }

    /// `at::Philox4_32(seed, subsequence, offset)` (ATen's `philox_engine`): the same stream with
    /// `offset` counted in 128-bit blocks, i.e. `curand_init(seed, subsequence, 4 * offset)` for
    /// offsets below 2^62.
    ///
    /// ATen's engine computes each block lazily and propagates the carry of a huge block offset
    /// correctly where curand's `Philox_State_Incr` can drop it (see [`Self::skipahead`]); the
    /// two agree on every offset below 2^64 − 2^32 blocks.
    #[must_use]
    pub fn new_aten(seed: u64, subsequence: u64, offset_blocks: u64) -> Philox4x32 {
        let key = seed_key(seed);
        let mut e = Philox4x32 {
            ctr: [0; 4],
            key,
            output: [0; 4],
            state: 0,
        };
        e.incr_hi(subsequence);
        e.incr_n_aten(offset_blocks);
        e.output = philox4x32_10(e.ctr, e.key);
        e
    }

    /// The 128-bit counter `(c0, c1, c2, c3)` of the cached block.
    #[must_use]
    pub fn counter(&self) -> [u32; 4] {
        self.ctr
    }

    /// The key `(seed lo, seed hi)`.
    #[must_use]
    pub fn key(&self) -> [u32; 2] {
        self.key
    }

    /// curand's `STATE`: the index (0..=3) of the next unused word of the cached block.
    #[must_use]
    pub fn state_index(&self) -> u32 {
        self.state
    }

    /// The cached block `Philox(counter, key)`.
    #[must_use]
    pub fn output(&self) -> [u32; 4] {
        self.output
    }

    /// `Philox_State_Incr(s, n)`: adds `n` to `(c0, c1)` with a carry into `(c2, c3)`.
    ///
    /// Kept exactly as curand writes it, including its one flaw: when `c0` overflows and the high
    /// half of `n` is `0xffff_ffff`, the carried `nhi` wraps to 0 and the carry into `c2` is lost.
    fn incr_n(&mut self, n: u64) {
        let nlo = n as u32;
        let mut nhi = (n >> 32) as u32;
        self.ctr[0] = self.ctr[0].wrapping_add(nlo);
        if self.ctr[0] < nlo {
            nhi = nhi.wrapping_add(1);
        }
        self.ctr[1] = self.ctr[1].wrapping_add(nhi);
        if nhi <= self.ctr[1] {
            return;
        }
        self.ctr[2] = self.ctr[2].wrapping_add(1);
        if self.ctr[2] != 0 {
            return;
        }
        self.ctr[3] = self.ctr[3].wrapping_add(1);
    }

    /// ATen's `incr_n`, which handles the wrapped `nhi` (a plain 64-bit add with carry).
    fn incr_n_aten(&mut self, n: u64) {
        let lo = u64::from(self.ctr[0]) | (u64::from(self.ctr[1]) << 32);
        let (sum, carry) = lo.overflowing_add(n);
        self.ctr[0] = sum as u32;
        self.ctr[1] = (sum >> 32) as u32;
        if carry {
            self.ctr[2] = self.ctr[2].wrapping_add(1);
            if self.ctr[2] == 0 {
                self.ctr[3] = self.ctr[3].wrapping_add(1);
            }
        }
    }

    /// `Philox_State_Incr_hi(s, n)`: adds `n` to `(c2, c3)`, the carry out of `c3` dropped.
    fn incr_hi(&mut self, n: u64) {
        let nlo = n as u32;
        let mut nhi = (n >> 32) as u32;
        self.ctr[2] = self.ctr[2].wrapping_add(nlo);
        if self.ctr[2] < nlo {
            nhi = nhi.wrapping_add(1);
        }
        self.ctr[3] = self.ctr[3].wrapping_add(nhi);
    }

    /// `Philox_State_Incr(s)`: the 128-bit counter plus one.
    fn incr(&mut self) {
        for w in &mut self.ctr {
            *w = w.wrapping_add(1);
            if *w != 0 {
                return;
            }
        }
    }

    /// `skipahead(n, &state)`: skips `n` **words**. `STATE += n mod 4` (carrying a block when it
    /// passes 3), the counter advances by `n / 4` blocks, and the cached block is recomputed.
    pub fn skipahead(&mut self, n: u64) {
        self.state += (n & 3) as u32;
        let mut blocks = n / 4;
        if self.state > 3 {
            blocks += 1;
            self.state -= 4;
        }
        self.incr_n(blocks);
        self.output = philox4x32_10(self.ctr, self.key);
    }

    /// `skipahead_sequence(n, &state)`: skips `n` subsequences (adds `n` to `(c2, c3)`).
    pub fn skipahead_sequence(&mut self, n: u64) {
        self.incr_hi(n);
        self.output = philox4x32_10(self.ctr, self.key);
    }

    /// `curand(&state)`: the next word.
    #[inline]
    pub fn curand(&mut self) -> u32 {
        let ret = self.output[self.state as usize];
        self.state += 1;
        if self.state == 4 {
            self.incr();
            self.output = philox4x32_10(self.ctr, self.key);
            self.state = 0;
        }
        ret
    }

    /// `curand4(&state)`: four words from `STATE` on; the counter always advances one block (so a
    /// call with `STATE > 0` takes its tail from the next block and leaves `STATE` unchanged).
    #[inline]
    pub fn curand4(&mut self) -> [u32; 4] {
        let tmp = self.output;
        self.incr();
        self.output = philox4x32_10(self.ctr, self.key);
        let s = self.state as usize;
        let mut r = [0u32; 4];
        for (i, o) in r.iter_mut().enumerate() {
            *o = if s + i < 4 {
                tmp[s + i]
            } else {
                self.output[s + i - 4]
            };
        }
        r
    }
}

#[cfg(feature = "rand_core")]
mod rand_core_impl {
    //! `rand_core` 0.10 traits over the inherent API. `rand`'s distributions turn words into
    //! values differently from curand and PyTorch: use [`crate::cuda`] for PyTorch's values and
    //! these traits only to feed the raw word stream elsewhere.

    use super::Philox4x32;
    use core::convert::Infallible;

    impl rand_core::TryRng for Philox4x32 {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(self.curand())
        }
        /// Two words, the **first in the high half**, as PyTorch's 64-bit CUDA paths pack
        /// `x << 32 | y` (rand_core's own helpers put the first word low).
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let hi = self.curand();
            let lo = self.curand();
            Ok((u64::from(hi) << 32) | u64::from(lo))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for chunk in dst.chunks_mut(4) {
                let w = self.curand().to_le_bytes();
                chunk.copy_from_slice(&w[..chunk.len()]);
            }
            Ok(())
        }
    }

    /// Seeding is `curand_init(seed, 0, 0)`: `from_seed` takes the 8 little-endian bytes of the
    /// seed, and `seed_from_u64(s)` is overridden to use `s` itself (rand_core's provided version
    /// would first expand it through PCG32).
    impl rand_core::SeedableRng for Philox4x32 {
        type Seed = [u8; 8];
        fn from_seed(seed: [u8; 8]) -> Philox4x32 {
            Philox4x32::new(u64::from_le_bytes(seed), 0, 0)
        }
        fn seed_from_u64(seed: u64) -> Philox4x32 {
            Philox4x32::new(seed, 0, 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random123 `tests/kat_vectors`, the three `philox4x32 10` lines (counter, key, expected),
    /// also listed in shared/reference/cuda-philox.md section 8 [KAT].
    const KAT: [([u32; 4], [u32; 2], [u32; 4]); 3] = [
        (
            [0, 0, 0, 0],
            [0, 0],
            [0x6627_e8d5, 0xe169_c58d, 0xbc57_ac4c, 0x9b00_dbd8],
        ),
        (
            [0xffff_ffff; 4],
            [0xffff_ffff; 2],
            [0x408f_276d, 0x41c8_3b0e, 0xa20b_c7c6, 0x6d54_51fd],
        ),
        (
            [0x243f_6a88, 0x85a3_08d3, 0x1319_8a2e, 0x0370_7344],
            [0xa409_3822, 0x299f_31d0],
            [0xd16c_fe09, 0x94fd_cceb, 0x5001_e420, 0x2412_6ea1],
        ),
    ];

    #[test]
    fn random123_known_answers() {
        for (ctr, key, want) in KAT {
            let got = philox4x32_10(ctr, key);
            assert_eq!(got, want, "ctr {ctr:08x?} key {key:08x?}");
        }
    }

    /// cuda-philox.md section 8, the PyTorch-mapped vectors [KAT][VC]: thread 1, offset 4, seeds
    /// 42 and -1 (= 2^64 - 1).
    #[test]
    fn pytorch_mapped_vectors() {
        let cases: [(u64, u64, u64, [u32; 4]); 5] = [
            (
                0,
                0,
                1,
                [0x8445_15e1, 0xf08d_6eaa, 0x0f19_c053, 0x83f8_75f0],
            ),
            (
                0,
                1,
                0,
                [0xf8e4_cca4, 0x5cb2_00db, 0xb1a5_74eb, 0x097e_ff67],
            ),
            (
                42,
                0,
                0,
                [0x9cea_f053, 0x77f5_493b, 0x12bf_50ad, 0x5742_b3d7],
            ),
            (
                42,
                0,
                1,
                [0x0293_3769, 0x2051_e913, 0x3b68_b038, 0xb62c_409c],
            ),
            (
                u64::MAX,
                0,
                0,
                [0x72a4_7709, 0x1547_4739, 0x9f41_b01f, 0x2279_9a5a],
            ),
        ];
        for (seed, block, sub, want) in cases {
            assert_eq!(philox_block(seed, block, sub), want, "seed {seed}");
            let mut s = Philox4x32::new(seed, sub, 4 * block);
            assert_eq!(s.curand4(), want, "curand4 seed {seed}");
        }
    }

    #[test]
    fn word_stream_equals_blocks() {
        let mut s = Philox4x32::new(7, 3, 8);
        let mut words = Vec::new();
        for _ in 0..12 {
            words.push(s.curand());
        }
        let mut want = Vec::new();
        for b in 2..5 {
            want.extend_from_slice(&philox_block(7, b, 3));
        }
        assert_eq!(words, want);
        assert_eq!(s.counter(), [5, 0, 3, 0]);
        assert_eq!(s.state_index(), 0);
    }

    #[test]
    fn unaligned_offsets_start_mid_block() {
        // offset 6 words = block 1, word 2.
        let mut s = Philox4x32::new(1, 0, 6);
        assert_eq!(s.state_index(), 2);
        let b1 = philox_block(1, 1, 0);
        let b2 = philox_block(1, 2, 0);
        assert_eq!(s.curand(), b1[2]);
        // curand4 from STATE 3: one word of block 1... here STATE is 3 after one curand.
        let r = s.curand4();
        assert_eq!(r, [b1[3], b2[0], b2[1], b2[2]]);
        // the counter moved one block; STATE is unchanged
        assert_eq!(s.counter()[0], 2);
        assert_eq!(s.state_index(), 3);
    }

    #[test]
    fn skipahead_equals_stepping() {
        for &(start, n) in &[(0u64, 0u64), (0, 1), (3, 1), (3, 5), (1, 1000), (2, 4097)] {
            let mut a = Philox4x32::new(99, 5, start);
            let mut b = a.clone();
            a.skipahead(n);
            for _ in 0..n {
                b.curand();
            }
            assert_eq!(a, b, "start {start} n {n}");
            assert_eq!(a, Philox4x32::new(99, 5, start + n));
        }
    }

    #[test]
    fn skipahead_sequence_carries_into_c3() {
        let s = Philox4x32::new(0, 0xffff_ffff, 0);
        let mut t = s.clone();
        t.skipahead_sequence(1);
        assert_eq!(t.counter(), [0, 0, 0, 1]);
        let u = Philox4x32::new(0, u64::MAX, 0);
        assert_eq!(u.counter(), [0, 0, 0xffff_ffff, 0xffff_ffff]);
        let mut w = u.clone();
        w.skipahead_sequence(1); // the carry out of c3 is dropped
        assert_eq!(w.counter(), [0, 0, 0, 0]);
    }

    #[test]
    fn counter_wraps_across_all_four_words() {
        // Block 2^64 - 1 of subsequence 2^64 - 1 (all counter words 0xffffffff): the next block
        // wraps the whole 128-bit counter to zero. curand's offset counts words, so block
        // 2^64 - 1 is reached by several skips of 2^62 - 1 blocks.
        let mut s = Philox4x32::new(5, u64::MAX, 0);
        for _ in 0..4 {
            s.skipahead(4 * ((1u64 << 62) - 1));
        }
        s.skipahead(12);
        assert_eq!(s.counter(), [0xffff_ffff; 4]);
        assert_eq!(s.output(), philox4x32_10([0xffff_ffff; 4], seed_key(5)));
        s.curand4();
        assert_eq!(s.counter(), [0; 4]);
        assert_eq!(s.output(), philox4x32_10([0; 4], seed_key(5)));
    }

    #[test]
    fn block_carry_into_subsequence() {
        // (c0, c1) = 2^64 - 1, one more block carries into c2.
        let mut s = Philox4x32::new(5, 7, 0);
        s.skipahead(4 * (u64::MAX >> 2)); // 2^62 - 1 blocks
        s.skipahead(4 * (u64::MAX >> 2));
        s.skipahead(4 * (u64::MAX >> 2));
        s.skipahead(4 * (u64::MAX >> 2)); // 2^64 - 4 blocks
        s.skipahead(12);
        assert_eq!(s.counter(), [0xffff_ffff, 0xffff_ffff, 7, 0]);
        s.skipahead(4);
        assert_eq!(s.counter(), [0, 0, 8, 0]);
    }

    /// curand's `Philox_State_Incr` drops the carry when `c0` overflows while `n`'s high word is
    /// `0xffff_ffff` (the carried `nhi` wraps to 0); ATen's `incr_n` does not.
    #[test]
    fn curand_incr_quirk_versus_aten() {
        let mut c = Philox4x32::new(0, 0, 4 * 0xffff_ffff); // counter (0xffffffff, 0, 0, 0)
        let mut a = Philox4x32::new_aten(0, 0, 0xffff_ffff);
        assert_eq!(c, a);
        // n = 0xffffffff_00000001 blocks: c0 overflows, nhi + 1 wraps.
        let n: u64 = 0xffff_ffff_0000_0001;
        c.incr_n(n);
        a.incr_n_aten(n);
        assert_eq!(c.counter(), [0, 0, 0, 0], "curand loses the carry");
        assert_eq!(a.counter(), [0, 0, 1, 0], "ATen keeps it");
    }

    #[test]
    fn aten_offsets_are_blocks() {
        for &(seed, sub, off) in &[(0u64, 0u64, 0u64), (42, 3, 1), (u64::MAX, 1 << 40, 1 << 50)] {
            let mut a = Philox4x32::new_aten(seed, sub, off);
            let mut c = Philox4x32::new(seed, sub, 4 * off);
            for _ in 0..9 {
                assert_eq!(a.curand(), c.curand());
            }
        }
    }

    #[test]
    fn debug_is_short() {
        let s = format!("{:?}", Philox4x32::new(1, 2, 3));
        assert!(s.len() < 120, "{s}");
    }

    #[cfg(feature = "rand_core")]
    #[test]
    fn rand_core_traits() {
        use rand_core::{Rng, SeedableRng};
        let mut r = Philox4x32::seed_from_u64(42);
        assert_eq!(r.next_u32(), 0x9cea_f053);
        assert_eq!(r.next_u64(), 0x77f5_493b_12bf_50ad);
        let mut f = Philox4x32::from_seed(42u64.to_le_bytes());
        let mut b = [0u8; 5];
        f.fill_bytes(&mut b);
        assert_eq!(b, [0x53, 0xf0, 0xea, 0x9c, 0x3b]);
    }
}
