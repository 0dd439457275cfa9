import { type BenchDtype, type Op, tolerance } from '@softmax/bench-scenarios';
import { checkAgainstOracle, describeCheck } from '@softmax/conformance/helpers';
import { OPS, validateCall } from '@softmax/core/backend';
import type { FloatArray } from './candidate.js';

/** The float64 oracle: the op's reference kernel (core's op table), run in float64 on the same inputs. */
export function oracle(op: Op, inputs: readonly FloatArray[], cols: number): Float64Array {
  const call = validateCall(OPS[op], [...inputs.map((a) => Float64Array.from(a)), { cols }]);
  call.op.reference(call);
  return call.outputs[0] as Float64Array;
}

export interface Verdict {
  ok: boolean;
  /** max over elements of |y − ref| / allowed: ≤ 1 passes (Infinity for a NaN/Infinity mismatch). */
  worst: number;
  /** max |y − ref| / |ref| over elements whose ref is a normal number. */
  maxRelError: number;
  maxAbsError: number;
  /** First failing element, when not ok. */
  detail?: string;
}

/**
 * Checks a candidate's output against the oracle with @softmax/conformance's checkAgainstOracle:
 * |y − ref| ≤ rtol·(|ref| + (atol/rtol)·max|ref| of the row). The row term holds a
 * 1,000,000-wide row (entries near 1e-6) to the same relative standard as a short one, and
 * keeps entries far below the row's largest from failing on absolute noise. NaN must meet NaN.
 */
export function verify(actual: FloatArray, expected: Float64Array, dtype: BenchDtype, cols: number): Verdict {
  const { rtol, atol } = tolerance[dtype];
  // The oracle rounded once to the result's dtype: the ULP and normal-range tests then use that dtype.
  const ref = dtype === 'float32' ? Float32Array.from(expected) : expected;
  const scale = new Float64Array(ref.length);
  for (let offset = 0; offset < ref.length; offset += cols) {
    let rowMax = 0;
    for (let j = 0; j < cols; j++) rowMax = Math.max(rowMax, Math.abs(ref[offset + j]) || 0);
    for (let j = 0; j < cols; j++) scale[offset + j] = Math.abs(ref[offset + j]) + (atol / rtol) * rowMax;
  }
  const check = checkAgainstOracle(actual, ref, { rtol, scale });
  return {
    ok: check.ok,
    worst: check.worstRatio,
    maxRelError: check.maxRelError,
    maxAbsError: check.maxAbsError,
    detail: check.ok ? undefined : describeCheck(check, actual, ref),
  };
}
