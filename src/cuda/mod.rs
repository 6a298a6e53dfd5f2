//! PyTorch's CUDA random streams, emulated on the CPU.
//!
//! Mirrors: `aten/src/ATen/native/cuda/DistributionTemplates.h` and the kernels listed in
//! [`ops`]; the specification is shared/reference/cuda-philox.md.
//!
//! * [`curand`]: curand's word → float conversions and Box–Muller, and its Philox device state.
//! * The GPU properties that decide the launch grid ([`DeviceProfile`], presets) and what changes
//!   between releases (one [`CudaRules`] row per [`CudaEra`]) are data of the [`crate::Context`]
//!   (`context/device.rs`, `context/cuda_era.rs`).
//! * [`launch`]: the grid-stride launch geometry, element → (thread, block, component) mapping,
//!   offset reservations and the 32-bit-indexing splits.
//! * [`ops`]: the ops (`rand`, `randn`, `uniform_`, `normal_`, `randint`, `random_`,
//!   `bernoulli_`, `bernoulli`, `native_dropout`/`dropout`, `randperm`, `exponential_`,
//!   `geometric_`, `log_normal_`, `cauchy_`), each taking the generator, the profile and the era.
//!
//! The generator itself is [`crate::generator::CudaGenerator`]; its state bytes are in
//! `state::cuda`.

pub mod curand;
pub(crate) mod elem;
pub mod launch;
pub mod ops;

#[cfg(all(test, feature = "json"))]
mod gpu_tests;
#[cfg(all(test, feature = "json"))]
mod model_tests;
