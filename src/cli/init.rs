//! `torch-rng init`: the starting weights of a model description or a recorded program, written
//! to a safetensors or npz file; `--verify` replays a program's recording seed against its
//! stored SHA-256s.

use torch_rng::checkpoint::{ensure_distinct, NpzWriter, SafetensorsWriter};
use torch_rng::nn::{
    Builder, Limits, ModelDesc, NoRecorder, Program, MODEL_FORMAT, PROGRAM_FORMAT,
};
use torch_rng::{Capability, Context, DType, Era, Tensor, Torch, LATEST_RELEASE};

use super::{note, print, read};

const USAGE: &str = "usage: torch-rng init MODEL.json --seed N [--variant default|avx2|avx512] \
     [--torch-version X.Y.Z] -o OUT.safetensors|OUT.npz [--max-modules N] [--max-parameters N] \
     [--max-bytes N] [--max-depth N]\n       torch-rng init PROGRAM.json --verify [--seed N -o OUT ...]";

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

/// `torch-rng init`: parse the arguments, build the model, write the file.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let (mut model, mut seed, mut variant, mut release, mut out) = (None, None, None, None, None);
    let mut verify = false;
    let mut limits = Limits::default();
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        if a == "--verify" {
            verify = true;
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
    let file = read_model(model, limits)?;
    if verify {
        let ModelFile::Program(p) = &file else {
            return Err(format!(
                "{model}: --verify needs a recorded program (a description stores no SHA-256s)"
            ));
        };
        if variant.is_some() || release.is_some() {
            return Err(
                "--verify replays the recorded release and variant; drop --variant and \
                 --torch-version (or verify, then build without --verify)"
                    .to_string(),
            );
        }
        let v = p.verify().map_err(|e| format!("{model}: {e}"))?;
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
    let mut torch = Torch::new(Context {
        capability,
        era,
        ..Context::default()
    });
    torch.manual_seed(seed_value).map_err(|e| e.to_string())?;
    let sd = match &file {
        ModelFile::Desc(desc) => build(desc, &mut torch).map_err(|e| format!("{model}: {e}"))?,
        ModelFile::Program(p) => p
            .state_dict(&mut torch)
            .map_err(|e| format!("{model}: {e}"))?,
    };
    let meta = vec![
        ("format".to_string(), "pt".to_string()),
        ("seed".to_string(), seed.to_string()),
        ("variant".to_string(), capability.name().to_string()),
        ("torch_version".to_string(), release.clone()),
        (
            "torch_rng_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    write(out, &sd, npz, &meta).map_err(|e| e.to_string())
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
    let cx = torch.context();
    let mut quiet = NoRecorder;
    let m = desc.build_with(
        &mut Builder::new(torch.generator_mut(), cx, &mut quiet),
        &mut bar,
    );
    if shown {
        note("\n");
    }
    desc.state_dict_of(m?)
}

/// Writes `sd` to `out` tensor by tensor through an atomic file: the file appears only once it is
/// whole (a full disk or a failed write leaves any file already there untouched).
fn write(
    out: &str,
    sd: &[(String, Tensor)],
    npz: bool,
    meta: &[(String, String)],
) -> torch_rng::Result<()> {
    let index: Vec<(&str, DType, &[usize])> = sd
        .iter()
        .map(|(n, t)| (n.as_str(), t.dtype(), t.shape()))
        .collect();
    if npz {
        let mut w = NpzWriter::create(out, &index)?;
        for (n, t) in sd {
            w.write(n, t)?;
        }
        w.finish()
    } else {
        let mut w = SafetensorsWriter::create(out, &index, meta)?;
        for (n, t) in sd {
            w.write(n, t)?;
        }
        w.finish()
    }
}
