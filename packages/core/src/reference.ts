import type { FloatArray, FullyMasked } from './types.js';

/**
 * The reference kernels: one row at a time, in float64, rounded once when stored into a
 * Float32Array. They are the oracle the other backends are measured against, so they favour
 * being plainly right over being fast. Each row is read completely before it is written,
 * which makes out === input (in place) safe.
 *
 * Special values (the rule every backend follows):
 *   any NaN in a row           → the whole row is NaN
 *   k entries are +Infinity    → each of them gets 1/k, every other entry 0 (the limit)
 *   −Infinity entries          → exactly 0 (log-softmax: −Infinity)
 *   every entry is −Infinity   → NaN, or 0 with fullyMasked 'zero' (log-softmax: −Infinity)
 */

/**
 * Sum with Neumaier's compensation: the error stays within a few ulp of the exact sum (for
 * terms of one sign; of the condition number otherwise) however long the row, so a
 * 1,000,000-element row sums as well as a short one.
 */
export function compensatedSum(values: Float64Array, length: number): number {
  let sum = 0;
  let carry = 0;
  for (let i = 0; i < length; i++) {
    const v = values[i];
    const t = sum + v;
    carry += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + carry;
}

/**
 * (v − max) / T without a spurious overflow: for huge values of opposite signs v − max can exceed
 * the float64 range while the quotient does not (T > 1). Halving both first is exact there (neither
 * can be subnormal when their difference overflows), and the doubling overflows only if the true
 * result does.
 */
export function shifted(v: number, max: number, temperature: number): number {
  const d = v - max;
  if (d === Number.NEGATIVE_INFINITY && v !== Number.NEGATIVE_INFINITY) {
    return ((v * 0.5 - max * 0.5) / temperature) * 2;
  }
  return d / temperature;
}

/** The temperature as m · 2^k (m near 1), so the division's remainder is formed without overflow or underflow. */
export interface Divisor {
  temperature: number;
  /** m, and its Veltkamp halves (26 bits each, products of halves are exact). */
  m: number;
  mHi: number;
  mLo: number;
  /** 2^-k as two factors, each a normal power of two (2^-k alone overflows for subnormal T). */
  down1: number;
  down2: number;
}

const SPLITTER = 134217729; // 2^27 + 1

export function divisorOf(temperature: number): Divisor {
  const k = Math.floor(Math.log2(temperature));
  const half = Math.trunc(-k / 2);
  const down1 = 2 ** half;
  const down2 = 2 ** (-k - half);
  const m = temperature * down1 * down2;
  const t = SPLITTER * m;
  const mHi = t - (t - m);
  return { temperature, m, mHi, mLo: m - mHi, down1, down2 };
}

const HUGE = 2 ** 1022;

/**
 * exp((v − max) / T) with the rounding errors of its argument put back. exp turns an absolute
 * error δ in its argument into a relative error δ, and rounding z = (v − max)/T costs up to
 * 2u·|z|: 7e-14 at z ≈ −670, where exp(z) ≈ 1e-291 is still a normal number. So z is formed as
 * zh + zl — Two-Sum for the difference, the exact remainder d − q·T for the quotient — and
 * exp(z) = exp(zh)·(1 + zl): |zl| < 2^-42, so the dropped zl²/2 is far below an ulp.
 */
function expShifted(v: number, max: number, t: Divisor): number {
  const d = v - max;
  // Beyond 2^1022 in magnitude, v − max and the Two-Sum below (d − v) can overflow for values of
  // opposite signs: halving both is exact there (neither is subnormal). With d ≥ −2^1022 and
  // max < 2^1022 (so v too, as v ≤ max) every term stays below 2^1023: the common case, tested
  // by two comparisons of values at hand (a test of |v| and |max| costs the oracle 15%).
  if (d > -HUGE && max < HUGE) return expOf(v, max, d, 1, t);
  if (v === Number.NEGATIVE_INFINITY) return 0;
  return Math.abs(v) >= HUGE || Math.abs(max) >= HUGE
    ? expOf(v, max, v * 0.5 - max * 0.5, 0.5, t)
    : expOf(v, max, d, 1, t);
}

/** expShifted for d = v·f − max·f, rounded (f = 1, or ½ for huge values). */
function expOf(v: number, max: number, d: number, f: number, t: Divisor): number {
  const q = d / t.temperature;
  const zh = q / f;
  // Below 1 in magnitude the argument's error is under 2u anyway; below −746 exp is 0.
  if (!(zh < -1 && zh > -746)) return Math.exp(zh);
  // Two-Sum: d + dl = v·f − max·f exactly.
  const b = d - v * f;
  const dl = v * f - (d - b) + (-max * f - b);
  if (t.temperature === 1) return withLow(Math.exp(zh), dl / f);
  // Scaled by 2^-k, d becomes q·m (|q| in [0.5, 746]): the products below neither overflow nor underflow.
  const ds = d * t.down1 * t.down2;
  const dls = dl * t.down1 * t.down2;
  // Dekker's product: p + pe = q·m exactly.
  const s = SPLITTER * q;
  const qHi = s - (s - q);
  const qLo = q - qHi;
  const p = q * t.m;
  const pe = qHi * t.mHi - p + qHi * t.mLo + qLo * t.mHi + qLo * t.mLo;
  // ds − p is exact (they are within a few ulp of each other); the rest is the remainder.
  const zl = (ds - p - pe + dls) / t.m / f;
  return withLow(Math.exp(zh), zl);
}

/** e·(1 + zl) ≈ exp(zh + zl) for e = exp(zh), as e + e·zl: forming 1 + zl first would round zl away. */
function withLow(e: number, zl: number): number {
  return e + e * zl;
}

interface RowScratch {
  values: Float64Array;
}

function scratchFor(state: RowScratch, cols: number): Float64Array {
  if (state.values.length < cols) state.values = new Float64Array(cols);
  return state.values;
}

/**
 * Fills `e` with exp((x_j − max) / T) for a row whose max is finite, and returns
 * how many entries equal the max (each contributes exactly 1) and the sum of the rest.
 * Keeping the max's own 1 out of `rest` lets log-softmax use log1p(rest), which keeps
 * full relative accuracy when the max dominates and log(sum) is tiny.
 */
export function exponentials(x: FloatArray, offset: number, cols: number, max: number, t: Divisor, e: Float64Array) {
  let atMax = 0;
  for (let j = 0; j < cols; j++) {
    const v = x[offset + j];
    if (v === max) {
      atMax++;
      e[j] = 0;
    } else {
      e[j] = expShifted(v, max, t);
    }
  }
  const rest = compensatedSum(e, cols);
  for (let j = 0; j < cols; j++) if (x[offset + j] === max) e[j] = 1;
  return { atMax, rest };
}

/** Row statistics that decide which special-value rule applies. */
export function rowMax(x: FloatArray, offset: number, cols: number): { max: number; hasNaN: boolean; posInf: number } {
  let max = Number.NEGATIVE_INFINITY;
  let hasNaN = false;
  let posInf = 0;
  for (let j = 0; j < cols; j++) {
    const v = x[offset + j];
    if (v !== v) hasNaN = true;
    else if (v > max) max = v;
    if (v === Number.POSITIVE_INFINITY) posInf++;
  }
  return { max, hasNaN, posInf };
}

/** The arguments of the forward reference kernels: rows × cols `x` in, `out` (which may be `x`) written. */
export interface ForwardArgs {
  /** The logits, rows × cols. */
  x: FloatArray;
  /** Written: rows × cols. */
  out: FloatArray;
  /** The number of rows. */
  rows: number;
  /** The row length. */
  cols: number;
  /** T > 0. */
  temperature: number;
  /** What a row of only −Infinity gives. */
  fullyMasked: FullyMasked;
}

function forward(args: ForwardArgs, log: boolean): void {
  const { x, out, rows, cols, temperature, fullyMasked } = args;
  const state: RowScratch = { values: new Float64Array(0) };
  const divisor = divisorOf(temperature);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const { max, hasNaN, posInf } = rowMax(x, offset, cols);
    if (hasNaN) {
      out.fill(Number.NaN, offset, offset + cols);
    } else if (posInf > 0) {
      // The limit of softmax as the +Infinity entries grow together: they share the mass.
      const share = log ? -Math.log(posInf) : 1 / posInf;
      const zero = log ? Number.NEGATIVE_INFINITY : 0;
      for (let j = 0; j < cols; j++) out[offset + j] = x[offset + j] === Number.POSITIVE_INFINITY ? share : zero;
    } else if (max === Number.NEGATIVE_INFINITY) {
      const value = fullyMasked === 'nan' ? Number.NaN : log ? Number.NEGATIVE_INFINITY : 0;
      out.fill(value, offset, offset + cols);
    } else {
      const e = scratchFor(state, cols);
      const { atMax, rest } = exponentials(x, offset, cols, max, divisor, e);
      if (log) {
        const logSum = atMax === 1 ? Math.log1p(rest) : Math.log(atMax + rest);
        for (let j = 0; j < cols; j++) {
          // Both terms are ≤ 0, so this subtraction never cancels.
          e[j] = shifted(x[offset + j], max, temperature) - logSum;
        }
      } else {
        const sum = atMax + rest;
        for (let j = 0; j < cols; j++) e[j] /= sum;
      }
      for (let j = 0; j < cols; j++) out[offset + j] = e[j];
    }
  }
}

/**
 * softmax(x / T) per row, in float64, rounded once into `out`.
 *
 * @example
 * ```ts
 * import { referenceSoftmax } from '@softmax/core/backend';
 *
 * const x = new Float32Array([1, 2, 3, 4]);
 * const out = new Float32Array(4);
 * referenceSoftmax({ x, out, rows: 2, cols: 2, temperature: 1, fullyMasked: 'nan' }); // no validation: a kernel
 * ```
 */
export function referenceSoftmax(args: ForwardArgs): void {
  forward(args, false);
}

/**
 * log-softmax(x / T) per row, in float64, rounded once into `out`.
 *
 * @example
 * ```ts
 * import { referenceLogSoftmax } from '@softmax/core/backend';
 *
 * const x = new Float64Array([0, Math.log(3)]);
 * referenceLogSoftmax({ x, out: x, rows: 1, cols: 2, temperature: 1, fullyMasked: 'nan' }); // in place: [log 1/4, log 3/4]
 * ```
 */
export function referenceLogSoftmax(args: ForwardArgs): void {
  forward(args, true);
}

/** The arguments of the gradient reference kernels: `y` and `dy` in, `out` (which may be either) written. */
export interface BackwardArgs {
  /** The forward output (softmax, or log-softmax for its gradient). */
  y: FloatArray;
  /** The upstream gradient. */
  dy: FloatArray;
  /** Written: the gradient with respect to the raw logits. */
  out: FloatArray;
  /** The number of rows. */
  rows: number;
  /** The row length. */
  cols: number;
  /** The forward call's T. */
  temperature: number;
}

const MIN_NORMAL = 2 ** -1022;

/**
 * a·b / t. Below 1, t brings a subnormal product a·b back into range, with the bits its rounding
 * lost: then the smaller factor is scaled by 2^600 first (exact: it is below 2^-511, so nothing
 * overflows, and the product is normal) and the quotient scaled back once.
 */
function productOver(a: number, b: number, t: number): number {
  const p = a * b;
  if (t >= 1 || !(Math.abs(p) < MIN_NORMAL) || a === 0 || b === 0) return p / t;
  const up = Math.abs(a) < Math.abs(b) ? a * 2 ** 600 * b : a * (b * 2 ** 600);
  return (up / t) * 2 ** -600;
}

/**
 * dx = y ⊙ (dy − Σ dy·y) / T, per row; y is the softmax output.
 *
 * @example
 * ```ts
 * import { referenceSoftmaxBackward } from '@softmax/core/backend';
 *
 * const y = new Float64Array([0.25, 0.75]); // a softmax output
 * const dy = new Float64Array([1, 0]);
 * const out = new Float64Array(2);
 * referenceSoftmaxBackward({ y, dy, out, rows: 1, cols: 2, temperature: 1 }); // [0.1875, -0.1875]
 * ```
 */
export function referenceSoftmaxBackward({ y, dy, out, rows, cols, temperature }: BackwardArgs): void {
  const state: RowScratch = { values: new Float64Array(0) };
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const t = scratchFor(state, cols);
    for (let j = 0; j < cols; j++) t[j] = dy[offset + j] * y[offset + j];
    const dot = compensatedSum(t, cols);
    for (let j = 0; j < cols; j++) t[j] = productOver(y[offset + j], dy[offset + j] - dot, temperature);
    for (let j = 0; j < cols; j++) out[offset + j] = t[j];
  }
}

/**
 * dx = (dy − exp(y) · Σ dy) / T, per row; y is the log-softmax output.
 *
 * @example
 * ```ts
 * import { referenceLogSoftmaxBackward } from '@softmax/core/backend';
 *
 * const y = new Float64Array([Math.log(0.25), Math.log(0.75)]); // a log-softmax output
 * const dy = new Float64Array([1, 0]);
 * referenceLogSoftmaxBackward({ y, dy, out: dy, rows: 1, cols: 2, temperature: 1 }); // [0.75, -0.75], in place
 * ```
 */
export function referenceLogSoftmaxBackward({ y, dy, out, rows, cols, temperature }: BackwardArgs): void {
  const state: RowScratch = { values: new Float64Array(0) };
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const t = scratchFor(state, cols);
    for (let j = 0; j < cols; j++) t[j] = dy[offset + j];
    const total = compensatedSum(t, cols);
    for (let j = 0; j < cols; j++) t[j] = (dy[offset + j] - Math.exp(y[offset + j]) * total) / temperature;
    for (let j = 0; j < cols; j++) out[offset + j] = t[j];
  }
}

/** The arguments of the per-row reference kernels (`logSumExp`). */
export interface RowStatArgs {
  /** The logits, rows × cols. */
  x: FloatArray;
  /** One value per row. */
  out: FloatArray;
  /** The number of rows. */
  rows: number;
  /** The row length. */
  cols: number;
  /** T > 0. */
  temperature: number;
}

/**
 * log Σ_j exp(x_j / T) per row, as max/T + log Σ exp((x_j − max)/T): no finite input overflows
 * unless the result does. The row's maximum contributes its 1 exactly and log1p takes the rest,
 * so a dominant logit keeps full accuracy. NaN in a row gives NaN, a +Infinity gives +Infinity,
 * a row of only −Infinity gives −Infinity (an empty sum).
 *
 * @example
 * ```ts
 * import { referenceLogSumExp } from '@softmax/core/backend';
 *
 * const x = new Float64Array([0, 0, 1, 1]);
 * const out = new Float64Array(2); // one per row
 * referenceLogSumExp({ x, out, rows: 2, cols: 2, temperature: 1 }); // [log 2, 1 + log 2]
 * ```
 */
export function referenceLogSumExp({ x, out, rows, cols, temperature }: RowStatArgs): void {
  const state: RowScratch = { values: new Float64Array(0) };
  const t = divisorOf(temperature);
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const { max, hasNaN, posInf } = rowMax(x, offset, cols);
    if (hasNaN) out[r] = Number.NaN;
    else if (posInf > 0) out[r] = Number.POSITIVE_INFINITY;
    else if (max === Number.NEGATIVE_INFINITY) out[r] = Number.NEGATIVE_INFINITY;
    else {
      const { atMax, rest } = exponentials(x, offset, cols, max, t, scratchFor(state, cols));
      out[r] = max / temperature + (atMax === 1 ? Math.log1p(rest) : Math.log(atMax + rest));
    }
  }
}
