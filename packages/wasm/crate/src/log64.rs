//! Natural logarithm in float64 for the per-row log-sum of log-softmax (core has no `ln` without std).

const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// ln(x) for finite x ≥ 1 (a row's sum of exponentials always includes the max's 1).
pub fn ln64(x: f64) -> f64 {
    let bits = x.to_bits();
    let mut k = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > core::f64::consts::SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    // ln m = 2·atanh(f), f = (m-1)/(m+1), |f| ≤ 0.1716: the series in f² converges fast.
    let f = (m - 1.0) / (m + 1.0);
    let s = f * f;
    let mut q = 0.0;
    let mut j = 27.0;
    while j > 1.0 {
        q = q * s + 1.0 / j;
        j -= 2.0;
    }
    // ln m = 2f + 2f·s·q, kept as a small correction to 2f.
    let kf = k as f64;
    kf * LN2_HI + (2.0 * f + (2.0 * f * s * q + kf * LN2_LO))
}

/// ln(1 + a) for a ≥ 0 with full relative accuracy when a is tiny (Kahan's correction).
pub fn ln1p64(a: f64) -> f64 {
    let u = 1.0 + a;
    if u == 1.0 {
        a
    } else {
        ln64(u) * (a / (u - 1.0))
    }
}

/// ln(at_max + rest): the log of a row's Σ e^((x − max)/T), whose `at_max` entries equal to the max
/// contribute exactly 1 each and `rest` is the sum over the others. With one max, ln1p(rest) keeps
/// full relative accuracy where the max dominates (a confident row's log-prob, or loss, near 0).
#[inline(always)]
pub fn ln_sum(at_max: usize, rest: f64) -> f64 {
    if at_max == 1 {
        ln1p64(rest)
    } else {
        ln64(at_max as f64 + rest)
    }
}
