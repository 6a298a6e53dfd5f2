//! The CUDA generator state bytes (`torch.cuda.get_rng_state` / `set_rng_state`,
//! `Generator.get_state` / `set_state` on a CUDA generator), coded field by field in
//! little-endian.
//!
//! Mirrors: `aten/src/ATen/cuda/CUDAGeneratorImpl.cpp` (`get_state`, `set_state`,
//! `set_philox_offset_per_thread`) at 2.15.0, and at 2.0.1 for the padded layout (PR #98787
//! removed the padding in 2.1).
//!
//! [`CudaStateLayout::Compact`] (2.1 and later), 16 bytes:
//!
//! | offset | width | field | notes |
//! |---:|---:|---|---|
//! | 0 | 8 | `seed: u64` | |
//! | 8 | 8 | `philox_offset_per_thread: i64` | a multiple of 4 |
//!
//! [`CudaStateLayout::Padded`] (2.0), 816 bytes:
//!
//! | offset | width | field | notes |
//! |---:|---:|---|---|
//! | 0 | 800 | legacy MTGP space | written as `0xff` bytes, ignored on import |
//! | 800 | 8 | `seed: u64` | |
//! | 808 | 8 | `philox_offset_per_thread: i64` | a multiple of 4 |
//!
//! Import accepts the full size or the size without the offset field (8 or 808 bytes), which
//! sets the offset to 0. The offset is read as a signed 64-bit integer and reinterpreted as
//! unsigned, then must be a multiple of 4.

pub use crate::context::CudaStateLayout;
use crate::error::{Error, Result};
use crate::generator::CudaGenerator;

impl CudaStateLayout {
    /// Bytes before the seed.
    fn padding(self) -> usize {
        match self {
            CudaStateLayout::Padded => 800,
            CudaStateLayout::Compact => 0,
        }
    }

    /// The full state size: 816 or 16 bytes.
    #[must_use]
    pub fn size(self) -> usize {
        self.padding() + 16
    }
}

/// `get_rng_state()` of a CUDA generator in `layout`.
#[must_use]
pub fn get_rng_state(g: &CudaGenerator, layout: CudaStateLayout) -> Vec<u8> {
    let pad = layout.padding();
    let mut b = vec![0xffu8; pad];
    b.extend_from_slice(&g.initial_seed().to_le_bytes());
    b.extend_from_slice(&(g.get_offset() as i64).to_le_bytes());
    b
}

/// `set_rng_state(bytes)` of a CUDA generator in `layout`: a new generator from the bytes.
///
/// # Errors
/// [`Error::InvalidState`] for a length other than the full size or the size without the offset
/// (`length`), or an offset that is not a multiple of 4 (`philox_offset_per_thread`).
pub fn set_rng_state(bytes: &[u8], layout: CudaStateLayout) -> Result<CudaGenerator> {
    let pad = layout.padding();
    let full = layout.size();
    if bytes.len() != full && bytes.len() != full - 8 {
        return Err(Error::InvalidState {
            field: "length",
            expected: format!("{full} or {} bytes", full - 8),
            actual: format!("{} bytes", bytes.len()),
        });
    }
    let word = |o: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&bytes[o..o + 8]);
        a
    };
    let seed = u64::from_le_bytes(word(pad));
    let offset = if bytes.len() == full {
        i64::from_le_bytes(word(pad + 8)) as u64 // PyTorch's static_cast<uint64_t>(int64_t)
    } else {
        0
    };
    let mut g = CudaGenerator::with_seed(seed);
    g.set_offset(offset).map_err(|_| Error::InvalidState {
        field: "philox_offset_per_thread",
        expected: "a multiple of 4".into(),
        actual: offset.to_string(),
    })?;
    Ok(g)
}

impl CudaGenerator {
    /// `get_state()` in `layout` (the offset table of this module's docs).
    #[must_use]
    pub fn get_state(&self, layout: CudaStateLayout) -> Vec<u8> {
        get_rng_state(self, layout)
    }

    /// `set_state(bytes)` in `layout`. On error the generator is unchanged.
    ///
    /// # Errors
    /// [`crate::Error::InvalidState`]: a wrong length, or an offset that is not a multiple of 4.
    pub fn set_state(&mut self, bytes: &[u8], layout: CudaStateLayout) -> Result<()> {
        *self = set_rng_state(bytes, layout)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(seed: u64, offset: u64) -> CudaGenerator {
        let mut g = CudaGenerator::with_seed(seed);
        g.set_offset(offset).unwrap();
        g
    }

    /// Format stability: one exact blob per layout.
    #[test]
    fn exact_bytes() {
        let g = gen(0x0102_0304_0506_0708, 12);
        assert_eq!(
            get_rng_state(&g, CudaStateLayout::Compact),
            [8, 7, 6, 5, 4, 3, 2, 1, 12, 0, 0, 0, 0, 0, 0, 0]
        );
        let p = get_rng_state(&g, CudaStateLayout::Padded);
        assert_eq!(p.len(), 816);
        assert!(p[..800].iter().all(|&b| b == 0xff));
        assert_eq!(&p[800..], &get_rng_state(&g, CudaStateLayout::Compact)[..]);
    }

    #[test]
    fn round_trips() {
        for layout in [CudaStateLayout::Compact, CudaStateLayout::Padded] {
            for &(s, o) in &[
                (0u64, 0u64),
                (42, 4),
                (u64::MAX, u64::MAX - 3),
                (7, 1 << 63),
            ] {
                let g = gen(s, o);
                let b = get_rng_state(&g, layout);
                assert_eq!(b.len(), layout.size());
                assert_eq!(set_rng_state(&b, layout).unwrap(), g);
            }
        }
    }

    #[test]
    fn short_state_means_offset_zero() {
        let b = get_rng_state(&gen(9, 40), CudaStateLayout::Compact);
        assert_eq!(
            set_rng_state(&b[..8], CudaStateLayout::Compact).unwrap(),
            gen(9, 0)
        );
        let p = get_rng_state(&gen(9, 40), CudaStateLayout::Padded);
        assert_eq!(
            set_rng_state(&p[..808], CudaStateLayout::Padded).unwrap(),
            gen(9, 0)
        );
        // the padding is not checked
        let mut q = p.clone();
        q[3] = 0;
        assert_eq!(
            set_rng_state(&q, CudaStateLayout::Padded).unwrap(),
            gen(9, 40)
        );
    }

    #[test]
    fn rejections() {
        let b = get_rng_state(&gen(1, 4), CudaStateLayout::Compact);
        for len in [0usize, 7, 9, 15, 17, 816] {
            let v = vec![0u8; len];
            assert!(matches!(
                set_rng_state(&v, CudaStateLayout::Compact),
                Err(Error::InvalidState {
                    field: "length",
                    ..
                })
            ));
        }
        // the 2.1+ blob is not a 2.0 blob and vice versa
        assert!(set_rng_state(&b, CudaStateLayout::Padded).is_err());
        let mut odd = b.clone();
        odd[8] = 6;
        assert!(matches!(
            set_rng_state(&odd, CudaStateLayout::Compact),
            Err(Error::InvalidState {
                field: "philox_offset_per_thread",
                ..
            })
        ));
        let mut g = gen(3, 8);
        assert!(g.set_state(&odd, CudaStateLayout::Compact).is_err());
        assert_eq!(g, gen(3, 8));
    }

    #[test]
    fn negative_offsets_are_reinterpreted() {
        let mut b = vec![0u8; 16];
        b[8..].copy_from_slice(&(-4i64).to_le_bytes());
        assert_eq!(
            set_rng_state(&b, CudaStateLayout::Compact)
                .unwrap()
                .get_offset(),
            u64::MAX - 3
        );
    }
}
