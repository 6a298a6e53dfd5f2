//! CPU fill kernels: which words each element draws, in which order, and how they become values.
//!
//! [`transform`] holds the pure word→value functions; [`uniform`] and [`normal`] the fill
//! kernels with PyTorch's element order, tails and caches. Kernels write into caller slices in
//! blocks, with no per-element allocation.
//!
//! Hot loops that need fused multiply-adds have two routes with the same bits: an FMA route,
//! compiled with the `fma` target feature and chosen at run time when the CPU has it, and a portable
//! route whose `mul_add` is a correctly rounded library call.

// The `routed!` bodies must be inlined into their `fma`-enabled wrapper to be compiled with
// FMA, hence `#[inline(always)]` on them and on the helpers they call.
#![allow(clippy::inline_always)]

pub mod bernoulli;
pub(crate) mod block;
pub mod continuous;
pub(crate) mod deferred;
pub(crate) mod fixed;
pub mod ints;
pub mod multinomial;
pub mod normal;
pub mod perm;
pub mod transform;
pub mod uniform;
pub(crate) mod words;

use crate::simd::Lanes;

pub(crate) use fixed::Cursor;

/// A reduced float type as the fill kernels see it: its rounding from float, its widening back,
/// and its `digits` (the legacy draw width).
pub(crate) struct Reduced<T> {
    pub(crate) narrow: fn(f32) -> T,
    pub(crate) widen: fn(T) -> f32,
    pub(crate) digits: u32,
    /// `out[i] = widen(r) == to ? from : r` with `r = narrow(vals[i])`, over a block (vectorised
    /// where the route allows; see [`words`]).
    pub(crate) narrow_replace: fn(&[f32], &mut [T], f32, T, Lanes),
}

impl<T: Copy> Reduced<T> {
    /// Rounds a float to the dtype and back (c10's `T(x)` used as a float).
    pub(crate) fn round(&self, x: f32) -> f32 {
        (self.widen)((self.narrow)(x))
    }
}

impl Reduced<half::f16> {
    /// float16.
    pub(crate) fn f16() -> Self {
        Reduced {
            narrow: crate::dtype::f32_to_f16,
            widen: crate::dtype::f16_to_f32,
            narrow_replace: words::narrow_replace_f16,
            digits: crate::dtype::DType::Float16
                .digits()
                .expect("float16 is a float dtype"),
        }
    }
}

impl Reduced<half::bf16> {
    /// bfloat16.
    pub(crate) fn bf16() -> Self {
        Reduced {
            narrow: crate::dtype::f32_to_bf16,
            widen: crate::dtype::bf16_to_f32,
            narrow_replace: words::narrow_replace_bf16,
            digits: crate::dtype::DType::BFloat16
                .digits()
                .expect("bfloat16 is a float dtype"),
        }
    }
}

/// Which compiled route a kernel takes. Every route gives identical bits; tests run them all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Plain code; `mul_add` is a software (libm) call on CPUs built without FMA.
    Portable,
    /// Scalar loops compiled with `#[target_feature(enable = "fma")]`; only where the CPU has FMA.
    #[cfg(target_arch = "x86_64")]
    Fma,
    /// As [`Route::Fma`], plus 8-lane AVX2 kernels where a kernel has them.
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// As [`Route::Avx2`], plus 16-lane AVX-512 kernels where a kernel has them.
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

impl Route {
    /// The fastest route this host can run (capped by `TORCH_RNG_LANES`, see [`crate::simd`]).
    pub(crate) fn detect() -> Route {
        #[cfg(target_arch = "x86_64")]
        {
            match Lanes::detect() {
                Lanes::Avx512 => return Route::Avx512,
                Lanes::Avx2 => return Route::Avx2,
                Lanes::Scalar => {
                    if std::arch::is_x86_feature_detected!("fma") {
                        return Route::Fma;
                    }
                }
            }
        }
        Route::Portable
    }

    /// Whether scalar loops are compiled with hardware FMA on this route.
    pub(crate) fn fma(self) -> bool {
        self != Route::Portable
    }

    /// The SIMD width vectorised kernels may use on this route.
    pub(crate) fn lanes(self) -> Lanes {
        match self {
            #[cfg(target_arch = "x86_64")]
            Route::Avx512 => Lanes::Avx512,
            #[cfg(target_arch = "x86_64")]
            Route::Avx2 => Lanes::Avx2,
            _ => Lanes::Scalar,
        }
    }

    /// Every route this host can run (for tests and benches), slowest first.
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Route> {
        #[allow(unused_mut)]
        let mut v = vec![Route::Portable];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("fma") {
                v.push(Route::Fma);
            }
            if Lanes::Avx2.supported() {
                v.push(Route::Avx2);
            }
            if Lanes::Avx512.supported() {
                v.push(Route::Avx512);
            }
        }
        v
    }
}

/// Expands to a function `$name(route, args...)` that runs `$body` (an `#[inline(always)]` fn)
/// either plainly or inside an `fma`-enabled wrapper.
macro_rules! routed {
    ($(#[$m:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) => $body:path) => {
        $(#[$m])*
        $vis fn $name(route: $crate::distributions::Route, $($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "fma")]
                unsafe fn with_fma($($arg: $ty),*) {
                    $body($($arg),*)
                }
                if route.fma() {
                    // SAFETY: routes other than `Portable` are only ever produced by
                    // `Route::detect` (or `Route::available`), after the CPU reported FMA.
                    unsafe { with_fma($($arg),*) };
                    return;
                }
            }
            let _ = route;
            $body($($arg),*)
        }
    };
}
pub(crate) use routed;
