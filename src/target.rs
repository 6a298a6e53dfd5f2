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
    /// 2.1 – 2.5: as 2.0 except the float16 normal fill path.
    L1,
    /// 2.6: `randperm(n)` for n ≥ 214748364 becomes the 64-bit inside-out shuffle.
    R1,
    /// 2.7 – 2.11: `randint` uses 64-bit draws from range 2^28; scalar `bernoulli_`, dropout and
    /// `exponential_` draw per element (the MKL paths are gone).
    R2,
    /// 2.12: 24-bit half/bfloat16 `uniform_`, the `to → from` replacement, rejection-sampling
    /// `trunc_normal_`, a 2.12-only half/bfloat16 normal fill rule, Conv bias drawn when fan_in = 0.
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
    }
}
