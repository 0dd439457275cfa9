//! The list path's weights (top_p.rs): w = 2^((x − max)·k), k = log2(e)/T rounded to float32, in
//! 19 lane operations instead of exp32's 22 (no shift s, no two-part ln2, no flush select). Only
//! sampling uses them, and sampling needs far less than exp32's ulp.
//!
//! Steps and their errors (z = (max − x)/T ≥ 0, the weight e^−z):
//! - d = x − max, then t = d·k: d's rounding (2^-24 relative), k's and the product's make
//!   t = t_true·(1 + η), |η| ≤ 3·2^-24, so ln w moves by at most 3·2^-24·z.
//! - t < −125 is raised to −125: such weights become 2^-125 (normal, no subnormal slow path), an
//!   absolute error below n·2^-125 of a total that is at least 1 (the max's weight). −∞ becomes
//!   2^-125 too; every user of the weights tests x ≥ a finite cut first, so it is never kept.
//! - n = round(t) by the magic constant (exact for |t| < 2^22), f = t − n ∈ [−½, ½] exactly.
//! - p(f) ≈ 2^f: degree 5, a relative minimax fit (Lawson) rounded to float32; with its float32
//!   Horner evaluation, relative error ≤ P_ERR (the native test sweeps every float32 f).
//! - 2^n is added to p's exponent bits: exact, p ∈ [2^-½, 2^½] and n ∈ [−125, 0] stay normal.
//!
//! So each weight's relative error is at most 3·2^-24·z + P_ERR. Over any set S of ids holding
//! its max id (kept sets do: the max is kept), Σ_S w·z ≤ Σ_S w·ln|S| (with p = w/Σ_S w,
//! Σ p·z = H(p) − ln Σ_S w ≤ ln|S|, as Σ_S w ≥ 1), so every partial sum of S is off by at most
//! (3·2^-24·ln|S| + P_ERR) of Σ_S w. The draw compares u·K with cumulative kept weights: u's
//! boundary moves by at most 2·(3·2^-24·ln m + P_ERR) ≤ 8.4e-6 for m ≤ 2^32 kept ids (4.7e-6 at
//! 151,936), inside the backend's sampleMargin of 1e-5; the top-p decision cum/total likewise
//! (plus the total's own summation, 5·2^-24). Min-p compares w ≥ minP: near that boundary
//! z = −ln minP, so the list path takes minP ≥ MIN_P only (error ≤ 3.5e-6 of ln w there).

use crate::select::Key;

/// 2^f ≈ 1 + f·(C[0] + f·(C[1] + f·(C[2] + f·(C[3] + f·C[4])))) on [−½, ½].
pub const C: [f32; 5] = [0.693_147, 0.240_222_42, 0.055_507_33, 0.009_671_513, 0.001_326_472_7];
/// The largest relative error of the float32 evaluation of p (swept by the native test).
#[cfg(test)]
const P_ERR: f64 = 2.4e-7;
/// The smallest minP the list path decides on these weights (z = −ln minP ≤ 18.5).
pub const MIN_P: f64 = 1e-8;

/// 1.5·2^23: t + MAGIC rounds t to an integer held in the low mantissa bits.
const MAGIC: f32 = 12_582_912.0;
/// Exponents are raised to this (see the module comment).
const LO: f32 = -125.0;

/// Temperatures of this path (k = log2e/T a normal float32 with room).
pub const T_MIN: f64 = 1.0 / 1_099_511_627_776.0; // 2^-40
pub const T_MAX: f64 = 1_099_511_627_776.0; // 2^40

/// k = log2(e)/T.
pub fn k_of(t: f64) -> f32 {
    (core::f64::consts::LOG2_E / t) as f32
}

/// One weight; the SIMD pass performs the same float32 operations in the same order.
#[inline(always)]
pub fn weight(x: f32, max: f32, k: f32) -> f32 {
    let t = (x - max) * k;
    // pmax's rule: a < b ? b : a.
    let t = if t < LO { LO } else { t };
    let nf = t + MAGIC;
    let f = t - (nf - MAGIC);
    let p = poly(f);
    f32::from_bits(p.to_bits().wrapping_add(nf.to_bits() << 23))
}

#[inline(always)]
pub fn poly(f: f32) -> f32 {
    let mut q = C[4];
    q = q * f + C[3];
    q = q * f + C[2];
    q = q * f + C[1];
    q = q * f + C[0];
    q * f + 1.0
}

/// w = weight(x) for n ids; returns Σ w (float64 over blocks).
///
/// # Safety
/// `x`, `w` valid for `n`.
pub unsafe fn store_sum(x: *const f32, w: *mut f32, n: usize, max: f32, k: f32) -> f64 {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::store_sum(x, w, n, max, k)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let mut s = 0.0;
        for j in 0..n {
            let v = weight(*x.add(j), max, k);
            *w.add(j) = v;
            s += v as f64;
        }
        s
    }
}

/// The list path's one pass over the row (top_p.rs): Σ w summed exactly as `store_sum` sums it,
/// and every id with x ≥ tau listed ascending in `ids` with its weight stored at w[id] (no other
/// weight is stored: the list path reads the weights of listed ids only). Blocks whose max
/// (`bmax`) is below tau are not searched. Returns (Σ w, the count listed).
///
/// # Safety
/// `x`, `w` valid for `n`, `bmax` for blocks(n), `ids` for `n`.
pub unsafe fn sum_listing(x: *const f32, n: usize, bmax: *const f32, max: f32, k: f32, tau: f32, ids: *mut u32, w: *mut f32) -> (f64, usize) {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        simd::sum_listing(x, n, bmax, max, k, tau, ids, w)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let _ = bmax;
        list_scalar(x, 0, n, tau, ids, w, (0.0, 0), |v| weight(v, max, k))
    }
}

/// `sum_listing` one id at a time from id `from` on, continuing `(sum, count)`: each weight
/// `weight(x)` added in order in float64, each id of x ≥ tau listed with its weight stored. The
/// scalar builds' whole pass, the SIMD pass's tail, and float64's pass.
///
/// # Safety
/// As `sum_listing`; `count` ids already listed.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub unsafe fn list_scalar<E: Key>(
    x: *const E,
    from: usize,
    n: usize,
    tau: E,
    ids: *mut u32,
    w: *mut E,
    (mut sum, mut count): (f64, usize),
    weight: impl Fn(E) -> E,
) -> (f64, usize) {
    for j in from..n {
        let v = *x.add(j);
        let e = weight(v);
        sum += e.get();
        if v >= tau {
            *ids.add(count) = j as u32;
            *w.add(j) = e;
            count += 1;
        }
    }
    (sum, count)
}

/// `weight(x_j)` stored at w[j] for the `m` ids j in `ids`; returns their Σ in float64.
///
/// # Safety
/// `w` valid at the ids.
#[inline(always)]
pub unsafe fn at_ids<E: Key>(ids: *const u32, m: usize, w: *mut E, weight: impl Fn(usize) -> E) -> f64 {
    let mut sum = 0.0;
    for i in 0..m {
        let j = *ids.add(i) as usize;
        let e = weight(j);
        *w.add(j) = e;
        sum += e.get();
    }
    sum
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd {
    use super::{list_scalar, weight, C, LO, MAGIC};
    use crate::argmax::BLOCK;
    use core::arch::wasm32::*;

    static CONSTS: [f32; 8] = [C[0], C[1], C[2], C[3], C[4], MAGIC, LO, 1.0];

    /// For each 4-bit mask of lanes, the byte shuffle that moves those 32-bit lanes, in order, to
    /// the front (the lanes after them: copies of byte 0, never counted).
    static PACK: [v128; 16] = {
        let mut t = [i8x16(0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3); 16];
        let mut m = 0;
        while m < 16 {
            let mut b = [0i8; 16];
            let (mut k, mut lane) = (0, 0);
            while lane < 4 {
                if m & (1 << lane) != 0 {
                    let mut i = 0;
                    while i < 4 {
                        b[4 * k + i] = (4 * lane + i) as i8;
                        i += 1;
                    }
                    k += 1;
                }
                lane += 1;
            }
            t[m] = i8x16(b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
            m += 1;
        }
        t
    };

    /// `weight`'s constants in lanes, made once per pass.
    struct Lanes {
        m: v128,
        k: v128,
        c: [v128; 5],
        magic: v128,
        lo: v128,
        one: v128,
    }

    impl Lanes {
        #[inline(always)]
        unsafe fn new(max: f32, k: f32) -> Lanes {
            // Read through a volatile load so that LLVM keeps them in locals (see simd32.rs).
            let c = core::ptr::read_volatile(&CONSTS);
            Lanes {
                m: f32x4_splat(max),
                k: f32x4_splat(k),
                c: [f32x4_splat(c[0]), f32x4_splat(c[1]), f32x4_splat(c[2]), f32x4_splat(c[3]), f32x4_splat(c[4])],
                magic: f32x4_splat(c[5]),
                lo: f32x4_splat(c[6]),
                one: f32x4_splat(c[7]),
            }
        }

        /// `weight` of 4 lanes: the same float32 operations in the same order.
        #[inline(always)]
        fn weights(&self, v: v128) -> v128 {
            let t = f32x4_pmax(f32x4_mul(f32x4_sub(v, self.m), self.k), self.lo);
            let nf = f32x4_add(t, self.magic);
            let f = f32x4_sub(t, f32x4_sub(nf, self.magic));
            let mut q = f32x4_add(f32x4_mul(self.c[4], f), self.c[3]);
            q = f32x4_add(f32x4_mul(q, f), self.c[2]);
            q = f32x4_add(f32x4_mul(q, f), self.c[1]);
            q = f32x4_add(f32x4_mul(q, f), self.c[0]);
            let p = f32x4_add(f32x4_mul(q, f), self.one);
            i32x4_add(p, i32x4_shl(nf, 23))
        }
    }

    /// Σ of 64 weights per block in float32 lanes (each 16-id step added pairwise, then into the
    /// block's vector: at most 5 roundings per term, 5·2^-24 of the block), blocks in float64.
    /// One vector at a time: the 10 constants and a few temporaries fit V8's 16 registers.
    pub unsafe fn store_sum(x: *const f32, w: *mut f32, n: usize, max: f32, k: f32) -> f64 {
        let l = Lanes::new(max, k);
        let e = |v: v128| l.weights(v);
        let zero = f32x4_splat(0.0);
        let mut total = f64x2_splat(0.0);
        let mut j = 0;
        while j + 64 <= n {
            let mut t = zero;
            for _ in 0..4 {
                let e0 = e(v128_load(x.add(j) as *const v128));
                v128_store(w.add(j) as *mut v128, e0);
                let e1 = e(v128_load(x.add(j + 4) as *const v128));
                v128_store(w.add(j + 4) as *mut v128, e1);
                let e2 = e(v128_load(x.add(j + 8) as *const v128));
                v128_store(w.add(j + 8) as *mut v128, e2);
                let e3 = e(v128_load(x.add(j + 12) as *const v128));
                v128_store(w.add(j + 12) as *mut v128, e3);
                t = f32x4_add(t, f32x4_add(f32x4_add(e0, e1), f32x4_add(e2, e3)));
                j += 16;
            }
            let hi = i32x4_shuffle::<2, 3, 2, 3>(t, t);
            total = f64x2_add(total, f64x2_add(f64x2_promote_low_f32x4(t), f64x2_promote_low_f32x4(hi)));
        }
        let mut sum = f64x2_extract_lane::<0>(total) + f64x2_extract_lane::<1>(total);
        while j < n {
            let v = weight(*x.add(j), max, k);
            *w.add(j) = v;
            sum += v as f64;
            j += 1;
        }
        sum
    }

    /// `store_sum`'s arithmetic in the same order, storing nothing but the listed ids and their
    /// weights; a block at or above tau tests each vector (a hit is rare past the row's top).
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn sum_listing(x: *const f32, n: usize, bmax: *const f32, max: f32, k: f32, tau: f32, ids: *mut u32, w: *mut f32) -> (f64, usize) {
        let l = Lanes::new(max, k);
        let e = |v: v128| l.weights(v);
        let lim = f32x4_splat(tau);
        let lanes = i32x4(0, 1, 2, 3);
        let mut count = 0;
        // Branch-free listing (a hit is too irregular to predict): the 4 weights stored at their
        // ids, the lanes of x ≥ tau packed to the front of the 4 ids by a byte shuffle chosen by
        // their bit mask, all 4 stored at ids[count] and count advanced by the hits. The store
        // stays inside `ids`: count ≤ j, as at most j ids precede id j.
        let mut list = |v: v128, ev: v128, j: usize| {
            v128_store(w.add(j) as *mut v128, ev);
            let bits = i32x4_bitmask(f32x4_ge(v, lim)) as usize;
            let id = i32x4_add(u32x4_splat(j as u32), lanes);
            v128_store(ids.add(count) as *mut v128, i8x16_swizzle(id, PACK[bits]));
            count += bits.count_ones() as usize;
        };
        let zero = f32x4_splat(0.0);
        let mut total = f64x2_splat(0.0);
        let mut j = 0;
        while j + 64 <= n {
            let mut t = zero;
            if *bmax.add(j / BLOCK) >= tau {
                for _ in 0..4 {
                    let (v0, v1) = (v128_load(x.add(j) as *const v128), v128_load(x.add(j + 4) as *const v128));
                    let (v2, v3) = (v128_load(x.add(j + 8) as *const v128), v128_load(x.add(j + 12) as *const v128));
                    let (e0, e1, e2, e3) = (e(v0), e(v1), e(v2), e(v3));
                    list(v0, e0, j);
                    list(v1, e1, j + 4);
                    list(v2, e2, j + 8);
                    list(v3, e3, j + 12);
                    t = f32x4_add(t, f32x4_add(f32x4_add(e0, e1), f32x4_add(e2, e3)));
                    j += 16;
                }
            } else {
                for _ in 0..4 {
                    let e0 = e(v128_load(x.add(j) as *const v128));
                    let e1 = e(v128_load(x.add(j + 4) as *const v128));
                    let e2 = e(v128_load(x.add(j + 8) as *const v128));
                    let e3 = e(v128_load(x.add(j + 12) as *const v128));
                    t = f32x4_add(t, f32x4_add(f32x4_add(e0, e1), f32x4_add(e2, e3)));
                    j += 16;
                }
            }
            let hi = i32x4_shuffle::<2, 3, 2, 3>(t, t);
            total = f64x2_add(total, f64x2_add(f64x2_promote_low_f32x4(t), f64x2_promote_low_f32x4(hi)));
        }
        let sum = f64x2_extract_lane::<0>(total) + f64x2_extract_lane::<1>(total);
        list_scalar(x, j, n, tau, ids, w, (sum, count), |v| weight(v, max, k))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every float32 f with 2^-24 ≤ |f| ≤ ½ (below, p(f) is 1 + f·C[0] rounded: every 4096th
    /// float there): p(f) within P_ERR of 2^f.
    #[test]
    fn poly_is_within_p_err_of_exp2_on_every_float32() {
        let mut worst = 0.0f64;
        for sign in [0u32, 0x8000_0000] {
            let mut b = 0u32;
            loop {
                let step = if b < 0x3380_0000 { 4096 } else { 1 };
                let f = f32::from_bits(b | sign);
                if f.abs() > 0.5 {
                    break;
                }
                let want = (f as f64 * core::f64::consts::LN_2).exp();
                let rel = (poly(f) as f64 / want - 1.0).abs();
                worst = worst.max(rel);
                b += step;
            }
        }
        assert!(worst <= P_ERR, "worst {worst}");
    }

    /// Weights against float64 e^((x − max)/T) within the bound of the module comment.
    #[test]
    fn weights_are_within_the_bound() {
        let mut s = 3u64;
        let mut next = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        for &t in &[1.0, 0.7, 1.3, 0.01, 100.0] {
            for &max in &[0.0f32, 15.5, -3.25, 1000.0, -70000.0] {
                let k = k_of(t);
                for _ in 0..200_000 {
                    let x = (max as f64 - next() * 90.0 * t) as f32;
                    let x = if x > max { max } else { x };
                    let z = (max as f64 - x as f64) / t;
                    let want = (-z).exp();
                    let got = weight(x, max, k) as f64;
                    if want < 2f64.powi(-124) {
                        assert!(got <= 2f64.powi(-124), "x {x} max {max} T {t}: {got} for {want}");
                        continue;
                    }
                    let bound = 3.0 * 2f64.powi(-24) * z + P_ERR + 1e-12;
                    assert!((got / want).ln().abs() <= bound, "x {x} max {max} T {t}: {got} vs {want}");
                }
                assert_eq!(weight(max, max, k), 1.0);
                assert_eq!(weight(f32::NEG_INFINITY, max, k), 2f32.powi(-125));
            }
        }
    }
}
