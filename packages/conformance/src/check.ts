import type { Dtype, FloatArray } from '@softmax/core';
import { add, R } from './dd.js';
import { DTYPES, dtypeOf, ulpDistance } from './dtypes.js';

/** An accuracy bound for `checkAgainstOracle`. */
export interface Tolerance {
  /** Relative tolerance. */
  rtol: number;
  /** Counted only where |ref| is below the dtype's smallest normal. Default: that smallest normal. */
  atol?: number;
  /** Per-element scale multiplying rtol (a condition-aware bound); default |ref|. */
  scale?: ArrayLike<number>;
}

/** What `checkAgainstOracle` found: whether every element passed, and the worst errors. */
export interface CheckResult {
  /** Whether every element is within the bound (and every special value matches). */
  ok: boolean;
  /** max over elements of |y − ref| / allowed; ≤ 1 passes (Infinity for a special-value mismatch). */
  worstRatio: number;
  /** Where worstRatio was found (−1 when every element is exact). */
  worstIndex: number;
  /** max |y − ref| / |ref| over elements whose ref is a nonzero normal number. */
  maxRelError: number;
  /** max |y − ref| over finite elements. */
  maxAbsError: number;
  /** max ULP distance in the result's dtype over finite elements. */
  maxUlp: number;
  /** Elements where ref is NaN or ±Infinity and y is not the same (or y is not finite where ref is). */
  specialMismatches: number;
  /** Elements checked. */
  length: number;
}

/**
 * Compares a backend's result with the oracle's, element by element. NaN must meet NaN and
 * ±Infinity the same infinity; every finite element must satisfy
 * |y − ref| ≤ rtol·scale + (|ref| < smallest normal ? atol : 0).
 *
 * @example
 * ```ts
 * import { checkAgainstOracle, describeCheck, oracleSoftmax } from '@softmax/conformance/helpers';
 *
 * const x = new Float32Array([1, 2, 3]);
 * const y = myBackend.softmax(x);
 * const check = checkAgainstOracle(y, oracleSoftmax(x), { rtol: 1e-6 });
 * if (!check.ok) throw new Error(describeCheck(check, y, oracleSoftmax(x)));
 * ```
 */
export function checkAgainstOracle(result: ArrayLike<number>, ref: FloatArray, tolerance: Tolerance): CheckResult {
  const dtype = dtypeOf(ref);
  const { minNormal } = DTYPES[dtype];
  const atol = tolerance.atol ?? minNormal;
  const check: CheckResult = {
    ok: result.length === ref.length,
    worstRatio: result.length === ref.length ? 0 : Number.POSITIVE_INFINITY,
    worstIndex: -1,
    maxRelError: 0,
    maxAbsError: 0,
    maxUlp: 0,
    specialMismatches: 0,
    length: ref.length,
  };
  const n = Math.min(result.length, ref.length);
  for (let i = 0; i < n; i++) {
    const y = result[i];
    const r = ref[i];
    if (y === r || (y !== y && r !== r)) continue;
    if (!Number.isFinite(r) || !Number.isFinite(y)) {
      check.specialMismatches++;
      if (check.worstRatio !== Number.POSITIVE_INFINITY) check.worstIndex = i;
      check.worstRatio = Number.POSITIVE_INFINITY;
      continue;
    }
    const err = Math.abs(y - r);
    const a = Math.abs(r);
    const allowed = tolerance.rtol * (tolerance.scale ? tolerance.scale[i] : a) + (a < minNormal ? atol : 0);
    const ratio = err / allowed;
    if (ratio > check.worstRatio) {
      check.worstRatio = ratio;
      check.worstIndex = i;
    }
    if (err > check.maxAbsError) check.maxAbsError = err;
    if (a >= minNormal && err / a > check.maxRelError) check.maxRelError = err / a;
    const ulps = ulpDistance(y, r, dtype);
    if (ulps > check.maxUlp) check.maxUlp = ulps;
  }
  check.ok = check.ok && check.worstRatio <= 1;
  return check;
}

/**
 * A one-line account of a check, for assertion messages.
 *
 * @example
 * ```ts
 * import { checkAgainstOracle, describeCheck } from '@softmax/conformance/helpers';
 *
 * const check = checkAgainstOracle(y, ref, { rtol: 1e-6 });
 * console.log(describeCheck(check, y, ref)); // the worst element, its value, the reference and the ratio
 * ```
 */
export function describeCheck(check: CheckResult, result: ArrayLike<number>, ref: ArrayLike<number>): string {
  const at = check.worstIndex;
  const where = at >= 0 ? ` at [${at}]: got ${result[at]}, oracle ${ref[at]}` : '';
  const length = result.length === ref.length ? '' : ` length ${result.length} ≠ ${ref.length};`;
  return `${length} worst error ${check.worstRatio.toPrecision(3)}× the allowed${where}; max rel ${check.maxRelError.toExponential(2)}, max ${check.maxUlp} ulp, ${check.specialMismatches} special-value mismatches`;
}

/**
 * rtol·(|ref| + 1): the bound's scale for log-softmax (see README, "The contract").
 *
 * @example
 * ```ts
 * import { checkAgainstOracle, logSoftmaxScale, oracleLogSoftmax } from '@softmax/conformance/helpers';
 *
 * const ref = oracleLogSoftmax(x);
 * checkAgainstOracle(y, ref, { rtol: 1e-6, scale: logSoftmaxScale(ref) }); // rtol·(|ref| + 1)
 * ```
 */
export function logSoftmaxScale(ref: ArrayLike<number>): Float64Array {
  const s = new Float64Array(ref.length);
  for (let i = 0; i < ref.length; i++) s[i] = Math.abs(ref[i]) + 1;
  return s;
}

/**
 * Condition-aware scale for softmaxBackward, dx_j = y_j (dy_j − s) / T with s = Σ dy·y.
 * Forming s costs at most ~rtol·Σ|dy·y| (however the terms cancel), the subtraction and the
 * product cost ~rtol·|y_j|(|dy_j| + |s|), so the error a correct float implementation can make
 * is bounded by rtol · |y_j| (|dy_j| + Σ|dy·y|) / T. Measuring against |dx_j| instead would
 * demand unbounded relative accuracy where dy_j ≈ s cancels.
 *
 * @example
 * ```ts
 * import { checkAgainstOracle, oracleSoftmaxBackward, softmaxBackwardScale } from '@softmax/conformance/helpers';
 *
 * const ref = oracleSoftmaxBackward(y, dy, { cols });
 * checkAgainstOracle(dx, ref, { rtol: 1e-6, scale: softmaxBackwardScale(y, dy, cols, 1) });
 * ```
 */
export function softmaxBackwardScale(
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  cols: number,
  temperature: number,
): Float64Array {
  const scale = new Float64Array(y.length);
  for (let o = 0; o < y.length; o += cols) {
    let total = 0;
    for (let j = 0; j < cols; j++) total += Math.abs(dy[o + j] * y[o + j]);
    for (let j = 0; j < cols; j++)
      scale[o + j] = productOver(Math.abs(y[o + j]), Math.abs(dy[o + j]) + total, temperature);
  }
  return scale;
}

/**
 * a·b/t for a, b ≥ 0, t > 0, without a subnormal product losing what a t below 1 scales back up
 * (the allowance would underflow to 0 for a subnormal y_j at a tiny temperature): a tiny factor
 * is scaled by 2^600 first (exact) and the quotient scaled back once.
 */
function productOver(a: number, b: number, t: number): number {
  const p = a * b;
  if (t >= 1 || !(p < 2 ** -1022) || a === 0 || b === 0) return p / t;
  return a < b ? ((a * 2 ** 600 * b) / t) * 2 ** -600 : ((a * (b * 2 ** 600)) / t) * 2 ** -600;
}

/**
 * Condition-aware scale for logSoftmaxBackward, dx_j = (dy_j − exp(y_j) Σ dy) / T: the same
 * argument gives rtol · (|dy_j| + exp(y_j) Σ|dy|) / T.
 *
 * @example
 * ```ts
 * import { checkAgainstOracle, logSoftmaxBackwardScale, oracleLogSoftmaxBackward } from '@softmax/conformance/helpers';
 *
 * const ref = oracleLogSoftmaxBackward(y, dy, { cols });
 * checkAgainstOracle(dx, ref, { rtol: 1e-6, scale: logSoftmaxBackwardScale(y, dy, cols, 1) });
 * ```
 */
export function logSoftmaxBackwardScale(
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  cols: number,
  temperature: number,
): Float64Array {
  const scale = new Float64Array(y.length);
  for (let o = 0; o < y.length; o += cols) {
    let total = 0;
    for (let j = 0; j < cols; j++) total += Math.abs(dy[o + j]);
    for (let j = 0; j < cols; j++) scale[o + j] = (Math.abs(dy[o + j]) + Math.exp(y[o + j]) * total) / temperature;
  }
  return scale;
}

/**
 * The bound on |Σ_j y_j − 1| for one softmax row. With ref_j = p_j(1 + δ_j), |δ_j| ≤ u (the
 * oracle's one rounding): |Σ ref − 1| ≤ u. Each |y_j − ref_j| ≤ rtol·ref_j (+ atol where ref_j is
 * subnormal), so |Σ y − Σ ref| ≤ rtol·(1 + u) + (subnormal count)·atol. The row sum itself is
 * taken in double-double, whose error (~n·2^-104) is covered by the extra 2^-90.
 *
 * @example
 * ```ts
 * import { rowSumBound } from '@softmax/conformance/helpers';
 *
 * rowSumBound(1e-6, 2 ** -126, 'float32', 0); // how far a float32 row of softmax may sum from 1
 * ```
 */
export function rowSumBound(rtol: number, atol: number, dtype: Dtype, subnormalRefs: number): number {
  const u = DTYPES[dtype].unitRoundoff;
  return rtol * (1 + u) + u + subnormalRefs * atol + 2 ** -90;
}

/**
 * Σ of one row in double-double, rounded to float64.
 *
 * @example
 * ```ts
 * import { exactRowSum } from '@softmax/conformance/helpers';
 *
 * exactRowSum(new Float32Array([0.25, 0.5, 0.25, 1]), 0, 3); // 1: the first row of 3, summed exactly
 * ```
 */
export function exactRowSum(values: ArrayLike<number>, offset: number, cols: number): number {
  let h = 0;
  let l = 0;
  for (let j = 0; j < cols; j++) {
    add(h, l, values[offset + j], 0);
    h = R.h;
    l = R.l;
  }
  return h + l;
}

/** What `checkRowSums` found: whether every row sums to 1 within the bound, and the worst row. */
export interface RowSumCheck {
  /** Whether every row sum is within the bound. */
  ok: boolean;
  /** max over checked rows of |Σy − 1| / bound. */
  worstRatio: number;
  /** The row farthest from 1. */
  worstRow: number;
  /** Its sum. */
  worstSum: number;
  /** Rows checked. */
  rowsChecked: number;
}

/**
 * Checks that every row whose oracle result is a distribution (finite, summing to about 1)
 * sums to 1 within rowSumBound.
 *
 * @example
 * ```ts
 * import { checkRowSums, oracleSoftmax } from '@softmax/conformance/helpers';
 *
 * const { ok, worstRow, worstSum } = checkRowSums(y, oracleSoftmax(x, { cols }), cols, { rtol: 1e-6, atol: 2 ** -126 });
 * ```
 */
export function checkRowSums(
  result: ArrayLike<number>,
  ref: FloatArray,
  cols: number,
  bound: { rtol: number; atol: number },
): RowSumCheck {
  const dtype = dtypeOf(ref);
  const { minNormal } = DTYPES[dtype];
  const check: RowSumCheck = { ok: true, worstRatio: 0, worstRow: -1, worstSum: 1, rowsChecked: 0 };
  for (let o = 0; o < ref.length; o += cols) {
    const refSum = exactRowSum(ref, o, cols);
    if (!(Math.abs(refSum - 1) < 0.5)) continue; // NaN rows and fully masked 'zero' rows are not distributions
    let subnormal = 0;
    for (let j = 0; j < cols; j++) if (Math.abs(ref[o + j]) < minNormal) subnormal++;
    const sum = exactRowSum(result, o, cols);
    const ratio = Math.abs(sum - 1) / rowSumBound(bound.rtol, bound.atol, dtype, subnormal);
    check.rowsChecked++;
    if (!(ratio <= check.worstRatio) && !(check.worstRatio !== check.worstRatio)) {
      // NaN sums stick as the worst.
      check.worstRatio = ratio;
      check.worstRow = o / cols;
      check.worstSum = sum;
    }
  }
  check.ok = check.worstRatio <= 1;
  return check;
}
