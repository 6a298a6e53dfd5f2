//! Block draws for per-element samplers: the words come from the generator's `fill_u32` /
//! `fill_u64` a block at a time, then a per-element transform turns each word into a value.
//!
//! The words, their order and their count are exactly those of one `random()` (or
//! `random64()`) call per element in element order, so the values are the same bits; only the
//! bookkeeping per word goes away.

use crate::generator::CpuGenerator;

/// Words per block (2 KiB of `u32` or 4 KiB of `u64` on the stack).
const BLOCK: usize = 512;

/// `out[i] = f(w_i)` for consecutive `random()` words `w_0, w_1, ...`.
///
/// Consumes: `out.len()` words.
#[inline]
pub(crate) fn map_u32<T>(g: &mut CpuGenerator, out: &mut [T], mut f: impl FnMut(u32) -> T) {
    let mut words = [0u32; BLOCK];
    for chunk in out.chunks_mut(BLOCK) {
        let words = &mut words[..chunk.len()];
        g.fill_u32(words);
        for (o, &w) in chunk.iter_mut().zip(words.iter()) {
            *o = f(w);
        }
    }
}

/// `out[i] = f(v_i)` for consecutive `random64()` values (first word high).
///
/// Consumes: `2 * out.len()` words.
#[inline]
pub(crate) fn map_u64<T>(g: &mut CpuGenerator, out: &mut [T], mut f: impl FnMut(u64) -> T) {
    let mut words = [0u64; BLOCK];
    for chunk in out.chunks_mut(BLOCK) {
        let words = &mut words[..chunk.len()];
        g.fill_u64(words);
        for (o, &w) in chunk.iter_mut().zip(words.iter()) {
            *o = f(w);
        }
    }
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
            let mut got = vec![0u64; n];
            map_u32(&mut a, &mut got, u64::from);
            let want: Vec<u64> = (0..n).map(|_| u64::from(b.random())).collect();
            assert_eq!(got, want, "u32, n = {n}");
            map_u64(&mut a, &mut got, |w| w);
            let want: Vec<u64> = (0..n).map(|_| b.random64()).collect();
            assert_eq!(got, want, "u64, n = {n}");
            assert_eq!(a, b);
        }
    }
}
