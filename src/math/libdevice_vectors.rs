//! torch-rng's libdevice ports against NVIDIA's own libdevice code.
//!
//! `golden/libdevice/vectors.txt` is written by `tools/libdevice_vectors.py`, which compiles the
//! routines from the PyTorch 2.15.0 wheel's `libdevice.10.bc` for the host (IEEE shims for the
//! NVVM intrinsics, torch-rng's model for the `rcp.approx.ftz.f64` seed) and records their
//! outputs. Every vector must match to the bit.

use super::{nv_exp, nv_log, nv_log1p, nv_logf, nv_sincos, nv_sincospi, nv_tan};

const VECTORS: &str = include_str!("../../golden/libdevice/vectors.txt");

fn hex(s: &str) -> u64 {
    u64::from_str_radix(s, 16).expect("vectors.txt holds hex bit patterns")
}

#[test]
fn ports_match_libdevice_bit_for_bit() {
    let mut failures = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    for line in VECTORS.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let input = hex(f[1]);
        let (got, want): (Vec<u64>, Vec<u64>) = match f[0] {
            "logf" => (
                vec![u64::from(nv_logf(f32::from_bits(input as u32)).to_bits())],
                vec![hex(f[2])],
            ),
            "sincospi" | "sincos" => {
                let x = f64::from_bits(input);
                let (s, c) = if f[0] == "sincos" {
                    nv_sincos(x).expect("vectors stay on the fast path")
                } else {
                    nv_sincospi(x)
                };
                (vec![s.to_bits(), c.to_bits()], vec![hex(f[2]), hex(f[3])])
            }
            name => {
                let x = f64::from_bits(input);
                let y = match name {
                    "log" => nv_log(x),
                    "log1p" => nv_log1p(x),
                    "exp" => nv_exp(x),
                    "tan" => nv_tan(x).expect("vectors stay on the fast path"),
                    other => panic!("unknown routine {other}"),
                };
                (vec![y.to_bits()], vec![hex(f[2])])
            }
        };
        *counts.entry(f[0]).or_insert(0) += 1;
        if got != want {
            failures.push(format!(
                "{} {:016x}: got {:016x?} want {:016x?}",
                f[0], input, got, want
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of the libdevice vectors differ, first: {:?}",
        failures.len(),
        &failures[..failures.len().min(10)]
    );
    assert!(
        counts.len() == 7 && counts.values().all(|&n| n > 50),
        "{counts:?}"
    );
}
