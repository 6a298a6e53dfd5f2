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

/// A group of PyTorch releases whose CPU random streams are identical (see the README's era table).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Era {
    /// 2.13.0 – 2.15.0.
    #[default]
    R4,
}

impl Era {
    /// The era a release belongs to, from `"2.15.0"`, `"2.13"` or `"2.14.1+cpu"`.
    ///
    /// # Errors
    /// [`Error::Unsupported`] for a release outside the supported eras or an unparsable string.
    pub fn of_release(release: &str) -> Result<Era> {
        let core = release.split('+').next().unwrap_or("");
        let mut parts = core.split('.');
        let major = parts.next().and_then(|p| p.parse::<u32>().ok());
        let minor = parts.next().and_then(|p| p.parse::<u32>().ok());
        let patch_ok = parts.next().is_none_or(|p| p.parse::<u32>().is_ok());
        match (major, minor) {
            (Some(2), Some(13..=15)) if patch_ok && parts.next().is_none() => Ok(Era::R4),
            _ => Err(Error::unsupported(format!(
                "torch_version '{release}' (supported: 2.13.0 to {LATEST_RELEASE})"
            ))),
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
        assert!(Era::of_release("2.16.0").is_err());
        assert!(Era::of_release("1.13.1").is_err());
        assert!(Era::of_release("banana").is_err());
        assert!(Era::of_release("2.15.0.1").is_err());
    }
}
