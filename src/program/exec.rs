//! Running a program's steps: storages, the cursor, generators and state slots.

use std::collections::BTreeMap;

use super::parse::{BinOp, Op, Other, Ref, Step};
use super::strided::{self, Geo, Operand, Val};
use crate::context::{Context, CudaDevice, Device, Era};
use crate::distributions::deferred::Deferrer;
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::{seed_from_i128, CpuGenerator, CudaGenerator};
use crate::init::buf::Buf;
use crate::init::{Deferral, InitCall};
use crate::math::special;
use crate::modules::Limits;
use crate::ops::View;
use crate::tensor::{checked_numel, Storage, Tensor};
use crate::torch::Rng;

/// One program tensor: its storage, the geometry it was created with, and whether an op that
/// torch-rng reproduces only within a bound (`erfinv_`, `orthogonal_`, legacy `trunc_normal_`)
/// wrote into it.
struct Slot {
    data: Tensor,
    geo: Geo,
    bounded: bool,
}

impl Slot {
    /// The storage (computing deferred elements now).
    fn data(&self) -> &Storage {
        self.data.storage()
    }

    /// The storage, to change it (deferred elements are computed first).
    fn data_mut(&mut self) -> &mut Storage {
        self.data.storage_mut()
    }

    /// Elements in the storage.
    fn len(&self) -> usize {
        self.data.numel()
    }

    /// The element type.
    fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// Replaces the storage.
    fn set(&mut self, s: Storage) {
        self.data = Tensor::from_storage(s);
    }
}

/// Whether `geo` is its whole storage, in order (then kernels run on the storage itself).
fn whole(geo: &Geo, len: usize) -> bool {
    geo.offset == 0 && geo.numel() == len && geo.is_contiguous()
}

/// Takes a tensor's storage out (leaving an empty one) to run a kernel on it.
fn take(s: &mut Storage) -> Storage {
    let dtype = s.dtype();
    std::mem::replace(s, Storage::zeros(dtype, 0))
}

/// What a step did, for an observer ([`Observer`]): the tensor it wrote (and the view it wrote
/// through), or none for a generator step, and the words it drew.
pub(crate) struct Report<'a> {
    /// The step.
    pub(crate) step: &'a Step,
    /// The tensor written or created, and the view.
    pub(crate) target: Option<(usize, &'a Geo)>,
    /// Its dtype.
    pub(crate) dtype: Option<DType>,
    /// 32-bit words the step drew from its generator (a CPU generator).
    pub(crate) words: Option<u64>,
    /// The Philox offset of its generator before and after the step (a CUDA generator).
    pub(crate) philox_offset: Option<(u64, u64)>,
}

/// A generator the program owns: a named `torch.Generator` or a saved state, of the program's
/// device.
#[derive(Clone, Debug)]
enum Owned {
    Cpu(Box<CpuGenerator>),
    Cuda(CudaGenerator),
}

impl Owned {
    /// `torch.Generator(device=...)` on the device of `cx`.
    fn fresh(cx: Context) -> Owned {
        match cx.device {
            Device::Cpu => Owned::Cpu(Box::new(CpuGenerator::new())),
            Device::Cuda(_) => Owned::Cuda(CudaGenerator::new()),
        }
    }

    fn of(rng: &Rng<'_>) -> Owned {
        match rng {
            Rng::Cpu(g) => Owned::Cpu(Box::new((**g).clone())),
            Rng::Cuda(g, _) => Owned::Cuda((**g).clone()),
        }
    }

    fn rng(&mut self, dev: Option<CudaDevice>) -> Rng<'_> {
        match (self, dev) {
            (Owned::Cuda(g), Some(d)) => Rng::Cuda(g, d),
            (Owned::Cpu(g), _) => Rng::Cpu(g),
            (Owned::Cuda(_), None) => unreachable!("a CUDA generator only in a CUDA program"),
        }
    }

    fn manual_seed(&mut self, seed: u64) {
        match self {
            Owned::Cpu(g) => g.manual_seed(seed),
            Owned::Cuda(g) => g.manual_seed(seed),
        }
    }

    /// Words (CPU) or Philox offsets (CUDA) from `self` to `now`.
    fn since(&self, now: &Owned) -> (Option<u64>, Option<(u64, u64)>) {
        match (self, now) {
            (Owned::Cpu(b), Owned::Cpu(a)) => (a.words_since(b), None),
            (Owned::Cuda(b), Owned::Cuda(a)) => (None, Some((b.get_offset(), a.get_offset()))),
            _ => (None, None),
        }
    }
}

/// Something that watches a replay step by step (`explain`).
pub(crate) trait Observer {
    /// Called after each step (the steps of a `repeat` one by one).
    fn step(&mut self, report: &Report<'_>, cx: Context);
}

/// The replay machine.
pub(crate) struct Machine<'g> {
    tensors: Vec<Slot>,
    cursor: i64,
    /// The default generator of the program's device.
    default: Rng<'g>,
    /// On a CUDA device, the default CPU generator: `torch.manual_seed` seeds it too, and
    /// `sparse_` draws its permutations from it.
    cpu: Option<&'g mut CpuGenerator>,
    gens: BTreeMap<String, Owned>,
    saved: BTreeMap<usize, Owned>,
    target: Context,
    observer: Option<&'g mut dyn Observer>,
    /// The tensor the last step wrote or created, and its view.
    last: Option<(usize, Geo)>,
    /// What the program may allocate ([`Limits::default`]: tensors and bytes created).
    limits: Limits,
    /// Bytes of the tensors created so far.
    bytes: u128,
    /// Draws of the default CPU generator deferred (no observer), as a model build defers them
    /// (`modules::Builder`).
    defer: Option<Deferrer>,
}

fn fail(step: &Step, reason: impl Into<String>) -> Error {
    Error::CaseFile {
        location: format!("program {}", step.path),
        reason: reason.into(),
    }
}

/// An error from a kernel (PyTorch would have raised), located at the step.
fn at(step: &Step, e: Error) -> Error {
    match e {
        Error::CaseFile { .. } => e,
        other => fail(step, other.to_string()),
    }
}

impl<'g> Machine<'g> {
    /// A machine drawing from `default` (the default generator of `target`'s device) and, on a
    /// CUDA device, `cpu` (the default CPU generator).
    pub(crate) fn new(
        default: Rng<'g>,
        cpu: Option<&'g mut CpuGenerator>,
        target: Context,
    ) -> Machine<'g> {
        Machine {
            tensors: Vec::new(),
            cursor: -1,
            default,
            cpu,
            gens: BTreeMap::new(),
            saved: BTreeMap::new(),
            target,
            observer: None,
            last: None,
            limits: Limits::default(),
            bytes: 0,
            defer: (!target.is_cuda()).then(Deferrer::default),
        }
    }

    /// Moves the default generator past the deferred draws.
    fn settle(&mut self) {
        if let (Some(d), Rng::Cpu(g)) = (self.defer.as_mut(), &mut self.default) {
            d.settle(g);
        }
    }

    /// Runs `step` deferred when it can be: an init call, `uniform_` or `normal_` on the whole of
    /// a tensor from the default generator whose words are known before drawing. `false` when it
    /// must run now (nothing is changed then).
    fn try_defer(&mut self, step: &Step) -> Result<bool> {
        if self.defer.is_none() {
            return Ok(false);
        }
        let default = |gen: &Option<String>| gen.as_deref().is_none_or(|g| g == "default");
        // `tensor.uniform_(a, b)` and `tensor.normal_(m, s)` on a whole tensor are the init
        // calls of the same names, with the same checks.
        let (t, call) = match &step.op {
            Op::Init { t, call, gen } if default(gen) => (t, call.clone()),
            Op::Uniform { t, from, to, gen } if default(gen) => {
                (t, InitCall::Uniform { a: *from, b: *to })
            }
            Op::Normal { t, mean, std, gen } if default(gen) => (
                t,
                InitCall::Normal {
                    mean: *mean,
                    std: *std,
                },
            ),
            _ => return Ok(false),
        };
        let idx = self.cursor + t.delta;
        let Some(slot) = usize::try_from(idx).ok().and_then(|i| self.tensors.get(i)) else {
            return Ok(false);
        };
        let geo = t.view.clone().unwrap_or_else(|| slot.geo.clone());
        if !whole(&geo, slot.len()) {
            return Ok(false);
        }
        let target = self.target;
        let deferral = call
            .deferral(&geo.size, slot.dtype(), target)
            .map_err(|e| at(step, e))?;
        let Some(deferral) = deferral else {
            return Ok(false);
        };
        let (i, _) = self.write_target(t, step)?;
        match deferral {
            Deferral::Nothing => {}
            Deferral::Fill(v) => self.tensors[i].data.defer_fill(v),
            Deferral::Draw(fill) => {
                let threads = target.thread_count();
                if let (Some(d), Rng::Cpu(g)) = (self.defer.as_mut(), &self.default) {
                    self.tensors[i].data.set_deferred(d.defer(g, fill, threads));
                }
            }
        }
        self.tensors[i].bounded |= call.is_bounded(target);
        Ok(true)
    }

    /// The machine under `limits` instead of [`Limits::default`].
    pub(crate) fn limited(mut self, limits: Limits) -> Machine<'g> {
        self.limits = limits;
        self
    }

    /// The machine reporting every step to `observer` (drawing everything as it goes, so that
    /// each step's words can be counted).
    pub(crate) fn observed(mut self, observer: &'g mut dyn Observer) -> Machine<'g> {
        self.observer = Some(observer);
        self.settle();
        self.defer = None;
        self
    }

    pub(crate) fn run(&mut self, steps: &[Step]) -> Result<()> {
        for s in steps {
            if self.observer.is_some() && !matches!(s.op, Op::Repeat { .. }) {
                self.observe(s)?;
            } else {
                self.step(s)?;
            }
        }
        Ok(())
    }

    /// Runs one step and reports it, with the words it drew from the generator it names.
    fn observe(&mut self, s: &Step) -> Result<()> {
        let gen = match &s.op {
            Op::Randperm { gen, .. }
            | Op::Init { gen, .. }
            | Op::Uniform { gen, .. }
            | Op::Normal { gen, .. }
            | Op::Random { gen, .. }
            | Op::Bernoulli { gen, .. }
            | Op::Exponential { gen, .. } => gen.clone(),
            _ => None,
        };
        let before = self.gen(gen.as_deref(), s).ok().map(|g| Owned::of(&g));
        self.last = None;
        self.step(s)?;
        let after = self.gen(gen.as_deref(), s).ok().map(|g| Owned::of(&g));
        let (words, philox_offset) = match (&before, &after) {
            (Some(b), Some(a)) => b.since(a),
            _ => (None, None),
        };
        let last = self.last.take();
        let target = last.as_ref().map(|(i, g)| (*i, g));
        let dtype = last.as_ref().map(|(i, _)| self.tensors[*i].dtype());
        let cx = self.target;
        if let Some(o) = self.observer.as_deref_mut() {
            o.step(
                &Report {
                    step: s,
                    target,
                    dtype,
                    words,
                    philox_offset,
                },
                cx,
            );
        }
        Ok(())
    }

    /// The tensor `index` seen through `view` (its own geometry when `None`), checked.
    pub(crate) fn output(&self, index: usize, view: Option<&Geo>) -> Result<(Tensor, bool)> {
        let slot = self.tensors.get(index).ok_or_else(|| Error::CaseFile {
            location: "program state_dict".into(),
            reason: format!(
                "tensor {index} does not exist ({} were created)",
                self.tensors.len()
            ),
        })?;
        let geo = view.unwrap_or(&slot.geo);
        if geo.extent().is_none_or(|e| e > slot.len()) {
            return Err(Error::CaseFile {
                location: "program state_dict".into(),
                reason: format!("the view of tensor {index} lies outside its storage"),
            });
        }
        if whole(geo, slot.len()) {
            return Ok((slot.data.clone().reshaped(geo.size.clone())?, slot.bounded));
        }
        let data = strided::gather(slot.data(), &geo.logical_offsets());
        Ok((Tensor::new(geo.size.clone(), data)?, slot.bounded))
    }

    /// The `state_dict` entries `sd` (name, tensor index, view) read from the machine: each
    /// entry's tensor and whether it is bounded; an error names the entry.
    pub(crate) fn entries(
        &self,
        sd: &[(String, usize, Option<Geo>)],
    ) -> Result<Vec<(String, Tensor, bool)>> {
        sd.iter()
            .map(|(name, idx, view)| {
                let (t, bounded) = self.output(*idx, view.as_ref()).map_err(|e| match e {
                    Error::CaseFile { reason, .. } => Error::CaseFile {
                        location: format!("program state_dict entry '{name}'"),
                        reason,
                    },
                    other => other,
                })?;
                Ok((name.clone(), t, bounded))
            })
            .collect()
    }

    /// The CUDA device of the program, if it runs on one.
    fn cuda_device(&self) -> Option<CudaDevice> {
        match self.target.device {
            Device::Cpu => None,
            Device::Cuda(d) => Some(d),
        }
    }

    fn gen(&mut self, name: Option<&str>, step: &Step) -> Result<Rng<'_>> {
        let dev = self.cuda_device();
        match name {
            None | Some("default") => Ok(self.default.reborrow()),
            Some(n) => self.gens.get_mut(n).map(|g| g.rng(dev)).ok_or_else(|| {
                fail(
                    step,
                    format!("generator '{n}' is used before its manual_seed"),
                )
            }),
        }
    }

    /// Resolves a reference: moves the cursor and returns the tensor index and its view.
    fn resolve(&mut self, r: &Ref, step: &Step) -> Result<(usize, Geo)> {
        let idx = self.cursor + r.delta;
        if idx < 0 || idx as usize >= self.tensors.len() {
            return Err(fail(
                step,
                format!(
                    "reference {} from the cursor at {} names no tensor",
                    r.delta, self.cursor
                ),
            ));
        }
        self.cursor = idx;
        let slot = &self.tensors[idx as usize];
        let geo = r.view.clone().unwrap_or_else(|| slot.geo.clone());
        if geo.extent().is_none_or(|e| e > slot.len()) {
            return Err(fail(
                step,
                format!("the view {geo:?} lies outside tensor {idx}"),
            ));
        }
        Ok((idx as usize, geo))
    }

    fn write_target(&mut self, r: &Ref, step: &Step) -> Result<(usize, Geo)> {
        let (i, g) = self.resolve(r, step)?;
        if g.overlaps() {
            return Err(fail(
                step,
                "unsupported operation: some elements of the written tensor refer to a single memory location",
            ));
        }
        self.last = Some((i, g.clone()));
        Ok((i, g))
    }

    fn create(
        &mut self,
        step: &Step,
        size: &[usize],
        stride: Option<&[usize]>,
        dtype: DType,
    ) -> Result<usize> {
        let geo = match stride {
            None => Geo::contiguous(size.to_vec()),
            Some(s) => Geo {
                offset: 0,
                size: size.to_vec(),
                stride: s.to_vec(),
            },
        };
        let n = geo
            .extent()
            .ok_or_else(|| fail(step, "the tensor's size overflows"))?;
        checked_numel("empty", &[n as i64], dtype).map_err(|e| at(step, e))?;
        let bytes = self.bytes + n as u128 * dtype.size() as u128;
        let refuse = |what: String, limit: &'static str, max: u64| Error::LimitExceeded {
            place: format!("program {}", step.path),
            what,
            limit,
            max,
        };
        if self.tensors.len() as u64 >= self.limits.max_parameters {
            return Err(refuse(
                format!(
                    "the program would create {} tensors",
                    self.tensors.len() + 1
                ),
                "--max-parameters",
                self.limits.max_parameters,
            ));
        }
        if bytes > u128::from(self.limits.max_bytes) {
            return Err(refuse(
                format!("the program's tensors would take {bytes} bytes"),
                "--max-bytes",
                self.limits.max_bytes,
            ));
        }
        self.bytes = bytes;
        self.last = Some((self.tensors.len(), geo.clone()));
        let data = if self.defer.is_some() {
            Tensor::deferred_zeros("empty", &[n as i64], dtype)
        } else {
            Storage::try_zeros("empty", dtype, n).map(Tensor::from_storage)
        };
        self.tensors.push(Slot {
            data: data.map_err(|e| at(step, e))?,
            geo,
            bounded: false,
        });
        self.cursor = self.tensors.len() as i64 - 1;
        Ok(self.tensors.len() - 1)
    }

    #[allow(clippy::too_many_lines)] // one arm per op
    fn step(&mut self, step: &Step) -> Result<()> {
        let target = self.target;
        if self.try_defer(step)? {
            return Ok(());
        }
        if !matches!(
            step.op,
            Op::Repeat { .. }
                | Op::Empty { .. }
                | Op::Literal { .. }
                | Op::Fill { .. }
                | Op::Write { .. }
                | Op::Copy { .. }
                | Op::Binary { .. }
                | Op::Clamp { .. }
                | Op::Erfinv { .. }
        ) {
            // A step that draws, seeds or saves a generator: the default one first stands
            // where the deferred draws leave it.
            self.settle();
        }
        match &step.op {
            Op::Repeat { n, steps } => {
                for _ in 0..*n {
                    self.run(steps)?;
                }
            }
            Op::Empty {
                size,
                stride,
                dtype,
                fill,
            } => {
                let i = self.create(step, size, stride.as_deref(), *dtype)?;
                if let Some(v) = fill {
                    let value = fill_value(*dtype, *v).map_err(|r| fail(step, r))?;
                    let geo = self.tensors[i].geo.clone();
                    for o in geo.logical_offsets() {
                        strided::set(self.tensors[i].data_mut(), o, value);
                    }
                }
            }
            Op::Literal {
                size,
                stride,
                dtype,
                data,
            } => {
                let i = self.create(step, size, stride.as_deref(), *dtype)?;
                let geo = self.tensors[i].geo.clone();
                self.write_values(step, i, &geo, data)?;
            }
            Op::Randperm { n, dtype, gen } => {
                let mut g = self.gen(gen.as_deref(), step)?;
                let t = g.randperm(*n, *dtype, target).map_err(|e| at(step, e))?;
                let i = self.create(step, &[*n as usize], None, *dtype)?;
                self.tensors[i].set(t.into_storage());
            }
            Op::Init { t, call, gen } => {
                let (i, geo) = self.write_target(t, step)?;
                let in_place = whole(&geo, self.tensors[i].len());
                let offsets = if in_place {
                    Vec::new()
                } else {
                    geo.iteration_offsets()
                };
                let mut tmp = if in_place {
                    take(self.tensors[i].data_mut())
                } else {
                    strided::gather(self.tensors[i].data(), &offsets)
                };
                let mut buf = Buf {
                    data: &mut tmp,
                    shape: geo.size.clone(),
                    strides: if in_place {
                        geo.stride.clone()
                    } else {
                        geo.iteration_strides()
                    },
                    contiguous: geo.is_contiguous(),
                };
                let dev = self.cuda_device();
                let Machine {
                    default, cpu, gens, ..
                } = self;
                match gen.as_deref() {
                    None | Some("default") => call.run(
                        &mut default.reborrow(),
                        cpu.as_deref_mut(),
                        &mut buf,
                        target,
                    ),
                    Some(n) => {
                        let g = gens.get_mut(n).ok_or_else(|| {
                            fail(
                                step,
                                format!("generator '{n}' is used before its manual_seed"),
                            )
                        })?;
                        // sparse_'s permutations: the default CPU generator.
                        let default_cpu: &mut CpuGenerator = match (default, cpu) {
                            (_, Some(c)) => c,
                            (Rng::Cpu(d), None) => d,
                            (Rng::Cuda(..), None) => {
                                unreachable!("a CUDA machine holds the CPU generator")
                            }
                        };
                        call.run(&mut g.rng(dev), Some(default_cpu), &mut buf, target)
                    }
                }
                .map_err(|e| at(step, e))?;
                if in_place {
                    self.tensors[i].set(tmp);
                } else {
                    strided::scatter(self.tensors[i].data_mut(), &offsets, &tmp);
                }
                self.tensors[i].bounded |= call.is_bounded(target);
            }
            Op::Uniform { t, from, to, gen } => {
                self.sample(step, t, gen.as_deref(), |g, s, _| {
                    g.fill_uniform("uniform_", s, *from, *to, target)
                })?;
            }
            Op::Normal { t, mean, std, gen } => {
                self.sample(step, t, gen.as_deref(), |g, s, contiguous| {
                    g.fill_normal("normal_", s, contiguous, *mean, *std, target)
                })?;
                // On a CUDA device the normal kernels go through the GPU's hardware sine and
                // cosine (modelled, README): reproduced within a bound.
                let i = self.cursor as usize;
                self.tensors[i].bounded |= target.is_cuda();
            }
            Op::Random { t, bounds, gen } => {
                self.sample(step, t, gen.as_deref(), |g, s, _| {
                    let view = View::contiguous(&[s.len() as i64], s.dtype());
                    let out = g.random_(&view, *bounds, target)?;
                    *s = out.into_storage();
                    Ok(())
                })?;
            }
            Op::Bernoulli { t, p, gen } => {
                self.sample(step, t, gen.as_deref(), |g, s, _| {
                    let view = View::contiguous(&[s.len() as i64], s.dtype());
                    *s = g.bernoulli_scalar_(&view, *p, target)?.into_storage();
                    Ok(())
                })?;
            }
            Op::Exponential { t, lambd, gen } => {
                self.sample(step, t, gen.as_deref(), |g, s, _| {
                    let view = View::contiguous(&[s.len() as i64], s.dtype());
                    *s = g.exponential_(&view, *lambd, target)?.into_storage();
                    Ok(())
                })?;
                // Before 2.7 the CPU kernel is MKL's, reproduced within a bound; the CUDA kernel
                // takes the GPU's hardware logarithm (modelled).
                let i = self.cursor as usize;
                self.tensors[i].bounded |= target.era < Era::R2 || target.is_cuda();
            }
            Op::Fill { t, value } => {
                let (i, geo) = self.write_target(t, step)?;
                let v = fill_value(self.tensors[i].dtype(), *value).map_err(|r| fail(step, r))?;
                for o in geo.logical_offsets() {
                    strided::set(self.tensors[i].data_mut(), o, v);
                }
            }
            Op::Write { t, data } => {
                let (i, geo) = self.write_target(t, step)?;
                self.write_values(step, i, &geo, data)?;
            }
            Op::Copy { t, src } => {
                let (i, geo) = self.write_target(t, step)?;
                let (j, sgeo) = self.resolve(src, step)?;
                let sgeo = sgeo.broadcast_to(&geo.size).ok_or_else(|| {
                    fail(
                        step,
                        format!(
                            "copy_: a source of shape {:?} does not broadcast to {:?}",
                            sgeo.size, geo.size
                        ),
                    )
                })?;
                let vals: Vec<Val> = sgeo
                    .logical_offsets()
                    .into_iter()
                    .map(|o| strided::get(self.tensors[j].data(), o))
                    .collect();
                let bounded = self.tensors[j].bounded;
                let slot = &mut self.tensors[i];
                for (o, v) in geo.logical_offsets().into_iter().zip(vals) {
                    strided::set(slot.data_mut(), o, v);
                }
                slot.bounded |= bounded;
            }
            Op::Binary {
                op,
                t,
                other,
                alpha,
            } => self.binary(step, *op, t, other, *alpha)?,
            Op::Clamp { t, min, max } => {
                let (i, geo) = self.write_target(t, step)?;
                let dtype = self.tensors[i].dtype();
                if !dtype.is_float() {
                    return Err(fail(step, format!("clamp_ on {dtype} is not supported")));
                }
                let lo = min.map(|v| strided::round_to(dtype, v).as_f64());
                let hi = max.map(|v| strided::round_to(dtype, v).as_f64());
                let slot = &mut self.tensors[i];
                for o in geo.logical_offsets() {
                    let x = strided::get(slot.data(), o).as_f64();
                    if x.is_nan() {
                        continue;
                    }
                    let mut y = x;
                    if let Some(lo) = lo {
                        if y < lo || lo.is_nan() {
                            y = lo;
                        }
                    }
                    if let Some(hi) = hi {
                        if y > hi || hi.is_nan() {
                            y = hi;
                        }
                    }
                    strided::set(slot.data_mut(), o, Val::F(y));
                }
            }
            Op::Erfinv { t } => {
                let (i, geo) = self.write_target(t, step)?;
                let slot = &mut self.tensors[i];
                let dtype = slot.dtype();
                if !dtype.is_float() {
                    return Err(fail(step, format!("erfinv_ on {dtype} is not supported")));
                }
                for o in geo.logical_offsets() {
                    let x = strided::get(slot.data(), o).as_f64();
                    // float16/bfloat16 compute in float; float32 rounds the double result once.
                    let y = if dtype == DType::Float64 {
                        special::erfinv(x)
                    } else {
                        f64::from(special::erfinv(x) as f32)
                    };
                    strided::set(slot.data_mut(), o, Val::F(y));
                }
                slot.bounded = true;
            }
            Op::ManualSeed { gen, seed } => {
                let s = seed_from_i128(*seed).map_err(|e| at(step, e))?;
                if gen == "default" {
                    // torch.manual_seed: the CPU generator and every device's.
                    match &mut self.default {
                        Rng::Cpu(g) => g.manual_seed(s),
                        Rng::Cuda(g, _) => g.manual_seed(s),
                    }
                    if let Some(c) = self.cpu.as_deref_mut() {
                        c.manual_seed(s);
                    }
                } else {
                    self.gens
                        .entry(gen.clone())
                        .or_insert_with(|| Owned::fresh(target))
                        .manual_seed(s);
                }
            }
            Op::SaveState { gen, slot } => {
                let g = Owned::of(&self.gen(Some(gen), step)?);
                self.saved.insert(*slot, g);
            }
            Op::SetState { gen, slot } => {
                let saved = self
                    .saved
                    .get(slot)
                    .cloned()
                    .ok_or_else(|| fail(step, format!("state slot {slot} was never saved")))?;
                if gen == "default" {
                    match (&mut self.default, saved) {
                        (Rng::Cpu(g), Owned::Cpu(s)) => **g = *s,
                        (Rng::Cuda(g, _), Owned::Cuda(s)) => **g = s,
                        _ => unreachable!("a program's generators share its device"),
                    }
                } else {
                    self.gens.insert(gen.clone(), saved);
                }
            }
        }
        Ok(())
    }

    /// Runs a sampler on a view: its elements are gathered in the order PyTorch's kernel visits
    /// them, filled, and scattered back. `fill` also learns whether the view is contiguous
    /// (`normal_`'s fill path needs it).
    fn sample(
        &mut self,
        step: &Step,
        t: &Ref,
        gen: Option<&str>,
        fill: impl FnOnce(&mut Rng<'_>, &mut Storage, bool) -> Result<()>,
    ) -> Result<()> {
        let (i, geo) = self.write_target(t, step)?;
        if whole(&geo, self.tensors[i].len()) {
            let mut data = take(self.tensors[i].data_mut());
            let mut g = self.gen(gen, step)?;
            let r = fill(&mut g, &mut data, true);
            self.tensors[i].set(data);
            r.map_err(|e| at(step, e))?;
            self.cursor = i as i64;
            return Ok(());
        }
        let offsets = geo.iteration_offsets();
        let mut tmp = strided::gather(self.tensors[i].data(), &offsets);
        let mut g = self.gen(gen, step)?;
        fill(&mut g, &mut tmp, geo.is_contiguous()).map_err(|e| at(step, e))?;
        strided::scatter(self.tensors[i].data_mut(), &offsets, &tmp);
        self.cursor = i as i64;
        Ok(())
    }

    fn write_values(&mut self, step: &Step, i: usize, geo: &Geo, data: &[Val]) -> Result<()> {
        if data.len() != geo.numel() {
            return Err(fail(
                step,
                format!("{} values for {} elements", data.len(), geo.numel()),
            ));
        }
        let slot = &mut self.tensors[i];
        for (o, v) in geo.logical_offsets().into_iter().zip(data) {
            strided::set(slot.data_mut(), o, *v);
        }
        Ok(())
    }

    fn binary(&mut self, step: &Step, op: BinOp, t: &Ref, other: &Other, alpha: Val) -> Result<()> {
        let (i, geo) = self.write_target(t, step)?;
        let out = self.tensors[i].dtype();
        let (b_vals, b_operand, b_scalar, b_bounded): (Vec<Val>, Operand, bool, bool) = match other
        {
            Other::Number(v) => (vec![*v; geo.numel()], Operand::Number(*v), true, false),
            Other::Tensor(r) => {
                let (j, bgeo) = self.resolve(r, step)?;
                let dtype = self.tensors[j].dtype();
                let scalar = bgeo.numel() == 1;
                let operand = Operand::Tensor(dtype, !bgeo.size.is_empty());
                let bgeo = bgeo.broadcast_to(&geo.size).ok_or_else(|| {
                    fail(
                        step,
                        format!(
                            "{}: shape {:?} does not broadcast to {:?}",
                            op.name(),
                            bgeo.size,
                            geo.size
                        ),
                    )
                })?;
                let vals = bgeo
                    .logical_offsets()
                    .into_iter()
                    .map(|o| strided::get(self.tensors[j].data(), o))
                    .collect();
                (vals, operand, scalar, self.tensors[j].bounded)
            }
        };
        let common = strided::result_type(&[Operand::Tensor(out, !geo.size.is_empty()), b_operand])
            .map_err(|e| at(step, e))?;
        if !common.is_float() && op == BinOp::Div {
            return Err(fail(
                step,
                format!(
                    "div_: result type Float can't be cast to the desired output type {}",
                    out.cpp_name()
                ),
            ));
        }
        if !strided::can_cast(common, out) {
            return Err(fail(
                step,
                format!(
                    "{}: result type {} can't be cast to the desired output type {}",
                    op.name(),
                    common.cpp_name(),
                    out.cpp_name()
                ),
            ));
        }
        if common == DType::Bool || (op == BinOp::Div && !common.is_float()) {
            return Err(fail(
                step,
                format!("{} on {common} is not supported", op.name()),
            ));
        }
        let alpha = match alpha {
            Val::I(1) => None,
            a => Some(a),
        };
        let era = self.target.era;
        let slot = &mut self.tensors[i];
        for (o, b) in geo.logical_offsets().into_iter().zip(b_vals) {
            let a = strided::round_to(common, strided::get(slot.data(), o));
            let r = arith(op, common, a, b, alpha, b_scalar, era);
            strided::set(slot.data_mut(), o, r);
        }
        slot.bounded |= b_bounded;
        Ok(())
    }
}

/// One element of `a op b` in the common dtype, as PyTorch's CPU kernels compute it: float16 and
/// bfloat16 in float (opmath), each result rounded once to the dtype. On those dtypes a scalar
/// `other` of `mul_`/`div_` stays in float (`original_scalar_value<opmath_t>`), while `add_`/`sub_`
/// round it to the dtype first; 2.0 rounds it for all four.
fn arith(
    op: BinOp,
    common: DType,
    a: Val,
    b: Val,
    alpha: Option<Val>,
    b_scalar: bool,
    era: Era,
) -> Val {
    match common {
        DType::Float64 => {
            let (x, mut y) = (a.as_f64(), strided::round_to(common, b).as_f64());
            if let Some(al) = alpha {
                y *= al.as_f64();
            }
            Val::F(apply_f64(op, x, y))
        }
        DType::Float32 | DType::Float16 | DType::BFloat16 => {
            let x = a.as_f64() as f32;
            let keep_float = common != DType::Float32
                && b_scalar
                && matches!(op, BinOp::Mul | BinOp::Div)
                && era != Era::L0;
            let y = if keep_float {
                b.as_f64() as f32
            } else {
                strided::round_to(common, b).as_f64() as f32
            };
            let y = match alpha {
                // a power of two: the product is exact, fused or not
                Some(al) => y * (al.as_f64() as f32),
                None => y,
            };
            let r = match op {
                BinOp::Mul => x * y,
                BinOp::Div => x / y,
                BinOp::Add => x + y,
                BinOp::Sub => x - y,
            };
            Val::F(f64::from(r))
        }
        _ => {
            let (Val::I(x), y) = (a, strided::round_to(common, b)) else {
                return a;
            };
            let y = match y {
                Val::I(v) => v,
                Val::B(v) => i128::from(v),
                Val::F(v) => v as i128,
            };
            let y = match alpha {
                Some(Val::I(al)) => y.wrapping_mul(al),
                _ => y,
            };
            let (x, y) = (x as i64, y as i64);
            Val::I(i128::from(match op {
                BinOp::Mul => x.wrapping_mul(y),
                BinOp::Add => x.wrapping_add(y),
                BinOp::Sub => x.wrapping_sub(y),
                BinOp::Div => x,
            }))
        }
    }
}

fn apply_f64(op: BinOp, x: f64, y: f64) -> f64 {
    match op {
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
    }
}

/// `fill_(value)`'s conversion: c10's `checked_convert` (a value outside the dtype's range is
/// refused, as PyTorch raises).
fn fill_value(dtype: DType, v: Val) -> std::result::Result<Val, String> {
    let overflow = || {
        format!(
            "value cannot be converted to type {} without overflow",
            dtype.cpp_name()
        )
    };
    match (dtype, v) {
        (DType::Bool, _) => Ok(v),
        (d, Val::F(x)) if d.is_float() => {
            let max = d.float_max().unwrap_or(f64::MAX);
            if x.is_finite() && x.abs() > max && d != DType::Float64 {
                // c10 accepts values that round to the largest finite value
                let r = strided::round_to(d, v).as_f64();
                if r.is_infinite() {
                    return Err(overflow());
                }
            }
            Ok(v)
        }
        (d, Val::F(x)) => {
            if !x.is_finite() {
                return Err(overflow());
            }
            let t = x.trunc() as i128;
            int_in_range(d, t).then_some(Val::I(t)).ok_or_else(overflow)
        }
        (d, Val::I(n)) if !d.is_float() => int_in_range(d, n).then_some(v).ok_or_else(overflow),
        _ => Ok(v),
    }
}

fn int_in_range(d: DType, n: i128) -> bool {
    let (lo, hi): (i128, i128) = match d {
        DType::Int64 => (i64::MIN.into(), i64::MAX.into()),
        DType::Int32 => (i32::MIN.into(), i32::MAX.into()),
        DType::Int16 => (i16::MIN.into(), i16::MAX.into()),
        DType::Int8 => (i8::MIN.into(), i8::MAX.into()),
        DType::UInt8 => (0, u8::MAX.into()),
        DType::UInt16 => (0, u16::MAX.into()),
        DType::UInt32 => (0, u32::MAX.into()),
        _ => (0, u64::MAX.into()),
    };
    (lo..=hi).contains(&n)
}

impl Drop for Machine<'_> {
    /// Leaves the default generator where drawing every deferred fill would have left it.
    fn drop(&mut self) {
        self.settle();
    }
}
