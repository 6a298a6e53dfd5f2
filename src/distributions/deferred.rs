//! Fills computed later: a [`FixedFill`] and where in a generator's stream its words start, as a
//! tensor's deferred elements ([`crate::tensor::Deferred`]).
//!
//! A model build that defers its fills only counts words: each fill notes the position of its
//! first word in the stream that starts at a copy of the generator (a [`Stream`]), and the
//! generator itself is moved on only when something must draw from it. The elements are computed
//! when read, a chunk at a time when written out, from generators moved to those positions. A
//! fill that a later init overwrites is never computed, and a shard computes only its own rows.
//!
//! The stream keeps the generators its readers leave behind (up to 64, least recently used
//! dropped first), so that reading tensors in about the order they were drawn moves each generator a
//! little forward instead of jumping from the start each time.

use std::sync::{Arc, Mutex, PoisonError};

use super::fixed::{self, Cursor, FixedFill, Law};
use crate::dtype::DType;
use crate::generator::CpuGenerator;
use crate::tensor::{ChunkReader, Chunked, Cut, Deferred, SliceMut, Storage};
use crate::threads::Started;

/// The words of a generator from a starting state on, and generators standing at positions in
/// it.
#[derive(Debug)]
pub(crate) struct Stream {
    start: CpuGenerator,
    parked: Mutex<Parked>,
}

/// Generators left at stream positions, with when each was last used.
#[derive(Debug, Default)]
struct Parked {
    at: Vec<(u64, u64, CpuGenerator)>,
    tick: u64,
}

/// Generators a stream keeps (enough for every worker of a many-core host to find one near the
/// next tensor's first word; each is about 2.5 KB).
const PARKED: usize = 64;

/// A gap (in words) past which a parked generator is copied rather than taken: the move will be
/// a polynomial jump, and the generator stays where it is for readers of nearer positions.
const FAR: u64 = 1 << 22;

impl Stream {
    /// The stream of `g`'s words from its current state.
    pub(crate) fn new(g: &CpuGenerator) -> Arc<Stream> {
        Arc::new(Stream {
            start: g.clone(),
            parked: Mutex::new(Parked::default()),
        })
    }

    /// A generator standing at word `pos` of the stream: the parked one nearest before it, or
    /// the start, moved forward.
    fn at(&self, pos: u64) -> CpuGenerator {
        let found = {
            let mut p = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
            let best =
                p.at.iter()
                    .enumerate()
                    .filter(|(_, (q, _, _))| *q <= pos)
                    .max_by_key(|(_, (q, _, _))| *q)
                    .map(|(i, (q, _, _))| (i, *q));
            p.tick += 1;
            let tick = p.tick;
            best.map(|(i, q)| {
                if pos - q > FAR {
                    p.at[i].1 = tick;
                    (q, p.at[i].2.clone())
                } else {
                    let (q, _, g) = p.at.swap_remove(i);
                    (q, g)
                }
            })
        };
        let (q, mut g) = found.unwrap_or_else(|| (0, self.start.clone()));
        g.advance(pos - q);
        g
    }

    /// Leaves `g`, standing at word `pos`, for later readers.
    fn park(&self, pos: u64, g: CpuGenerator) {
        let mut p = self.parked.lock().unwrap_or_else(PoisonError::into_inner);
        p.tick += 1;
        let tick = p.tick;
        if let Some(e) = p.at.iter_mut().find(|(q, _, _)| *q == pos) {
            e.1 = tick;
            return;
        }
        if p.at.len() >= PARKED {
            if let Some(i) =
                p.at.iter()
                    .enumerate()
                    .min_by_key(|(_, (_, t, _))| *t)
                    .map(|(i, _)| i)
            {
                p.at.swap_remove(i);
            }
        }
        p.at.push((pos, tick, g));
    }
}

/// The fills deferred from one generator, in draw order: the stream they read (from the
/// generator's state at the first of them) and the words the generator owes them. The generator
/// itself is not moved until [`Deferrer::settle`], which whoever draws from it for real calls
/// first.
#[derive(Debug, Default)]
pub(crate) struct Deferrer {
    stream: Option<Arc<Stream>>,
    skip: u64,
}

impl Deferrer {
    /// `fill`'s elements, drawn from `g` after the fills already deferred, computed when read on
    /// up to `threads` threads.
    pub(crate) fn defer(
        &mut self,
        g: &CpuGenerator,
        fill: FixedFill,
        threads: usize,
    ) -> Arc<dyn Deferred> {
        let stream = self.stream.get_or_insert_with(|| Stream::new(g));
        let d = defer(fill, stream, self.skip, threads);
        self.skip += fill.words();
        d
    }

    /// Moves `g` past the deferred fills' words, so that it stands where drawing them would have
    /// left it (fills deferred later start a new stream there).
    pub(crate) fn settle(&mut self, g: &mut CpuGenerator) {
        self.stream = None;
        let words = std::mem::take(&mut self.skip);
        if words > 0 {
            g.advance(words);
        }
    }

    /// Whether the generator owes nothing.
    pub(crate) fn is_settled(&self) -> bool {
        self.skip == 0
    }
}

/// A fill's elements, deferred: `fill` drawing from word `offset` of `stream` on, all of them or
/// a [`Cut`] of them.
#[derive(Debug)]
pub(crate) struct DeferredFill {
    fill: FixedFill,
    stream: Arc<Stream>,
    offset: u64,
    threads: usize,
    cut: Option<Cut>,
}

/// `fill`'s elements, drawn from word `offset` of `stream`, computed when read on up to
/// `threads` threads.
fn defer(fill: FixedFill, stream: &Arc<Stream>, offset: u64, threads: usize) -> Arc<dyn Deferred> {
    Arc::new(DeferredFill {
        fill,
        stream: Arc::clone(stream),
        offset,
        threads: threads.max(1),
        cut: None,
    })
}

/// One reader of a [`DeferredFill`]: a generator moved forward through the fill's words.
struct Walker<'s> {
    src: &'s DeferredFill,
    /// The generator and its position relative to the fill's first word, once taken.
    g: Option<(CpuGenerator, u64)>,
}

impl<'s> Walker<'s> {
    fn new(src: &'s DeferredFill) -> Walker<'s> {
        Walker { src, g: None }
    }

    /// Computes elements `k0 .. k0 + out.len()` (of the cut, if any) into `out`; calls must ask
    /// for increasing positions.
    fn fill(&mut self, k0: usize, mut out: SliceMut<'_>) {
        match self.src.cut {
            None => self.run(k0, out),
            Some(cut) => cut.runs(k0, k0 + out.len(), |a, j0, j1| {
                self.run(a, out.reborrow().slice(j0 - k0..j1 - k0));
            }),
        }
    }

    /// The reader's generator and its word relative to the fill's first (taken from the stream,
    /// at the fill's first word, on first use).
    fn take(&mut self) -> (CpuGenerator, u64) {
        let src = self.src;
        self.g
            .take()
            .unwrap_or_else(|| (src.stream.at(src.offset), 0))
    }

    /// Computes the fill's elements `a .. a + out.len()` into `out`. The generator is left where
    /// any later range can still start ([`FixedFill::resumable_end`]): the part of a range past
    /// that point (inside a normal block, or among the tail's elements) is computed with a copy.
    fn run(&mut self, a: usize, out: SliceMut<'_>) {
        if out.is_empty() {
            return;
        }
        let src = self.src;
        let (mut g, mut rel) = self.take();
        let end = a + out.len();
        let keep = src.fill.resumable_end(end).max(a);
        let (head, tail) = out.split_at(keep - a);
        if keep > a {
            let mut cur = Cursor::resume(&mut g, rel);
            src.fill.fill_range(&mut cur, a, head);
            rel = cur.pos();
        }
        if keep < end {
            let mut copy = g.clone();
            src.fill
                .fill_range(&mut Cursor::resume(&mut copy, rel), keep, tail);
        }
        self.g = Some((g, rel));
    }
}

impl<'s> ChunkReader<'s> for Walker<'s> {
    fn fill(&mut self, k0: usize, out: SliceMut<'_>) {
        Walker::fill(self, k0, out);
    }

    fn skip_to(&mut self, k0: usize) {
        let src = self.src;
        let a = src.cut.map_or(k0, |c| c.source(k0));
        let to = src.fill.first_word(a);
        let (mut g, mut rel) = self.take();
        if to > rel {
            let mut cur = Cursor::resume(&mut g, rel);
            cur.seek(to);
            rel = cur.pos();
        }
        self.g = Some((g, rel));
    }

    fn fork(&self) -> Box<dyn ChunkReader<'s> + 's> {
        Box::new(Walker {
            src: self.src,
            g: self.g.clone(),
        })
    }
}

impl Drop for Walker<'_> {
    /// Leaves the generator with the stream.
    fn drop(&mut self) {
        if let Some((g, rel)) = self.g.take() {
            self.src.stream.park(self.src.offset + rel, g);
        }
    }
}

impl Chunked for DeferredFill {
    fn threads(&self) -> usize {
        self.threads_for(self.len())
    }

    fn reader(&self) -> Box<dyn ChunkReader<'_> + '_> {
        Box::new(Walker::new(self))
    }
}

impl DeferredFill {
    /// Threads worth using for `n` elements.
    fn threads_for(&self, n: usize) -> usize {
        if n < fixed::MIN_PARALLEL {
            1
        } else {
            self.threads
        }
    }
}

impl Deferred for DeferredFill {
    fn dtype(&self) -> DType {
        self.fill.dtype
    }

    fn len(&self) -> usize {
        self.cut.map_or(self.fill.n, |c| c.len())
    }

    fn compute(&self) -> crate::error::Result<Storage> {
        let n = self.len();
        let op = match self.fill.law {
            Law::Uniform { .. } => "uniform_",
            Law::Normal { .. } => "normal_",
        };
        let mut out = Storage::try_zeros(op, self.fill.dtype, n)?;
        let threads = self.threads_for(n);
        let w = if self.fill.dtype == DType::Float64 {
            2
        } else {
            1
        };
        let bounds = fixed::split(n, self.fill.align(), threads, self.fill.cost(), w);
        let mut parts = Vec::with_capacity(bounds.len() - 1);
        let mut rest = out.as_slice_mut();
        for b in bounds.windows(2) {
            let (part, tail) = rest.split_at(b[1] - b[0]);
            parts.push((b[0], part));
            rest = tail;
        }
        let started = Started::new();
        std::thread::scope(|s| {
            let mut iter = parts.into_iter();
            let first = iter.next();
            let mut spawned = 0;
            for (a, part) in iter {
                let started = &started;
                s.spawn(move || {
                    started.arrive();
                    Walker::new(self).fill(a, part);
                });
                spawned += 1;
            }
            started.wait_for(spawned);
            if let Some((a, part)) = first {
                Walker::new(self).fill(a, part);
            }
        });
        Ok(out)
    }

    fn for_each_le_chunk(&self, phase: usize, f: &mut dyn FnMut(&[u8])) {
        crate::stream::each_chunk(self, phase, f);
    }

    fn chunked(&self) -> Option<&dyn Chunked> {
        Some(self)
    }

    fn narrow(&self, cut: Cut) -> Option<Arc<dyn Deferred>> {
        if self.cut.is_some() {
            return None;
        }
        Some(Arc::new(DeferredFill {
            fill: self.fill,
            stream: Arc::clone(&self.stream),
            offset: self.offset,
            threads: self.threads,
            cut: Some(cut),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::{Capability, Context};
    use crate::tensor::Tensor;

    fn same(a: &[u8], b: &[u8], what: &str) {
        assert_eq!(a.len(), b.len(), "{what}");
        if let Some(k) = a.iter().zip(b).position(|(x, y)| x != y) {
            panic!("{what}: first difference at byte {k} of {}", a.len());
        }
    }

    fn tensor_of(src: Arc<dyn Deferred>, shape: &[usize]) -> Tensor {
        let size: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
        let mut t = Tensor::deferred_zeros("test", &size, src.dtype()).unwrap();
        t.set_deferred(src);
        t
    }

    /// A writer that panics half way through a streamed tensor, on several threads, unwinds
    /// (the workers stop rather than wait for it), and the next stream of the same fill still
    /// gives every chunk.
    #[test]
    fn a_panicking_writer_stops_the_workers() {
        let cx = Context::new(Capability::Avx2);
        let n = 5 * crate::stream::STREAM_CHUNK + 77;
        let law = Law::Normal {
            mean: 0.0,
            std: 1.0,
        };
        let f = FixedFill::new(law, DType::Float32, n, true, cx).unwrap();
        let stream = Stream::new(&CpuGenerator::with_seed(3));
        for threads in [2, 3] {
            let d = defer(f, &stream, 0, threads);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut seen = 0;
                d.for_each_le_chunk(0, &mut |_| {
                    seen += 1;
                    assert!(seen < 3, "writer fails");
                });
            }));
            assert!(r.is_err());
            let mut bytes = Vec::new();
            d.for_each_le_chunk(20, &mut |b| bytes.extend_from_slice(b));
            let whole = Tensor::new(vec![n], d.compute().unwrap()).unwrap();
            same(&bytes, &whole.to_le_bytes(), "after a panic");
        }
    }

    /// A reader moved with `skip_to` (from its start, or forked from another reader standing
    /// earlier) computes any later range as a fresh reader does: for uniform and normal fills,
    /// a normal fill's tail, and a cut.
    #[test]
    fn skipped_and_forked_readers_compute_what_fresh_ones_do() {
        let cx = Context::new(Capability::Avx2);
        let stream = Stream::new(&CpuGenerator::with_seed(9));
        let normal = Law::Normal {
            mean: 0.0,
            std: 1.0,
        };
        let uniform = Law::Uniform {
            from: -2.0,
            to: 2.0,
        };
        let n = 3 * 4099 + 7;
        for (law, dtype) in [
            (normal, DType::Float32),
            (normal, DType::BFloat16),
            (uniform, DType::Float64),
        ] {
            let f = FixedFill::new(law, dtype, n, true, cx).unwrap();
            let whole = defer(f, &stream, 100, 2);
            let cut = whole.narrow(Cut {
                outer: 3,
                row: 4099,
                skip: 1000,
                take: 2000,
            });
            let cut = cut.as_ref().unwrap();
            for src in [whole.as_ref(), cut.as_ref()] {
                let c = src.chunked().unwrap();
                let len = c.len();
                let compute = |r: &mut Box<dyn ChunkReader<'_> + '_>, k0: usize| {
                    let mut s = Storage::zeros(dtype, len - k0);
                    r.fill(k0, s.as_slice_mut());
                    Tensor::new(vec![len - k0], s).unwrap().to_le_bytes()
                };
                for (a, k0) in [
                    (0, 0),
                    (0, 4000),
                    (17, len - 5),
                    (3000, len - 1),
                    (0, len - 16),
                ] {
                    let want = compute(&mut c.reader(), k0);
                    let mut r = c.reader();
                    r.skip_to(a);
                    let mut fork = r.fork();
                    r.skip_to(k0);
                    r.skip_to(a); // never moves back
                    same(
                        &compute(&mut r, k0),
                        &want,
                        &format!("{dtype} {a} {k0} skipped"),
                    );
                    fork.skip_to(k0);
                    same(
                        &compute(&mut fork, k0),
                        &want,
                        &format!("{dtype} {a} {k0} fork"),
                    );
                }
            }
        }
    }

    /// Fills of a model for [`a_line_across_tensors_gives_each_tensors_bytes`]: large and small,
    /// of several dtypes, from one stream; each one's bytes when run in order, and those of a
    /// cut of the first (130 x 4099, columns 1000 .. 3500).
    #[allow(clippy::type_complexity)]
    fn line_fixture() -> (Arc<Stream>, Vec<(FixedFill, u64)>, Vec<Vec<u8>>, Vec<u8>) {
        let cx = Context::new(Capability::Avx2);
        let big = crate::stream::STREAM_CHUNK + 4099;
        let normal = |mean, std| Law::Normal { mean, std };
        let uniform = |from, to| Law::Uniform { from, to };
        // The last normal fill's last chunk holds only the tail's elements (7 past a chunk).
        let specs: [(DType, usize, Law); 7] = [
            (DType::Float32, 130 * 4099, normal(0.0, 0.02)),
            (DType::Float32, 100, uniform(-1.0, 1.0)),
            (DType::BFloat16, big, normal(1.0, 2.0)),
            (DType::Float64, big + 7, uniform(0.0, 3.0)),
            (DType::Float32, 3 * big, normal(0.0, 1.0)),
            (DType::Float32, 37, normal(0.0, 1.0)),
            (
                DType::Float32,
                2 * crate::stream::STREAM_CHUNK + 7,
                normal(0.0, 1.0),
            ),
        ];
        let mut g = CpuGenerator::with_seed(5);
        let stream = Stream::new(&g);
        let mut fills = Vec::new();
        let mut offset = 0;
        for &(dtype, n, law) in &specs {
            let f = FixedFill::new(law, dtype, n, true, cx).unwrap();
            fills.push((f, offset));
            offset += f.words();
        }
        let whole: Vec<Tensor> = fills
            .iter()
            .map(|&(f, _)| {
                let mut s = Storage::zeros(f.dtype, f.n);
                f.fill(&mut g, s.as_slice_mut(), 1);
                Tensor::new(vec![f.n], s).unwrap()
            })
            .collect();
        let want = whole.iter().map(Tensor::to_le_bytes).collect();
        let cut_want = whole[0]
            .clone()
            .reshaped(vec![130, 4099])
            .unwrap()
            .narrow(1, 1000, 2500)
            .unwrap()
            .to_le_bytes();
        (stream, fills, want, cut_want)
    }

    /// A model's tensors streamed through one line ([`crate::stream::each`]) give each tensor's
    /// bytes, whatever mix of sources (large and small fills of several dtypes from one stream,
    /// cuts, constants, computed tensors) and thread count; a body that stops early or panics
    /// leaves no worker behind, and the next stream is whole.
    #[test]
    fn a_line_across_tensors_gives_each_tensors_bytes() {
        use crate::stream::{each, Item};
        let (stream, fills, want, cut_want) = line_fixture();
        for threads in [1, 2, 3, 7] {
            let mut tensors: Vec<Tensor> = fills
                .iter()
                .map(|&(f, o)| tensor_of(defer(f, &stream, o, threads), &[f.n]))
                .collect();
            let mut want = want.clone();
            // A cut of the first fill, a computed tensor and a constant between them.
            let cut = tensor_of(defer(fills[0].0, &stream, 0, threads), &[130, 4099])
                .narrow(1, 1000, 2500)
                .unwrap();
            assert!(cut.is_deferred());
            want.push(cut_want.clone());
            tensors.push(cut);
            let ready = Tensor::new(vec![3], Storage::F32(vec![1.0, 2.0, 3.0])).unwrap();
            want.insert(2, ready.to_le_bytes());
            tensors.insert(2, ready);
            let zeros = Tensor::deferred_zeros("test", &[5000], DType::Float16).unwrap();
            want.insert(4, zeros.to_le_bytes());
            tensors.insert(4, zeros);
            let items: Vec<Item<'_>> = tensors.iter().map(Item::Tensor).collect();
            // Where each tensor's bytes go (odd ones leave the buffers where they are).
            let phases: Vec<usize> = (0..items.len()).map(|i| i * 21 % 64).collect();
            let got: Vec<Vec<u8>> = each(&items, &phases, |feed| {
                (0..items.len())
                    .map(|_| {
                        let mut b = Vec::new();
                        feed.next(&mut |c| b.extend_from_slice(c));
                        b
                    })
                    .collect()
            });
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                same(g, w, &format!("tensor {i}, {threads} threads"));
            }
            // Stopping after two tensors, and panicking in the third.
            let two = each(&items, &[], |feed| {
                feed.next(&mut |_| {});
                let mut b = Vec::new();
                feed.next(&mut |c| b.extend_from_slice(c));
                b
            });
            same(&two, &want[1], "stopped early");
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                each(&items, &phases, |feed| {
                    feed.next(&mut |_| {});
                    feed.next(&mut |_| {});
                    feed.next(&mut |_| panic!("writer fails"));
                });
            }));
            assert!(r.is_err());
            let last = each(&items, &phases[1..], |feed| {
                let mut b = Vec::new();
                for _ in 0..items.len() {
                    b.clear();
                    feed.next(&mut |c| b.extend_from_slice(c));
                }
                b
            });
            same(&last, want.last().unwrap(), "after a panic");
        }
    }

    /// Streamed chunks are handed from addresses that agree with where their bytes go (the
    /// kernel copies them into the page cache a third faster so), on the line, on one thread,
    /// and for constants; an odd phase leaves the buffers as they are.
    #[test]
    fn chunks_come_from_addresses_that_agree_with_their_phase() {
        use crate::stream::{each, Item};
        use crate::tensor::PHASE;
        let (stream, fills, want, _) = line_fixture();
        for threads in [1, 2, 3] {
            let mut tensors: Vec<Tensor> = fills
                .iter()
                .map(|&(f, o)| tensor_of(defer(f, &stream, o, threads), &[f.n]))
                .collect();
            tensors.push(Tensor::deferred_zeros("test", &[70_000], DType::Float16).unwrap());
            let items: Vec<Item<'_>> = tensors.iter().map(Item::Tensor).collect();
            // Multiples of 8 (every dtype here can agree), then an odd one.
            let phases: Vec<usize> = (0..items.len()).map(|i| (i * 24 + 8) % PHASE).collect();
            let odd: Vec<usize> = phases.iter().map(|p| p + 1).collect();
            for phases in [phases, odd] {
                let got: Vec<Vec<u8>> = each(&items, &phases, |feed| {
                    (0..items.len())
                        .map(|i| {
                            let mut b = Vec::new();
                            feed.next(&mut |c| {
                                if phases[i] % 2 == 0 {
                                    let at = c.as_ptr() as usize % PHASE;
                                    assert_eq!(at, phases[i], "tensor {i}, {threads} threads");
                                }
                                b.extend_from_slice(c);
                            });
                            b
                        })
                        .collect()
                });
                for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                    same(g, w, &format!("tensor {i}, {threads} threads"));
                }
            }
        }
    }

    /// The elements [`crate::stream::lead`] skips reach the phase asked for where whole elements
    /// can, and are none where they cannot.
    #[test]
    fn a_lead_reaches_the_phase() {
        use crate::tensor::{lead, PHASE};
        for addr in (4096..4096 + 2 * PHASE).step_by(2) {
            for size in [1, 2, 4, 8] {
                for phase in 0..PHASE {
                    let e = lead(addr, size, phase);
                    assert!(e * size < PHASE, "{addr} {size} {phase}");
                    let reachable = (phase + PHASE - addr % PHASE).is_multiple_of(size);
                    if reachable {
                        assert_eq!((addr + e * size) % PHASE, phase, "{addr} {size} {phase}");
                    } else {
                        assert_eq!(e, 0, "{addr} {size} {phase}");
                    }
                }
            }
        }
    }

    /// Deferred fills computed whole, streamed, and cut along each dimension equal the fills run
    /// in order on one generator, for every thread count.
    #[test]
    fn deferred_fills_equal_the_fills_run_in_order() {
        for cap in [Capability::Default, Capability::Avx2] {
            let cx = Context::new(cap);
            for dtype in [DType::Float32, DType::Float64, DType::BFloat16] {
                // Large enough to split across threads, and small ones whose normal tail
                // overlaps the last block (40 and 105 elements).
                let shapes: [&[usize]; 5] = [
                    &[301, 1029],
                    &[17, 5, 33],
                    &[700, 600],
                    &[1, 5, 8],
                    &[3, 7, 5],
                ];
                let laws = [
                    Law::Normal {
                        mean: 0.5,
                        std: 2.0,
                    },
                    Law::Uniform {
                        from: -0.25,
                        to: 0.75,
                    },
                    Law::Normal {
                        mean: 0.0,
                        std: 0.02,
                    },
                    Law::Normal {
                        mean: 0.0,
                        std: 1.0,
                    },
                    Law::Normal {
                        mean: 1.0,
                        std: 3.0,
                    },
                ];
                // What running the fills in order gives.
                let mut g = CpuGenerator::with_seed(11);
                g.random();
                let stream = Stream::new(&g);
                let mut want = Vec::new();
                let mut fills = Vec::new();
                let mut offset = 0;
                for (shape, law) in shapes.iter().zip(laws) {
                    let n = shape.iter().product();
                    let f = FixedFill::new(law, dtype, n, true, cx).unwrap();
                    let mut s = Storage::zeros(dtype, n);
                    f.fill(&mut g, s.as_slice_mut(), 1);
                    want.push(Tensor::new(shape.to_vec(), s).unwrap());
                    fills.push((f, offset));
                    offset += f.words();
                }
                for threads in [1, 2, 3, 7] {
                    for (i, (f, offset)) in fills.iter().enumerate().rev() {
                        let t = tensor_of(defer(*f, &stream, *offset, threads), shapes[i]);
                        same(
                            &t.to_le_bytes(),
                            &want[i].to_le_bytes(),
                            &format!("{cap} {dtype} {i} t{threads}"),
                        );
                        assert_eq!(t.storage(), want[i].storage(), "{cap} {dtype} {i}");
                        for dim in 0..shapes[i].len() {
                            let size = shapes[i][dim];
                            for (start, len) in [
                                (0, 1),
                                (size / 3, size / 2),
                                (size / 3, size - size / 3),
                                (size - 1, 1),
                            ] {
                                let t = tensor_of(defer(*f, &stream, *offset, threads), shapes[i]);
                                let part = t.narrow(dim, start, len).unwrap();
                                assert!(part.is_deferred());
                                let full = want[i].narrow(dim, start, len).unwrap();
                                same(
                                    &part.to_le_bytes(),
                                    &full.to_le_bytes(),
                                    &format!("{cap} {dtype} {i} t{threads} cut {dim} {start}"),
                                );
                                assert_eq!(part, full, "{cap} {dtype} {i} {dim} {start}");
                            }
                        }
                    }
                }
            }
        }
    }
}
