import type { CandidateId, Dtype, OpName } from './types.js';

/**
 * The cost model: a call of n elements on a candidate costs fixed + perElement · n (ms). It is
 * fitted per (candidate, op, dtype) from the measured medians of every bucket, pulled towards a
 * prior, and predicts the buckets not measured yet: which candidate serves a new bucket's first
 * call, and which are close enough to be worth measuring there.
 */
export interface Line {
  fixed: number;
  perElement: number;
}

/**
 * Priors, in ms. Conservative for the GPU: a call pays submission, upload and readback (about
 * 0.1 ms on real GPUs, more on software adapters, which also compute like a slow CPU). wasm-mt's
 * per-element cost assumes the threads share only part of the work well.
 */
const PRIOR: Record<CandidateId, Line> = {
  core: { fixed: 0.0004, perElement: 25e-6 },
  wasm: { fixed: 0.0015, perElement: 2e-6 },
  'wasm-mt': { fixed: 0.003, perElement: 1.6e-6 },
  webgpu: { fixed: 0.15, perElement: 2e-6 },
};
const SOFTWARE_GPU: Line = { fixed: 0.4, perElement: 20e-6 };

/** Relative per-element cost of the gradients (two inputs) and of float64 in SIMD kernels. */
const OP_FACTOR: Partial<Record<OpName, number>> = { softmaxBackward: 1.5, logSoftmaxBackward: 1.5 };
// WGSL has no float64: WebGPU never serves it, so it is never plausible there (and never loaded for it).
const FLOAT64_FACTOR: Record<CandidateId, number> = {
  core: 1,
  wasm: 2,
  'wasm-mt': 2,
  webgpu: Number.POSITIVE_INFINITY,
};

export function prior(id: CandidateId, op: OpName, dtype: Dtype, software = false): Line {
  const base = id === 'webgpu' && software ? SOFTWARE_GPU : PRIOR[id];
  const factor = (OP_FACTOR[op] ?? 1) * (dtype === 'float64' ? FLOAT64_FACTOR[id] : 1);
  return { fixed: base.fixed, perElement: base.perElement * factor };
}

/** How strongly the prior holds against measurements (in units of one measured bucket). */
const PRIOR_WEIGHT = 0.25;

/**
 * Fits fixed + perElement · n to (n, median) points by least squares on relative error (timings
 * span six decades), with the prior as two pseudo-observations of weight PRIOR_WEIGHT. One point
 * moves the line through it mostly along the prior's shape; two or more sizes pin both terms.
 */
export function fit(points: ReadonlyArray<{ n: number; ms: number }>, p: Line): Line {
  // A median of 0 ms is a call below the clock's resolution (browsers coarsen performance.now()
  // to 100 µs without cross-origin isolation): it says the call is fast, not how fast, and its
  // relative error (1/0) would make the whole line NaN, so that no bucket could be predicted.
  points = points.filter((q) => q.ms > 0 && Number.isFinite(q.ms));
  if (points.length === 0 || !Number.isFinite(p.perElement)) return p;
  // Normal equations of Σ ((a + b n − t) / t)² + w ((a − a0) / a0)² + w ((b − b0) / b0)².
  const w = PRIOR_WEIGHT;
  let saa = w / (p.fixed * p.fixed);
  let sbb = w / (p.perElement * p.perElement);
  let sab = 0;
  let sa = w / p.fixed;
  let sb = w / p.perElement;
  for (const { n, ms } of points) {
    const u = 1 / ms;
    const v = n / ms;
    saa += u * u;
    sab += u * v;
    sbb += v * v;
    sa += u;
    sb += v;
  }
  const det = saa * sbb - sab * sab;
  let a = (sa * sbb - sb * sab) / det;
  let b = (saa * sb - sab * sa) / det;
  // A negative term is noise in a two-point fit: refit the other alone.
  if (!(a > 0)) {
    a = 0;
    b = sb / sbb;
  }
  if (!(b > 0)) {
    b = 0;
    a = sa / saa;
  }
  return { fixed: a, perElement: b };
}

export const predict = (line: Line, n: number): number => line.fixed + line.perElement * n;
