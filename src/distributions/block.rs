//! Block draws for per-element samplers: the words come from the generator's `fill_u32` /
//! `fill_u64` a block at a time, then a per-element transform turns each word into a value.
//!
//! The words, their order and their count are exactly those of one `random()` (or
//! `random64()`) call per element in element order, so the values are the same bits; only the
//! bookkeeping per word goes away. Values are appended to a fresh `Vec`, so each element is
//! written once.

use crate::generator::CpuGenerator;

/// Words per block (2 KiB of `u32` or 4 KiB of `u64` on the stack).
const BLOCK: usize = 512;

/// A generator output: a `random()` word or a `random64()` value.
pub(crate) trait Word: Copy + Default {
    /// `out.len()` consecutive draws.
    fn fill(g: &mut CpuGenerator, out: &mut [Self]);
}

impl Word for u32 {
    fn fill(g: &mut CpuGenerator, out: &mut [u32]) {
        g.fill_u32(out);
    }
}

impl Word for u64 {
    fn fill(g: &mut CpuGenerator, out: &mut [u64]) {
        g.fill_u64(out);
    }
}

/// Appends `f(w_0), ..., f(w_{n-1})` to `out` for the next `n` draws of type `W`.
///
/// Appending to a reserved `Vec` writes each element once (no zero fill first).
#[inline]
fn extend_words<W: Word, T>(
    g: &mut CpuGenerator,
    out: &mut Vec<T>,
    n: usize,
    mut f: impl FnMut(W) -> T,
) {
    out.reserve(n);
    let mut words = [W::default(); BLOCK];
    let mut left = n;
    while left > 0 {
        let words = &mut words[..left.min(BLOCK)];
        W::fill(g, words);
        out.extend(words.iter().map(|&w| f(w)));
        left -= words.len();
    }
}

/// Appends `f(w)` for each of the next `n` `random()` words, in order.
///
/// Consumes: `n` words.
#[inline]
pub(crate) fn extend_u32<T>(
    g: &mut CpuGenerator,
    out: &mut Vec<T>,
    n: usize,
    f: impl FnMut(u32) -> T,
) {
    extend_words(g, out, n, f);
}

/// Appends `f(v)` for each of the next `n` `random64()` values (first word high), in order.
///
/// Consumes: `2n` words.
#[inline]
pub(crate) fn extend_u64<T>(
    g: &mut CpuGenerator,
    out: &mut Vec<T>,
    n: usize,
    f: impl FnMut(u64) -> T,
) {
    extend_words(g, out, n, f);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_words_as_single_draws() {
        for n in [0, 1, 511, 512, 513, 700, 1500] {
            let (mut a, mut b) = (CpuGenerator::with_seed(5), CpuGenerator::with_seed(5));
            a.random(); // start mid-state, off the twist boundary
            b.random();
            let mut got = Vec::new();
            extend_u32(&mut a, &mut got, n, u64::from);
            let want: Vec<u64> = (0..n).map(|_| u64::from(b.random())).collect();
            assert_eq!(got, want, "u32, n = {n}");
            got.clear();
            extend_u64(&mut a, &mut got, n, |w| w);
            let want: Vec<u64> = (0..n).map(|_| b.random64()).collect();
            assert_eq!(got, want, "u64, n = {n}");
            assert_eq!(a, b);
        }
    }
}
