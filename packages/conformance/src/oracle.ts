import type { Dtype, FloatArray, FullyMasked } from '@softmax/core';
import {
  add,
  div,
  divFloat,
  EXP_UNDERFLOW,
  expScaled,
  log,
  log1p,
  mul,
  mulD,
  mulDivFloat,
  R,
  scale,
  twoProd,
  twoSum,
} from './dd.js';
import { roundToFloat32 } from './dtypes.js';

/**
 * The oracle: softmax, log-softmax and both gradients in double-double (~106 bits), rounded
 * once to the output dtype. It is written independently of `@softmax/core` (it only borrows
 * its types) and carries its own special-value rules, so the suite can measure every
 * backend — core included — against something far more precise than float64.
 *
 * Special values (the rule every backend follows):
 *   any NaN in a row           → the whole row is NaN
 *   k entries are +Infinity    → each of them 1/k (log: −log k), every other entry 0 (log: −Infinity)
 *   −Infinity entries          → exactly 0 (log-softmax: −Infinity)
 *   every entry is −Infinity   → NaN, or with fullyMasked 'zero' 0 (log-softmax: −Infinity)
 */

export interface OracleForwardOptions {
  /** Row length; default: one row. */
  cols?: number;
  /** T; default 1. */
  temperature?: number;
  /** What a row of only −Infinity gives; default 'nan'. */
  fullyMasked?: FullyMasked;
  /** Output dtype; default: float32 for a Float32Array input, else float64. */
  dtype?: Dtype;
}

/** The options of the gradient oracles. */
export interface OracleBackwardOptions {
  /** Row length; default: one row. */
  cols?: number;
  /** The forward call's T; default 1. */
  temperature?: number;
  /** Output dtype; default float64. */
  dtype?: Dtype;
}

type Rounder = (hi: number, lo: number) => number;

const ROUNDERS: Readonly<Record<Dtype, Rounder>> = {
  float32: roundToFloat32,
  float64: (hi) => hi,
};

function resolve(x: ArrayLike<number>, cols: number | undefined, dtype: Dtype | undefined) {
  const length = x.length;
  const c = cols ?? length;
  if (length > 0 && (!Number.isInteger(c) || c <= 0 || length % c !== 0)) {
    throw new RangeError(`oracle: length ${length} is not a multiple of cols ${c}`);
  }
  const d: Dtype = dtype ?? (x instanceof Float32Array ? 'float32' : 'float64');
  const out: FloatArray = d === 'float32' ? new Float32Array(length) : new Float64Array(length);
  return { rows: length === 0 ? 0 : length / c, cols: c, out, round: ROUNDERS[d] };
}

/** Scratch reused across rows (and calls): exp mantissas, exponents and the scaled logits. */
function makeScratch(cols: number) {
  const f = () => new Float64Array(cols);
  return { mh: f(), ml: f(), k: f(), zh: f(), zl: f() };
}
let scratch = makeScratch(0);

/**
 * z = (x − max) / T as a double-double in R. If x − max overflows (only float64 inputs of
 * magnitude near 1.8e308), the halves are subtracted instead (halving such numbers is
 * exact) and doubled after the division, so a finite true z stays finite.
 */
function scaledLogit(x: number, max: number, temperature: number): void {
  twoSum(x, -max);
  let doubled = false;
  if (R.h === Number.NEGATIVE_INFINITY) {
    twoSum(x * 0.5, -max * 0.5);
    doubled = true;
  }
  // Any temperature: from the smallest subnormal to the largest finite value.
  if (temperature !== 1) divFloat(R.h, R.l, temperature);
  if (doubled) {
    R.h *= 2;
    R.l = Number.isFinite(R.h) ? R.l * 2 : 0;
  }
}

/** The row's largest entry below +Infinity, and whether it holds NaN or how many +Infinity. */
function rowScan(x: ArrayLike<number>, offset: number, cols: number) {
  let max = Number.NEGATIVE_INFINITY;
  let hasNaN = false;
  let posInf = 0;
  for (let j = 0; j < cols; j++) {
    const v = x[offset + j];
    if (v !== v) hasNaN = true;
    else if (v === Number.POSITIVE_INFINITY) posInf++;
    else if (v > max) max = v;
  }
  return { max, hasNaN, posInf };
}

/**
 * Fills the scratch with z_j = (x_j − max)/T and exp(z_j) as mantissa · 2^k for a row whose max is
 * finite, and returns (atMax, rest) in R: each entry equal to the max adds exactly 1 (atMax), the
 * others sum to rest (R.h, R.l).
 */
function rowTerms(x: ArrayLike<number>, offset: number, cols: number, max: number, temperature: number): number {
  if (scratch.mh.length < cols) scratch = makeScratch(cols);
  const { mh, ml, k, zh, zl } = scratch;
  // rest = Σ exp(z_j) over the entries below the max; each entry equal to the max adds exactly 1.
  let atMax = 0;
  let restH = 0;
  let restL = 0;
  for (let j = 0; j < cols; j++) {
    const v = x[offset + j];
    if (v === max) {
      atMax++;
      mh[j] = 1;
      ml[j] = 0;
      k[j] = 0;
      zh[j] = 0;
      zl[j] = 0;
      continue;
    }
    if (v === Number.NEGATIVE_INFINITY) {
      zh[j] = Number.NEGATIVE_INFINITY;
      zl[j] = 0;
    } else {
      scaledLogit(v, max, temperature);
      zh[j] = R.h;
      zl[j] = R.l;
    }
    expScaled(zh[j], zl[j]);
    mh[j] = R.h;
    ml[j] = R.l;
    k[j] = R.k;
    if (R.h !== 0 && zh[j] >= EXP_UNDERFLOW) {
      const f = 2 ** R.k; // terms below 2^-1074 are < 2^-1074 next to a sum ≥ 1: nothing
      add(restH, restL, R.h * f, R.l * f);
      restH = R.h;
      restL = R.l;
    }
  }
  R.h = restH;
  R.l = restL;
  return atMax;
}

function forwardRow(
  x: ArrayLike<number>,
  out: FloatArray,
  offset: number,
  cols: number,
  temperature: number,
  fullyMasked: FullyMasked,
  isLog: boolean,
  round: Rounder,
): void {
  const { max, hasNaN, posInf } = rowScan(x, offset, cols);
  if (hasNaN) {
    out.fill(Number.NaN, offset, offset + cols);
    return;
  }
  if (posInf > 0) {
    // The limit as the +Infinity entries grow together: they share the whole mass equally.
    if (isLog) log(posInf, 0);
    else div(1, 0, posInf, 0);
    const share = isLog ? round(-R.h, -R.l) : round(R.h, R.l);
    const other = isLog ? Number.NEGATIVE_INFINITY : 0;
    for (let j = 0; j < cols; j++) out[offset + j] = x[offset + j] === Number.POSITIVE_INFINITY ? share : other;
    return;
  }
  if (max === Number.NEGATIVE_INFINITY) {
    out.fill(fullyMasked === 'nan' ? Number.NaN : isLog ? Number.NEGATIVE_INFINITY : 0, offset, offset + cols);
    return;
  }
  const atMax = rowTerms(x, offset, cols, max, temperature);
  const restH = R.h;
  const restL = R.l;
  const { mh, ml, k, zh, zl } = scratch;
  if (isLog) {
    // log S = log1p((atMax − 1) + rest): exact-in-relative-terms also when S is barely above 1.
    add(atMax - 1, 0, restH, restL);
    log1p(R.h, R.l);
    const lh = R.h;
    const ll = R.l;
    for (let j = 0; j < cols; j++) {
      if (zh[j] === Number.NEGATIVE_INFINITY) {
        out[offset + j] = Number.NEGATIVE_INFINITY;
        continue;
      }
      add(zh[j], zl[j], -lh, -ll);
      out[offset + j] = round(R.h, R.l);
    }
    return;
  }
  add(atMax, 0, restH, restL);
  div(1, 0, R.h, R.l);
  const ih = R.h;
  const il = R.l;
  for (let j = 0; j < cols; j++) {
    if (mh[j] === 0) {
      out[offset + j] = 0;
      continue;
    }
    mul(mh[j], ml[j], ih, il);
    // Scale once: the mantissa times 2^k is exact unless the result is a float64 subnormal.
    out[offset + j] = round(scale(R.h, k[j]), scale(R.l, k[j]));
  }
}

function forward(x: ArrayLike<number>, options: OracleForwardOptions | undefined, isLog: boolean): FloatArray {
  const { rows, cols, out, round } = resolve(x, options?.cols, options?.dtype);
  const temperature = options?.temperature ?? 1;
  const fullyMasked = options?.fullyMasked ?? 'nan';
  for (let r = 0; r < rows; r++) forwardRow(x, out, r * cols, cols, temperature, fullyMasked, isLog, round);
  return out;
}

/**
 * softmax(x / T) along each row, to ~2^-100 before the final rounding to the dtype.
 *
 * @example
 * ```ts
 * import { oracleSoftmax } from '@softmax/conformance/helpers';
 *
 * oracleSoftmax(new Float32Array([1, 2, 3])); // correctly rounded float32 (double-double inside)
 * ```
 */
export function oracleSoftmax(x: ArrayLike<number>, options?: OracleForwardOptions): FloatArray {
  return forward(x, options, false);
}

/**
 * log(softmax(x / T)) along each row, to ~2^-100 relative before the final rounding.
 *
 * @example
 * ```ts
 * import { oracleLogSoftmax } from '@softmax/conformance/helpers';
 *
 * oracleLogSoftmax([0, 0], { dtype: 'float32' }); // Float32Array [-log 2, -log 2]
 * ```
 */
export function oracleLogSoftmax(x: ArrayLike<number>, options?: OracleForwardOptions): FloatArray {
  return forward(x, options, true);
}

/**
 * log Σ_j exp(x_j / T) per row (one value per row), to ~2^-100 before the final rounding:
 * max/T + log1p((atMax − 1) + rest). NaN in a row → NaN; a +Infinity → +Infinity; a row of only
 * −Infinity → −Infinity (the log of an empty sum).
 *
 * @example
 * ```ts
 * import { oracleLogSumExp } from '@softmax/conformance/helpers';
 *
 * oracleLogSumExp([0, 0, 1, 1], { cols: 2 }); // Float64Array [log 2, 1 + log 2]
 * ```
 */
export function oracleLogSumExp(x: ArrayLike<number>, options?: Omit<OracleForwardOptions, 'fullyMasked'>): FloatArray {
  const { rows, cols, round } = resolve(x, options?.cols, options?.dtype);
  const dtype = options?.dtype ?? (x instanceof Float32Array ? 'float32' : 'float64');
  const out: FloatArray = dtype === 'float32' ? new Float32Array(rows) : new Float64Array(rows);
  const temperature = options?.temperature ?? 1;
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const { max, hasNaN, posInf } = rowScan(x, offset, cols);
    if (hasNaN || posInf > 0 || max === Number.NEGATIVE_INFINITY) {
      out[r] = hasNaN ? Number.NaN : posInf > 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      continue;
    }
    const atMax = rowTerms(x, offset, cols, max, temperature);
    add(atMax - 1, 0, R.h, R.l);
    log1p(R.h, R.l);
    const lh = R.h;
    const ll = R.l;
    // max/T in double-double; Veltkamp's split inside div overflows beyond 2^996, so a large
    // quotient is formed from a numerator scaled by 2^-200 (exact) and scaled back.
    const big = Math.abs(max / temperature) > 2 ** 900;
    div(big ? max * 2 ** -200 : max, 0, temperature, 0);
    if (big) {
      R.h *= 2 ** 200;
      R.l = Number.isFinite(R.h) ? R.l * 2 ** 200 : 0;
    }
    // max/T overflows only when the result does (log S ≤ log cols is tiny beside it).
    if (Number.isFinite(R.h)) add(R.h, R.l, lh, ll);
    // log S exactly 0 and max/T rounding to zero: the result is that zero with max/T's sign, which
    // the double-double additions lose (−0 + 0 is +0); one float division rounds it correctly. A
    // max of ±0 is exact: log(exp(−0)) is log 1, +0, as the additions give.
    if (R.h === 0 && lh === 0 && ll === 0 && max !== 0) R.h = max / temperature;
    out[r] = round(R.h, R.l);
  }
  return out;
}

function requireFinite(name: string, v: number, index: number): void {
  if (!Number.isFinite(v))
    throw new RangeError(`oracle: ${name}[${index}] = ${v}; the gradient oracles take finite values`);
}

/**
 * dx = y ⊙ (dy − Σ dy·y) / T per row (y: the softmax output). Finite inputs only.
 *
 * @example
 * ```ts
 * import { oracleSoftmax, oracleSoftmaxBackward } from '@softmax/conformance/helpers';
 *
 * const y = oracleSoftmax([1, 2, 3]);
 * const dx = oracleSoftmaxBackward(y, [1, 0, 0]);
 * ```
 */
export function oracleSoftmaxBackward(
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  options?: OracleBackwardOptions,
): FloatArray {
  const { rows, cols, out, round } = resolve(y, options?.cols, options?.dtype);
  const temperature = options?.temperature ?? 1;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sh = 0;
    let sl = 0;
    for (let j = 0; j < cols; j++) {
      requireFinite('y', y[o + j], o + j);
      requireFinite('dy', dy[o + j], o + j);
      twoProd(dy[o + j], y[o + j]);
      add(sh, sl, R.h, R.l);
      sh = R.h;
      sl = R.l;
    }
    for (let j = 0; j < cols; j++) {
      add(dy[o + j], 0, -sh, -sl);
      // At T < 1 a subnormal product y_j·(dy_j − s) comes back into range: keep all of its bits.
      if (temperature === 1) mulD(R.h, R.l, y[o + j]);
      else mulDivFloat(R.h, R.l, y[o + j], temperature);
      out[o + j] = round(R.h, R.l);
    }
  }
  return out;
}

/**
 * dx = (dy − exp(y) · Σ dy) / T per row (y: the log-softmax output). y may hold −Infinity
 * (masked entries: exp(y) = 0); everything else must be finite.
 *
 * @example
 * ```ts
 * import { oracleLogSoftmax, oracleLogSoftmaxBackward } from '@softmax/conformance/helpers';
 *
 * const y = oracleLogSoftmax([1, 2, 3]);
 * const dx = oracleLogSoftmaxBackward(y, [0, 0, 1]);
 * ```
 */
export function oracleLogSoftmaxBackward(
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  options?: OracleBackwardOptions,
): FloatArray {
  const { rows, cols, out, round } = resolve(y, options?.cols, options?.dtype);
  const temperature = options?.temperature ?? 1;
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    let sh = 0;
    let sl = 0;
    for (let j = 0; j < cols; j++) {
      if (y[o + j] !== Number.NEGATIVE_INFINITY) requireFinite('y', y[o + j], o + j);
      requireFinite('dy', dy[o + j], o + j);
      add(sh, sl, dy[o + j], 0);
      sh = R.h;
      sl = R.l;
    }
    for (let j = 0; j < cols; j++) {
      expScaled(y[o + j], 0);
      // exp(y)·Σdy is formed on the mantissa and scaled once, so tiny products keep their precision.
      mul(R.h, R.l, sh, sl);
      const ph = scale(R.h, R.k);
      const pl = scale(R.l, R.k);
      add(dy[o + j], 0, -ph, -pl);
      if (temperature !== 1) divFloat(R.h, R.l, temperature);
      out[o + j] = round(R.h, R.l);
    }
  }
  return out;
}
