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

/// Checks `from_words` (a Box–Muller transform that reads its words itself) against the
/// uniforms pass `(w & 0xffffff) · 2^-24` then `blocks`, bit for bit, for every 24-bit value a
/// word can carry (whatever its high byte) in either half of a block: on the first `len`
/// elements of every batch with mean and std `ms`, for each `(len, ms)` of `cases` (test
/// helper of the 8- and 16-lane twins).
#[cfg(all(test, target_arch = "x86_64"))]
pub(crate) fn check_from_words(
    blocks: fn(&mut [f32], f32, f32) -> bool,
    from_words: fn(&[u32], &mut [f32], f32, f32) -> bool,
    cases: &[(usize, (f32, f32))],
) {
    let n = 1 << 14;
    let mut words = vec![0u32; n];
    let (mut got, mut want) = (vec![0f32; n], vec![0f32; n]);
    for shift in [0u32, 8] {
        let mut k = 0u32;
        while k < 1 << 24 {
            for (i, w) in words.iter_mut().enumerate() {
                let low = (k + i as u32 + shift) & 0x00ff_ffff;
                *w = low | (low.wrapping_mul(0x9e37_79b9) & 0xff00_0000);
            }
            for &(len, (mean, std)) in cases {
                let (g, w) = (&mut got[..len], &mut want[..len]);
                for (u, &wd) in w.iter_mut().zip(&words) {
                    *u = (wd & 0x00ff_ffff) as f32 / 16_777_216.0;
                }
                assert!(blocks(w, mean, std));
                assert!(from_words(&words[..len], g, mean, std));
                assert!(
                    g.iter()
                        .zip(w.iter())
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{k} {shift} {len}"
                );
            }
            k += n as u32;
        }
    }
}
