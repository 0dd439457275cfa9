//! exp for float32 rows: `exp((x - max) / T)` for `x <= max`, accurate to about one ulp.
//!
//! Why each step is written the way it is (wasm on x86 decides the speed):
//! - The difference `x - max` is never rounded on its own: its rounding error (|x - max|·2^-24)
//!   would become a relative error of the result (5e-6 at x - max = -87), far outside the 1e-6
//!   contract. Instead the reduced argument is formed as `r = (x - B) - (n·c2 + ml)` with
//!   `B = mh + n·c1` computed exactly: mh (max rounded to a grid g) and c1 (T·ln2 rounded to g) are
//!   multiples of g small enough that mh + n·c1 fits 24 bits, so the only large subtraction,
//!   `x - B`, rounds at the scale of r itself (|r| ≤ 0.36·T). ml = max - mh and c2 = T·ln2 - c1.
//! - n = round((x - max)·log2e/T) by the magic-number trick `(v + 1.5·2^23) - 1.5·2^23`: no
//!   float→int conversion (wasm's saturating `i32x4.trunc_sat_f32x4` costs several x86 instructions).
//! - 2^n is added to the exponent bits of p: the low bits of `n + 1.5·2^23` are n, so shifting that
//!   float's bits left by 23 gives `n << 23` (the magic constant's own bits shift out).
//! - n < -126 (e^t below about 2^-126) is flushed to 0, never computed as a subnormal, which x86
//!   handles through slow microcode assists. For n = -126 and r < 0 the exponent field becomes 0 and
//!   the value, though below 2^-126 like the true one, is off by up to 0.3·2^-126: the contract's
//!   atol (the smallest normal, counted only where the true result is subnormal) covers both.
//!
//! The scalar function here is the definition: the SIMD kernel performs the very same IEEE
//! operations in the same order lane by lane (wasm has no fused multiply-add), so the exhaustive
//! native test of this function measures the SIMD kernel too.

/// Coefficients of p(r) = 1 + r + r²·(P2 + r·(P3 + r·(P4 + r·P5))) ≈ e^r on |r| ≤ 0.3555
/// (ln2/2 plus the slack of an n that is off by the rounding of `x·k - max·k`): a relative-error
/// minimax fit (Lawson iterations), rounded to float32.
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

/// Largest |max·log2e/T| of the fast path: keeps the rounding of `x·k - max·k` below 2^-7, so n is
/// at most one off only within 2^-7 of a tie and |r| stays ≤ 0.3555·T. Rows beyond take the float64 path.
pub const MK_MAX: f32 = 65_536.0;

/// Per-row constants of `exp((x - max) / T)`.
#[derive(Clone, Copy, Debug)]
pub struct Exp32 {
    pub max: f32,
    /// log2(e)/T and max·k (the same float32 product the kernel forms for x = max, so n = 0 there).
    pub k: f32,
    pub mk: f32,
    /// max = mh + ml, T·ln2 ≈ c1 + c2 (see the module comment).
    pub mh: f32,
    pub ml: f32,
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
        let mk = max * k;
        if !(mk.abs() <= MK_MAX) {
            return None;
        }
        let c = temperature * core::f64::consts::LN_2;
        // Grid g = 2^(e-24): every |mh + n·c1| (n ∈ [-127, 0]) stays below 2^e, and c1/g < 2^17 so
        // that n·c1 is exact.
        let bound = (max as f64).abs() + 128.0 * c;
        let mut e = exponent(bound) + 1;
        let ec = exponent(c) + 8;
        if ec > e {
            e = ec;
        }
        let g = pow2(e - 24);
        let c1 = round_to(c, g);
        let mh = round_to(max as f64, g);
        Some(Exp32 {
            max,
            k,
            mk,
            mh: mh as f32,
            ml: (max as f64 - mh) as f32,
            c1: c1 as f32,
            c2: (c - c1) as f32,
            inv_t: (1.0 / temperature) as f32,
        })
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

/// exp((x - max)/T) for x ≤ max (x = -∞ gives 0), with the row constants `c`. `SCALED` is false
/// when T = 1 (the multiply by 1/T is exact then and is skipped).
#[inline(always)]
pub fn exp_shifted<const SCALED: bool>(x: f32, c: &Exp32) -> f32 {
    let nf = (x * c.k - c.mk) + MAGIC;
    let n = nf - MAGIC;
    let b = n * c.c1 + c.mh;
    let mut r = (x - b) - (n * c.c2 + c.ml);
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
