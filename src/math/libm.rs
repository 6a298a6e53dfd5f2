//! The C library functions PyTorch calls, by name.
//!
//! Each function is a thin wrapper that documents which C routine it stands for. On
//! `x86_64-unknown-linux-gnu` Rust lowers these methods to calls of glibc's functions of the same
//! name, which is what PyTorch calls; on other platforms the platform libm answers and bits may
//! differ (see the README's fidelity section).

/// C `logf`.
#[inline]
#[must_use]
pub fn logf(x: f32) -> f32 {
    x.ln()
}

/// C `sinf`.
#[inline]
#[must_use]
pub fn sinf(x: f32) -> f32 {
    x.sin()
}

/// C `cosf`.
#[inline]
#[must_use]
pub fn cosf(x: f32) -> f32 {
    x.cos()
}

/// C `log`.
#[inline]
#[must_use]
pub fn log(x: f64) -> f64 {
    x.ln()
}

/// C `log2`.
#[inline]
#[must_use]
pub fn log2(x: f64) -> f64 {
    x.log2()
}

/// C `log1p`.
#[inline]
#[must_use]
pub fn log1p(x: f64) -> f64 {
    x.ln_1p()
}

/// C `sin`.
#[inline]
#[must_use]
pub fn sin(x: f64) -> f64 {
    x.sin()
}

/// C `cos`.
#[inline]
#[must_use]
pub fn cos(x: f64) -> f64 {
    x.cos()
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
