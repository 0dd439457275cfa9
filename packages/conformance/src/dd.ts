/**
 * Double-double arithmetic: a value is the unevaluated sum hi + lo of two float64 with
 * |lo| ≤ ulp(hi)/2, about 106 significant bits. The oracle uses it so that its errors are
 * ~2^-100 relative, far below float64's 2^-53, and it shares no code with any backend.
 *
 * Hot loops run a million times per oracle call, so results come back in the registers
 * `R.h` / `R.l` (and `R.k` for a power of two) instead of allocating an object per step.
 * Products assume |a|, |b| < 2^995 (Veltkamp's split multiplies by 2^27 + 1).
 */

/** Result registers written by every function below (read them right after the call). */
export const R = { h: 0, l: 0, k: 0 };

const SPLITTER = 134217729; // 2^27 + 1

/** Knuth's TwoSum: h + l = a + b exactly. */
export function twoSum(a: number, b: number): void {
  const s = a + b;
  const bb = s - a;
  R.h = s;
  R.l = a - (s - bb) + (b - bb);
}

/** Dekker's TwoProd: h + l = a · b exactly (no FMA in JavaScript, so Veltkamp splits). */
export function twoProd(a: number, b: number): void {
  const p = a * b;
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  R.h = p;
  R.l = ah * bh - p + ah * bl + al * bh + al * bl;
}

/** (ah + al) + (bh + bl), the accurate variant (both parts carried separately). */
export function add(ah: number, al: number, bh: number, bl: number): void {
  let s = ah + bh;
  let v = s - ah;
  let e = ah - (s - v) + (bh - v);
  const t = al + bl;
  v = t - al;
  const f = al - (t - v) + (bl - v);
  e += t;
  const h = s + e;
  e = e - (h - s);
  e += f;
  s = h + e;
  R.h = s;
  R.l = e - (s - h);
}

/** (ah + al) · (bh + bl). */
export function mul(ah: number, al: number, bh: number, bl: number): void {
  const p = ah * bh;
  let t = SPLITTER * ah;
  const xh = t - (t - ah);
  const xl = ah - xh;
  t = SPLITTER * bh;
  const yh = t - (t - bh);
  const yl = bh - yh;
  let e = xh * yh - p + xh * yl + xl * yh + xl * yl;
  e += ah * bl + al * bh;
  const s = p + e;
  R.h = s;
  R.l = e - (s - p);
}

/** (ah + al) · b for a float64 b. */
export function mulD(ah: number, al: number, b: number): void {
  twoProd(ah, b);
  const p = R.h;
  const e = R.l + al * b;
  const s = p + e;
  R.h = s;
  R.l = e - (s - p);
}

/** (ah + al) / (bh + bl): three correction steps of long division. */
export function div(ah: number, al: number, bh: number, bl: number): void {
  const q1 = ah / bh;
  mulD(bh, bl, q1);
  add(ah, al, -R.h, -R.l);
  const q2 = R.h / bh;
  const rh = R.h;
  const rl = R.l;
  mulD(bh, bl, q2);
  add(rh, rl, -R.h, -R.l);
  const q3 = R.h / bh;
  const s = q1 + q2;
  add(s, q2 - (s - q1), q3, 0);
}

/** The exponent e of a finite nonzero v: |v| = m·2^e with m in [1, 2) (or [0.5, 4): log2 may round). */
function exponentOf(v: number): number {
  return Math.floor(Math.log2(Math.abs(v)));
}

/**
 * (ah + al) · b / t for a float64 t > 0, for factors of any magnitude. div's products underflow
 * for operands far below 1 and its splits overflow far above it (so does a subnormal product's
 * low part), so the mantissas are multiplied and divided (each factor scaled by a power of two
 * into [0.5, 4), which is exact) and the quotient is scaled back once.
 */
export function mulDivFloat(ah: number, al: number, b: number, t: number): void {
  if (ah === 0 || b === 0 || !Number.isFinite(ah) || !Number.isFinite(b)) {
    R.h = (ah * b) / t;
    R.l = 0;
    return;
  }
  const ea = exponentOf(ah);
  const eb = exponentOf(b);
  const et = exponentOf(t);
  mulD(scale(ah, -ea), scale(al, -ea), scale(b, -eb));
  div(R.h, R.l, scale(t, -et), 0);
  const k = ea + eb - et;
  const h = scale(R.h, k);
  R.l = Number.isFinite(h) ? scale(R.l, k) : 0;
  R.h = h;
}

/** (h + l) / t for a float64 t > 0 of any magnitude (see mulDivFloat). */
export function divFloat(h: number, l: number, t: number): void {
  mulDivFloat(h, l, 1, t);
}

/** ln 2 as a double-double (QD library constant; correct to ~2^-107). */
export const LN2_HI = Math.LN2;
export const LN2_LO = 2.3190468138462996e-17;

/** 1/n! as double-doubles, n = 0..COEFFS-1, for the Taylor series. */
const COEFFS = 28;
const INV_FACT_H = new Float64Array(COEFFS);
const INV_FACT_L = new Float64Array(COEFFS);
{
  let h = 1;
  let l = 0;
  for (let n = 0; n < COEFFS; n++) {
    if (n > 0) {
      div(h, l, n, 0);
      h = R.h;
      l = R.l;
    }
    INV_FACT_H[n] = h;
    INV_FACT_L[n] = l;
  }
}

/** Σ_{n=first}^{last} r^n/n! by Horner in double-double. */
function taylor(rh: number, rl: number, first: number, last: number): void {
  let h = INV_FACT_H[last];
  let l = INV_FACT_L[last];
  for (let n = last - 1; n >= first; n--) {
    mul(h, l, rh, rl);
    add(R.h, R.l, INV_FACT_H[n], INV_FACT_L[n]);
    h = R.h;
    l = R.l;
  }
  for (let n = 0; n < first; n++) {
    mul(h, l, rh, rl);
    h = R.h;
    l = R.l;
  }
  R.h = h;
  R.l = l;
}

/**
 * Table of exp(i/STEPS) for |i| ≤ TABLE_HALF, built once with a long Taylor series
 * (|i/STEPS| ≤ 0.36, 28 terms: the truncation is below 1e-34).
 */
const STEPS = 1024;
const TABLE_HALF = 360; // ln2/2 · 1024 ≈ 355
const TABLE_H = new Float64Array(2 * TABLE_HALF + 1);
const TABLE_L = new Float64Array(2 * TABLE_HALF + 1);
for (let i = -TABLE_HALF; i <= TABLE_HALF; i++) {
  taylor(i / STEPS, 0, 0, COEFFS - 1);
  TABLE_H[i + TABLE_HALF] = R.h;
  TABLE_L[i + TABLE_HALF] = R.l;
}

/** Below this, exp(z) < 2^-1110: it rounds to 0 in every dtype, and as a summand next to 1 it is nothing. */
export const EXP_UNDERFLOW = -770;

/**
 * exp(zh + zl) = 2^k · (h + l), with h + l in [0.7, 1.42], so results far below float64's
 * range keep their full precision until the caller scales them once. Range reduction:
 * z = k·ln2 + i/1024 + r with |r| ≤ 1/2048, then exp(r) by a 9-term Taylor series
 * (truncation ≤ (1/2048)^9/9! ≈ 5e-36) times the table entry exp(i/1024).
 * Sets R.h = R.l = 0, R.k = 0 when z < EXP_UNDERFLOW (including −Infinity).
 */
export function expScaled(zh: number, zl: number): void {
  if (!(zh >= EXP_UNDERFLOW)) {
    R.h = zh !== zh ? Number.NaN : 0;
    R.l = 0;
    R.k = 0;
    return;
  }
  const k = Math.round(zh / LN2_HI);
  // r = z − k·ln2, with k·ln2 formed exactly enough (k < 2^11, so k·LN2_LO's rounding is ~2^-120).
  twoProd(k, LN2_HI);
  const ph = R.h;
  const pl = R.l + k * LN2_LO;
  add(zh, zl, -ph, -pl);
  const i = Math.round(R.h * STEPS);
  add(R.h, R.l, -i / STEPS, 0);
  taylor(R.h, R.l, 0, 9);
  mul(R.h, R.l, TABLE_H[i + TABLE_HALF], TABLE_L[i + TABLE_HALF]);
  R.k = k;
}

/** 2^k as a float64 for −1074 ≤ k ≤ 1023 (exact), else 0 / Infinity. */
export function pow2(k: number): number {
  return 2 ** k;
}

/** h · 2^k rounded once, also when the result is subnormal and 2^k alone would underflow. */
export function scale(h: number, k: number): number {
  if (k >= -1000) return k > 1000 ? h * pow2(1000) * pow2(k - 1000) : h * pow2(k);
  return h * pow2(k + 200) * pow2(-200);
}

/** exp(zh + zl) as a double-double in R.h, R.l (valid while the result is a normal float64). */
export function exp(zh: number, zl: number): void {
  expScaled(zh, zl);
  const f = pow2(R.k);
  R.h *= f;
  R.l *= f;
}

/** expm1(y) for |y| ≤ 0.5 by its Taylor series (26 terms: truncation < 1e-34), no cancellation. */
function expm1Small(yh: number, yl: number): void {
  taylor(yh, yl, 1, COEFFS - 2);
}

/**
 * log(1 + (uh + ul)) for u ≥ 0. A float64 start y0 has relative error ~2^-53; one Newton
 * step squares it (~2^-106). For small u the step uses expm1 (a series without the
 * cancellation of exp(y) − 1), so tiny results keep full *relative* precision.
 */
export function log1p(uh: number, ul: number): void {
  if (uh === 0) {
    R.h = 0;
    R.l = 0;
    return;
  }
  if (uh <= 0.5) {
    const y0 = Math.log1p(uh);
    expm1Small(y0, 0);
    const eh = R.h;
    const el = R.l;
    add(eh, el, -uh, -ul); // expm1(y0) − u
    const dh = R.h;
    const dl = R.l;
    div(dh, dl, 1 + eh, 0); // / (1 + expm1(y0)); the denominator needs little precision
    add(y0, 0, -R.h, -R.l);
    return;
  }
  twoSum(1, uh);
  const sh = R.h;
  const sl = R.l + ul;
  log(sh, sl);
}

/** log(sh + sl) for s > 0: Newton on exp, y1 = y0 + s·exp(−y0) − 1. */
export function log(sh: number, sl: number): void {
  const y0 = Math.log(sh);
  exp(-y0, 0);
  mul(sh, sl, R.h, R.l);
  add(R.h, R.l, -1, 0);
  add(y0, 0, R.h, R.l);
}
