import { type Divisor, divisorOf, exponentials, rowMax, shifted } from './reference.js';
import type { FloatArray } from './types.js';

/**
 * The reference cross-entropy kernel: one row at a time, in float64, with the special-value rules
 * of CE-SPEC (core's logSoftmax rules on s = softcap(x)/T). It writes each row's loss (the
 * reduction is core's, in the op's finish step), and the gradient and log-sum-exp when asked.
 * Scratch: two rows of float64 (O(cols)); each row is read completely before its gradient is
 * written, so the gradient may be the logits themselves (in place).
 */
export interface CrossEntropyArgs {
  /** rows × cols logits. */
  logits: FloatArray;
  /** Class indices (one per row) or probabilities (rows × cols), per `targetKind`. */
  targets: Int32Array | Uint32Array | FloatArray;
  /** Which kind `targets` is. */
  targetKind: 'index' | 'probs';
  /** The number of rows. */
  rows: number;
  /** The row length (the classes). */
  cols: number;
  /** An index target equal to it: 0 loss, 0 gradient. */
  ignoreIndex: number;
  /** Class weights (length cols); undefined: all 1. */
  weight: Float64Array | undefined;
  /** ε in [0, 1). */
  labelSmoothing: number;
  /** ζ ≥ 0. */
  zLoss: number;
  /** 0: off. */
  softcap: number;
  /** T > 0. */
  temperature: number;
  /** k: gradScale / D for 'mean', gradScale otherwise. */
  scale: number;
  /** Out: loss_i per row (0 for an ignored row). */
  rowLoss: Float64Array;
  /** Out, when computed (length rows × cols): k · d loss / d logits. */
  grad?: FloatArray;
  /** Out, when asked (length rows): log Σ exp(s) per row. */
  lse?: FloatArray;
}

/** Neumaier's compensated running sum (terms of one sign here: a few ulp however many). */
export class Sum {
  sum = 0;
  carry = 0;
  add(v: number): void {
    const t = this.sum + v;
    this.carry += Math.abs(this.sum) >= Math.abs(v) ? this.sum - t + v : v - t + this.sum;
    this.sum = t;
  }
  /** An infinite term leaves a NaN carry (∞ − ∞): the sum is then that infinity (or NaN) itself. */
  get value(): number {
    return Number.isFinite(this.sum) ? this.sum + this.carry : this.sum;
  }
}

/** The row's log-softmax at j, for the two regular cases: finite max, or k entries +Infinity. */
interface RowState {
  z: Float64Array;
  /** exp((z_j − max)/T), then p_j. */
  e: Float64Array;
}

/**
 * crossEntropy's kernel: per-row losses, and the gradient and lse when asked, in float64; `finish` reduces.
 *
 * @example
 * ```ts
 * import { referenceCrossEntropy } from '@softmax/core/backend';
 *
 * const rowLoss = new Float64Array(1);
 * referenceCrossEntropy({
 *   logits: new Float32Array([2, 0, 0]), targets: new Int32Array([0]), targetKind: 'index', rows: 1, cols: 3,
 *   ignoreIndex: -100, weight: undefined, labelSmoothing: 0, zLoss: 0, softcap: 0, temperature: 1, scale: 1, rowLoss,
 * }); // rowLoss[0] = log(e² + 2) − 2
 * ```
 */
export function referenceCrossEntropy(args: CrossEntropyArgs): void {
  const { logits: x, rows, cols, softcap: c, temperature: T, zLoss: zeta, labelSmoothing: eps, weight } = args;
  const grad = args.grad && args.grad.length > 0 ? args.grad : undefined;
  const lseOut = args.lse && args.lse.length > 0 ? args.lse : undefined;
  const state: RowState = { z: new Float64Array(c > 0 ? cols : 0), e: new Float64Array(cols) };
  const divisor: Divisor = divisorOf(T);
  const probs = args.targetKind === 'probs';
  let totalWeight = cols;
  if (weight) {
    const w = new Sum();
    for (let j = 0; j < cols; j++) w.add(weight[j]);
    totalWeight = w.value;
  }
  for (let r = 0; r < rows; r++) {
    const offset = r * cols;
    // z = softcap(x): c·tanh(x/c) is finite for every non-NaN x, so a softcapped row has no infinities.
    let src: FloatArray = x;
    let at = offset;
    if (c > 0) {
      for (let j = 0; j < cols; j++) state.z[j] = c * Math.tanh(x[offset + j] / c);
      src = state.z;
      at = 0;
    }
    const { max, hasNaN, posInf } = rowMax(src, at, cols);
    const e = state.e;
    // logp_j = s_j − lse: `logSum` is lse − max/T for a finite max; p_j = e_j / total.
    let lse: number;
    let logSum = 0;
    let total = 1;
    if (hasNaN) lse = Number.NaN;
    else if (posInf > 0) lse = Number.POSITIVE_INFINITY;
    else if (max === Number.NEGATIVE_INFINITY) lse = Number.NEGATIVE_INFINITY;
    else {
      const { atMax, rest } = exponentials(src, at, cols, max, divisor, e);
      logSum = atMax === 1 ? Math.log1p(rest) : Math.log(atMax + rest);
      total = atMax + rest;
      lse = max / T + logSum;
    }
    if (lseOut) lseOut[r] = lse;

    const t = probs ? -1 : args.targets[r];
    if (!probs && t === args.ignoreIndex) {
      args.rowLoss[r] = 0;
      grad?.fill(0, offset, offset + cols);
      continue;
    }
    // A NaN anywhere, or a row of only −Infinity (log-softmax NaN, as fullyMasked 'nan'): NaN.
    if (hasNaN || (posInf === 0 && max === Number.NEGATIVE_INFINITY)) {
      args.rowLoss[r] = Number.NaN;
      grad?.fill(Number.NaN, offset, offset + cols);
      continue;
    }
    // p_j and logp_j: k +Infinity entries share the mass (1/k each, log −log k); the rest 0 (−Infinity).
    const share = posInf > 0 ? 1 / posInf : 0;
    const logShare = posInf > 0 ? -Math.log(posInf) : 0;
    const logp = (j: number) =>
      posInf > 0
        ? src[at + j] === Number.POSITIVE_INFINITY
          ? logShare
          : Number.NEGATIVE_INFINITY
        : shifted(src[at + j], max, T) - logSum;
    if (posInf > 0) for (let j = 0; j < cols; j++) e[j] = src[at + j] === Number.POSITIVE_INFINITY ? share : 0;
    else for (let j = 0; j < cols; j++) e[j] /= total;

    // CE = −Σ_c a_c · logp_c with a_c ≥ 0: a sum of terms ≥ 0 (a 0 coefficient adds 0, even at −Infinity).
    const ce = new Sum();
    const coefficientSum = new Sum();
    const uniform = eps / cols;
    let omega = 0;
    if (probs) {
      const q = args.targets as FloatArray;
      for (let j = 0; j < cols; j++) {
        const a = (weight ? weight[j] : 1) * ((1 - eps) * q[offset + j] + uniform);
        coefficientSum.add(a);
        if (a !== 0) ce.add(-a * logp(j));
      }
    } else {
      omega = weight ? weight[t] : 1;
      if (omega !== 0) ce.add(-(1 - eps) * omega * logp(t));
      // (ε/C)·w_c per term, not ε/C times the sum: the sum of C terms could overflow where the loss does not.
      if (eps > 0) {
        for (let j = 0; j < cols; j++) {
          const w = weight ? weight[j] : 1;
          if (w !== 0) ce.add(-(uniform * w) * logp(j));
        }
      }
    }
    // z-loss: ζ·lse², 0 when ζ = 0 whatever lse (0·∞ counts as 0).
    args.rowLoss[r] = ce.value + (zeta > 0 ? zeta * lse * lse : 0);
    if (!grad) continue;

    // ∂loss/∂s_j = A·p_j − b_j + 2ζ·lse·p_j;  ∂s_j/∂x_j = sech²(x_j/c)/T (softcap) or 1/T.
    const A = probs ? coefficientSum.value : (1 - eps) * omega + uniform * totalWeight;
    const zTerm = zeta > 0 ? 2 * zeta * lse : 0;
    const k = args.scale;
    for (let j = 0; j < cols; j++) {
      const p = e[j];
      const w = weight ? weight[j] : 1;
      const b = probs
        ? w * ((1 - eps) * (args.targets as FloatArray)[offset + j] + uniform)
        : (j === t ? (1 - eps) * omega : 0) + uniform * w;
      let g = A * p - b + (p !== 0 ? zTerm * p : 0);
      if (c > 0) {
        // sech² = 1/cosh², exact where 1 − tanh² cancels (divided twice: cosh² overflows first).
        const ch = Math.cosh(x[offset + j] / c);
        g = g / ch / ch;
      }
      e[j] = (g * k) / T;
    }
    for (let j = 0; j < cols; j++) grad[offset + j] = e[j];
  }
}
