import { type BenchDtype, type Op, tolerance } from '@softmax/bench-scenarios';
import { checkAgainstOracle, describeCheck } from '@softmax/conformance/helpers';
import { OPS, type OperandArray, resultOf, validateCall } from '@softmax/core/backend';
import { type FloatArray, isArray, type Output } from './candidate.js';

/**
 * The float64 oracle: the op's reference kernel (core's op table), run in float64 on the same
 * inputs (float operands copied to float64, integer ones as they are) with the same options, and
 * its result as core forms it (crossEntropy: { loss, grad }).
 */
export function oracle(
  op: Op,
  inputs: readonly OperandArray[],
  cols: number,
  options: Readonly<Record<string, unknown>> = {},
): Output {
  const args = inputs.map((a) => (a instanceof Float32Array || a instanceof Float64Array ? Float64Array.from(a) : a));
  const call = validateCall(OPS[op], [...args, { ...options, cols }]);
  call.op.reference(call);
  return resultOf(call) as Output;
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
 * An op of several outputs (crossEntropy) is checked output by output (the loss as one row), and
 * its verdict is the worst of them.
 */
export function verify(actual: Output, expected: Output, dtype: BenchDtype, cols: number): Verdict {
  if (isArray(expected)) {
    if (!isArray(actual)) return missing('an array');
    return verifyArray(actual, expected as Float64Array, dtype, cols);
  }
  if (isArray(actual)) return missing(`{ ${Object.keys(expected).join(', ')} }`);
  const verdicts = Object.entries(expected).flatMap(([name, ref]) => {
    if (!ref) return [];
    const got = actual[name];
    if (!got) return [{ ...missing(name), detail: `${name}: missing` }];
    if (got instanceof Int32Array) return [{ ...missing(name), detail: `${name}: integers, expected floats` }];
    // A matrix output is checked row by row; the loss (one value, or one per row) as a single row.
    const width = got.length === ref.length && ref.length >= cols && ref.length % cols === 0 ? cols : ref.length;
    const v = verifyArray(got, ref as Float64Array, dtype, width);
    return [{ ...v, detail: v.detail && `${name}: ${v.detail}` }];
  });
  return {
    ok: verdicts.every((v) => v.ok),
    worst: Math.max(...verdicts.map((v) => v.worst)),
    maxRelError: Math.max(...verdicts.map((v) => v.maxRelError)),
    maxAbsError: Math.max(...verdicts.map((v) => v.maxAbsError)),
    detail: verdicts.find((v) => !v.ok)?.detail,
  };
}

const missing = (what: string): Verdict => ({
  ok: false,
  worst: Number.POSITIVE_INFINITY,
  maxRelError: Number.POSITIVE_INFINITY,
  maxAbsError: Number.POSITIVE_INFINITY,
  detail: `expected ${what}`,
});

function verifyArray(actual: FloatArray, expected: Float64Array, dtype: BenchDtype, cols: number): Verdict {
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
