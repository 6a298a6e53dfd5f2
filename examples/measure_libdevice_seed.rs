//! How much the undocumented `rcp.approx.ftz.f64` seed can change libdevice's `log`.
//!
//! `cargo run --release --example measure_libdevice_seed [N]`
//!
//! `__nv_log` (and with it `__nv_log1p` above 0.667 and the float64 `randn` of PyTorch's CUDA
//! kernels) refines a hardware reciprocal seed whose exact bits no document gives. The hardware
//! seed carries 20 mantissa bits; whatever its internal rounding, it is one of the two 20-bit
//! neighbours of the true reciprocal. This program evaluates `nv_log` on `N` curand-style double
//! uniforms (`z * 2^-53 + 2^-54`) with each neighbour as the seed and counts the results that
//! differ: an upper bound on how often torch-rng's seed model can disagree with the GPU.

use torch_rng::math::libdevice::nv_log_with_seed;

fn down(x: f64) -> f64 {
    f64::from_bits((1.0 / x).to_bits() & !0xffff_ffffu64)
}

fn up(x: f64) -> f64 {
    f64::from_bits(((1.0 / x).to_bits() & !0xffff_ffffu64) + (1u64 << 32))
}

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(2_000_000);
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
    let (mut differ, mut worst) = (0u64, 0u64);
    for _ in 0..n {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let u = (s >> 11) as f64 * 2f64.powi(-53) + 2f64.powi(-54);
        let a = nv_log_with_seed(u, down);
        let b = nv_log_with_seed(u, up);
        if a.to_bits() != b.to_bits() {
            differ += 1;
            worst = worst.max(a.to_bits().abs_diff(b.to_bits()));
        }
    }
    println!(
        "nv_log on {n} curand double uniforms: {differ} results depend on the seed's last bit \
         ({:.2e} of values), by at most {worst} ulp",
        differ as f64 / n as f64
    );
}
