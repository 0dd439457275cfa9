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
function compensatedSum(values: Float64Array, length: number): number {
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
function shifted(v: number, max: number, temperature: number): number {
  const d = v - max;
  if (d === Number.NEGATIVE_INFINITY && v !== Number.NEGATIVE_INFINITY) {
    return ((v * 0.5 - max * 0.5) / temperature) * 2;
  }
  return d / temperature;
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
function exponentials(x: FloatArray, offset: number, cols: number, max: number, temperature: number, e: Float64Array) {
  let atMax = 0;
  for (let j = 0; j < cols; j++) {
    const v = x[offset + j];
    if (v === max) {
      atMax++;
      e[j] = 0;
    } else {
      e[j] = Math.exp(shifted(v, max, temperature));
    }
  }
  const rest = compensatedSum(e, cols);
  for (let j = 0; j < cols; j++) if (x[offset + j] === max) e[j] = 1;
  return { atMax, rest };
}

/** Row statistics that decide which special-value rule applies. */
function rowMax(x: FloatArray, offset: number, cols: number): { max: number; hasNaN: boolean; posInf: number } {
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

export interface ForwardArgs {
  x: FloatArray;
  out: FloatArray;
  rows: number;
  cols: number;
  temperature: number;
  fullyMasked: FullyMasked;
}

function forward(args: ForwardArgs, log: boolean): void {
  const { x, out, rows, cols, temperature, fullyMasked } = args;
  const state: RowScratch = { values: new Float64Array(0) };
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
      const { atMax, rest } = exponentials(x, offset, cols, max, temperature, e);
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

export function referenceSoftmax(args: ForwardArgs): void {
  forward(args, false);
}

export function referenceLogSoftmax(args: ForwardArgs): void {
  forward(args, true);
}

export interface BackwardArgs {
  y: FloatArray;
  dy: FloatArray;
  out: FloatArray;
  rows: number;
  cols: number;
  temperature: number;
}

/** dx = y ⊙ (dy − Σ dy·y) / T, per row; y is the softmax output. */
export function referenceSoftmaxBackward({ y, dy, out, rows, cols, temperature }: BackwardArgs): void {
  const state: RowScratch = { values: new Float64Array(0) };
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const t = scratchFor(state, cols);
    for (let j = 0; j < cols; j++) t[j] = dy[offset + j] * y[offset + j];
    const dot = compensatedSum(t, cols);
    for (let j = 0; j < cols; j++) t[j] = (y[offset + j] * (dy[offset + j] - dot)) / temperature;
    for (let j = 0; j < cols; j++) out[offset + j] = t[j];
  }
}

/** dx = (dy − exp(y) · Σ dy) / T, per row; y is the log-softmax output. */
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

export interface RowStatArgs {
  x: FloatArray;
  /** One value per row. */
  out: FloatArray;
  rows: number;
  cols: number;
  temperature: number;
}

/**
 * log Σ_j exp(x_j / T) per row, as max/T + log Σ exp((x_j − max)/T): no finite input overflows
 * unless the result does. The row's maximum contributes its 1 exactly and log1p takes the rest,
 * so a dominant logit keeps full accuracy. NaN in a row gives NaN, a +Infinity gives +Infinity,
 * a row of only −Infinity gives −Infinity (an empty sum).
 */
export function referenceLogSumExp({ x, out, rows, cols, temperature }: RowStatArgs): void {
  const state: RowScratch = { values: new Float64Array(0) };
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    const { max, hasNaN, posInf } = rowMax(x, offset, cols);
    if (hasNaN) out[r] = Number.NaN;
    else if (posInf > 0) out[r] = Number.POSITIVE_INFINITY;
    else if (max === Number.NEGATIVE_INFINITY) out[r] = Number.NEGATIVE_INFINITY;
    else {
      const { atMax, rest } = exponentials(x, offset, cols, max, temperature, scratchFor(state, cols));
      out[r] = max / temperature + (atMax === 1 ? Math.log1p(rest) : Math.log(atMax + rest));
    }
  }
}
