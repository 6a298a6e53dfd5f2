//! The `torch-rng` command: argument parsing, file I/O and exit codes only.

use std::io::Write;
use std::process::ExitCode;

use torch_rng::replay;

const USAGE: &str = "\
torch-rng: PyTorch's CPU random streams and weight initialisation, bit for bit

USAGE:
    torch-rng demo                     the blog post's four experiments, and what 4 decimals hide
    torch-rng replay CASES.json        run a case file, print the result document (JSON)
    torch-rng compare EXPECTED ACTUAL  compare two result documents, list every mismatch
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
