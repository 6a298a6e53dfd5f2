//! The C library functions PyTorch calls, by name.
//!
//! `logf`, `sinf`, `cosf`, `log`, `log1p`, `sin` and `cos` are our own twins of glibc 2.36's
//! x86-64 FMA variants ([`super::glibc`]), so they give the reference platform's bits on every
//! host. Each call runs the twin compiled with hardware FMA where the CPU has it (chosen at run
//! time) and the portable twin (whose `mul_add` is a correctly rounded library call) elsewhere;
//! both give the same bits.
//!
//! `exp`, `tan` and `log2` (log-normal and Cauchy samplers, `erf`, CUDA `randperm`'s key width)
//! still call the host's libm: on `x86_64-unknown-linux-gnu` Rust lowers them to glibc's functions
//! of the same name, which is what PyTorch calls; on other platforms bits may differ (see the
//! README's fidelity section).
//! `sqrt`/`sqrtf` are correctly rounded everywhere.

use super::glibc;

/// Defines `pub fn $name` running `glibc::$imp::<true>` in an FMA-enabled copy when the CPU has
/// FMA, and the portable copy otherwise.
macro_rules! twin {
    ($(#[$m:meta])* $name:ident, $imp:ident, $t:ty) => {
        $(#[$m])*
        #[inline]
        #[must_use]
        pub fn $name(x: $t) -> $t {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "fma")]
                fn with_fma(x: $t) -> $t {
                    glibc::$imp::<true>(x)
                }
                if std::arch::is_x86_feature_detected!("fma") {
                    // SAFETY: the CPU reported the `fma` feature just above.
                    return unsafe { with_fma(x) };
                }
            }
            glibc::$imp::<true>(x)
        }
    };
}

twin!(
    /// C `logf` (glibc 2.36, x86-64, FMA variant).
    logf, logf_impl, f32
);
twin!(
    /// C `sinf` (glibc 2.36, x86-64, FMA variant).
    sinf, sinf_impl, f32
);
twin!(
    /// C `cosf` (glibc 2.36, x86-64, FMA variant).
    cosf, cosf_impl, f32
);
twin!(
    /// C `log` (glibc 2.36, x86-64, FMA variant).
    log, log_impl, f64
);
twin!(
    /// C `log1p` (Debian's glibc 2.36, x86-64, FMA variant).
    log1p, log1p_impl, f64
);
twin!(
    /// C `sin` (glibc 2.36, x86-64, FMA variant).
    sin, sin_impl, f64
);
twin!(
    /// C `cos` (glibc 2.36, x86-64, FMA variant).
    cos, cos_impl, f64
);

/// C `log2`.
#[inline]
#[must_use]
pub fn log2(x: f64) -> f64 {
    x.log2()
}

/// C `exp`.
#[inline]
#[must_use]
pub fn exp(x: f64) -> f64 {
    x.exp()
}

/// C `tan`.
#[inline]
#[must_use]
pub fn tan(x: f64) -> f64 {
    x.tan()
}

/// C `sqrt` (correctly rounded everywhere).
#[inline]
#[must_use]
pub fn sqrt(x: f64) -> f64 {
    x.sqrt()
}

/// C `sqrtf` (correctly rounded everywhere).
#[inline]
#[must_use]
pub fn sqrtf(x: f32) -> f32 {
    x.sqrt()
}
