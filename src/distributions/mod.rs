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
pub mod ints;
pub mod multinomial;
pub mod normal;
pub mod perm;
pub mod transform;
pub mod uniform;

/// Which compiled route a kernel takes. Both give identical bits; tests run both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// Plain code; `mul_add` is a software (libm) call on CPUs built without FMA.
    Portable,
    /// Compiled with `#[target_feature(enable = "fma")]`; only used where the CPU has FMA.
    #[cfg(target_arch = "x86_64")]
    Fma,
}

impl Route {
    /// The fastest route this host can run.
    pub(crate) fn detect() -> Route {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("fma") {
                return Route::Fma;
            }
        }
        Route::Portable
    }

    /// Every route this host can run (for tests and benches).
    #[cfg(test)]
    pub(crate) fn available() -> Vec<Route> {
        let mut v = vec![Route::Portable];
        if Route::detect() != Route::Portable {
            v.push(Route::detect());
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
                if route == $crate::distributions::Route::Fma {
                    // SAFETY: `Route::Fma` is only ever produced by `Route::detect`, after the
                    // CPU reported the `fma` feature.
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
