//! `torch-rng init`: a model description's starting weights, written to a safetensors or npz file.

use torch_rng::checkpoint::{ensure_distinct, NpzWriter, SafetensorsWriter};
use torch_rng::nn::{Builder, ModelDesc, NoRecorder};
use torch_rng::{Capability, Context, DType, Era, Tensor, Torch, LATEST_RELEASE};

use super::{note, read};

/// `torch-rng init`: parse the arguments, build the model, write the file.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let usage = "usage: torch-rng init MODEL.json --seed N [--variant default|avx2|avx512] \
                 [--torch-version X.Y.Z] -o OUT.safetensors|OUT.npz";
    let (mut model, mut seed, mut variant, mut release, mut out) =
        (None, None, "avx2", LATEST_RELEASE, None);
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        let mut value = || {
            it.next()
                .copied()
                .ok_or(format!("{a} needs a value\n{usage}"))
        };
        match a {
            "--seed" => seed = Some(value()?),
            "--variant" => variant = value()?,
            "--torch-version" => release = value()?,
            "-o" | "--output" => out = Some(value()?),
            _ if a.starts_with('-') => return Err(format!("unknown option {a}\n{usage}")),
            _ if model.is_none() => model = Some(a),
            _ => return Err(format!("unexpected argument {a}\n{usage}")),
        }
    }
    let (Some(model), Some(seed), Some(out)) = (model, seed, out) else {
        return Err(usage.to_string());
    };
    let seed_value: i128 = seed
        .parse()
        .map_err(|_| format!("--seed: not an integer: {seed}"))?;
    let capability = Capability::parse(variant).map_err(|e| e.to_string())?;
    let era = Era::of_release(release).map_err(|e| e.to_string())?;
    let mut torch = Torch::new(Context {
        capability,
        era,
        ..Context::default()
    });
    torch.manual_seed(seed_value).map_err(|e| e.to_string())?;
    let npz = std::path::Path::new(out)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("npz"));
    if !npz && !out.to_ascii_lowercase().ends_with(".safetensors") {
        return Err(format!(
            "{out}: the output must end in .safetensors or .npz"
        ));
    }
    ensure_distinct(out, &[std::path::Path::new(model)]).map_err(|e| e.to_string())?;
    let desc = ModelDesc::parse(&read(model)?).map_err(|e| format!("{model}: {e}"))?;
    let start = std::time::Instant::now();
    let mut shown = false;
    let mut bar = |done: usize, total: usize| {
        if start.elapsed().as_secs_f64() > 1.0 || (shown && done <= total) {
            shown = true;
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            note(&format!(
                "\rtorch-rng init [{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            ));
        }
    };
    let cx = torch.context();
    let mut quiet = NoRecorder;
    let m = desc
        .build_with(
            &mut Builder::new(torch.generator_mut(), cx, &mut quiet),
            &mut bar,
        )
        .map_err(|e| format!("{model}: {e}"))?;
    if shown {
        note("\n");
    }
    let sd = m.into_state_dict();
    let meta = vec![
        ("format".to_string(), "pt".to_string()),
        ("seed".to_string(), seed.to_string()),
        ("variant".to_string(), capability.name().to_string()),
        ("torch_version".to_string(), release.to_string()),
        (
            "torch_rng_version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    write(out, &sd, npz, &meta).map_err(|e| e.to_string())
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
