import type { Backend, BackwardOptions, FloatArray, SoftmaxOptions } from '@softmax/core';
import { expect } from 'vitest';
import {
  type CheckResult,
  checkAgainstOracle,
  describeCheck,
  logSoftmaxBackwardScale,
  logSoftmaxScale,
  softmaxBackwardScale,
} from '../check.js';
import type { DtypeInfo } from '../dtypes.js';
import {
  type OracleBackwardOptions,
  type OracleForwardOptions,
  oracleLogSoftmax,
  oracleLogSoftmaxBackward,
  oracleSoftmax,
  oracleSoftmaxBackward,
} from '../oracle.js';

/** What every registered test receives. */
export interface SuiteContext {
  /** The backend under test (set before any test runs). */
  backend: () => Backend;
  dtype: DtypeInfo;
  rtol: number;
  atol: number;
  /** ConformanceContract.sampleMargin (default 256 · rtol). */
  sampleMargin: number;
  scale: 'full' | 'small';
  /** The forward ops of FORWARD_OPS this backend declares for this dtype (the others are not run). */
  forwardOps: readonly ForwardOp[];
  /** Likewise for the gradients. */
  backwardOps: readonly BackwardOp[];
  /** ConformanceContract.subnormalInputs: 'flush' holds the backend to the oracle on flushed inputs. */
  subnormalInputs: 'preserve' | 'flush';
  /** ConformanceContract.gradientIntermediates. */
  gradientIntermediates: 'preserve' | 'flush';
  /** ConformanceContract.dispatcher: two calls may be served by different member backends. */
  dispatcher: boolean;
}

/**
 * The bound's per-element scale for a gradient (the op's condition-aware scale), plus, for a
 * backend that flushes the gradients' intermediate results (see ConformanceContract), that flush's
 * allowance expressed in units of rtol.
 */
export function backwardScale(
  ctx: SuiteContext,
  op: BackwardOp,
  y: ArrayLike<number>,
  dy: ArrayLike<number>,
  cols: number,
  temperature: number,
): Float64Array {
  const scale = op.scale(y, dy, cols, temperature);
  if (ctx.gradientIntermediates !== 'flush') return scale;
  const unit = ctx.dtype.minNormal / temperature / ctx.rtol;
  for (let i = 0; i < scale.length; i++) {
    scale[i] += (2 + Math.max(Math.abs(y[i]), Math.exp(y[i])) * (cols + 1)) * unit;
  }
  return scale;
}

export interface ForwardOp {
  name: 'softmax' | 'logSoftmax';
  run: (backend: Backend, x: FloatArray, options?: SoftmaxOptions) => Promise<FloatArray>;
  oracle: (x: ArrayLike<number>, options?: OracleForwardOptions) => FloatArray;
  /** The bound's per-element scale; undefined means |ref|. */
  scale: (ref: FloatArray) => ArrayLike<number> | undefined;
  /** Whether each row of the result is a distribution (sums to 1). */
  sumsToOne: boolean;
}

export const FORWARD_OPS: readonly ForwardOp[] = [
  {
    name: 'softmax',
    run: async (b, x, o) => b.softmax(x, o),
    oracle: oracleSoftmax,
    scale: () => undefined,
    sumsToOne: true,
  },
  {
    name: 'logSoftmax',
    run: async (b, x, o) => b.logSoftmax(x, o),
    oracle: oracleLogSoftmax,
    scale: logSoftmaxScale,
    sumsToOne: false,
  },
];

export interface BackwardOp {
  name: 'softmaxBackward' | 'logSoftmaxBackward';
  forward: ForwardOp;
  run: (backend: Backend, y: FloatArray, dy: FloatArray, options?: BackwardOptions) => Promise<FloatArray>;
  oracle: (y: ArrayLike<number>, dy: ArrayLike<number>, options?: OracleBackwardOptions) => FloatArray;
  scale: (y: ArrayLike<number>, dy: ArrayLike<number>, cols: number, temperature: number) => Float64Array;
}

export const BACKWARD_OPS: readonly BackwardOp[] = [
  {
    name: 'softmaxBackward',
    forward: FORWARD_OPS[0],
    run: async (b, y, dy, o) => b.softmaxBackward(y, dy, o),
    oracle: oracleSoftmaxBackward,
    scale: softmaxBackwardScale,
  },
  {
    name: 'logSoftmaxBackward',
    forward: FORWARD_OPS[1],
    run: async (b, y, dy, o) => b.logSoftmaxBackward(y, dy, o),
    oracle: oracleLogSoftmaxBackward,
    scale: logSoftmaxBackwardScale,
  },
];

/** Asserts the result's type and length, then the bound against the oracle; returns the check. */
export function expectWithinBound(
  ctx: SuiteContext,
  result: unknown,
  ref: FloatArray,
  scale: ArrayLike<number> | undefined,
  label: string,
): CheckResult {
  expect(result, `${label}: result type`).toBeInstanceOf(ctx.dtype.ArrayType);
  const y = result as FloatArray;
  expect(y.length, `${label}: result length`).toBe(ref.length);
  const check = checkAgainstOracle(y, ref, { rtol: ctx.rtol, atol: ctx.atol, scale });
  expect(check.ok, `${label}:${describeCheck(check, y, ref)}`).toBe(true);
  return check;
}

/** Element-wise identity (NaN equals NaN; −0 and +0 differ). */
export function expectIdentical(actual: ArrayLike<number>, expected: ArrayLike<number>, label: string): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) {
      expect.fail(`${label}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Fails unless a typed array still holds what `snapshot` held. */
export function expectUnchanged(array: FloatArray, snapshot: FloatArray, label: string): void {
  expectIdentical(array, snapshot, `${label}: the input was modified`);
}
