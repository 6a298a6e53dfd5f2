//! Generators: an engine plus PyTorch's cached normal samples.

pub mod cpu;
pub mod cuda;

pub use cpu::{seed_from_i128, CpuGenerator};
pub use cuda::{manual_seed_everywhere, CudaGenerator};
