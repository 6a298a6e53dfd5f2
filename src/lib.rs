#![doc = include_str!("../README.md")]
#![forbid(unsafe_op_in_unsafe_fn)]
#![deny(missing_docs, missing_debug_implementations)]
#![warn(clippy::pedantic)]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_precision_loss,
    clippy::cast_possible_wrap,
    clippy::cast_lossless,
    clippy::module_name_repetitions,
    clippy::many_single_char_names,
    clippy::similar_names,
    clippy::too_many_arguments,
    clippy::float_cmp,
    clippy::missing_panics_doc,
    // The fused-multiply-add routes rely on `#[inline(always)]` bodies being inlined into their
    // `#[target_feature(enable = "fma")]` wrappers; that is the point, not an accident.
    clippy::inline_always,
    // The crate docs are the README, whose prose names PyTorch APIs without backticks.
    clippy::doc_markdown
)]

pub mod distributions;
pub mod dtype;
pub mod engine;
pub mod error;
#[cfg(feature = "cli")]
pub mod export;
pub mod generator;
pub mod init;
pub mod math;
pub mod modules;
pub mod ops;
#[cfg(feature = "cli")]
pub mod replay;
pub(crate) mod simd;
pub mod state;
pub mod target;
pub mod tensor;

pub use dtype::DType;
pub use engine::Mt19937;
pub use error::{Error, Result};
pub use generator::CpuGenerator;
pub use target::{Capability, Era, Target};
pub use tensor::{Storage, Tensor};
