//! Logit soft-capping (Gemma 2): z = c·tanh(x/c), and its derivative 1 − tanh²(x/c), both to a few
//! ulp in float64 over the whole range (core has no tanh without std).

use crate::exp64::{exp64, expm1_64};

/// (tanh u, 1 − tanh² u). Below |u| = 1/2, from m = e^(−2|u|) − 1 (expm1, no cancellation):
/// tanh = −m/(2 + m), and 1 − tanh² ≥ 0.78 has none either. Above it, from e = e^(−2|u|) < 0.37:
/// tanh = (1 − e)/(1 + e) and 1 − tanh² = 4e/(1 + e)², which keeps its relative accuracy where
/// tanh rounds to 1 (1 − tanh² computed as such would be all rounding error there). Kept out of
/// line: only the float64 route calls it, where the exps around it dominate.
#[inline(never)]
pub fn tanh_sech2(u: f64) -> (f64, f64) {
    let a = u.abs();
    let (t, s) = if a <= 0.5 {
        let m = expm1_64(-2.0 * a);
        let t = -m / (2.0 + m);
        (t, 1.0 - t * t)
    } else {
        // NaN passes through both.
        let e = exp64(-2.0 * a);
        let d = 1.0 + e;
        ((1.0 - e) / d, 4.0 * e / (d * d))
    };
    (if u < 0.0 || (u == 0.0 && u.is_sign_negative()) { -t } else { t }, s)
}

/// c·tanh(x/c) for a softcap c > 0, and its derivative with respect to x, 1 − tanh²(x/c).
pub fn softcap(x: f64, c: f64) -> (f64, f64) {
    let (t, s) = tanh_sech2(x / c);
    (c * t, s)
}
