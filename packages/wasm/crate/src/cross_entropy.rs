//! Fused softmax cross-entropy (the project's CE-SPEC): for each row of logits, its loss against a
//! class index or a row of target probabilities, its log-sum-exp and, when asked, the gradient
//! d loss / d logits, with no rows × cols array but the gradient. Per row:
//!
//! 1. the max (and a NaN flag), then Σ e^((x − max)/T) over the entries below the max: the passes
//!    of log-softmax and logSumExp, the max's own terms kept out so that ln1p keeps a confident
//!    row's loss (near 0) accurate;
//! 2. with label smoothing or probability targets, Σ_c u_c·(x_c − max), u_c the class's factor
//!    (generic::Factors: its weight, times its smoothed target probability);
//! 3. the loss, in float64, as A·ln Σ − (1 − ε)·ω·d_t − c·Σ u·d: every term is ≥ 0, so nothing cancels;
//! 4. with a gradient: pass 1 stores each e^((x − s)/T) where the gradient goes, and one more pass
//!    scales them, k/T·(A + 2ζ·lse)·p_j − k/T·c·u_j; the target's own entry is then recomputed in
//!    float64 as k/T·(P·expm1(log p_t) + c·(W − w_t) + 2ζ·lse), which stays accurate as p_t → 1.
//!
//! Every pass reads the whole row before the gradient pass writes over it (the exponentials of
//! pass 1 are written only once the row's other passes are done), so `grad` may be `x` (in place).
//!
//! Softcapped rows (z = c·tanh(x/c)), rows off the float32 exp's range, temperatures whose 1/T is
//! not a normal float64 and the special rows (NaN, ±∞) take `general_row`, which computes every
//! pass in float64 from the logits (scalar), recomputing z where a pass needs it.

use crate::exp32::{Exp32, T_MAX, T_MIN};
use crate::exp64::{exp64, expm1_64};
use crate::generic::{scaled_difference_by, weighted, Elem, Factors};
use crate::log64::{ln64, ln_sum};
use crate::softcap::softcap;
use crate::sum::sum_f64;

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::generic as lanes;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
use crate::scalar32 as passes;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::simd32 as passes;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use crate::simd64 as lanes;

/// An element type of this build's float passes: SIMD128 lanes, or scalar.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub trait Float: crate::simd64::Lanes + FastRow {}
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl<E: crate::simd64::Lanes + FastRow> Float for E {}
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub trait Float: Elem + FastRow {}
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl<E: Elem + FastRow> Float for E {}

/// A call's options, validated by @softmax/core.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// T > 0.
    pub temperature: f64,
    /// c > 0, or 0 for no soft-capping.
    pub softcap: f64,
    /// ε in [0, 1).
    pub smoothing: f64,
    /// ζ ≥ 0.
    pub z_loss: f64,
    /// k: gradScale/D for 'mean', gradScale otherwise.
    pub scale: f64,
}

/// A call's targets.
#[derive(Clone, Copy)]
pub enum Targets<E> {
    /// One class index per row, as int32 or uint32 bits. Core has checked that every index outside
    /// [0, cols) is the ignore index, so a row is ignored when its index is `ignore` or outside.
    Index { t: *const u32, ignore: u32 },
    /// rows × cols target probabilities.
    Probs(*const E),
}

/// Where a call's results go: one float64 loss per row (core reduces them); one log-sum-exp per
/// row and the rows × cols gradient (which may be `x` itself) where not null.
#[derive(Clone, Copy)]
pub struct Outputs<E> {
    pub loss: *mut f64,
    pub lse: *mut E,
    pub grad: *mut E,
}

/// What a row's loss needs of its passes.
pub struct RowTarget<E, W> {
    /// The target class (index targets).
    class: Option<usize>,
    /// (1 − ε)·ω: the target log-probability's coefficient (0 without a class).
    coef_t: f64,
    /// The coefficient of Σ u_c·log p_c: ε/C (index targets), 1 (probabilities).
    c_w: f64,
    factors: Factors<E, W>,
    /// Whether Σ u·d is needed (c_w > 0).
    sums: bool,
    /// A, the coefficient of the row's log-sum, when known without a pass (index targets).
    a: Option<f64>,
    /// w_t and W − w_t (index targets): the target's share of the smoothing, in its gradient.
    w_t: f64,
    w_rest: f64,
}

/// A sum of terms that are all ≤ 0 and none NaN (u·d with u ≥ 0, d ≤ 0, in a row without NaN):
/// NaN only where a −∞ term met the compensated sum's carry (∞ − ∞), so the sum is −∞ there.
#[inline(always)]
fn non_positive_sum(s: f64) -> f64 {
    if s.is_nan() {
        f64::NEG_INFINITY
    } else {
        s
    }
}

/// The call's constants.
pub struct Call {
    /// k/T: the gradient's factor.
    kt: f64,
    /// ln C, for the bound on |lse| (the log-sum is at most ln C).
    ln_cols: f64,
}

/// A row's measures, in float64 (the row's max finite, or its logits soft-capped).
struct Sums {
    /// max/T: the log-sum-exp's leading term.
    lead: f64,
    /// ln Σ e^((z − max)/T) ≥ 0.
    ls: f64,
    /// (z_t − max)/T ≤ 0 for index targets.
    d_t: f64,
    /// c·Σ_c u_c·(z_c − max)/T ≤ 0, when needed: c·u_c applied term by term where the plain sum
    /// could overflow (C terms near the largest float64) while the loss does not, as core does.
    wsum: f64,
    /// A: Σ of the loss's coefficients, that of ls.
    a: f64,
}

/// Loss, log-sum-exp and P = A + 2ζ·lse (the gradient's factor on p_j) of a measured row. Every
/// term of the loss is ≥ 0 (ls ≥ 0 ≥ d), so the sum loses nothing to cancellation.
fn finish<E, W>(s: &Sums, tg: &RowTarget<E, W>, p: &Params) -> (f64, f64, f64) {
    let ce = s.a * s.ls - weighted(tg.coef_t, s.d_t) - s.wsum;
    let lse = s.lead + s.ls;
    if p.z_loss == 0.0 {
        (ce, lse, s.a)
    } else {
        (ce + p.z_loss * lse * lse, lse, s.a + 2.0 * p.z_loss * lse)
    }
}

/// The target's own gradient entry, in float64: k/T·σ_t·(P·p_t − b_t), b_t = (1 − ε)·ω + c·w_t.
/// Where p_t ≥ 1/2 it is written P·(p_t − 1) + (P − b_t), with p_t − 1 = expm1(log p_t) and
/// P − b_t = c·(W − w_t) + 2ζ·lse, so that a confident target (p_t → 1, where P·p_t and b_t
/// cancel) keeps its relative accuracy; below, P·p_t − b_t as it is (expm1's form would cancel).
///
/// # Safety
/// `grad` valid for the target's index.
#[allow(clippy::too_many_arguments)]
unsafe fn fix_target<E: Elem, W>(grad: *mut E, tg: &RowTarget<E, W>, s: &Sums, pc: f64, sigma_t: f64, lse: f64, call: &Call, p: &Params) {
    if let Some(t) = tg.class {
        let log_pt = s.d_t - s.ls;
        let g = if log_pt >= -core::f64::consts::LN_2 {
            let z = if p.z_loss == 0.0 { 0.0 } else { 2.0 * p.z_loss * lse };
            pc * expm1_64(log_pt) + tg.c_w * tg.w_rest + z
        } else {
            pc * exp64(log_pt) - (tg.coef_t + tg.c_w * tg.w_t)
        };
        *grad.add(t) = E::put(call.kt * sigma_t * g);
    }
}

/// The fast path of each element type. None, with nothing written, sends the row to `general_row`.
pub trait FastRow: Elem {
    /// # Safety
    /// `x`, `grad` (unless null) and the factors valid for `n` elements.
    unsafe fn fast_row<W: Float>(x: *const Self, n: usize, tg: &RowTarget<Self, W>, grad: *mut Self, p: &Params, call: &Call) -> Option<(f64, f64)>;
}

impl FastRow for f32 {
    /// Float32 rows: the float32 exp of softmax's passes (exp32.rs), sums in float64. The
    /// exponentials it stores are flushed to 0 below 2^-126, which costs nothing where the
    /// gradient's factor on them, k/T·P, is at most 1 (the true entry is then subnormal too);
    /// beyond that bound the gradient pass computes its exponentials in float64 instead.
    unsafe fn fast_row<W: Float>(x: *const f32, n: usize, tg: &RowTarget<f32, W>, grad: *mut f32, p: &Params, call: &Call) -> Option<(f64, f64)> {
        let t = p.temperature;
        if p.softcap > 0.0 || !(T_MIN..=T_MAX).contains(&t) {
            return None;
        }
        let (max, has_nan) = passes::stats(x, n);
        if has_nan || !max.is_finite() {
            return None;
        }
        let c = Exp32::new(max, t)?;
        let m = max as f64;
        // x − max is exact in float64 for float32 operands.
        let d_t = tg.class.map_or(0.0, |j| ((*x.add(j)) as f64 - m) / t);
        // Float32 differences sum far below float64's range: the plain sum cannot overflow.
        let wsum = if tg.sums { weighted(tg.c_w, non_positive_sum(lanes::factor_sum(x, n, m, &tg.factors)) / t) } else { 0.0 };
        let a = tg.a.unwrap_or_else(|| lanes::factor_total(n, &tg.factors));
        let lead = m / t;
        let bound = call.kt.abs() * (a + 2.0 * p.z_loss * lead.abs().max((lead + call.ln_cols).abs()));
        let store = !grad.is_null() && bound <= 1.0;
        let (rest, at_max) = match (store, t == 1.0) {
            (true, true) => passes::exp_rest::<false, true>(x, grad, n, &c),
            (true, false) => passes::exp_rest::<true, true>(x, grad, n, &c),
            (false, true) => passes::exp_rest::<false, false>(x, core::ptr::null_mut(), n, &c),
            (false, false) => passes::exp_rest::<true, false>(x, core::ptr::null_mut(), n, &c),
        };
        // The terms are e^((x − s)/T) for Exp32's shift s ≤ max: dividing by e^((max − s)/T) gives
        // the sum of e^((x − max)/T).
        let unshift = exp64(-c.log_shift(t));
        let rest = rest * unshift;
        let s = Sums { lead, ls: ln_sum(at_max, rest), d_t, wsum, a };
        let (loss, lse, pc) = finish(&s, tg, p);
        if !grad.is_null() {
            let total = at_max as f64 + rest;
            let b = call.kt * tg.c_w;
            if store {
                let ae = call.kt * pc * unshift / total;
                if tg.sums {
                    lanes::scale_sub(grad, n, ae, b, &tg.factors);
                } else {
                    passes::scale(grad, n, ae as f32);
                }
            } else {
                lanes::exp_scale_sub(x, grad, n, m, 1.0 / t, call.kt * pc / total, b, &tg.factors);
            }
            fix_target(grad, tg, &s, pc, 1.0, lse, call, p);
        }
        Some((loss, lse))
    }
}

impl FastRow for f64 {
    /// Float64 rows in the SIMD build: f64x2 lanes of exp64 (simd64.rs), as float64 log-softmax.
    /// The scalar build's float64 rows all take `general_row`.
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    unsafe fn fast_row<W: Float>(x: *const f64, n: usize, tg: &RowTarget<f64, W>, grad: *mut f64, p: &Params, call: &Call) -> Option<(f64, f64)> {
        use crate::generic::{reciprocal_ok, scaled_difference};
        use crate::simd64;
        let t = p.temperature;
        if p.softcap > 0.0 || !reciprocal_ok(t) {
            return None;
        }
        let (max, has_nan) = simd64::stats(x, n);
        if has_nan || !max.is_finite() {
            return None;
        }
        let inv_t = 1.0 / t;
        let d_t = tg.class.map_or(0.0, |j| scaled_difference(*x.add(j), max, inv_t));
        let wsum = if tg.sums {
            let s = weighted(tg.c_w, simd64::factor_sum(x, n, max, &tg.factors) * inv_t);
            if s.is_finite() {
                s
            } else {
                // x − max or the sum overflowed somewhere (|x| near the largest float64), or a
                // class with u > 0 has x = −∞: term by term, each difference scaled as log-softmax
                // does and each term by its c·u_c.
                non_positive_sum(sum_f64(n, |j| weighted(tg.c_w * tg.factors.at(j), scaled_difference(*x.add(j), max, inv_t))))
            }
        } else {
            0.0
        };
        let a = tg.a.unwrap_or_else(|| simd64::factor_total(n, &tg.factors));
        let v = simd64::V64::new();
        let (rest, at_max) = if grad.is_null() {
            simd64::exp_rest::<false>(x, core::ptr::null_mut(), n, max, inv_t, &v)
        } else {
            simd64::exp_rest::<true>(x, grad, n, max, inv_t, &v)
        };
        // max/T divided (one rounding), as logSumExp: it is the result's leading term.
        let s = Sums { lead: max / t, ls: ln_sum(at_max, rest), d_t, wsum, a };
        let (loss, lse, pc) = finish(&s, tg, p);
        if !grad.is_null() {
            let ae = call.kt * pc / (at_max as f64 + rest);
            if tg.sums {
                simd64::scale_sub(grad, n, ae, call.kt * tg.c_w, &tg.factors);
            } else {
                simd64::scale(grad, n, ae);
            }
            fix_target(grad, tg, &s, pc, 1.0, lse, call, p);
        }
        Some((loss, lse))
    }

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    unsafe fn fast_row<W: Float>(_: *const f64, _: usize, _: &RowTarget<f64, W>, _: *mut f64, _: &Params, _: &Call) -> Option<(f64, f64)> {
        None
    }
}

/// The logit as the loss sees it (soft-capped when c > 0), and dz/dx.
#[inline(always)]
fn capped(v: f64, c: f64) -> (f64, f64) {
    if c > 0.0 {
        softcap(v, c)
    } else {
        (v, 1.0)
    }
}

/// Any row, in float64 throughout (scalar): soft-capping, every temperature (differences divided
/// by T, as @softmax/core's reference), and the special rows.
///
/// # Safety
/// `x`, `grad` (unless null) and the factors valid for `n` elements.
#[inline(never)]
unsafe fn general_row<E: Elem, W: Elem>(x: *const E, n: usize, tg: &RowTarget<E, W>, grad: *mut E, p: &Params, call: &Call) -> (f64, f64) {
    let (t, c) = (p.temperature, p.softcap);
    let z = |j: usize| capped((*x.add(j)).get(), c).0;
    let mut max = f64::NEG_INFINITY;
    let mut has_nan = false;
    for j in 0..n {
        let v = z(j);
        if v.is_nan() {
            has_nan = true;
        } else if v > max {
            max = v;
        }
    }
    if has_nan || !max.is_finite() {
        return special_row(x, n, tg, grad, p, call, has_nan, max);
    }
    // (z − max)/T, also where z − max overflows while the quotient does not.
    let d = |v: f64| scaled_difference_by::<true>(v, max, t, 0.0);
    let d_t = tg.class.map_or(0.0, |j| d(z(j)));
    let wsum = if tg.sums { non_positive_sum(sum_f64(n, |j| weighted(tg.c_w * tg.factors.at(j), d(z(j))))) } else { 0.0 };
    let a = tg.a.unwrap_or_else(|| sum_f64(n, |j| tg.factors.at(j)));
    let mut at_max = 0usize;
    let rest = sum_f64(n, |j| {
        let v = z(j);
        if v == max {
            at_max += 1;
            0.0
        } else {
            exp64(d(v))
        }
    });
    let s = Sums { lead: max / t, ls: ln_sum(at_max, rest), d_t, wsum, a };
    let (loss, lse, pc) = finish(&s, tg, p);
    if !grad.is_null() {
        // Read before the row is written over (in place).
        let sigma_t = tg.class.map_or(1.0, |j| capped((*x.add(j)).get(), c).1);
        let inv_total = 1.0 / (at_max as f64 + rest);
        for j in 0..n {
            let (v, dz) = capped((*x.add(j)).get(), c);
            let g = pc * (exp64(d(v)) * inv_total) - tg.c_w * tg.factors.at(j);
            *grad.add(j) = E::put(call.kt * dz * g);
        }
        fix_target(grad, tg, &s, pc, sigma_t, lse, call, p);
    }
    (loss, lse)
}

/// A row with a NaN, or (not soft-capped) a max of ±∞, by @softmax/core's special-value rules:
/// a NaN makes the loss, the log-sum-exp and the gradient row NaN; k entries of +∞ share the
/// mass (p = 1/k, log p = −ln k, every other log p = −∞, lse = +∞), so a target (or, smoothing,
/// any class of weight > 0) among the others gives an infinite loss; 0·∞ terms count 0. A row of
/// only −∞ has no distribution: NaN loss and gradient, lse −∞ (the log of an empty sum).
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn special_row<E: Elem, W: Elem>(
    x: *const E,
    n: usize,
    tg: &RowTarget<E, W>,
    grad: *mut E,
    p: &Params,
    call: &Call,
    has_nan: bool,
    max: f64,
) -> (f64, f64) {
    if has_nan || max == f64::NEG_INFINITY {
        if !grad.is_null() {
            for j in 0..n {
                *grad.add(j) = E::put(f64::NAN);
            }
        }
        return (f64::NAN, if has_nan { f64::NAN } else { f64::NEG_INFINITY });
    }
    let inf = |j: usize| (*x.add(j)).get() == f64::INFINITY;
    let k = (0..n).filter(|&j| inf(j)).count() as f64;
    let log_share = -ln64(k);
    let logp = |j: usize| if inf(j) { log_share } else { f64::NEG_INFINITY };
    let smoothed = if tg.sums { non_positive_sum(sum_f64(n, |j| weighted(tg.factors.at(j), logp(j)))) } else { 0.0 };
    let target = tg.class.map_or(0.0, logp);
    let ce = -(weighted(tg.coef_t, target) + weighted(tg.c_w, smoothed));
    let loss = if p.z_loss == 0.0 { ce } else { f64::INFINITY };
    if !grad.is_null() {
        let a = tg.a.unwrap_or_else(|| sum_f64(n, |j| tg.factors.at(j)));
        for j in 0..n {
            let share = if inf(j) { 1.0 / k } else { 0.0 };
            // 2ζ·lse·p_j with lse = +∞: infinite where p_j > 0, else 0.
            let z = if p.z_loss == 0.0 || share == 0.0 { 0.0 } else { f64::INFINITY };
            let b = tg.c_w * tg.factors.at(j) + if tg.class == Some(j) { tg.coef_t } else { 0.0 };
            *grad.add(j) = E::put(call.kt * (a * share + z - b));
        }
    }
    (loss, f64::INFINITY)
}

/// Cross-entropy over `rows × cols` logits (see the module comment). `weight`: class weights
/// (length cols), or null for all 1.
///
/// # Safety
/// `x` valid for rows·cols elements; the targets for rows indices or rows·cols probabilities;
/// `weight`, unless null, for cols; `out.loss` for rows; `out.lse`, unless null, for rows;
/// `out.grad`, unless null, for rows·cols (it may be `x`).
pub unsafe fn cross_entropy<E: Float, W: Float>(x: *const E, targets: Targets<E>, weight: *const W, out: Outputs<E>, rows: usize, cols: usize, p: &Params) {
    let cf = cols as f64;
    let eps = p.smoothing;
    let w_total = if weight.is_null() { cf } else { sum_f64(cols, |j| (*weight.add(j)).get()) };
    let call = Call { kt: p.scale / p.temperature, ln_cols: ln64(cf) };
    let weights = Factors { q: core::ptr::null(), w: weight, qa: 0.0, qb: 0.0 };
    for r in 0..rows {
        let xr = x.add(r * cols);
        let grad = if out.grad.is_null() { out.grad } else { out.grad.add(r * cols) };
        let tg = match targets {
            Targets::Index { t, ignore } => {
                let class = *t.add(r);
                if class as usize >= cols || class == ignore {
                    *out.loss.add(r) = 0.0;
                    if !out.lse.is_null() {
                        // An ignored row still has a log-sum-exp: the row's, with no target (read
                        // before its gradient row is zeroed, which may be the row itself).
                        let none = RowTarget { class: None, coef_t: 0.0, c_w: 0.0, factors: weights, sums: false, a: Some(0.0), w_t: 0.0, w_rest: 0.0 };
                        let (_, lse) = row(xr, cols, &none, core::ptr::null_mut(), p, &call);
                        *out.lse.add(r) = E::put(lse);
                    }
                    if !grad.is_null() {
                        for j in 0..cols {
                            *grad.add(j) = E::put(0.0);
                        }
                    }
                    continue;
                }
                let class = class as usize;
                let w_t = if weight.is_null() { 1.0 } else { (*weight.add(class)).get() };
                let coef_t = (1.0 - eps) * w_t;
                RowTarget {
                    class: Some(class),
                    coef_t,
                    c_w: eps / cf,
                    factors: weights,
                    sums: eps > 0.0,
                    a: Some(coef_t + eps / cf * w_total),
                    w_t,
                    w_rest: w_total - w_t,
                }
            }
            Targets::Probs(q) => RowTarget {
                class: None,
                coef_t: 0.0,
                c_w: 1.0,
                factors: Factors { q: q.add(r * cols), w: weight, qa: 1.0 - eps, qb: eps / cf },
                sums: true,
                a: None,
                w_t: 0.0,
                w_rest: 0.0,
            },
        };
        let (loss, lse) = row(xr, cols, &tg, grad, p, &call);
        *out.loss.add(r) = loss;
        if !out.lse.is_null() {
            *out.lse.add(r) = E::put(lse);
        }
    }
}

/// One row: its element type's fast path, else the float64 one.
#[inline(always)]
unsafe fn row<E: Float, W: Float>(x: *const E, n: usize, tg: &RowTarget<E, W>, grad: *mut E, p: &Params, call: &Call) -> (f64, f64) {
    match E::fast_row(x, n, tg, grad, p, call) {
        Some(result) => result,
        None => general_row(x, n, tg, grad, p, call),
    }
}
