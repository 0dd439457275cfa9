//! The float32 forward passes without SIMD (the build for runtimes that lack SIMD128). Same
//! numerics as `simd32`: the same `exp_shifted`, sums accumulated in float64 (4 accumulators).

use crate::exp32::{exp_shifted, Exp32};
use crate::sum::sum_f64;

/// Row max ignoring NaN, and whether a NaN was seen.
///
/// # Safety
/// `x` valid for `n` elements.
pub unsafe fn stats(x: *const f32, n: usize) -> (f32, bool) {
    let mut max = f32::NEG_INFINITY;
    let mut has_nan = false;
    for j in 0..n {
        let v = *x.add(j);
        has_nan |= v != v;
        max = if max < v { v } else { max };
    }
    (max, has_nan)
}

/// out = exp((x - s)/T), returns Σ out in float64.
///
/// # Safety
/// `x`, `out` valid for `n` elements (may be the same).
pub unsafe fn exp_store_sum<const SCALED: bool>(x: *const f32, out: *mut f32, n: usize, c: &Exp32) -> f64 {
    sum_f64(n, |j| {
        let e = exp_shifted::<SCALED>(*x.add(j), c);
        *out.add(j) = e;
        e as f64
    })
}

/// Σ exp((x - s)/T) over the entries below the max, and how many entries equal the max; with
/// STORE, also out = exp((x - s)/T) for every entry.
///
/// # Safety
/// `x` valid for `n` elements; with STORE, `out` too (it may equal `x`).
pub unsafe fn exp_rest<const SCALED: bool, const STORE: bool>(x: *const f32, out: *mut f32, n: usize, c: &Exp32) -> (f64, usize) {
    let mut at_max = 0usize;
    let rest = sum_f64(n, |j| {
        let v = *x.add(j);
        if v == c.max {
            if STORE {
                *out.add(j) = exp_shifted::<SCALED>(v, c);
            }
            at_max += 1;
            0.0
        } else {
            let e = exp_shifted::<SCALED>(v, c);
            if STORE {
                *out.add(j) = e;
            }
            e as f64
        }
    });
    (rest, at_max)
}

/// out *= inv.
///
/// # Safety
/// `out` valid for `n` elements.
pub unsafe fn scale(out: *mut f32, n: usize, inv: f32) {
    for j in 0..n {
        *out.add(j) *= inv;
    }
}

/// out = (x - max)·(1/T) - log_sum.
///
/// # Safety
/// `x`, `out` valid for `n` elements (may be the same).
pub unsafe fn log_out(x: *const f32, out: *mut f32, n: usize, c: &Exp32, log_sum: f32) {
    for j in 0..n {
        *out.add(j) = (*x.add(j) - c.max) * c.inv_t - log_sum;
    }
}

/// out = exp((x - s)/T) only (the test probe).
///
/// # Safety
/// `x`, `out` valid for `n` elements.
pub unsafe fn exp_only<const SCALED: bool>(x: *const f32, out: *mut f32, n: usize, c: &Exp32) {
    for j in 0..n {
        *out.add(j) = exp_shifted::<SCALED>(*x.add(j), c);
    }
}
