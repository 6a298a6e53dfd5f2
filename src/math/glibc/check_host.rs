//! Compares our glibc twins with the host's libm, bit for bit: the ignored test `check_libm`.
//!
//! A verification tool, not a test of the crate: on the reference platform (x86-64 Linux, glibc
//! 2.36) it checks our twins against the C library PyTorch calls. Its arguments are read from
//! `TORCH_RNG_CHECK_LIBM`:
//!
//! * `--float`: every one of the 2^32 float inputs of `logf`, `sinf` and `cosf`.
//! * `--double N`: `log`, `log1p`, `sin` and `cos` on the hard cases (special values, subnormals,
//!   branch boundaries, near 1 for the logs, near multiples of π/2 and huge arguments for sin/cos,
//!   every input shape the kernels feed them) and on `N` random inputs per function from several
//!   distributions (random bit patterns, uniform on the kernels' ranges).
//! * `--write-vectors FILE`: writes a few thousand fixed inputs per function with the host's
//!   outputs, in hex, for `vectors.rs` (which checks them on every host).
//!
//! `--variant fma` (default) compares with our FMA twins, `--variant nofma` with the others. glibc
//! picks its variant by CPU (ifunc); to make it use the non-FMA code on an FMA machine, run with
//! `GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA`.
//!
//! ```text
//! TORCH_RNG_CHECK_LIBM="--float --double 100000000" nice -n 10 cargo test --release --lib check_libm -- --ignored --nocapture
//! GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA TORCH_RNG_CHECK_LIBM="--variant nofma --float --double 100000000" nice -n 10 cargo test --release --lib check_libm -- --ignored --nocapture
//! ```

use super as glibc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

type F32Fn = fn(f32) -> f32;
type F64Fn = fn(f64) -> f64;

/// The host's libm, through Rust's float methods (which call `logf`, `sinf`, ... of the C library
/// on `x86_64-unknown-linux-gnu`). `black_box` keeps the compiler from folding anything.
fn host_logf(x: f32) -> f32 {
    std::hint::black_box(x).ln()
}
fn host_sinf(x: f32) -> f32 {
    std::hint::black_box(x).sin()
}
fn host_cosf(x: f32) -> f32 {
    std::hint::black_box(x).cos()
}
fn host_log(x: f64) -> f64 {
    std::hint::black_box(x).ln()
}
fn host_log1p(x: f64) -> f64 {
    std::hint::black_box(x).ln_1p()
}
fn host_sin(x: f64) -> f64 {
    std::hint::black_box(x).sin()
}
fn host_cos(x: f64) -> f64 {
    std::hint::black_box(x).cos()
}

fn floats(fma: bool) -> [(&'static str, F32Fn, F32Fn); 3] {
    if fma {
        [
            ("logf", glibc::logf, host_logf),
            ("sinf", glibc::sinf, host_sinf),
            ("cosf", glibc::cosf, host_cosf),
        ]
    } else {
        [
            ("logf", glibc::logf_nofma, host_logf),
            ("sinf", glibc::sinf_nofma, host_sinf),
            ("cosf", glibc::cosf_nofma, host_cosf),
        ]
    }
}

fn doubles(fma: bool) -> [(&'static str, F64Fn, F64Fn); 4] {
    if fma {
        [
            ("log", glibc::log, host_log),
            ("log1p", glibc::log1p, host_log1p),
            ("sin", glibc::sin, host_sin),
            ("cos", glibc::cos, host_cos),
        ]
    } else {
        [
            ("log", glibc::log_nofma, host_log),
            ("log1p", glibc::log1p_nofma, host_log1p),
            ("sin", glibc::sin_nofma, host_sin),
            ("cos", glibc::cos_nofma, host_cos),
        ]
    }
}

/// splitmix64: a fixed, documented sequence, so runs and vector files are reproducible.
struct SplitMix(u64);
impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0)
    }
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(2))
}

/// All 2^32 inputs of each float function; returns the mismatch counts.
fn check_floats(fma: bool) -> Vec<(&'static str, u64)> {
    let mut out = vec![];
    for (name, ours, host) in floats(fma) {
        let t = Instant::now();
        let bad = AtomicU64::new(0);
        let nt = threads() as u64;
        std::thread::scope(|s| {
            for th in 0..nt {
                let bad = &bad;
                s.spawn(move || {
                    let (lo, hi) = ((th << 32) / nt, ((th + 1) << 32) / nt);
                    let mut shown = 0;
                    for bits in lo..hi {
                        let x = f32::from_bits(bits as u32);
                        let (a, b) = (ours(x), host(x));
                        if a.to_bits() != b.to_bits() {
                            bad.fetch_add(1, Ordering::Relaxed);
                            if shown < 5 {
                                shown += 1;
                                eprintln!(
                                    "  {name}({:08x} = {x:e}): ours {:08x} host {:08x}",
                                    bits,
                                    a.to_bits(),
                                    b.to_bits()
                                );
                            }
                        }
                    }
                });
            }
        });
        let n = bad.load(Ordering::Relaxed);
        println!(
            "{name}: {n} of 4294967296 inputs differ ({:.0} s)",
            t.elapsed().as_secs_f64()
        );
        out.push((name, n));
    }
    out
}

/// Adds `x` and its neighbours within `ulps` (both signs when `signs`).
fn around(v: &mut Vec<f64>, x: f64, ulps: u64, signs: bool) {
    if !x.is_finite() {
        v.push(x);
        return;
    }
    let b = x.abs().to_bits();
    for k in 0..=ulps {
        for c in [b.saturating_sub(k), b.saturating_add(k)] {
            let y = f64::from_bits(c);
            if y.is_finite() {
                v.push(y.copysign(x));
                if signs {
                    v.push(-y.copysign(x));
                }
            }
        }
    }
}

/// Hand-picked hard inputs of one double function.
#[allow(clippy::too_many_lines)] // one list of inputs per function
fn hard_cases(name: &str) -> Vec<f64> {
    let mut v = vec![
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        -f64::NAN,
        f64::from_bits(0x7ff0_0000_0000_0001), // signalling NaN
        f64::from_bits(0xfff4_0000_0000_1234),
        f64::MIN_POSITIVE,
        f64::MAX,
        f64::from_bits(1),
        f64::from_bits(0x000f_ffff_ffff_ffff),
        1.0,
        -1.0,
        0.5,
        2.0,
    ];
    // Subnormals and tiny values.
    let mut r = SplitMix(name.len() as u64);
    for _ in 0..2000 {
        v.push(f64::from_bits(r.next() & 0x000f_ffff_ffff_ffff));
        v.push(-f64::from_bits(r.next() & 0x000f_ffff_ffff_ffff));
    }
    // Every power of two and its neighbours.
    for e in -1074..=1023 {
        around(&mut v, 2f64.powi(e), 2, true);
    }
    match name {
        "log" => {
            // Near 1 (the separate polynomial) and its boundaries 1 - 2^-4, 1 + 0x1.09p-4.
            for k in 0..20_000u64 {
                v.push(f64::from_bits(0x3ff0_0000_0000_0000 + k));
                v.push(f64::from_bits(0x3ff0_0000_0000_0000 - k));
                v.push(1.0 + k as f64 * 2f64.powi(-30));
                v.push(1.0 - k as f64 * 2f64.powi(-30));
            }
            around(&mut v, 1.0 - 2f64.powi(-4), 50, false);
            around(&mut v, f64::from_bits(0x3ff1_0900_0000_0000), 50, false);
            // The table's subinterval edges.
            for i in 0..256u64 {
                around(
                    &mut v,
                    f64::from_bits(0x3fe6_0000_0000_0000 + (i << 45)),
                    3,
                    false,
                );
            }
            // The kernels' inputs: 1 - k 2^-53 (u1 of the float64 block) and k 2^-53.
            for k in 0..50_000u64 {
                v.push(1.0 - k as f64 * 2f64.powi(-53));
                v.push(k as f64 * 2f64.powi(-53));
                v.push(1.0 - (k << 30) as f64 * 2f64.powi(-53));
            }
        }
        "log1p" => {
            // The branch points: 2^-54, 2^-29, 0.41422, -0.2929, -1, 2^53, and |f| < 2^-20.
            for x in [
                2f64.powi(-54),
                2f64.powi(-29),
                f64::from_bits(0x3fda_827a_0000_0000),
                f64::from_bits(0xbfd2_bec3_0000_0000),
                f64::from_bits(0xbfd2_bec4_0000_0000),
                -1.0,
                2f64.powi(53),
                f64::from_bits(0x4340_0000_0000_0000),
                2f64.powi(-20),
                f64::from_bits(0x3ff6_a09e_0000_0000) - 1.0,
            ] {
                around(&mut v, x, 100, true);
            }
            for k in 0..20_000u64 {
                v.push(k as f64 * 2f64.powi(-40));
                v.push(-(k as f64) * 2f64.powi(-40));
                v.push(f64::from_bits(0x3ff0_0000_0000_0000 + (k << 20)) - 1.0);
            }
            // The per-element normal's input: -u2, u2 = k 2^-53.
            for k in 0..50_000u64 {
                v.push(-(k as f64) * 2f64.powi(-53));
                v.push(-(1.0 - k as f64 * 2f64.powi(-53)));
                v.push(-((k << 30) as f64) * 2f64.powi(-53));
            }
        }
        _ => {
            // sin, cos: near multiples of π/2, the branch points, huge arguments.
            let hp = std::f64::consts::FRAC_PI_2;
            for k in 1..20_000i64 {
                around(&mut v, k as f64 * hp, 3, true);
            }
            for e in 0..60 {
                let k = 1i64 << e;
                around(&mut v, k as f64 * hp, 3, true);
                around(&mut v, (k + 1) as f64 * hp, 3, true);
            }
            // Known hard cases of the reduction: 6381956970095103 · 2^797 and friends.
            for x in [
                6_381_956_970_095_103.0 * 2f64.powi(797),
                5_706_749_598_604_803.0 * 2f64.powi(-1023 + 1023),
                1e22,
                1e300,
                105_414_350.0,
                f64::from_bits(0x4199_21fb_0000_0000),
                f64::from_bits(0x3e50_0000_0000_0000),
                f64::from_bits(0x3e40_0000_0000_0000),
                f64::from_bits(0x3feb_6000_0000_0000),
                f64::from_bits(0x4003_68fd_0000_0000),
                0.126,
                0.855_469,
                2.426_265,
            ] {
                around(&mut v, x, 200, true);
            }
            // The kernels' inputs: 2π · k 2^-53 (float64 block) and 2π u1.
            let two_pi = 2.0 * std::f64::consts::PI;
            for k in 0..100_000u64 {
                v.push(two_pi * (k as f64 * 2f64.powi(-53)));
                v.push(two_pi * (1.0 - k as f64 * 2f64.powi(-53)));
                v.push(two_pi * ((k << 36) as f64 * 2f64.powi(-53)));
            }
        }
    }
    v
}

/// A random input of one of several shapes.
fn random_input(name: &str, r: &mut SplitMix) -> f64 {
    match r.next() % 4 {
        0 => f64::from_bits(r.next()),
        1 => match name {
            "log" => r.unit(),
            "log1p" => -r.unit(),
            _ => 2.0 * std::f64::consts::PI * r.unit(),
        },
        2 => match name {
            "log" => 1.0 + (r.unit() - 0.5) / 8.0,
            "log1p" => (r.unit() - 0.3) * 1.5,
            _ => (r.unit() - 0.5) * 2e9,
        },
        _ => {
            // Random sign, mantissa and an exponent in a useful range.
            let e = (r.next() % 140) as i32 - 70;
            let m = 1.0 + r.unit();
            let s = if r.next() & 1 == 0 { 1.0 } else { -1.0 };
            s * m * 2f64.powi(e)
        }
    }
}

fn check_doubles(fma: bool, n: u64) -> Vec<(&'static str, u64, u64)> {
    let mut out = vec![];
    for (name, ours, host) in doubles(fma) {
        let t = Instant::now();
        let hard = hard_cases(name);
        let mut shown = 0;
        let mut check = |x: f64| -> u64 {
            let (a, b) = (ours(x), host(x));
            if a.to_bits() == b.to_bits() {
                return 0;
            }
            if shown < 5 {
                shown += 1;
                eprintln!(
                    "  {name}({:016x} = {x:e}): ours {:016x} host {:016x}",
                    x.to_bits(),
                    a.to_bits(),
                    b.to_bits()
                );
            }
            1
        };
        let hard_bad: u64 = hard.iter().map(|&x| check(x)).sum();
        let mut r = SplitMix(0x5eed ^ name.len() as u64);
        let bad = hard_bad
            + (0..n)
                .map(|_| check(random_input(name, &mut r)))
                .sum::<u64>();
        println!(
            "{name}: {hard_bad} of {} hard cases and {} of {n} random inputs differ ({:.0} s)",
            hard.len(),
            bad - hard_bad,
            t.elapsed().as_secs_f64()
        );
        out.push((name, hard.len() as u64 + n, bad));
    }
    out
}

/// Writes `FUNC INPUT OUTPUT` lines (hex bit patterns) with the host's outputs.
fn write_vectors(path: &str, fma: bool) -> std::io::Result<()> {
    use std::fmt::Write as _;
    // About 2 · per + 16 inputs per function.
    let per = if fma { 1000 } else { 250 };
    let mut s = String::new();
    let variant = if fma { "fma" } else { "nofma" };
    writeln!(
        s,
        "# libm test vectors: glibc 2.36 x86-64, {variant} variant (the host's outputs)."
    )
    .unwrap();
    writeln!(
        s,
        "# Written by the ignored test check_libm (--write-vectors); do not edit."
    )
    .unwrap();
    writeln!(s, "# function input output (bit patterns in hex)").unwrap();
    let mut r = SplitMix(20_240_611);
    for (name, _, host) in floats(fma) {
        let mut xs: Vec<f32> = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            f32::from_bits(0x7f80_0001),
            f32::from_bits(1),
            f32::MIN_POSITIVE,
            f32::MAX,
            120.0,
            f32::from_bits(0x3f49_0fdb),
        ];
        for _ in 0..per {
            xs.push(f32::from_bits(r.next() as u32));
            // the normal kernel's inputs: 1 - u for logf, theta = 2π u for sinf/cosf
            let u = (r.next() as u32 & 0x00ff_ffff) as f32 / 16_777_216.0;
            xs.push(if name == "logf" {
                1.0 - u
            } else {
                (2.0 * std::f64::consts::PI * f64::from(u)) as f32
            });
        }
        for x in xs {
            writeln!(s, "{name} {:08x} {:08x}", x.to_bits(), host(x).to_bits()).unwrap();
        }
    }
    for (name, _, host) in doubles(fma) {
        let hard = hard_cases(name);
        let mut xs: Vec<f64> = hard.iter().step_by(hard.len() / per + 1).copied().collect();
        xs.extend(&hard[..16]);
        for _ in 0..per {
            xs.push(random_input(name, &mut r));
        }
        for x in xs {
            writeln!(s, "{name} {:016x} {:016x}", x.to_bits(), host(x).to_bits()).unwrap();
        }
    }
    std::fs::write(path, s)
}

#[test]
#[ignore = "a measurement against the host's libm; arguments in TORCH_RNG_CHECK_LIBM"]
fn check_libm() {
    let args: Vec<String> = std::env::var("TORCH_RNG_CHECK_LIBM")
        .unwrap_or_default()
        .split_whitespace()
        .map(String::from)
        .collect();
    let mut fma = true;
    let mut float = false;
    let mut double = None;
    let mut vectors = None;
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--variant" => {
                i += 1;
                fma = match args.get(i).map(String::as_str) {
                    Some("fma") => true,
                    Some("nofma") => false,
                    other => panic!("--variant fma|nofma, not {other:?}"),
                };
            }
            "--float" => float = true,
            "--double" => {
                i += 1;
                double = Some(args[i].parse::<u64>().expect("--double N"));
            }
            "--write-vectors" => {
                i += 1;
                vectors = Some(args[i].clone());
            }
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    let variant = if fma { "fma" } else { "nofma" };
    println!(
        "check_libm: ours ({variant} variant) against the host libm; GLIBC_TUNABLES={:?}",
        std::env::var("GLIBC_TUNABLES").ok()
    );
    let mut ok = true;
    if float {
        ok &= check_floats(fma).iter().all(|&(_, n)| n == 0);
    }
    if let Some(n) = double {
        ok &= check_doubles(fma, n).iter().all(|&(_, _, b)| b == 0);
    }
    if let Some(path) = vectors {
        write_vectors(&path, fma).expect("write the vector file");
        println!("wrote {path}");
    }
    assert!(ok, "the twins differ from the host libm (see above)");
}
