//! `sample`: one token per row, as @softmax/core's reference-sample.ts defines it (penalties →
//! bias → mask → temperature → top-k → top-p → min-p → draw), without sorting the row.
//!
//! Per row:
//! 1. With a history, biases or a mask, a processed copy of the row in scratch (the mask applied
//!    while copying, then only the history's and biases' ids patched); else the caller's row as it
//!    is. The caller's logits are never written.
//! 2. One pass: the max, a NaN flag and each block's max (argmax.rs). NaN, an empty row and +∞
//!    rows end here; greedy takes the first id of the max (its block found from the block maxima).
//! 3. Top-k: the k-th largest block max is a lower bound of the k-th largest logit (k distinct
//!    blocks reach it), so one pass collects the ids at or above it (skipping every block below)
//!    and a radix select over those few finds the k-th value; every id ≥ it is kept (ties kept).
//!    A kept list of at most LIST ids is finished on the list in float64 (exp64): sorted, top-p
//!    walked group by group, min-p, the draw.
//! 4. Otherwise (no top-k, or a long top-k list) the row path. Top-p alone on a long row first
//!    tries a list of the row's top (sample/top_p.rs): a threshold estimated from a sample of
//!    blocks, then one pass that sums every weight and lists the ids above it; the cut and the
//!    draw are found in that list when it provably holds the cut. Else one exp pass stores
//!    w = e^((x − s)/T) (exp32's shifted weights; ratios are unchanged), top-p by a histogram of the
//!    logits' key bits with per-bucket weight sums (one scalar pass), the crossing bucket's ids
//!    collected and refined (select.rs), min-p as w ≥ minP·e^((max − s)/T); one pass sums the kept
//!    weights per block and the draw walks the block sums, then one block.
//! 5. topLogprobs n: the n-th largest block max again bounds a small candidate list, which alone is
//!    sorted.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::argmax::{blocks, Passes, BLOCK};
use crate::exp32::Exp32;
use crate::exp64::exp64;
use crate::log64::ln64;
use crate::select::{kth_largest, weighted_cut, Key, HIST};

mod top_p;
mod weights;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::scalar32 as passes;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::simd32 as passes;

/// SAMPLE_NO_TOKEN of @softmax/core.
pub const NO_TOKEN_NAN: i32 = -1;
pub const NO_TOKEN_EMPTY: i32 = -2;

/// Kept lists up to this long are finished as lists; longer ones take the row path.
pub const LIST: usize = HIST;

/// Float64s per row of the settings table: T, topK, topP, minP, repetition, presence, frequency,
/// u, then the row's history (id, count) pairs' and biases' (id, value) pairs' [start, end) in the
/// pairs table.
pub const TABLE: usize = 12;

/// Bytes of the scratch block's header: the slot count, then one busy flag per slot.
pub const HEADER: usize = 256;
/// Most slots a scratch block has (one per thread that may run a kernel at once).
pub const MAX_SLOTS: usize = HEADER / 4 - 1;

/// An element type of `sample`.
pub trait Float: Passes {
    /// The histogram bucket of a weight w ∈ [0, 2): its float bits' top 11 below the sign.
    fn bucket(self) -> usize;
    /// The smallest weight of bucket b.
    fn bucket_start(b: usize) -> Self;
    /// w_j = e^((x_j − s)/T) for some s ≤ max (0 for −∞): returns (Σ w, (max − s)/T).
    ///
    /// # Safety
    /// `x`, `w` valid for `n`.
    unsafe fn weights(x: *const Self, w: *mut Self, n: usize, max: Self, t: f64) -> (f64, f64);
    /// The list path's weights w_j = e^((x_j − max)/T) (float32: weights.rs, less exact): Σ w.
    ///
    /// # Safety
    /// `x`, `w` valid for `n`.
    unsafe fn list_weights(x: *const Self, w: *mut Self, n: usize, max: Self, t: f64) -> Option<f64>;
    /// The list path's pass (top_p.rs): Σ of `list_weights`' weights over the row, summed as it
    /// sums them, with every id of x ≥ tau listed in `ids` and only their weights stored in `w`:
    /// (Σ w, count), or None where `list_weights` declines.
    ///
    /// # Safety
    /// `x`, `w`, `ids` valid for `n`, `bmax` the row's block maxima.
    #[allow(clippy::too_many_arguments)]
    unsafe fn sum_listing(x: *const Self, n: usize, bmax: *const Self, max: Self, t: f64, tau: Self, ids: *mut u32, w: *mut Self) -> Option<(f64, usize)>;
    /// The weights `sum_listing` stores, at the `m` ids in `ids` only (a list widened after it):
    /// each stored at w[id]; returns their Σ.
    ///
    /// # Safety
    /// `x`, `w` valid at the ids; `t` a temperature `sum_listing` took.
    unsafe fn weights_at(x: *const Self, ids: *const u32, m: usize, max: Self, t: f64, w: *mut Self) -> f64;
}

impl Float for f32 {
    #[inline(always)]
    fn bucket(self) -> usize {
        self.weight_bucket()
    }
    fn bucket_start(b: usize) -> f32 {
        f32::from_bits((b as u32) << 19)
    }
    unsafe fn weights(x: *const f32, w: *mut f32, n: usize, max: f32, t: f64) -> (f64, f64) {
        match Exp32::new(max, t) {
            Some(c) if t == 1.0 => (passes::exp_store_sum::<false>(x, w, n, &c), c.log_shift(t)),
            Some(c) => (passes::exp_store_sum::<true>(x, w, n, &c), c.log_shift(t)),
            None => weights_f64(x, w, n, max, t),
        }
    }
    unsafe fn list_weights(x: *const f32, w: *mut f32, n: usize, max: f32, t: f64) -> Option<f64> {
        if !(weights::T_MIN..=weights::T_MAX).contains(&t) {
            return None;
        }
        Some(weights::store_sum(x, w, n, max, weights::k_of(t)))
    }
    unsafe fn sum_listing(x: *const f32, n: usize, bmax: *const f32, max: f32, t: f64, tau: f32, ids: *mut u32, w: *mut f32) -> Option<(f64, usize)> {
        if !(weights::T_MIN..=weights::T_MAX).contains(&t) {
            return None;
        }
        Some(weights::sum_listing(x, n, bmax, max, weights::k_of(t), tau, ids, w))
    }
    unsafe fn weights_at(x: *const f32, ids: *const u32, m: usize, max: f32, t: f64, w: *mut f32) -> f64 {
        let k = weights::k_of(t);
        weights::at_ids(ids, m, w, |j| weights::weight(*x.add(j), max, k))
    }
}

impl Float for f64 {
    #[inline(always)]
    fn bucket(self) -> usize {
        self.weight_bucket()
    }
    fn bucket_start(b: usize) -> f64 {
        f64::from_bits((b as u64) << 51)
    }
    unsafe fn weights(x: *const f64, w: *mut f64, n: usize, max: f64, t: f64) -> (f64, f64) {
        weights_f64(x, w, n, max, t)
    }
    unsafe fn list_weights(x: *const f64, w: *mut f64, n: usize, max: f64, t: f64) -> Option<f64> {
        Some(weights_f64(x, w, n, max, t).0)
    }
    unsafe fn sum_listing(x: *const f64, n: usize, _bmax: *const f64, max: f64, t: f64, tau: f64, ids: *mut u32, w: *mut f64) -> Option<(f64, usize)> {
        Some(weights::list_scalar(x, 0, n, tau, ids, w, (0.0, 0), |v| weight_f64(v, max, t)))
    }
    unsafe fn weights_at(x: *const f64, ids: *const u32, m: usize, max: f64, t: f64, w: *mut f64) -> f64 {
        weights::at_ids(ids, m, w, |j| weight_f64(*x.add(j), max, t))
    }
}

/// One weight of `weights_f64`.
#[inline(always)]
fn weight_f64(v: f64, max: f64, t: f64) -> f64 {
    if v == f64::NEG_INFINITY {
        0.0
    } else {
        exp64((v - max) / t)
    }
}

/// e^((x − max)/T) in float64, stored in the element type.
unsafe fn weights_f64<E: Key>(x: *const E, w: *mut E, n: usize, max: E, t: f64) -> (f64, f64) {
    let m = max.get();
    let mut s = 0.0;
    for j in 0..n {
        let e = E::put(weight_f64((*x.add(j)).get(), m, t));
        *w.add(j) = e;
        s += e.get();
    }
    (s, 0.0)
}

/// One row's settings, from the table.
#[derive(Clone, Copy)]
pub struct Settings {
    pub t: f64,
    pub top_k: f64,
    pub top_p: f64,
    pub min_p: f64,
    pub rep: f64,
    pub pres: f64,
    pub freq: f64,
    pub u: f64,
    pub history: (usize, usize),
    pub bias: (usize, usize),
}

impl Settings {
    /// # Safety
    /// `p` valid for TABLE float64s.
    pub unsafe fn read(p: *const f64) -> Settings {
        let g = |i: usize| *p.add(i);
        Settings {
            t: g(0),
            top_k: g(1),
            top_p: g(2),
            min_p: g(3),
            rep: g(4),
            pres: g(5),
            freq: g(6),
            u: g(7),
            history: (g(8) as usize, g(9) as usize),
            bias: (g(10) as usize, g(11) as usize),
        }
    }
}

/// Where one row's outputs go (null: not asked).
#[derive(Clone, Copy)]
pub struct Out {
    pub token: *mut i32,
    pub logprob: *mut f32,
    pub top_ids: *mut i32,
    pub top_lps: *mut f32,
    pub top_n: usize,
}

impl Out {
    unsafe fn finish(&self, token: i32, logprob: f64) {
        *self.token = token;
        if !self.logprob.is_null() {
            *self.logprob = logprob as f32;
        }
    }
    /// Entry r of `top` (the n most probable ids).
    unsafe fn top(&self, r: usize, id: i32, logprob: f64) {
        *self.top_ids.add(r) = id;
        *self.top_lps.add(r) = logprob as f32;
    }
    /// Entries from r on: −1 and −∞ (past the kept set).
    unsafe fn top_rest(&self, from: usize) {
        if self.top_ids.is_null() {
            return;
        }
        for r in from..self.top_n {
            self.top(r, -1, f64::NEG_INFINITY);
        }
    }
}

/// A slot of scratch for rows of `cols` elements of E (see `scratch_bytes`).
pub struct Scratch<E> {
    proc: *mut E,
    w: *mut E,
    ids: *mut u32,
    pairs: *mut [u64; 2],
    bmax: *mut E,
    bsum: *mut f64,
    sums: *mut [f64; HIST],
    counts: *mut [u32; HIST],
}

const fn align(n: usize) -> usize {
    n.div_ceil(16) * 16
}

/// The byte offsets of a slot's parts and its size: processed row, weights, ids, pairs, block
/// maxima, block sums, histogram sums and counts.
const fn layout(cols: usize, bytes: usize) -> [usize; 9] {
    let nb = blocks(cols);
    let mut o = [0usize; 9];
    o[1] = align(cols * bytes);
    o[2] = o[1] + align(cols * bytes);
    o[3] = o[2] + align(cols * 4);
    o[4] = o[3] + cols * 16;
    o[5] = o[4] + align(nb * bytes);
    o[6] = o[5] + nb * 8;
    o[7] = o[6] + HIST * 8;
    o[8] = o[7] + HIST * 4;
    o
}

/// Bytes of one scratch slot for rows of `cols` elements of `bytes` bytes.
pub const fn scratch_bytes(cols: usize, bytes: usize) -> usize {
    layout(cols, bytes)[8]
}

impl<E: Float> Scratch<E> {
    unsafe fn at(base: *mut u8, cols: usize) -> Scratch<E> {
        let o = layout(cols, core::mem::size_of::<E>());
        Scratch {
            proc: base as *mut E,
            w: base.add(o[1]) as *mut E,
            ids: base.add(o[2]) as *mut u32,
            pairs: base.add(o[3]) as *mut [u64; 2],
            bmax: base.add(o[4]) as *mut E,
            bsum: base.add(o[5]) as *mut f64,
            sums: base.add(o[6]) as *mut [f64; HIST],
            counts: base.add(o[7]) as *mut [u32; HIST],
        }
    }
}

/// Holds one slot of a scratch block for a kernel call: slots are claimed by an atomic flag, so
/// kernel calls on several threads at once (at most the slot count) each get their own.
pub struct Slot {
    flag: *const AtomicU32,
    pub base: *mut u8,
}

impl Slot {
    /// # Safety
    /// `block` is a scratch block: HEADER bytes (slot count, then flags, zero when free), then
    /// that many slots of `slot_bytes`.
    pub unsafe fn claim(block: *mut u8, slot_bytes: usize) -> Slot {
        let count = (*(block as *const u32) as usize).clamp(1, MAX_SLOTS);
        loop {
            for s in 0..count {
                let flag = &*(block.add(4 + 4 * s) as *const AtomicU32);
                if flag.compare_exchange(0, 1, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                    return Slot { flag, base: block.add(HEADER + s * slot_bytes) };
                }
            }
            core::hint::spin_loop();
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        unsafe { (*self.flag).store(0, Ordering::Release) }
    }
}

/// Whether mask word bits allow id j.
#[inline(always)]
unsafe fn allowed(mask: *const u32, j: usize) -> bool {
    (*mask.add(j >> 5) >> (j & 31)) & 1 != 0
}

/// The processed row: the mask applied while copying, then penalties and biases at their ids.
unsafe fn process<E: Float>(x: *const E, cols: usize, s: &Settings, pairs: *const f64, mask: *const u32, out: *mut E) {
    if mask.is_null() {
        core::ptr::copy_nonoverlapping(x, out, cols);
    } else {
        let mut j = 0;
        while j < cols {
            let end = if j + 32 < cols { j + 32 } else { cols };
            let word = *mask.add(j >> 5);
            if word == u32::MAX {
                core::ptr::copy_nonoverlapping(x.add(j), out.add(j), end - j);
            } else {
                for i in j..end {
                    *out.add(i) = if (word >> (i & 31)) & 1 != 0 { *x.add(i) } else { E::NEG_INF };
                }
            }
            j = end;
        }
    }
    let ok = |j: usize| mask.is_null() || allowed(mask, j);
    // Penalties in float64 from the caller's logit (HF's repetition, then OpenAI's two).
    for h in s.history.0..s.history.1 {
        let (j, count) = (*pairs.add(2 * h) as usize, *pairs.add(2 * h + 1));
        if !ok(j) {
            continue;
        }
        let mut v = (*x.add(j)).get();
        if s.rep != 1.0 {
            v = if v < 0.0 { v * s.rep } else { v / s.rep };
        }
        *out.add(j) = E::put(v - count * s.freq - s.pres);
    }
    for b in s.bias.0..s.bias.1 {
        let (j, value) = (*pairs.add(2 * b) as usize, *pairs.add(2 * b + 1));
        if ok(j) {
            *out.add(j) = E::put((*out.add(j)).get() + value);
        }
    }
}

/// One row: its token, log-probability and top entries into `o`.
///
/// # Safety
/// `x` valid for `cols`; `pairs`, `mask` (or null) as the settings and cols need; `sc` a slot.
pub unsafe fn sample_row<E: Float>(x: *const E, cols: usize, s: &Settings, pairs: *const f64, mask: *const u32, sc: &Scratch<E>, o: &Out) {
    let src = if s.history.1 > s.history.0 || s.bias.1 > s.bias.0 || !mask.is_null() {
        process(x, cols, s, pairs, mask, sc.proc);
        sc.proc as *const E
    } else {
        x
    };
    // Greedy needs the blocks only to find the max's first id (see Passes::greedy_stats); the
    // weights' memory is free then and holds 4·blocks(cols) elements.
    let (max, nan) = if s.t == 0.0 { E::greedy_stats(src, cols, sc.w) } else { E::block_stats(src, cols, sc.bmax) };
    if nan {
        o.finish(NO_TOKEN_NAN, 0.0);
        o.top_rest(0);
        return;
    }
    if max == E::NEG_INF {
        o.finish(NO_TOKEN_EMPTY, 0.0);
        o.top_rest(0);
        return;
    }
    if max == E::INF {
        return infinite_row(src, cols, s, sc, o);
    }
    if s.t == 0.0 {
        let token = E::greedy_first(src, cols, sc.w, max);
        o.finish(token as i32, 0.0);
        if o.top_n > 0 && !o.top_ids.is_null() {
            o.top(0, token as i32, 0.0);
            o.top_rest(1);
        }
        return;
    }
    // Top-k: the kept list, or the row path's floor.
    let mut floor = E::LOWEST;
    if s.top_k >= 1.0 {
        let k = if s.top_k > cols as f64 { cols } else { s.top_k as usize };
        let (count, bounded) = candidates(src, cols, k, E::LOWEST, sc);
        // Off when k reaches the finite ids (every one kept).
        if k < count || (bounded && count > 0) {
            let pairs = core::slice::from_raw_parts_mut(sc.pairs, count);
            for i in 0..count {
                let id = *sc.ids.add(i);
                pairs[i] = [(*src.add(id as usize)).key(), id as u64];
            }
            let vk = E::from_key(kth_largest(pairs, k, &mut *sc.counts));
            let mut m = 0;
            for i in 0..count {
                let id = *sc.ids.add(i);
                if *src.add(id as usize) >= vk {
                    *sc.ids.add(m) = id;
                    m += 1;
                }
            }
            if m <= LIST {
                return list_row(src, m, max, s, sc, o);
            }
            floor = vk;
        }
    }
    row_path(src, cols, max, floor, s, sc, o);
}

/// Collects into `sc.ids` (ascending) every id ≥ the k-th largest value above `floor`, and
/// perhaps a few more: the ids ≥ the k-th largest block max when k blocks have one (at least k
/// ids, since k blocks reach it), else every id ≥ floor. Returns how many, and whether the
/// block bound was used (then the list holds at least k ids).
unsafe fn candidates<E: Float>(src: *const E, cols: usize, k: usize, floor: E, sc: &Scratch<E>) -> (usize, bool) {
    let nb = blocks(cols);
    let pairs = core::slice::from_raw_parts_mut(sc.pairs, nb);
    let mut m = 0;
    for b in 0..nb {
        let v = *sc.bmax.add(b);
        if v >= floor {
            pairs[m] = [v.key(), 0];
            m += 1;
        }
    }
    let bounded = k <= m;
    let lo = if bounded { E::from_key(kth_largest(&mut pairs[..m], k, &mut *sc.counts)) } else { floor };
    (E::collect(src, cols, sc.bmax, lo, E::INF, sc.ids), bounded)
}

/// A row with +∞ logits: they share the probability equally; greedy takes the first.
unsafe fn infinite_row<E: Float>(src: *const E, cols: usize, s: &Settings, sc: &Scratch<E>, o: &Out) {
    let mut m = 0;
    for j in 0..cols {
        if *src.add(j) == E::INF {
            *sc.ids.add(m) = j as u32;
            m += 1;
        }
    }
    if s.t == 0.0 {
        o.finish(*sc.ids as i32, 0.0);
        if o.top_n > 0 && !o.top_ids.is_null() {
            o.top(0, *sc.ids as i32, 0.0);
            o.top_rest(1);
        }
        return;
    }
    // Weights 1: the first id whose cumulative count exceeds u·m.
    let mut i = (s.u * m as f64) as usize;
    if i >= m {
        i = m - 1;
    }
    let lp = -ln64(m as f64);
    o.finish(*sc.ids.add(i) as i32, lp);
    if !o.top_ids.is_null() {
        let n = if o.top_n < m { o.top_n } else { m };
        for r in 0..n {
            o.top(r, *sc.ids.add(r) as i32, lp);
        }
        o.top_rest(n);
    }
}

/// A top-k list of `m` ids (ascending in `sc.ids`), finished in float64 as the reference does.
unsafe fn list_row<E: Float>(src: *const E, m: usize, max: E, s: &Settings, sc: &Scratch<E>, o: &Out) {
    let mx = max.get();
    let z = |id: u32| ((*src.add(id as usize)).get() - mx) / s.t;
    // Most probable first, ties by ascending id.
    let ranked = core::slice::from_raw_parts_mut(sc.pairs, m);
    for i in 0..m {
        let id = *sc.ids.add(i);
        ranked[i] = [!(*src.add(id as usize)).key(), id as u64];
    }
    ranked.sort_unstable();
    // The weights in ranked order (the walk's) and in id order (the draw's), float64.
    let wr = core::slice::from_raw_parts_mut(sc.sums as *mut f64, m);
    let mut total = 0.0;
    for i in 0..m {
        wr[i] = exp64(z(ranked[i][1] as u32));
        total += wr[i];
    }
    // Top-p: whole groups of equal logits until the cumulative reaches topP·total.
    let mut cut_key = !ranked[m - 1][0];
    if s.top_p < 1.0 {
        let target = s.top_p * total;
        let mut cum = 0.0;
        let mut i = 0;
        while i < m {
            let key = ranked[i][0];
            while i < m && ranked[i][0] == key {
                cum += wr[i];
                i += 1;
            }
            if cum >= target {
                cut_key = !key;
                break;
            }
        }
    }
    let cut = E::from_key(cut_key);
    let keep = |id: u32, w: f64| *src.add(id as usize) >= cut && w >= s.min_p;
    // The draw, in ascending id order.
    let mut kept_total = 0.0;
    let mut last = 0u32;
    for i in 0..m {
        let id = *sc.ids.add(i);
        let w = exp64(z(id));
        if keep(id, w) {
            kept_total += w;
            last = id;
        }
    }
    let target = s.u * kept_total;
    let mut cum = 0.0;
    let mut token = last;
    for i in 0..m {
        let id = *sc.ids.add(i);
        let w = exp64(z(id));
        if !keep(id, w) {
            continue;
        }
        if cum + w > target {
            token = id;
            break;
        }
        cum += w;
    }
    let log_total = ln64(kept_total);
    o.finish(token as i32, z(token) - log_total);
    if !o.top_ids.is_null() {
        let mut r = 0;
        let mut i = 0;
        while r < o.top_n && i < m {
            let id = ranked[i][1] as u32;
            if keep(id, wr[i]) {
                o.top(r, id as i32, z(id) - log_total);
                r += 1;
            }
            i += 1;
        }
        o.top_rest(r);
    }
}

/// The whole-row path: the top-p cut from a list of the row's top (top_p.rs, on the weights of
/// weights.rs), else weights stored by exp32, the cut from a whole-row histogram, min-p, and the
/// draw by blocks.
unsafe fn row_path<E: Float>(src: *const E, cols: usize, max: E, floor: E, s: &Settings, sc: &Scratch<E>, o: &Out) {
    // A top-k floor zeroes weights below it, so the list path (whose total is the row's) takes none.
    if s.top_p < 1.0 && floor == E::LOWEST && (s.min_p == 0.0 || s.min_p >= weights::MIN_P) && cols / BLOCK >= top_p::SAMPLED {
        if let Some(bucket) = top_p::threshold(src, cols, max, s, sc) {
            let tau = top_p::tau_of(bucket, max, s);
            if let Some((sum, count)) = E::sum_listing(src, cols, sc.bmax, max, s.t, tau, sc.ids, sc.w) {
                let list = top_p::List { count, bucket };
                if let Some((cut, count)) = top_p::list_cut(src, cols, max, sum, list, s, sc) {
                    let wmin = E::put(s.min_p);
                    let (token, total) = top_p::draw_listed(src, count, cut, wmin, s.u, sc);
                    return finish_row(src, cols, max, cut, wmin, token, total, 0.0, s, sc, o);
                }
            }
        }
    }
    let (_, log_shift) = E::weights(src, sc.w, cols, max, s.t);
    let cut = if s.top_p < 1.0 { top_p_cut(src, cols, floor, s.top_p, sc) } else { floor };
    // Min-p: e^((x − max)/T) ≥ minP, i.e. the shifted weight ≥ minP·e^((max − s)/T).
    let wmin = if s.min_p > 0.0 { E::put(s.min_p * exp64(log_shift)) } else { E::put(0.0) };
    let (token, total) = draw_blocks(src, cols, cut, wmin, s.u, sc);
    finish_row(src, cols, max, cut, wmin, token, total, log_shift, s, sc, o)
}

/// The token's log-probability and the top entries: kept means x ≥ cut and w ≥ wmin (the stored
/// weights, shifted by log_shift), `total` the kept weights' sum.
#[allow(clippy::too_many_arguments)]
unsafe fn finish_row<E: Float>(
    src: *const E,
    cols: usize,
    max: E,
    cut: E,
    wmin: E,
    token: usize,
    total: f64,
    log_shift: f64,
    s: &Settings,
    sc: &Scratch<E>,
    o: &Out,
) {
    let keep = |j: usize| *src.add(j) >= cut && *sc.w.add(j) >= wmin;
    let mx = max.get();
    let log_total = ln64(total) - log_shift;
    let z = |j: usize| ((*src.add(j)).get() - mx) / s.t;
    o.finish(token as i32, z(token) - log_total);
    if !o.top_ids.is_null() && o.top_n > 0 {
        let n = o.top_n;
        let (count, _) = candidates(src, cols, n, cut, sc);
        let ranked = core::slice::from_raw_parts_mut(sc.pairs, count);
        for i in 0..count {
            let id = *sc.ids.add(i);
            ranked[i] = [!(*src.add(id as usize)).key(), id as u64];
        }
        if count > n {
            // Only the n first matter: select the n-th, then sort those above it.
            ranked.select_nth_unstable(n - 1);
        }
        let head = if count < n { count } else { n };
        ranked[..head].sort_unstable();
        let mut r = 0;
        for e in ranked[..head].iter() {
            let j = e[1] as usize;
            if keep(j) {
                o.top(r, j as i32, z(j) - log_total);
                r += 1;
            }
        }
        o.top_rest(r);
    }
}

/// The draw over the whole row: the kept weights' block sums, the block where u·total falls, then
/// that block. Returns the token and the kept total.
unsafe fn draw_blocks<E: Float>(src: *const E, cols: usize, cut: E, wmin: E, u: f64, sc: &Scratch<E>) -> (usize, f64) {
    let total = E::kept_sums(src, sc.w, cols, cut, wmin, sc.bsum);
    let keep = |j: usize| *src.add(j) >= cut && *sc.w.add(j) >= wmin;
    let target = u * total;
    let nb = blocks(cols);
    let mut cum = 0.0;
    let mut token = usize::MAX;
    let mut b = 0;
    while b < nb {
        let bs = *sc.bsum.add(b);
        if bs > 0.0 && cum + bs > target {
            break;
        }
        cum += bs;
        b += 1;
    }
    if b < nb {
        let end = if (b + 1) * BLOCK < cols { (b + 1) * BLOCK } else { cols };
        for j in b * BLOCK..end {
            if !keep(j) {
                continue;
            }
            token = j;
            let w = (*sc.w.add(j)).get();
            if cum + w > target {
                break;
            }
            cum += w;
        }
    }
    if token == usize::MAX || b >= nb {
        // Rounding put u·total past every block: the last kept id.
        let mut j = cols;
        while j > 0 {
            j -= 1;
            if keep(j) {
                token = j;
                break;
            }
        }
    }
    (token, total)
}

/// The top-p cut over the ids ≥ floor: the lowest logit kept. A histogram of the stored weights'
/// float bits (w < 2: 2048 buckets of an exponent and its top mantissa bits; w is monotone in x, so
/// a bucket is a range of logits) with per-bucket weight sums, two interleaved so that consecutive
/// ids of one bucket do not wait on each other's store; the bucket where the cumulative weight from
/// the top crosses topP·total; then only that bucket's ids, refined by `weighted_cut` on their
/// logits' keys (whole groups of equal logits).
unsafe fn top_p_cut<E: Float>(src: *const E, cols: usize, floor: E, top_p: f64, sc: &Scratch<E>) -> E {
    if floor > E::LOWEST {
        // A long top-k list: the ids below its threshold weigh nothing here.
        for j in 0..cols {
            if !(*src.add(j) >= floor) {
                *sc.w.add(j) = E::put(0.0);
            }
        }
    }
    let sums = &mut *sc.sums;
    // The second histogram lives in the pairs' memory (16·cols bytes ≥ HIST float64s when cols ≥ HIST).
    let two = cols >= HIST;
    let other = sc.pairs as *mut f64;
    sums.fill(0.0);
    let w = sc.w as *const E;
    let mut j = 0;
    if two {
        core::ptr::write_bytes(other, 0, HIST);
        j = E::histogram(w, cols, sums.as_mut_ptr(), other);
        for b in 0..HIST {
            sums[b] += *other.add(b);
        }
    }
    while j < cols {
        let v = *w.add(j);
        sums[v.bucket()] += v.get();
        j += 1;
    }
    let mut total = 0.0;
    for b in 0..HIST {
        total += sums[b];
    }
    let target = top_p * total;
    let mut above = 0.0;
    let mut b = HIST;
    let mut found = false;
    while b > 0 {
        b -= 1;
        if sums[b] > 0.0 && above + sums[b] >= target {
            found = true;
            break;
        }
        above += sums[b];
    }
    if !found {
        return floor;
    }
    // The bucket's weights [lo, hi), and its ids.
    let lo = E::bucket_start(b);
    let hi = if b + 1 < HIST { E::bucket_start(b + 1) } else { E::INF };
    let count = E::collect(w, cols, core::ptr::null(), lo, hi, sc.ids);
    if count == 0 {
        return floor;
    }
    let pairs = core::slice::from_raw_parts_mut(sc.pairs, count);
    for i in 0..count {
        let id = *sc.ids.add(i) as usize;
        pairs[i] = [(*src.add(id)).key(), (*w.add(id)).get().to_bits()];
    }
    let (key, _) = weighted_cut(pairs, target, above, sums);
    let cut = E::from_key(key);
    if cut >= floor {
        cut
    } else {
        floor
    }
}

/// The kernel over rows: each row's settings at `table + TABLE·r`, its mask at
/// `mask + mask_stride·r` words (null: none), one scratch slot for the call.
///
/// # Safety
/// Valid pointers for the shapes described; outputs null when not asked.
#[allow(clippy::too_many_arguments)]
pub unsafe fn sample_rows<E: Float>(
    x: *const E,
    out: Out,
    table: *const f64,
    pairs: *const f64,
    mask: *const u32,
    mask_words: usize,
    scratch: *mut u8,
    rows: usize,
    cols: usize,
) {
    let slot = Slot::claim(scratch, scratch_bytes(cols, core::mem::size_of::<E>()));
    let sc = Scratch::<E>::at(slot.base, cols);
    for r in 0..rows {
        let s = Settings::read(table.add(r * TABLE));
        let o = Out {
            token: out.token.add(r),
            logprob: if out.logprob.is_null() { out.logprob } else { out.logprob.add(r) },
            top_ids: if out.top_ids.is_null() { out.top_ids } else { out.top_ids.add(r * out.top_n) },
            top_lps: if out.top_lps.is_null() { out.top_lps } else { out.top_lps.add(r * out.top_n) },
            top_n: out.top_n,
        };
        let m = if mask.is_null() { mask } else { mask.add(r * mask_words) };
        sample_row(x.add(r * cols), cols, &s, pairs, m, &sc, &o);
    }
    drop(slot);
}
