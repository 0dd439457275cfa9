//! Selection without sorting the row: order-preserving integer keys of the float bits, the k-th
//! largest key of a list by radix select (a histogram of 11 key bits, then only the boundary
//! bucket's entries, 11 bits further down), and the top-p cut of a weighted list by the same
//! descent with per-bucket weight sums. Only lists of at most SMALL entries are ever sorted.

use crate::generic::Elem;

/// Buckets of one histogram level (11 key bits).
pub const HIST: usize = 2048;
const BITS: u32 = 11;
/// The first level's shift: the top 11 bits of a 64-bit key.
pub const TOP_SHIFT: u32 = 64 - BITS;
/// Lists this short are sorted instead of histogrammed.
const SMALL: usize = 64;

/// A float with an order-preserving 64-bit key: a < b ⇔ key(a) < key(b) for non-NaN values, and
/// −0 and +0 share a key (the reference's ties compare values, and −0 === 0).
pub trait Key: Elem + PartialOrd {
    const NEG_INF: Self;
    const INF: Self;
    /// The smallest finite value.
    const LOWEST: Self;
    fn key(self) -> u64;
    fn from_key(k: u64) -> Self;
}

impl Key for f32 {
    const NEG_INF: f32 = f32::NEG_INFINITY;
    const INF: f32 = f32::INFINITY;
    const LOWEST: f32 = f32::MIN;
    #[inline(always)]
    fn key(self) -> u64 {
        let b = if self == 0.0 { 0 } else { self.to_bits() };
        let k = if b >> 31 != 0 { !b } else { b | 0x8000_0000 };
        (k as u64) << 32
    }
    #[inline(always)]
    fn from_key(k: u64) -> f32 {
        let k = (k >> 32) as u32;
        f32::from_bits(if k >> 31 != 0 { k & 0x7fff_ffff } else { !k })
    }
}

impl Key for f64 {
    const NEG_INF: f64 = f64::NEG_INFINITY;
    const INF: f64 = f64::INFINITY;
    const LOWEST: f64 = f64::MIN;
    #[inline(always)]
    fn key(self) -> u64 {
        let b = if self == 0.0 { 0 } else { self.to_bits() };
        if b >> 63 != 0 {
            !b
        } else {
            b | (1 << 63)
        }
    }
    #[inline(always)]
    fn from_key(k: u64) -> f64 {
        f64::from_bits(if k >> 63 != 0 { k & !(1 << 63) } else { !k })
    }
}

#[inline(always)]
fn bucket(k: u64, shift: u32) -> usize {
    ((k >> shift) as usize) & (HIST - 1)
}

/// The k-th largest (1 ≤ k ≤ len) of the keys `p[..][0]` (the second word travels along).
/// Reorders `p`. Each level keeps only the bucket holding the k-th key: O(len) per level, at
/// most 6 levels, and a level ends early once every remaining key is the same.
pub fn kth_largest(p: &mut [[u64; 2]], k: usize, counts: &mut [u32; HIST]) -> u64 {
    let mut len = p.len();
    let mut k = k;
    let mut shift = TOP_SHIFT;
    loop {
        if len <= SMALL {
            p[..len].sort_unstable_by(|a, b| b[0].cmp(&a[0]));
            return p[k - 1][0];
        }
        counts.fill(0);
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for e in &p[..len] {
            counts[bucket(e[0], shift)] += 1;
            lo = lo.min(e[0]);
            hi = hi.max(e[0]);
        }
        if lo == hi {
            return lo;
        }
        let mut b = HIST;
        let mut above = 0usize;
        loop {
            b -= 1;
            let c = counts[b] as usize;
            if above + c >= k {
                break;
            }
            above += c;
        }
        k -= above;
        let mut m = 0;
        for i in 0..len {
            if bucket(p[i][0], shift) == b {
                p[m] = p[i];
                m += 1;
            }
        }
        len = m;
        if shift == 0 {
            return p[0][0];
        }
        shift = shift.saturating_sub(BITS);
    }
}

/// Where the top-p walk stops in a list of (key, weight bits as f64) entries: the walk goes down
/// the keys, whole groups of equal keys at a time, and stops at the first group whose cumulative
/// weight `above + Σ` reaches `target`. Returns that group's key and the cumulative weight through
/// it; when rounding keeps the list's total short of `target`, its lowest key (the whole list
/// kept). Reorders `p`; `sums` is HIST float64s of scratch.
pub fn weighted_cut(p: &mut [[u64; 2]], target: f64, mut above: f64, sums: &mut [f64; HIST]) -> (u64, f64) {
    let mut len = p.len();
    let mut shift = TOP_SHIFT;
    let w = |e: &[u64; 2]| f64::from_bits(e[1]);
    loop {
        if len <= SMALL {
            let q = &mut p[..len];
            q.sort_unstable_by(|a, b| b[0].cmp(&a[0]));
            let mut i = 0;
            while i < len {
                let key = q[i][0];
                while i < len && q[i][0] == key {
                    above += w(&q[i]);
                    i += 1;
                }
                if above >= target {
                    return (key, above);
                }
            }
            return (q[len - 1][0], above);
        }
        sums.fill(0.0);
        let (mut lo, mut hi) = (u64::MAX, 0u64);
        for e in &p[..len] {
            sums[bucket(e[0], shift)] += w(e);
            lo = lo.min(e[0]);
            hi = hi.max(e[0]);
        }
        if lo == hi {
            let mut s = 0.0;
            for e in &p[..len] {
                s += w(e);
            }
            return (lo, above + s);
        }
        // The crossing bucket, from the highest key's down (every entry shares the key bits above
        // this level's, so none lies in a bucket above hi's); a bucket of zero weight cannot cross
        // (target > above).
        let mut b = bucket(hi, shift) + 1;
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
            // Rounding: this level's sums fell short of the level above's. Keep the whole list.
            return (lo, above);
        }
        let mut m = 0;
        for i in 0..len {
            if bucket(p[i][0], shift) == b {
                p[m] = p[i];
                m += 1;
            }
        }
        len = m;
        if shift == 0 {
            let mut s = 0.0;
            for e in &p[..len] {
                s += w(e);
            }
            return (p[0][0], above + s);
        }
        shift = shift.saturating_sub(BITS);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_the_order_of_values() {
        let v = [f32::NEG_INFINITY, f32::MIN, -1.5, -1e-40, -0.0, 0.0, 1e-40, 1.0, f32::MAX, f32::INFINITY];
        for i in 1..v.len() {
            assert!(v[i - 1].key() <= v[i].key(), "{} {}", v[i - 1], v[i]);
            assert_eq!(f32::from_key(v[i].key()), if v[i] == 0.0 { 0.0 } else { v[i] });
        }
        assert_eq!((-0.0f32).key(), 0.0f32.key());
        let d = [f64::NEG_INFINITY, -2.0, -0.0, 0.0, 3.0, f64::INFINITY];
        for i in 1..d.len() {
            assert!(d[i - 1].key() <= d[i].key());
            assert_eq!(f64::from_key(d[i].key()), d[i]);
        }
    }

    /// A small deterministic generator for the tests.
    fn lcg(s: &mut u64) -> u64 {
        *s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        *s >> 33
    }

    #[test]
    fn kth_largest_matches_a_sort() {
        let mut s = 7u64;
        let mut counts = [0u32; HIST];
        for &n in &[1usize, 5, 64, 65, 1000, 5000] {
            for &levels in &[3u64, 1000, 1 << 30] {
                let vals: Vec<f32> = (0..n).map(|_| (lcg(&mut s) % levels) as f32 * 0.37 - 100.0).collect();
                let mut sorted = vals.clone();
                sorted.sort_by(|a, b| b.partial_cmp(a).unwrap());
                for k in [1usize, 2, n / 2 + 1, n].into_iter().filter(|&k| k <= n) {
                    let mut p: Vec<[u64; 2]> = vals.iter().map(|v| [v.key(), 0]).collect();
                    let got = f32::from_key(kth_largest(&mut p, k, &mut counts));
                    assert_eq!(got, sorted[k - 1], "n {n} k {k}");
                }
            }
        }
    }

    #[test]
    fn weighted_cut_matches_a_sorted_walk() {
        let mut s = 11u64;
        let mut sums = [0f64; HIST];
        for &n in &[3usize, 64, 200, 5000] {
            for &levels in &[2u64, 50, 1 << 20] {
                let keys: Vec<u64> = (0..n).map(|_| ((lcg(&mut s) % levels) as f64 * 0.5).key()).collect();
                let ws: Vec<f64> = keys.iter().map(|&k| (f64::from_key(k) / 1e5).exp()).collect();
                let total: f64 = ws.iter().sum();
                for &p_ in &[0.1, 0.5, 0.9, 0.999] {
                    let target = p_ * total;
                    let mut order: Vec<usize> = (0..n).collect();
                    order.sort_by(|&a, &b| keys[b].cmp(&keys[a]));
                    let (mut cum, mut i, mut want) = (0.0, 0, keys[order[n - 1]]);
                    while i < n {
                        let k = keys[order[i]];
                        while i < n && keys[order[i]] == k {
                            cum += ws[order[i]];
                            i += 1;
                        }
                        if cum >= target {
                            want = k;
                            break;
                        }
                    }
                    let mut p: Vec<[u64; 2]> = keys.iter().zip(&ws).map(|(&k, &w)| [k, w.to_bits()]).collect();
                    let (got, through) = weighted_cut(&mut p, target, 0.0, &mut sums);
                    assert_eq!(got, want, "n {n} levels {levels} p {p_}");
                    assert!((through - cum).abs() <= 1e-9 * total);
                }
            }
        }
    }
}
