//! `erf` and `erfinv` in double, for `nn.init.trunc_normal_`.
//!
//! PyTorch calls glibc's `erf` (Python's `math.erf`) for the truncation probabilities, and MKL's
//! `vsErfInv`/`vdErfInv` for `Tensor.erfinv_` on x86 wheels; both are within an ulp of the
//! correctly rounded value. Neither is reproduced instruction by instruction here: for |x| ≤ 3,
//! [`erf`] sums its Maclaurin series in double-double arithmetic (about 100 bits, so the result
//! is almost always correctly rounded), and [`erfinv`] runs Newton steps whose residual
//! `erf(x) − y` comes from that double-double sum, then picks the closer neighbour. Beyond, a
//! series with positive terms gives a few ulps. The README's fidelity table gives the measured
//! agreement with PyTorch.

use super::libm;

const TWO_OVER_SQRT_PI: f64 = std::f64::consts::FRAC_2_SQRT_PI;
/// The low part of 2/√π in double-double.
const TWO_OVER_SQRT_PI_LO: f64 = 1.533_545_961_316_588e-17;

/// A double-double number `hi + lo`, |lo| ≤ ulp(hi)/2.
#[derive(Clone, Copy, Debug)]
struct Dd(f64, f64);

fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    Dd(s, (a - (s - bb)) + (b - bb))
}

fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    Dd(p, a.mul_add(b, -p))
}

impl Dd {
    fn add(self, o: Dd) -> Dd {
        let s = two_sum(self.0, o.0);
        let t = two_sum(self.1, o.1);
        let u = two_sum(s.0, s.1 + t.0);
        two_sum(u.0, u.1 + t.1)
    }

    fn mul(self, o: Dd) -> Dd {
        let p = two_prod(self.0, o.0);
        two_sum(p.0, p.1 + (self.0 * o.1 + self.1 * o.0))
    }

    fn div_f64(self, d: f64) -> Dd {
        let q1 = self.0 / d;
        let r = self.add(Dd(-q1 * d, -q1.mul_add(d, -(q1 * d))));
        let q2 = r.0 / d;
        two_sum(q1, q2)
    }

    fn neg(self) -> Dd {
        Dd(-self.0, -self.1)
    }
}

/// `erf(x)` for |x| ≤ 3 in double-double: `2/√π Σ (−1)ⁿ x^(2n+1) / (n! (2n+1))`. The largest
/// term is below e^9, so the alternating sum keeps about 93 of its 106 bits.
fn erf_dd(x: f64) -> Dd {
    let x2 = two_prod(x, x);
    let mut p = Dd(x, 0.0);
    let mut sum = p;
    for n in 1..200u32 {
        p = p.mul(x2).div_f64(f64::from(n));
        let term = p.div_f64(f64::from(2 * n + 1));
        sum = if n % 2 == 1 {
            sum.add(term.neg())
        } else {
            sum.add(term)
        };
        if term.0.abs() < sum.0.abs() * 1e-34 {
            break;
        }
    }
    sum.mul(Dd(TWO_OVER_SQRT_PI, TWO_OVER_SQRT_PI_LO))
}
/// Winitzki's constant for the `erfinv` start.
const K: f64 = 0.147;

/// The error function, `erf(x) = 2/√π ∫₀ˣ e^(−t²) dt`.
///
/// Uses `erf(x) = 2/√π · e^(−x²) · Σ 2ⁿ x^(2n+1) / (2n+1)!!`, whose terms are all positive (no
/// cancellation), for |x| < 6; beyond, the double nearest `erf(x)` is ±1.
#[must_use]
pub fn erf(x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let ax = x.abs();
    if ax >= 6.0 {
        return 1f64.copysign(x);
    }
    if ax < 1e-10 {
        // erf(x) = 2x/√π (1 − x²/3 + ...); the correction is below half an ulp.
        return TWO_OVER_SQRT_PI * x;
    }
    if ax <= 3.0 {
        let d = erf_dd(x);
        return d.0 + d.1;
    }
    let x2 = ax * ax;
    let mut term = ax;
    let mut sum = ax;
    let mut n = 0u32;
    loop {
        n += 1;
        term *= 2.0 * x2 / f64::from(2 * n + 1);
        sum += term;
        if term < sum * 1e-18 || n > 400 {
            break;
        }
    }
    (TWO_OVER_SQRT_PI * libm::exp(-x2) * sum).copysign(x)
}

/// The inverse error function on [−1, 1]: ±∞ at ±1, NaN outside.
///
/// A start from the closed form `√(√(t² − ln(1−y²)/k) − t)·sign(y)` with `k = 0.147`,
/// `t = 2/(πk) + ln(1−y²)/2` (Winitzki), then Newton steps on [`erf`] until the step no longer
/// changes the value (at most 8).
#[must_use]
pub fn erfinv(y: f64) -> f64 {
    if y.is_nan() || y.abs() > 1.0 {
        return f64::NAN;
    }
    if y.abs() == 1.0 {
        return f64::INFINITY.copysign(y);
    }
    if y == 0.0 {
        return y;
    }
    let ln = libm::log1p(-y * y);
    let t = 2.0 / (std::f64::consts::PI * K) + ln / 2.0;
    let mut x = ((t * t - ln / K).sqrt() - t).sqrt().copysign(y);
    if x.abs() < 2.9 {
        return refine_dd(x, y);
    }
    for _ in 0..8 {
        let err = erf(x) - y;
        let step = err / (TWO_OVER_SQRT_PI * libm::exp(-x * x));
        let next = x - step;
        if next == x || !next.is_finite() {
            break;
        }
        x = next;
        if step.abs() <= x.abs() * 1e-17 {
            break;
        }
    }
    x
}

/// `erf(x) − y` with the double-double `erf`.
fn residual(x: f64, y: f64) -> f64 {
    let e = erf_dd(x);
    let s = two_sum(e.0, -y);
    s.0 + (s.1 + e.1)
}

/// Newton steps on the double-double residual, then the neighbour with the smaller residual.
fn refine_dd(mut x: f64, y: f64) -> f64 {
    for _ in 0..6 {
        let r = residual(x, y);
        let next = x - r / (TWO_OVER_SQRT_PI * libm::exp(-x * x));
        if next == x || next.abs() > 3.0 {
            break;
        }
        x = next;
    }
    let r = residual(x, y);
    let toward = if r > 0.0 { -1.0 } else { 1.0 } * if x > 0.0 { 1.0 } else { -1.0 };
    let bits = x.to_bits();
    let neighbour = f64::from_bits(if toward > 0.0 { bits + 1 } else { bits - 1 });
    if residual(neighbour, y).abs() < r.abs() {
        neighbour
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_known_values() {
        // Python's math.erf (glibc) values
        assert_eq!(erf(0.0), 0.0);
        let close = |a: f64, b: f64| (a - b).abs() <= 4.0 * f64::EPSILON * b.abs();
        assert!(close(erf(1.0), 0.842_700_792_949_714_9));
        assert!(close(erf(2f64.sqrt()), 0.954_499_736_103_641_6));
        assert!(close(erf(-0.5), -0.520_499_877_813_046_5));
        assert!(close(erf(3.0), 0.999_977_909_503_001_4));
        assert_eq!(erf(7.0), 1.0);
        assert!(erf(f64::NAN).is_nan());
    }

    #[test]
    fn erfinv_inverts_erf() {
        for &y in &[
            -0.999,
            -0.9,
            -0.5,
            -1e-6,
            1e-3,
            0.25,
            0.75,
            0.954_499_736_103_641_6,
            0.9999,
        ] {
            let x = erfinv(y);
            assert!((erf(x) - y).abs() <= 4.0 * f64::EPSILON, "{y}");
        }
        assert_eq!(erfinv(1.0), f64::INFINITY);
        assert!(erfinv(1.5).is_nan());
    }

    // ---- measurement against PyTorch (run by hand) ----

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

    /// Measures `erfinv` against PyTorch's (MKL `vsErfInv`/`vdErfInv` on x86 wheels): the fraction of
    /// bit-exact outputs and the largest distance in ulps. Input: the directory named by
    /// `TORCH_RNG_ERFINV_DIR`, written by `tools/measure_erfinv.py` (`x32.bin`, `y32.bin`, `x64.bin`,
    /// `y64.bin`, raw little-endian):
    ///
    /// ```sh
    /// ~/torch-venvs/2.5.1/bin/python tools/measure_erfinv.py /tmp/erfinv
    /// TORCH_RNG_ERFINV_DIR=/tmp/erfinv cargo test --release --lib measure_erfinv -- --ignored --nocapture
    /// ```
    #[test]
    #[ignore = "a measurement against files from tools/measure_erfinv.py"]
    fn measure_erfinv() {
        let dir = std::path::PathBuf::from(
            std::env::var_os("TORCH_RNG_ERFINV_DIR")
                .expect("TORCH_RNG_ERFINV_DIR names a directory"),
        );
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
}
