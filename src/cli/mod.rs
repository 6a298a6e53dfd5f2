//! The `torch-rng` command: argument parsing, file I/O, README generation and exit codes. The
//! library returns values and `Error`s; this layer prints them.
//!
//! Every write goes through [`print`] (standard output) or [`note`] (standard error): a closed
//! pipe or a full disk is an error message and exit status 2, never a panic.

mod audit;
mod demo;
mod explain;
mod init;

use std::io::Write;

use torch_rng::replay;

const USAGE: &str = "\
torch-rng: PyTorch's CPU random streams and weight initialisation, bit for bit (CUDA's emulated)

USAGE:
    torch-rng demo [--torch-version X] the blog post's four experiments, and what 4 decimals hide
    torch-rng replay CASES.json [--threads N]
                                       run a case file, print the result document (JSON);
                                       N threads for large fills (0: every core; same bits)
    torch-rng compare EXPECTED ACTUAL  compare two result documents, list every mismatch
    torch-rng explain nn.init.FUNCTION --size 4,3 [--a 2.2360679774997896 ...] [--json]
                                       what an init call derives (fans, gain, bounds), draws and
                                       stores in the dtype, and how many words it consumes
    torch-rng explain nn.CLASS [--in-features 3 --out-features 4 ...] [--json]
    torch-rng explain --model MODEL.json|PROGRAM.json [--json]
                                       the same for each state_dict entry of a module, a model
                                       description or a recorded program, in state_dict order,
                                       with the draw order where it differs
    torch-rng init MODEL.json|PROGRAM.json --seed N [--variant avx2] [--torch-version X] -o OUT
                                       build a model description's or a recorded program's
                                       starting weights; OUT is .safetensors or .npz, keyed by
                                       state_dict names (a program's own release by default);
                                       [--max-modules N --max-parameters N --max-bytes N
                                       --max-depth N] raise or lower a description's limits;
                                       [--threads N] fills large tensors on N threads (1 by
                                       default, 0: every core) with the bits of one thread;
                                       [--tensors PATTERN,...] writes only matching entries
                                       (`*` any run); [--shard I/N --shard-dim D] writes shard I
                                       of N of each tensor, as torch.tensor_split(t, N, D)[I];
                                       [--sync] syncs OUT to the disk before renaming it into
                                       place (by default it is renamed when whole, unsynced)
    ... --device cuda --gpu PRESET|SMS,THREADS
                                       (init and explain) build on a CUDA device: Philox
                                       streams of that GPU's launch geometry (presets: h100,
                                       h200, a100, l4, rtx4090, t4, v100, a10g, h100-pcie; a MIG
                                       slice as its SM count and threads per SM, e.g. 14,2048);
                                       not yet checked on a GPU
    torch-rng init PROGRAM.json --verify
                                       replay a program's recording seed and check every stored
                                       SHA-256 (exit 2 naming the first differing tensor)
    torch-rng audit WEIGHTS --model MODEL.json|PROGRAM.json [--seeds 0..100000]
          [--variants default,avx2] [--releases 2.0-2.15] [--json]
                                       which seed, kernel variant and releases made the weights
                                       (safetensors, npz or torch.save .pt), and what differs
                                       from that init, tensor by tensor
    torch-rng audit WEIGHTS --tensor NAME --op \"kaiming_uniform_(a=sqrt(5))\" [...]
                                       the same for one tensor made by one init call
    torch-rng --help | --version

Case and result files follow shared/case-format.md; golden/README.md lists the ops.";

/// Writes `text` to standard output.
///
/// # Errors
/// The write's failure, as a message (a closed pipe, a full disk).
pub(crate) fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("standard output: {e}"))
}

/// Writes `text` to standard error, ignoring a failure (a progress bar or a message about to end
/// the process has nowhere else to go).
pub(crate) fn note(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|()| err.flush());
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

/// Runs the command line `args` (without the program name).
///
/// # Errors
/// A message for standard error; the process then exits with status 2.
pub(crate) fn run(args: &[&str]) -> Result<(), String> {
    match args {
        ["demo"] => print(&demo::demo_report().map_err(|e| e.to_string())?),
        ["demo", "--torch-version", release] => {
            print(&demo::demo_report_for(release).map_err(|e| e.to_string())?)
        }
        ["replay", path] | ["replay", path, "--threads", _] | ["replay", "--threads", _, path] => {
            let threads = match args {
                [_, "--threads", n, _] | [_, _, "--threads", n] => init::threads_flag(n)?,
                _ => 1,
            };
            let text = read(path)?;
            let doc = replay::replay_str_with_threads(&text, threads)
                .map_err(|e| format!("{path}: {e}"))?;
            print(&replay::to_pretty_json(&doc))
        }
        ["compare", expected, actual] => {
            let parse = |p: &str| -> Result<serde_json::Value, String> {
                serde_json::from_str(&read(p)?).map_err(|e| format!("{p}: not valid JSON: {e}"))
            };
            let mismatches = replay::compare_results(&parse(expected)?, &parse(actual)?)
                .map_err(|e| e.to_string())?;
            if mismatches.is_empty() {
                print("all cases agree\n")
            } else {
                let mut text = String::new();
                for m in &mismatches {
                    text.push_str(&m.to_string());
                    text.push('\n');
                }
                print(&text)?;
                Err(format!("{} mismatches", mismatches.len()))
            }
        }
        ["init", args @ ..] => init::run(args),
        ["audit", args @ ..] => audit::run(args),
        ["explain", args @ ..] => print(&explain::run(args).map_err(|e| e.to_string())?),
        ["--help" | "-h" | "help"] => print(&format!("{USAGE}\n")),
        ["--version" | "-V"] => print(&format!("torch-rng {}\n", env!("CARGO_PKG_VERSION"))),
        [] => Err(format!("no command given\n\n{USAGE}")),
        _ => Err(format!(
            "unknown command or arguments: '{}'\n\n{USAGE}",
            args.join(" ")
        )),
    }
}
