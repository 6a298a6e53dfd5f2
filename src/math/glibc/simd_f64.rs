//! Vector twins of [`super::log`], [`super::sin`] and [`super::cos`] (FMA variant) for the
//! float64 Box–Muller block: 4 lanes (AVX2) or 8 (AVX-512).
//!
//! Each lane performs the scalar twin's operations for its input, in the same order and with the
//! same fused multiply-adds; branches become per-lane selections between paths that are all
//! computed. Lanes outside the vector domain are recomputed by the scalar twin: for `log`, inputs
//! that are not positive normal finite doubles; for `sin`/`cos`, |x| >= 105414350 (the
//! `__branred` range), infinities and NaN.
//!
//! How the `sin`/`cos` branches map onto two table evaluations per lane, `DS = do_sin(as, das)`
//! and `DC = do_cos(ac, dac)`:
//!
//! | |x| | `sin x` | `cos x` |
//! |---|---|---|
//! | < 2^-26 (2^-27 for cos) | `x` | `1` |
//! | < 0.855469 | `DS(x, 0)` | `DC(x, 0)` |
//! | < 2.426265 | `copysign(DC(t, hp1), x)` | `DS(a, da)`, `a = t + hp1`, `da = (t - a) + hp1` (`t = hp0 - |x|`) |
//! | < 105414350 | quadrant `n`: `DS(a, da)` or `DC(a, da)`, signed | quadrant `n + 1` |

use super::log::{b as b1, LN2HI, LN2LO, NEAR1_HI, NEAR1_LO, OFF};
use super::sin::{
    BIG, CS2, CS4, CS6, HP0, HP1, HPINV, MP1, MP2, PP3, PP4, S1, S2, S3, S4, S5, SN3, SN5, TOINT,
};
use super::tables::{LOG_POLY, LOG_TAB, SINCOSTAB};
use crate::simd::Lanes;

/// The float64 standard normals of every block of 16 in `d` (`normal_fill_16<double>` before
/// mean and std): `u1 = 1 - a`, `radius = sqrt(-2 log(u1))`, `theta = 2π b`,
/// `a = radius · cos(theta)`, `b = radius · sin(theta)`. Returns `false` (doing nothing) for
/// [`Lanes::Scalar`].
pub(crate) fn normal_raw_blocks(d: &mut [f64], lanes: Lanes) -> bool {
    debug_assert!(d.len().is_multiple_of(16));
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: callers pass a `lanes` that `Lanes::supported` confirmed on this CPU.
        Lanes::Avx512 => unsafe { x86::blocks_avx512(d) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::blocks_avx2(d) },
        _ => return false,
    }
    true
}

/// `(log, sin, cos)` of each input on the given route (test access).
#[cfg(test)]
pub(crate) fn eval(xs: &[f64], lanes: Lanes) -> Vec<(f64, f64, f64)> {
    match lanes {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: tests pass only supported levels.
        Lanes::Avx512 => unsafe { x86::eval_avx512(xs) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: as above.
        Lanes::Avx2 => unsafe { x86::eval_avx2(xs) },
        _ => xs
            .iter()
            .map(|&x| (super::log(x), super::sin(x), super::cos(x)))
            .collect(),
    }
}

/// The operations the algorithms need, on a vector of doubles, with `M` its lane mask.
///
/// # Safety
/// Every method uses intrinsics of the implementing type's instruction set; callers must have
/// checked that the CPU supports it, and run inside a function compiled with those features.
#[allow(clippy::missing_safety_doc)]
trait Pd: Copy {
    type M: Copy;
    const N: usize;
    unsafe fn splat(x: f64) -> Self;
    unsafe fn splat_bits(x: u64) -> Self;
    unsafe fn load(p: *const f64) -> Self;
    unsafe fn store(self, p: *mut f64);
    unsafe fn add(self, o: Self) -> Self;
    unsafe fn sub(self, o: Self) -> Self;
    unsafe fn mul(self, o: Self) -> Self;
    /// `self * b + c`, one rounding.
    unsafe fn fma(self, b: Self, c: Self) -> Self;
    /// `-(self * b) + c`, one rounding (the same as `fma(-self, b, c)`).
    unsafe fn fnma(self, b: Self, c: Self) -> Self;
    unsafe fn sqrt(self) -> Self;
    unsafe fn and(self, o: Self) -> Self;
    unsafe fn andnot(self, o: Self) -> Self; // !self & o
    unsafe fn or(self, o: Self) -> Self;
    unsafe fn xor(self, o: Self) -> Self;
    /// Integer add / sub / logical shift right / signed compare on the 64-bit lanes.
    unsafe fn iadd(self, o: Self) -> Self;
    unsafe fn isub(self, o: Self) -> Self;
    unsafe fn isrl45(self) -> Self;
    unsafe fn igt(self, o: Self) -> Self::M;
    unsafe fn ieq(self, o: Self) -> Self::M;
    /// The arithmetic shift right by 52 of each 64-bit lane, as a double.
    unsafe fn isra52_to_f64(self) -> Self;
    /// Ordered compares.
    unsafe fn lt(self, o: Self) -> Self::M;
    unsafe fn le(self, o: Self) -> Self::M;
    /// `m ? t : self`.
    unsafe fn select(self, m: Self::M, t: Self) -> Self;
    unsafe fn mand(a: Self::M, b: Self::M) -> Self::M;
    unsafe fn mnot(a: Self::M) -> Self::M;
    unsafe fn mbits(m: Self::M) -> u32;
    /// `base[idx]` per lane, `idx` the lane's integer value.
    unsafe fn gather(base: *const f64, idx: Self) -> Self;
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use super::Pd;
    use std::arch::x86_64::{
        __m256d, __m512d, __mmask8, _mm256_add_epi64, _mm256_add_pd, _mm256_and_pd,
        _mm256_andnot_pd, _mm256_blendv_pd, _mm256_castpd_si256, _mm256_castsi256_pd,
        _mm256_castsi256_si128, _mm256_cmp_pd, _mm256_cmpeq_epi64, _mm256_cmpgt_epi64,
        _mm256_cvtepi32_pd, _mm256_extracti128_si256, _mm256_fmadd_pd, _mm256_fnmadd_pd,
        _mm256_i64gather_pd, _mm256_loadu_pd, _mm256_movemask_pd, _mm256_mul_pd, _mm256_or_pd,
        _mm256_set1_epi64x, _mm256_set1_pd, _mm256_sqrt_pd, _mm256_srli_epi64, _mm256_storeu_pd,
        _mm256_sub_epi64, _mm256_sub_pd, _mm256_xor_pd, _mm512_add_epi64, _mm512_add_pd,
        _mm512_and_pd, _mm512_andnot_pd, _mm512_castpd_si512, _mm512_castsi512_pd,
        _mm512_cmp_pd_mask, _mm512_cmpeq_epi64_mask, _mm512_cmpgt_epi64_mask, _mm512_cvtepi64_pd,
        _mm512_fmadd_pd, _mm512_fnmadd_pd, _mm512_i64gather_pd, _mm512_loadu_pd,
        _mm512_mask_mov_pd, _mm512_mul_pd, _mm512_or_pd, _mm512_set1_epi64, _mm512_set1_pd,
        _mm512_sqrt_pd, _mm512_srai_epi64, _mm512_srli_epi64, _mm512_storeu_pd, _mm512_sub_epi64,
        _mm512_sub_pd, _mm512_xor_pd, _mm_castps_si128, _mm_castsi128_ps, _mm_shuffle_ps,
        _mm_srai_epi32, _CMP_LE_OQ, _CMP_LT_OQ,
    };

    #[derive(Clone, Copy)]
    pub(super) struct V4(__m256d);
    #[derive(Clone, Copy)]
    pub(super) struct V8(__m512d);

    impl Pd for V4 {
        type M = __m256d;
        const N: usize = 4;
        #[inline(always)]
        unsafe fn splat(x: f64) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_set1_pd(x)) }
        }
        #[inline(always)]
        unsafe fn splat_bits(x: u64) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_castsi256_pd(_mm256_set1_epi64x(x as i64))) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            // SAFETY: the caller passes 4 readable doubles.
            V4(unsafe { _mm256_loadu_pd(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            // SAFETY: the caller passes 4 writable doubles.
            unsafe { _mm256_storeu_pd(p, self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_add_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_sub_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_mul_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn fma(self, b: Self, c: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_fmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn fnma(self, b: Self, c: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_fnmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn sqrt(self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_sqrt_pd(self.0)) }
        }
        #[inline(always)]
        unsafe fn and(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_and_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn andnot(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_andnot_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn or(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_or_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn xor(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_xor_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn iadd(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V4(_mm256_castsi256_pd(_mm256_add_epi64(
                    _mm256_castpd_si256(self.0),
                    _mm256_castpd_si256(o.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn isub(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V4(_mm256_castsi256_pd(_mm256_sub_epi64(
                    _mm256_castpd_si256(self.0),
                    _mm256_castpd_si256(o.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn isrl45(self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V4(_mm256_castsi256_pd(_mm256_srli_epi64::<45>(
                    _mm256_castpd_si256(self.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn igt(self, o: Self) -> __m256d {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                _mm256_castsi256_pd(_mm256_cmpgt_epi64(
                    _mm256_castpd_si256(self.0),
                    _mm256_castpd_si256(o.0),
                ))
            }
        }
        #[inline(always)]
        unsafe fn ieq(self, o: Self) -> __m256d {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                _mm256_castsi256_pd(_mm256_cmpeq_epi64(
                    _mm256_castpd_si256(self.0),
                    _mm256_castpd_si256(o.0),
                ))
            }
        }
        #[inline(always)]
        unsafe fn isra52_to_f64(self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                // The high 32 bits of each lane, shifted arithmetically by 20.
                let v = _mm256_castpd_si256(self.0);
                let lo = _mm256_castsi256_si128(v);
                let hi = _mm256_extracti128_si256::<1>(v);
                let highs = _mm_castps_si128(_mm_shuffle_ps::<0b11_01_11_01>(
                    _mm_castsi128_ps(lo),
                    _mm_castsi128_ps(hi),
                ));
                V4(_mm256_cvtepi32_pd(_mm_srai_epi32::<20>(highs)))
            }
        }
        #[inline(always)]
        unsafe fn lt(self, o: Self) -> __m256d {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm256_cmp_pd::<_CMP_LT_OQ>(self.0, o.0) }
        }
        #[inline(always)]
        unsafe fn le(self, o: Self) -> __m256d {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm256_cmp_pd::<_CMP_LE_OQ>(self.0, o.0) }
        }
        #[inline(always)]
        unsafe fn select(self, m: __m256d, t: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V4(_mm256_blendv_pd(self.0, t.0, m)) }
        }
        #[inline(always)]
        unsafe fn mand(a: __m256d, b: __m256d) -> __m256d {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm256_and_pd(a, b) }
        }
        #[inline(always)]
        unsafe fn mnot(a: __m256d) -> __m256d {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm256_xor_pd(a, _mm256_castsi256_pd(_mm256_set1_epi64x(-1))) }
        }
        #[inline(always)]
        unsafe fn mbits(m: __m256d) -> u32 {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm256_movemask_pd(m) as u32 }
        }
        #[inline(always)]
        unsafe fn gather(base: *const f64, idx: Self) -> Self {
            // SAFETY: the caller keeps every index inside the table at `base`.
            V4(unsafe { _mm256_i64gather_pd::<8>(base, _mm256_castpd_si256(idx.0)) })
        }
    }

    impl Pd for V8 {
        type M = __mmask8;
        const N: usize = 8;
        #[inline(always)]
        unsafe fn splat(x: f64) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_set1_pd(x)) }
        }
        #[inline(always)]
        unsafe fn splat_bits(x: u64) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_castsi512_pd(_mm512_set1_epi64(x as i64))) }
        }
        #[inline(always)]
        unsafe fn load(p: *const f64) -> Self {
            // SAFETY: the caller passes 8 readable doubles.
            V8(unsafe { _mm512_loadu_pd(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f64) {
            // SAFETY: the caller passes 8 writable doubles.
            unsafe { _mm512_storeu_pd(p, self.0) }
        }
        #[inline(always)]
        unsafe fn add(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_add_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn sub(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_sub_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn mul(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_mul_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn fma(self, b: Self, c: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_fmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn fnma(self, b: Self, c: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_fnmadd_pd(self.0, b.0, c.0)) }
        }
        #[inline(always)]
        unsafe fn sqrt(self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_sqrt_pd(self.0)) }
        }
        #[inline(always)]
        unsafe fn and(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_and_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn andnot(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_andnot_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn or(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_or_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn xor(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_xor_pd(self.0, o.0)) }
        }
        #[inline(always)]
        unsafe fn iadd(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V8(_mm512_castsi512_pd(_mm512_add_epi64(
                    _mm512_castpd_si512(self.0),
                    _mm512_castpd_si512(o.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn isub(self, o: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V8(_mm512_castsi512_pd(_mm512_sub_epi64(
                    _mm512_castpd_si512(self.0),
                    _mm512_castpd_si512(o.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn isrl45(self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V8(_mm512_castsi512_pd(_mm512_srli_epi64::<45>(
                    _mm512_castpd_si512(self.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn igt(self, o: Self) -> __mmask8 {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                _mm512_cmpgt_epi64_mask(_mm512_castpd_si512(self.0), _mm512_castpd_si512(o.0))
            }
        }
        #[inline(always)]
        unsafe fn ieq(self, o: Self) -> __mmask8 {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                _mm512_cmpeq_epi64_mask(_mm512_castpd_si512(self.0), _mm512_castpd_si512(o.0))
            }
        }
        #[inline(always)]
        unsafe fn isra52_to_f64(self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe {
                V8(_mm512_cvtepi64_pd(_mm512_srai_epi64::<52>(
                    _mm512_castpd_si512(self.0),
                )))
            }
        }
        #[inline(always)]
        unsafe fn lt(self, o: Self) -> __mmask8 {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm512_cmp_pd_mask::<_CMP_LT_OQ>(self.0, o.0) }
        }
        #[inline(always)]
        unsafe fn le(self, o: Self) -> __mmask8 {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { _mm512_cmp_pd_mask::<_CMP_LE_OQ>(self.0, o.0) }
        }
        #[inline(always)]
        unsafe fn select(self, m: __mmask8, t: Self) -> Self {
            // SAFETY: the trait contract: the caller enabled this instruction set.
            unsafe { V8(_mm512_mask_mov_pd(self.0, m, t.0)) }
        }
        #[inline(always)]
        unsafe fn mand(a: __mmask8, b: __mmask8) -> __mmask8 {
            a & b
        }
        #[inline(always)]
        unsafe fn mnot(a: __mmask8) -> __mmask8 {
            !a
        }
        #[inline(always)]
        unsafe fn mbits(m: __mmask8) -> u32 {
            u32::from(m)
        }
        #[inline(always)]
        unsafe fn gather(base: *const f64, idx: Self) -> Self {
            // SAFETY: the caller keeps every index inside the table at `base`.
            V8(unsafe { _mm512_i64gather_pd::<8>(_mm512_castpd_si512(idx.0), base) })
        }
    }

    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn blocks_avx2(d: &mut [f64]) {
        // SAFETY: AVX2 and FMA are enabled here, as the `V4` methods need.
        unsafe { super::blocks::<V4>(d) }
    }

    #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
    pub(super) unsafe fn blocks_avx512(d: &mut [f64]) {
        // SAFETY: AVX-512F/DQ are enabled here, as the `V8` methods need.
        unsafe { super::blocks::<V8>(d) }
    }

    #[cfg(test)]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn eval_avx2(xs: &[f64]) -> Vec<(f64, f64, f64)> {
        // SAFETY: as in `blocks_avx2`.
        unsafe { super::eval_with::<V4>(xs) }
    }

    #[cfg(test)]
    #[target_feature(enable = "avx512f,avx512dq,avx2,fma")]
    pub(super) unsafe fn eval_avx512(xs: &[f64]) -> Vec<(f64, f64, f64)> {
        // SAFETY: as in `blocks_avx512`.
        unsafe { super::eval_with::<V8>(xs) }
    }
}

/// `copysign(mag, sign_of)`.
#[inline(always)]
unsafe fn copysign<V: Pd>(mag: V, sign_of: V) -> V {
    // SAFETY: as the trait requires (the caller's context).
    unsafe {
        let s = V::splat_bits(0x8000_0000_0000_0000);
        s.andnot(mag).or(s.and(sign_of))
    }
}

/// Recomputes the lanes flagged in `bits` with `f`.
#[cold]
unsafe fn patch<V: Pd>(out: V, x: V, bits: u32, f: fn(f64) -> f64) -> V {
    let mut xs = [0.0f64; 8];
    let mut os = [0.0f64; 8];
    // SAFETY: `V::N <= 8` lanes are stored into and loaded from 8-double arrays.
    unsafe {
        x.store(xs.as_mut_ptr());
        out.store(os.as_mut_ptr());
    }
    for j in 0..V::N {
        if bits & (1 << j) != 0 {
            os[j] = f(xs[j]);
        }
    }
    // SAFETY: as above.
    unsafe { V::load(os.as_ptr()) }
}

/// Vector `log` (FMA variant).
#[inline(always)]
unsafe fn log_v<V: Pd>(x: V) -> V {
    // SAFETY: as the trait requires (the caller's context).
    unsafe {
        let ix = x;
        // Positive normal finite: 0x0010... <= ix < 0x7ff0... (signed compares suffice).
        let ok = V::mand(
            ix.igt(V::splat_bits(0x000f_ffff_ffff_ffff)),
            V::splat_bits(0x7ff0_0000_0000_0000).igt(ix),
        );
        let near1 = V::mand(
            ix.igt(V::splat_bits(NEAR1_LO - 1)),
            V::splat_bits(NEAR1_HI).igt(ix),
        );
        // Main path.
        let tmp = ix.isub(V::splat_bits(OFF));
        let i = tmp.isrl45().and(V::splat_bits(127));
        let i2 = i.iadd(i); // index of invc in the interleaved table
        let iz = ix.isub(tmp.and(V::splat_bits(0xfff0_0000_0000_0000)));
        let invc = V::gather(LOG_TAB.as_ptr().cast(), i2);
        let logc = V::gather(LOG_TAB.as_ptr().cast(), i2.iadd(V::splat_bits(1)));
        let r = iz.fma(invc, V::splat(-1.0));
        let kd = tmp.isra52_to_f64();
        let w = kd.fma(V::splat(LN2HI), logc);
        let hi = w.add(r);
        let lo = kd.fma(V::splat(LN2LO), w.sub(hi).add(r));
        let r2 = r.mul(r);
        let a = |k: usize| V::splat(f64::from_bits(LOG_POLY[k]));
        let inner = r2.fma(r.fma(a(4), a(3)), r.fma(a(2), a(1)));
        let main = r.mul(r2).fma(inner, r2.fma(a(0), lo)).add(hi);
        // Near 1 (computed only when a lane needs it: the same values either way).
        let mut out = main;
        if V::mbits(near1) != 0 {
            let b = |k: usize| V::splat(b1(k));
            let r = x.sub(V::splat(1.0));
            let r2 = r.mul(r);
            let r3 = r.mul(r2);
            let p3 = r3.fma(b(10), r2.fma(b(9), r.fma(b(8), b(7))));
            let p2 = r3.fma(p3, r2.fma(b(6), r.fma(b(5), b(4))));
            let p1 = r3.fma(p2, r2.fma(b(3), r.fma(b(2), b(1))));
            let w = r.mul(V::splat(f64::from_bits(0x41a0_0000_0000_0000)));
            let rhi = r.add(w).sub(w);
            let rlo = r.sub(rhi);
            let w = rhi.mul(rhi).mul(b(0));
            let hi = r.add(w);
            let lo = r.sub(hi).add(w);
            let lo = b(0).mul(rlo).fma(rhi.add(r), lo);
            let near = r3.fma(p1, lo).add(hi);
            out = out.select(near1, near);
        }
        // log(1) = +0 exactly (the near-1 formula gives +0 too; kept explicit).
        out = out.select(ix.ieq(V::splat(1.0)), V::splat(0.0));
        let bad = V::mbits(V::mnot(ok));
        if bad != 0 {
            out = patch(out, x, bad, super::log);
        }
        out
    }
}

/// `(sn, ssn, cs, ccs)` at the table point of `u = big + |x|`.
#[inline(always)]
unsafe fn lookup<V: Pd>(u: V) -> (V, V, V, V) {
    // SAFETY: as the trait requires; the index (< 440, from |x| < 0.86) stays in the table.
    unsafe {
        let k = u.and(V::splat_bits(0xffff_ffff));
        let k = k.iadd(k);
        let k = k.iadd(k); // 4 · low word
        let one = V::splat_bits(1);
        let t = SINCOSTAB.as_ptr().cast::<f64>();
        let k1 = k.iadd(one);
        let k2 = k1.iadd(one);
        let k3 = k2.iadd(one);
        (
            V::gather(t, k),
            V::gather(t, k1),
            V::gather(t, k2),
            V::gather(t, k3),
        )
    }
}

/// `do_sin(x, dx)` on every lane (both of its paths, selected per lane).
#[inline(always)]
unsafe fn do_sin_v<V: Pd>(x: V, dx: V) -> V {
    // SAFETY: as the trait requires (the caller's context).
    unsafe {
        let sign = V::splat_bits(0x8000_0000_0000_0000);
        let ax = sign.andnot(x);
        // Each path is computed only when a lane takes it (the same values either way).
        let small = ax.lt(V::splat(f64::from_bits(0x3fc0_20c4_9ba5_e354))); // 0.126
        let taylor = || {
            // TAYLOR_SIN(x*x, x, dx)
            let xx = x.mul(x);
            let p = V::splat(S5)
                .fma(xx, V::splat(S4))
                .fma(xx, V::splat(S3))
                .fma(xx, V::splat(S2))
                .fma(xx, V::splat(S1));
            let half_dx = V::splat(0.5).mul(dx);
            x.add(p.fma(x, sign.xor(half_dx)).fma(xx, dx))
        };
        if V::mbits(V::mnot(small)) == 0 {
            return taylor();
        }
        // The table path.
        let dxs = dx.select(x.le(V::splat(0.0)), sign.xor(dx));
        let u = V::splat(BIG).add(ax);
        let xr = ax.sub(u.sub(V::splat(BIG)));
        let xx = xr.mul(xr);
        let s = xr.add(xr.mul(xx).fma(xx.fma(V::splat(SN5), V::splat(SN3)), dxs));
        let c = xr.fma(
            dxs,
            xx.mul(xx.fma(xx.fma(V::splat(CS6), V::splat(CS4)), V::splat(CS2))),
        );
        let (sn, ssn, cs, ccs) = lookup(u);
        let cor = cs.fma(s, sn.fnma(c, s.fma(ccs, ssn)));
        let table = copysign(sn.add(cor), x);
        if V::mbits(small) == 0 {
            table
        } else {
            table.select(small, taylor())
        }
    }
}

/// `do_cos(x, dx)` on every lane.
#[inline(always)]
unsafe fn do_cos_v<V: Pd>(x: V, dx: V) -> V {
    // SAFETY: as the trait requires (the caller's context).
    unsafe {
        let sign = V::splat_bits(0x8000_0000_0000_0000);
        let dx = dx.select(x.lt(V::splat(0.0)), sign.xor(dx));
        let ax = sign.andnot(x);
        let u = V::splat(BIG).add(ax);
        let xr = ax.sub(u.sub(V::splat(BIG))).add(dx);
        let xx = xr.mul(xr);
        let s = xr.mul(xx).fma(xx.fma(V::splat(SN5), V::splat(SN3)), xr);
        let c = xx.mul(xx.fma(xx.fma(V::splat(CS6), V::splat(CS4)), V::splat(CS2)));
        let (sn, ssn, cs, ccs) = lookup(u);
        let cor = sn.fnma(s, cs.fnma(c, s.fnma(ssn, ccs)));
        cs.add(cor)
    }
}

/// `(sin x, cos x)` on every lane (FMA variant).
#[inline(always)]
unsafe fn sincos_v<V: Pd>(x_in: V) -> (V, V) {
    // SAFETY: as the trait requires (the caller's context).
    unsafe {
        let sign = V::splat_bits(0x8000_0000_0000_0000);
        let lim = |bits_hi: u64| V::splat_bits(bits_hi << 32);
        // Lanes the scalar twin redoes (huge, infinite, NaN) compute on 0 meanwhile, which keeps
        // every table index in range.
        let in_range = lim(0x4199_21fb).igt(sign.andnot(x_in));
        let out = V::mbits(V::mnot(in_range));
        let x = x_in.select(V::mnot(in_range), V::splat(0.0));
        let ax = sign.andnot(x);
        // Region tests on |x| against `k < HIGH` thresholds (compare the whole |x| with HIGH·2^32).
        let region_a = lim(0x3feb_6000).igt(ax);
        let region_b = lim(0x4003_68fd).igt(ax);
        let tiny_sin = lim(0x3e50_0000).igt(ax);
        let tiny_cos = lim(0x3e40_0000).igt(ax);
        // Region B arguments.
        let t = V::splat(HP0).sub(ax);
        let a_b = t.add(V::splat(HP1));
        let da_b = t.sub(a_b).add(V::splat(HP1));
        // Region C: reduce_sincos.
        let tt = x.fma(V::splat(HPINV), V::splat(TOINT));
        let xn = tt.sub(V::splat(TOINT));
        let n = tt.and(V::splat_bits(3)); // the quadrant, as integer lanes
        let y = xn.fnma(V::splat(MP2), xn.fnma(V::splat(MP1), x));
        let t2 = xn.fnma(V::splat(PP3), y);
        let db = xn.fnma(V::splat(PP3), y.sub(t2));
        let bb = xn.fnma(V::splat(PP4), t2);
        let db = db.add(xn.fnma(V::splat(PP4), t2.sub(bb)));
        // The two evaluations' arguments per region.
        let zero = V::splat(0.0);
        let (as_, das) = (
            bb.select(region_b, a_b).select(region_a, x),
            db.select(region_b, da_b).select(region_a, zero),
        );
        let (ac, dac) = (
            bb.select(region_b, t).select(region_a, x),
            db.select(region_b, V::splat(HP1)).select(region_a, zero),
        );
        let ds = do_sin_v(as_, das);
        let dc = do_cos_v(ac, dac);
        // Region C: sin = n odd ? DC : DS, negated when n & 2; cos = n odd ? DS : DC, negated
        // when (n + 1) & 2.
        let one = V::splat_bits(1);
        let odd = n.and(one).ieq(one);
        let two = V::splat_bits(2);
        let neg_s = n.and(two).ieq(two);
        let neg_c = n.iadd(one).and(two).ieq(two);
        let sin_c = ds.select(odd, dc);
        let sin_c = sin_c.select(neg_s, sign.xor(sin_c));
        let cos_c = dc.select(odd, ds);
        let cos_c = cos_c.select(neg_c, sign.xor(cos_c));
        // Region B.
        let sin_b = copysign(dc, x);
        let cos_b = ds;
        let mut sin = sin_c.select(region_b, sin_b).select(region_a, ds);
        let mut cos = cos_c.select(region_b, cos_b).select(region_a, dc);
        sin = sin.select(tiny_sin, x);
        cos = cos.select(tiny_cos, V::splat(1.0));
        if out != 0 {
            sin = patch(sin, x_in, out, super::sin);
            cos = patch(cos, x_in, out, super::cos);
        }
        (sin, cos)
    }
}

/// The raw float64 blocks with vectors of type `V` (`V::N` divides 8).
#[inline(always)]
unsafe fn blocks<V: Pd>(d: &mut [f64]) {
    for blk in d.chunks_exact_mut(16) {
        let p = blk.as_mut_ptr();
        for j in (0..8).step_by(V::N) {
            // SAFETY: `blk` holds 16 doubles: `j + N <= 8` and `8 + j + N <= 16`; the trait's
            // instruction set is enabled by the caller.
            unsafe {
                let a = V::load(p.add(j));
                let b = V::load(p.add(8 + j));
                let u1 = V::splat(1.0).sub(a);
                let radius = V::splat(-2.0).mul(log_v(u1)).sqrt();
                let theta = V::splat(2.0 * std::f64::consts::PI).mul(b);
                let (s, c) = sincos_v(theta);
                radius.mul(c).store(p.add(j));
                radius.mul(s).store(p.add(8 + j));
            }
        }
    }
}

#[cfg(test)]
unsafe fn eval_with<V: Pd>(xs: &[f64]) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::with_capacity(xs.len());
    for chunk in xs.chunks(V::N) {
        let mut x = [1.0f64; 8];
        x[..chunk.len()].copy_from_slice(chunk);
        let (mut l, mut s, mut c) = ([0.0; 8], [0.0; 8], [0.0; 8]);
        // SAFETY: 8-double arrays; the caller enabled the instruction set.
        unsafe {
            let v = V::load(x.as_ptr());
            log_v(v).store(l.as_mut_ptr());
            let (sv, cv) = sincos_v(v);
            sv.store(s.as_mut_ptr());
            cv.store(c.as_mut_ptr());
        }
        for j in 0..chunk.len() {
            out.push((l[j], s[j], c[j]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(lanes: Lanes, xs: &[f64]) {
        let got = eval(xs, lanes);
        for (&x, &(l, s, c)) in xs.iter().zip(&got) {
            let want = (
                super::super::log(x),
                super::super::sin(x),
                super::super::cos(x),
            );
            assert_eq!(
                (l.to_bits(), s.to_bits(), c.to_bits()),
                (want.0.to_bits(), want.1.to_bits(), want.2.to_bits()),
                "{lanes:?} x = {:016x} ({x:e})",
                x.to_bits()
            );
        }
    }

    #[test]
    fn vector_lanes_equal_the_scalar_twins() {
        let mut xs = vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::from_bits(1),
            f64::MIN_POSITIVE,
            f64::MAX,
            0.126,
            -0.126,
            0.855_469,
            2.426_265,
            105_414_350.0,
            1e22,
        ];
        // The kernel's inputs: 1 - k 2^-53 and 2π k 2^-53 for k spread over 2^53.
        let mut s = 0x0123_4567_89ab_cdefu64;
        let mut next = || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            s
        };
        for _ in 0..300_000 {
            let u = (next() >> 11) as f64 * (1.0 / 9_007_199_254_740_992.0);
            xs.push(1.0 - u);
            xs.push(2.0 * std::f64::consts::PI * u);
            xs.push(f64::from_bits(next()));
            // near the region boundaries and multiples of π/2
            let k = (next() % 64) as f64;
            xs.push(k * std::f64::consts::FRAC_PI_2 + ((next() >> 40) as f64 - 8e6) * 1e-16);
            xs.push(f64::from_bits(0x3fee_0000_0000_0000 + (next() >> 30)));
        }
        for e in -60..60 {
            xs.push(2f64.powi(e));
            xs.push(-(2f64.powi(e)));
        }
        for lanes in Lanes::available() {
            if lanes != Lanes::Scalar {
                check(lanes, &xs);
            }
        }
    }
}
