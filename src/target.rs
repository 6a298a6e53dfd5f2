//! What PyTorch build is being reproduced: the CPU kernel variant and the release.

use crate::error::{Error, Result};

/// The x86-64 kernel variant PyTorch dispatched to (`ATEN_CPU_CAPABILITY`).
///
/// This is data, never detected from the host (STYLE rule 7): every variant is emulated on any
/// machine. `Avx512` behaves exactly as `Avx2` for every RNG kernel (PyTorch 2.15 has no AVX-512
/// copy of the distribution kernels).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Capability {
    /// The baseline x86-64 build: no fused multiply-add, glibc `logf`/`sinf`/`cosf` in the normal
    /// kernel.
    Default,
    /// The AVX2 build (`-mavx2 -mfma`): contracted multiply-adds and the Cephes-style vector
    /// log/sincos in the normal kernel. What any current x86-64 CPU runs.
    #[default]
    Avx2,
    /// The AVX-512 level; the RNG kernels are the AVX2 ones.
    Avx512,
}

impl Capability {
    /// Parses `default`, `avx2` or `avx512` (as `ATEN_CPU_CAPABILITY` spells them).
    ///
    /// # Errors
    /// [`Error::Unsupported`] for any other name.
    pub fn parse(s: &str) -> Result<Capability> {
        match s.to_ascii_lowercase().as_str() {
            "default" => Ok(Capability::Default),
            "avx2" => Ok(Capability::Avx2),
            "avx512" => Ok(Capability::Avx512),
            _ => Err(Error::unsupported(format!(
                "capability '{s}' (expected default, avx2 or avx512)"
            ))),
        }
    }

    /// The name as `ATEN_CPU_CAPABILITY` spells it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Capability::Default => "default",
            Capability::Avx2 => "avx2",
            Capability::Avx512 => "avx512",
        }
    }

    /// Whether the compiler contracted `a * b + c` into a fused multiply-add in this build.
    #[must_use]
    pub fn fused(self) -> bool {
        !matches!(self, Capability::Default)
    }
}

impl std::fmt::Display for Capability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The newest PyTorch release torch-rng reproduces, and the default.
pub const LATEST_RELEASE: &str = "2.15.0";

/// A group of PyTorch releases whose CPU random streams are identical (measured in
/// `shared/reference/version-eras.md`; the README has the table).
///
/// Variants are ordered by time, so `era >= Era::R3` reads "2.12 or later".
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Era {
    /// 2.0: the legacy baseline (MKL scalar bernoulli/exponential, 11/8-bit half/bfloat16 uniforms,
    /// the 2.0 float16 normal fill rule).
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

impl Era {
    /// The era a release belongs to, from `"2.15.0"`, `"2.13"` or `"2.14.1+cpu"`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release outside 2.0 – 2.15 or an unparsable string.
    pub fn of_release(release: &str) -> Result<Era> {
        let core = release.split('+').next().unwrap_or("");
        let parts: Vec<&str> = core.split('.').collect();
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
        let well_formed =
            (2..=3).contains(&parts.len()) && (0..parts.len()).all(|i| num(i).is_some());
        let era = match (well_formed, num(0), num(1)) {
            (true, Some(2), Some(0)) => Some(Era::L0),
            (true, Some(2), Some(1..=5)) => Some(Era::L1),
            (true, Some(2), Some(6)) => Some(Era::R1),
            (true, Some(2), Some(7..=11)) => Some(Era::R2),
            (true, Some(2), Some(12)) => Some(Era::R3),
            (true, Some(2), Some(13..=15)) => Some(Era::R4),
            _ => None,
        };
        era.ok_or_else(|| {
            Error::unsupported(format!(
                "torch_version '{release}' (supported: 2.0.0 to {LATEST_RELEASE})"
            ))
        })
    }

    /// Every era, oldest first.
    pub const ALL: [Era; 6] = [Era::L0, Era::L1, Era::R1, Era::R2, Era::R3, Era::R4];

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
    pub fn releases(self) -> &'static str {
        match self {
            Era::L0 => "2.0",
            Era::L1 => "2.1 – 2.5",
            Era::R1 => "2.6",
            Era::R2 => "2.7 – 2.11",
            Era::R3 => "2.12",
            Era::R4 => "2.13 – 2.15",
        }
    }

    /// The first release of the era.
    #[must_use]
    pub fn first_release(self) -> &'static str {
        match self {
            Era::L0 => "2.0.0",
            Era::L1 => "2.1.0",
            Era::R1 => "2.6.0",
            Era::R2 => "2.7.0",
            Era::R3 => "2.12.0",
            Era::R4 => "2.13.0",
        }
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The build being reproduced: kernel variant and release era.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Target {
    /// The CPU kernel variant.
    pub capability: Capability,
    /// The release era.
    pub era: Era,
}

impl Target {
    /// The given capability in the latest era.
    #[must_use]
    pub fn new(capability: Capability) -> Target {
        Target {
            capability,
            era: Era::default(),
        }
    }

    /// The given capability in the era of a PyTorch release (`"2.5.1"`, `"2.12"`).
    ///
    /// ```
    /// use torch_rng::{Capability, Era, Target};
    /// let t = Target::for_release(Capability::Default, "2.9.1").unwrap();
    /// assert_eq!(t.era, Era::R2);
    /// assert!(Target::for_release(Capability::Avx2, "1.13.1").is_err());
    /// ```
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release outside 2.0 – 2.15 (see [`Era::of_release`]).
    pub fn for_release(capability: Capability, release: &str) -> Result<Target> {
        Ok(Target {
            capability,
            era: Era::of_release(release)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_capabilities() {
        assert_eq!(Capability::parse("AVX2").unwrap(), Capability::Avx2);
        assert_eq!(Capability::parse("default").unwrap(), Capability::Default);
        assert!(Capability::parse("neon").is_err());
        assert_eq!(Capability::default(), Capability::Avx2);
        assert!(Capability::Avx512.fused() && !Capability::Default.fused());
    }

    #[test]
    fn releases_map_to_eras() {
        assert_eq!(Era::of_release("2.15.0").unwrap(), Era::R4);
        assert_eq!(Era::of_release("2.13").unwrap(), Era::R4);
        assert_eq!(Era::of_release("2.14.1+cpu").unwrap(), Era::R4);
        assert_eq!(Era::of_release("2.0.1").unwrap(), Era::L0);
        assert_eq!(Era::of_release("2.5.1").unwrap(), Era::L1);
        assert_eq!(Era::of_release("2.6.0").unwrap(), Era::R1);
        assert_eq!(Era::of_release("2.9.1").unwrap(), Era::R2);
        assert_eq!(Era::of_release("2.12.1").unwrap(), Era::R3);
        assert!(Era::L0 < Era::R4);
        assert!(Era::of_release("2.16.0").is_err());
        assert!(Era::of_release("1.13.1").is_err());
        assert!(Era::of_release("banana").is_err());
        assert!(Era::of_release("2.15.0.1").is_err());
        assert!(Era::of_release("2.5.1a0").is_err());
        assert!(Era::of_release("").is_err());
    }

    #[test]
    fn every_minor_release_has_one_era_in_order() {
        // version-eras.md section 1: switch points 2.1 (float16 normal), 2.6, 2.7, 2.12, 2.13.
        let eras: Vec<Era> = (0..=15)
            .map(|m| Era::of_release(&format!("2.{m}.0")).unwrap())
            .collect();
        assert!(eras.windows(2).all(|w| w[0] <= w[1]));
        for era in Era::ALL {
            assert_eq!(Era::of_release(era.first_release()).unwrap(), era);
            assert_eq!(era.to_string(), era.name());
        }
        assert_eq!(Era::of_release(LATEST_RELEASE).unwrap(), Era::default());
        let t = Target::for_release(Capability::Default, "2.0.1").unwrap();
        assert_eq!((t.capability, t.era), (Capability::Default, Era::L0));
    }
}
