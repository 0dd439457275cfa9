//! Top-p on a long row without a whole-row histogram: the kept set is the row's top, usually a
//! small part of it (an LLM's top-p 0.95 keeps about 1% of 151,936 ids), so the cut is found in a
//! list of the ids above a threshold τ and the draw walks that list.
//!
//! τ comes from an estimate made before the row's weights (`threshold`): the weights of every
//! stride-th block (at least SAMPLED blocks) go into the weight-bits histogram of sample.rs,
//! scaled to the row, with every block's max counted exactly instead; the mass below each bucket
//! estimates the row's mass below it. The bucket where that estimate would pass (1 − topP)·(the
//! estimated total) is the estimated cut; τ is the logit of the bucket SAFETY below it. Then one
//! pass (Float::sum_listing) sums every weight and lists every id with x ≥ τ with its weight
//! (blocks below τ not searched), so the row is read once more and no weight is stored but the
//! listed ones. Only the estimate is sampled: the list is used only when its exact mass reaches
//! topP·total, i.e. when the cut provably lies in it (every id above τ is listed, so walking the
//! list from the top is walking the row from the top). A list that falls short is widened: τ
//! lowered, the ids between the new and the old τ collected by a comparing pass and merged in
//! (`list_cut`), a few times at most; then (an estimate fooled by the row's layout, topP next to
//! 1) the caller takes the whole-row histogram. So the result never depends on the estimate, only
//! the time does.
//!
//! Numerics are the whole-row path's: float32 weights (weights.rs), their total summed as
//! `list_weights` sums it (relative error below 5·2^-24), the walk by `weighted_cut` over whole
//! groups of equal logits in float64, and the draw's sums in float64.

use super::{Float, Scratch, Settings};
use crate::argmax::{blocks, BLOCK};
use crate::log64::ln64;
use crate::select::{weighted_cut, Key, HIST};

/// Fewest blocks sampled (and so the shortest row, in blocks, this path takes).
pub const SAMPLED: usize = 32;
/// At most every STRIDE-th block is sampled (1/32 of the row's histogram cost): an estimate too
/// high costs only a widening of the list (`list_cut`), so a cheaper estimate pays.
const STRIDE: usize = 32;
/// Buckets (each 1/16 of an octave of float32 weight, 1/2 of float64's) between the estimated cut
/// and τ, for the estimate's sampling error.
const SAFETY: usize = 2;
/// Rows whose list is estimated longer than cols / LONG take the whole-row path instead (where
/// the two cost about the same).
const LONG: usize = 10;

/// The weight bucket whose start τ = tau_of(bucket) is the threshold of the list: every id with
/// x ≥ τ is listed (E::sum_listing). None where the row is too short for the estimate, or the
/// estimated cut lies in the lowest buckets, or the list would be long (a large part of the row,
/// which the histogram path does faster). Stores the sampled blocks' weights in `sc.w`
/// (overwritten by the list's).
///
/// # Safety
/// `src` valid for `cols`, `sc.bmax` the row's block maxima; `sc` a slot for `cols`.
pub unsafe fn threshold<E: Float>(src: *const E, cols: usize, max: E, s: &Settings, sc: &Scratch<E>) -> Option<usize> {
    let full = cols / BLOCK;
    if full < SAMPLED {
        return None;
    }
    let stride = (full / SAMPLED).min(STRIDE);
    let sums = &mut *sc.sums;
    sums.fill(0.0);
    // The second histogram in the pairs' memory (16·cols bytes ≥ HIST float64s here).
    let other = sc.pairs as *mut f64;
    core::ptr::write_bytes(other, 0, HIST);
    let mut sampled = 0usize;
    // The estimated total, kept beside the buckets: summing 2048 buckets costs more than this.
    let mut mass = 0.0;
    let mut b = 0;
    while b < full {
        let p = sc.w.add(b * BLOCK);
        mass += E::list_weights(src.add(b * BLOCK), p, BLOCK, max, s.t)?;
        let done = E::histogram(p, BLOCK, sums.as_mut_ptr(), other);
        for j in done..BLOCK {
            let v = *p.add(j);
            sums[v.bucket()] += v.get();
        }
        sampled += BLOCK;
        b += stride;
    }
    // Scaled to the row (the second histogram emptied for the block maxima); then each block's
    // max exactly instead (the heavy top of a row is mostly block maxima, which a sample of
    // blocks would catch a few of, each counted `scale` times): every block max added once, the
    // sampled ones' `scale` copies taken out.
    let scale = cols as f64 / sampled as f64;
    for i in 0..HIST {
        sums[i] = scale * (sums[i] + *other.add(i));
        *other.add(i) = 0.0;
    }
    let nb = blocks(cols);
    let wmax = sc.bsum as *mut E;
    let maxima = E::list_weights(sc.bmax, wmax, nb, max, s.t)?;
    let done = E::histogram(wmax, nb, sums.as_mut_ptr(), other);
    for b in done..nb {
        let v = *wmax.add(b);
        sums[v.bucket()] += v.get();
    }
    let mut picked = 0.0;
    let mut b = 0;
    while b < full {
        let v = (*wmax.add(b)).get();
        sums[(*wmax.add(b)).bucket()] -= scale * v;
        picked += v;
        b += stride;
    }
    let total = scale * (mass - picked) + maxima;
    // The estimated cut c: the highest bucket whose estimated mass at or above it (the two
    // histograms together) reaches topP·(the estimated total), i.e. the mass below c is within
    // (1 − topP)·total and below c + 1 it is not. Walked from the top, where the kept mass of an
    // LLM's row lies (a few hundred buckets, not the 2048).
    let target = s.top_p * total;
    let mut above = 0.0;
    // The estimated count of ids at or above each bucket walked: a bucket's mass over its start
    // (its weights lie within one bucket's width of that).
    let mut ids = 0.0;
    let mut c = HIST;
    while c > 0 {
        c -= 1;
        let mass = sums[c] + *other.add(c);
        above += mass;
        ids += mass / E::bucket_start(c).get();
        if above >= target {
            break;
        }
    }
    // Bucket 0 starts at weight 0: the whole row, which the histogram path does faster.
    if c <= SAFETY {
        return None;
    }
    let b = c - SAFETY;
    for i in b..c {
        ids += (sums[i] + *other.add(i)) / E::bucket_start(i).get();
    }
    // A long list costs more than the whole-row path: its cut and draw read each listed id at
    // random, about 12 ns an id, where the whole-row path costs about 2.4 ns an id of the row (at
    // 151,936 ids, LLM-like rows: 21,166 listed took 422 µs against the path's 335).
    if ids > (cols / LONG) as f64 {
        return None;
    }
    Some(b)
}

/// The logit where bucket b's weights start: every x ≥ it has a weight in bucket b or above.
pub fn tau_of<E: Float>(b: usize, max: E, s: &Settings) -> E {
    E::put(logit_of(E::bucket_start(b).get(), max, s.t))
}

/// A list as `E::sum_listing` leaves it: `count` ids (ascending in `sc.ids`), every id with
/// x ≥ tau_of(`bucket`).
pub struct List {
    pub count: usize,
    pub bucket: usize,
}

/// Buckets τ moves down by each time a list falls short (half an octave of float32 weight, whose
/// buckets are 1/16 of one; four octaves of float64's, whose buckets are halves).
const WIDEN: usize = 8;
/// Widenings tried before the whole row's histogram: each is one comparing pass over the blocks
/// at or above the new τ, a fraction of the whole-row path it spares.
const TRIES: usize = 3;

/// The top-p cut in the list (`sc.ids[..count]`, every id with x ≥ τ, their weights in `sc.w`, as
/// E::sum_listing leaves them), and the list's length: where the list's mass falls short of
/// topP·`total` (τ estimated too high), τ moves down WIDEN buckets at a time, the ids of
/// [new τ, old τ) appended (E::collect, blocks below the new τ skipped) with their weights
/// (E::weights_at, as sum_listing computes them) and merged into the ascending list, at most
/// TRIES times; None then (the caller histograms the whole row). `total` is Σ w over the row.
///
/// # Safety
/// `src`, `sc.w` valid at the listed ids, `sc.bmax` the row's block maxima; `sc` a slot for the row.
pub unsafe fn list_cut<E: Float>(src: *const E, cols: usize, max: E, total: f64, list: List, s: &Settings, sc: &Scratch<E>) -> Option<(E, usize)> {
    let List { mut count, mut bucket } = list;
    let mut tau = tau_of(bucket, max, s);
    let target = s.top_p * total;
    let mut listed = pairs_of(src, count, sc);
    if !(listed >= target) {
        let mut tries = 0;
        while !(listed >= target) {
            if tries == TRIES || bucket <= WIDEN {
                return None;
            }
            tries += 1;
            bucket -= WIDEN;
            let lo = tau_of(bucket, max, s);
            let added = sc.ids.add(count);
            let m = E::collect(src, cols, sc.bmax, lo, tau, added);
            listed += E::weights_at(src, added, m, max, s.t, sc.w);
            merge(sc.ids, count, m, sc.pairs as *mut u32);
            count += m;
            tau = lo;
        }
        // The merge ran through the pairs' memory.
        pairs_of(src, count, sc);
    }
    if count == 0 {
        return None;
    }
    let pairs = core::slice::from_raw_parts_mut(sc.pairs, count);
    let (key, _) = weighted_cut(pairs, target, 0.0, &mut *sc.sums);
    Some((E::from_key(key), count))
}

/// The (key, weight bits) pairs of the listed ids `sc.ids[..count]` into `sc.pairs`; returns Σ
/// of their weights.
///
/// # Safety
/// As `list_cut`.
unsafe fn pairs_of<E: Float>(src: *const E, count: usize, sc: &Scratch<E>) -> f64 {
    let mut listed = 0.0;
    for i in 0..count {
        let id = *sc.ids.add(i) as usize;
        let v = (*sc.w.add(id)).get();
        *sc.pairs.add(i) = [(*src.add(id)).key(), v.to_bits()];
        listed += v;
    }
    listed
}

/// Merges the ascending runs ids[..a] and ids[a..a + b] into one ascending run, through `tmp`.
///
/// # Safety
/// `ids` valid for a + b, `tmp` for a + b u32s, apart from `ids`.
unsafe fn merge(ids: *mut u32, a: usize, b: usize, tmp: *mut u32) {
    let (mut i, mut j, mut k) = (0, a, 0);
    while i < a && j < a + b {
        let (x, y) = (*ids.add(i), *ids.add(j));
        if x < y {
            *tmp.add(k) = x;
            i += 1;
        } else {
            *tmp.add(k) = y;
            j += 1;
        }
        k += 1;
    }
    while i < a {
        *tmp.add(k) = *ids.add(i);
        i += 1;
        k += 1;
    }
    while j < a + b {
        *tmp.add(k) = *ids.add(j);
        j += 1;
        k += 1;
    }
    core::ptr::copy_nonoverlapping(tmp, ids, a + b);
}

/// The logit whose weight is `v` > 0: w = e^((x − max)/T), so x = max + T·ln v. Only a
/// threshold's guess: its rounding moves τ, not the result.
fn logit_of(v: f64, max: impl Key, t: f64) -> f64 {
    // ln v = e·ln2 + ln m, m ∈ [1, 2) (ln64 wants an argument ≥ 1).
    let bits = v.to_bits();
    let e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let ln = ln64(m) + e as f64 * core::f64::consts::LN_2;
    max.get() + t * ln
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

#[cfg(test)]
mod tests {
    use super::super::{scratch_bytes, Settings};
    use super::*;
    use crate::argmax::Passes;

    fn lcg(s: &mut u64) -> f64 {
        *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (*s >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(s: &mut u64) -> f64 {
        (-2.0 * (1.0 - lcg(s)).ln()).sqrt() * (2.0 * core::f64::consts::PI * lcg(s)).cos()
    }

    /// The top-p cut by a full sort of the stored weights: the lowest logit of the first group of
    /// equal logits (from the top) whose cumulative weight reaches topP·total, and how far the
    /// cumulative was from that target, relative to the total, at the nearest group boundary.
    fn sorted_cut(x: &[f32], w: &[f32], total: f64, top_p: f64) -> (f32, f64) {
        let mut order: Vec<usize> = (0..x.len()).collect();
        order.sort_by(|&a, &b| x[b].partial_cmp(&x[a]).unwrap());
        let target = top_p * total;
        let (mut cum, mut i) = (0.0, 0);
        while i < order.len() {
            let v = x[order[i]];
            let before = cum;
            while i < order.len() && x[order[i]] == v {
                cum += w[order[i]] as f64;
                i += 1;
            }
            if cum >= target {
                return (v, ((target - before) / total).min((cum - target) / total));
            }
        }
        (x[order[order.len() - 1]], 0.0)
    }

    /// Rows whose layout could mislead the sampled estimate (their top packed in a few blocks,
    /// sorted either way) must give the sorted cut or take the histogram path; LLM-like and normal
    /// rows must take this path.
    #[test]
    fn list_cut_matches_a_full_sort_or_declines() {
        let mut s = 9u64;
        let cols = 40_000;
        let mut taken = 0;
        for layout in 0..5 {
            let mut x: Vec<f32> = (0..cols).map(|_| normal(&mut s) as f32).collect();
            if layout == 1 {
                // LLM-like: a heavy decaying top of 256 ids at random places.
                for k in 0..256 {
                    let j = (lcg(&mut s) * cols as f64) as usize;
                    x[j] = (14.0 - 1.5 * ((k + 1) as f64).ln() + 0.5 * normal(&mut s)) as f32;
                }
            }
            if layout == 2 {
                x.sort_by(|a, b| a.partial_cmp(b).unwrap());
            }
            if layout == 3 {
                x.sort_by(|a, b| b.partial_cmp(a).unwrap());
            }
            if layout == 4 {
                // The top mass inside the blocks the estimate skips.
                for j in (64..cols).step_by(1024) {
                    x[j] = 9.0;
                }
            }
            for &t in &[1.0, 0.7] {
                for &top_p in &[0.5, 0.9, 0.95, 0.99] {
                    let mut block = vec![0u128; scratch_bytes(cols, 4) / 16 + 1];
                    let sc = unsafe { Scratch::<f32>::at(block.as_mut_ptr() as *mut u8, cols) };
                    let (max, _) = unsafe { f32::block_stats(x.as_ptr(), cols, sc.bmax) };
                    let total = unsafe { f32::list_weights(x.as_ptr(), sc.w, cols, max, t) }.unwrap();
                    let w = unsafe { core::slice::from_raw_parts(sc.w, cols) }.to_vec();
                    let st = Settings {
                        t,
                        top_k: 0.0,
                        top_p,
                        min_p: 0.0,
                        rep: 1.0,
                        pres: 0.0,
                        freq: 0.0,
                        u: 0.5,
                        history: (0, 0),
                        bias: (0, 0),
                    };
                    let label = format!("layout {layout} T {t} topP {top_p}");
                    let listed = unsafe { threshold(x.as_ptr(), cols, max, &st, &sc) }.map(|bucket| {
                        let tau = tau_of(bucket, max, &st);
                        let (sum, count) = unsafe { f32::sum_listing(x.as_ptr(), cols, sc.bmax, max, t, tau, sc.ids, sc.w) }.unwrap();
                        // The one pass sums as list_weights does, and stores the same weights.
                        assert_eq!(sum, total, "{label}: total");
                        assert_eq!(count, x.iter().filter(|&&v| v >= tau).count(), "{label}: every id ≥ τ listed");
                        List { count, bucket }
                    });
                    let got = listed.and_then(|list| unsafe { list_cut(x.as_ptr(), cols, max, total, list, &st, &sc) });
                    let Some((cut, count)) = got else {
                        // Declined: a misleading layout, the cut in the lowest buckets, or a long
                        // kept set (the whole-row path is faster than a list longer than it).
                        let want = sorted_cut(&x, &w, total, top_p).0;
                        let kept = x.iter().filter(|&&v| v >= want).count();
                        assert!(layout >= 2 || top_p == 0.5 || kept > cols / LONG / 2, "{label}: declined, {kept} kept");
                        continue;
                    };
                    taken += 1;
                    check_list(&x, &w, total, top_p, cut, count, &sc, &label);
                }
            }
        }
        assert!(taken >= 12, "the list path taken {taken} times");
    }

    /// A list the cut was found in: the sorted cut (away from a boundary), ids ascending, every
    /// kept id listed, and the listed weights those of `list_weights` (`w`).
    #[allow(clippy::too_many_arguments)]
    fn check_list(x: &[f32], w: &[f32], total: f64, top_p: f64, cut: f32, count: usize, sc: &Scratch<f32>, label: &str) {
        let (want, margin) = sorted_cut(x, w, total, top_p);
        if margin > 1e-9 {
            assert_eq!(cut, want, "{label}");
        }
        let ids = unsafe { core::slice::from_raw_parts(sc.ids, count) };
        assert!(ids.windows(2).all(|p| p[0] < p[1]), "{label}: ids ascending");
        let above = x.iter().filter(|&&v| v >= cut).count();
        assert_eq!(ids.iter().filter(|&&j| x[j as usize] >= cut).count(), above, "{label}: every kept id listed");
        for &j in ids {
            assert_eq!(unsafe { *sc.w.add(j as usize) }, w[j as usize], "{label}: weight of {j}");
        }
    }

    /// A list estimated longer than cols / LONG is declined before the pass (the whole-row path is
    /// faster): a normal row's top-p 0.9 keeps about 40% of it; with a heavy top, a few ids.
    #[test]
    fn a_long_list_is_left_to_the_whole_row_path() {
        let mut s = 11u64;
        let cols = 40_000;
        let mut x: Vec<f32> = (0..cols).map(|_| normal(&mut s) as f32).collect();
        let st = Settings { t: 1.0, top_k: 0.0, top_p: 0.9, min_p: 0.0, rep: 1.0, pres: 0.0, freq: 0.0, u: 0.5, history: (0, 0), bias: (0, 0) };
        let mut block = vec![0u128; scratch_bytes(cols, 4) / 16 + 1];
        for heavy in [false, true] {
            if heavy {
                for k in 0..64 {
                    let j = (lcg(&mut s) * cols as f64) as usize;
                    x[j] = (16.0 - ((k + 1) as f64).ln()) as f32;
                }
            }
            let sc = unsafe { Scratch::<f32>::at(block.as_mut_ptr() as *mut u8, cols) };
            let (max, _) = unsafe { f32::block_stats(x.as_ptr(), cols, sc.bmax) };
            let got = unsafe { threshold(x.as_ptr(), cols, max, &st, &sc) };
            assert_eq!(got.is_some(), heavy, "heavy top {heavy}");
        }
    }

    /// A τ far too high (only the top bucket listed) is widened until the list holds the cut: the
    /// ids of each lower range appended with list_weights' weights and merged in order; with
    /// the cut out of reach of TRIES widenings, None.
    #[test]
    fn a_short_list_is_widened_to_the_cut() {
        let mut s = 5u64;
        let cols = 20_000;
        let mut x: Vec<f32> = (0..cols).map(|_| normal(&mut s) as f32).collect();
        for k in 0..64 {
            let j = (lcg(&mut s) * cols as f64) as usize;
            // Weights about 1/(k + 1): the top holds about 96% of the mass.
            x[j] = (12.0 - ((k + 1) as f64).ln() + 0.1 * normal(&mut s)) as f32;
        }
        let (mut widened, mut declined) = (0, 0);
        // The max alone holds about 0.21 of the mass: cuts at the second id (weight about 1/2),
        // within TRIES·WIDEN buckets (a factor 2^1.5 of float32 weight); at 0.9 and 0.95 beyond.
        for &top_p in &[0.24, 0.28, 0.9, 0.95] {
            let mut block = vec![0u128; scratch_bytes(cols, 4) / 16 + 1];
            let sc = unsafe { Scratch::<f32>::at(block.as_mut_ptr() as *mut u8, cols) };
            let (max, _) = unsafe { f32::block_stats(x.as_ptr(), cols, sc.bmax) };
            let total = unsafe { f32::list_weights(x.as_ptr(), sc.w, cols, max, 1.0) }.unwrap();
            let w = unsafe { core::slice::from_raw_parts(sc.w, cols) }.to_vec();
            let st = Settings { t: 1.0, top_k: 0.0, top_p, min_p: 0.0, rep: 1.0, pres: 0.0, freq: 0.0, u: 0.5, history: (0, 0), bias: (0, 0) };
            // The bucket of weight 1 (the max's): a list of the max alone.
            let bucket = 1.0f32.bucket();
            let tau = tau_of(bucket, max, &st);
            let (sum, count) = unsafe { f32::sum_listing(x.as_ptr(), cols, sc.bmax, max, 1.0, tau, sc.ids, sc.w) }.unwrap();
            assert!(count < 4, "count {count}");
            let label = format!("topP {top_p}");
            match unsafe { list_cut(x.as_ptr(), cols, max, sum, List { count, bucket }, &st, &sc) } {
                Some((cut, listed)) => {
                    assert!(listed > count, "{label}: widened");
                    widened += 1;
                    check_list(&x, &w, total, top_p, cut, listed, &sc, &label);
                }
                None => declined += 1,
            }
        }
        assert!(widened >= 2 && declined >= 1, "widened {widened}, declined {declined}");
    }
}
