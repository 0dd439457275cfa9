import { checkAgainstOracle, describeCheck, uniform } from '@softmax/conformance/helpers';
import {
  type FloatArray,
  logSoftmax,
  logSoftmaxBackward,
  logSumExp,
  type SoftmaxOptions,
  softmax,
  softmaxBackward,
} from '@softmax/core';

/** The float32 contract: |y − ref| ≤ rtol·|ref| + atol, NaN where ref is NaN, exact infinities. */
export const RTOL = 2e-6;
export const ATOL = 2 ** -126; // outputs below the smallest normal may be flushed to zero

/**
 * Undefined when `actual` meets the contract against `expected`, else a description of the worst
 * element. The absolute allowance applies everywhere (gradients cancel), so it goes into the
 * conformance check's per-element scale: rtol·(|ref| + atol/rtol) = rtol·|ref| + atol.
 */
export function mismatch(actual: Float32Array, expected: FloatArray, rtol = RTOL, atol = ATOL): string | undefined {
  const scale = Float64Array.from(expected, (e) => Math.abs(e) + atol / rtol);
  const check = checkAgainstOracle(actual, expected, { rtol, atol: 0, scale });
  return check.ok ? undefined : describeCheck(check, actual, expected);
}

export const reference = {
  softmax: (x: Float32Array, o: SoftmaxOptions) => softmax(x, o),
  logSoftmax: (x: Float32Array, o: SoftmaxOptions) => logSoftmax(x, o),
  softmaxBackward: (y: Float32Array, dy: Float32Array, o: SoftmaxOptions) => softmaxBackward(y, dy, o),
  logSoftmaxBackward: (y: Float32Array, dy: Float32Array, o: SoftmaxOptions) => logSoftmaxBackward(y, dy, o),
  logSumExp: (x: Float32Array, o: { cols?: number; temperature?: number }) => logSumExp(x, o),
};

/**
 * logSumExp's contract, log-softmax's: |y − ref| ≤ rtol·(|ref| + 1) (max/T and log S cancel
 * where the result is near 0). `relative` drops the + 1: for rows where full relative accuracy is due.
 */
export function lseMismatch(actual: Float32Array, expected: FloatArray, relative = false): string | undefined {
  return mismatch(actual, expected, RTOL, relative ? 0 : RTOL);
}

/** Deterministic pseudo-random floats from U(−scale, scale), so a failure reproduces. */
export function random(length: number, scale: number, seed: number): Float32Array {
  return Float32Array.from(uniform(length, -scale, scale, seed));
}
