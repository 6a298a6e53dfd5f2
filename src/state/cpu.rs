//! The 5056-byte CPU generator state, coded field by field in little-endian.
//!
//! Mirrors: `aten/src/ATen/CPUGeneratorImpl.cpp` (`CPUGeneratorImpl::get_state`, `set_state`) and
//! the `CPUGeneratorImplState` struct in `aten/src/ATen/CPUGeneratorImpl.h`, a legacy C struct laid
//! out with x86-64 natural alignment:
//!
//! | offset | width | field | notes |
//! |---:|---:|---|---|
//! | 0 | 8 | `the_initial_seed: u64` | the full 64-bit seed |
//! | 8 | 4 | `left: i32` | 1..=624 |
//! | 12 | 4 | `seeded: i32` | written as 1; import needs non-zero |
//! | 16 | 8 | `next: u64` | 0..=624; import keeps the low 32 bits |
//! | 24 | 4992 | `state: [u64; 624]` | words zero-extended; import keeps the low 32 bits |
//! | 5016 | 8 | `normal_x: f64` | legacy, written as 0.0, ignored |
//! | 5024 | 8 | `normal_y: f64` | the cached double normal sample |
//! | 5032 | 8 | `normal_rho: f64` | legacy, written as 0.0, ignored |
//! | 5040 | 4 | `normal_is_valid: i32` | double cache present (non-zero) |
//! | 5044 | 4 | padding | written as 0 |
//! | 5048 | 4 | `next_float_normal_sample: f32` | |
//! | 5052 | 1 | `is_next_float_normal_sample_valid: bool` | |
//! | 5053 | 3 | padding | written as 0 |

use crate::engine::mt19937::{Mt19937, MERSENNE_STATE_N};
use crate::error::{Error, Result};
use crate::generator::CpuGenerator;

/// Size of the CPU state blob in bytes.
pub const CPU_STATE_SIZE: usize = 5056;

const OFF_SEED: usize = 0;
const OFF_LEFT: usize = 8;
const OFF_SEEDED: usize = 12;
const OFF_NEXT: usize = 16;
const OFF_STATE: usize = 24;
const OFF_NORMAL_Y: usize = 5024;
const OFF_NORMAL_VALID: usize = 5040;
const OFF_FLOAT_SAMPLE: usize = 5048;
const OFF_FLOAT_VALID: usize = 5052;

/// `torch.get_rng_state()` / `Generator.get_state()`: the 5056 state bytes.
#[must_use]
pub fn get_rng_state(g: &CpuGenerator) -> Vec<u8> {
    let mut b = vec![0u8; CPU_STATE_SIZE];
    let e = g.engine();
    b[OFF_SEED..OFF_SEED + 8].copy_from_slice(&e.seed_value().to_le_bytes());
    b[OFF_LEFT..OFF_LEFT + 4].copy_from_slice(&e.left().to_le_bytes());
    b[OFF_SEEDED..OFF_SEEDED + 4].copy_from_slice(&1i32.to_le_bytes());
    b[OFF_NEXT..OFF_NEXT + 8].copy_from_slice(&u64::from(e.next_index()).to_le_bytes());
    for (i, &w) in e.state().iter().enumerate() {
        let o = OFF_STATE + 8 * i;
        b[o..o + 8].copy_from_slice(&u64::from(w).to_le_bytes());
    }
    if let Some(y) = g.next_double_normal_sample() {
        b[OFF_NORMAL_Y..OFF_NORMAL_Y + 8].copy_from_slice(&y.to_le_bytes());
        b[OFF_NORMAL_VALID..OFF_NORMAL_VALID + 4].copy_from_slice(&1i32.to_le_bytes());
    }
    if let Some(x) = g.next_float_normal_sample() {
        b[OFF_FLOAT_SAMPLE..OFF_FLOAT_SAMPLE + 4].copy_from_slice(&x.to_le_bytes());
        b[OFF_FLOAT_VALID] = 1;
    }
    b
}

fn le_u64(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

fn le_i32(b: &[u8], o: usize) -> i32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[o..o + 4]);
    i32::from_le_bytes(a)
}

/// `torch.set_rng_state(state)` / `Generator.set_state(state)`: rebuilds a generator from bytes.
///
/// Checks what PyTorch checks (length 5056, `seeded` non-zero, `1 <= left <= 624`, `next <= 624`
/// after truncation to 32 bits) and one thing more: `next + left - 1 <= 624`. PyTorch accepts such a
/// blob but its next draws would read past the end of the state array (undefined behaviour), so
/// torch-rng refuses it rather than return invented bits. As in PyTorch, state words and `next` keep
/// their low 32 bits, and each cache is restored only if its flag is set.
///
/// # Errors
/// [`Error::InvalidState`] naming the first bad field.
pub fn set_rng_state(bytes: &[u8]) -> Result<CpuGenerator> {
    if bytes.len() != CPU_STATE_SIZE {
        return Err(Error::InvalidState {
            field: "length",
            expected: format!("{CPU_STATE_SIZE} bytes"),
            actual: format!("{} bytes", bytes.len()),
        });
    }
    let seed = le_u64(bytes, OFF_SEED);
    let left = le_i32(bytes, OFF_LEFT);
    let seeded = le_i32(bytes, OFF_SEEDED);
    let next = le_u64(bytes, OFF_NEXT) as u32; // PyTorch's static_cast<uint32_t>
    if seeded == 0 {
        return Err(Error::InvalidState {
            field: "seeded",
            expected: "non-zero".into(),
            actual: "0".into(),
        });
    }
    if !(1..=MERSENNE_STATE_N as i32).contains(&left) {
        return Err(Error::InvalidState {
            field: "left",
            expected: "in 1..=624".into(),
            actual: left.to_string(),
        });
    }
    if next as usize > MERSENNE_STATE_N {
        return Err(Error::InvalidState {
            field: "next",
            expected: "in 0..=624".into(),
            actual: next.to_string(),
        });
    }
    if next as usize + left as usize - 1 > MERSENNE_STATE_N {
        return Err(Error::InvalidState {
            field: "next + left - 1",
            expected: "at most 624 (PyTorch would read past the state array)".into(),
            actual: (next as usize + left as usize - 1).to_string(),
        });
    }
    let mut state = [0u32; MERSENNE_STATE_N];
    for (i, w) in state.iter_mut().enumerate() {
        *w = le_u64(bytes, OFF_STATE + 8 * i) as u32; // std::copy from u64 to u32 truncates
    }
    let engine = Mt19937::from_parts(seed, left as u32, next, &state);
    let double =
        (le_i32(bytes, OFF_NORMAL_VALID) != 0).then(|| f64::from_bits(le_u64(bytes, OFF_NORMAL_Y)));
    let float = (bytes[OFF_FLOAT_VALID] != 0).then(|| {
        let mut a = [0u8; 4];
        a.copy_from_slice(&bytes[OFF_FLOAT_SAMPLE..OFF_FLOAT_SAMPLE + 4]);
        f32::from_le_bytes(a)
    });
    Ok(CpuGenerator::from_parts(engine, double, float))
}

impl CpuGenerator {
    /// `get_state()`: the 5056-byte layout documented in this module.
    #[must_use]
    pub fn get_state(&self) -> Vec<u8> {
        get_rng_state(self)
    }

    /// `set_state(bytes)`, validated as `set_rng_state` validates it. On error the generator is
    /// unchanged.
    ///
    /// # Errors
    /// [`Error::InvalidState`] naming the first bad field.
    pub fn set_state(&mut self, bytes: &[u8]) -> Result<()> {
        *self = set_rng_state(bytes)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        use std::fmt::Write;
        b.iter().fold(String::new(), |mut s, x| {
            let _ = write!(s, "{x:02x}");
            s
        })
    }

    /// cpu-rng.md section 14: bytes 0..31 after `torch.manual_seed(42)`.
    #[test]
    fn layout_after_seed_42() {
        let s = get_rng_state(&CpuGenerator::with_seed(42));
        assert_eq!(s.len(), 5056);
        assert_eq!(
            hex(&s[..32]),
            concat!(
                "2a00000000000000",
                "01000000",
                "01000000",
                "0000000000000000",
                "2a00000000000000"
            )
        );
    }

    /// cpu-rng.md section 14: `left`/`next` after three draws.
    #[test]
    fn cursor_bytes_after_three_draws() {
        let mut g = CpuGenerator::with_seed(42);
        for _ in 0..3 {
            g.random();
        }
        let s = get_rng_state(&g);
        assert_eq!(hex(&s[8..24]), "6e020000010000000300000000000000");
    }

    #[test]
    fn export_import_is_identity() {
        let mut g = CpuGenerator::with_seed(123_456_789_012);
        for _ in 0..1000 {
            g.random();
        }
        g.set_double_normal_sample(Some(-0.25));
        let s = get_rng_state(&g);
        let h = set_rng_state(&s).unwrap();
        assert_eq!(h, g);
        assert_eq!(get_rng_state(&h), s);
    }

    /// Property: for generators at many stream positions (across twists, with and without cached
    /// samples), export → import → export is the identity and the restored stream continues alike.
    #[test]
    fn export_import_round_trips_everywhere() {
        let mut draws = CpuGenerator::with_seed(2024);
        for case in 0..200u64 {
            let seed = u64::from(draws.random()) << 32 | u64::from(draws.random());
            let mut g = CpuGenerator::with_seed(seed);
            for _ in 0..(draws.random() % 2000) {
                g.random();
            }
            if case % 3 == 0 {
                g.set_double_normal_sample(Some(f64::from(draws.random()) / 7.0));
            }
            if case % 5 == 0 {
                g = CpuGenerator::from_parts(
                    g.engine().clone(),
                    g.next_double_normal_sample(),
                    Some(-1.5),
                );
            }
            let bytes = get_rng_state(&g);
            let mut h = set_rng_state(&bytes).unwrap();
            assert_eq!(get_rng_state(&h), bytes, "case {case}");
            assert_eq!(h, g);
            for _ in 0..700 {
                assert_eq!(h.random(), g.random());
            }
        }
    }

    #[test]
    fn rejections() {
        let good = get_rng_state(&CpuGenerator::with_seed(1));
        let bad = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut b = good.clone();
            f(&mut b);
            set_rng_state(&b).unwrap_err()
        };
        assert!(matches!(
            set_rng_state(&good[..100]),
            Err(Error::InvalidState {
                field: "length",
                ..
            })
        ));
        assert!(matches!(
            bad(&|b| b[12] = 0),
            Error::InvalidState {
                field: "seeded",
                ..
            }
        ));
        assert!(matches!(
            bad(&|b| b[8] = 0),
            Error::InvalidState { field: "left", .. }
        ));
        assert!(matches!(
            bad(&|b| b[8..12].copy_from_slice(&625i32.to_le_bytes())),
            Error::InvalidState { field: "left", .. }
        ));
        assert!(matches!(
            bad(&|b| b[16..24].copy_from_slice(&625u64.to_le_bytes())),
            Error::InvalidState { field: "next", .. }
        ));
        assert!(matches!(
            bad(&|b| {
                b[8..12].copy_from_slice(&2i32.to_le_bytes());
                b[16..24].copy_from_slice(&624u64.to_le_bytes());
            }),
            Error::InvalidState {
                field: "next + left - 1",
                ..
            }
        ));
    }

    #[test]
    fn import_truncates_like_pytorch() {
        let mut b = get_rng_state(&CpuGenerator::with_seed(5));
        b[16..24].copy_from_slice(&(1u64 << 32).to_le_bytes());
        b[24 + 7] = 0xff; // high byte of state word 0
        b[12] = 7; // any non-zero `seeded`
        let g = set_rng_state(&b).unwrap();
        assert_eq!(
            get_rng_state(&g),
            get_rng_state(&CpuGenerator::with_seed(5))
        );
    }
}
