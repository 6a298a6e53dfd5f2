//! Our glibc twins against fixed outputs of the reference libm.
//!
//! The vectors were written by the host-libm check's `--write-vectors` (then
//! `examples/check_libm.rs`, now the ignored test `check_libm` in `check_host.rs`, which writes the
//! same file) on x86-64 Linux with Debian's glibc 2.36 (`tests/data/libm_fma.txt` on an FMA CPU,
//! `tests/data/libm_nofma.txt` with `GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA`). They are
//! checked here on every host, so a macOS, Windows or musl build proves it computes the reference
//! bits without that libm. The exhaustive comparison (all 2^32 floats, 10^8 random doubles per
//! function) is `check_libm`'s job.

use super as glibc;

/// Checks every line of `data`; returns the failures, all of them.
fn check(data: &str, fma: bool) -> Vec<String> {
    let mut bad = vec![];
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for line in data
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
    {
        let mut it = line.split_whitespace();
        let (name, x, want) = (
            it.next().unwrap(),
            u64::from_str_radix(it.next().unwrap(), 16).unwrap(),
            u64::from_str_radix(it.next().unwrap(), 16).unwrap(),
        );
        *counts.entry(name).or_default() += 1;
        let got = match (name, fma) {
            ("logf", true) => u64::from(glibc::logf(f32::from_bits(x as u32)).to_bits()),
            ("sinf", true) => u64::from(glibc::sinf(f32::from_bits(x as u32)).to_bits()),
            ("cosf", true) => u64::from(glibc::cosf(f32::from_bits(x as u32)).to_bits()),
            ("logf", false) => u64::from(glibc::logf_nofma(f32::from_bits(x as u32)).to_bits()),
            ("sinf", false) => u64::from(glibc::sinf_nofma(f32::from_bits(x as u32)).to_bits()),
            ("cosf", false) => u64::from(glibc::cosf_nofma(f32::from_bits(x as u32)).to_bits()),
            ("log", true) => glibc::log(f64::from_bits(x)).to_bits(),
            ("log1p", true) => glibc::log1p(f64::from_bits(x)).to_bits(),
            ("sin", true) => glibc::sin(f64::from_bits(x)).to_bits(),
            ("cos", true) => glibc::cos(f64::from_bits(x)).to_bits(),
            ("log", false) => glibc::log_nofma(f64::from_bits(x)).to_bits(),
            ("log1p", false) => glibc::log1p_nofma(f64::from_bits(x)).to_bits(),
            ("sin", false) => glibc::sin_nofma(f64::from_bits(x)).to_bits(),
            ("cos", false) => glibc::cos_nofma(f64::from_bits(x)).to_bits(),
            _ => panic!("unknown function in the vector file: {line}"),
        };
        if got != want {
            bad.push(format!(
                "{name}({x:016x}): got {got:016x}, want {want:016x}"
            ));
        }
    }
    for f in ["logf", "sinf", "cosf", "log", "log1p", "sin", "cos"] {
        assert!(
            counts.get(f).copied().unwrap_or(0) >= 500,
            "too few vectors for {f}"
        );
    }
    bad
}

#[test]
fn fma_variant_matches_the_reference_vectors() {
    let bad = check(include_str!("../../../tests/data/libm_fma.txt"), true);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

#[test]
fn nofma_variant_matches_the_reference_vectors() {
    let bad = check(include_str!("../../../tests/data/libm_nofma.txt"), false);
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}
