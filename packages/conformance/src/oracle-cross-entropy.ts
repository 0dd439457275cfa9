import type { Dtype, FloatArray } from '@softmax/core';
import { add, mul, mulDivFloat, R, twoProd } from './dd.js';
import { roundToFloat32 } from './dtypes.js';
import { oracleLogSoftmax, oracleLogSumExp, oracleSoftmax } from './oracle.js';

/**
 * The crossEntropy oracle, written from the spec independently of `@softmax/core`: log-softmax,
 * softmax and log-sum-exp from the double-double oracles (each correctly rounded to float64), the
 * loss and the gradient accumulated in double-double, rounded once to the output dtype. With each
 * value it returns the bound's scale: what a correct float implementation may be off by, in units
 * of the backend's rtol (the condition-aware bound of the contract, see README "crossEntropy").
 */

export interface OracleCrossEntropyOptions {
  cols?: number;
  reduction?: 'mean' | 'sum' | 'none';
  ignoreIndex?: number;
  weight?: ArrayLike<number>;
  labelSmoothing?: number;
  zLoss?: number;
  softcap?: number;
  temperature?: number;
  gradScale?: number;
  /** Output dtype; default: float32 for a Float32Array logits, else float64. */
  dtype?: Dtype;
}

export interface OracleCrossEntropy {
  /** The reduced loss (length rows for 'none', else 1), in the dtype. */
  loss: FloatArray;
  /** Each row's loss (0 for ignored rows), float64. */
  rowLoss: Float64Array;
  grad: FloatArray;
  lse: FloatArray;
  /** D, and k = gradScale / D (or gradScale). */
  normaliser: number;
  scale: number;
  /** The bounds' scales (multiply by rtol): per loss element, per gradient element, per lse element. */
  bounds: { loss: Float64Array; grad: Float64Array; lse: Float64Array };
  /**
   * Per gradient element, what flushing one subnormal p_j (or a subnormal intermediate) to zero
   * can cost, per unit of the dtype's smallest normal: |k|/T·(A + 2ζ|lse|)·sech²·2. A backend whose
   * contract says it flushes is allowed this times minNormal on top of its bound.
   */
  gradFlush: Float64Array;
}

const round = (dtype: Dtype, h: number, l = 0) => (dtype === 'float32' ? roundToFloat32(h, l) : h + l);

/** Σ of double-double terms. */
class DD {
  h = 0;
  l = 0;
  /** += a·b (float64 factors), exactly before the final rounding of the sum. */
  addProduct(a: number, b: number): void {
    twoProd(a, b);
    // Veltkamp's split overflows beyond 2^995: such a product keeps only its float64 rounding.
    this.addDD(R.h, Number.isFinite(R.l) ? R.l : 0);
  }
  addDD(h: number, l: number): void {
    if (!Number.isFinite(h) || !Number.isFinite(this.h)) {
      this.h += h;
      return;
    }
    add(this.h, this.l, h, l);
    this.h = R.h;
    this.l = R.l;
  }
  get value(): number {
    return Number.isFinite(this.h) ? this.h + this.l : this.h;
  }
}

export function oracleCrossEntropy(
  logits: ArrayLike<number>,
  targets: { kind: 'index'; values: ArrayLike<number> } | { kind: 'probs'; values: ArrayLike<number> },
  options: OracleCrossEntropyOptions = {},
): OracleCrossEntropy {
  const n = logits.length;
  const C = options.cols ?? n;
  const rows = n === 0 ? 0 : n / C;
  const dtype: Dtype = options.dtype ?? (logits instanceof Float32Array ? 'float32' : 'float64');
  const Out = dtype === 'float32' ? Float32Array : Float64Array;
  const T = options.temperature ?? 1;
  const c = options.softcap ?? 0;
  const eps = options.labelSmoothing ?? 0;
  const zeta = options.zLoss ?? 0;
  const ignore = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  const w = (j: number) => (options.weight ? options.weight[j] : 1);

  // s = softcap(x) / T: the softcap in float64 here (what the contract allows for it is in `sigma`).
  const z = Float64Array.from(logits, (v) => (c > 0 ? c * Math.tanh(v / c) : v));
  const f64 = { cols: C, temperature: T, dtype: 'float64' as const };
  const logp = oracleLogSoftmax(z, { ...f64, fullyMasked: 'nan' });
  const p = oracleSoftmax(z, { ...f64, fullyMasked: 'nan' });
  const lse = oracleLogSumExp(z, f64);

  const rowLoss = new Float64Array(rows);
  const grad = new Out(n);
  const bounds = { loss: new Float64Array(rows), grad: new Float64Array(n), lse: new Float64Array(rows) };
  const gradFlush = new Float64Array(n);
  const probs = targets.kind === 'probs';
  const ignored = Array.from({ length: rows }, (_, i) => !probs && targets.values[i] === ignore);

  // D and k, as PyTorch defines the mean: Σ of the non-ignored rows' target weights (rows for probs).
  let D = 1;
  if (reduction === 'mean') {
    D = 0;
    for (let i = 0; i < rows; i++) if (!ignored[i]) D += probs ? 1 : w(targets.values[i]);
  }
  const k = (options.gradScale ?? 1) / D;

  const a = new Float64Array(C);
  for (let i = 0; i < rows; i++) {
    const o = i * C;
    const t = probs ? -1 : targets.values[i];
    let nan = false;
    let sMax = 0;
    for (let j = 0; j < C; j++) {
      if (Number.isNaN(logits[o + j])) nan = true;
      else if (Number.isFinite(z[o + j])) sMax = Math.max(sMax, Math.abs(z[o + j] / T));
    }
    // A softcap's rounding moves every s_j by ~rtol·|s_j|: logp_j and lse by up to twice the largest.
    const sigma = c > 0 ? 2 * sMax : 0;
    const L = lse[i];
    bounds.lse[i] = Math.abs(L) + 1 + sigma;
    if (ignored[i]) continue; // 0 loss, 0 gradient (lse is still the row's)
    if (nan || L === Number.NEGATIVE_INFINITY) {
      // A NaN anywhere, or only −Infinity (log-softmax NaN): NaN loss and gradient.
      rowLoss[i] = Number.NaN;
      grad.fill(Number.NaN, o, o + C);
      continue;
    }
    // The loss coefficient of −logp_c: index (1−ε)·w_t·[c = t] + (ε/C)·w_c, probs w_c·((1−ε)q_c + ε/C).
    let A = 0;
    for (let j = 0; j < C; j++) {
      a[j] = probs
        ? w(j) * ((1 - eps) * targets.values[o + j] + eps / C)
        : (j === t ? (1 - eps) * w(j) : 0) + (eps / C) * w(j);
      A += a[j];
    }
    const ce = new DD();
    let lossScale = 0;
    for (let j = 0; j < C; j++) {
      if (a[j] === 0) continue; // 0·(−Infinity) counts as 0
      ce.addProduct(-a[j], logp[o + j]);
      lossScale += a[j] * (Math.abs(logp[o + j]) + 1 + sigma);
    }
    if (zeta > 0) {
      if (Math.abs(L) < 2 ** 400) {
        mul(L, 0, L, 0);
        mul(R.h, R.l, zeta, 0);
        ce.addDD(R.h, R.l);
      } else ce.addDD(zeta * L * L, 0);
      lossScale += zeta * (3 * L * L + 2 * Math.abs(L) * (1 + sigma));
    }
    rowLoss[i] = ce.value;
    bounds.loss[i] = lossScale;

    const zTerm = zeta > 0 ? 2 * zeta * L : 0;
    for (let j = 0; j < C; j++) {
      const pj = p[o + j];
      // g = (A + 2ζ·lse)·p_j − a_j in double-double; the z-loss term is 0 where p_j = 0.
      const g = new DD();
      g.addProduct(A, pj);
      if (pj !== 0 && zTerm !== 0) g.addProduct(zTerm, pj);
      g.addDD(-a[j], 0);
      const gv = g.value;
      const x = logits[o + j];
      const ch = c > 0 ? Math.cosh(x / c) : 1;
      const tanh = c > 0 ? Math.tanh(x / c) : 0;
      const factor = 1 / ch / ch;
      // g·k/T in double-double for factors of any magnitude (no spurious overflow whatever the
      // order), times sech² (in [0, 1], rounded in float64: ~u, far inside any rtol), rounded once.
      if (Number.isFinite(g.h)) mulDivFloat(g.h, g.l, k, T);
      else {
        R.h = (g.h * k) / T;
        R.l = 0;
      }
      const value = factor === 1 ? R.h + R.l : (R.h + R.l) * factor;
      grad[o + j] = dtype === 'float32' ? (factor === 1 ? roundToFloat32(R.h, R.l) : Math.fround(value)) : value;
      // What a correct implementation may be off by: p_j relative (1 + σ) each time it is used,
      // lse in the z-loss term, a_j, and with softcap the factor 1 − tanh² (absolute 2·tanh² + 1).
      const pTerms = (A + Math.abs(zTerm)) * pj * (2 + 2 * sigma) + 2 * zeta * pj * (Math.abs(L) + 1 + sigma) + a[j];
      const cap = c > 0 ? Math.abs(gv) * (2 * tanh * tanh + 1) : 0;
      bounds.grad[o + j] = (Math.abs(k) / T) * (pTerms * factor + cap) + Math.abs(value);
      gradFlush[o + j] = (Math.abs(k) / T) * (A + Math.abs(zTerm)) * factor * 2;
    }
  }

  const lossOut = reduction === 'none' ? Out.from(rowLoss) : new Out(1);
  const lossBound = reduction === 'none' ? bounds.loss : new Float64Array(1);
  if (reduction !== 'none') {
    const total = new DD();
    let scale = 0;
    for (let i = 0; i < rows; i++) {
      total.addDD(rowLoss[i], 0);
      scale += bounds.loss[i];
    }
    lossOut[0] = round(dtype, total.value / D);
    lossBound[0] = scale / D;
  }
  return {
    loss: lossOut,
    rowLoss,
    grad,
    lse: Out.from(lse),
    normaliser: D,
    scale: k,
    bounds: { loss: lossBound, grad: bounds.grad, lse: bounds.lse },
    gradFlush,
  };
}
