//! What an audit found: [`Report`], as text for people and as JSON for CI jobs.

use std::fmt::Write as _;

use serde_json::{json, Value};

use crate::context::{Capability, Era};
use crate::dtype::DType;

/// One build that gives the weights: a kernel variant and a release era (the releases of an era
/// give the same bits).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Combination {
    /// The kernel variant (`ATEN_CPU_CAPABILITY`).
    pub capability: Capability,
    /// The release era.
    pub era: Era,
    /// The releases of the era that were searched, as text (`"2.13 – 2.15"`).
    pub releases: String,
}

/// A build that was searched and does not give the weights, with the tensor that ruled it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuledOut {
    /// The build.
    pub combination: Combination,
    /// The first tensor whose bits tell it apart (the search probe, or a later tensor when it
    /// agreed on the probe).
    pub by: String,
}

/// Where the search looked for a seed, and how fast.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchStats {
    /// How many common seeds were tried first (0, 1, 42, 1234, 3407, 2^32 − 1, ...).
    pub common_seeds: usize,
    /// The range searched after them, inclusive (`None` when the search stopped before it).
    pub range: Option<(u64, u64)>,
    /// Seeds tried (each against every build searched).
    pub seeds_tried: u64,
    /// Candidates tried: seed and build pairs that the probe evaluated (builds whose probe
    /// values agree on a few test seeds are evaluated once).
    pub candidates_tried: u64,
    /// Wall-clock seconds of the search (probe evaluation, not the reading or the comparisons).
    pub seconds: f64,
    /// Seeds per second.
    pub seeds_per_second: f64,
    /// The probes: the tensors whose first elements were generated per candidate, in the order
    /// the search used them.
    pub probes: Vec<ProbeInfo>,
    /// Whether no probe could be derived and each candidate cost a whole model build.
    pub slow: bool,
    /// Where the seed was found (`"common seeds"` or `"range"`).
    pub found_in: Option<&'static str>,
}

/// One search probe: a seed-decided tensor whose first elements are generated per candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeInfo {
    /// The tensor.
    pub tensor: String,
    /// The call that draws them (`nn.init.kaiming_uniform_(a=2.23606797749979, ...)`).
    pub call: String,
    /// The 32-bit words drawn after `manual_seed` before the tensor's first element.
    pub offset_words: u64,
    /// How many of its first elements are generated and compared.
    pub elements: usize,
}

/// How a file's tensor differs from the init, element by element.
#[derive(Clone, Debug, PartialEq)]
pub struct Diff {
    /// Elements compared.
    pub numel: u64,
    /// Elements whose bits differ.
    pub differing: u64,
    /// The largest difference in units in the last place of the dtype (for integer dtypes, the
    /// largest absolute difference).
    pub max_ulp: u64,
    /// The largest absolute difference of the values.
    pub max_abs: f64,
}

/// What changed a modified tensor, as far as its values tell.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Modification {
    /// Every element is the init times one factor.
    Scaled {
        /// The factor.
        factor: f64,
        /// Whether `init * factor`, rounded to the dtype, gives every element's bits
        /// (`w.mul_(factor)`).
        exact: bool,
    },
    /// The differing elements are zeros (pruned or masked).
    Pruned {
        /// Elements set to zero.
        zeroed: u64,
    },
    /// Few distinct values, close to the init (quantised and dequantised).
    Quantised {
        /// Distinct values in the tensor.
        levels: u64,
    },
    /// The tensor holds another tensor's values (a tie: shared storage in a `.pt` file, or equal
    /// bytes).
    Tie {
        /// The tensor it is a copy or a view of.
        of: String,
    },
    /// Close to the init, every element moved a little (trained, or noise added).
    Perturbed {
        /// Pearson correlation of the values with the init's (NaN when the init is a constant:
        /// `null` in JSON).
        correlation: f64,
    },
}

/// One init call that fits a tensor's values, with the checks it passed.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// The call, as Python writes it (`normal_(mean=0.0, std=0.02)`).
    pub call: String,
    /// The checks and their numbers (mean, std or bounds, the Kolmogorov–Smirnov distance).
    pub checks: Vec<String>,
    /// 32-bit words the call draws for this tensor (the draw count).
    pub words: Option<u64>,
}

/// What the audit says about one tensor.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Bit-identical to the init.
    Identical,
    /// Equal up to the kernel variant: every differing element is at most 2 ulp off, or at most
    /// 8 ulp of the tensor's largest magnitude off, as fused multiply-adds or another vector
    /// math library give.
    VariantUlp {
        /// How it differs.
        diff: Diff,
        /// Variants whose build gives this tensor bit for bit.
        identical_under: Vec<Capability>,
    },
    /// Values unrelated to the init: re-initialised.
    Reinitialised {
        /// How it differs.
        diff: Diff,
        /// The init calls whose distribution fits the values.
        fits: Vec<Fit>,
        /// The call that reproduces the tensor exactly by continuing the seed's stream after the
        /// build, with the words it drew (`(call, first word, words)`).
        reproduced: Option<(String, u64, u64)>,
    },
    /// Close to the init, but not equal.
    Modified {
        /// How it differs.
        diff: Diff,
        /// What the values say about the change.
        how: Modification,
    },
    /// No seed was found: the tensor's values alone, with the init calls that fit them.
    Unmatched {
        /// The init calls whose distribution fits the values.
        fits: Vec<Fit>,
    },
    /// In the file, not in the model.
    NotInModel,
    /// In the model, not in the file.
    Missing {
        /// The entry it is tied to in the model (files that store a tie once drop a name).
        tied_to: Option<String>,
    },
    /// The name is the model's, but the shape or dtype is not.
    DoesNotFit {
        /// What differs, and what the values are if a conversion explains them.
        reason: String,
    },
}

/// One tensor of the file (or of the model, when the file lacks it).
#[derive(Clone, Debug, PartialEq)]
pub struct TensorReport {
    /// Its name in the file (the model's name when missing).
    pub name: String,
    /// Its dtype.
    pub dtype: DType,
    /// Its shape.
    pub shape: Vec<usize>,
    /// Whether the seed decides its values; `false` for tensors constant by construction (ones,
    /// zeros, buffers), which are never counted as evidence for a seed.
    pub decided_by_seed: bool,
    /// Another tensor of the file that it shares storage with or equals byte for byte (tied).
    pub tie_of: Option<String>,
    /// What the audit found.
    pub status: Status,
}

/// The overall answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// A seed and build were found, and every tensor is bit-identical to their init.
    Identical,
    /// A seed and build were found, and some tensors differ (or do not fit the model).
    Differs,
    /// No seed in the searched space gives the weights.
    NotFound,
    /// The model has no tensor the seed decides: no seed can be confirmed.
    Undecided,
}

impl Verdict {
    /// The name used in JSON and text (`identical`, `differs`, `not found`, `undecided`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Differs => "differs",
            Verdict::NotFound => "not found",
            Verdict::Undecided => "undecided",
        }
    }
}

/// Everything an audit found: which seed, variant and releases made the weights, what differs
/// from that init tensor by tensor, and which tensors the seed does not decide.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// The file (as named to the audit).
    pub file: String,
    /// Its format (`safetensors`, `pt`, `npz`).
    pub format: String,
    /// What it was audited against (the model file, or the tensor and its call).
    pub subject: String,
    /// A prefix stripped from every file name to match the model's (`module.`), if any.
    pub prefix: Option<String>,
    /// The search.
    pub search: SearchStats,
    /// The seed found; the streams of `seed + k * 2^32` are the same (PyTorch's mt19937 takes
    /// the low 32 bits), so those seeds give the same weights.
    pub seed: Option<u64>,
    /// Every build that gives the weights with that seed (all give the same bits).
    pub combinations: Vec<Combination>,
    /// The other builds searched, each with the tensor that ruled it out.
    pub ruled_out: Vec<RuledOut>,
    /// The file's tensors in file order, then the model's entries missing from it.
    pub tensors: Vec<TensorReport>,
    /// The overall answer.
    pub verdict: Verdict,
    /// Remarks (weak evidence, the search space, a prefix, ...).
    pub notes: Vec<String>,
}

fn g(v: f64) -> String {
    if v == 0.0 || (1e-4..1e6).contains(&v.abs()) {
        let s = format!("{v:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{v:.4e}")
    }
}

impl Combination {
    fn label(&self) -> String {
        format!("{} {}", self.capability, self.releases)
    }

    fn to_json(&self) -> Value {
        json!({
            "variant": self.capability.name(),
            "era": self.era.name(),
            "releases": self.releases,
        })
    }
}

impl Diff {
    fn text(&self) -> String {
        format!(
            "{} of {} elements differ, largest {} ulp and {} absolute",
            self.differing,
            self.numel,
            self.max_ulp,
            g(self.max_abs)
        )
    }

    fn to_json(&self) -> Value {
        json!({
            "numel": self.numel,
            "differing": self.differing,
            "max_ulp": self.max_ulp,
            "max_abs": self.max_abs,
        })
    }
}

impl Fit {
    fn text(&self) -> String {
        let words = self
            .words
            .map(|w| format!("; draws {w} words"))
            .unwrap_or_default();
        format!("{} fits ({}{words})", self.call, self.checks.join(", "))
    }

    fn to_json(&self) -> Value {
        json!({"call": self.call, "checks": self.checks, "words": self.words})
    }
}

impl Modification {
    fn text(&self) -> String {
        match self {
            Modification::Scaled { factor, exact } => format!(
                "scaled by {}{}",
                g(*factor),
                if *exact {
                    " (exactly: init * factor rounded to the dtype)"
                } else {
                    " (approximately)"
                }
            ),
            Modification::Pruned { zeroed } => format!("pruned: {zeroed} elements set to zero"),
            Modification::Quantised { levels } => format!("quantised to {levels} distinct values"),
            Modification::Tie { of } => format!("a tie of {of} (holds its values)"),
            Modification::Perturbed { correlation } => format!(
                "perturbed (trained?): correlation {} with the init",
                g(*correlation)
            ),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Modification::Scaled { factor, exact } => {
                json!({"kind": "scaled", "factor": factor, "exact": exact})
            }
            Modification::Pruned { zeroed } => json!({"kind": "pruned", "zeroed": zeroed}),
            Modification::Quantised { levels } => json!({"kind": "quantised", "levels": levels}),
            Modification::Tie { of } => json!({"kind": "tie", "of": of}),
            Modification::Perturbed { correlation } => {
                json!({"kind": "perturbed", "correlation": correlation})
            }
        }
    }
}

impl Status {
    /// A short name (`identical`, `variant`, `reinitialised`, `modified`, `unmatched`,
    /// `not in model`, `missing`, `does not fit`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Status::Identical => "identical",
            Status::VariantUlp { .. } => "variant",
            Status::Reinitialised { .. } => "reinitialised",
            Status::Modified { .. } => "modified",
            Status::Unmatched { .. } => "unmatched",
            Status::NotInModel => "not in model",
            Status::Missing { .. } => "missing",
            Status::DoesNotFit { .. } => "does not fit",
        }
    }

    fn text(&self) -> String {
        match self {
            Status::Identical => "identical".into(),
            Status::VariantUlp {
                diff,
                identical_under,
            } => {
                let under = if identical_under.is_empty() {
                    String::new()
                } else {
                    let v: Vec<&str> = identical_under.iter().map(|c| c.name()).collect();
                    format!("; identical under {}", v.join(", "))
                };
                format!(
                    "equal up to the variant (last-bit differences at the tensor's scale, as fused multiply-adds or vectorised log/cos give): {}{under}",
                    diff.text()
                )
            }
            Status::Reinitialised {
                diff,
                fits,
                reproduced,
            } => {
                let mut s = format!("re-initialised ({})", diff.text());
                if let Some((call, from, n)) = reproduced {
                    let _ = write!(
                        s,
                        "; reproduced exactly by {call} continuing the seed's stream after the \
                         build (words {from} to {})",
                        from + n
                    );
                }
                if fits.is_empty() {
                    s.push_str("; no init call fits its values");
                }
                for fit in fits {
                    let _ = write!(s, "; {}", fit.text());
                }
                s
            }
            Status::Modified { diff, how } => format!("modified: {}; {}", how.text(), diff.text()),
            Status::Unmatched { fits } => {
                let mut s = "no init to compare with".to_string();
                for fit in fits {
                    let _ = write!(s, "; {}", fit.text());
                }
                s
            }
            Status::NotInModel => "not in the model".into(),
            Status::Missing { tied_to } => match tied_to {
                Some(t) => format!("missing from the file (tied to {t} in the model)"),
                None => "missing from the file".into(),
            },
            Status::DoesNotFit { reason } => format!("does not fit the model: {reason}"),
        }
    }

    fn to_json(&self) -> Value {
        let mut v = json!({"status": self.name()});
        let m = v.as_object_mut().expect("an object");
        match self {
            Status::Identical | Status::NotInModel => {}
            Status::VariantUlp {
                diff,
                identical_under,
            } => {
                m.insert("diff".into(), diff.to_json());
                m.insert(
                    "identical_under".into(),
                    json!(identical_under.iter().map(|c| c.name()).collect::<Vec<_>>()),
                );
            }
            Status::Reinitialised {
                diff,
                fits,
                reproduced,
            } => {
                m.insert("diff".into(), diff.to_json());
                m.insert(
                    "fits".into(),
                    Value::from(fits.iter().map(Fit::to_json).collect::<Vec<_>>()),
                );
                m.insert(
                    "reproduced".into(),
                    reproduced.as_ref().map_or(
                        Value::Null,
                        |(c, from, n)| json!({"call": c, "first_word": from, "words": n}),
                    ),
                );
            }
            Status::Modified { diff, how } => {
                m.insert("diff".into(), diff.to_json());
                m.insert("modification".into(), how.to_json());
            }
            Status::Unmatched { fits } => {
                m.insert(
                    "fits".into(),
                    Value::from(fits.iter().map(Fit::to_json).collect::<Vec<_>>()),
                );
            }
            Status::Missing { tied_to } => {
                m.insert("tied_to".into(), json!(tied_to));
            }
            Status::DoesNotFit { reason } => {
                m.insert("reason".into(), json!(reason));
            }
        }
        v
    }
}

impl Report {
    /// The report as JSON (`torch-rng audit --json`): an object with `file`, `format`,
    /// `subject`, `verdict`, `seed`, `combinations`, `ruled_out`, `search`, `tensors` (each with
    /// `name`, `dtype`, `shape`, `decided_by_seed`, `tie_of`, `status` and the status's
    /// numbers), `constant_by_construction` (names) and `notes`.
    #[must_use]
    pub fn to_json(&self) -> Value {
        let s = &self.search;
        json!({
            "format_version": "torch-rng-audit/1",
            "file": self.file,
            "format": self.format,
            "subject": self.subject,
            "prefix": self.prefix,
            "verdict": self.verdict.name(),
            "seed": self.seed,
            "combinations": self.combinations.iter().map(Combination::to_json).collect::<Vec<_>>(),
            "ruled_out": self.ruled_out.iter().map(|r| {
                let mut v = r.combination.to_json();
                v["by"] = json!(r.by);
                v
            }).collect::<Vec<_>>(),
            "search": {
                "common_seeds": s.common_seeds,
                "range": s.range.map(|(a, b)| json!([a, b])),
                "seeds_tried": s.seeds_tried,
                "candidates_tried": s.candidates_tried,
                "seconds": s.seconds,
                "seeds_per_second": s.seeds_per_second,
                "slow": s.slow,
                "found_in": s.found_in,
                "probes": s.probes.iter().map(|p| json!({
                    "tensor": p.tensor,
                    "call": p.call,
                    "offset_words": p.offset_words,
                    "elements": p.elements,
                })).collect::<Vec<_>>(),
            },
            "tensors": self.tensors.iter().map(|t| {
                let mut v = t.status.to_json();
                let m = v.as_object_mut().expect("an object");
                m.insert("name".into(), json!(t.name));
                m.insert("dtype".into(), json!(t.dtype.name()));
                m.insert("shape".into(), json!(t.shape));
                m.insert("decided_by_seed".into(), json!(t.decided_by_seed));
                m.insert("tie_of".into(), json!(t.tie_of));
                v
            }).collect::<Vec<_>>(),
            "constant_by_construction": self.tensors.iter()
                .filter(|t| !t.decided_by_seed && !matches!(t.status, Status::NotInModel))
                .map(|t| t.name.clone()).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// Human-readable text (`torch-rng audit` without `--json`).
    #[must_use]
    #[allow(clippy::too_many_lines)] // one section after another
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "audit of {} ({}, {} tensors) against {}\n",
            self.file,
            self.format,
            self.tensors
                .iter()
                .filter(|t| !matches!(t.status, Status::Missing { .. }))
                .count(),
            self.subject
        );
        if let Some(p) = &self.prefix {
            let _ = writeln!(out, "file names carry the prefix '{p}', stripped");
        }
        let s = &self.search;
        let space = match s.range {
            Some((a, b)) => format!("{} common seeds, then {a} to {b}", s.common_seeds),
            None => format!("{} common seeds", s.common_seeds),
        };
        let _ = writeln!(
            out,
            "search: {space}; {} seeds ({} candidates) in {:.3} s, {} seeds/s{}",
            s.seeds_tried,
            s.candidates_tried,
            s.seconds,
            s.seeds_per_second.round(),
            if s.slow {
                " (no probe: a model build per candidate)"
            } else {
                ""
            }
        );
        for p in &s.probes {
            let _ = writeln!(
                out,
                "  probe {}: its first {} elements ({} after {} words)",
                p.tensor, p.elements, p.call, p.offset_words
            );
        }
        match self.seed {
            Some(seed) => {
                let _ = writeln!(
                    out,
                    "made by: seed {seed} (found in the {}; seed + k * 2^32 gives the same \
                     stream) under",
                    s.found_in.unwrap_or("search")
                );
                for c in &self.combinations {
                    let _ = writeln!(out, "  {}", c.label());
                }
            }
            None => out.push_str("made by: no seed found in the searched space\n"),
        }
        for r in &self.ruled_out {
            let _ = writeln!(out, "ruled out: {} (by {})", r.combination.label(), r.by);
        }
        let width = self.tensors.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let line = |out: &mut String, t: &TensorReport| {
            let tie = t
                .tie_of
                .as_ref()
                .map(|o| format!(" [tie of {o}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:width$}  {:?} {}: {}{tie}",
                t.name,
                t.shape,
                t.dtype.name(),
                t.status.text()
            );
        };
        let decided: Vec<&TensorReport> = self
            .tensors
            .iter()
            .filter(|t| t.decided_by_seed || matches!(t.status, Status::NotInModel))
            .collect();
        let constant: Vec<&TensorReport> = self
            .tensors
            .iter()
            .filter(|t| !t.decided_by_seed && !matches!(t.status, Status::NotInModel))
            .collect();
        let _ = writeln!(out, "tensors the seed decides ({}):", decided.len());
        for t in decided {
            line(&mut out, t);
        }
        if !constant.is_empty() {
            let _ = writeln!(
                out,
                "constant by construction ({}; the seed decides nothing here, never evidence):",
                constant.len()
            );
            for t in constant {
                line(&mut out, t);
            }
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        let differing = self
            .tensors
            .iter()
            .filter(|t| !matches!(t.status, Status::Identical))
            .count();
        let _ = writeln!(
            out,
            "verdict: {}{}",
            self.verdict.name(),
            if self.verdict == Verdict::Differs {
                format!(" ({differing} of {} tensors)", self.tensors.len())
            } else {
                String::new()
            }
        );
        out
    }
}

/// Serialises as [`Report::to_json`].
impl serde::Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}
