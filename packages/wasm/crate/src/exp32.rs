//! exp for float32 rows: `exp((x - s) / T)` for `x <= max`, accurate to about one ulp, where the
//! shift `s` is a float32 just below the row max chosen so that the reduction is cheap and exact.
//! Softmax is invariant under the shift (every term is multiplied by the same `e^((max - s)/T)`,
//! which lies in [1, 1.0001·2)); log-softmax divides it back out in float64 (`Exp32::log_shift`).
//!
//! Why each step is written the way it is (wasm on x86 decides the speed):
//! - The difference `x - max` is never rounded on its own: its rounding error (|x - max|·2^-24)
//!   would become a relative error of the result (5e-6 at x - max = -87), far outside the 1e-6
//!   contract. The reduced argument is `r = (x - b) - n·c2` with `b = s + n·c1` computed exactly:
//!   s (the shift) and c1 (T·ln2 rounded) are multiples of a grid g small enough that s + n·c1
//!   fits 24 bits, so the only large subtraction, `x - b`, rounds at the scale of r itself
//!   (|r| ≤ 0.36·T). c2 = T·ln2 - c1 is tiny, so n·c2 is nearly exact.
//! - s is a multiple of g with s·log2(e)/T within 2^-7 of an integer M, M = floor(max·log2(e)/T).
//!   Then n = round((x - s)·log2(e)/T) comes from the absolute product: `(x·k + (1.5·2^23 - M))`
//!   rounds x·k - M to an integer (the magic-number trick; no float→int conversion, since wasm's
//!   saturating `i32x4.trunc_sat_f32x4` costs several x86 instructions), and subtracting 1.5·2^23
//!   gives n. That is two operations fewer than shifting by max itself (no `- max·k`, no low
//!   part of max to subtract), and s ≤ max keeps e^((x - s)/T) ≥ e^((x - max)/T), see flushing.
//! - 2^n is added to the exponent bits of p: the low bits of `n + 1.5·2^23` are n, so shifting that
//!   float's bits left by 23 gives `n << 23` (the magic constant's own bits shift out).
//! - n < -126 (e^((x - s)/T) below about 2^-126) is flushed to 0, never computed as a subnormal,
//!   which x86 handles through slow microcode assists. Since s ≤ max and the row sum is ≥ 1, every
//!   flushed entry's true softmax value is below 2^-126 too. For n = -126 and r < 0 the exponent
//!   field becomes 0 and the value, though below 2^-126 like the true one, is off by up to
//!   0.3·2^-126: the contract's atol (the smallest normal, counted only where the true result is
//!   subnormal) covers both.
//!
//! The scalar function here is the definition: the SIMD kernel performs the very same IEEE
//! operations in the same order lane by lane (wasm has no fused multiply-add), so the exhaustive
//! native test of this function measures the SIMD kernel too.

/// Coefficients of p(r) = 1 + r + r²·(P2 + r·(P3 + r·(P4 + r·P5))) ≈ e^r on |r| ≤ 0.3555
/// (ln2/2 plus the slack of an n that is off by the roundings of `x·k` and of s, see MK_MAX):
/// a relative-error minimax fit (Lawson iterations), rounded to float32.
pub const P2: f32 = 0.499_991_54;
pub const P3: f32 = 0.166_671_63;
pub const P4: f32 = 0.041_901_49;
pub const P5: f32 = 0.008_311_287;

/// 1.5·2^23: adding it rounds a float of magnitude < 2^22 to an integer held in the low mantissa bits.
pub const MAGIC: f32 = 12_582_912.0;

/// `n + MAGIC` below this means n < -126: the result is flushed to zero.
pub const NF_CUT: f32 = MAGIC - 126.0;

/// Temperatures the float32 fast path accepts; outside, rows take the float64 path.
pub const T_MIN: f64 = 1.0 / 1_099_511_627_776.0; // 2^-40
pub const T_MAX: f64 = 1_099_511_627_776.0; // 2^40

/// Largest |max·log2e/T| of the fast path. n can be one off round((x - s)·log2e/T) only near a
/// tie, by the rounding of k = log2e/T and of x·k (2^-23·|x·k| together) and by s·k's distance from
/// M (≤ g·k ≤ 2^-22·(|max·k| + 130)): below 2^-7 in all when |max·k| ≤ 2^15, so
/// |r| ≤ (0.5 + 2^-7 + ε)·T·ln2 ≤ 0.3555·T, the polynomial's range. Rows beyond take the float64 path.
pub const MK_MAX: f32 = 32_768.0;

/// Per-row constants of `exp((x - s) / T)`.
#[derive(Clone, Copy, Debug)]
pub struct Exp32 {
    pub max: f32,
    /// log2(e)/T.
    pub k: f32,
    /// MAGIC - M, M = floor(max·log2e/T): `x·k + cm` is `n + MAGIC`.
    pub cm: f32,
    /// The shift s ≤ max, s = M·T·ln2 rounded down to the grid g.
    pub s: f32,
    /// T·ln2 ≈ c1 + c2 (see the module comment).
    pub c1: f32,
    pub c2: f32,
    /// 1/T; when T = 1 the kernels skip the (exact) multiply.
    pub inv_t: f32,
}

impl Exp32 {
    /// Constants for a row with a finite max and a temperature in [T_MIN, T_MAX], or None when the
    /// row is outside the fast path's range.
    pub fn new(max: f32, temperature: f64) -> Option<Exp32> {
        let k = (core::f64::consts::LOG2_E / temperature) as f32;
        if !((max * k).abs() <= MK_MAX) {
            return None;
        }
        let c = temperature * core::f64::consts::LN_2;
        let m = floor(max as f64 * core::f64::consts::LOG2_E / temperature);
        // Grid g = 2^(e-24): every |s + n·c1| (n ∈ [-127, 1], |s| ≤ |max| + c) stays below 2^e,
        // and c1/g < 2^17 so that n·c1 is exact.
        let bound = (max as f64).abs() + 130.0 * c;
        let mut e = exponent(bound) + 1;
        let ec = exponent(c) + 8;
        if ec > e {
            e = ec;
        }
        let g = pow2(e - 24);
        let c1 = round_to(c, g);
        // s = M·c rounded down to the grid; M·c ≤ max up to float64 rounding, and the grid points
        // are multiples of max's own ulp, so s ≤ max (checked anyway).
        let mut s = floor(m * c / g) * g;
        if s > max as f64 {
            s -= g;
        }
        Some(Exp32 {
            max,
            k,
            cm: MAGIC - m as f32,
            s: s as f32,
            c1: c1 as f32,
            c2: (c - c1) as f32,
            inv_t: (1.0 / temperature) as f32,
        })
    }

    /// (max - s)/T ≥ 0: `exp_shifted(x)` is e^((x - max)/T) times e^log_shift.
    pub fn log_shift(&self, temperature: f64) -> f64 {
        // Both are float32, so the difference is exact in float64.
        (self.max as f64 - self.s as f64) / temperature
    }
}

/// floor(v) for |v| < 2^52 (no_std has no f64::floor).
fn floor(v: f64) -> f64 {
    let t = v as i64 as f64;
    if t > v {
        t - 1.0
    } else {
        t
    }
}

/// The e with 2^(e-1) ≤ v < 2^e, for finite v > 0.
fn exponent(v: f64) -> i32 {
    ((v.to_bits() >> 52) & 0x7ff) as i32 - 1022
}

fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// v rounded to a multiple of g (a power of two), ties away from zero; exact in float64 here.
fn round_to(v: f64, g: f64) -> f64 {
    let q = v / g;
    let r = if q >= 0.0 { (q + 0.5) as i64 } else { -((-q + 0.5) as i64) };
    r as f64 * g
}

/// p(r) ≈ e^r, Horner form ending in `1 + r·q` so that the last rounding dominates.
#[inline(always)]
pub fn poly(r: f32) -> f32 {
    let mut q = P5;
    q = q * r + P4;
    q = q * r + P3;
    q = q * r + P2;
    q = q * r + 1.0;
    q * r + 1.0
}

/// exp((x - s)/T) for x ≤ max (x = -∞ gives 0), with the row constants `c`. `SCALED` is false
/// when T = 1 (the multiply by 1/T is exact then and is skipped).
#[inline(always)]
pub fn exp_shifted<const SCALED: bool>(x: f32, c: &Exp32) -> f32 {
    let nf = x * c.k + c.cm;
    let n = nf - MAGIC;
    let b = n * c.c1 + c.s;
    let mut r = (x - b) - n * c.c2;
    if SCALED {
        r *= c.inv_t;
    }
    let p = poly(r);
    let e = f32::from_bits(p.to_bits().wrapping_add(nf.to_bits() << 23));
    if nf < NF_CUT {
        0.0
    } else {
        e
    }
}
