//! `torch-rng audit`: which seed, kernel variant and release made a checkpoint's weights, and
//! what changed since that init (the library's `audit::audit`, printed as text or JSON).

use torch_rng::audit::{self, Against, Options};
use torch_rng::checkpoint::Checkpoint;
use torch_rng::nn::Limits;

use super::init::{limit_flag, read_model, ModelFile};
use super::print;

const USAGE: &str =
    "usage: torch-rng audit WEIGHTS.safetensors|.npz|.pt --model MODEL.json|PROGRAM.json \
     [--seeds 0..100000] [--variants default,avx2] [--releases 2.0-2.15] [--no-common-seeds] \
     [--threads N] [--json]\n       torch-rng audit WEIGHTS --tensor NAME --op \
     \"kaiming_uniform_(a=sqrt(5))\" [--seeds ...] [--variants ...] [--releases ...] [--json]";

/// `torch-rng audit`: parse the arguments, run the audit, print the report.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    let (mut weights, mut model, mut tensor, mut op) = (None, None, None, None);
    let mut json = false;
    let mut options = Options::default();
    let mut limits = Limits::default();
    let mut it = args.iter();
    while let Some(&a) = it.next() {
        match a {
            "--json" => {
                json = true;
                continue;
            }
            "--no-common-seeds" => {
                options.common_seeds = false;
                continue;
            }
            _ => {}
        }
        let mut value = || {
            it.next()
                .copied()
                .ok_or(format!("{a} needs a value\n{USAGE}"))
        };
        let err = |e: torch_rng::Error| e.to_string();
        match a {
            "--model" => model = Some(value()?),
            "--tensor" => tensor = Some(value()?),
            "--op" => op = Some(value()?),
            "--seeds" => options.seeds = Some(Options::parse_seeds(value()?).map_err(err)?),
            "--variants" => options.variants = Options::parse_variants(value()?).map_err(err)?,
            "--releases" => options.releases = Options::parse_releases(value()?).map_err(err)?,
            "--threads" => {
                let v = value()?;
                options.threads = v
                    .parse()
                    .map_err(|_| format!("--threads: not a non-negative integer: {v}"))?;
            }
            _ if a.starts_with("--max-") => {
                let v = value()?;
                if !limit_flag(&mut limits, a, v)? {
                    return Err(format!("unknown option {a}\n{USAGE}"));
                }
            }
            _ if a.starts_with('-') => return Err(format!("unknown option {a}\n{USAGE}")),
            _ if weights.is_none() => weights = Some(a),
            _ => return Err(format!("unexpected argument {a}\n{USAGE}")),
        }
    }
    let Some(weights) = weights else {
        return Err(USAGE.to_string());
    };
    let mut file = Checkpoint::open(weights).map_err(|e| e.to_string())?;
    let report = match (model, tensor, op) {
        (Some(path), None, None) => match read_model(path, limits)? {
            ModelFile::Desc(d) => audit::audit(&mut file, Against::Model(&d), &options),
            ModelFile::Program(p) => audit::audit(&mut file, Against::Program(&p), &options),
        },
        (None, Some(name), Some(op)) => {
            let call = audit::parse_op(op).map_err(|e| e.to_string())?;
            audit::audit(&mut file, Against::Tensor { name, call: &call }, &options)
        }
        (None, Some(_), None) | (None, None, Some(_)) => {
            return Err(format!("--tensor and --op go together\n{USAGE}"))
        }
        (Some(_), _, _) => {
            return Err(format!(
                "give --model or --tensor with --op, not both\n{USAGE}"
            ))
        }
        (None, None, None) => return Err(format!("give --model, or --tensor with --op\n{USAGE}")),
    }
    .map_err(|e| e.to_string())?;
    if json {
        let text = serde_json::to_string_pretty(&report.to_json())
            .map_err(|e| format!("JSON output: {e}"))?;
        print(&format!("{text}\n"))
    } else {
        print(&report.to_text())
    }
}
