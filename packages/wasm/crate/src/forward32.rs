//! Float32 softmax / log-softmax over rows: three passes per row (max, exp-and-sum, scale), each
//! row finished before the next so a row stays in cache between its passes; logSumExp, the first
//! two.

use crate::exp32::{Exp32, T_MAX, T_MIN};
use crate::exp64::exp64;
use crate::generic::{self, forward_row, special_log_sum_exp, special_row};
use crate::log64::ln_sum;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::simd32 as passes;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::scalar32 as passes;

/// # Safety
/// `x` and `out` valid for `rows·cols` elements; `out` may equal `x` (not a shifted overlap).
pub unsafe fn forward_f32(x: *const f32, out: *mut f32, rows: usize, cols: usize, temperature: f64, log: bool, zero_masked: bool) {
    let fast = (T_MIN..=T_MAX).contains(&temperature);
    for r in 0..rows {
        let xr = x.add(r * cols);
        let or = out.add(r * cols);
        if !fast {
            forward_row::<f32>(xr, or, cols, temperature, log, zero_masked);
            continue;
        }
        let (max, has_nan) = passes::stats(xr, cols);
        if special_row::<f32>(xr, or, cols, max as f64, has_nan, log, zero_masked) {
            continue;
        }
        let Some(c) = Exp32::new(max, temperature) else {
            forward_row::<f32>(xr, or, cols, temperature, log, zero_masked);
            continue;
        };
        if temperature == 1.0 {
            row::<false>(xr, or, cols, &c, temperature, log);
        } else {
            row::<true>(xr, or, cols, &c, temperature, log);
        }
    }
}

/// Passes 2 and 3 of a row whose max is finite.
#[inline(always)]
unsafe fn row<const SCALED: bool>(x: *const f32, out: *mut f32, cols: usize, c: &Exp32, temperature: f64, log: bool) {
    if log {
        passes::log_out(x, out, cols, c, log_sum::<SCALED>(x, cols, c, temperature) as f32);
    } else {
        // Terms are e^((x - s)/T) (see exp32.rs); the common factor e^((max - s)/T) cancels here.
        let sum = passes::exp_store_sum::<SCALED>(x, out, cols, c);
        passes::scale(out, cols, (1.0 / sum) as f32);
    }
}

/// ln Σ e^((x - max)/T) of a row on the fast path (`c`: its finite max's constants). The max's
/// own 1 is kept out of `rest`, so that ln1p keeps a dominant entry's accuracy (log-softmax's
/// log-prob of the max, logSumExp's result). The pass's terms are e^((x - s)/T): dividing by
/// e^((max - s)/T) (float64, relative error ~1e-16) gives Σ e^((x - max)/T) over the entries below
/// the max, summed in float64. Not inlined: it runs once a row, and both ops share one copy.
#[inline(never)]
unsafe fn log_sum<const SCALED: bool>(x: *const f32, cols: usize, c: &Exp32, temperature: f64) -> f64 {
    let (rest, at_max) = passes::exp_rest::<SCALED, false>(x, core::ptr::null_mut(), cols, c);
    ln_sum(at_max, rest * exp64(-c.log_shift(temperature)))
}

/// log Σ_j e^(x_j / T) of each float32 row, in float64 (max/T plus the row's log-sum), rounded
/// once into `out` (one element per row). Rows off the fast path compute in float64 throughout.
///
/// # Safety
/// `x` valid for `rows·cols` elements, `out` for `rows`; `out` may equal `x` when `cols` is 1.
pub unsafe fn log_sum_exp_rows(x: *const f32, out: *mut f32, rows: usize, cols: usize, temperature: f64) {
    let fast = (T_MIN..=T_MAX).contains(&temperature);
    for r in 0..rows {
        let xr = x.add(r * cols);
        *out.add(r) = if fast { log_sum_exp_row(xr, cols, temperature) } else { generic::log_sum_exp_row::<f32>(xr, cols, temperature) } as f32;
    }
}

/// One row of `log_sum_exp_rows` on the fast path's passes.
#[inline(always)]
unsafe fn log_sum_exp_row(x: *const f32, cols: usize, temperature: f64) -> f64 {
    let (max, has_nan) = passes::stats(x, cols);
    if let Some(special) = special_log_sum_exp(max as f64, has_nan) {
        return special;
    }
    let Some(c) = Exp32::new(max, temperature) else {
        return generic::log_sum_exp_row::<f32>(x, cols, temperature);
    };
    let log_sum = if temperature == 1.0 {
        log_sum::<false>(x, cols, &c, temperature)
    } else {
        log_sum::<true>(x, cols, &c, temperature)
    };
    max as f64 / temperature + log_sum
}

/// The probe behind `probe_exp_f32`: exp((x - s)/T) through this build's pass (s: Exp32's shift for
/// this max).
///
/// # Safety
/// `x`, `out` valid for `n` elements.
pub unsafe fn exp_probe(x: *const f32, out: *mut f32, n: usize, max: f32, temperature: f64) {
    match Exp32::new(max, temperature) {
        Some(c) if temperature == 1.0 => passes::exp_only::<false>(x, out, n, &c),
        Some(c) => passes::exp_only::<true>(x, out, n, &c),
        None => {
            for j in 0..n {
                *out.add(j) = f32::NAN;
            }
        }
    }
}

// Pieces of a float32 softmax row split across threads (the loader runs them on column ranges of
// one long row): the same passes as `forward_f32`, with the max and the sum combined in JavaScript.

/// The max of a piece of a row, NaN when the piece holds a NaN.
///
/// # Safety
/// `x` valid for `n` elements.
pub unsafe fn piece_max(x: *const f32, n: usize) -> f32 {
    let (max, has_nan) = passes::stats(x, n);
    if has_nan {
        f32::NAN
    } else {
        max
    }
}

/// out = exp((x - s)/T) over a piece, s from the whole row's finite `max`; returns the piece's sum.
/// NaN, with nothing written, when the row is off the fast path (then every piece says so, and the
/// loader runs the row whole).
///
/// # Safety
/// `x`, `out` valid for `n` elements (may be the same).
pub unsafe fn piece_exp_sum(x: *const f32, out: *mut f32, n: usize, max: f32, temperature: f64) -> f64 {
    if !(T_MIN..=T_MAX).contains(&temperature) || !max.is_finite() {
        return f64::NAN;
    }
    match Exp32::new(max, temperature) {
        Some(c) if temperature == 1.0 => passes::exp_store_sum::<false>(x, out, n, &c),
        Some(c) => passes::exp_store_sum::<true>(x, out, n, &c),
        None => f64::NAN,
    }
}

/// out *= inv over a piece (inv: 1/sum of the whole row, rounded to float32 as `forward_f32` does).
///
/// # Safety
/// `out` valid for `n` elements.
pub unsafe fn piece_scale(out: *mut f32, n: usize, inv: f32) {
    passes::scale(out, n, inv);
}
