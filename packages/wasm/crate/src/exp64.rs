//! exp for float64, over the whole range (NaN, ±∞, overflow, subnormal results all as IEEE
//! `Math.exp`). Used by the float64 kernels and by the float32 gradients, which compute in float64.

pub const LOG2E: f64 = core::f64::consts::LOG2_E;
/// 1.5·2^52: adding it rounds to an integer held in the low mantissa bits.
pub const MAGIC: f64 = 6_755_399_441_055_744.0;
/// ln2 split so that n·LN2_HI is exact for |n| < 2^11 (LN2_HI has 42 significant bits).
pub const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
pub const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;

/// 1/k! for k = 2..=13: Taylor's remainder on |r| ≤ ln2/2 is r^14/14! < 5e-18, below half an ulp.
pub const C: [f64; 12] = [
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
];

#[inline]
pub fn exp64(t: f64) -> f64 {
    if t.is_nan() {
        return t;
    }
    if t > 709.79 {
        return f64::INFINITY;
    }
    if t < -745.2 {
        return 0.0;
    }
    let nf = t * LOG2E + MAGIC;
    let n = nf - MAGIC;
    let r = (t - n * LN2_HI) - n * LN2_LO;
    let mut q = C[11];
    let mut i = 11;
    while i > 0 {
        i -= 1;
        q = q * r + C[i];
    }
    let p = 1.0 + r * (1.0 + r * q);
    // 2^n as two factors so that n down to -1077 (subnormal results) and up to 1024 stay in range;
    // the first product is exact, the second rounds once.
    let ni = (nf.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
    let n1 = ni >> 1;
    let n2 = ni - n1;
    p * f64::from_bits(((n1 + 1023) as u64) << 52) * f64::from_bits(((n2 + 1023) as u64) << 52)
}

/// 1/(k+1)! for k = 0..=14: expm1(y) = y·Σ_k y^k/(k+1)!, whose remainder on |y| ≤ 1/2 is below
/// 0.5^15/16! < 2^-58 relative.
const E1: [f64; 15] = [
    1.0,
    1.0 / 2.0,
    1.0 / 6.0,
    1.0 / 24.0,
    1.0 / 120.0,
    1.0 / 720.0,
    1.0 / 5040.0,
    1.0 / 40320.0,
    1.0 / 362880.0,
    1.0 / 3628800.0,
    1.0 / 39916800.0,
    1.0 / 479001600.0,
    1.0 / 6227020800.0,
    1.0 / 87178291200.0,
    1.0 / 1307674368000.0,
];

/// e^y − 1 with full relative accuracy near 0, where exp64(y) − 1 would cancel (cross-entropy's
/// p_t − 1 for a confident target, tanh of a small softcapped logit). Beyond |y| = 1/2 the
/// subtraction loses at most a bit or two: |e^y − 1| > 0.39 there.
pub fn expm1_64(y: f64) -> f64 {
    if !(y.abs() <= 0.5) {
        // NaN stays NaN, −∞ gives −1, +∞ stays +∞.
        return exp64(y) - 1.0;
    }
    let mut q = E1[14];
    let mut i = 14;
    while i > 0 {
        i -= 1;
        q = q * y + E1[i];
    }
    y * q
}
