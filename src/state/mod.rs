//! Generator state bytes (`get_rng_state` / `set_rng_state`).

pub mod cpu;
pub mod cuda;

#[cfg(feature = "json")]
pub(crate) use cpu::get_rng_state;
pub use cpu::CPU_STATE_SIZE;
