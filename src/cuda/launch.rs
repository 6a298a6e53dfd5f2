//! Launch geometry and element mapping of PyTorch's grid-stride random kernels.
//!
//! Mirrors: `aten/src/ATen/native/cuda/DistributionTemplates.h` (`calc_execution_policy`,
//! `distribution_elementwise_grid_stride_kernel`, `distribution_nullary_kernel`) and
//! `aten/src/ATen/TensorIterator.cpp` (`can_use_32bit_indexing`, `split`,
//! `SplitUntil32Bit`).
//!
//! A launch of `n` elements runs `T = 256 × grid` threads, `grid = min(ceil(n/256), max_grid)`.
//! Thread `tid` calls `curand_init(seed, tid, offset)` and then, in iteration `k`, one
//! curand call returning `U` values (the unroll), writing component `j` to element
//! `li = tid + k·T·U + j·T` when `li < n`. So element `li` reads Philox block
//! `offset/4 + li div (T U)` of subsequence `li mod T`, component `(li mod T U) div T`.
//!
//! The launch first reserves `inc = ((n−1) div (256·grid·U_off) + 1) × 4` words; a target that
//! cannot be indexed in 32 bits is then split (depth-first, halves, first half first) into
//! pieces that each reserve again and launch with their own geometry and local indices.

use crate::context::{CudaRules, OffsetUnroll};
use crate::context::{DeviceProfile, BLOCK_SIZE};
use crate::engine::philox::philox_block;
use crate::error::{Error, Result};
use crate::generator::CudaGenerator;

/// One kernel launch over a contiguous range of the iteration order, as [`plan_nullary`] plans
/// it (a non-empty range, at least one block, an unroll of 2 or 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Launch {
    pub(crate) start: u64,
    pub(crate) numel: u64,
    pub(crate) grid: u64,
    pub(crate) unroll: u64,
    pub(crate) seed: u64,
    pub(crate) offset: u64,
}

#[cfg(test)]
/// Where one element's randomness comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The thread index: the Philox subsequence.
    pub subsequence: u64,
    /// The Philox block index (`offset / 4 + iteration`).
    pub block: u64,
    /// The component of the curand call's result (0..unroll).
    pub component: usize,
}

impl Launch {
    #[cfg(test)]
    /// The generator seed.
    #[must_use]
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Threads in the launch (`T`).
    #[must_use]
    pub fn threads(&self) -> u64 {
        BLOCK_SIZE * self.grid
    }

    /// Grid-stride iterations every thread runs: `ceil(numel / (T U))`.
    #[must_use]
    pub fn iterations(&self) -> u64 {
        self.numel.div_ceil(self.threads() * self.unroll)
    }

    #[cfg(test)]
    /// The slot of the launch-local element `li`.
    #[must_use]
    pub fn locate(&self, li: u64) -> Slot {
        let t = self.threads();
        let k = li / (t * self.unroll);
        let r = li % (t * self.unroll);
        Slot {
            subsequence: r % t,
            block: (self.offset / 4).wrapping_add(k),
            component: (r / t) as usize,
        }
    }

    /// The four Philox words of iteration `k` of thread `tid` (its `k`-th `curand4`).
    #[inline]
    #[must_use]
    pub fn words(&self, tid: u64, k: u64) -> [u32; 4] {
        philox_block(self.seed, (self.offset / 4).wrapping_add(k), tid)
    }

    #[cfg(test)]
    /// Visits every element of the launch: `f(local li, block words, component)`, each block
    /// computed once for its `unroll` elements.
    pub fn for_each(&self, mut f: impl FnMut(u64, [u32; 4], usize)) {
        let t = self.threads();
        let stride = t * self.unroll;
        for k in 0..self.iterations() {
            for tid in 0..t {
                let base = tid + k * stride;
                if base >= self.numel {
                    break;
                }
                let w = self.words(tid, k);
                for j in 0..self.unroll {
                    let li = base + j * t;
                    if li < self.numel {
                        f(li, w, j as usize);
                    }
                }
            }
        }
    }
}

/// `calc_execution_policy`'s reservation for `numel` elements with unroll `unroll_off`:
/// `((numel − 1) div (256 · grid · unroll_off) + 1) × 4`. PyTorch never calls it for an empty
/// tensor; here that gives 0, and an unroll of 0 counts as 1.
#[must_use]
pub fn counter_offset(profile: &DeviceProfile, numel: u64, unroll_off: u64) -> u64 {
    if numel == 0 {
        return 0;
    }
    let grid = profile.grid_for(numel);
    ((numel - 1) / (BLOCK_SIZE * grid * unroll_off.max(1)) + 1) * 4
}

/// `TensorIteratorBase::can_use_32bit_indexing` for a dense 1-D iteration of `numel` elements
/// of `itemsize` bytes: `numel ≤ 2^31 − 1` and `1 + (numel − 1) · itemsize ≤ 2^31 − 1`.
#[must_use]
pub fn can_use_32bit_indexing(numel: u64, itemsize: u64) -> bool {
    let max = i32::MAX as u64;
    // `1 + (numel - 1) * itemsize <= max`, as PyTorch writes it.
    numel <= max && numel.saturating_sub(1).saturating_mul(itemsize) < max
}

/// `SplitUntil32Bit` on a dense target: the `(start, numel)` pieces in launch order. Each split
/// cuts a piece into a first part of `floor(n/2)` and the rest; the first part is handled
/// (and split further if needed) before the rest.
#[must_use]
pub fn split_until_32bit(numel: u64, itemsize: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![(0u64, numel)];
    while let Some((s, n)) = stack.pop() {
        if can_use_32bit_indexing(n, itemsize) {
            out.push((s, n));
        } else {
            let first = n / 2;
            stack.push((s + first, n - first));
            stack.push((s, first));
        }
    }
    out
}

/// Plans `distribution_nullary_kernel` on a dense target of `numel` elements of `itemsize`
/// bytes, with a curand call of `unroll` values per iteration, reserving offsets from `g`.
///
/// Consumes: `inc(numel)` words, and when the target is split, `inc(piece)` more per piece
/// (the first reservation is then wasted, as in PyTorch). Nothing for an empty target.
///
/// # Errors
/// [`Error::InvalidArgument`] for an unroll other than 2 or 4 (no PyTorch kernel has another);
/// [`Error::Unsupported`] for a launch whose 32-bit loop index overflows in an era before 2.7
/// (PyTorch's behaviour is undefined there).
pub fn plan_nullary(
    g: &mut CudaGenerator,
    profile: &DeviceProfile,
    rules: CudaRules,
    numel: u64,
    itemsize: u64,
    unroll: u64,
) -> Result<Vec<Launch>> {
    if unroll != 2 && unroll != 4 {
        return Err(Error::arg(
            "distribution_nullary_kernel",
            format!("unroll must be 2 or 4, got {unroll}"),
        ));
    }
    if numel == 0 {
        return Ok(Vec::new());
    }
    let unroll_off = match rules.offset_unroll {
        OffsetUnroll::AlwaysFour => 4,
        OffsetUnroll::Real => unroll,
    };
    let mut reserve = |n: u64| g.philox_cuda_state(counter_offset(profile, n, unroll_off));
    let (seed, offset) = reserve(numel);
    let split = !can_use_32bit_indexing(numel, itemsize);
    let pieces = if split {
        split_until_32bit(numel, itemsize)
    } else {
        vec![(0, numel)]
    };
    let mut launches = Vec::with_capacity(pieces.len());
    for &(start, n) in &pieces {
        // A split target's first reservation is wasted: each piece reserves again.
        let offset = if split { reserve(n).1 } else { offset };
        let grid = profile.grid_for(n);
        let t = BLOCK_SIZE * grid;
        if !rules.loop_index_64 && n.div_ceil(t * unroll) * t * unroll > i32::MAX as u64 {
            return Err(Error::unsupported(format!(
                "a launch of {n} elements: its 32-bit loop index overflows in PyTorch before 2.7 \
                 (issue #141544)"
            )));
        }
        launches.push(Launch {
            start,
            numel: n,
            grid,
            unroll,
            seed,
            offset,
        });
    }
    Ok(launches)
}

#[cfg(test)]
/// The launch and launch-local index of element `e` (iteration order).
#[must_use]
pub fn find(launches: &[Launch], e: u64) -> Option<(&Launch, u64)> {
    launches
        .iter()
        .find(|l| e >= l.start && e < l.start + l.numel)
        .map(|l| (l, e - l.start))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::CudaEra;

    fn h200() -> DeviceProfile {
        DeviceProfile::h200()
    }

    /// cuda-philox.md section 4, the offset examples on an H200 (T = 270,336).
    #[test]
    fn offset_examples() {
        let p = h200();
        let t = p.max_threads();
        assert_eq!(t, 270_336);
        assert_eq!(counter_offset(&p, 1_000_000, 4), 4);
        assert_eq!(counter_offset(&p, 5 * t, 4), 8);
        assert_eq!(counter_offset(&p, 5 * t, 2), 12);
        assert_eq!(counter_offset(&p, 10, 4), 4);
        let new = CudaEra::C4.rules();
        let old = CudaEra::C0.rules();
        for (rules, want) in [(new, 12), (old, 8)] {
            let mut g = CudaGenerator::with_seed(0);
            plan_nullary(&mut g, &p, rules, 5 * t, 8, 2).unwrap();
            assert_eq!(g.get_offset(), want);
        }
        let mut g = CudaGenerator::with_seed(0);
        assert!(plan_nullary(&mut g, &p, new, 0, 4, 4).unwrap().is_empty());
        assert_eq!(g.get_offset(), 0);
    }

    #[test]
    fn mapping_inverts_the_loop() {
        let l = Launch {
            start: 0,
            numel: 3000,
            grid: 2,
            unroll: 4,
            seed: 9,
            offset: 8,
        };
        let mut seen = vec![false; 3000];
        l.for_each(|li, w, j| {
            let s = l.locate(li);
            assert_eq!(philox_block(9, s.block, s.subsequence), w);
            assert_eq!(s.component, j);
            assert!(!std::mem::replace(&mut seen[li as usize], true));
        });
        assert!(seen.iter().all(|&b| b));
        // element li < T uses component 0 of thread li's first block
        let s = l.locate(300);
        assert_eq!((s.subsequence, s.block, s.component), (300, 2, 0));
        let s = l.locate(512 + 7);
        assert_eq!((s.subsequence, s.block, s.component), (7, 2, 1));
        let s = l.locate(4 * 512 + 3);
        assert_eq!((s.subsequence, s.block, s.component), (3, 3, 0));
    }

    /// The 32-bit indexing limit: float32 splits from 536,870,913 elements (1 + (n−1)·4 must stay
    /// at most 2^31 − 1), uint8 from 2^31 elements.
    #[test]
    fn thirty_two_bit_limits() {
        assert!(can_use_32bit_indexing(536_870_912, 4));
        assert!(!can_use_32bit_indexing(536_870_913, 4));
        assert!(can_use_32bit_indexing(i32::MAX as u64, 1));
        assert!(!can_use_32bit_indexing(1 << 31, 1));
        assert_eq!(
            split_until_32bit(536_870_913, 4),
            [(0, 268_435_456), (268_435_456, 268_435_457)]
        );
        // four pieces, first halves first
        let p = split_until_32bit(1 << 31, 4);
        assert_eq!(
            p,
            [
                (0, 1 << 29),
                (1 << 29, 1 << 29),
                (1 << 30, 1 << 29),
                (3 << 29, 1 << 29)
            ]
        );
    }

    #[test]
    fn split_launches_reserve_twice() {
        let p = h200();
        let mut g = CudaGenerator::with_seed(1);
        let n = 536_870_913u64;
        let ls = plan_nullary(&mut g, &p, CudaEra::C4.rules(), n, 4, 4).unwrap();
        assert_eq!(ls.len(), 2);
        let whole = counter_offset(&p, n, 4);
        let a = counter_offset(&p, ls[0].numel, 4);
        let b = counter_offset(&p, ls[1].numel, 4);
        assert_eq!((ls[0].offset, ls[1].offset), (whole, whole + a));
        assert_eq!(g.get_offset(), whole + a + b);
        assert_eq!(find(&ls, 268_435_456).unwrap().1, 0);
        assert_eq!(find(&ls, 268_435_455).unwrap().0.start, 0);
        assert!(find(&ls, n).is_none());
    }

    #[test]
    fn old_eras_refuse_an_overflowing_loop_index() {
        let p = h200();
        let n = i32::MAX as u64; // uint8: one piece, rounded size past 2^31 - 1
        let mut g = CudaGenerator::with_seed(1);
        assert!(plan_nullary(&mut g, &p, CudaEra::C2.rules(), n, 1, 4).is_err());
        let mut g = CudaGenerator::with_seed(1);
        assert!(plan_nullary(&mut g, &p, CudaEra::C4.rules(), n, 1, 4).is_ok());
    }
}
