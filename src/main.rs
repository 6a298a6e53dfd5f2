//! The `torch-rng` command; the work is in the `cli` modules.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match cli::run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            cli::note(&format!("torch-rng: {msg}\n"));
            ExitCode::from(2)
        }
    }
}
