//! Top-p on a long row without a whole-row histogram: the kept set is the row's top, usually a
//! small part of it (an LLM's top-p 0.95 keeps about 1% of 151,936 ids), so the cut is found in a
//! list of the ids above a threshold τ and the draw walks that list.
//!
//! τ comes from an estimate: the stored weights of every stride-th block (at least SAMPLED blocks)
//! go into the weight-bits histogram of sample.rs, scaled to the row, and the mass below each
//! bucket estimates the row's mass below it. The bucket where that estimate would pass
//! (1 − topP)·total is the estimated cut; τ is the logit of the bucket SAFETY below it. Only the
//! estimate is sampled: the list is every id with x ≥ τ (one SIMD pass, blocks below τ skipped by
//! their max), and it is used only when its exact mass reaches topP·total, i.e. when the cut
//! provably lies in it (every id above τ is listed, so walking the list from the top is walking
//! the row from the top). Otherwise (an estimate fooled by the row's layout, topP next to 1) the
//! caller takes the whole-row histogram, so the result never depends on the estimate, only the
//! time does.
//!
//! Numerics are the whole-row path's: the same stored float32 weights, the same total (their sum
//! from the weights pass, relative error below 5·2^-24), the walk by `weighted_cut` over whole
//! groups of equal logits in float64, and the draw's sums in float64.

use super::{Float, Scratch, Settings};
use crate::argmax::BLOCK;
use crate::log64::ln64;
use crate::select::{weighted_cut, Key, HIST};

/// Fewest blocks sampled (and so the shortest row, in blocks, this path takes).
const SAMPLED: usize = 32;
/// At most every STRIDE-th block is sampled (1/16 of the row's histogram cost).
const STRIDE: usize = 16;
/// Buckets (each a factor 1.125 of weight at most) between the estimated cut and τ, for the
/// estimate's sampling error.
const SAFETY: usize = 2;

/// The top-p cut and the list: `sc.ids[..count]` holds, ascending, every id with x ≥ the cut (and
/// more). None when the list's mass falls short of topP·`total` (the caller then histograms the
/// whole row). `total` is Σ w over the row and `log_shift` the weights' shift (sample.rs Float).
///
/// # Safety
/// `src`, `sc.w` (the row's stored weights) valid for `cols`; `sc` a slot for `cols`.
pub unsafe fn list_cut<E: Float>(src: *const E, cols: usize, max: E, total: f64, log_shift: f64, s: &Settings, sc: &Scratch<E>) -> Option<(E, usize)> {
    let full = cols / BLOCK;
    if full < SAMPLED {
        return None;
    }
    let stride = (full / SAMPLED).min(STRIDE);
    let w = sc.w as *const E;
    let sums = &mut *sc.sums;
    sums.fill(0.0);
    // The second histogram in the pairs' memory (16·cols bytes ≥ HIST float64s here).
    let other = sc.pairs as *mut f64;
    core::ptr::write_bytes(other, 0, HIST);
    let mut sampled = 0usize;
    let mut b = 0;
    while b < full {
        let p = w.add(b * BLOCK);
        let done = E::histogram(p, BLOCK, sums.as_mut_ptr(), other);
        for j in done..BLOCK {
            let v = *p.add(j);
            sums[v.bucket()] += v.get();
        }
        sampled += BLOCK;
        b += stride;
    }
    for i in 0..HIST {
        sums[i] += *other.add(i);
    }
    // The estimated cut c: the estimated mass below it within (1 − topP)·total, below c + 1 not.
    let scale = cols as f64 / sampled as f64;
    let limit = (1.0 - s.top_p) * total;
    let mut below = 0.0;
    let mut c = 0;
    while c < HIST {
        let next = below + scale * sums[c];
        if next > limit {
            break;
        }
        below = next;
        c += 1;
    }
    // Bucket 0 starts at weight 0: the whole row, which the histogram path does faster.
    if c <= SAFETY {
        return None;
    }
    let tau = logit_of(E::bucket_start(c - SAFETY).get(), max, log_shift, s.t);
    let count = E::collect(src, cols, sc.bmax, E::put(tau), E::INF, sc.ids);
    if count == 0 {
        return None;
    }
    let pairs = core::slice::from_raw_parts_mut(sc.pairs, count);
    let mut listed = 0.0;
    for i in 0..count {
        let id = *sc.ids.add(i) as usize;
        let v = (*w.add(id)).get();
        pairs[i] = [(*src.add(id)).key(), v.to_bits()];
        listed += v;
    }
    let target = s.top_p * total;
    if !(listed >= target) {
        return None;
    }
    let (key, _) = weighted_cut(pairs, target, 0.0, sums);
    Some((E::from_key(key), count))
}

/// The logit whose weight is `v` > 0: w = e^((x − max)/T + log_shift), so x = max + T·(ln v −
/// log_shift). Only a threshold's guess: its rounding moves τ, not the result.
fn logit_of(v: f64, max: impl Key, log_shift: f64, t: f64) -> f64 {
    // ln v = e·ln2 + ln m, m ∈ [1, 2) (ln64 wants an argument ≥ 1).
    let bits = v.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let ln = ln64(m) + e as f64 * core::f64::consts::LN_2;
    max.get() + t * (ln - log_shift)
}

/// The draw over the list `sc.ids[..count]` (ascending, every kept id in it): the first kept id
/// at which the cumulative kept weight exceeds u·(the kept total). Returns the token and the total.
///
/// # Safety
/// As `list_cut`, after it.
pub unsafe fn draw_listed<E: Float>(src: *const E, count: usize, cut: E, wmin: E, u: f64, sc: &Scratch<E>) -> (usize, f64) {
    let ids = core::slice::from_raw_parts(sc.ids, count);
    let weight = |id: u32| {
        let j = id as usize;
        let v = *sc.w.add(j);
        if *src.add(j) >= cut && v >= wmin {
            v.get()
        } else {
            -1.0
        }
    };
    let mut total = 0.0;
    let mut last = 0;
    for &id in ids {
        let v = weight(id);
        if v >= 0.0 {
            total += v;
            last = id;
        }
    }
    let target = u * total;
    let mut cum = 0.0;
    for &id in ids {
        let v = weight(id);
        if v < 0.0 {
            continue;
        }
        if cum + v > target {
            return (id as usize, total);
        }
        cum += v;
    }
    // Rounding put u·total past the last kept id's end.
    (last as usize, total)
}
