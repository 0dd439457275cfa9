//! Row kernels that compute in float64 whatever the stored type: the float64 forward kernels,
//! the gradients of both types (float64 inside keeps `dy - Σ dy·y` free of float32 cancellation),
//! and float32 rows whose temperature is outside the float32 fast path's range.
//!
//! Every kernel reads element j before writing element j and never reads it again after, except
//! through `out`, so `out` may be the same memory as an input (in place).

use crate::exp64::exp64;
use crate::log64::{ln64, ln_sum};
use crate::sum::sum_f64;

/// A stored element type.
pub trait Elem: Copy {
    fn get(self) -> f64;
    fn put(v: f64) -> Self;
}

impl Elem for f32 {
    #[inline(always)]
    fn get(self) -> f64 {
        self as f64
    }
    #[inline(always)]
    fn put(v: f64) -> f32 {
        v as f32
    }
}

impl Elem for f64 {
    #[inline(always)]
    fn get(self) -> f64 {
        self
    }
    #[inline(always)]
    fn put(v: f64) -> f64 {
        v
    }
}

/// The special-value rules (see @softmax/core's reference.ts). Returns true when the row was
/// special and has been written: any NaN → all NaN; k entries +∞ → 1/k each (log: −ln k), others
/// 0 (log: −∞); every entry −∞ → NaN, or with `zero_masked` 0 (log: −∞).
///
/// # Safety
/// `x` and `out` must be valid for `n` elements (they may be the same memory).
#[allow(clippy::too_many_arguments)]
pub unsafe fn special_row<E: Elem>(
    x: *const E,
    out: *mut E,
    n: usize,
    max: f64,
    has_nan: bool,
    log: bool,
    zero_masked: bool,
) -> bool {
    if has_nan {
        fill(out, n, f64::NAN);
        return true;
    }
    if max == f64::INFINITY {
        let mut k = 0usize;
        for j in 0..n {
            if (*x.add(j)).get() == f64::INFINITY {
                k += 1;
            }
        }
        let share = if log { -ln64(k as f64) } else { 1.0 / k as f64 };
        let zero = if log { f64::NEG_INFINITY } else { 0.0 };
        for j in 0..n {
            let v = (*x.add(j)).get();
            *out.add(j) = E::put(if v == f64::INFINITY { share } else { zero });
        }
        return true;
    }
    if max == f64::NEG_INFINITY {
        let value = if !zero_masked {
            f64::NAN
        } else if log {
            f64::NEG_INFINITY
        } else {
            0.0
        };
        fill(out, n, value);
        return true;
    }
    false
}

unsafe fn fill<E: Elem>(out: *mut E, n: usize, v: f64) {
    for j in 0..n {
        *out.add(j) = E::put(v);
    }
}

/// Temperatures whose reciprocal can stand in for a division: 1/T is then a normal float64
/// (within 2 roundings of d/T), and where x − max overflows, |(x − max)/T| > 2^24 so its exp is
/// 0 either way. Outside it 1/T is subnormal or infinite (T < 5.6e-309 gives 0·∞ = NaN at the
/// max), and rows are computed by division, as @softmax/core's reference does.
pub const RECIPROCAL_T_MIN: f64 = 9.332636185032189e-302; // 2^-1000
pub const RECIPROCAL_T_MAX: f64 = 1.0715086071862673e301; // 2^1000

/// Whether `temperature` may be applied as a product with 1/T (see RECIPROCAL_T_MIN).
#[inline(always)]
pub fn reciprocal_ok(temperature: f64) -> bool {
    (RECIPROCAL_T_MIN..=RECIPROCAL_T_MAX).contains(&temperature)
}

/// d/T: a product with `inv_t` = 1/T, or with DIVIDE a true division.
#[inline(always)]
fn over_t<const DIVIDE: bool>(d: f64, temperature: f64, inv_t: f64) -> f64 {
    if DIVIDE {
        d / temperature
    } else {
        d * inv_t
    }
}

const TWO_600: f64 = 4.149515568880993e180; // 2^600
const TWO_M600: f64 = 2.409919865102884e-181; // 2^-600

/// a·b / T. Below T = 1 a subnormal product a·b comes back into range, with the bits its
/// rounding lost: then the smaller factor is scaled by 2^600 first (exact: it is below 2^-511,
/// so nothing overflows and the product is normal) and the quotient scaled back once.
#[inline(always)]
pub fn product_over<const DIVIDE: bool>(a: f64, b: f64, temperature: f64, inv_t: f64) -> f64 {
    let p = a * b;
    if temperature >= 1.0 || !(p.abs() < f64::MIN_POSITIVE) || a == 0.0 || b == 0.0 {
        return over_t::<DIVIDE>(p, temperature, inv_t);
    }
    let up = if a.abs() < b.abs() { a * TWO_600 * b } else { a * (b * TWO_600) };
    over_t::<DIVIDE>(up, temperature, inv_t) * TWO_M600
}

/// Forward softmax / log-softmax of one row, computed in float64.
///
/// # Safety
/// `x` and `out` must be valid for `n` elements (they may be the same memory).
pub unsafe fn forward_row<E: Elem>(x: *const E, out: *mut E, n: usize, temperature: f64, log: bool, zero_masked: bool) {
    if reciprocal_ok(temperature) {
        forward_row_by::<E, false>(x, out, n, temperature, log, zero_masked);
    } else {
        forward_row_by::<E, true>(x, out, n, temperature, log, zero_masked);
    }
}

#[inline(always)]
unsafe fn forward_row_by<E: Elem, const DIVIDE: bool>(
    x: *const E,
    out: *mut E,
    n: usize,
    temperature: f64,
    log: bool,
    zero_masked: bool,
) {
    let (max, has_nan) = row_stats(x, n);
    if special_row(x, out, n, max, has_nan, log, zero_masked) {
        return;
    }
    let inv_t = 1.0 / temperature;
    if log {
        let log_sum = log_sum_by::<E, DIVIDE>(x, n, max, temperature, inv_t);
        for j in 0..n {
            // Both terms are ≤ 0: no cancellation.
            *out.add(j) = E::put(scaled_difference_by::<DIVIDE>((*x.add(j)).get(), max, temperature, inv_t) - log_sum);
        }
    } else {
        let sum = sum_f64(n, |j| {
            let e = exp64(shifted_by::<DIVIDE>((*x.add(j)).get(), max, temperature, inv_t));
            *out.add(j) = E::put(e);
            e
        });
        let inv = 1.0 / sum;
        for j in 0..n {
            *out.add(j) = E::put((*out.add(j)).get() * inv);
        }
    }
}

/// Row max ignoring NaN, and whether a NaN was seen.
#[inline(always)]
unsafe fn row_stats<E: Elem>(x: *const E, n: usize) -> (f64, bool) {
    let mut max = f64::NEG_INFINITY;
    let mut has_nan = false;
    for j in 0..n {
        let v = (*x.add(j)).get();
        if v != v {
            has_nan = true;
        } else if v > max {
            max = v;
        }
    }
    (max, has_nan)
}

/// (v − max)/T as the exp-and-sum pass takes it. Dividing, T may be huge: then (x − max)/T is
/// finite where x − max overflows, so the sum takes the overflow-safe difference too (with a
/// reciprocal its exp is 0 either way).
#[inline(always)]
fn shifted_by<const DIVIDE: bool>(v: f64, max: f64, temperature: f64, inv_t: f64) -> f64 {
    if DIVIDE {
        scaled_difference_by::<true>(v, max, temperature, inv_t)
    } else {
        (v - max) * inv_t
    }
}

/// ln Σ_j e^((x_j − max)/T) of a row whose max is finite. The max's own 1 is kept out of the
/// rest of the sum, so that ln1p keeps full accuracy where the max dominates (log-softmax's
/// log-prob of the max, logSumExp's result). Not inlined: it runs once a row, and both ops share
/// one copy of each instance.
#[inline(never)]
unsafe fn log_sum_by<E: Elem, const DIVIDE: bool>(x: *const E, n: usize, max: f64, temperature: f64, inv_t: f64) -> f64 {
    let mut at_max = 0usize;
    let rest = sum_f64(n, |j| {
        let v = (*x.add(j)).get();
        if v == max {
            at_max += 1;
            0.0
        } else {
            exp64(shifted_by::<DIVIDE>(v, max, temperature, inv_t))
        }
    });
    ln_sum(at_max, rest)
}

/// logSumExp's special values (see @softmax/core's referenceLogSumExp): any NaN → NaN, else any
/// +∞ → +∞, else a row of only −∞ → −∞ (the log of an empty sum). None for a finite max.
#[inline(always)]
pub fn special_log_sum_exp(max: f64, has_nan: bool) -> Option<f64> {
    if has_nan {
        Some(f64::NAN)
    } else if max.is_finite() {
        None
    } else {
        Some(max)
    }
}

/// log Σ_j e^(x_j / T) of one row, computed in float64 as max/T + ln Σ e^((x_j − max)/T): no
/// finite input overflows unless the result does.
///
/// # Safety
/// `x` valid for `n` elements.
pub unsafe fn log_sum_exp_row<E: Elem>(x: *const E, n: usize, temperature: f64) -> f64 {
    if reciprocal_ok(temperature) {
        log_sum_exp_row_by::<E, false>(x, n, temperature)
    } else {
        log_sum_exp_row_by::<E, true>(x, n, temperature)
    }
}

#[inline(always)]
unsafe fn log_sum_exp_row_by<E: Elem, const DIVIDE: bool>(x: *const E, n: usize, temperature: f64) -> f64 {
    let (max, has_nan) = row_stats(x, n);
    if let Some(special) = special_log_sum_exp(max, has_nan) {
        return special;
    }
    // max/T divided (one rounding) whatever the route: it is the result's leading term.
    max / temperature + log_sum_by::<E, DIVIDE>(x, n, max, temperature, 1.0 / temperature)
}

/// (v - max)/T, also where v - max overflows although the quotient does not (|v|, |max| near the
/// largest float and T > 1): then v/T - max/T, whose two roundings are relative to |v - max|.
#[inline(always)]
pub fn scaled_difference(v: f64, max: f64, inv_t: f64) -> f64 {
    scaled_difference_by::<false>(v, max, 0.0, inv_t)
}

#[inline(always)]
pub fn scaled_difference_by<const DIVIDE: bool>(v: f64, max: f64, temperature: f64, inv_t: f64) -> f64 {
    let d = v - max;
    if d == f64::NEG_INFINITY && v != f64::NEG_INFINITY {
        over_t::<DIVIDE>(v, temperature, inv_t) - over_t::<DIVIDE>(max, temperature, inv_t)
    } else {
        over_t::<DIVIDE>(d, temperature, inv_t)
    }
}

/// dx = y ⊙ (dy − Σ dy·y) / T for one row (y is the softmax output).
///
/// # Safety
/// `y`, `dy`, `out` valid for `n` elements; `out` may be `y` or `dy`.
pub unsafe fn softmax_backward_row<E: Elem>(y: *const E, dy: *const E, out: *mut E, n: usize, temperature: f64) {
    if reciprocal_ok(temperature) {
        softmax_backward_row_by::<E, false>(y, dy, out, n, temperature);
    } else {
        softmax_backward_row_by::<E, true>(y, dy, out, n, temperature);
    }
}

#[inline(always)]
unsafe fn softmax_backward_row_by<E: Elem, const DIVIDE: bool>(y: *const E, dy: *const E, out: *mut E, n: usize, temperature: f64) {
    let dot = sum_f64(n, |j| (*dy.add(j)).get() * (*y.add(j)).get());
    let inv_t = 1.0 / temperature;
    for j in 0..n {
        let yj = (*y.add(j)).get();
        let dyj = (*dy.add(j)).get();
        *out.add(j) = E::put(product_over::<DIVIDE>(yj, dyj - dot, temperature, inv_t));
    }
}

/// dx = (dy − exp(y)·Σ dy) / T for one row (y is the log-softmax output).
///
/// # Safety
/// `y`, `dy`, `out` valid for `n` elements; `out` may be `y` or `dy`.
pub unsafe fn log_softmax_backward_row<E: Elem>(y: *const E, dy: *const E, out: *mut E, n: usize, temperature: f64) {
    if reciprocal_ok(temperature) {
        log_softmax_backward_row_by::<E, false>(y, dy, out, n, temperature);
    } else {
        log_softmax_backward_row_by::<E, true>(y, dy, out, n, temperature);
    }
}

#[inline(always)]
unsafe fn log_softmax_backward_row_by<E: Elem, const DIVIDE: bool>(y: *const E, dy: *const E, out: *mut E, n: usize, temperature: f64) {
    let total = sum_f64(n, |j| (*dy.add(j)).get());
    let inv_t = 1.0 / temperature;
    for j in 0..n {
        let yj = (*y.add(j)).get();
        let dyj = (*dy.add(j)).get();
        *out.add(j) = E::put(over_t::<DIVIDE>(dyj - exp64(yj) * total, temperature, inv_t));
    }
}

/// The per-class factors of cross-entropy's smoothed and probability targets:
/// u_j = (q present ? qa·q_j + qb : 1)·(w present ? w_j : 1), with q a row of target probabilities
/// (smoothed by qa = 1 − ε, qb = ε/C) and w the class weights. A null pointer is absent.
#[derive(Clone, Copy)]
pub struct Factors<E, W> {
    pub q: *const E,
    pub w: *const W,
    pub qa: f64,
    pub qb: f64,
}

impl<E: Elem, W: Elem> Factors<E, W> {
    /// u_j.
    ///
    /// # Safety
    /// The present pointers valid for j + 1 elements.
    #[inline(always)]
    pub unsafe fn at(&self, j: usize) -> f64 {
        let mut u = 1.0;
        if !self.q.is_null() {
            u = self.qa * (*self.q.add(j)).get() + self.qb;
        }
        if !self.w.is_null() {
            u *= (*self.w.add(j)).get();
        }
        u
    }
}

/// u·d with 0·(−∞) = 0: a class of weight 0 (or target probability 0) adds nothing, whatever its logit.
#[inline(always)]
pub fn weighted(u: f64, d: f64) -> f64 {
    if u == 0.0 {
        0.0
    } else {
        u * d
    }
}

/// Σ_j u_j·(x_j − max) in float64 (cross-entropy's smoothing and probability-target sum).
///
/// # Safety
/// `x` and the present factors valid for `n` elements.
pub unsafe fn factor_sum<E: Elem, W: Elem>(x: *const E, n: usize, max: f64, f: &Factors<E, W>) -> f64 {
    sum_f64(n, |j| weighted(f.at(j), (*x.add(j)).get() - max))
}

/// Σ_j u_j in float64.
///
/// # Safety
/// The present factors valid for `n` elements.
pub unsafe fn factor_total<E: Elem, W: Elem>(n: usize, f: &Factors<E, W>) -> f64 {
    sum_f64(n, |j| f.at(j))
}

/// out_j = a·out_j − b·u_j (cross-entropy's gradient from stored exponentials).
///
/// # Safety
/// `out` and the present factors valid for `n` elements.
pub unsafe fn scale_sub<E: Elem, W: Elem>(out: *mut E, n: usize, a: f64, b: f64, f: &Factors<E, W>) {
    for j in 0..n {
        *out.add(j) = E::put(a * (*out.add(j)).get() - b * f.at(j));
    }
}

/// out_j = a·e^((x_j − max)·(1/T)) − b·u_j, the exponential in float64 (cross-entropy's gradient
/// where stored float32 exponentials would have flushed values that `a` scales back into range).
///
/// # Safety
/// `x`, `out` and the present factors valid for `n` elements; `out` may be `x`.
#[allow(clippy::too_many_arguments)]
pub unsafe fn exp_scale_sub<E: Elem, W: Elem>(x: *const E, out: *mut E, n: usize, max: f64, inv_t: f64, a: f64, b: f64, f: &Factors<E, W>) {
    for j in 0..n {
        let e = exp64(((*x.add(j)).get() - max) * inv_t);
        *out.add(j) = E::put(a * e - b * f.at(j));
    }
}
