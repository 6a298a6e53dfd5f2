//! What changes between PyTorch releases in the CUDA random kernels: one row of data per era.
//!
//! The CPU eras ([`crate::context::Era`]) split 2.1 – 2.5 into one era, but the CUDA kernels
//! change inside it (the offset reservation at 2.4), so the CUDA side has its own eras. Each is
//! described by one [`CudaRules`] value, read where behaviour differs (STYLE rule 21); kernels
//! never compare release numbers.
//!
//! Sources (shared/reference/cuda-philox.md section 7): the 2.0.1, 2.5.1 and 2.15.0 wheel headers
//! pin the state layout, the uniform reversal, the offset unroll and the randint threshold at
//! those releases; the release a change first shipped in is inferred from PR dates where no
//! wheel in between was read (marked "inferred" below).

use crate::error::{Error, Result};

/// The byte layout of a CUDA generator state, which changed in PyTorch 2.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CudaStateLayout {
    /// 2.0: 800 bytes of legacy padding, then seed and offset (816 bytes).
    Padded,
    /// 2.1 and later: seed and offset (16 bytes).
    Compact,
}

/// A group of PyTorch releases whose CUDA random kernels behave alike.
///
/// Variants are ordered by time (`era >= CudaEra::C4` reads "2.7 or later").
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum CudaEra {
    /// 2.0: the 816-byte state, the uniform reversal on `u`, offsets reserved with unroll 4.
    C0,
    /// 2.1 – 2.3: the 16-byte state (PR #98787) and the reversal on the value (issue #96947;
    /// 2.1 inferred: 2.5.1 has it, 2.0.1 does not).
    C1,
    /// 2.4 – 2.5: offsets reserved with the kernel's real unroll (PR #126066, May 2024; 2.4
    /// inferred from the date, 2.5.1 read).
    C2,
    /// 2.6: 16-byte dropout vectors (VEC 8 for float16/bfloat16, 2 for float64; after 2.5.1,
    /// present in 2.15.0, 2.6 inferred). randint still uses the 2^32 rule (issue #148175
    /// reports it on 2.6.0).
    C3,
    /// 2.7 – 2.15: randint's 64-bit path from range 2^28 for every dtype (PRs #143787/#144819,
    /// Jan 2025; 2.7 inferred) and 64-bit loop indices inside the grid-stride kernel (2.15.0 read;
    /// 2.7 inferred).
    #[default]
    C4,
}

/// When the uniform kernel maps an upper-bound draw to the lower bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UniformReversal {
    /// 2.0: on the draw, `u == 1 → 0`, before scaling.
    OnDraw,
    /// 2.1+: on the scaled value, `value == to → from` (issue #96947).
    OnValue,
}

/// Which unroll the offset reservation of `distribution_nullary_kernel` uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffsetUnroll {
    /// Before 2.4: 4 for every path, so the float64 and 64-bit integer paths (unroll 2)
    /// under-reserve once `n > 2T` (the next op reuses blocks).
    AlwaysFour,
    /// 2.4+: the kernel's unroll (PR #126066).
    Real,
}

/// When `random_(from, to)` / `randint` take the 64-bit path (two words per element).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RandintWide {
    /// Before 2.7 (and internal fbcode builds since): `range ≥ 2^32` and the dtype is int64,
    /// float64, float32 or bfloat16.
    Range2p32Some,
    /// 2.7+: `range ≥ 2^28`, any dtype.
    Range2p28,
}

/// The largest vector width of the fused dropout kernel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropoutVecCap {
    /// Before 2.6: 4 elements for every dtype.
    Four,
    /// 2.6+: 16 bytes (4 float32, 8 float16/bfloat16, 2 float64).
    SixteenBytes,
}

/// Everything that differs between CUDA eras.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CudaRules {
    /// `get_rng_state` / `set_rng_state` byte layout.
    pub state_layout: CudaStateLayout,
    /// `uniform_`'s bound reversal.
    pub uniform_reversal: UniformReversal,
    /// The unroll used for the offset reservation.
    pub offset_unroll: OffsetUnroll,
    /// The randint / `random_` 64-bit path rule.
    pub randint_wide: RandintWide,
    /// The dropout vector cap.
    pub dropout_vec_cap: DropoutVecCap,
    /// Whether the grid-stride loop indexes in 64 bits. Before 2.7 a launch whose rounded size
    /// `ceil(n / (T U)) T U` exceeds 2^31 − 1 overflows a 32-bit index (issue #141544) and is not
    /// reproduced.
    pub loop_index_64: bool,
}

/// The table: one row per era, oldest first.
const RULES: [(CudaEra, CudaRules); 5] = [
    (
        CudaEra::C0,
        CudaRules {
            state_layout: CudaStateLayout::Padded,
            uniform_reversal: UniformReversal::OnDraw,
            offset_unroll: OffsetUnroll::AlwaysFour,
            randint_wide: RandintWide::Range2p32Some,
            dropout_vec_cap: DropoutVecCap::Four,
            loop_index_64: false,
        },
    ),
    (
        CudaEra::C1,
        CudaRules {
            state_layout: CudaStateLayout::Compact,
            uniform_reversal: UniformReversal::OnValue,
            offset_unroll: OffsetUnroll::AlwaysFour,
            randint_wide: RandintWide::Range2p32Some,
            dropout_vec_cap: DropoutVecCap::Four,
            loop_index_64: false,
        },
    ),
    (
        CudaEra::C2,
        CudaRules {
            state_layout: CudaStateLayout::Compact,
            uniform_reversal: UniformReversal::OnValue,
            offset_unroll: OffsetUnroll::Real,
            randint_wide: RandintWide::Range2p32Some,
            dropout_vec_cap: DropoutVecCap::Four,
            loop_index_64: false,
        },
    ),
    (
        CudaEra::C3,
        CudaRules {
            state_layout: CudaStateLayout::Compact,
            uniform_reversal: UniformReversal::OnValue,
            offset_unroll: OffsetUnroll::Real,
            randint_wide: RandintWide::Range2p32Some,
            dropout_vec_cap: DropoutVecCap::SixteenBytes,
            loop_index_64: false,
        },
    ),
    (
        CudaEra::C4,
        CudaRules {
            state_layout: CudaStateLayout::Compact,
            uniform_reversal: UniformReversal::OnValue,
            offset_unroll: OffsetUnroll::Real,
            randint_wide: RandintWide::Range2p28,
            dropout_vec_cap: DropoutVecCap::SixteenBytes,
            loop_index_64: true,
        },
    ),
];

impl CudaEra {
    /// Every era, oldest first.
    pub const ALL: [CudaEra; 5] = [
        CudaEra::C0,
        CudaEra::C1,
        CudaEra::C2,
        CudaEra::C3,
        CudaEra::C4,
    ];

    /// The era of a release (`"2.15.0"`, `"2.5"`, `"2.4.1+cu121"`).
    ///
    /// # Errors
    /// [`Error::Unsupported`] outside 2.0 – 2.15 or for an unparsable string.
    pub fn of_release(release: &str) -> Result<CudaEra> {
        // The CPU parser validates the form and the range; the minor number picks the era.
        crate::context::Era::of_release(release)?;
        let minor: u32 = release
            .split('+')
            .next()
            .and_then(|c| c.split('.').nth(1))
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| Error::unsupported(format!("torch_version '{release}'")))?;
        Ok(match minor {
            0 => CudaEra::C0,
            1..=3 => CudaEra::C1,
            4 | 5 => CudaEra::C2,
            6 => CudaEra::C3,
            _ => CudaEra::C4,
        })
    }

    /// The era's rules.
    #[must_use]
    pub fn rules(self) -> CudaRules {
        // Every era has exactly one row (tested), so the search cannot fail.
        RULES
            .iter()
            .find(|(e, _)| *e == self)
            .map_or(RULES[RULES.len() - 1].1, |(_, r)| *r)
    }

    /// The era's name (`C0` … `C4`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            CudaEra::C0 => "C0",
            CudaEra::C1 => "C1",
            CudaEra::C2 => "C2",
            CudaEra::C3 => "C3",
            CudaEra::C4 => "C4",
        }
    }

    /// The minor releases the era spans, as text.
    #[must_use]
    pub fn releases(self) -> &'static str {
        match self {
            CudaEra::C0 => "2.0",
            CudaEra::C1 => "2.1 – 2.3",
            CudaEra::C2 => "2.4 – 2.5",
            CudaEra::C3 => "2.6",
            CudaEra::C4 => "2.7 – 2.15",
        }
    }
}

impl std::fmt::Display for CudaEra {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The release the default era stands for.
#[cfg(test)]
const CUDA_LATEST_RELEASE: &str = super::LATEST_RELEASE;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn releases_map_to_eras() {
        let want = [
            ("2.0.1", CudaEra::C0),
            ("2.1.2", CudaEra::C1),
            ("2.3.1", CudaEra::C1),
            ("2.4.0", CudaEra::C2),
            ("2.5.1", CudaEra::C2),
            ("2.6.0", CudaEra::C3),
            ("2.7.0", CudaEra::C4),
            ("2.15.0", CudaEra::C4),
            ("2.14.1", CudaEra::C4),
        ];
        for (r, e) in want {
            assert_eq!(CudaEra::of_release(r).unwrap(), e, "{r}");
        }
        assert!(CudaEra::of_release("1.13.1").is_err());
        assert!(CudaEra::of_release("2.16.0").is_err());
        assert!(CudaEra::of_release("x").is_err());
        // A wheel's local tag is not part of the contract's form.
        assert!(CudaEra::of_release("2.14.1+cu128").is_err());
        assert_eq!(
            CudaEra::of_release(CUDA_LATEST_RELEASE).unwrap(),
            CudaEra::default()
        );
    }

    #[test]
    fn one_row_per_era_in_order() {
        for (i, e) in CudaEra::ALL.iter().enumerate() {
            assert_eq!(RULES[i].0, *e);
            assert_eq!(e.to_string(), e.name());
            assert!(!e.releases().is_empty());
        }
        // each switch point of cuda-philox.md section 7 changes exactly the listed rule
        let r: Vec<CudaRules> = CudaEra::ALL.iter().map(|e| e.rules()).collect();
        assert_ne!(r[0].state_layout, r[1].state_layout);
        assert_ne!(r[0].uniform_reversal, r[1].uniform_reversal);
        assert_ne!(r[1].offset_unroll, r[2].offset_unroll);
        assert_ne!(r[2].dropout_vec_cap, r[3].dropout_vec_cap);
        assert_ne!(r[3].randint_wide, r[4].randint_wide);
        assert!(r[4].loop_index_64 && !r[3].loop_index_64);
    }
}
