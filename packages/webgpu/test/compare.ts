import { logSoftmax, logSoftmaxBackward, type SoftmaxOptions, softmax, softmaxBackward } from '@softmax/core';

/** The float32 contract: |y − ref| ≤ rtol·|ref| + atol, NaN where ref is NaN, exact infinities. */
export const RTOL = 2e-6;
export const ATOL = 2 ** -126; // outputs below the smallest normal may be flushed to zero

export function mismatch(
  actual: Float32Array,
  expected: ArrayLike<number>,
  rtol = RTOL,
  atol = ATOL,
): string | undefined {
  if (actual.length !== expected.length) return `length ${actual.length} ≠ ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const ok = Number.isNaN(e)
      ? Number.isNaN(a)
      : !Number.isFinite(e)
        ? a === e
        : Math.abs(a - e) <= rtol * Math.abs(e) + atol;
    if (!ok) return `index ${i}: got ${a}, expected ${e} (rel ${Math.abs(a - e) / Math.abs(e)})`;
  }
  return undefined;
}

export const reference = {
  softmax: (x: Float32Array, o: SoftmaxOptions) => softmax(x, o),
  logSoftmax: (x: Float32Array, o: SoftmaxOptions) => logSoftmax(x, o),
  softmaxBackward: (y: Float32Array, dy: Float32Array, o: SoftmaxOptions) => softmaxBackward(y, dy, o),
  logSoftmaxBackward: (y: Float32Array, dy: Float32Array, o: SoftmaxOptions) => logSoftmaxBackward(y, dy, o),
};

/** Deterministic pseudo-random floats (mulberry32), so a failure reproduces. */
export function random(length: number, scale: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
    out[i] = (u * 2 - 1) * scale;
  }
  return out;
}
