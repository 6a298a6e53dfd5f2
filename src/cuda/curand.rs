//! curand's conversions from Philox words to floats, and its device state with the Box–Muller
//! caches.
//!
//! Mirrors: NVIDIA curand `curand_uniform.h` (`_curand_uniform`, `_curand_uniform_double_hq`,
//! `curand_uniform`, `curand_uniform4`, `curand_uniform_double`, `curand_uniform2_double`),
//! `curand_normal.h` (`_curand_box_muller`, `_curand_box_muller_double`, `curand_normal`,
//! `curand_normal2`, `curand_normal4`, `curand_normal_double`, `curand_normal2_double`) and
//! `curand_kernel.h` (`curandStatePhilox4_32_10_t`), as compiled for the device.
//!
//! Device arithmetic (shared/reference/cuda-philox.md sections 2 and 6): `uint → float` rounds to
//! nearest even; `a * b + c` written as one expression is one fused multiply-add; `sqrtf`/`sqrt`
//! are IEEE; `logf`/`log` are libdevice's ([`crate::math::libdevice`]); the float Box–Muller
//! takes its sine and cosine from the fast intrinsic `__sincosf` (hardware `MUFU.SIN`/`MUFU.COS`,
//! **modelled** by [`crate::math::mufu`]) and the double one from libdevice `sincospi`.

use crate::engine::Philox4x32;
use crate::math::libdevice::{nv_log, nv_logf, nv_sincospi};
use crate::math::mufu;

/// `CURAND_2POW32_INV`: the literal `2.3283064e-10f`, exactly 2^-32.
pub const CURAND_2POW32_INV: f32 = f32::from_bits(0x2f80_0000);
/// `CURAND_2POW32_INV_2PI`: `2.3283064e-10f * 6.2831855f` rounded to float (`0x30c90fdb`).
pub const CURAND_2POW32_INV_2PI: f32 = f32::from_bits(0x30c9_0fdb);
/// `CURAND_2POW53_INV_DOUBLE`: exactly 2^-53.
pub const CURAND_2POW53_INV_DOUBLE: f64 = 1.0 / 9_007_199_254_740_992.0;

/// `_curand_uniform(x)`: `x * 2^-32 + 2^-33` in float, a value in (0, 1].
///
/// The product is exact, so fused or not the result is one rounding of `cvt(x) * 2^-32 + 2^-33`.
/// It is 1.0 for `x ≥ 2^32 - 128` (the conversion rounds to 2^32); the smallest value is 2^-33.
#[inline]
#[must_use]
pub fn uniform_f32(x: u32) -> f32 {
    (x as f32).mul_add(CURAND_2POW32_INV, CURAND_2POW32_INV / 2.0)
}

/// `_curand_uniform_double_hq(x, y)`: `z = x ^ (y << 21)` (53 bits), `z * 2^-53 + 2^-54` in
/// (0, 1]; 1.0 only for `z = 2^53 - 1` (the tie rounds to even).
#[inline]
#[must_use]
pub fn uniform_f64_hq(x: u32, y: u32) -> f64 {
    let z = u64::from(x) ^ (u64::from(y) << 21);
    (z as f64).mul_add(CURAND_2POW53_INV_DOUBLE, CURAND_2POW53_INV_DOUBLE / 2.0)
}

/// The Box–Muller angle `v = y * C + C/2` (one FMA) with `C = CURAND_2POW32_INV_2PI`, in
/// (0, 2π].
#[inline]
#[must_use]
pub fn box_muller_angle(y: u32) -> f32 {
    (y as f32).mul_add(CURAND_2POW32_INV_2PI, CURAND_2POW32_INV_2PI / 2.0)
}

/// The Box–Muller radius `sqrtf(-2 * logf(u))` of `u = _curand_uniform(x)`.
#[inline]
#[must_use]
pub fn box_muller_radius(x: u32) -> f32 {
    (-2.0 * nv_logf(uniform_f32(x))).sqrt()
}

/// `_curand_box_muller(x, y)` on the device: `(s * sin v, s * cos v)` with the radius `s` of `x`
/// and the angle `v` of `y`, sine and cosine from `__sincosf` (**modelled**, see
/// [`crate::math::mufu::sincos_approx`]). Everything else is exact.
#[inline]
#[must_use]
pub fn box_muller_f32(x: u32, y: u32) -> (f32, f32) {
    let s = box_muller_radius(x);
    let (sn, cs) = mufu::sincos_approx(box_muller_angle(y));
    (sn * s, cs * s)
}

/// `_curand_box_muller_double(x0, x1, y0, y1)`: `u = hq(x0, x1)`, `v = z' * 2^-52 + 2^-53` with
/// `z' = y0 ^ (y1 << 21)` (v in (0, 2]), `s = sqrt(-2 log u)`; `(s * sinpi v, s * cospi v)`.
/// Exact up to [`crate::math::libdevice::nv_log`]'s reciprocal seed.
#[inline]
#[must_use]
pub fn box_muller_f64(x0: u32, x1: u32, y0: u32, y1: u32) -> (f64, f64) {
    let u = uniform_f64_hq(x0, x1);
    let zy = u64::from(y0) ^ (u64::from(y1) << 21);
    let v = (zy as f64).mul_add(2.0 * CURAND_2POW53_INV_DOUBLE, CURAND_2POW53_INV_DOUBLE);
    let s = (-2.0 * nv_log(u)).sqrt();
    let (sp, cp) = nv_sincospi(v);
    (sp * s, cp * s)
}

/// `curand_uniform4` on four words.
#[inline]
#[must_use]
pub fn uniform4(w: [u32; 4]) -> [f32; 4] {
    w.map(uniform_f32)
}

/// `curand_uniform2_double` on four words: `(hq(x, y), hq(z, w))`.
#[inline]
#[must_use]
pub fn uniform2_double(w: [u32; 4]) -> [f64; 2] {
    [uniform_f64_hq(w[0], w[1]), uniform_f64_hq(w[2], w[3])]
}

/// `curand_normal4` on four words: Box–Muller on `(x, y)` and on `(z, w)`, stored
/// `(sin, cos, sin, cos)`.
#[inline]
#[must_use]
pub fn normal4(w: [u32; 4]) -> [f32; 4] {
    let (a, b) = box_muller_f32(w[0], w[1]);
    let (c, d) = box_muller_f32(w[2], w[3]);
    [a, b, c, d]
}

/// `curand_normal2_double` on four words.
#[inline]
#[must_use]
pub fn normal2_double(w: [u32; 4]) -> [f64; 2] {
    let (a, b) = box_muller_f64(w[0], w[1], w[2], w[3]);
    [a, b]
}

/// `curandStatePhilox4_32_10_t`: the word stream plus the Box–Muller caches of the single-value
/// normal calls.
///
/// `curand_normal` draws a pair and caches the second (cosine) value; the next call returns it
/// without drawing. The float and double caches are separate. `curand_init` clears both flags;
/// `skipahead` and `skipahead_sequence` leave them alone (a cached value survives a skip).
#[derive(Clone, Debug, PartialEq)]
pub struct CurandStatePhilox {
    engine: Philox4x32,
    boxmuller_extra: Option<f32>,
    boxmuller_extra_double: Option<f64>,
}

impl CurandStatePhilox {
    /// `curand_init(seed, subsequence, offset, &state)`; `offset` counts 32-bit words.
    #[must_use]
    pub fn new(seed: u64, subsequence: u64, offset: u64) -> CurandStatePhilox {
        CurandStatePhilox {
            engine: Philox4x32::new(seed, subsequence, offset),
            boxmuller_extra: None,
            boxmuller_extra_double: None,
        }
    }

    /// The word stream.
    #[must_use]
    pub fn engine(&self) -> &Philox4x32 {
        &self.engine
    }

    /// `skipahead(n, &state)` (words); the Box–Muller caches are kept.
    pub fn skipahead(&mut self, n: u64) {
        self.engine.skipahead(n);
    }

    /// `skipahead_sequence(n, &state)`; the Box–Muller caches are kept.
    pub fn skipahead_sequence(&mut self, n: u64) {
        self.engine.skipahead_sequence(n);
    }

    /// `curand(&state)`.
    pub fn curand(&mut self) -> u32 {
        self.engine.curand()
    }

    /// `curand4(&state)`.
    pub fn curand4(&mut self) -> [u32; 4] {
        self.engine.curand4()
    }

    /// `curand_uniform(&state)`: one word.
    pub fn curand_uniform(&mut self) -> f32 {
        uniform_f32(self.curand())
    }

    /// `curand_uniform4(&state)`: one `curand4`.
    pub fn curand_uniform4(&mut self) -> [f32; 4] {
        uniform4(self.curand4())
    }

    /// `curand_uniform_double(&state)`: two words, `hq(first, second)`.
    pub fn curand_uniform_double(&mut self) -> f64 {
        let x = self.curand();
        let y = self.curand();
        uniform_f64_hq(x, y)
    }

    /// `curand_uniform2_double(&state)`: one `curand4`.
    pub fn curand_uniform2_double(&mut self) -> [f64; 2] {
        uniform2_double(self.curand4())
    }

    /// `curand_normal(&state)`: a cached value if there is one, else two words, the sine value
    /// returned and the cosine value cached.
    pub fn curand_normal(&mut self) -> f32 {
        if let Some(v) = self.boxmuller_extra.take() {
            return v;
        }
        let x = self.curand();
        let y = self.curand();
        let (a, b) = box_muller_f32(x, y);
        self.boxmuller_extra = Some(b);
        a
    }

    /// `curand_normal2(&state)`: two words, both values (the cache untouched).
    pub fn curand_normal2(&mut self) -> [f32; 2] {
        let x = self.curand();
        let y = self.curand();
        let (a, b) = box_muller_f32(x, y);
        [a, b]
    }

    /// `curand_normal4(&state)`: one `curand4`.
    pub fn curand_normal4(&mut self) -> [f32; 4] {
        normal4(self.curand4())
    }

    /// `curand_normal_double(&state)`: a cached value if there is one, else one `curand4`, the
    /// sine value returned and the cosine value cached.
    pub fn curand_normal_double(&mut self) -> f64 {
        if let Some(v) = self.boxmuller_extra_double.take() {
            return v;
        }
        let [a, b] = normal2_double(self.curand4());
        self.boxmuller_extra_double = Some(b);
        a
    }

    /// `curand_normal2_double(&state)`: one `curand4`.
    pub fn curand_normal2_double(&mut self) -> [f64; 2] {
        normal2_double(self.curand4())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::philox::philox_block;

    #[test]
    fn constants() {
        assert_eq!(CURAND_2POW32_INV, 2.328_306_4e-10_f32);
        assert_eq!(
            (2.328_306_4e-10_f32 * 6.283_185_5_f32).to_bits(),
            CURAND_2POW32_INV_2PI.to_bits()
        );
        assert_eq!((CURAND_2POW32_INV_2PI / 2.0).to_bits(), 0x3049_0fdb);
        assert_eq!(CURAND_2POW53_INV_DOUBLE, 1.110_223_024_625_156_5e-16);
    }

    #[test]
    fn uniform_ends() {
        assert_eq!(uniform_f32(0).to_bits(), 0x2f00_0000); // 2^-33
        assert_eq!(uniform_f32(u32::MAX - 128).to_bits(), 0x3f7f_ffff);
        assert_eq!(uniform_f32(u32::MAX - 127), 1.0);
        assert_eq!(uniform_f32(u32::MAX), 1.0);
        assert_eq!(uniform_f64_hq(0, 0), 2f64.powi(-54));
        // z = 2^53 - 1 (x = 0x1f_ffff, y = 2^32 - 1): the tie rounds to even, 1.0
        assert_eq!(uniform_f64_hq(0x1f_ffff, u32::MAX), 1.0);
        assert!(uniform_f64_hq(0x1f_fffe, u32::MAX) < 1.0);
    }

    /// cuda-philox.md section 8: seed 0, `torch.rand(8)` float32 bits [predicted, S+BIN].
    #[test]
    fn seed0_rand8_words() {
        let want = [
            0x3ecc_4fd2u32,
            0x3f04_4516,
            0x3ccc_3acf,
            0x3f70_a90b,
            0x3f72_237f,
            0x3f4b_f694,
            0x3ed4_7cbb,
            0x3f51_fc5c,
        ];
        for (tid, w) in want.iter().enumerate() {
            let x = philox_block(0, 0, tid as u64)[0];
            assert_eq!(uniform_f32(x).to_bits(), *w, "tid {tid}");
        }
    }

    #[test]
    fn state_methods_follow_the_word_stream() {
        let mut s = CurandStatePhilox::new(42, 0, 0);
        let b0 = philox_block(42, 0, 0);
        let b1 = philox_block(42, 1, 0);
        assert_eq!(s.curand_uniform().to_bits(), uniform_f32(b0[0]).to_bits());
        // curand_uniform_double takes the next two words (one and two of block 0)
        assert_eq!(s.curand_uniform_double(), uniform_f64_hq(b0[1], b0[2]));
        // curand4 from STATE 3: word 3 of block 0, then block 1's first three
        assert_eq!(s.curand4(), [b0[3], b1[0], b1[1], b1[2]]);
    }

    #[test]
    fn normal_cache() {
        let mut s = CurandStatePhilox::new(7, 3, 0);
        let b0 = philox_block(7, 0, 3);
        let (a, b) = box_muller_f32(b0[0], b0[1]);
        assert_eq!(s.curand_normal().to_bits(), a.to_bits());
        let before = s.engine().clone();
        // the cached cosine comes back without drawing
        assert_eq!(s.curand_normal().to_bits(), b.to_bits());
        assert_eq!(s.engine(), &before);
        // a skip keeps a cached value
        let mut t = CurandStatePhilox::new(7, 3, 0);
        t.curand_normal();
        t.skipahead(400);
        assert_eq!(t.curand_normal().to_bits(), b.to_bits());
        // double cache: one curand4 per pair, independent of the float cache
        let mut d = CurandStatePhilox::new(7, 3, 0);
        let [x, y] = normal2_double(b0);
        assert_eq!(d.curand_normal_double().to_bits(), x.to_bits());
        assert_eq!(d.curand_normal_double().to_bits(), y.to_bits());
        assert_eq!(d.engine().counter()[0], 1);
        assert_eq!(d.curand_normal2(), {
            let b1 = philox_block(7, 1, 3);
            let (p, q) = box_muller_f32(b1[0], b1[1]);
            [p, q]
        });
    }

    #[test]
    fn box_muller_radius_extremes() {
        // u = 2^-33: the largest radius, sqrt(66 ln 2) = 6.7637...
        let s = box_muller_radius(0);
        assert!((f64::from(s) - (66.0f64 * std::f64::consts::LN_2).sqrt()).abs() < 1e-6);
        // u = 1: radius 0 (and the normal values +-0)
        assert_eq!(box_muller_radius(u32::MAX), 0.0);
    }
}
