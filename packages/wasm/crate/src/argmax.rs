//! The row passes of `sample` (sample.rs), in blocks of BLOCK elements: the max with each block's
//! max and a NaN flag (the block maxima bound every later filter; greedy's own form of the pass
//! keeps them only to find the argmax), the ids in a value range (blocks whose max is below the range skipped),
//! and the kept weights' block sums (the draw walks the blocks, then one block). Generic scalar
//! code here; the SIMD128 build replaces the float32 passes with the same passes over f32x4
//! lanes (simd_f32 below), in the same block structure, so both builds make the same decisions.

use crate::select::Key;

/// Elements per block.
pub const BLOCK: usize = 64;

/// Number of blocks of a row of `n`.
pub const fn blocks(n: usize) -> usize {
    n.div_ceil(BLOCK)
}

/// The passes of one element type.
pub trait Passes: Key {
    /// The histogram bucket of a weight w ∈ [0, 2): its float bits' top 11 below the sign.
    fn weight_bucket(self) -> usize;
    /// The row max (NaN ignored), whether it holds a NaN, and each block's max into `bmax`.
    ///
    /// # Safety
    /// `x` valid for `n`, `bmax` for blocks(n).
    unsafe fn block_stats(x: *const Self, n: usize, bmax: *mut Self) -> (Self, bool) {
        block_stats_scalar(x, n, bmax)
    }
    /// Greedy's pass: the row max (NaN ignored) and whether it holds a NaN, with each block's max
    /// into `vmax` in whatever form `greedy_first` reads (the SIMD build: a vector of 4 lane
    /// maxima per block, so no block is reduced to a scalar).
    ///
    /// # Safety
    /// `x` valid for `n`, `vmax` for 4·blocks(n) elements.
    unsafe fn greedy_stats(x: *const Self, n: usize, vmax: *mut Self) -> (Self, bool) {
        block_stats_scalar(x, n, vmax)
    }
    /// The first id of the row max `max` after `greedy_stats` wrote `vmax`.
    ///
    /// # Safety
    /// As `greedy_stats`, after it; `max` is the row max.
    unsafe fn greedy_first(x: *const Self, n: usize, vmax: *const Self, max: Self) -> usize {
        first_of(x, n, vmax, max)
    }
    /// Appends to `ids` the ids j (ascending) with lo ≤ x_j < hi; returns how many. Blocks whose
    /// max (`bmax`, or null for none) is below lo are skipped.
    ///
    /// # Safety
    /// `x` valid for `n`, `bmax` for blocks(n) or null, `ids` for the count returned.
    unsafe fn collect(x: *const Self, n: usize, bmax: *const Self, lo: Self, hi: Self, ids: *mut u32) -> usize {
        collect_scalar(x, n, bmax, lo, hi, ids)
    }
    /// Adds each w_j (j from 0 by 2) to sums[bucket(w_j)] and each w_(j+1) to other[bucket], bucket
    /// the top 11 bits below the sign of w ∈ [0, 2) (`shift`: 19 for float32, 51 for float64); the
    /// caller adds the two. Returns the ids done (an even count; the caller does the last one).
    ///
    /// # Safety
    /// `w` valid for `n`; `sums`, `other` for 2048 float64s.
    unsafe fn histogram(w: *const Self, n: usize, sums: *mut f64, other: *mut f64) -> usize {
        histogram_scalar(w, n, sums, other)
    }
    /// bsum[b] = Σ of w_j over block b's kept ids (x_j ≥ cut and w_j ≥ wmin, in float64 per
    /// block); returns Σ bsum.
    ///
    /// # Safety
    /// `x`, `w` valid for `n`, `bsum` for blocks(n).
    unsafe fn kept_sums(x: *const Self, w: *const Self, n: usize, cut: Self, wmin: Self, bsum: *mut f64) -> f64 {
        kept_sums_scalar(x, w, n, cut, wmin, bsum)
    }
}

impl Passes for f64 {
    #[inline(always)]
    fn weight_bucket(self) -> usize {
        ((self.to_bits() >> 51) as usize).min(2047)
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl Passes for f32 {
    #[inline(always)]
    fn weight_bucket(self) -> usize {
        ((self.to_bits() >> 19) as usize).min(2047)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Passes for f32 {
    #[inline(always)]
    fn weight_bucket(self) -> usize {
        ((self.to_bits() >> 19) as usize).min(2047)
    }
    unsafe fn block_stats(x: *const f32, n: usize, bmax: *mut f32) -> (f32, bool) {
        simd_f32::block_stats(x, n, bmax)
    }
    unsafe fn greedy_stats(x: *const f32, n: usize, vmax: *mut f32) -> (f32, bool) {
        simd_f32::greedy_stats(x, n, vmax)
    }
    unsafe fn greedy_first(x: *const f32, n: usize, vmax: *const f32, max: f32) -> usize {
        simd_f32::greedy_first(x, n, vmax, max)
    }
    unsafe fn collect(x: *const f32, n: usize, bmax: *const f32, lo: f32, hi: f32, ids: *mut u32) -> usize {
        simd_f32::collect(x, n, bmax, lo, hi, ids)
    }
    unsafe fn kept_sums(x: *const f32, w: *const f32, n: usize, cut: f32, wmin: f32, bsum: *mut f64) -> f64 {
        simd_f32::kept_sums(x, w, n, cut, wmin, bsum)
    }
    unsafe fn histogram(w: *const f32, n: usize, sums: *mut f64, other: *mut f64) -> usize {
        simd_f32::histogram(w, n, sums, other)
    }
}

/// # Safety
/// As `Passes::block_stats`.
pub unsafe fn block_stats_scalar<E: Key>(x: *const E, n: usize, bmax: *mut E) -> (E, bool) {
    let mut max = E::NEG_INF;
    let mut nan = false;
    let mut j = 0;
    let mut b = 0;
    while j < n {
        let end = if j + BLOCK < n { j + BLOCK } else { n };
        let mut m = E::NEG_INF;
        while j < end {
            let v = *x.add(j);
            nan |= v != v;
            if v > m {
                m = v;
            }
            j += 1;
        }
        *bmax.add(b) = m;
        if m > max {
            max = m;
        }
        b += 1;
    }
    (max, nan)
}

/// # Safety
/// As `Passes::collect`.
pub unsafe fn collect_scalar<E: Key>(x: *const E, n: usize, bmax: *const E, lo: E, hi: E, ids: *mut u32) -> usize {
    let mut count = 0;
    for b in 0..blocks(n) {
        if !bmax.is_null() && !(*bmax.add(b) >= lo) {
            continue;
        }
        let end = if (b + 1) * BLOCK < n { (b + 1) * BLOCK } else { n };
        for j in b * BLOCK..end {
            let v = *x.add(j);
            if v >= lo && v < hi {
                *ids.add(count) = j as u32;
                count += 1;
            }
        }
    }
    count
}

/// # Safety
/// As `Passes::histogram`.
pub unsafe fn histogram_scalar<E: Passes>(w: *const E, n: usize, sums: *mut f64, other: *mut f64) -> usize {
    let mut j = 0;
    while j + 2 <= n {
        let (w0, w1) = (*w.add(j), *w.add(j + 1));
        *sums.add(E::weight_bucket(w0)) += w0.get();
        *other.add(E::weight_bucket(w1)) += w1.get();
        j += 2;
    }
    j
}

/// # Safety
/// As `Passes::kept_sums`.
pub unsafe fn kept_sums_scalar<E: Key>(x: *const E, w: *const E, n: usize, cut: E, wmin: E, bsum: *mut f64) -> f64 {
    let mut total = 0.0;
    for b in 0..blocks(n) {
        let end = if (b + 1) * BLOCK < n { (b + 1) * BLOCK } else { n };
        let mut s = 0.0;
        for j in b * BLOCK..end {
            let (v, e) = (*x.add(j), *w.add(j));
            if v >= cut && e >= wmin {
                s += e.get();
            }
        }
        *bsum.add(b) = s;
        total += s;
    }
    total
}

/// The first id of block-max `max` (the lowest id of the row's max): the first block whose max it
/// is, then that block.
///
/// # Safety
/// `x` valid for `n`, `bmax` for blocks(n); `max` is the max of some block.
pub unsafe fn first_of<E: Key>(x: *const E, n: usize, bmax: *const E, max: E) -> usize {
    let mut b = 0;
    while !(*bmax.add(b) == max) {
        b += 1;
    }
    let mut j = b * BLOCK;
    while j + 1 < n && !(*x.add(j) == max) {
        j += 1;
    }
    j
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod simd_f32 {
    use super::{blocks, BLOCK};
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn load(p: *const f32) -> v128 {
        v128_load(p as *const v128)
    }

    /// The largest of a vector's 4 lanes (pmax: NaN lanes are not looked for here).
    #[inline(always)]
    unsafe fn lane_max(v: v128) -> f32 {
        let h = f32x4_pmax(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let h = f32x4_pmax(h, i32x4_shuffle::<1, 0, 3, 2>(h, h));
        f32x4_extract_lane::<0>(h)
    }

    /// As the scalar pass, each block's 16 vectors reduced to 4 lane maxima (no chain from block
    /// to block but the running max), then to its scalar max. NaN is found by a sum instead of
    /// `x != x` per vector (one add per vector instead of a compare and an or): a NaN makes the
    /// lane's sum NaN, and so does only +∞ meeting −∞ (or sums overflowing both ways), which a
    /// rescan tells apart. pmax keeps its first operand when either is NaN, so the maxima of a
    /// row with a NaN are meaningless; such rows end at the flag.
    pub unsafe fn block_stats(x: *const f32, n: usize, bmax: *mut f32) -> (f32, bool) {
        let full = n / BLOCK;
        let mut top = f32x4_splat(f32::NEG_INFINITY);
        let (mut s0, mut s1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for b in 0..full {
            let bm = block_vector(x.add(b * BLOCK), &mut s0, &mut s1);
            top = f32x4_pmax(top, bm);
            *bmax.add(b) = lane_max(bm);
        }
        let mut max = lane_max(top);
        let s = f32x4_add(s0, s1);
        let mut nan = v128_any_true(f32x4_ne(s, s)) && has_nan(x, full * BLOCK);
        if full < blocks(n) {
            let (m, tail_nan) = super::block_stats_scalar(x.add(full * BLOCK), n - full * BLOCK, bmax.add(full));
            nan |= tail_nan;
            max = if max < m { m } else { max };
        }
        (max, nan)
    }

    /// As block_stats, but each block's max stays a vector of 4 lane maxima, stored (the last,
    /// partial block's scalar max in every lane): greedy needs the blocks only to find the
    /// first id of the max, and reducing each to a scalar cost about half as much as the loads.
    pub unsafe fn greedy_stats(x: *const f32, n: usize, vmax: *mut f32) -> (f32, bool) {
        let full = n / BLOCK;
        let mut top = f32x4_splat(f32::NEG_INFINITY);
        let (mut s0, mut s1) = (f32x4_splat(0.0), f32x4_splat(0.0));
        for b in 0..full {
            let bm = block_vector(x.add(b * BLOCK), &mut s0, &mut s1);
            top = f32x4_pmax(top, bm);
            v128_store(vmax.add(4 * b) as *mut v128, bm);
        }
        let mut max = lane_max(top);
        let s = f32x4_add(s0, s1);
        let mut nan = v128_any_true(f32x4_ne(s, s)) && has_nan(x, full * BLOCK);
        if full < blocks(n) {
            let mut m = f32::NEG_INFINITY;
            let (tm, tail_nan) = super::block_stats_scalar(x.add(full * BLOCK), n - full * BLOCK, &mut m);
            v128_store(vmax.add(4 * full) as *mut v128, f32x4_splat(tm));
            nan |= tail_nan;
            max = if max < tm { tm } else { max };
        }
        (max, nan)
    }

    /// The first block with a lane maximum equal to `max`, then its first id of `max`.
    pub unsafe fn greedy_first(x: *const f32, n: usize, vmax: *const f32, max: f32) -> usize {
        let m = f32x4_splat(max);
        let mut b = 0;
        while !v128_any_true(f32x4_eq(v128_load(vmax.add(4 * b) as *const v128), m)) {
            b += 1;
        }
        let mut j = b * BLOCK;
        while j + 1 < n && !(*x.add(j) == max) {
            j += 1;
        }
        j
    }

    /// One block's 4 lane maxima, its 16 vectors added into the NaN sums: two halves of 8 vectors,
    /// each a tree (no chain of dependent maxima; 8 live vectors fit V8's 16 registers).
    #[inline(always)]
    unsafe fn block_vector(p: *const f32, s0: &mut v128, s1: &mut v128) -> v128 {
        let half = |p: *const f32, s: &mut v128| {
            let (v0, v1, v2, v3) = (load(p), load(p.add(4)), load(p.add(8)), load(p.add(12)));
            let (v4, v5, v6, v7) = (load(p.add(16)), load(p.add(20)), load(p.add(24)), load(p.add(28)));
            let m = f32x4_pmax(f32x4_pmax(f32x4_pmax(v0, v1), f32x4_pmax(v2, v3)), f32x4_pmax(f32x4_pmax(v4, v5), f32x4_pmax(v6, v7)));
            let a = f32x4_add(f32x4_add(f32x4_add(v0, v1), f32x4_add(v2, v3)), f32x4_add(f32x4_add(v4, v5), f32x4_add(v6, v7)));
            *s = f32x4_add(*s, a);
            m
        };
        let h0 = half(p, s0);
        let h1 = half(p.add(32), s1);
        f32x4_pmax(h0, h1)
    }

    /// Whether x holds a NaN (the exact check behind block_stats' sum).
    unsafe fn has_nan(x: *const f32, n: usize) -> bool {
        let mut j = 0;
        while j + 4 <= n {
            let v = load(x.add(j));
            if v128_any_true(f32x4_ne(v, v)) {
                return true;
            }
            j += 4;
        }
        false
    }

    pub unsafe fn collect(x: *const f32, n: usize, bmax: *const f32, lo: f32, hi: f32, ids: *mut u32) -> usize {
        let full = n / BLOCK;
        let (l, h) = (f32x4_splat(lo), f32x4_splat(hi));
        let mut count = 0;
        for b in 0..full {
            if !bmax.is_null() && !(*bmax.add(b) >= lo) {
                continue;
            }
            let p = x.add(b * BLOCK);
            let mut j = 0;
            while j < BLOCK {
                let v = load(p.add(j));
                let hit = v128_and(f32x4_ge(v, l), f32x4_lt(v, h));
                if v128_any_true(hit) {
                    let bits = i32x4_bitmask(hit);
                    for lane in 0..4 {
                        if bits & (1 << lane) != 0 {
                            *ids.add(count) = (b * BLOCK + j + lane) as u32;
                            count += 1;
                        }
                    }
                }
                j += 4;
            }
        }
        if full < blocks(n) {
            let start = full * BLOCK;
            for j in start..n {
                let v = *x.add(j);
                if v >= lo && v < hi {
                    *ids.add(count) = j as u32;
                    count += 1;
                }
            }
        }
        count
    }

    /// The buckets of 4 weights at once (a shift and a clamp in lanes) and their float64 values
    /// (two promotions), then 4 scalar additions, alternating between the two histograms.
    pub unsafe fn histogram(w: *const f32, n: usize, sums: *mut f64, other: *mut f64) -> usize {
        let top = u32x4_splat(2047);
        let mut j = 0;
        while j + 4 <= n {
            let v = load(w.add(j));
            let b = u32x4_min(u32x4_shr(v, 19), top);
            let lo = f64x2_promote_low_f32x4(v);
            let hi = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(v, v));
            *sums.add(u32x4_extract_lane::<0>(b) as usize) += f64x2_extract_lane::<0>(lo);
            *other.add(u32x4_extract_lane::<1>(b) as usize) += f64x2_extract_lane::<1>(lo);
            *sums.add(u32x4_extract_lane::<2>(b) as usize) += f64x2_extract_lane::<0>(hi);
            *other.add(u32x4_extract_lane::<3>(b) as usize) += f64x2_extract_lane::<1>(hi);
            j += 4;
        }
        j
    }

    /// Each block's kept weights summed in float32 lanes (pairwise within a 16-element step, at
    /// most 6 roundings per term: a relative error below 6·2^-24 of the block sum), the block sums
    /// in float64.
    pub unsafe fn kept_sums(x: *const f32, w: *const f32, n: usize, cut: f32, wmin: f32, bsum: *mut f64) -> f64 {
        let full = n / BLOCK;
        let (c, m) = (f32x4_splat(cut), f32x4_splat(wmin));
        let mut total = 0.0;
        for b in 0..full {
            let (px, pw) = (x.add(b * BLOCK), w.add(b * BLOCK));
            let mut t = f32x4_splat(0.0);
            let mut j = 0;
            while j < BLOCK {
                let mut s = [f32x4_splat(0.0); 4];
                for (q, slot) in s.iter_mut().enumerate() {
                    let v = load(px.add(j + 4 * q));
                    let e = load(pw.add(j + 4 * q));
                    *slot = v128_and(e, v128_and(f32x4_ge(v, c), f32x4_ge(e, m)));
                }
                t = f32x4_add(t, f32x4_add(f32x4_add(s[0], s[1]), f32x4_add(s[2], s[3])));
                j += 16;
            }
            let lo = f64x2_promote_low_f32x4(t);
            let hi = f64x2_promote_low_f32x4(i32x4_shuffle::<2, 3, 2, 3>(t, t));
            let s2 = f64x2_add(lo, hi);
            let s = f64x2_extract_lane::<0>(s2) + f64x2_extract_lane::<1>(s2);
            *bsum.add(b) = s;
            total += s;
        }
        if full < blocks(n) {
            let start = full * BLOCK;
            total += super::kept_sums_scalar(x.add(start), w.add(start), n - start, cut, wmin, bsum.add(full));
        }
        total
    }
}
