//! The exact transcendental routines each kernel path calls (STYLE rule 6).
//!
//! * [`libm`]: the C library functions PyTorch's scalar paths call. PyTorch calls the system libm;
//!   the reference platform is x86-64 Linux with glibc, and Rust's `f32`/`f64` methods call that
//!   same libm on `x86_64-unknown-linux-gnu`.
//! * [`avx`]: the Cephes-style float `log` and `sincos` of `aten/src/ATen/native/cpu/avx_mathfun.h`,
//!   as the AVX2 build of the normal kernel evaluates them (fixed fused multiply-adds), lane by lane;
//!   [`avx_simd`] is its 8-lane AVX2 twin, a faster route with the same bits.
//! * [`glibc`]: our own implementations of the glibc routines [`libm`] names (`logf`, `sinf`,
//!   `cosf`, `log`, `log1p`, `sin`, `cos`), bit for bit as x86-64 glibc 2.36 computes them, so
//!   results no longer depend on the host's libm.
//! * [`special`]: `erf` and `erfinv` in double for `nn.init.trunc_normal_` (PyTorch calls glibc's
//!   `erf` and MKL's `erfinv`; both are approximated, see the module).

pub mod avx;
pub mod avx512_simd;
pub mod avx_simd;
pub mod glibc;
pub mod libdevice;
pub mod libm;
pub mod mufu;
pub mod special;
