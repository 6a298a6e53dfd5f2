//! The `torch-rng` command: argument parsing, file I/O and exit codes only.

use std::io::Write;
use std::process::ExitCode;

use torch_rng::replay;

const USAGE: &str = "\
torch-rng: PyTorch's CPU random streams and weight initialisation, bit for bit

USAGE:
    torch-rng demo [--torch-version X] the blog post's four experiments, and what 4 decimals hide
    torch-rng replay CASES.json        run a case file, print the result document (JSON)
    torch-rng compare EXPECTED ACTUAL  compare two result documents, list every mismatch
    torch-rng explain nn.init.FUNCTION --size 4,3 [--a 2.2360679774997896 ...] [--json]
                                       what an init call derives (fans, gain, bounds), draws and
                                       stores in the dtype, and how many words it consumes
    torch-rng explain nn.CLASS [--in-features 3 --out-features 4 ...] [--json]
    torch-rng explain --model MODEL.json [--json]
                                       the same for each state_dict entry of a module or model,
                                       in state_dict order, with the draw order where it differs
    torch-rng init MODEL.json --seed N [--variant avx2] [--torch-version 2.15.0] -o OUT
                                       build a model description's starting weights; OUT is
                                       .safetensors or .npz, keyed by state_dict names
    torch-rng --help | --version

Case and result files follow shared/case-format.md; golden/README.md lists the ops.";

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<(), String> {
    let rest: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match rest.as_slice() {
        ["demo"] => {
            let text = replay::demo::demo_report().map_err(|e| e.to_string())?;
            print!("{text}");
            Ok(())
        }
        ["demo", "--torch-version", release] => {
            let text = replay::demo::demo_report_for(release).map_err(|e| e.to_string())?;
            print!("{text}");
            Ok(())
        }
        ["replay", path] => {
            let text = read(path)?;
            let doc = replay::replay_str(&text).map_err(|e| format!("{path}: {e}"))?;
            let mut out = std::io::stdout().lock();
            out.write_all(replay::to_pretty_json(&doc).as_bytes())
                .map_err(|e| format!("standard output: {e}"))
        }
        ["compare", expected, actual] => {
            let parse = |p: &str| -> Result<serde_json::Value, String> {
                serde_json::from_str(&read(p)?).map_err(|e| format!("{p}: not valid JSON: {e}"))
            };
            let mismatches = replay::compare_results(&parse(expected)?, &parse(actual)?);
            if mismatches.is_empty() {
                println!("all cases agree");
                Ok(())
            } else {
                for m in &mismatches {
                    println!("{m}");
                }
                Err(format!("{} mismatches", mismatches.len()))
            }
        }
        ["init", args @ ..] => init(args),
        ["explain", args @ ..] => {
            // nn.init.F (or F_) and --readme-table explain an init call; nn.Class and --model a
            // module or a model.
            let init_call = args.first().is_some_and(|a| {
                a.starts_with("nn.init.") || a.ends_with('_') || *a == "--readme-table"
            });
            let text = if init_call {
                torch_rng::init::explain::cli(args)
            } else {
                torch_rng::modules::explain::cli(args)
            }
            .map_err(|e| e.to_string())?;
            print!("{text}");
            Ok(())
        }
        ["--help" | "-h" | "help"] => {
            println!("{USAGE}");
            Ok(())
        }
        ["--version" | "-V"] => {
            println!("torch-rng {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        [] => Err(format!("no command given\n\n{USAGE}")),
        _ => Err(format!(
            "unknown command or arguments: '{}'\n\n{USAGE}",
            rest.join(" ")
        )),
    }
}

/// `torch-rng init`: parse the arguments, build the model, write the file.
fn init(args: &[&str]) -> Result<(), String> {
    use torch_rng::modules::model::ModelDesc;
    use torch_rng::{Capability, Context, CpuGenerator, Era};
    let usage = "usage: torch-rng init MODEL.json --seed N [--variant default|avx2|avx512] \
                 [--torch-version X.Y.Z] -o OUT.safetensors|OUT.npz";
    let (mut model, mut seed, mut variant, mut release, mut out) =
        (None, None, "avx2", torch_rng::context::LATEST_RELEASE, None);
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
    let seed_u64 = torch_rng::generator::seed_from_i128(seed_value).map_err(|e| e.to_string())?;
    let capability = Capability::parse(variant).map_err(|e| e.to_string())?;
    let era = Era::of_release(release).map_err(|e| e.to_string())?;
    let npz = std::path::Path::new(out)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("npz"));
    if !npz && !out.to_ascii_lowercase().ends_with(".safetensors") {
        return Err(format!(
            "{out}: the output must end in .safetensors or .npz"
        ));
    }
    let desc = ModelDesc::parse(&read(model)?).map_err(|e| format!("{model}: {e}"))?;
    let mut g = CpuGenerator::with_seed(seed_u64);
    let start = std::time::Instant::now();
    let mut shown = false;
    let mut bar = |done: usize, total: usize| {
        if start.elapsed().as_secs_f64() > 1.0 || (shown && done <= total) {
            shown = true;
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            eprint!(
                "\rtorch-rng init [{}{}] {done}/{total}",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
        }
    };
    let m = desc
        .build_with_progress(&mut g, Context { capability, era }, &mut bar)
        .map_err(|e| format!("{model}: {e}"))?;
    if shown {
        eprintln!();
    }
    let sd = m.into_state_dict();
    let bytes = if npz {
        torch_rng::export::npz_bytes(&sd).map_err(|e| e.to_string())?
    } else {
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
        torch_rng::export::safetensors_bytes(&sd, &meta)
    };
    std::fs::write(out, bytes).map_err(|e| format!("{out}: {e}"))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("torch-rng: {msg}");
            ExitCode::from(2)
        }
    }
}
