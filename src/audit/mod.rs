//! Reproducibility audits: which seed, kernel variant and release made a checkpoint's weights,
//! and what changed since that init, tensor by tensor.
//!
//! ```
//! use torch_rng::audit::{self, Against, Options, Verdict};
//! use torch_rng::checkpoint::{self, Checkpoint};
//! use torch_rng::nn::ModelDesc;
//! use torch_rng::{Capability, Context, Torch};
//!
//! let desc = ModelDesc::parse(r#"{"format": "torch-rng-model/1", "modules": [
//!     {"name": "fc", "module": "Linear", "in_features": 16, "out_features": 8},
//!     {"name": "norm", "module": "LayerNorm", "normalized_shape": 8}]}"#)?;
//! // Weights made by torch.manual_seed(31337) under PyTorch 2.15's default kernels.
//! let mut torch = Torch::new(Context::new(Capability::Default));
//! torch.manual_seed(31337)?;
//! let bytes = checkpoint::safetensors_bytes(&desc.state_dict(&mut torch)?, &[])?;
//! let mut file = Checkpoint::from_bytes(&bytes, "w.safetensors", &checkpoint::Limits::default())?;
//!
//! let options = Options::default().with_seeds(0, 99_999);
//! let report = audit::audit(&mut file, Against::Model(&desc), &options)?;
//! assert_eq!(report.seed, Some(31337));
//! assert_eq!(report.verdict, Verdict::Identical);
//! assert!(report.combinations.iter().any(|c| c.capability == Capability::Default));
//! // LayerNorm's ones and zeros are constant by construction: never evidence for a seed.
//! assert!(!report.tensors[2].decided_by_seed);
//! # Ok::<(), torch_rng::Error>(())
//! ```
//!
//! # The search
//!
//! The audited model (a description, a recorded program, or one init call) is built once per
//! searched build (kernel variant × release era) from a fixed seed, with every step recorded:
//! which `state_dict` entry each step drew and how many 32-bit words of the seed's stream came
//! before it. A **probe** is an entry drawn by a plain `uniform_`/`normal_` fill (the kaiming,
//! xavier, `normal_` and `uniform_` initialisers all end in one) whose values are still in the
//! `state_dict`: for a candidate seed, only its first elements (up to 64; for the normal fill
//! path whole blocks of 16 that the recomputed tail does not touch) are generated, after jumping
//! the seed's stream to the entry's offset ([`crate::CpuGenerator::jump`]). A probe is kept only
//! if, for the recorded seed, it gives the entry's first elements bit for bit (so an entry
//! overwritten later, or drawn through a view, is never a probe), and probes after a step whose
//! word count depends on the values (rejection sampling) come last. Builds whose probe gives the
//! same bits on four test seeds are evaluated once.
//!
//! Seeds are tried in order: [`COMMON_SEEDS`] first (0, 1, 42, 1234, 3407, 2^32 − 1, ...), then
//! the range ([`Options::seeds`], by default 0 to 999,999), in parallel blocks, and a candidate
//! is ruled out by its probe alone: it survives if the probe's elements are bit-identical, all
//! within 2 ulp or 8 ulp of their largest magnitude ("near"), or, over at least 32 elements, correlated with the file's at
//! |r| ≥ 0.8 ("related": a trained, scaled or quantised tensor). The first surviving seed is
//! confirmed by building the model in full under every surviving build, and kept if the evidence
//! (the mantissa bits of the elements that match exactly, or a related tensor) reaches 64 bits;
//! otherwise the search goes on. When the probe's tensor was re-initialised no seed survives, and
//! the search runs again with the next probe (up to three). The seed found is the first in that
//! order; `seed + k · 2^32` gives the same stream (PyTorch's mt19937 seeds from the low 32 bits).
//! When no probe exists (every entry drawn by rejection sampling, `orthogonal_`, ...), each
//! candidate costs a whole build, and only the common seeds are tried unless a range is given.
//!
//! # What differs
//!
//! The builds that give the weights (every variant and era whose full build equals the best
//! one's, bit for bit) are reported together, with the releases of each era; the others are
//! listed as ruled out, each with the first tensor that tells it apart. Then each tensor of the
//! file is compared with the best build's:
//! * **identical**: every bit;
//! * **equal up to the variant**: every differing element at most 2 ulp off, or at most 8 ulp of
//!   the tensor's largest magnitude off (fused multiply-adds; the avx2 kernels' vectorised
//!   `log`/`cos` in the normal fill), with the variants whose build gives it exactly;
//! * **modified**: a tie (it shares storage with, or equals byte for byte, an earlier tensor of the
//!   file), pruned (the differing elements are zeros), scaled (one factor for every element,
//!   exact when `init * factor` rounded to the dtype gives every bit), quantised (at most 256
//!   distinct values, close to the init) or perturbed (correlation ≥ 0.5 with the init: trained);
//!   each with the count of differing elements, the largest difference in ulp and in value;
//! * **re-initialised**: unrelated to the init. The calls of a catalogue (the `nn` modules'
//!   initialisers, `normal_`/`trunc_normal_` with the usual standard deviations, `uniform_` with
//!   the usual bounds, and round versions of the tensor's own spread) are tested against its
//!   values: uniform bounds (every value inside, the extremes within `(to − from) · ln(1000) / n`
//!   of them, the mean within `3.29 · (to − from) / sqrt(12 n)` of the midpoint), normal moments
//!   (the mean within `3.29 · std / sqrt(n)`, the standard deviation within a factor
//!   `1 ± 3.29 / sqrt(2 (n − 1))`), and the Kolmogorov–Smirnov distance to the call's
//!   distribution below `1.95 / sqrt(n)` (each about α = 0.001; with 32 elements at least); every
//!   call that passes is named, with its draw count. Each catalogue call is also run on the
//!   seed's stream where the build left it: one that gives the tensor bit for bit is reported as
//!   reproduced, with the words it drew (a re-initialisation right after building the model).
//!
//! Entries that the seed does not decide (the same bits for two seeds, and not last written by a
//! draw: ones, zeros, buffers, constants) are marked `decided_by_seed: false`: they are compared
//! but never count as evidence. Such a tensor has no init values to correlate a change with: when
//! the seed-decided tensors were perturbed (trained), one that moved at most 4 times as far as
//! they did is reported as perturbed with them (a trained bias of zeros), else as re-initialised. Names in the file and not in the model, entries of the model
//! missing from the file (a tie stored once) and entries whose shape or dtype differ (with a
//! cast to the file's dtype or a transpose tried) are reported as such; a prefix shared by the
//! file's names (`module.`) is stripped when that matches more of the model's names.

mod compare;
mod fit;
mod report;
mod search;
mod subject;

use std::io::{Read, Seek};

pub use report::{
    Combination, Diff, Fit, Modification, ProbeInfo, Report, RuledOut, SearchStats, Status,
    TensorReport, Verdict,
};
pub use search::COMMON_SEEDS;

use compare::{closeness, element_bits, Closeness};
use search::{scan, Group, Probe, Scanned, Space, MAX_PROBES, TRACE_SEED};
use subject::{Built, Step, Subject};

use crate::checkpoint::Checkpoint;
use crate::context::{Capability, Context, Era, RELEASE_ERAS};
use crate::dtype::DType;
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;
use crate::init::{init_function, ArgKind, InitCall};
use crate::modules::model::ModelDesc;
use crate::program::Program;
use crate::tensor::Tensor;

/// What a checkpoint is audited against.
#[derive(Clone, Copy, Debug)]
pub enum Against<'a> {
    /// A model description (`torch-rng-model/1`).
    Model(&'a ModelDesc),
    /// A recorded program (`torch-rng-program/1`).
    Program(&'a Program),
    /// One tensor of the file, made by `call` right after `manual_seed` (its shape and dtype are
    /// the file's).
    Tensor {
        /// The tensor's name in the file.
        name: &'a str,
        /// The init call.
        call: &'a InitCall,
    },
}

/// The default range of seeds searched after the common ones: 0 to 999,999.
pub const DEFAULT_SEEDS: (u64, u64) = (0, 999_999);

/// What to search.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The range of seeds after the common ones, inclusive; `None` is [`DEFAULT_SEEDS`] (or no
    /// range at all when each candidate costs a model build).
    pub seeds: Option<(u64, u64)>,
    /// Whether [`COMMON_SEEDS`] are tried first (default yes).
    pub common_seeds: bool,
    /// The kernel variants (default `default` and `avx2`; `avx512` runs the `avx2` kernels).
    pub variants: Vec<Capability>,
    /// The minor releases `2.x` searched (default 0 to 15); each era whose releases meet them is
    /// searched.
    pub releases: Vec<u32>,
    /// Threads for the scan; 0 uses every core.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            seeds: None,
            common_seeds: true,
            variants: vec![Capability::Default, Capability::Avx2],
            releases: (0..=RELEASE_ERAS[RELEASE_ERAS.len() - 1].last).collect(),
            threads: 0,
        }
    }
}

fn bad_option(what: &str, reason: impl Into<String>) -> Error {
    Error::arg(format!("audit {what}"), reason)
}

impl Options {
    /// These options with the seed range `from..=to` searched after the common seeds.
    #[must_use]
    pub fn with_seeds(mut self, from: u64, to: u64) -> Options {
        self.seeds = Some((from, to));
        self
    }

    /// Parses a seed range: `A..B` (B excluded), `A..=B`, or one seed `N`.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for anything else, or an empty range.
    pub fn parse_seeds(text: &str) -> Result<(u64, u64)> {
        let num = |s: &str| {
            s.trim()
                .replace('_', "")
                .parse::<u64>()
                .map_err(|_| bad_option("--seeds", format!("'{s}' is not a seed (0 to 2^64 - 1)")))
        };
        let (a, b) = if let Some((a, b)) = text.split_once("..=") {
            (num(a)?, num(b)?)
        } else if let Some((a, b)) = text.split_once("..") {
            let b = num(b)?;
            (
                num(a)?,
                b.checked_sub(1)
                    .ok_or_else(|| bad_option("--seeds", "the range is empty"))?,
            )
        } else {
            let n = num(text)?;
            (n, n)
        };
        if a > b {
            return Err(bad_option("--seeds", format!("the range {text} is empty")));
        }
        Ok((a, b))
    }

    /// Parses releases: a comma-separated list of releases (`2.5`, `2.5.1`) and ranges
    /// (`2.0-2.15`), into minor versions.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a release outside 2.0 – 2.15 or a malformed list.
    pub fn parse_releases(text: &str) -> Result<Vec<u32>> {
        let minor = |s: &str| -> Result<u32> {
            let s = s.trim();
            // `2.5` names the minor release: check it as `2.5.0`.
            let full = if s.matches('.').count() == 1 {
                format!("{s}.0")
            } else {
                s.to_string()
            };
            Era::of_release(&full).map_err(|e| bad_option("--releases", e.to_string()))?;
            s.split('.')
                .nth(1)
                .and_then(|m| m.parse().ok())
                .ok_or_else(|| bad_option("--releases", format!("'{s}' is not a release")))
        };
        let mut out = Vec::new();
        for part in text.split(',') {
            let (a, b) = if let Some((a, b)) = part.split_once('-') {
                (minor(a)?, minor(b)?)
            } else {
                let m = minor(part)?;
                (m, m)
            };
            if a > b {
                return Err(bad_option(
                    "--releases",
                    format!("the range {part} is empty"),
                ));
            }
            out.extend(a..=b);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// Parses a comma-separated list of variants (`default,avx2`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for an unknown variant.
    pub fn parse_variants(text: &str) -> Result<Vec<Capability>> {
        let mut out = Vec::new();
        for v in text.split(',') {
            let c = Capability::parse(v.trim())?;
            if !out.contains(&c) {
                out.push(c);
            }
        }
        Ok(out)
    }
}

/// Parses an init call as Python writes it: `kaiming_uniform_(a=sqrt(5))`,
/// `nn.init.normal_(0, 0.02)`, `xavier_uniform_(gain=1.0)`, `kaiming_normal_(mode='fan_out',
/// nonlinearity='relu')`. Arguments are positional (in the function's order) or by keyword;
/// numbers may be written `sqrt(x)`, `math.sqrt(x)`, with `-`, `*`, `/` and parentheses.
///
/// # Errors
/// [`Error::InvalidArgument`] naming what is wrong: an unknown function or argument, a value of
/// the wrong kind, a malformed expression.
pub fn parse_op(text: &str) -> Result<InitCall> {
    let bad = |reason: String| Error::arg("audit --op", format!("{text:?}: {reason}"));
    let text_t = text.trim();
    let (name, rest) = text_t
        .split_once('(')
        .ok_or_else(|| bad("expected NAME(ARGS)".into()))?;
    let inner = rest
        .strip_suffix(')')
        .ok_or_else(|| bad("expected a closing parenthesis".into()))?;
    let name = name.trim();
    let short = name
        .strip_prefix("torch.")
        .unwrap_or(name)
        .strip_prefix("nn.")
        .unwrap_or(name.strip_prefix("torch.").unwrap_or(name));
    let short = short.strip_prefix("init.").unwrap_or(short);
    let f = init_function(short).ok_or_else(|| bad(format!("unknown init function '{name}'")))?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut positional = true;
    for (i, arg) in split_args(inner).into_iter().enumerate() {
        let arg = arg.trim();
        if arg.is_empty() {
            continue;
        }
        let (key, value) = match arg.split_once('=') {
            Some((k, v))
                if k.trim()
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                positional = false;
                (k.trim().to_string(), v.trim())
            }
            _ => {
                if !positional {
                    return Err(bad("a positional argument after a keyword one".into()));
                }
                let a = f.args.get(i).ok_or_else(|| {
                    bad(format!(
                        "{} takes {} arguments after the tensor",
                        f.name,
                        f.args.len()
                    ))
                })?;
                (a.name.to_string(), arg)
            }
        };
        if key == "generator" || key == "tensor" {
            return Err(bad(format!(
                "'{key}' is not audited: name the call's own arguments"
            )));
        }
        let decl = f
            .args
            .iter()
            .find(|a| a.name == key)
            .ok_or_else(|| bad(format!("{} takes no argument '{key}'", f.name)))?;
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(bad(format!("'{key}' is given twice")));
        }
        let v = match decl.kind {
            ArgKind::Str => value
                .strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .or_else(|| value.strip_prefix('"').and_then(|v| v.strip_suffix('"')))
                .ok_or_else(|| bad(format!("'{key}' must be a quoted string")))?
                .to_string(),
            ArgKind::Int => {
                let x = eval(value).map_err(&bad)?;
                if x.fract() != 0.0 || x.abs() > 2f64.powi(53) {
                    return Err(bad(format!("'{key}' must be an integer")));
                }
                format!("{}", x as i64)
            }
            ArgKind::Float => format!("{:?}", eval(value).map_err(&bad)?),
        };
        pairs.push((key, v));
    }
    InitCall::from_text_args(f.name, &pairs).map_err(|e| bad(e.to_string()))
}

/// Splits at top-level commas.
fn split_args(s: &str) -> Vec<&str> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Evaluates a number: literals, `sqrt(x)`, `math.sqrt(x)`, unary `-`, `*`, `/`, parentheses.
fn eval(s: &str) -> std::result::Result<f64, String> {
    struct P<'a> {
        b: &'a [u8],
        i: usize,
        depth: u32,
    }
    impl P<'_> {
        fn ws(&mut self) {
            while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
                self.i += 1;
            }
        }
        fn expr(&mut self) -> std::result::Result<f64, String> {
            self.depth += 1;
            if self.depth > 32 {
                return Err("the expression nests too deeply".into());
            }
            let mut v = self.term()?;
            loop {
                self.ws();
                match self.b.get(self.i) {
                    Some(b'*') => {
                        self.i += 1;
                        v *= self.term()?;
                    }
                    Some(b'/') => {
                        self.i += 1;
                        v /= self.term()?;
                    }
                    _ => break,
                }
            }
            self.depth -= 1;
            Ok(v)
        }
        fn term(&mut self) -> std::result::Result<f64, String> {
            self.ws();
            let rest = &self.b[self.i..];
            if rest.first() == Some(&b'-') {
                self.i += 1;
                return Ok(-self.term()?);
            }
            if rest.first() == Some(&b'(') {
                self.i += 1;
                let v = self.expr()?;
                self.close()?;
                return Ok(v);
            }
            for f in ["math.sqrt(", "sqrt("] {
                if rest.starts_with(f.as_bytes()) {
                    self.i += f.len();
                    let v = self.expr()?;
                    self.close()?;
                    return Ok(v.sqrt());
                }
            }
            let start = self.i;
            while self
                .b
                .get(self.i)
                .is_some_and(|c| c.is_ascii_alphanumeric() || b"._+-".contains(c))
            {
                // A sign only right after an exponent.
                if matches!(self.b[self.i], b'+' | b'-')
                    && !matches!(self.b.get(self.i.wrapping_sub(1)), Some(b'e' | b'E'))
                {
                    break;
                }
                self.i += 1;
            }
            let word = std::str::from_utf8(&self.b[start..self.i]).unwrap_or("");
            crate::init::parse_float(word).ok_or_else(|| format!("'{word}' is not a number"))
        }
        fn close(&mut self) -> std::result::Result<(), String> {
            self.ws();
            if self.b.get(self.i) == Some(&b')') {
                self.i += 1;
                Ok(())
            } else {
                Err("a parenthesis is not closed".into())
            }
        }
    }
    let mut p = P {
        b: s.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = p.expr()?;
    p.ws();
    if p.i != s.len() {
        return Err(format!("unexpected '{}'", &s[p.i..]));
    }
    Ok(v)
}

/// One searched build.
#[derive(Clone, Debug)]
struct Combo {
    cx: Context,
    releases: String,
}

impl Combo {
    fn combination(&self) -> Combination {
        Combination {
            capability: self.cx.capability,
            era: self.cx.era,
            releases: self.releases.clone(),
        }
    }
}

/// The builds searched: every variant, in each era whose releases meet `releases`.
fn combos(options: &Options) -> Result<Vec<Combo>> {
    if options.variants.is_empty() {
        return Err(bad_option("--variants", "no variant to search"));
    }
    let mut out = Vec::new();
    for row in RELEASE_ERAS {
        let minors: Vec<u32> = options
            .releases
            .iter()
            .copied()
            .filter(|m| (row.first..=row.last).contains(m))
            .collect();
        let (Some(&lo), Some(&hi)) = (minors.first(), minors.last()) else {
            continue;
        };
        let releases = if lo == hi {
            format!("2.{lo}")
        } else {
            format!("2.{lo} – 2.{hi}")
        };
        for &capability in &options.variants {
            out.push(Combo {
                cx: Context {
                    capability,
                    era: row.era,
                    ..Context::default()
                },
                releases: releases.clone(),
            });
        }
    }
    if out.is_empty() {
        return Err(bad_option("--releases", "no release to search"));
    }
    Ok(out)
}

/// The file's tensors, read, with how each maps to the model.
struct FileSide {
    names: Vec<String>,
    tensors: Vec<Tensor>,
    /// For each model entry, the file tensor holding it.
    of_entry: Vec<Option<usize>>,
    /// For each file tensor, the model entry.
    entry_of: Vec<Option<usize>>,
    prefix: Option<String>,
    /// Ties of the `.pt` file: tensor → the first tensor on its storage.
    storage_tie: Vec<Option<usize>>,
}

fn read_file<R: Read + Seek>(
    ck: &mut Checkpoint<R>,
    only: Option<&str>,
) -> Result<(Vec<String>, Vec<Tensor>)> {
    let mut names = Vec::new();
    let mut tensors = Vec::new();
    for i in 0..ck.tensors().len() {
        let name = ck.tensors()[i].name().to_string();
        if only.is_some_and(|o| o != name) {
            continue;
        }
        let raw = ck.read_tensor(i)?;
        let t = raw.to_tensor().map_err(|e| Error::Malformed {
            location: format!("{}: tensor '{name}'", ck.location()),
            reason: e.to_string(),
        })?;
        names.push(name);
        tensors.push(t);
    }
    Ok((names, tensors))
}

/// The prefix to strip from the file's names (`module.`) when that matches more model names.
fn best_prefix(file: &[String], model: &[String]) -> Option<String> {
    let count = |p: &str| {
        file.iter()
            .filter(|n| {
                n.strip_prefix(p)
                    .is_some_and(|s| model.iter().any(|m| m == s))
            })
            .count()
    };
    let plain = count("");
    let mut best: Option<(usize, String)> = None;
    for n in file {
        let mut at = 0;
        // Prefixes of up to two dotted segments (`model.`, `module.model.`).
        for _ in 0..2 {
            let Some(dot) = n[at..].find('.') else {
                break;
            };
            at += dot + 1;
            let p = &n[..at];
            if best.as_ref().is_some_and(|(_, b)| b == p) {
                continue;
            }
            let c = count(p);
            if c > plain && best.as_ref().is_none_or(|(bc, _)| c > *bc) {
                best = Some((c, p.to_string()));
            }
        }
    }
    best.map(|(_, p)| p)
}

impl FileSide {
    fn new<R: Read + Seek>(
        ck: &mut Checkpoint<R>,
        model: &[(String, Tensor)],
        only: Option<&str>,
    ) -> Result<FileSide> {
        let (names, mut tensors) = read_file(ck, only)?;
        let model_names: Vec<String> = model.iter().map(|(n, _)| n.clone()).collect();
        let prefix = if only.is_some() {
            None
        } else {
            best_prefix(&names, &model_names)
        };
        let strip = |n: &str| -> String {
            match &prefix {
                Some(p) => n.strip_prefix(p.as_str()).unwrap_or(n).to_string(),
                None => n.to_string(),
            }
        };
        let entry_of: Vec<Option<usize>> = names
            .iter()
            .map(|n| {
                let s = strip(n);
                model_names.iter().position(|m| *m == s)
            })
            .collect();
        let mut of_entry = vec![None; model.len()];
        for (i, e) in entry_of.iter().enumerate() {
            if let Some(e) = *e {
                of_entry[e] = Some(i);
            }
        }
        // NumPy has no bfloat16: a uint16 array where the model has bfloat16 holds its bits.
        for (i, e) in entry_of.iter().enumerate() {
            if let Some((_, m)) = e.and_then(|e| model.get(e)) {
                if tensors[i].dtype() == DType::UInt16
                    && m.dtype() == DType::BFloat16
                    && tensors[i].shape() == m.shape()
                {
                    let raw = crate::checkpoint::RawTensor::from_tensor(&tensors[i]);
                    tensors[i] = raw.reinterpret(DType::BFloat16)?.to_tensor()?;
                }
            }
        }
        let mut storage_tie = vec![None; names.len()];
        for tie in ck.ties() {
            let idx: Vec<usize> = tie
                .names
                .iter()
                .filter_map(|n| names.iter().position(|m| m == n))
                .collect();
            if let Some((&first, rest)) = idx.split_first() {
                for &i in rest {
                    storage_tie[i] = Some(first);
                }
            }
        }
        Ok(FileSide {
            names,
            tensors,
            of_entry,
            entry_of,
            prefix,
            storage_tie,
        })
    }

    /// The file's tensor for model entry `e`, if it has the model's shape and dtype.
    fn fitting(&self, e: usize, model: &[(String, Tensor)]) -> Option<&Tensor> {
        let t = &self.tensors[self.of_entry.get(e).copied().flatten()?];
        let (_, m) = model.get(e)?;
        (t.shape() == m.shape() && t.dtype() == m.dtype()).then_some(t)
    }

    /// Another tensor of the file that `i` is tied to: the same storage, or the same bytes (for a
    /// tensor that is not constant).
    fn tie(&self, i: usize) -> Option<usize> {
        if let Some(j) = self.storage_tie[i] {
            return Some(j);
        }
        let t = &self.tensors[i];
        let bits = t.bits();
        if bits.len() < 2 || bits.iter().all(|&b| b == bits[0]) {
            return None;
        }
        (0..i).find(|&j| {
            let u = &self.tensors[j];
            u.dtype() == t.dtype() && u.shape() == t.shape() && u.bits() == bits
        })
    }
}

/// Evidence, in bits, that a build's entry gives the file's: the mantissa bits of its elements
/// when exact, a little less when near, 64 for a related tensor of 32 or more elements.
fn evidence(c: Closeness, t: &Tensor) -> u64 {
    let n = t.numel() as u64;
    match c {
        Closeness::Exact => n * element_bits(t.dtype()),
        Closeness::Near => n * element_bits(t.dtype()).saturating_sub(2),
        Closeness::Related => 64,
        Closeness::Unrelated => 0,
    }
}

/// A build's agreement with the file over the seed-decided entries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
struct Score {
    exact: usize,
    near: usize,
    related: usize,
    evidence: u64,
    /// Elements bit-identical to the file's (tells builds apart when every tensor was trained:
    /// the elements a step left unchanged still hold the right build's bits).
    equal_elements: u64,
}

fn score(built: &Built, file: &FileSide, decided: &[bool]) -> Score {
    let mut s = Score::default();
    for (e, (_, t)) in built.state.iter().enumerate() {
        if !decided.get(e).copied().unwrap_or(false) {
            continue;
        }
        let Some(f) = file.fitting(e, &built.state) else {
            continue;
        };
        let c = closeness(f.storage(), t.storage(), t.numel());
        match c {
            Closeness::Exact => s.exact += 1,
            Closeness::Near => s.near += 1,
            Closeness::Related => s.related += 1,
            Closeness::Unrelated => {}
        }
        s.evidence += evidence(c, t);
        let (fs, ts) = (f.storage(), t.storage());
        s.equal_elements += (0..t.numel())
            .filter(|&i| fs.bits_at(i) == ts.bits_at(i))
            .count() as u64;
    }
    s
}

/// The entries the seed decides: bits that differ between two seeds, or last written by a step
/// that drew words.
fn decided(a: &Built, b: &Built, steps: &[Step]) -> Vec<bool> {
    a.state
        .iter()
        .zip(&b.state)
        .enumerate()
        .map(|(e, ((_, x), (_, y)))| {
            x.bits() != y.bits()
                || steps
                    .iter()
                    .rev()
                    .find(|s| s.entry == Some(e))
                    .is_some_and(|s| s.words.is_some_and(|w| w > 0))
        })
        .collect()
}

/// The seed found, the index of the best build, that build, and every surviving build.
type Best = (u64, usize, Built, Vec<(usize, Built)>);

/// Runs an audit of the checkpoint `ck` against `against`.
///
/// # Errors
/// What reading the checkpoint rejects (a corrupt or hostile file is an [`Error::Malformed`]),
/// what building the model rejects, a bad option, or a `--tensor` name the file lacks.
#[allow(clippy::too_many_lines)] // the steps of the audit, in order
pub fn audit<R: Read + Seek>(
    ck: &mut Checkpoint<R>,
    against: Against<'_>,
    options: &Options,
) -> Result<Report> {
    let combos = combos(options)?;
    let file_label = ck.location().to_string();
    let format = ck.format().name().to_string();
    let (tensor_shape, tensor_dtype) = match against {
        Against::Tensor { name, .. } => {
            let info = ck
                .tensors()
                .iter()
                .find(|t| t.name() == name)
                .ok_or_else(|| {
                    let have: Vec<&str> = ck
                        .tensors()
                        .iter()
                        .take(20)
                        .map(crate::checkpoint::TensorInfo::name)
                        .collect();
                    Error::arg(
                        "audit --tensor",
                        format!(
                            "{file_label} has no tensor '{name}' (it has: {})",
                            have.join(", ")
                        ),
                    )
                })?;
            (info.shape().to_vec(), info.dtype())
        }
        _ => (Vec::new(), DType::Float32),
    };
    let subject = match against {
        Against::Model(d) => Subject::Desc(d),
        Against::Program(p) => Subject::Program(p),
        Against::Tensor { name, call } => Subject::Tensor {
            name,
            shape: &tensor_shape,
            dtype: tensor_dtype,
            call,
        },
    };
    let subject_label = match against {
        Against::Model(_) => "a model description".to_string(),
        Against::Program(p) => p.expr().map_or("a recorded program".to_string(), |e| {
            format!("the recorded program of {e}")
        }),
        Against::Tensor { name, call } => format!("tensor {name} made by {}", fit::python(call)),
    };
    let mut notes = Vec::new();

    // The reference builds: one per searched build, traced from TRACE_SEED.
    let mut traces: Vec<Option<(Built, Vec<Step>)>> = Vec::with_capacity(combos.len());
    let mut first_error = None;
    for c in &combos {
        match subject.trace(c.cx, TRACE_SEED) {
            Ok(t) => traces.push(Some(t)),
            Err(e) => {
                notes.push(format!(
                    "{} {}: the model cannot be built there ({e})",
                    c.cx.capability, c.releases
                ));
                first_error.get_or_insert(e);
                traces.push(None);
            }
        }
    }
    let Some(reference) = traces.iter().flatten().next().map(|t| t.0.clone()) else {
        return Err(first_error.unwrap_or_else(|| Error::arg("audit", "nothing to build")));
    };
    let ref_index = traces.iter().position(Option::is_some).unwrap_or(0);
    let ref_cx = combos[ref_index].cx;
    let ref_steps = traces[ref_index]
        .as_ref()
        .map(|t| t.1.clone())
        .unwrap_or_default();
    let other_seed = subject.build(ref_cx, TRACE_SEED + 1)?;
    let decided = decided(&reference, &other_seed, &ref_steps);
    // Entries tied in the model: the same bits as an earlier decided entry under both seeds.
    let model_tie: Vec<Option<usize>> = (0..reference.state.len())
        .map(|e| {
            (0..e).find(|&j| {
                decided[j]
                    && reference.state[j].1.bits() == reference.state[e].1.bits()
                    && other_seed.state[j].1.bits() == other_seed.state[e].1.bits()
            })
        })
        .collect();

    let only = match against {
        Against::Tensor { name, .. } => Some(name),
        _ => None,
    };
    let file = FileSide::new(ck, &reference.state, only)?;
    if let Some(p) = &file.prefix {
        notes.push(format!(
            "the file's names carry the prefix '{p}', stripped to match the model"
        ));
    }
    let usable = |e: usize| decided[e] && file.fitting(e, &reference.state).is_some();
    let file_by_entry: Vec<Option<Tensor>> = (0..reference.state.len())
        .map(|e| file.fitting(e, &reference.state).cloned())
        .collect();

    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        options.threads
    };
    let mut stats = SearchStats {
        common_seeds: if options.common_seeds {
            COMMON_SEEDS.len()
        } else {
            0
        },
        range: None,
        seeds_tried: 0,
        candidates_tried: 0,
        seconds: 0.0,
        seeds_per_second: 0.0,
        probes: Vec::new(),
        slow: false,
        found_in: None,
    };

    let any_decided = (0..reference.state.len()).any(usable);
    let mut found: Option<(u64, Vec<(usize, Built)>)> = None;
    let mut probe_entry_of: Vec<Option<usize>> = vec![None; combos.len()];
    if any_decided {
        let probes: Vec<Vec<Probe>> = combos
            .iter()
            .zip(&traces)
            .map(|(c, t)| match t {
                Some((b, steps)) => search::probes(steps, &b.state, c.cx, &usable),
                None => Vec::new(),
            })
            .collect();
        let cxs: Vec<Context> = combos.iter().map(|c| c.cx).collect();
        let mut scanned = Scanned::default();
        let mut candidates = 0u64;
        let slow = probes.iter().all(Vec::is_empty);
        let range = match (options.seeds, slow) {
            (Some(r), _) => Some(r),
            (None, false) => Some(DEFAULT_SEEDS),
            (None, true) => None,
        };
        let space = Space {
            common: if options.common_seeds {
                COMMON_SEEDS.to_vec()
            } else {
                Vec::new()
            },
            range,
        };
        let verify = |seed: u64, members: &[usize]| -> Option<Vec<(usize, Built)>> {
            let builds: Vec<(usize, Built)> = members
                .iter()
                .filter_map(|&m| subject.build(combos[m].cx, seed).ok().map(|b| (m, b)))
                .collect();
            let best = builds
                .iter()
                .map(|(_, b)| score(b, &file, &decided))
                .max()?;
            let total_bits: u64 = (0..reference.state.len())
                .filter(|&e| usable(e))
                .map(|e| {
                    reference.state[e].1.numel() as u64 * element_bits(reference.state[e].1.dtype())
                })
                .sum();
            (best.evidence >= 64.min(total_bits) && best.evidence > 0).then_some(builds)
        };
        if slow {
            stats.slow = true;
            let entry = (0..reference.state.len()).find(|&e| usable(e));
            if let Some(e) = entry {
                probe_entry_of = vec![Some(e); combos.len()];
                stats.probes.push(ProbeInfo {
                    tensor: reference.state[e].0.clone(),
                    call: "a whole model build".into(),
                    offset_words: 0,
                    elements: reference.state[e].1.numel(),
                });
                let f = file_by_entry[e].clone();
                let eval = |seed: u64| -> Option<Vec<usize>> {
                    let f = f.as_ref()?;
                    let hits: Vec<usize> = (0..combos.len())
                        .filter(|&m| traces[m].is_some())
                        .filter(|&m| {
                            subject.build(combos[m].cx, seed).ok().is_some_and(|b| {
                                closeness(f.storage(), b.state[e].1.storage(), f.numel())
                                    != Closeness::Unrelated
                            })
                        })
                        .collect();
                    (!hits.is_empty()).then_some(hits)
                };
                let mut from = 0;
                while let Some((pos, seed, members)) =
                    scan(&space, from, threads, &eval, &mut scanned)
                {
                    if let Some(builds) = verify(seed, &members) {
                        stats.found_in = Some(if space.in_range(pos) {
                            "range"
                        } else {
                            "common seeds"
                        });
                        found = Some((seed, builds));
                        break;
                    }
                    from = pos + 1;
                }
                candidates += scanned.seeds * combos.len() as u64;
            }
            if options.seeds.is_none() {
                notes.push(
                    "no probe: each candidate costs a model build, so only the common seeds were \
                     tried (give --seeds to search a range)"
                        .into(),
                );
            }
        } else {
            'passes: for pass in 0..MAX_PROBES {
                let groups: Vec<Group> = search::groups(&cxs, &probes, pass);
                if groups.is_empty() {
                    break;
                }
                for g in &groups {
                    let info = ProbeInfo {
                        tensor: reference.state[g.probe.entry].0.clone(),
                        call: g.probe.call.clone(),
                        offset_words: g.probe.offset,
                        elements: g.probe.k,
                    };
                    if !stats.probes.contains(&info) {
                        stats.probes.push(info);
                    }
                }
                let eval = |seed: u64| -> Option<Vec<(usize, Closeness)>> {
                    let hits = search::eval_seed(seed, &groups, &file_by_entry);
                    (!hits.is_empty()).then_some(hits)
                };
                let mut from = 0;
                let before = scanned.seeds;
                while let Some((pos, seed, hits)) = scan(&space, from, threads, &eval, &mut scanned)
                {
                    let members: Vec<usize> = hits
                        .iter()
                        .flat_map(|(g, _)| groups[*g].members.clone())
                        .collect();
                    if let Some(builds) = verify(seed, &members) {
                        stats.found_in = Some(if space.in_range(pos) {
                            "range"
                        } else {
                            "common seeds"
                        });
                        for g in &groups {
                            for &m in &g.members {
                                probe_entry_of[m] = Some(g.probe.entry);
                            }
                        }
                        found = Some((seed, builds));
                        candidates += (scanned.seeds - before) * groups.len() as u64;
                        break 'passes;
                    }
                    from = pos + 1;
                }
                candidates += (scanned.seeds - before) * groups.len() as u64;
                for g in &groups {
                    for &m in &g.members {
                        probe_entry_of[m] = Some(g.probe.entry);
                    }
                }
            }
        }
        stats.seeds_tried = scanned.seeds;
        stats.candidates_tried = candidates;
        stats.seconds = scanned.seconds;
        stats.seeds_per_second = if scanned.seconds > 0.0 {
            scanned.seeds as f64 / scanned.seconds
        } else {
            0.0
        };
        stats.range = match (stats.found_in, range) {
            (Some("common seeds"), _) => None,
            (_, r) => r,
        };
    }

    // The answer: the best build, the builds that give the same bits, the ruled-out ones.
    let mut report = Report {
        file: file_label,
        format,
        subject: subject_label,
        prefix: file.prefix.clone(),
        search: stats,
        seed: None,
        combinations: Vec::new(),
        ruled_out: Vec::new(),
        tensors: Vec::new(),
        verdict: if any_decided {
            Verdict::NotFound
        } else {
            Verdict::Undecided
        },
        notes,
    };
    let entry_name = |e: usize| {
        reference
            .state
            .get(e)
            .map_or_else(String::new, |(n, _)| n.clone())
    };
    let best: Option<Best> = found.and_then(|(seed, builds)| {
        let (bi, _) = builds
            .iter()
            .enumerate()
            .max_by_key(|(i, (_, b))| (score(b, &file, &decided), std::cmp::Reverse(*i)))?;
        let best = builds[bi].1.clone();
        let m = builds[bi].0;
        Some((seed, m, best, builds))
    });
    if let Some((seed, best_m, best, builds)) = &best {
        report.seed = Some(*seed);
        for (i, c) in combos.iter().enumerate() {
            let built = builds.iter().find(|(m, _)| *m == i).map(|(_, b)| b);
            match built {
                Some(b) => {
                    let differs = (0..best.state.len()).find(|&e| {
                        b.state.get(e).map(|x| x.1.bits()) != Some(best.state[e].1.bits())
                    });
                    match differs {
                        None => report.combinations.push(c.combination()),
                        Some(e) => report.ruled_out.push(RuledOut {
                            combination: c.combination(),
                            by: entry_name(e),
                        }),
                    }
                }
                None => report.ruled_out.push(RuledOut {
                    combination: c.combination(),
                    by: if traces[i].is_none() {
                        "(cannot be built)".to_string()
                    } else {
                        probe_entry_of[i].map_or_else(|| "(no probe)".to_string(), entry_name)
                    },
                }),
            }
        }
        let _ = best_m;
        let total: u64 = score(best, &file, &decided).evidence;
        if total < 64 {
            report.notes.push(format!(
                "weak evidence: the seed-decided elements that match carry {total} bits"
            ));
        }
    }

    // Tensor by tensor.
    let init_state = best.as_ref().map_or(&reference.state, |b| &b.2.state);
    let best_cx = best.as_ref().map(|b| combos[b.1].cx);
    // Re-initialisations, in state_dict order, continuing the stream after the build.
    let mut reproduced: Vec<Option<(String, u64, u64)>> = vec![None; init_state.len()];
    let mut reinit: Vec<bool> = vec![false; init_state.len()];
    let mut mods: Vec<Option<Option<Modification>>> = vec![None; init_state.len()];
    if let (Some((seed, _, b, _)), Some(cx)) = (&best, best_cx) {
        let mut gen = b.end.clone();
        let mut at = gen.words_since(&CpuGenerator::with_seed(*seed));
        for e in 0..init_state.len() {
            let Some(fi) = file.of_entry[e] else { continue };
            let Some(f) = file.fitting(e, init_state) else {
                continue;
            };
            let init = &init_state[e].1;
            if f.bits() == init.bits() {
                continue;
            }
            if compare::near(f, init) {
                continue;
            }
            let tie = file.tie(fi).map(|j| file.names[j].clone());
            let m = compare::modification(f, init, tie.as_deref());
            if m.is_none() {
                reinit[e] = true;
                if let Some((call, n)) = fit::reproduce(f, &mut gen, cx) {
                    reproduced[e] = Some((call, at.unwrap_or(0), n));
                    at = at.map(|a| a + n);
                }
            }
            mods[e] = Some(m);
        }
    }
    let mut variant_builds: Vec<(Capability, Built)> = Vec::new();
    for (i, name) in file.names.iter().enumerate() {
        let t = &file.tensors[i];
        let tie_of = file.tie(i).map(|j| file.names[j].clone());
        let Some(e) = file.entry_of[i] else {
            report.tensors.push(TensorReport {
                name: name.clone(),
                dtype: t.dtype(),
                shape: t.shape().to_vec(),
                decided_by_seed: false,
                tie_of,
                status: Status::NotInModel,
            });
            continue;
        };
        let init = &init_state[e].1;
        let is_decided = decided[e];
        let status = if t.shape() != init.shape() || t.dtype() != init.dtype() {
            Status::DoesNotFit {
                reason: misfit(t, init),
            }
        } else if t.bits() == init.bits() {
            Status::Identical
        } else if best.is_none() && is_decided {
            Status::Unmatched {
                fits: fit::fits(t, ref_cx),
            }
        } else {
            let diff = compare::diff(t.storage(), init.storage());
            if compare::near(t, init) {
                // Which variants give it exactly (the same era and seed).
                let mut under = Vec::new();
                if let (Some((seed, _, _, _)), Some(cx)) = (&best, best_cx) {
                    for &cap in &options.variants {
                        if cap == cx.capability {
                            continue;
                        }
                        if !variant_builds.iter().any(|(c, _)| *c == cap) {
                            if let Ok(b) = subject.build(
                                Context {
                                    capability: cap,
                                    ..cx
                                },
                                *seed,
                            ) {
                                variant_builds.push((cap, b));
                            }
                        }
                        if let Some((_, b)) = variant_builds.iter().find(|(c, _)| *c == cap) {
                            if b.state.get(e).is_some_and(|(_, x)| x.bits() == t.bits()) {
                                under.push(cap);
                            }
                        }
                    }
                }
                Status::VariantUlp {
                    diff,
                    identical_under: under,
                }
            } else {
                let m = match mods[e].clone() {
                    Some(m) => m,
                    None => compare::modification(t, init, tie_of.as_deref()),
                };
                match m {
                    Some(how) => Status::Modified { diff, how },
                    None => Status::Reinitialised {
                        diff,
                        fits: if reinit[e] || is_decided || best.is_some() {
                            fit::fits(t, best_cx.unwrap_or(ref_cx))
                        } else {
                            Vec::new()
                        },
                        reproduced: reproduced[e].clone(),
                    },
                }
            }
        };
        report.tensors.push(TensorReport {
            name: name.clone(),
            dtype: t.dtype(),
            shape: t.shape().to_vec(),
            decided_by_seed: is_decided,
            tie_of,
            status,
        });
    }
    if only.is_none() {
        for (e, (name, t)) in init_state.iter().enumerate() {
            if file.of_entry[e].is_none() {
                report.tensors.push(TensorReport {
                    name: name.clone(),
                    dtype: t.dtype(),
                    shape: t.shape().to_vec(),
                    decided_by_seed: decided[e],
                    tie_of: None,
                    status: Status::Missing {
                        tied_to: model_tie[e].map(entry_name),
                    },
                });
            }
        }
    }
    trained_along(&mut report.tensors);
    if report.seed.is_some() {
        report.verdict = if report.tensors.iter().all(|t| t.status == Status::Identical) {
            Verdict::Identical
        } else {
            Verdict::Differs
        };
    }
    Ok(report)
}

/// How far the seed-decided tensors moved when training perturbed them, times this, bounds the
/// change of a constant-initialised tensor (a bias of zeros, a norm's ones) trained along.
const TRAINED_ALONG: f64 = 4.0;

/// A tensor the seed does not decide (its init a constant: zeros, ones) has no values to
/// correlate a change with, so a trained bias of zeros looks like a re-initialisation. When the
/// file's seed-decided tensors were perturbed (trained), such a tensor that moved no further
/// than [`TRAINED_ALONG`] times as far as they did is reported as perturbed with them.
fn trained_along(tensors: &mut [TensorReport]) {
    let moved = tensors
        .iter()
        .filter(|t| t.decided_by_seed)
        .filter_map(|t| match &t.status {
            Status::Modified {
                diff,
                how: Modification::Perturbed { .. },
            } => Some(diff.max_abs),
            _ => None,
        })
        .fold(0.0, f64::max);
    if moved == 0.0 {
        return;
    }
    for t in tensors.iter_mut().filter(|t| !t.decided_by_seed) {
        if let Status::Reinitialised { diff, .. } = &t.status {
            if diff.max_abs <= TRAINED_ALONG * moved {
                t.status = Status::Modified {
                    diff: diff.clone(),
                    how: Modification::Perturbed {
                        correlation: f64::NAN,
                    },
                };
            }
        }
    }
}

/// Why a tensor with the model's name does not fit it, and what its values are if a cast or a
/// transpose explains them.
fn misfit(t: &Tensor, init: &Tensor) -> String {
    let mut reason = if t.shape() == init.shape() {
        format!(
            "dtype {} where the model has {}",
            t.dtype().name(),
            init.dtype().name()
        )
    } else {
        format!(
            "shape {:?} where the model has {:?}",
            t.shape(),
            init.shape()
        )
    };
    if t.shape() == init.shape() {
        if let Some(c) = compare::cast(init, t.dtype()) {
            if c.bits() == t.bits() {
                reason.push_str("; its values are the init cast to ");
                reason.push_str(t.dtype().name());
            }
        }
    } else if let Some(tr) = compare::transposed(init) {
        if tr.shape() == t.shape() && tr.dtype() == t.dtype() && tr.bits() == t.bits() {
            reason.push_str("; its values are the init transposed");
        }
    }
    reason
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse() {
        assert_eq!(Options::parse_seeds("0..100000").unwrap(), (0, 99_999));
        assert_eq!(Options::parse_seeds("5..=7").unwrap(), (5, 7));
        assert_eq!(Options::parse_seeds("42").unwrap(), (42, 42));
        assert_eq!(Options::parse_seeds("1_000..2_000").unwrap(), (1000, 1999));
        for bad in ["", "a..b", "5..5", "7..=5", "-1", "0..18446744073709551616"] {
            assert!(Options::parse_seeds(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Options::parse_releases("2.0-2.15").unwrap(),
            (0..=15).collect::<Vec<_>>()
        );
        assert_eq!(Options::parse_releases("2.5.1,2.12").unwrap(), [5, 12]);
        assert_eq!(
            Options::parse_releases("2.13-2.15,2.14").unwrap(),
            [13, 14, 15]
        );
        for bad in ["2.16", "1.13", "2.5-2.1", "x"] {
            assert!(Options::parse_releases(bad).is_err(), "{bad}");
        }
        assert_eq!(
            Options::parse_variants("default, avx2,avx2").unwrap(),
            [Capability::Default, Capability::Avx2]
        );
        assert!(Options::parse_variants("neon").is_err());
    }

    #[test]
    fn ops_parse_as_python_writes_them() {
        let c = parse_op("kaiming_uniform_(a=sqrt(5))").unwrap();
        assert_eq!(
            c,
            InitCall::KaimingUniform {
                a: 5f64.sqrt(),
                mode: crate::init::FanMode::FanIn,
                nonlinearity: crate::init::Nonlinearity::LeakyRelu
            }
        );
        assert_eq!(
            parse_op("nn.init.normal_(0, 0.02)").unwrap(),
            InitCall::Normal {
                mean: 0.0,
                std: 0.02
            }
        );
        assert_eq!(
            parse_op("torch.nn.init.uniform_(-1/math.sqrt(4), b = 1 / sqrt(4))").unwrap(),
            InitCall::Uniform { a: -0.5, b: 0.5 }
        );
        assert_eq!(
            parse_op("kaiming_normal_(mode='fan_out', nonlinearity=\"relu\")").unwrap(),
            parse_op("kaiming_normal_(0, 'fan_out', 'relu')").unwrap()
        );
        assert_eq!(
            parse_op("trunc_normal_(std=2e-2)").unwrap(),
            InitCall::TruncNormal {
                mean: 0.0,
                std: 0.02,
                a: -2.0,
                b: 2.0
            }
        );
        for (bad, why) in [
            ("frob_(1)", "unknown init function"),
            ("normal_(0, 1", "closing parenthesis"),
            ("normal_(mean=0, 1)", "positional argument after"),
            ("normal_(0, 1, 2)", "takes 2 arguments"),
            ("normal_(sigma=1)", "no argument 'sigma'"),
            ("normal_(std=sqrt(2)", "parenthesis is not closed"),
            ("kaiming_normal_(mode=fan_out)", "quoted string"),
            ("normal_(std=x)", "not a number"),
            ("normal_(std=1, std=2)", "twice"),
            ("dirac_(groups=1.5)", "integer"),
            ("normal_(generator=g)", "not audited"),
        ] {
            let e = parse_op(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
        assert!(eval(&"(".repeat(100)).is_err());
    }
}
