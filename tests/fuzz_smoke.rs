//! A short deterministic fuzz run for CI: a few thousand mutations of the seed corpora
//! (fuzz/seeds/ and golden/checkpoints/) per reader, from a fixed xorshift generator, through
//! the same entry points as the `cargo fuzz` targets in fuzz/. Every input must give a value or
//! an error, never a panic; the readers' invariants are asserted inside `fuzz_read`.
//!
//! Mutations: bit flips, interesting bytes and little-endian integers (0, 1, 0x7f.., 0xff..,
//! the input's length) written over sizes and offsets, truncation, deletion and duplication of
//! a slice, and splicing two seeds. Zip members are CRC-checked, so the pt target also runs the
//! pickle machine directly on mutated pickles (`fuzz_pickle`), as the `pickle` target does.

use std::path::Path;
use std::time::{Duration, Instant};

use torch_rng::checkpoint::{fuzz_pickle, fuzz_read, Format};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64* (Vigna, "An experimental exploration of Marsaglia's xorshift generators").
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seeds(dirs: &[&str]) -> Vec<Vec<u8>> {
    files(dirs, false)
}

/// The `.json` seeds (case files, model descriptions, programs) of `dirs`.
fn json_seeds(dirs: &[&str]) -> Vec<Vec<u8>> {
    files(dirs, true)
}

fn files(dirs: &[&str], json: bool) -> Vec<Vec<u8>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for d in dirs {
        let mut files: Vec<_> = std::fs::read_dir(root.join(d))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| (e == "json") == json))
            .collect();
        files.sort();
        for f in files {
            out.push(std::fs::read(f).unwrap());
        }
    }
    assert!(!out.is_empty());
    out
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut b = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let len = b.len();
        match rng.below(8) {
            0 if len > 0 => {
                let i = rng.below(len);
                b[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len);
                b[i] = [0, 1, 0x7f, 0x80, 0xff, b'(', b'.', b'}'][rng.below(8)];
            }
            2 if len >= 8 => {
                let i = rng.below(len - 7);
                let v: u64 = [
                    0,
                    1,
                    0x7fff_ffff,
                    0xffff_ffff,
                    u64::MAX,
                    len as u64,
                    (len as u64) << 20,
                ][rng.below(7)];
                let w = [2, 4, 8][rng.below(3)];
                b[i..i + w].copy_from_slice(&v.to_le_bytes()[..w]);
            }
            3 => b.truncate(rng.below(len + 1)),
            4 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).min(64);
                b.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = rng.below(len);
                let n = rng.below(len - i).min(64);
                let s = b[i..i + n].to_vec();
                let at = rng.below(len);
                b.splice(at..at, s);
            }
            6 => {
                let other = &seeds[rng.below(seeds.len())];
                let cut = rng.below(len + 1);
                let from = rng.below(other.len() + 1);
                b.truncate(cut);
                b.extend_from_slice(&other[from..]);
            }
            _ => {
                let i = rng.below(len + 1);
                b.insert(i, rng.next() as u8);
            }
        }
    }
    b
}

/// A JSON-aware mutation: a number replaced by an extreme one, a string by a hostile one, or a
/// value (between commas) duplicated many times, on top of [`mutate`]'s byte mutations.
fn mutate_json(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    const NUMBERS: [&str; 12] = [
        "-1",
        "0",
        "1e308",
        "-1e308",
        "1e-320",
        "18446744073709551616",
        "9223372036854775807",
        "-9223372036854775809",
        "4294967296",
        "1.5",
        "100000000000",
        "-0.0",
    ];
    const STRINGS: [&str; 6] = [
        "\"\"",
        "\"nan\"",
        "\"inf\"",
        "\"../../etc/passwd\"",
        "\"\\u0000\"",
        "\"2.15.0+cpu\"",
    ];
    let mut b = if rng.below(2) == 0 {
        mutate(rng, seeds)
    } else {
        seeds[rng.below(seeds.len())].clone()
    };
    for _ in 0..=rng.below(3) {
        let len = b.len();
        if len == 0 {
            break;
        }
        let at = rng.below(len);
        match rng.below(3) {
            0 => {
                // The number token at or after `at`.
                let Some(i) = b[at..].iter().position(u8::is_ascii_digit).map(|i| at + i) else {
                    continue;
                };
                let start = if i > 0 && b[i - 1] == b'-' { i - 1 } else { i };
                let end = i + b[i..]
                    .iter()
                    .position(|c| !(c.is_ascii_digit() || b".eE+-".contains(c)))
                    .unwrap_or(len - i);
                let n = NUMBERS[rng.below(NUMBERS.len())].as_bytes();
                b.splice(start..end, n.iter().copied());
            }
            1 => {
                let Some(i) = b[at..].iter().position(|&c| c == b'"').map(|i| at + i) else {
                    continue;
                };
                let Some(j) = b[i + 1..]
                    .iter()
                    .position(|&c| c == b'"')
                    .map(|j| i + 1 + j)
                else {
                    continue;
                };
                let s = STRINGS[rng.below(STRINGS.len())].as_bytes();
                b.splice(i..=j, s.iter().copied());
            }
            _ => {
                // The text between two commas, repeated up to 64 times.
                let Some(i) = b[at..].iter().position(|&c| c == b',').map(|i| at + i) else {
                    continue;
                };
                let Some(j) = b[i + 1..]
                    .iter()
                    .position(|&c| c == b',')
                    .map(|j| i + 1 + j)
                else {
                    continue;
                };
                let item = b[i..j].to_vec();
                for _ in 0..rng.below(64) {
                    b.splice(j..j, item.iter().copied());
                }
            }
        }
    }
    b
}

/// [`run`] over the `.json` seeds of `dirs` with [`mutate_json`], giving `f` the text of every
/// input that is UTF-8.
fn run_json(name: &str, dirs: &[&str], n: usize, f: impl Fn(&str)) -> Duration {
    mutations(name, json_seeds(dirs), n, mutate_json, |d| {
        if let Ok(text) = std::str::from_utf8(d) {
            f(text);
        }
    })
}

fn run(name: &str, dirs: &[&str], n: usize, f: impl Fn(&[u8])) -> Duration {
    mutations(name, seeds(dirs), n, mutate, f)
}

/// Gives `f` every seed, then `n` inputs made by `mutate`; the time the mutations took.
fn mutations(
    name: &str,
    seeds: Vec<Vec<u8>>,
    n: usize,
    mutate: fn(&mut Rng, &[Vec<u8>]) -> Vec<u8>,
    f: impl Fn(&[u8]),
) -> Duration {
    for s in &seeds {
        f(s);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
    let start = Instant::now();
    for _ in 0..n {
        let input = mutate(&mut rng, &seeds);
        f(&input);
    }
    start.elapsed()
}

/// Fewer iterations in unoptimised builds, so that `cargo test` stays quick too;
/// `TORCH_RNG_FUZZ_SMOKE_ITERS` sets the count (for a longer run on stable).
fn iterations() -> usize {
    if let Some(n) = std::env::var("TORCH_RNG_FUZZ_SMOKE_ITERS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        return n;
    }
    if cfg!(debug_assertions) {
        1000
    } else {
        20_000
    }
}

#[test]
fn safetensors_reader_survives_mutations() {
    let t = run(
        "safetensors",
        &["fuzz/seeds/safetensors", "golden/checkpoints"],
        iterations(),
        |d| {
            let _ = fuzz_read(d, Some(Format::Safetensors));
            let _ = fuzz_read(d, None);
        },
    );
    assert!(t < budget(), "{t:?}");
}

#[test]
fn npz_reader_survives_mutations() {
    let t = run("npz", &["fuzz/seeds/npz"], iterations(), |d| {
        let _ = fuzz_read(d, Some(Format::Npz));
    });
    assert!(t < budget(), "{t:?}");
}

#[test]
fn pt_reader_survives_mutations() {
    let t = run("pt", &["fuzz/seeds/pt"], iterations(), |d| {
        let f = if d.starts_with(b"PK") {
            Format::TorchZip
        } else {
            Format::TorchLegacy
        };
        let _ = fuzz_read(d, Some(f));
    });
    assert!(t < budget(), "{t:?}");
}

#[test]
fn pickle_machine_survives_mutations() {
    let t = run("pickle", &["fuzz/seeds/pickle"], iterations(), fuzz_pickle);
    assert!(t < budget(), "{t:?}");
}

// The JSON parsers. Case files are parsed only (replaying a mutated one could legitimately ask
// for gigabytes within the normal limits; the `replay` cargo-fuzz target runs them under fuzzing
// builds' small caps); descriptions are built and programs replayed under `small()` limits.

/// Limits small enough that no mutated model or program can take more than a moment.
fn small() -> torch_rng::nn::Limits {
    torch_rng::nn::Limits {
        max_modules: 1000,
        max_parameters: 1000,
        max_bytes: 1 << 20,
        ..torch_rng::nn::Limits::default()
    }
}

#[test]
fn case_file_parser_survives_mutations() {
    let t = run_json(
        "case_file",
        &["fuzz/seeds/case_file"],
        iterations(),
        |text| {
            let _ = torch_rng::replay::parse_case_file(text);
        },
    );
    assert!(t < budget(), "{t:?}");
}

#[test]
fn model_description_parser_survives_mutations() {
    let t = run_json(
        "model_desc",
        &["fuzz/seeds/model_desc"],
        iterations(),
        |text| {
            let _ = torch_rng::nn::ModelDesc::parse(text);
        },
    );
    assert!(t < budget(), "{t:?}");
}

#[test]
fn program_parser_survives_mutations() {
    let t = run_json("program", &["fuzz/seeds/program"], iterations(), |text| {
        if let Ok(p) = torch_rng::nn::Program::parse(text) {
            let _ = p
                .with_limits(small())
                .state_dict(&mut torch_rng::Torch::with_seed(0));
        }
    });
    assert!(t < budget(), "{t:?}");
}

#[test]
fn every_seed_reads() {
    for (dir, format) in [
        ("fuzz/seeds/safetensors", Format::Safetensors),
        ("fuzz/seeds/npz", Format::Npz),
    ] {
        for s in seeds(&[dir]) {
            assert!(fuzz_read(&s, Some(format)), "{dir}");
        }
    }
    for s in seeds(&["fuzz/seeds/pt"]) {
        assert!(fuzz_read(&s, None));
    }
}

/// A generous time bound: about a millisecond per input (measured: a few microseconds).
fn budget() -> Duration {
    Duration::from_millis(5000 + iterations() as u64)
}
