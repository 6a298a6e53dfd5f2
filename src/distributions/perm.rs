//! `randperm` shuffles.
//!
//! Mirrors: `aten/src/ATen/native/TensorFactories.cpp` (`randperm_cpu`), PyTorch 2.0–2.15.
//!
//! Two algorithms, chosen by `n` and the release:
//!
//! * **Forward Fisher–Yates** (every `n` before 2.6; `n < 214748364` from 2.6). The output starts
//!   as `0, 1, ..., n-1`; for `i` in `0..n-1`, `z = random() mod (n - i)` and elements `i` and
//!   `i + z` swap. Consumes: `n - 1` words (none for `n <= 1`).
//! * **Inside-out, 64-bit** (2.6+, `n >= 214748364`). For `i` in `0..n`,
//!   `z = random64() mod (i + 1)`, `r[i] = r[z]`, `r[z] = i`. Consumes: `2n` words (`i = 0` draws
//!   too).
//!
//! The threshold is `floor((2^32 - 1) / 20)`: PyTorch switches where a 32-bit draw modulo `n`
//! would be noticeably biased. The values are stored in the output dtype as they are placed
//! (`static_cast<scalar_t>(i)`); the shuffle only moves them, so the result is the permutation of
//! the converted indices whatever the dtype.

use crate::generator::CpuGenerator;

/// The smallest `n` that takes the inside-out shuffle (from 2.6).
pub const INSIDE_OUT_MIN_N: u64 = 214_748_364;

/// Words drawn per block in the forward shuffle.
const BLOCK: usize = 1024;

/// Forward Fisher–Yates over `out` (already holding the converted `0..n`).
///
/// Consumes: `n - 1` `random()` words, in order.
pub(crate) fn fisher_yates<T: Copy>(g: &mut CpuGenerator, out: &mut [T]) {
    let n = out.len();
    if n < 2 {
        return;
    }
    let mut words = [0u32; BLOCK];
    let mut i = 0usize;
    while i < n - 1 {
        let take = (n - 1 - i).min(BLOCK);
        g.fill_u32(&mut words[..take]);
        for &w in &words[..take] {
            // PyTorch: `int64_t z = random() % (n - i)`; the u32 word widens to int64 first.
            let z = (u64::from(w) % (n - i) as u64) as usize;
            out.swap(i, i + z);
            i += 1;
        }
    }
}

/// Inside-out shuffle writing `conv(i)` into `out` (whose previous contents are ignored).
///
/// Consumes: `n` `random64()` draws (two words each, first high), in order.
pub(crate) fn inside_out<T: Copy>(g: &mut CpuGenerator, out: &mut [T], conv: impl Fn(u64) -> T) {
    let n = out.len();
    let mut draws = [0u64; BLOCK / 2];
    let mut i = 0usize;
    while i < n {
        let take = (n - i).min(BLOCK / 2);
        g.fill_u64(&mut draws[..take]);
        for &w in &draws[..take] {
            let z = (w % (i as u64 + 1)) as usize;
            out[i] = out[z];
            out[z] = conv(i as u64);
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward(seed: u64, n: usize) -> Vec<i64> {
        let mut g = CpuGenerator::with_seed(seed);
        let mut v: Vec<i64> = (0..n as i64).collect();
        fisher_yates(&mut g, &mut v);
        v
    }

    #[test]
    fn seed42_randperm10() {
        // torch.manual_seed(42); torch.randperm(10) (cpu-rng.md section 14)
        assert_eq!(forward(42, 10), [2, 6, 1, 8, 4, 5, 0, 9, 3, 7]);
    }

    #[test]
    fn draw_counts() {
        for (n, words) in [(0usize, 0u64), (1, 0), (2, 1), (10, 9), (3000, 2999)] {
            let mut g = CpuGenerator::with_seed(3);
            let mut v: Vec<i64> = (0..n as i64).collect();
            fisher_yates(&mut g, &mut v);
            let mut h = CpuGenerator::with_seed(3);
            h.engine_mut().discard(words);
            assert_eq!(g, h, "n = {n}");
            let mut sorted = v.clone();
            sorted.sort_unstable();
            assert!(sorted.iter().copied().eq(0..n as i64));
        }
        let mut g = CpuGenerator::with_seed(3);
        let mut v = vec![0i64; 700];
        inside_out(&mut g, &mut v, |i| i as i64);
        let mut h = CpuGenerator::with_seed(3);
        h.engine_mut().discard(1400);
        assert_eq!(g, h);
        v.sort_unstable();
        assert!(v.iter().copied().eq(0..700));
    }

    #[test]
    fn inside_out_matches_a_plain_loop() {
        let mut g = CpuGenerator::with_seed(11);
        let mut v = vec![0u32; 50];
        inside_out(&mut g, &mut v, |i| i as u32);
        let mut h = CpuGenerator::with_seed(11);
        let mut w = vec![0u32; 50];
        for i in 0..50u64 {
            let z = (h.random64() % (i + 1)) as usize;
            w[i as usize] = w[z];
            w[z] = i as u32;
        }
        assert_eq!(v, w);
    }
}
