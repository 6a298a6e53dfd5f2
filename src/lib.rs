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
    clippy::float_cmp,
    clippy::missing_panics_doc,
    // The fused-multiply-add routes rely on `#[inline(always)]` bodies being inlined into their
    // `#[target_feature(enable = "fma")]` wrappers; that is the point, not an accident.
    clippy::inline_always,
    // The crate docs are the README, whose prose names PyTorch APIs without backticks.
    clippy::doc_markdown
)]

#[cfg(feature = "json")]
pub mod audit;
pub mod checkpoint;
mod context;
mod cuda;
mod distributions;
mod dtype;
mod engine;
mod error;
mod generator;
mod init;
mod math;
mod modules;
mod ops;
#[cfg(feature = "json")]
mod program;
#[cfg(feature = "json")]
pub mod replay;
mod simd;
mod state;
#[cfg(feature = "json")]
mod stateless;
mod stream;
mod tensor;
mod threads;
mod torch;

pub use context::{
    BernoulliKernel, Capability, Context, Era, ExponentialKernel, NormalRule, ReducedNormal,
    ReleaseEra, Rules, TruncRule, UniformRule, WideRandint, FIXTURE_RELEASES, LATEST_RELEASE,
    MAX_THREADS, RELEASE_ERAS,
};
pub use context::{CudaDevice, CudaEra, CudaRules, Device, DeviceProfile, DeviceSpec};
pub use cuda::curand::CurandStatePhilox;
pub use dtype::DType;
pub use engine::{Mt19937, Mt19937Jump, Philox4x32};
pub use error::{Error, Result};
pub use generator::{CpuGenerator, CudaGenerator};
pub use state::CPU_STATE_SIZE;
pub use tensor::{SliceMut, Storage, Tensor, MAX_BYTES};
pub use torch::Torch;

/// `torch.nn`: the module classes (each a type with PyTorch's constructor arguments; see
/// [`nn::Class`]), the [`nn::Module`] tree and its `state_dict`, model descriptions, and
/// [`nn::init`].
pub mod nn {
    #[cfg(feature = "json")]
    pub use crate::modules::model::{ModelDesc, MODEL_FORMAT};
    pub use crate::modules::registry::{
        class, ArgKind, ArgSpec, ArgType, ArgValues, ClassEntry, CLASSES, CONTAINER_CLASSES,
        STATELESS_CLASSES,
    };
    pub use crate::modules::*;
    #[cfg(feature = "json")]
    pub use crate::program::{
        Check as ProgramCheck, Entry as ProgramEntry, Mismatch as ProgramMismatch, Program,
        Verification, FORMAT as PROGRAM_FORMAT, MAX_STEPS as PROGRAM_MAX_STEPS,
    };

    /// `torch.nn.init`: the initialisers (each takes the [`crate::Torch`] to draw from, as
    /// PyTorch's take `generator=`), their schema, and the derivations they share.
    pub mod init {
        pub use crate::init::{
            calculate_fan_in_and_fan_out, calculate_gain, constant_, dirac_, eye_, init_function,
            kaiming_normal_, kaiming_uniform_, normal_, ones_, orthogonal_, parse_float, sparse_,
            sparse_with_generator, special_float, trunc_normal_, uniform_, xavier_normal_,
            xavier_uniform_, zeros_, ArgKind, FanMode, InitArg, InitCall, InitFn, Literal,
            Nonlinearity, Number, Plan, Quantity, Sampling, TruncAlgorithm, DESCRIPTION_FUNCTIONS,
            INIT_FUNCTIONS, ORTHOGONAL_MAX_WORK, TRUNC_NORMAL_MAX_ROUNDS,
        };
    }
}

/// `explain`: what an init call, a module or a model derives (fans, gains, bounds in Python's
/// double arithmetic), draws and stores, computed by the code that samples.
pub mod explain {
    pub use crate::init::explain::{DtypeValue, Explanation, ParamExplanation, EXPLAIN_SEED};
    #[cfg(feature = "json")]
    pub use crate::modules::explain::{explain_model, EntryExplanation, ModuleExplanation};
}
