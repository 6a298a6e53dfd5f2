//! The seed search: probes (the first elements of a seed-decided tensor, generated for a
//! candidate seed without building the model), their validation against a real build, and the
//! scan over the seeds, in parallel blocks.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::compare::{closeness, element_bits, Closeness};
use super::fit::python;
use super::subject::Step;
use crate::context::Context;
use crate::dtype::DType;
use crate::engine::Mt19937Jump;
use crate::generator::CpuGenerator;
use crate::init::{InitCall, Sampling};
use crate::ops;
use crate::tensor::{Storage, Tensor};

/// The seed the reference builds are traced with (their probes are validated against it).
pub(crate) const TRACE_SEED: u64 = 0;
/// Seeds on which two builds' probes must agree to be evaluated once.
const TEST_SEEDS: [u64; 4] = [1, 2, 3, 4];
/// The most elements a probe generates.
const PROBE_ELEMENTS: usize = 64;
/// The most probes (on distinct tensors) a search uses, one per pass.
pub(crate) const MAX_PROBES: usize = 3;
/// Seeds per block of the parallel scan.
const BLOCK: u64 = 4096;

/// The seeds tried before the range, in this order: the ones papers, tutorials and defaults
/// use.
pub const COMMON_SEEDS: &[u64] = &[
    0,
    1,
    42,
    1234,
    3407,
    (1 << 32) - 1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    17,
    21,
    23,
    24,
    31,
    32,
    33,
    64,
    69,
    77,
    99,
    100,
    101,
    123,
    128,
    256,
    314,
    420,
    512,
    666,
    777,
    888,
    999,
    1000,
    1024,
    1111,
    1337,
    2019,
    2020,
    2021,
    2022,
    2023,
    2024,
    2025,
    2048,
    3141,
    4096,
    4321,
    7777,
    8888,
    9999,
    10000,
    12345,
    31337,
    54321,
    65535,
    65536,
    99999,
    100_000,
    123_456,
    271_828,
    314_159,
    1_234_567,
    12_345_678,
    123_456_789,
    1_000_000_007,
    (1 << 31) - 1,
    0xdead_beef,
    // `torch.Generator()`'s own seed (c10's default_rng_seed_val).
    67_280_421_310_721,
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Fill {
    Uniform(f64, f64),
    Normal(f64, f64),
}

/// A probe: the first `k` elements of a seed-decided entry, drawn by a uniform or normal fill
/// after `offset` words of the seed's stream.
#[derive(Clone, Debug)]
pub(crate) struct Probe {
    pub(crate) entry: usize,
    pub(crate) offset: u64,
    jump: Option<Mt19937Jump>,
    fill: Fill,
    dtype: DType,
    pub(crate) k: usize,
    /// The call, as Python writes it.
    pub(crate) call: String,
    /// Fewer than 64 bits of evidence when it matches exactly.
    weak: bool,
    /// After a step whose word count depends on the values (rejection sampling).
    uncertain: bool,
}

impl Probe {
    /// The probe's elements for the generator `seeded` (just after `manual_seed`).
    pub(crate) fn eval(&self, seeded: &CpuGenerator, cx: Context) -> Option<Storage> {
        let mut g = seeded.clone();
        if let Some(j) = &self.jump {
            g.jump(j);
        }
        let mut s = Storage::try_zeros("audit", self.dtype, self.k).ok()?;
        let r = match self.fill {
            Fill::Uniform(a, b) => ops::fill_uniform(&mut g, "uniform_", &mut s, a, b, cx),
            Fill::Normal(m, sd) => ops::fill_normal(&mut g, "normal_", &mut s, true, m, sd, cx),
        };
        r.ok().map(|()| s)
    }
}

/// How many first elements of a fill of `numel` elements a shorter fill reproduces: any prefix
/// of a uniform fill (one draw per element, in order); for the normal fill path (16 or more
/// elements), whole blocks of 16 that the recomputed tail of a size not a multiple of 16 does
/// not overwrite; a per-element normal tensor (under 16) or a short one whole.
fn prefix_len(fill: Fill, numel: usize) -> usize {
    match fill {
        Fill::Uniform(..) => numel.min(PROBE_ELEMENTS),
        Fill::Normal(..) => {
            if numel < 16 || (numel < 32 && !numel.is_multiple_of(16)) {
                numel
            } else if numel.is_multiple_of(16) {
                numel.min(PROBE_ELEMENTS)
            } else {
                ((numel - 16) / 16 * 16).min(PROBE_ELEMENTS)
            }
        }
    }
}

/// A probe for `call` on `step` at `offset`, if its sampling is a plain uniform or normal fill.
fn make(
    entry: usize,
    offset: u64,
    call: &InitCall,
    step: &Step,
    cx: Context,
    uncertain: bool,
) -> Option<Probe> {
    let plan = call.plan(&step.shape, step.dtype, cx).ok()?;
    let fill = match plan.sampling {
        Sampling::Uniform { from, to } => Fill::Uniform(from, to),
        Sampling::Normal { mean, std } => Fill::Normal(mean, std),
        _ => return None,
    };
    let numel: usize = step.shape.iter().product();
    if numel == 0 || !step.dtype.is_float() {
        return None;
    }
    let k = prefix_len(fill, numel);
    Some(Probe {
        entry,
        offset,
        jump: (offset > 0).then(|| Mt19937Jump::new(offset)),
        fill,
        dtype: step.dtype,
        k,
        call: python(call),
        weak: (k as u64) * element_bits(step.dtype) < 64,
        uncertain,
    })
}

/// The probes of one build: the steps that draw a uniform or normal fill into a seed-decided
/// entry (`usable`), validated against the build traced with [`TRACE_SEED`] (`state`): a probe
/// is kept only if it gives that entry's first elements bit for bit (so a later step that
/// overwrote them, a wrong offset or a view rules it out). Strong ones first, then by offset.
pub(crate) fn probes(
    steps: &[Step],
    state: &[(String, Tensor)],
    cx: Context,
    usable: &dyn Fn(usize) -> bool,
) -> Vec<Probe> {
    let seeded = CpuGenerator::with_seed(TRACE_SEED);
    let mut offset = Some(0u64);
    let mut uncertain = false;
    let mut out: Vec<Probe> = Vec::new();
    for s in steps {
        if s.resets {
            offset = None;
        }
        if let (Some(off), Some(e), Some(call)) = (offset, s.entry, &s.call) {
            if usable(e) && !out.iter().any(|p| p.entry == e) && out.len() < 2 * MAX_PROBES {
                if let Some(p) = make(e, off, call, s, cx, uncertain) {
                    let valid = match (p.eval(&seeded, cx), state.get(e)) {
                        (Some(got), Some((_, t))) => {
                            closeness(t.storage(), &got, p.k) == Closeness::Exact
                        }
                        _ => false,
                    };
                    if valid {
                        out.push(p);
                    }
                }
            }
        }
        if s.data_dependent(cx) {
            uncertain = true;
        }
        offset = match (offset, s.words) {
            (Some(o), Some(w)) => o.checked_add(w),
            _ => None,
        };
    }
    out.sort_by_key(|p| (p.uncertain, p.weak, p.offset));
    out.truncate(MAX_PROBES);
    out
}

/// Builds whose probes are evaluated once: the same probe, giving the same bits on
/// [`TEST_SEEDS`]. A member whose kernel differs on rare elements still matches the
/// representative's values as "near" or "related", and every member is then built in full.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub(crate) probe: Probe,
    pub(crate) cx: Context,
    pub(crate) members: Vec<usize>,
}

/// The groups of pass `pass`: each build's `pass`-th probe.
pub(crate) fn groups(combos: &[Context], probes: &[Vec<Probe>], pass: usize) -> Vec<Group> {
    let mut out: Vec<(Vec<Vec<u64>>, Group)> = Vec::new();
    for (i, (&cx, ps)) in combos.iter().zip(probes).enumerate() {
        let Some(p) = ps.get(pass) else {
            continue;
        };
        let sig: Vec<Vec<u64>> = TEST_SEEDS
            .iter()
            .map(|&s| {
                p.eval(&CpuGenerator::with_seed(s), cx)
                    .map(|st| (0..st.len()).map(|k| st.bits_at(k)).collect())
                    .unwrap_or_default()
            })
            .collect();
        let same = out.iter_mut().find(|(s, g)| {
            *s == sig
                && g.probe.entry == p.entry
                && g.probe.offset == p.offset
                && g.probe.k == p.k
                && g.probe.dtype == p.dtype
        });
        match same {
            Some((_, g)) => g.members.push(i),
            None => out.push((
                sig,
                Group {
                    probe: p.clone(),
                    cx,
                    members: vec![i],
                },
            )),
        }
    }
    out.into_iter().map(|(_, g)| g).collect()
}

/// The groups whose probe matches the file for `seed`, with how closely.
pub(crate) fn eval_seed(
    seed: u64,
    groups: &[Group],
    file: &[Option<Tensor>],
) -> Vec<(usize, Closeness)> {
    let base = CpuGenerator::with_seed(seed);
    groups
        .iter()
        .enumerate()
        .filter_map(|(gi, g)| {
            let f = file.get(g.probe.entry)?.as_ref()?;
            let got = g.probe.eval(&base, g.cx)?;
            let c = closeness(f.storage(), &got, g.probe.k);
            (c != Closeness::Unrelated).then_some((gi, c))
        })
        .collect()
}

/// The seeds searched: the common seeds, then an inclusive range (its seeds that are common
/// ones are skipped).
#[derive(Clone, Debug)]
pub(crate) struct Space {
    pub(crate) common: Vec<u64>,
    pub(crate) range: Option<(u64, u64)>,
}

impl Space {
    fn total(&self) -> u64 {
        let r = self.range.map_or(0, |(a, b)| (b - a).saturating_add(1));
        (self.common.len() as u64).saturating_add(r)
    }

    fn at(&self, pos: u64) -> Option<u64> {
        let c = self.common.len() as u64;
        if pos < c {
            return self.common.get(pos as usize).copied();
        }
        let (a, b) = self.range?;
        a.checked_add(pos - c).filter(|&s| s <= b)
    }

    /// Whether `pos` lies in the range part.
    pub(crate) fn in_range(&self, pos: u64) -> bool {
        pos >= self.common.len() as u64
    }
}

/// What a scan did.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Scanned {
    pub(crate) seeds: u64,
    pub(crate) seconds: f64,
    /// Whether the scan reached the range part.
    pub(crate) reached_range: bool,
}

/// A candidate seed: its position in the space, the seed, and what matched.
pub(crate) type Hit<T> = (u64, u64, T);

/// Scans `space` from position `from` on `threads` threads, evaluating each seed with `eval`
/// (an empty result rules it out), and returns the first seed (in the space's order) that
/// matches.
pub(crate) fn scan<T: Send>(
    space: &Space,
    from: u64,
    threads: usize,
    eval: &(dyn Fn(u64) -> Option<T> + Sync),
    done: &mut Scanned,
) -> Option<Hit<T>> {
    let start = Instant::now();
    let total = space.total();
    let common: HashSet<u64> = space.common.iter().copied().collect();
    let best = AtomicU64::new(u64::MAX);
    let next = AtomicU64::new(0);
    let tried = AtomicU64::new(0);
    let hits: Mutex<Vec<Hit<T>>> = Mutex::new(Vec::new());
    let work = || {
        let mut local = 0u64;
        loop {
            let b = next.fetch_add(1, Ordering::Relaxed);
            let Some(lo) = b.checked_mul(BLOCK).and_then(|x| x.checked_add(from)) else {
                break;
            };
            if lo >= total || lo > best.load(Ordering::Relaxed) {
                break;
            }
            let hi = lo.saturating_add(BLOCK).min(total);
            for pos in lo..hi {
                if pos > best.load(Ordering::Relaxed) {
                    break;
                }
                let Some(seed) = space.at(pos) else {
                    break;
                };
                if space.in_range(pos) && common.contains(&seed) {
                    continue;
                }
                local += 1;
                if let Some(t) = eval(seed) {
                    best.fetch_min(pos, Ordering::Relaxed);
                    if let Ok(mut h) = hits.lock() {
                        h.push((pos, seed, t));
                    }
                    break;
                }
            }
        }
        tried.fetch_add(local, Ordering::Relaxed);
    };
    let threads = threads.max(1);
    if threads == 1 || total.saturating_sub(from) <= BLOCK {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    done.seeds += tried.load(Ordering::Relaxed);
    done.seconds += start.elapsed().as_secs_f64();
    let hits = hits.into_inner().unwrap_or_default();
    let first = hits.into_iter().min_by_key(|h| h.0);
    let last_pos = first.as_ref().map_or(total, |h| h.0);
    done.reached_range |=
        last_pos > space.common.len() as u64 || (first.is_none() && space.range.is_some());
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Capability;
    use crate::torch::Torch;

    /// A probe's prefix equals the first elements of the whole fill, for every size around the
    /// normal path's 16-blocks and tail, both variants, every dtype.
    #[test]
    fn prefixes_are_the_whole_fills_first_elements() {
        for cap in [Capability::Default, Capability::Avx2] {
            for era in crate::context::Era::ALL {
                let cx = Context {
                    capability: cap,
                    era,
                    ..Context::default()
                };
                for dtype in [
                    DType::Float32,
                    DType::Float64,
                    DType::Float16,
                    DType::BFloat16,
                ] {
                    for numel in [
                        1usize, 5, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 80, 100, 1000,
                    ] {
                        for call in [
                            InitCall::Uniform { a: -0.3, b: 0.7 },
                            InitCall::Normal {
                                mean: 0.1,
                                std: 0.02,
                            },
                        ] {
                            let step = Step {
                                entry: Some(0),
                                call: Some(call.clone()),
                                shape: vec![numel],
                                dtype,
                                words: None,
                                resets: false,
                            };
                            let p = make(0, 0, &call, &step, cx, false).unwrap();
                            let mut torch = Torch::from_parts(cx, CpuGenerator::with_seed(9));
                            let mut t = Tensor::zeros(&[numel as i64], dtype).unwrap();
                            call.apply_(&mut torch, &mut t).unwrap();
                            let got = p.eval(&CpuGenerator::with_seed(9), cx).unwrap();
                            assert_eq!(
                                closeness(t.storage(), &got, p.k),
                                Closeness::Exact,
                                "{cx:?} {dtype} {numel} {call:?}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn scan_finds_the_first_matching_position() {
        let space = Space {
            common: vec![7, 42, 5],
            range: Some((0, 50_000)),
        };
        for threads in [1, 2, 4] {
            let mut done = Scanned::default();
            let hit = scan(
                &space,
                0,
                threads,
                &|s| (s % 9_999 == 9_998).then_some(s),
                &mut done,
            );
            assert_eq!(hit.map(|h| (h.1, h.2)), Some((9_998, 9_998)), "{threads}");
            let hit = scan(&space, 0, threads, &|s| (s == 5).then_some(()), &mut done);
            assert_eq!(hit.map(|h| h.0), Some(2));
            // Resuming after a rejected candidate finds the next one.
            let hit = scan(
                &space,
                3 + 9_999,
                threads,
                &|s| (s % 9_999 == 9_998).then_some(()),
                &mut done,
            );
            assert_eq!(hit.map(|h| h.1), Some(19_997));
            let mut fresh = Scanned::default();
            assert!(scan(&space, 0, threads, &|_| None::<()>, &mut fresh).is_none());
            // Every seed once; the range's 42, 7 and 5 are skipped.
            assert_eq!(fresh.seeds, 3 + 50_001 - 3);
        }
    }
}
