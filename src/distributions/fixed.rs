//! Fills whose words are known before drawing, computed a range of elements at a time: on several
//! threads, or only part of a tensor (a shard), with the bits of the whole fill on one thread.
//!
//! `uniform_` on a float tensor draws one word per element (two for float64) in element order,
//! and `normal_`'s fill path (a contiguous tensor of at least 16 elements) reads its words block
//! by block ([`normal::Layout`]). So the elements `a .. b` of either depend only on words at
//! known positions: a [`Cursor`] over a copy of the generator is moved there
//! ([`CpuGenerator::advance`], `O(log n)`) and the range computed with the same kernels.
//! Everything else (the per-element normal path and its cached sample, rejection sampling,
//! permutations) is not a [`FixedFill`] and runs on one thread.

use super::{normal, uniform, Route};
use crate::context::Context;
use crate::dtype::DType;
use crate::generator::CpuGenerator;
use crate::tensor::SliceMut;
use crate::threads::Started;

/// A generator and how many words were drawn from it since a fill's first word, moved forward
/// only.
#[derive(Debug)]
pub(crate) struct Cursor<'g> {
    g: &'g mut CpuGenerator,
    pos: u64,
}

impl<'g> Cursor<'g> {
    /// A cursor at word 0 of a fill over `g`.
    pub(crate) fn new(g: &'g mut CpuGenerator) -> Cursor<'g> {
        Cursor { g, pos: 0 }
    }

    /// A cursor over `g`, which stands at word `pos` of a fill.
    pub(crate) fn resume(g: &'g mut CpuGenerator, pos: u64) -> Cursor<'g> {
        Cursor { g, pos }
    }

    /// The word of the fill the generator stands at.
    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    /// Moves the generator forward to word `to` (never back: the fills ask for increasing
    /// positions).
    pub(crate) fn seek(&mut self, to: u64) {
        debug_assert!(
            to >= self.pos,
            "cursor moved back from {} to {to}",
            self.pos
        );
        self.g.advance(to.saturating_sub(self.pos));
        self.pos = self.pos.max(to);
    }

    /// The generator, for a kernel about to draw `words` words from the current position.
    pub(crate) fn take(&mut self, words: u64) -> &mut CpuGenerator {
        self.pos += words;
        self.g
    }
}

/// What a [`FixedFill`] samples (bounds and parameters already checked as PyTorch checks them).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Law {
    /// `uniform_(from, to)`, bounds clamped to the dtype's finite range.
    Uniform {
        /// Lower bound.
        from: f64,
        /// Upper bound.
        to: f64,
    },
    /// `normal_(mean, std)` on the fill path.
    Normal {
        /// Mean.
        mean: f64,
        /// Standard deviation.
        std: f64,
    },
}

/// A fill of `n` elements of a float dtype whose words are a fixed function of `n`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct FixedFill {
    /// What is sampled.
    pub(crate) law: Law,
    /// The element type (a float dtype).
    pub(crate) dtype: DType,
    /// Elements.
    pub(crate) n: usize,
    /// The build reproduced (variant, release; the thread count is ignored here).
    pub(crate) cx: Context,
}

/// Elements below which a fill stays on one thread (spawning and moving a generator cost more
/// than they save).
pub(crate) const MIN_PARALLEL: usize = 1 << 18;

/// Elements each thread gets at least.
const MIN_PER_THREAD: usize = 1 << 16;

impl FixedFill {
    /// The fill, or `None` when its words are not fixed: a non-float dtype, or `normal_` on
    /// fewer than 16 elements or a non-contiguous target (the per-element path, which reads and
    /// writes the cached sample).
    pub(crate) fn new(
        law: Law,
        dtype: DType,
        n: usize,
        contiguous: bool,
        cx: Context,
    ) -> Option<FixedFill> {
        if !dtype.is_float() {
            return None;
        }
        if matches!(law, Law::Normal { .. }) && (!contiguous || n < 16) {
            return None;
        }
        Some(FixedFill { law, dtype, n, cx })
    }

    /// Words per uniform: two for float64 (`random64`), else one.
    fn w(&self) -> u64 {
        if self.dtype == DType::Float64 {
            2
        } else {
            1
        }
    }

    /// The normal fill's word layout.
    fn layout(&self) -> normal::Layout {
        let rule = self.cx.rules().normal;
        match self.dtype {
            DType::Float64 => normal::layout_f64(self.n),
            DType::Float16 => normal::layout_reduced(self.n, rule.float16),
            DType::BFloat16 => normal::layout_reduced(self.n, rule.bfloat16),
            _ => normal::layout_f32(self.n),
        }
    }

    /// The 32-bit words the whole fill draws.
    pub(crate) fn words(&self) -> u64 {
        match self.law {
            Law::Uniform { .. } => self.n as u64 * self.w(),
            Law::Normal { .. } => self.layout().words(),
        }
    }

    /// Elements a range boundary should fall on (a normal block).
    pub(crate) fn align(&self) -> usize {
        match self.law {
            Law::Uniform { .. } => 1,
            Law::Normal { .. } => 16,
        }
    }

    /// The largest `p <= end` such that a range of elements ending at `p`, computed through a
    /// [`Cursor`], leaves it at or before the first word of any range starting at or after
    /// `end`: `end` itself for `uniform_`; for `normal_` a block boundary before the tail's
    /// elements (they read the tail's words, drawn after every block), or `n`.
    pub(crate) fn resumable_end(&self, end: usize) -> usize {
        match self.law {
            Law::Uniform { .. } => end,
            Law::Normal { .. } if end >= self.n => self.n,
            Law::Normal { .. } => (end / 16 * 16).min(self.layout().kept() / 16 * 16),
        }
    }

    /// The word (counted from the fill's first) where computing elements from `a` on starts:
    /// where [`FixedFill::fill_range`] moves its cursor first.
    pub(crate) fn first_word(&self, a: usize) -> u64 {
        match self.law {
            Law::Uniform { .. } => a as u64 * self.w(),
            Law::Normal { .. } => self.layout().first_word(a),
        }
    }

    /// A rough cost per element in nanoseconds on one core (for splitting work, never for
    /// bits).
    pub(crate) fn cost(&self) -> f64 {
        let base = match self.law {
            Law::Uniform { .. } => 0.5,
            Law::Normal { .. } if self.cx.capability.fused() => 1.3,
            Law::Normal { .. } => 1.8,
        };
        if self.dtype == DType::Float64 {
            base * 2.5
        } else {
            base
        }
    }

    /// Computes elements `a .. a + out.len()` into `out` (of the fill's dtype), drawing from
    /// `cur`, which must stand at or before the range's first word (it is moved forward as
    /// needed and left after the last word the range reads).
    pub(crate) fn fill_range(&self, cur: &mut Cursor<'_>, a: usize, out: SliceMut<'_>) {
        debug_assert!(a + out.len() <= self.n && out.dtype() == self.dtype);
        let route = Route::detect();
        let cx = self.cx;
        let (cap, fused) = (cx.capability, cx.capability.fused());
        match self.law {
            Law::Uniform { from, to } => {
                let rule = cx.rules().uniform;
                cur.seek(self.first_word(a));
                let words = out.len() as u64 * self.w();
                let g = cur.take(words);
                match out {
                    SliceMut::F32(v) => uniform::fill_f32(g, v, from, to, fused, route, rule),
                    SliceMut::F64(v) => uniform::fill_f64(g, v, from, to, fused, route, rule),
                    SliceMut::F16(v) => uniform::fill_f16(g, v, from, to, fused, route, rule),
                    SliceMut::BF16(v) => uniform::fill_bf16(g, v, from, to, fused, route, rule),
                    _ => {}
                }
            }
            Law::Normal { mean, std } => {
                let rule = cx.rules().normal;
                let (n, ms) = (self.n, (mean, std));
                match out {
                    SliceMut::F32(v) => normal::fill_range_f32(cur, n, a, v, ms, cap, rule, route),
                    SliceMut::F64(v) => normal::fill_range_f64(cur, n, a, v, ms, cap, rule, route),
                    SliceMut::F16(v) => normal::fill_range_f16(cur, n, a, v, ms, cap, rule, route),
                    SliceMut::BF16(v) => {
                        normal::fill_range_bf16(cur, n, a, v, ms, cap, rule, route);
                    }
                    _ => {}
                }
            }
        }
    }

    /// The whole fill into `out` on up to `threads` threads, drawing from `g` and leaving it
    /// [`FixedFill::words`] words on, exactly as one thread would.
    pub(crate) fn fill(&self, g: &mut CpuGenerator, out: SliceMut<'_>, threads: usize) {
        let bounds = split(self.n, self.align(), threads, self.cost(), self.w());
        if bounds.len() <= 2 {
            let mut cur = Cursor::new(g);
            self.fill_range(&mut cur, 0, out);
            cur.seek(self.words());
            return;
        }
        let start = g.clone();
        let mut parts = Vec::with_capacity(bounds.len() - 1);
        let mut rest = out;
        for w in bounds.windows(2) {
            let (part, tail) = rest.split_at(w[1] - w[0]);
            parts.push((w[0], part));
            rest = tail;
        }
        let started = Started::new();
        let last = std::thread::scope(|s| {
            let mut handles = Vec::with_capacity(parts.len());
            let mut iter = parts.into_iter();
            let first = iter.next();
            for (a, part) in iter {
                let mut gen = start.clone();
                let started = &started;
                handles.push(s.spawn(move || {
                    started.arrive();
                    let mut cur = Cursor::new(&mut gen);
                    self.fill_range(&mut cur, a, part);
                    cur.seek(self.words());
                    gen
                }));
            }
            started.wait_for(handles.len());
            if let Some((a, part)) = first {
                let mut gen = start.clone();
                self.fill_range(&mut Cursor::new(&mut gen), a, part);
            }
            let mut last = None;
            for h in handles {
                // A fill kernel does not panic; if one did, its panic is the caller's.
                last = Some(h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)));
            }
            last
        });
        if let Some(last) = last {
            *g.engine_mut() = last.engine().clone();
        }
    }
}

/// A rough cost in nanoseconds of moving a generator `words` words forward: single twists
/// (about 0.1 ns a word) up to the point where the polynomial jump (about 0.6 ms) is cheaper.
pub(crate) fn skip_cost(words: u64) -> f64 {
    (words as f64 * 0.1).min(0.6e6)
}

/// Range boundaries `0 = b_0 < b_1 < ... < b_k = n` (multiples of `align` but the last) for up to
/// `threads` threads, so that every thread finishes at about the same time: thread `i` first
/// moves its generator `b_i` elements on ([`skip_cost`]), then computes `b_{i+1} - b_i`
/// elements at `cost` nanoseconds each. One range when the fill is too small to share.
pub(crate) fn split(n: usize, align: usize, threads: usize, cost: f64, w: u64) -> Vec<usize> {
    let threads = threads.min(n / MIN_PER_THREAD).max(1);
    if threads == 1 || n < MIN_PARALLEL {
        return vec![0, n];
    }
    let ends = |finish: f64| {
        let mut b = vec![0usize];
        let mut at = 0usize;
        for _ in 0..threads {
            let budget = finish - skip_cost(at as u64 * w);
            let len = if budget > 0.0 {
                (budget / cost) as usize
            } else {
                0
            };
            at = at.saturating_add(len).min(n);
            b.push(at);
        }
        b
    };
    // The smallest finishing time whose ranges cover all n elements, by bisection.
    let (mut lo, mut hi) = (0.0f64, n as f64 * cost + skip_cost(n as u64 * w) + 1.0);
    for _ in 0..60 {
        let mid = 0.5 * (lo + hi);
        if *ends(mid).last().unwrap_or(&0) >= n {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let mut b = ends(hi);
    for x in &mut b[1..] {
        *x = (*x / align * align).min(n);
    }
    if let Some(last) = b.last_mut() {
        *last = n;
    }
    b.dedup();
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Capability, Era};

    #[test]
    fn split_covers_and_aligns() {
        for (n, t) in [
            (1usize << 20, 2usize),
            (1 << 22, 7),
            ((1 << 20) + 5, 3),
            (100, 4),
        ] {
            let b = split(n, 16, t, 1.0, 1);
            assert_eq!(b[0], 0);
            assert_eq!(*b.last().unwrap(), n);
            assert!(b.windows(2).all(|w| w[0] < w[1]), "{b:?}");
            assert!(b[1..b.len() - 1].iter().all(|x| x % 16 == 0), "{b:?}");
            assert!(b.len() - 1 <= t);
        }
        // Later threads move their generator first, so they get fewer elements.
        let b = split(1 << 24, 1, 2, 0.5, 1);
        assert!(b[1] > (1 << 23), "{b:?}");
    }

    /// Every range of every fixed fill equals the same elements of the whole fill, and the
    /// generator ends where the whole fill leaves it, for odd sizes, every float dtype, both
    /// variants and every era.
    #[test]
    fn ranges_equal_the_whole_fill() {
        let laws = [
            Law::Uniform {
                from: -0.3,
                to: 0.7,
            },
            Law::Normal {
                mean: 0.25,
                std: 1.5,
            },
        ];
        for era in [Era::L0, Era::R2, Era::R3, Era::R4] {
            for cap in [Capability::Default, Capability::Avx2] {
                let cx = Context {
                    era,
                    ..Context::new(cap)
                };
                for dtype in [
                    DType::Float32,
                    DType::Float64,
                    DType::Float16,
                    DType::BFloat16,
                ] {
                    for law in laws {
                        for n in [16usize, 17, 31, 33, 1000, 1029] {
                            let f = FixedFill::new(law, dtype, n, true, cx).unwrap();
                            let mut whole = crate::tensor::Storage::zeros(dtype, n);
                            let mut g = CpuGenerator::with_seed(5);
                            f.fill(&mut g, whole.as_slice_mut(), 1);
                            let mut want = CpuGenerator::with_seed(5);
                            want.advance(f.words());
                            assert_eq!(g, want, "{law:?} {dtype} {n} {era} {cap}");
                            for (a, b) in [(0, n), (0, 1), (3, 17), (n - 1, n), (n / 2, n)] {
                                if a >= b || b > n {
                                    continue;
                                }
                                let mut part = crate::tensor::Storage::zeros(dtype, b - a);
                                let mut h = CpuGenerator::with_seed(5);
                                f.fill_range(&mut Cursor::new(&mut h), a, part.as_slice_mut());
                                for i in a..b {
                                    assert_eq!(
                                        part.bits_at(i - a),
                                        whole.bits_at(i),
                                        "{law:?} {dtype} n={n} [{a},{b}) at {i} {era} {cap}"
                                    );
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
