//! `torch-rng init`: the starting weights of a model description or a recorded program, written
//! to a safetensors or npz file; `--verify` replays a program's recording seed against its
//! stored SHA-256s.

use torch_rng::checkpoint::{ensure_distinct, AtomicFile, NpzWriter, SafetensorsWriter};
use torch_rng::nn::{
    Builder, Limits, ModelDesc, NoRecorder, Program, MODEL_FORMAT, PROGRAM_FORMAT,
};
use torch_rng::{
    Capability, Context, DType, DeviceProfile, DeviceSpec, Era, Tensor, Torch, LATEST_RELEASE,
};

use super::{note, print, read};

const USAGE: &str = "usage: torch-rng init MODEL.json --seed N [--variant default|avx2|avx512] \
     [--torch-version X.Y.Z] [--device cpu|cuda] [--gpu PRESET|SMS,THREADS] \
     -o OUT.safetensors|OUT.npz [--max-modules N] [--max-parameters N] [--max-bytes N] \
     [--max-depth N] [--threads N] [--tensors PATTERN,...] [--shard I/N [--shard-dim D]] [--sync]\n       torch-rng init PROGRAM.json --verify [--seed N -o OUT ...]";

/// `--device cpu|cuda` and `--gpu PRESET|SMS,THREADS` as given on a command line.
#[derive(Default)]
pub(crate) struct DeviceFlags {
    device: Option<String>,
    gpu: Option<String>,
}

impl DeviceFlags {
    /// Takes `--device`/`--gpu` (or `device`/`gpu` without the dashes); `false` for any other
    /// flag.
    pub(crate) fn take(&mut self, flag: &str, value: &str) -> bool {
        match flag.trim_start_matches('-') {
            "device" => self.device = Some(value.to_string()),
            "gpu" => self.gpu = Some(value.to_string()),
            _ => return false,
        }
        true
    }

    /// Whether either flag was given.
    pub(crate) fn given(&self) -> bool {
        self.device.is_some() || self.gpu.is_some()
    }

    /// The device to build on: the flags over `file`'s (a description's or program's own
    /// `device`). `--gpu` alone keeps a CUDA file on CUDA with that GPU; it needs CUDA.
    pub(crate) fn resolve(&self, file: DeviceSpec) -> Result<DeviceSpec, String> {
        let gpu = self
            .gpu
            .as_deref()
            .map(|g| DeviceProfile::parse(g).map_err(|e| format!("--gpu {g}: {e}")))
            .transpose()?;
        let cuda = match self.device.as_deref() {
            None => matches!(file, DeviceSpec::Cuda(_)),
            Some("cuda") => true,
            Some("cpu") => false,
            Some(other) => {
                return Err(format!(
                    "--device {other}: expected cpu or cuda (torch-rng emulates both)"
                ))
            }
        };
        match (cuda, gpu) {
            (false, Some(_)) => Err(
                "--gpu describes a CUDA device: add --device cuda (the model file's device is \
                 the CPU)"
                    .to_string(),
            ),
            (false, None) => Ok(DeviceSpec::Cpu),
            (true, Some(p)) => Ok(DeviceSpec::Cuda(Some(p))),
            (true, None) => match file {
                DeviceSpec::Cuda(Some(p)) => Ok(DeviceSpec::Cuda(Some(p))),
                _ => Err(
                    "--device cuda needs --gpu PRESET or --gpu SMS,THREADS: the stream of \
                     tensors larger than one wave of threads depends on the GPU's SM count \
                     (torch.cuda.get_device_properties(0).multi_processor_count and \
                     .max_threads_per_multi_processor)"
                        .to_string(),
                ),
            },
        }
    }
}

/// A model file: a description or a recorded program, told apart by its `format`.
pub(crate) enum ModelFile {
    Desc(ModelDesc),
    Program(Program),
}

/// Reads `path` as a description (under `limits`) or a program.
pub(crate) fn read_model(path: &str, limits: Limits) -> Result<ModelFile, String> {
    let text = read(path)?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{path}: not valid JSON: {e}"))?;
    match v.get("format").and_then(serde_json::Value::as_str) {
        Some(MODEL_FORMAT) => ModelDesc::from_json_with(&v, limits)
            .map(ModelFile::Desc)
            .map_err(|e| format!("{path}: {e}")),
        Some(PROGRAM_FORMAT) => Program::parse(&text)
            .map(|p| ModelFile::Program(p.with_limits(limits)))
            .map_err(|e| format!("{path}: {e}")),
        other => Err(format!(
            "{path}: 'format' is {}, expected \"{MODEL_FORMAT}\" (a model description) or \
             \"{PROGRAM_FORMAT}\" (a recorded program)",
            other.map_or("missing".to_string(), |f| format!("\"{f}\""))
        )),
    }
}

/// Applies a `--max-*` flag to `limits`; `false` for any other flag.
pub(crate) fn limit_flag(limits: &mut Limits, flag: &str, value: &str) -> Result<bool, String> {
    let slot = match flag {
        "--max-modules" => &mut limits.max_modules,
        "--max-parameters" => &mut limits.max_parameters,
        "--max-bytes" => &mut limits.max_bytes,
        "--max-depth" => &mut limits.max_depth,
        _ => return Ok(false),
    };
    *slot = value
        .parse()
        .map_err(|_| format!("{flag}: not a non-negative integer: {value}"))?;
    Ok(true)
}

/// Reads `--threads N` (0: every core).
pub(crate) fn threads_flag(value: &str) -> Result<usize, String> {
    value
        .parse()
        .map_err(|_| format!("--threads: not a non-negative integer: {value} (0 means every core)"))
}

/// `torch-rng init`: parse the arguments, build the model, write the file.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let (mut model, mut seed, mut variant, mut release, mut out) = (None, None, None, None, None);
    let mut verify = false;
    let mut sync = false;
    let mut threads = 1usize;
    let mut select = Selection::default();
    let mut limits = Limits::default();
    let mut device = DeviceFlags::default();
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        if a == "--verify" {
            verify = true;
            continue;
        }
        if a == "--sync" {
            sync = true;
            continue;
        }
        let mut value = || {
            it.next()
                .copied()
                .ok_or(format!("{a} needs a value\n{USAGE}"))
        };
        match a {
            "--seed" => seed = Some(value()?),
            "--variant" => variant = Some(value()?),
            "--torch-version" => release = Some(value()?),
            "-o" | "--output" => out = Some(value()?),
            "--device" | "--gpu" => {
                device.take(a, value()?);
            }
            "--threads" => threads = threads_flag(value()?)?,
            "--tensors" => select.patterns = Some(value()?.split(',').map(String::from).collect()),
            "--shard" => select.shard = Some(shard_flag(value()?)?),
            "--shard-dim" => {
                let v = value()?;
                select.dim = Some(
                    v.parse()
                        .map_err(|_| format!("--shard-dim: not a non-negative integer: {v}"))?,
                );
            }
            _ if a.starts_with("--max-") => {
                let v = value()?;
                if !limit_flag(&mut limits, a, v)? {
                    return Err(format!("unknown option {a}\n{USAGE}"));
                }
            }
            _ if a.starts_with('-') => return Err(format!("unknown option {a}\n{USAGE}")),
            _ if model.is_none() => model = Some(a),
            _ => return Err(format!("unexpected argument {a}\n{USAGE}")),
        }
    }
    let Some(model) = model else {
        return Err(USAGE.to_string());
    };
    if select.dim.is_some() && select.shard.is_none() {
        return Err(format!("--shard-dim needs --shard I/N\n{USAGE}"));
    }
    let file = read_model(model, limits)?;
    if verify {
        let ModelFile::Program(p) = &file else {
            return Err(format!(
                "{model}: --verify needs a recorded program (a description stores no SHA-256s)"
            ));
        };
        if variant.is_some() || release.is_some() || device.given() {
            return Err(
                "--verify replays the recorded release, variant and device; drop --variant, \
                 --torch-version, --device and --gpu (or verify, then build without --verify)"
                    .to_string(),
            );
        }
        let v = p
            .verify_with_threads(threads)
            .map_err(|e| format!("{model}: {e}"))?;
        print(&format!("{model}: {v}\n"))?;
        if !v.exact() {
            return Err(format!("{model}: verification failed"));
        }
        if seed.is_none() && out.is_none() {
            return Ok(());
        }
    }
    let (Some(seed), Some(out)) = (seed, out) else {
        return Err(USAGE.to_string());
    };
    ensure_distinct(out, &[std::path::Path::new(model)]).map_err(|e| e.to_string())?;
    let seed_value: i128 = seed
        .parse()
        .map_err(|_| format!("--seed: not an integer: {seed}"))?;
    let capability = Capability::parse(variant.unwrap_or("avx2")).map_err(|e| e.to_string())?;
    let release = match (&file, release) {
        (_, Some(r)) => r.to_string(),
        (ModelFile::Program(p), None) => p.torch_version().to_string(),
        (ModelFile::Desc(_), None) => LATEST_RELEASE.to_string(),
    };
    let era = Era::of_release(&release).map_err(|e| e.to_string())?;
    let npz = std::path::Path::new(out)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("npz"));
    if !npz && !out.to_ascii_lowercase().ends_with(".safetensors") {
        return Err(format!(
            "{out}: the output must end in .safetensors or .npz"
        ));
    }
    let spec = device.resolve(match &file {
        ModelFile::Desc(d) => d.device(),
        ModelFile::Program(p) => p.device(),
    })?;
    let cx = spec
        .context(
            Context {
                capability,
                era,
                ..Context::default()
            }
            .with_threads(threads),
            &release,
        )
        .map_err(|e| e.to_string())?;
    let mut torch = Torch::new(cx);
    // torch.manual_seed: the CPU generator and, on CUDA, the device's.
    torch.manual_seed(seed_value).map_err(|e| e.to_string())?;
    let sd = match &file {
        ModelFile::Desc(desc) => build(desc, &mut torch).map_err(|e| format!("{model}: {e}"))?,
        ModelFile::Program(p) => p
            .state_dict(&mut torch)
            .map_err(|e| format!("{model}: {e}"))?,
    };
    let sd = select.apply(sd).map_err(|e| format!("{model}: {e}"))?;
    let mut meta = vec![
        ("format".to_string(), "pt".to_string()),
        ("seed".to_string(), seed.to_string()),
        ("variant".to_string(), capability.name().to_string()),
        ("torch_version".to_string(), release.clone()),
        (
            "torch_rng_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    meta.extend(spec.fields().into_iter().map(|(k, v)| (k.to_string(), v)));
    if let Some((i, n)) = select.shard {
        meta.push(("shard".to_string(), format!("{i}/{n}")));
        meta.push(("shard_dim".to_string(), select.dim.unwrap_or(0).to_string()));
    }
    if let Some(p) = &select.patterns {
        meta.push(("tensors".to_string(), p.join(",")));
    }
    write(out, sd, npz, &meta, sync).map_err(|e| e.to_string())
}

/// Reads `--shard I/N` (shards numbered from 0).
fn shard_flag(value: &str) -> Result<(usize, usize), String> {
    let bad = || format!("--shard: expected I/N with 0 <= I < N, got {value}");
    let (i, n) = value.split_once('/').ok_or_else(bad)?;
    let (i, n): (usize, usize) = (i.parse().map_err(|_| bad())?, n.parse().map_err(|_| bad())?);
    if i >= n {
        return Err(bad());
    }
    Ok((i, n))
}

/// Which tensors `init` writes (`--tensors`), and which shard of each (`--shard`, `--shard-dim`).
#[derive(Default)]
struct Selection {
    /// Glob patterns (`*` matches any run of characters) of the `state_dict` names to keep.
    patterns: Option<Vec<String>>,
    /// Shard `i` of `n`.
    shard: Option<(usize, usize)>,
    /// The dimension split (0 by default).
    dim: Option<usize>,
}

impl Selection {
    /// The selected entries of `sd`, each cut to its shard: along `dim`, shard `i` of `n` holds
    /// the elements `torch.tensor_split(t, n, dim)[i]` holds (sizes differ by at most one, the
    /// first `size % n` shards are the longer ones); a tensor with `dim` or fewer dimensions
    /// (biases and norms when splitting along 1, scalars) is written whole on every shard.
    fn apply(&self, sd: Vec<(String, Tensor)>) -> Result<Vec<(String, Tensor)>, String> {
        let mut out = Vec::new();
        let mut split = false;
        for (name, t) in sd {
            if let Some(p) = &self.patterns {
                if !p.iter().any(|p| glob(p, &name)) {
                    continue;
                }
            }
            let t = match self.shard {
                Some((i, n)) if t.shape().len() > self.dim.unwrap_or(0) => {
                    let dim = self.dim.unwrap_or(0);
                    let size = t.shape()[dim];
                    let (q, r) = (size / n, size % n);
                    let start = i * q + i.min(r);
                    let len = q + usize::from(i < r);
                    split = true;
                    t.narrow(dim, start, len)
                        .map_err(|e| format!("{name}: {e}"))?
                }
                _ => t,
            };
            out.push((name, t));
        }
        if let (Some((i, n)), false) = (self.shard, split) {
            // A shard that splits nothing would be the whole model under a shard's name.
            let dim = self.dim.unwrap_or(0);
            if !out.is_empty() {
                return Err(format!(
                    "--shard {i}/{n} --shard-dim {dim}: no selected tensor has more than {dim} \
                     dimensions, so nothing would be split"
                ));
            }
        }
        if out.is_empty() {
            if let Some(p) = &self.patterns {
                return Err(format!("--tensors {} selects no tensor", p.join(",")));
            }
        }
        Ok(out)
    }
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters.
fn glob(pattern: &str, name: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = name.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for p in middle {
        match rest.find(p) {
            Some(k) => rest = &rest[k + p.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// Builds a description with a progress bar on standard error when it takes over a second.
fn build(desc: &ModelDesc, torch: &mut Torch) -> torch_rng::Result<Vec<(String, Tensor)>> {
    let start = std::time::Instant::now();
    let mut shown = false;
    let mut bar = |done: usize, total: usize| {
        if start.elapsed().as_secs_f64() > 1.0 || (shown && done <= total) {
            shown = true;
            let width = 30;
            let filled = (done * width)
                .checked_div(total)
                .unwrap_or(width)
                .min(width);
            note(&format!(
                "\rtorch-rng init [{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            ));
        }
    };
    let mut quiet = NoRecorder;
    // On a CUDA context every parameter is drawn on the device (Builder::for_torch).
    let mut builder = Builder::for_torch(torch, &mut quiet);
    let m = desc.build_with(&mut builder, &mut bar);
    // Nothing draws from `torch` after the build: its generator need not be moved past the
    // model's words.
    builder.finish_unsettled();
    if shown {
        note("\n");
    }
    desc.state_dict_of(m?)
}

/// Writes `sd` to `out` tensor by tensor through an atomic file: the file appears only once it is
/// whole (a full disk or a failed write leaves any file already there untouched), synced to the
/// disk first with `sync`. Each tensor is encoded a chunk at a time; deferred ones are computed a
/// chunk at a time, on several threads ahead of the writing one and across tensor boundaries
/// ([`SafetensorsWriter::write_many`]).
fn write(
    out: &str,
    sd: Vec<(String, Tensor)>,
    npz: bool,
    meta: &[(String, String)],
    sync: bool,
) -> torch_rng::Result<()> {
    let index: Vec<(String, DType, Vec<usize>)> = sd
        .iter()
        .map(|(n, t)| (n.clone(), t.dtype(), t.shape().to_vec()))
        .collect();
    let index: Vec<(&str, DType, &[usize])> = index
        .iter()
        .map(|(n, d, s)| (n.as_str(), *d, s.as_slice()))
        .collect();
    // The tensors' bytes, a lower bound of the file's length: reserved before anything is
    // computed (a full disk fails now; writes into reserved space are cheaper).
    let data: u64 = sd
        .iter()
        .map(|(_, t)| (t.numel() as u64).saturating_mul(t.dtype().size() as u64))
        .fold(0, u64::saturating_add);
    let mut f = file(out, sync)?;
    f.reserve(data)?;
    let items: Vec<(&str, &Tensor)> = sd.iter().map(|(n, t)| (n.as_str(), t)).collect();
    if npz {
        let mut w = NpzWriter::new(f, &index)?;
        w.write_many(&items)?;
        w.finish()
    } else {
        let mut w = SafetensorsWriter::new(f, &index, meta)?;
        w.write_many(&items)?;
        w.finish()
    }
}

/// The atomic output file, synced to the disk before it is renamed into place only with `sync`.
fn file(out: &str, sync: bool) -> torch_rng::Result<AtomicFile> {
    let f = AtomicFile::create(out)?;
    Ok(if sync { f } else { f.without_sync() })
}
