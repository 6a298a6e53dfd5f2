//! Release eras as data: which releases form each era, and one table ([`Era::rules`]) of what each
//! era does differently. Kernels read the rule that concerns them; no kernel compares eras.
//!
//! The eras and their switch points were measured by bisecting 14 builds
//! (`shared/reference/version-eras.md`). Adding an era means: a variant of [`Era`], its row in
//! [`RELEASE_ERAS`] and in [`Era::rules`] (the compiler lists every match that needs it), the
//! kernels for any new rule value, and `golden/releases.json` regenerated (a test says how).

use crate::error::{Error, Result};

/// The newest PyTorch release torch-rng reproduces, and the default.
pub const LATEST_RELEASE: &str = "2.15.0";

/// The releases the golden fixtures were generated from, oldest first (one venv each; the
/// Python tools read this list from `golden/releases.json`).
pub const FIXTURE_RELEASES: &[&str] = &[
    "2.0.1", "2.1.2", "2.3.1", "2.5.1", "2.6.0", "2.9.1", "2.12.1", "2.15.0",
];

/// A group of PyTorch releases whose CPU random streams are identical.
///
/// Variants are ordered by time. Code does not compare eras: it reads [`Era::rules`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Era {
    /// 2.0: the legacy baseline.
    L0,
    /// 2.1 – 2.5: as 2.0 except the float16 normal fill path. Measured: 2.1.2, 2.3.1 and 2.5.1
    /// (2.2 and 2.4 are assumed to behave alike). 2.1.2 still rejects float16 scalar
    /// `bernoulli_`/dropout, as 2.0 does; 2.3.1 accepts them.
    L1,
    /// 2.6: `randperm(n)` for n ≥ 214748364 becomes the 64-bit inside-out shuffle.
    R1,
    /// 2.7 – 2.11: `randint` uses 64-bit draws from range 2^28; scalar `bernoulli_`, dropout and
    /// `exponential_` draw per element (the MKL paths are gone).
    R2,
    /// 2.12: 24-bit half/bfloat16 `uniform_`, the `to → from` replacement, rejection-sampling
    /// `trunc_normal_`, a 2.12-only half/bfloat16 normal fill rule, Conv bias drawn when `fan_in` = 0.
    R3,
    /// 2.13 – 2.15: fused mean/std in the default variant's normal fill path; the 2.15 half/bfloat16
    /// normal fill rule.
    #[default]
    R4,
}

/// One row of the release table: the minor releases `2.first ..= 2.last` form `era`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReleaseEra {
    /// The era.
    pub era: Era,
    /// Its first minor release (`2.first`).
    pub first: u32,
    /// Its last minor release (`2.last`).
    pub last: u32,
    /// The release its fixtures come from (one venv per era in `tools/`).
    pub fixtures: &'static str,
}

/// Every era with its minor releases, oldest first.
pub const RELEASE_ERAS: [ReleaseEra; 6] = [
    ReleaseEra {
        era: Era::L0,
        first: 0,
        last: 0,
        fixtures: "2.0.1",
    },
    ReleaseEra {
        era: Era::L1,
        first: 1,
        last: 5,
        fixtures: "2.5.1",
    },
    ReleaseEra {
        era: Era::R1,
        first: 6,
        last: 6,
        fixtures: "2.6.0",
    },
    ReleaseEra {
        era: Era::R2,
        first: 7,
        last: 11,
        fixtures: "2.9.1",
    },
    ReleaseEra {
        era: Era::R3,
        first: 12,
        last: 12,
        fixtures: "2.12.1",
    },
    ReleaseEra {
        era: Era::R4,
        first: 13,
        last: 15,
        fixtures: "2.15.0",
    },
];

/// How `uniform_` turns words into values (`version-eras.md` section 3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UniformRule {
    /// 2.0 – 2.11: no `to → from` replacement; float16/bfloat16 use 11/8-bit draws and bounds
    /// rounded to the dtype.
    Legacy,
    /// 2.12 – 2.15: 24-bit draws for every float dtype but float64, opmath bounds, and the
    /// `to → from` replacement for every float dtype.
    Current,
}

/// The float16/bfloat16 normal fill path (16+ contiguous elements) of a release
/// (`version-eras.md` section 3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReducedNormal {
    /// 2.0 – 2.11: the generic `normal_fill<T>` template run in the reduced type. Draws as float32
    /// (n words of `digits` bits, then 16 for the tail); each step of the block is rounded to the
    /// dtype where c10 has a math overload for it. `typed_math` is false only for float16 in 2.0,
    /// whose `std::log`/`std::cos` resolve to the float functions and whose final
    /// `radius * cos * std + mean` stays in float (fused under AVX2).
    Legacy {
        /// Whether c10's reduced-type overloads round `log`, `-2 * log`, `cos`/`sin` and each
        /// product and sum to the dtype.
        typed_math: bool,
    },
    /// 2.12 only: per-block 24-bit draws; the DEFAULT block without mean/std in both
    /// capabilities, then `z * T(std) + T(mean)` in float (fused under AVX2).
    Transitional,
    /// 2.13 – 2.15: per-block 24-bit draws, the capability's float32 block with `f32(mean)` and
    /// `f32(std)`.
    Current,
}

/// What the normal fill path does in a release.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NormalRule {
    /// Whether the DEFAULT build applies mean and std to float32/float64 with one fused rounding
    /// (2.13+); before, `z * std + mean` is rounded twice there. The AVX2 build always fuses.
    pub default_fused: bool,
    /// The float16 rule.
    pub float16: ReducedNormal,
    /// The bfloat16 rule.
    pub bfloat16: ReducedNormal,
}

/// When `random_(from, to)` and `randint` draw 64 bits per element (`version-eras.md` 3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WideRandint {
    /// Before 2.7: a range of at least 2^32 in int64, float64, float32 or bfloat16.
    Legacy,
    /// 2.7+: any range of at least 2^28.
    Current,
}

/// The scalar `bernoulli_(p)` kernel, which dropout uses too (`version-eras.md` 3.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BernoulliKernel {
    /// Before 2.7: MKL's `viRngBernoulli` on an MCG31 stream seeded by one word.
    Mkl,
    /// 2.7+: one 64-bit draw per element, `u53 < p`.
    PerElement,
}

/// The `exponential_` kernel (`version-eras.md` 3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExponentialKernel {
    /// Before 2.7: MKL's `vRngExponential` on an MCG31 stream (approximate here).
    Mkl,
    /// 2.7+: one 64-bit draw per element.
    PerElement,
}

/// The `trunc_normal_` algorithm (`version-eras.md` 3.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TruncRule {
    /// Before 2.12: the inverse-CDF chain of in-place ops. On float16/bfloat16 its `mul_` rounds
    /// the scalar to the dtype only in 2.0 (`round_mul_scalar`).
    InverseCdf {
        /// Whether `mul_`'s scalar is rounded to float16/bfloat16 (2.0 only).
        round_mul_scalar: bool,
    },
    /// 2.12+: rejection sampling.
    Rejection,
}

/// Everything a release era changes, one field per behaviour. [`Era::rules`] is the one
/// exhaustive table of these; kernels read the field they need.
// Each bool is an independent release switch, named for what it turns on.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    /// `uniform_` and its users (`rand`, `nn.init.uniform_`, the uniform initialisers).
    pub uniform: UniformRule,
    /// The normal fill path.
    pub normal: NormalRule,
    /// 64-bit draws in `randint`/`random_(from, to)`.
    pub wide_randint: WideRandint,
    /// Whether `randperm(n)` for n ≥ 214748364 is the 64-bit inside-out shuffle (2.6+).
    pub randperm_inside_out: bool,
    /// The scalar `bernoulli_` and dropout kernel.
    pub bernoulli: BernoulliKernel,
    /// The `exponential_` kernel.
    pub exponential: ExponentialKernel,
    /// Whether dropout divides by `1 - p` rounded to float16/bfloat16 first (2.0 only).
    pub dropout_divisor_in_dtype: bool,
    /// The `trunc_normal_` algorithm.
    pub trunc_normal: TruncRule,
    /// Whether a Conv's bias is drawn when its weight's `fan_in` is 0 (2.12+).
    pub conv_bias_without_fan_in: bool,
    /// Whether `uint16`/`uint32`/`uint64` exist (2.3+; the era of 2.1 – 2.5 says yes, and replay,
    /// which knows the exact release, rejects them in 2.1 and 2.2).
    pub wide_unsigned_dtypes: bool,
}

impl Era {
    /// Every era, oldest first.
    pub const ALL: [Era; 6] = [Era::L0, Era::L1, Era::R1, Era::R2, Era::R3, Era::R4];

    /// What the era does: the baseline of 2.0, then each era as the one before it plus what it
    /// changed (`version-eras.md` section 3), one field per behaviour.
    #[must_use]
    pub fn rules(self) -> Rules {
        let legacy = |typed_math| ReducedNormal::Legacy { typed_math };
        match self {
            Era::L0 => Rules {
                uniform: UniformRule::Legacy,
                normal: NormalRule {
                    default_fused: false,
                    float16: legacy(false),
                    bfloat16: legacy(true),
                },
                wide_randint: WideRandint::Legacy,
                randperm_inside_out: false,
                bernoulli: BernoulliKernel::Mkl,
                exponential: ExponentialKernel::Mkl,
                dropout_divisor_in_dtype: true,
                trunc_normal: TruncRule::InverseCdf {
                    round_mul_scalar: true,
                },
                conv_bias_without_fan_in: false,
                wide_unsigned_dtypes: false,
            },
            // 2.1: c10's float16 math overloads; dropout and mul_ keep their scalars in float;
            // the unsigned dtypes (2.3, within this era).
            Era::L1 => Rules {
                normal: NormalRule {
                    float16: legacy(true),
                    ..Era::L0.rules().normal
                },
                dropout_divisor_in_dtype: false,
                trunc_normal: TruncRule::InverseCdf {
                    round_mul_scalar: false,
                },
                wide_unsigned_dtypes: true,
                ..Era::L0.rules()
            },
            // 2.6: the inside-out randperm for large n.
            Era::R1 => Rules {
                randperm_inside_out: true,
                ..Era::L1.rules()
            },
            // 2.7: 64-bit randint from 2^28; per-element bernoulli_, dropout and exponential_.
            Era::R2 => Rules {
                wide_randint: WideRandint::Current,
                bernoulli: BernoulliKernel::PerElement,
                exponential: ExponentialKernel::PerElement,
                ..Era::R1.rules()
            },
            // 2.12: the new uniform_, the transitional reduced normal rule, rejection-sampling
            // trunc_normal_, Conv bias drawn without fan_in.
            Era::R3 => Rules {
                uniform: UniformRule::Current,
                normal: NormalRule {
                    default_fused: false,
                    float16: ReducedNormal::Transitional,
                    bfloat16: ReducedNormal::Transitional,
                },
                trunc_normal: TruncRule::Rejection,
                conv_bias_without_fan_in: true,
                ..Era::R2.rules()
            },
            // 2.13: fused mean/std in the default variant; the current reduced normal rule.
            Era::R4 => Rules {
                normal: NormalRule {
                    default_fused: true,
                    float16: ReducedNormal::Current,
                    bfloat16: ReducedNormal::Current,
                },
                ..Era::R3.rules()
            },
        }
    }

    /// The era a release belongs to, from `"2.15.0"`, `"2.13"` or `"2.14.1+cpu"`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release outside 2.0 – 2.15 or an unparsable string.
    pub fn of_release(release: &str) -> Result<Era> {
        // Exactly MAJOR.MINOR.PATCH in decimal digits: no local tag (`+cpu`), no shortened form.
        let parts: Vec<&str> = release.split('.').collect();
        let digits =
            |p: &&str| !p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit());
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
        let well_formed = parts.len() == 3 && parts.iter().all(digits);
        let era = match (well_formed, num(0), num(1)) {
            (true, Some(2), Some(minor)) => RELEASE_ERAS
                .iter()
                .find(|r| (r.first..=r.last).contains(&minor))
                .map(|r| r.era),
            _ => None,
        };
        era.ok_or_else(|| {
            Error::unsupported(format!(
                "torch_version '{release}' (supported: MAJOR.MINOR.PATCH releases from 2.0.0 to \
                 {LATEST_RELEASE})"
            ))
        })
    }

    fn row(self) -> &'static ReleaseEra {
        // Every era has exactly one row (tested).
        RELEASE_ERAS
            .iter()
            .find(|r| r.era == self)
            .unwrap_or(&RELEASE_ERAS[RELEASE_ERAS.len() - 1])
    }

    /// The era's name as the README's era table spells it (`L0` … `R4`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Era::L0 => "L0",
            Era::L1 => "L1",
            Era::R1 => "R1",
            Era::R2 => "R2",
            Era::R3 => "R3",
            Era::R4 => "R4",
        }
    }

    /// The minor releases the era spans, as text (`"2.7 – 2.11"`).
    #[must_use]
    pub fn releases(self) -> String {
        let r = self.row();
        if r.first == r.last {
            format!("2.{}", r.first)
        } else {
            format!("2.{} – 2.{}", r.first, r.last)
        }
    }

    /// The first release of the era (`"2.7.0"`).
    #[must_use]
    pub fn first_release(self) -> String {
        format!("2.{}.0", self.row().first)
    }

    /// The release the era's fixtures come from.
    #[must_use]
    pub fn fixture_release(self) -> &'static str {
        self.row().fixtures
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// `golden/releases.json`: the release table for the Python tools, generated from
/// [`RELEASE_ERAS`], [`FIXTURE_RELEASES`] and [`LATEST_RELEASE`].
#[cfg(all(test, feature = "json"))]
fn releases_json() -> String {
    let eras: Vec<serde_json::Value> = RELEASE_ERAS
        .iter()
        .map(|r| {
            serde_json::json!({
                "era": r.era.name(),
                "first_minor": r.first,
                "last_minor": r.last,
                "fixtures": r.fixtures,
            })
        })
        .collect();
    let doc = serde_json::json!({
        "generated_by": "torch-rng (src/context/era.rs); regenerate with TORCH_RNG_BLESS=1 cargo test --lib releases_json",
        "latest": LATEST_RELEASE,
        "fixture_releases": FIXTURE_RELEASES,
        "eras": eras,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_map_to_eras() {
        assert_eq!(Era::of_release("2.15.0").unwrap(), Era::R4);
        assert_eq!(Era::of_release("2.14.1").unwrap(), Era::R4);
        assert_eq!(Era::of_release("2.0.1").unwrap(), Era::L0);
        assert_eq!(Era::of_release("2.5.1").unwrap(), Era::L1);
        assert_eq!(Era::of_release("2.6.0").unwrap(), Era::R1);
        assert_eq!(Era::of_release("2.9.1").unwrap(), Era::R2);
        assert_eq!(Era::of_release("2.12.1").unwrap(), Era::R3);
        assert!(Era::L0 < Era::R4);
        // The contract's form only: MAJOR.MINOR.PATCH (issue 10: "2.15" and "2.15.0+cpu" were
        // accepted).
        for bad in [
            "2.16.0",
            "1.13.1",
            "banana",
            "2.15.0.1",
            "2.5.1a0",
            "",
            "2.15",
            "2.15.0+cpu",
            "2.+5.0",
            "2.15.-0",
            " 2.15.0",
            "2.15.0 ",
        ] {
            assert!(Era::of_release(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_table_is_whole_and_ordered() {
        // version-eras.md section 1: switch points 2.1 (float16 normal), 2.6, 2.7, 2.12, 2.13.
        let mut next = 0;
        for (r, era) in RELEASE_ERAS.iter().zip(Era::ALL) {
            assert_eq!(r.era, era);
            assert_eq!(r.first, next, "{era}: no gap");
            assert!(r.first <= r.last);
            next = r.last + 1;
            assert_eq!(Era::of_release(&era.first_release()).unwrap(), era);
            assert_eq!(Era::of_release(era.fixture_release()).unwrap(), era);
            assert!(FIXTURE_RELEASES.contains(&era.fixture_release()));
            assert_eq!(era.to_string(), era.name());
        }
        assert_eq!(Era::of_release(LATEST_RELEASE).unwrap(), Era::default());
        assert_eq!(
            format!("2.{}.0", RELEASE_ERAS[5].last),
            "2.15.0",
            "LATEST_RELEASE is the last minor of the last era"
        );
        assert!(FIXTURE_RELEASES
            .windows(2)
            .all(|w| Era::of_release(w[0]).unwrap() <= Era::of_release(w[1]).unwrap()));
        assert_eq!(Era::R2.releases(), "2.7 – 2.11");
        assert_eq!(Era::R1.releases(), "2.6");
    }

    #[test]
    fn rules_change_only_at_the_measured_switch_points() {
        // Each behaviour changes once (or twice for the reduced normal rule), in order.
        let r: Vec<Rules> = Era::ALL.iter().map(|e| e.rules()).collect();
        assert_eq!(r[0].uniform, UniformRule::Legacy);
        assert_eq!(r[4].uniform, UniformRule::Current);
        assert!(!r[1].randperm_inside_out && r[2].randperm_inside_out);
        assert_eq!(r[2].bernoulli, BernoulliKernel::Mkl);
        assert_eq!(r[3].bernoulli, BernoulliKernel::PerElement);
        assert_eq!(r[3].wide_randint, WideRandint::Current);
        assert!(!r[3].normal.default_fused && r[5].normal.default_fused);
        assert!(r[0].dropout_divisor_in_dtype && !r[1].dropout_divisor_in_dtype);
        assert!(!r[3].conv_bias_without_fan_in && r[4].conv_bias_without_fan_in);
        assert!(!r[0].wide_unsigned_dtypes && r[1].wide_unsigned_dtypes);
    }

    /// `golden/releases.json` is this table (the Python tools read it).
    #[cfg(feature = "json")]
    #[test]
    fn releases_json_is_current() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/golden/releases.json");
        let want = releases_json();
        if std::env::var_os("TORCH_RNG_BLESS").is_some() {
            std::fs::write(path, &want).unwrap();
        }
        let have = std::fs::read_to_string(path).unwrap_or_default();
        assert_eq!(
            have, want,
            "golden/releases.json is stale: TORCH_RNG_BLESS=1 cargo test --lib releases_json"
        );
    }
}
