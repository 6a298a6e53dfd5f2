//! Generator state bytes (`get_rng_state` / `set_rng_state`).

pub mod cpu;
pub mod cuda;

pub use cpu::{get_rng_state, set_rng_state, CPU_STATE_SIZE};
