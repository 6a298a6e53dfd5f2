//! Our own twins of the glibc `libm` routines PyTorch's default kernels and double paths call.
//!
//! The reference platform is x86-64 Linux with glibc 2.36 (Debian 12's build, i.e. glibc's
//! `release/2.36/master` branch). On a CPU with AVX2 and FMA, glibc's ifunc resolvers pick the
//! variants compiled with `-mfma -mavx2`, in which GCC contracts `a * b + c` into fused
//! multiply-adds; the reference fixtures come from such a CPU (x86-64 with AVX-512), so the FMA
//! variants are the reference. The other variant (`*_nofma`) is the same C code without
//! contraction, as glibc runs it on CPUs without FMA.
//!
//! | function | glibc source | FMA variant in 2.36 |
//! |---|---|---|
//! | [`logf`] | `sysdeps/ieee754/flt-32/e_logf.c` (from ARM optimized-routines) | `e_logf-fma.c` |
//! | [`sinf`], [`cosf`] | `sysdeps/ieee754/flt-32/s_sinf.c`, `s_cosf.c`, `s_sincosf.h`, `sysdeps/x86/fpu/sincosf_poly.h` | `s_sinf-fma.c`, `s_cosf-fma.c` |
//! | [`log`] | `sysdeps/ieee754/dbl-64/e_log.c` (from ARM optimized-routines) | `e_log-fma.c` (also a different `r`: `fma(z, invc, -1)` where the plain build uses `tab2`) |
//! | [`log1p`] | `sysdeps/ieee754/dbl-64/s_log1p.c` (fdlibm) | `s_log1p-fma.c` (a 2025 backport to `release/2.36/master`; the glibc-2.36 tarball has no FMA log1p) |
//! | [`sin`], [`cos`] | `sysdeps/ieee754/dbl-64/s_sin.c` (IBM Accurate Mathematical Library), `branred.c` | `s_sin-fma.c` (`__branred` is shared and not contracted) |
//!
//! Which products GCC fused was read from the disassembly of Debian's `libm.so.6` (2.36-9+deb12u14)
//! and is written out operation by operation below: `fma::<F>(a, b, c)` is `a * b + c`, fused in
//! the FMA variant (`F = true`) and rounded twice in the other. Tables are copied bit for bit from
//! glibc's sources by `tools/gen_glibc_tables.py` into `tables.rs`; small constants are written here
//! as bit patterns.
//!
//! How often the two variants differ (counted by the ignored test `check_libm`, non-FMA twin
//! against the FMA libm): `logf` never, `sinf` on 12 and `cosf` on 22 of the 2^32 float inputs;
//! `log` on about 61, `log1p` on about 294, `sin` and `cos` on about 520 per million of the tool's
//! random double inputs. On the inputs the normal kernels feed them the float functions agree everywhere,
//! and so do the golden fixtures for `logf`, `sinf`, `cosf` and `log1p`; the fixtures tell the
//! variants apart for `log`, `sin` and `cos` (the FMA ones match).
//!
//! NaN results follow x86-64: an invalid operation on a non-NaN gives the "default NaN" with the
//! sign bit set, and a NaN operand comes back quieted with its payload, so a host with other NaN
//! rules (aarch64) still gets the reference bits.
//!
//! Verification: the ignored test `check_libm` (`check_host.rs`) compares these functions with the
//! host's libm over all 2^32 float inputs (float functions) and over large random samples plus
//! hard cases (double ones), for both variants; the test in `vectors.rs` checks a few thousand
//! fixed inputs per function (`tests/data/libm_*.txt`) against hex constants that tool wrote, on
//! every host.

mod log;
mod log1p;
mod logf;
pub(crate) mod simd;
pub(crate) mod simd_f64;
mod sin;
mod sincosf;
#[allow(clippy::unreadable_literal)]
mod tables;

#[cfg(test)]
mod check_host;
#[cfg(test)]
mod vectors;

pub use log::log;
pub use logf::logf;
pub use sin::{cos, sin};
pub use sincosf::{cosf, sinf};
// The non-FMA twins and `log1p`'s wrapper are only called by the checks against the host libm
// (`libm::log1p` runs `log1p_impl` directly).
#[cfg(test)]
pub use log::log_nofma;
#[cfg(test)]
pub use log1p::{log1p, log1p_nofma};
#[cfg(test)]
pub use logf::logf_nofma;
#[cfg(test)]
pub use sin::{cos_nofma, sin_nofma};
#[cfg(test)]
pub use sincosf::{cosf_nofma, sinf_nofma};

pub(crate) use log::log_impl;
pub(crate) use log1p::log1p_impl;
pub(crate) use logf::logf_impl;
pub(crate) use sin::{cos_impl, sin_impl};
pub(crate) use sincosf::{cosf_impl, sinf_impl};

/// `a * b + c`: one rounding in the FMA variant (`F`), two otherwise.
#[inline(always)]
pub(crate) fn fma<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// What x86-64 returns for an invalid float operation on `x` (`(x - x) / (x - x)`): `x` quieted
/// when it is a NaN, else the default NaN `0xffc00000`.
#[inline]
pub(crate) fn invalid_f32(x: f32) -> f32 {
    if x.is_nan() {
        f32::from_bits(x.to_bits() | 0x0040_0000)
    } else {
        f32::from_bits(0xffc0_0000)
    }
}

/// As [`invalid_f32`] for doubles: `x` quieted, or `0xfff8000000000000`.
#[inline]
pub(crate) fn invalid_f64(x: f64) -> f64 {
    if x.is_nan() {
        f64::from_bits(x.to_bits() | 0x0008_0000_0000_0000)
    } else {
        f64::from_bits(0xfff8_0000_0000_0000)
    }
}

/// A table entry as a double.
#[inline(always)]
pub(crate) const fn d(bits: u64) -> f64 {
    f64::from_bits(bits)
}
