//! Tensors' bytes streamed in order while other threads compute the chunks ahead.
//!
//! A writer of a file asks for its tensors one after the other ([`Feed::next`]); the chunks of
//! every tensor whose elements are still deferred and worth several threads ([`Chunked`]) form
//! one line across the whole list. Workers claim the line's chunks in order and compute them into
//! buffers; the writing thread writes them in order and, rather than wait for the chunk it needs,
//! claims and computes the next one itself. As the line runs across tensors, no thread waits at
//! the end of a tensor for the others to finish it: the workers are already on the next one
//! (GPT-2 124M has 50 such tensors). Each thread's reader of a tensor only moves forward, since
//! the chunks each claims increase; at most [`AHEAD`] chunks per thread are ahead of the writer,
//! so the memory held is a few chunks, whatever the model.
//!
//! A reader moves over the words of chunks it does not compute by twisting the engine (about a
//! tenth of computing them). So that a thread does not move over every chunk the others took
//! since its last one (on `N` threads, `N - 1` chunks for each it computes), the line keeps a
//! frontier: a reader at the start of the latest chunk a thread began. A thread whose next chunk
//! does not follow its last one starts from a copy of it, usually one chunk behind.
//!
//! Other tensors (computed, constant, or too small to share) are streamed on the writing thread
//! when their turn comes, while the workers go on computing the line ahead.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crate::dtype::DType;
use crate::tensor::{
    lead_in, with_le_bytes, ChunkReader, Chunked, Deferred, Storage, Tensor, PHASE,
};
use crate::threads::Started;

/// Elements per chunk when streaming bytes (a multiple of a normal block): 1 MiB of float32, in
/// the L2 cache of this project's host. Measured on `init` of GPT-2 124M (avx2, one thread):
/// 2^14 elements 0.26 s, 2^16 0.22 s, 2^18 0.20 s, 2^19 about the same, 2^20 erratic (up to
/// 0.44 s): each chunk's fixed costs (a `write` call, the kernel's scratch) weigh less.
pub(crate) const STREAM_CHUNK: usize = 1 << 18;

/// Chunks each thread may have computed ahead of the writer. A `write` call now and then takes
/// milliseconds; meanwhile the workers compute on until they are this far ahead, then wait.
/// Measured on `init` of GPT-2 124M on two threads (8 runs each), the worker's waits in all:
/// with 2, 0.3–5.1 ms in every run; with 4, none in 6 runs and 1.0 and 16.6 ms in two; with 6
/// and 8, none. Each chunk is 1 MiB of float32 per thread.
const AHEAD: usize = 6;

/// Chunk buffers kept between streams (a few, any dtype).
static BUFFERS: Mutex<Vec<Storage>> = Mutex::new(Vec::new());

/// A buffer of [`STREAM_CHUNK`] elements of `dtype` from any [`lead_in`] it (its contents are
/// overwritten).
fn buffer(dtype: DType) -> Storage {
    let mut pool = BUFFERS.lock().unwrap_or_else(PoisonError::into_inner);
    match pool.iter().position(|b| b.dtype() == dtype) {
        Some(i) => pool.swap_remove(i),
        None => Storage::zeros(dtype, STREAM_CHUNK + PHASE),
    }
}

/// Keeps `buf` for the next stream.
fn give_back(buf: Storage) {
    let mut pool = BUFFERS.lock().unwrap_or_else(PoisonError::into_inner);
    if pool.len() < 8 {
        pool.push(buf);
    }
}

/// The chunks of `len` elements.
fn chunks_of(len: usize) -> usize {
    len.div_ceil(STREAM_CHUNK)
}

/// Elements `k0 .. k1` of chunk `c` of a source of `len` elements.
fn chunk_range(c: usize, len: usize) -> (usize, usize) {
    (c * STREAM_CHUNK, ((c + 1) * STREAM_CHUNK).min(len))
}

/// A tensor whose chunks are on the line.
struct Part<'t> {
    src: &'t dyn Chunked,
    /// The line's number of its chunk 0.
    first: usize,
    /// Where its bytes go modulo [`PHASE`] (every chunk's bytes start there too).
    phase: usize,
}

/// What the line holds: its parts in order, and which tensor is which part.
struct Plan<'t> {
    parts: Vec<Part<'t>>,
    /// For each source in order, its part (`None`: streamed on the writing thread).
    part_of: Vec<Option<usize>>,
    /// Chunks on the line.
    total: usize,
    /// Threads: the most any part is worth.
    threads: usize,
}

impl<'t> Plan<'t> {
    fn new(sources: &[Option<&'t dyn Deferred>], phases: &[usize]) -> Plan<'t> {
        let mut parts = Vec::new();
        let mut part_of = Vec::with_capacity(sources.len());
        let (mut total, mut threads) = (0, 1);
        for (i, src) in sources.iter().enumerate() {
            match src.and_then(|d| d.chunked()).filter(|c| c.threads() > 1) {
                Some(c) => {
                    part_of.push(Some(parts.len()));
                    parts.push(Part {
                        src: c,
                        first: total,
                        phase: phase_of(phases, i),
                    });
                    total += chunks_of(c.len());
                    threads = threads.max(c.threads());
                }
                None => part_of.push(None),
            }
        }
        Plan {
            parts,
            part_of,
            total,
            threads: threads.min(total + 1),
        }
    }

    /// The part and the chunk within it of the line's chunk `g`.
    fn locate(&self, g: usize) -> (usize, usize) {
        let p = self.parts.partition_point(|p| p.first <= g) - 1;
        (p, g - self.parts[p].first)
    }

    fn dtype(&self, g: usize) -> DType {
        self.parts[self.locate(g).0].src.dtype()
    }
}

/// One thread's reader of the part it is computing: the part, the line's chunk at whose start
/// it stands, the reader.
struct Readers<'t> {
    at: Option<(usize, usize, Box<dyn ChunkReader<'t> + 't>)>,
}

impl<'t> Readers<'t> {
    /// Computes the line's chunk `g` into `buf` (chunks asked for increase).
    ///
    /// A reader that does not stand at `g` already (the thread's last chunk was not `g - 1`)
    /// starts from the nearer of its own position and the line's frontier, a reader at the
    /// start of the last chunk claimed, so that it moves over one chunk rather than over every
    /// chunk the other threads took since its last one; then it becomes the frontier. (The
    /// frontier can stand behind the thread's own reader: another thread that claimed the chunk
    /// after this thread's last may not have begun it yet.)
    fn compute(&mut self, plan: &Plan<'t>, line: &Line<'t>, g: usize, buf: &mut Storage) {
        let (p, c) = plan.locate(g);
        let src = plan.parts[p].src;
        let (k0, k1) = chunk_range(c, src.len());
        let e = lead_in(buf, plan.parts[p].phase);
        let r = match &mut self.at {
            Some((q, at, r)) if *q == p && *at == g => r,
            at => {
                let own = at
                    .as_ref()
                    .filter(|(q, a, _)| *q == p && *a <= g)
                    .map(|(_, a, _)| *a);
                let front = line.lock().front.as_ref().and_then(|(f, r)| {
                    let nearer = own.is_none_or(|a| *f > a);
                    (plan.locate(*f).0 == p && *f <= g && nearer).then(|| r.fork())
                });
                match (front, own) {
                    // The reader replaced leaves its generator for later readers.
                    (Some(r), _) => &mut at.insert((p, g, r)).2,
                    (None, Some(_)) => {
                        let (_, a, r) = at.as_mut().expect("the thread's own reader");
                        *a = g;
                        r
                    }
                    (None, None) => &mut at.insert((p, g, src.reader())).2,
                }
            }
        };
        r.skip_to(k0);
        {
            let mut st = line.lock();
            if st.front.as_ref().is_none_or(|(f, _)| *f < g) {
                st.front = Some((g, r.fork()));
            }
        }
        r.fill(k0, buf.as_slice_mut().slice(e..e + k1 - k0));
        if let Some((_, at, _)) = &mut self.at {
            *at = g + 1;
        }
    }
}

/// The line's chunks, shared by the writer and the workers.
struct Line<'t> {
    state: Mutex<LineState<'t>>,
    /// Signalled when a chunk is computed or written, and on a stop.
    turn: Condvar,
}

struct LineState<'t> {
    /// The first chunk nobody has claimed.
    next: usize,
    /// Chunks written (the writer's next chunk).
    written: usize,
    /// Computed chunks not written yet.
    done: Vec<Option<Storage>>,
    /// Buffers written and free again.
    spare: Vec<Storage>,
    /// A thread panicked, or the writer is done: everyone stops.
    stop: bool,
    /// Threads waiting for a turn (a chunk or a stop wakes them only if there are any: each
    /// wake-up is a system call, and most chunks find nobody waiting).
    waiting: usize,
    /// A reader standing at the start of the latest chunk a thread started, and that chunk.
    front: Option<(usize, Box<dyn ChunkReader<'t> + 't>)>,
}

impl LineState<'_> {
    /// The next unclaimed chunk, if it is among the `limit` after the last written, with a free
    /// buffer of its dtype.
    fn claim_within(&mut self, plan: &Plan<'_>, limit: usize) -> Option<(usize, Storage)> {
        if self.next >= plan.total || self.next >= self.written + limit {
            return None;
        }
        let g = self.next;
        self.next += 1;
        let dtype = plan.dtype(g);
        let buf = match self.spare.iter().position(|b| b.dtype() == dtype) {
            Some(i) => self.spare.swap_remove(i),
            None => buffer(dtype),
        };
        Some((g, buf))
    }
}

/// What the writer does next.
enum Turn {
    /// Write its chunk, computed.
    Write(Storage),
    /// Compute chunk `.0` (claimed) into the buffer.
    Compute(usize, Storage),
    /// Stop: another thread panicked.
    Stop,
}

/// Sets [`LineState::stop`] when dropped (by a worker: only if its thread unwinds; by the
/// writer: always, as nothing is written after it), so that no thread waits for ever.
struct StopOnDrop<'a, 't> {
    line: &'a Line<'t>,
    always: bool,
}

impl Drop for StopOnDrop<'_, '_> {
    fn drop(&mut self) {
        if self.always || std::thread::panicking() {
            let mut st = self.line.lock();
            st.stop = true;
            self.line.changed(st);
        }
    }
}

impl<'t> Line<'t> {
    /// A line of `total` chunks, none claimed.
    fn new(total: usize) -> Line<'t> {
        Line {
            state: Mutex::new(LineState {
                next: 0,
                written: 0,
                done: (0..total).map(|_| None).collect(),
                spare: Vec::new(),
                stop: false,
                waiting: 0,
                front: None,
            }),
            turn: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, LineState<'t>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Claims the next chunk once it is within `limit` of the writer, with a buffer; `None`
    /// when every chunk is claimed or the line stopped.
    fn claim(&self, plan: &Plan<'_>, limit: usize) -> Option<(usize, Storage)> {
        let mut st = self.lock();
        loop {
            if st.stop || st.next >= plan.total {
                return None;
            }
            if let Some(claimed) = st.claim_within(plan, limit) {
                return Some(claimed);
            }
            st = self.wait(st);
        }
    }

    /// The writer's next step for chunk `g`: write it if computed, else compute the next
    /// unclaimed chunk if there is one within `limit`, else wait.
    fn take_or_claim(&self, g: usize, plan: &Plan<'_>, limit: usize) -> Turn {
        let mut st = self.lock();
        loop {
            if st.stop {
                return Turn::Stop;
            }
            if let Some(buf) = st.done[g].take() {
                return Turn::Write(buf);
            }
            if let Some((j, buf)) = st.claim_within(plan, limit) {
                return Turn::Compute(j, buf);
            }
            st = self.wait(st);
        }
    }

    /// Waits for the next change of the line (counted in [`LineState::waiting`] meanwhile).
    fn wait<'g>(&self, mut st: MutexGuard<'g, LineState<'t>>) -> MutexGuard<'g, LineState<'t>> {
        st.waiting += 1;
        let mut st = self.turn.wait(st).unwrap_or_else(PoisonError::into_inner);
        st.waiting -= 1;
        st
    }

    /// Wakes the waiting threads, if any, once `st` (changed) is released.
    fn changed(&self, st: MutexGuard<'_, LineState<'t>>) {
        let any = st.waiting > 0;
        drop(st);
        if any {
            self.turn.notify_all();
        }
    }

    /// Chunk `g` is computed into `buf`.
    fn finished(&self, g: usize, buf: Storage) {
        let mut st = self.lock();
        st.done[g] = Some(buf);
        self.changed(st);
    }

    /// Chunk `g` is written; `buf` is free.
    fn written(&self, g: usize, buf: Storage) {
        let mut st = self.lock();
        st.written = g + 1;
        st.spare.push(buf);
        self.changed(st);
    }
}

/// The writing thread's side of a stream: each tensor's bytes in turn.
pub(crate) struct Feed<'a, 't> {
    plan: &'a Plan<'t>,
    line: &'a Line<'t>,
    limit: usize,
    /// The tensors' sources in order (`None`: computed already).
    tensors: &'a [Item<'t>],
    /// Where each tensor's bytes go modulo [`PHASE`].
    phases: &'a [usize],
    /// The next tensor to stream.
    next: usize,
    own: Readers<'t>,
    scratch: Vec<u8>,
}

/// A tensor or a deferred source, to stream.
#[derive(Clone, Copy)]
pub(crate) enum Item<'t> {
    Tensor(&'t Tensor),
    Source(&'t dyn Deferred),
}

impl<'t> Item<'t> {
    fn pending(self) -> Option<&'t dyn Deferred> {
        match self {
            Item::Tensor(t) => t.pending(),
            Item::Source(d) => Some(d),
        }
    }
}

impl Feed<'_, '_> {
    /// Calls `f` with the next tensor's little-endian bytes, in order, a chunk at a time. After a
    /// worker's panic it returns without them (the stream then re-raises the panic).
    ///
    /// # Panics
    /// When every tensor was streamed already.
    pub(crate) fn next(&mut self, f: &mut dyn FnMut(&[u8])) {
        let i = self.next;
        self.next += 1;
        if self.line.lock().stop {
            return;
        }
        let Some(p) = self.plan.part_of[i] else {
            let phase = phase_of(self.phases, i);
            match self.tensors[i] {
                Item::Tensor(t) => t.for_each_le_chunk_at(phase, f),
                Item::Source(d) => d.for_each_le_chunk(phase, f),
            }
            return;
        };
        let part = &self.plan.parts[p];
        let len = part.src.len();
        for g in part.first..part.first + chunks_of(len) {
            let buf = loop {
                match self.line.take_or_claim(g, self.plan, self.limit) {
                    Turn::Write(buf) => break buf,
                    Turn::Compute(j, mut buf) => {
                        self.own.compute(self.plan, self.line, j, &mut buf);
                        self.line.finished(j, buf);
                    }
                    Turn::Stop => return,
                }
            };
            let (k0, k1) = chunk_range(g - part.first, len);
            let e = lead_in(&buf, part.phase);
            with_le_bytes(&buf, e..e + k1 - k0, &mut self.scratch, f);
            self.line.written(g, buf);
        }
    }
}

/// Entry `i` of `phases`, 0 past its end.
fn phase_of(phases: &[usize], i: usize) -> usize {
    phases.get(i).copied().unwrap_or(0)
}

/// Runs `body` with a [`Feed`] of `tensors` (to be streamed in this order, each once), while
/// workers compute the chunks ahead. Whatever `body` leaves unstreamed is not computed past the
/// chunks already claimed. `phases[i]` is where tensor `i`'s first byte goes modulo [`PHASE`]
/// (a shorter list: 0 for the rest); computed chunks are handed from addresses that agree
/// with it.
///
/// # Panics
/// Re-raises a worker's panic, once `body` returned.
pub(crate) fn each<R>(
    tensors: &[Item<'_>],
    phases: &[usize],
    body: impl FnOnce(&mut Feed<'_, '_>) -> R,
) -> R {
    let sources: Vec<Option<&dyn Deferred>> = tensors.iter().map(|t| t.pending()).collect();
    let plan = Plan::new(&sources, phases);
    let limit = AHEAD * plan.threads;
    let line = Line::new(plan.total);
    let started = Started::new();
    let r = std::thread::scope(|s| {
        for _ in 1..plan.threads {
            s.spawn(|| {
                started.arrive();
                let _stop = StopOnDrop {
                    line: &line,
                    always: false,
                };
                let mut own = Readers { at: None };
                while let Some((g, mut buf)) = line.claim(&plan, limit) {
                    own.compute(&plan, &line, g, &mut buf);
                    line.finished(g, buf);
                }
            });
        }
        started.wait_for(plan.threads - 1);
        // Dropped when `body` returns or unwinds: the workers stop claiming.
        let _stop = StopOnDrop {
            line: &line,
            always: true,
        };
        let mut feed = Feed {
            plan: &plan,
            line: &line,
            limit,
            tensors,
            phases,
            next: 0,
            own: Readers { at: None },
            scratch: Vec::new(),
        };
        body(&mut feed)
    });
    let st = line
        .state
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    for buf in st.spare.into_iter().chain(st.done.into_iter().flatten()) {
        give_back(buf);
    }
    r
}

/// Streams `src`'s little-endian bytes (the first going to `phase` modulo [`PHASE`]) to `f` on
/// its threads ([`Chunked::threads`]), or on this one.
pub(crate) fn each_chunk(src: &dyn Chunked, phase: usize, f: &mut dyn FnMut(&[u8])) {
    if src.threads() > 1 {
        let one = [Item::Source(src as &dyn Deferred)];
        // `Plan` would stream a single-threaded source on this thread by its
        // `for_each_le_chunk`, which comes back here: only several threads go through the line.
        each(&one, &[phase], |feed| feed.next(f));
        return;
    }
    let len = src.len();
    let mut reader = src.reader();
    let mut buf = buffer(src.dtype());
    let e = lead_in(&buf, phase);
    let mut scratch = Vec::new();
    for c in 0..chunks_of(len) {
        let (k0, k1) = chunk_range(c, len);
        reader.fill(k0, buf.as_slice_mut().slice(e..e + k1 - k0));
        with_le_bytes(&buf, e..e + k1 - k0, &mut scratch, f);
    }
    drop(reader);
    give_back(buf);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{Cut, SliceMut};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    /// `len` float32 elements, element `k` being `k`, whose readers add the elements they move
    /// over to `moved` (as a generator twists over the words it skips).
    #[derive(Debug)]
    struct Counting {
        len: usize,
        moved: AtomicUsize,
    }

    struct CountingReader<'s> {
        src: &'s Counting,
        at: usize,
    }

    impl Deferred for Counting {
        fn dtype(&self) -> DType {
            DType::Float32
        }
        fn len(&self) -> usize {
            self.len
        }
        fn compute(&self) -> crate::error::Result<Storage> {
            Ok(Storage::F32((0..self.len).map(|k| k as f32).collect()))
        }
        fn for_each_le_chunk(&self, phase: usize, f: &mut dyn FnMut(&[u8])) {
            each_chunk(self, phase, f);
        }
        fn narrow(&self, _: Cut) -> Option<Arc<dyn Deferred>> {
            None
        }
        fn chunked(&self) -> Option<&dyn Chunked> {
            Some(self)
        }
    }

    impl Chunked for Counting {
        fn threads(&self) -> usize {
            2
        }
        fn reader(&self) -> Box<dyn ChunkReader<'_> + '_> {
            Box::new(CountingReader { src: self, at: 0 })
        }
    }

    impl<'s> ChunkReader<'s> for CountingReader<'s> {
        fn fill(&mut self, k0: usize, out: SliceMut<'_>) {
            self.skip_to(k0);
            assert_eq!(k0, self.at, "a reader moved back");
            let SliceMut::F32(out) = out else {
                unreachable!("float32 chunks")
            };
            for (j, o) in out.iter_mut().enumerate() {
                *o = (k0 + j) as f32;
            }
            self.at = k0 + out.len();
        }
        fn skip_to(&mut self, k0: usize) {
            if k0 > self.at {
                self.src.moved.fetch_add(k0 - self.at, Ordering::Relaxed);
                self.at = k0;
            }
        }
        fn fork(&self) -> Box<dyn ChunkReader<'s> + 's> {
            Box::new(CountingReader {
                src: self.src,
                at: self.at,
            })
        }
    }

    /// Chunk `g` of the line's one part, computed by the thread of `own`: its elements are right.
    fn chunk<'t>(own: &mut Readers<'t>, plan: &Plan<'t>, line: &Line<'t>, g: usize) {
        let mut buf = Storage::zeros(DType::Float32, STREAM_CHUNK + PHASE);
        own.compute(plan, line, g, &mut buf);
        let (k0, k1) = chunk_range(g, plan.parts[0].src.len());
        let e = lead_in(&buf, 0);
        let Storage::F32(v) = &buf else {
            unreachable!("a float32 buffer")
        };
        assert!(v[e..e + k1 - k0]
            .iter()
            .enumerate()
            .all(|(j, &x)| x == (k0 + j) as f32));
    }

    /// A thread's reader that stands ahead of the line's frontier (the thread computed chunk 0,
    /// nobody has begun chunk 1) moves on from where it stands to chunk 2, over one chunk rather
    /// than two; a thread with no reader starts from the frontier; a reader standing at its next
    /// chunk does not move.
    #[test]
    fn a_reader_ahead_of_the_frontier_moves_on_from_where_it_stands() {
        let src = Counting {
            len: 4 * STREAM_CHUNK + 5,
            moved: AtomicUsize::new(0),
        };
        let sources = [Some(&src as &dyn Deferred)];
        let plan = Plan::new(&sources, &[0]);
        assert_eq!(plan.total, 5);
        let line = Line::new(plan.total);
        let moved = || src.moved.load(Ordering::Relaxed) / STREAM_CHUNK;
        let front = || line.lock().front.as_ref().map(|(f, _)| *f);
        let mut a = Readers { at: None };
        chunk(&mut a, &plan, &line, 0);
        assert_eq!((moved(), front()), (0, Some(0)));
        chunk(&mut a, &plan, &line, 2);
        assert_eq!((moved(), front()), (1, Some(2)));
        let mut b = Readers { at: None };
        chunk(&mut b, &plan, &line, 4);
        assert_eq!((moved(), front()), (3, Some(4)));
        chunk(&mut a, &plan, &line, 3);
        assert_eq!(moved(), 3);
    }
}
