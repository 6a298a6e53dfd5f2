//! Measures torch-rng's `erfinv` against PyTorch's (MKL `vsErfInv`/`vdErfInv` on x86 wheels).
//!
//! Input: a directory with `x32.bin`, `y32.bin` (float32 inputs and PyTorch's outputs) and
//! `x64.bin`, `y64.bin` (float64), raw little-endian, as `tools/measure_erfinv.py` writes them.
//! Prints the fraction of bit-exact outputs and the largest distance in ulps.
//!
//! ```sh
//! ~/torch-venvs/2.5.1/bin/python tools/measure_erfinv.py /tmp/erfinv
//! cargo run --release --example measure_erfinv -- /tmp/erfinv
//! ```

use torch_rng::math::special::erfinv;

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn ordered(bits: u64, width: u32) -> i128 {
    let sign = 1u64 << (width - 1);
    if bits & sign == 0 {
        i128::from(bits)
    } else {
        -i128::from(bits & !sign) - 1
    }
}

fn report(name: &str, pairs: impl Iterator<Item = (u64, u64)>, width: u32) {
    let (mut n, mut exact, mut worst) = (0u64, 0u64, 0u128);
    let mut hist = [0u64; 4];
    for (mine, theirs) in pairs {
        n += 1;
        let d = (ordered(mine, width) - ordered(theirs, width)).unsigned_abs();
        if d == 0 {
            exact += 1;
        }
        hist[(d as usize).min(3)] += 1;
        worst = worst.max(d);
    }
    println!(
        "{name}: {n} values, {exact} bit-exact ({:.4} %), {} off by 1 ulp, {} by 2, {} by more; \
         max {worst} ulps",
        100.0 * exact as f64 / n as f64,
        hist[1],
        hist[2],
        hist[3]
    );
}

fn main() {
    let dir = std::path::PathBuf::from(std::env::args().nth(1).expect("a directory"));
    let x32 = read(&dir.join("x32.bin"));
    let y32 = read(&dir.join("y32.bin"));
    let f32s = |b: &[u8]| -> Vec<f32> {
        b.chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let (x, y) = (f32s(&x32), f32s(&y32));
    report(
        "float32",
        x.iter().zip(&y).map(|(&x, &y)| {
            (
                u64::from((erfinv(f64::from(x)) as f32).to_bits()),
                u64::from(y.to_bits()),
            )
        }),
        32,
    );
    let x64 = read(&dir.join("x64.bin"));
    let y64 = read(&dir.join("y64.bin"));
    let f64s = |b: &[u8]| -> Vec<f64> {
        b.chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let (x, y) = (f64s(&x64), f64s(&y64));
    report(
        "float64",
        x.iter()
            .zip(&y)
            .map(|(&x, &y)| (erfinv(x).to_bits(), y.to_bits())),
        64,
    );
}
