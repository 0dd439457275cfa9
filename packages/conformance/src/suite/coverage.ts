import { type Backend, type Dtype, type OpName, SoftmaxError } from '@softmax/core';
import { OP_NAMES } from '@softmax/core/backend';
import { expect, it } from 'vitest';
import { BACKWARD_OPS, FORWARD_OPS } from './ops.js';

/**
 * Every op of core's table, with the suite that covers it. The suite runs, for each backend, the
 * ops that backend declares; an op it does not declare is reported by a test of its own (the call
 * must fail with UNSUPPORTED_OP), never silently skipped.
 */
export const COVERED_OPS: readonly OpName[] = [
  'sample',
  ...FORWARD_OPS.map((o) => o.name),
  ...BACKWARD_OPS.map((o) => o.name),
  'logSumExp',
  'crossEntropy',
];

export function registerCoverageTests(backendOf: () => Backend, dtypes: readonly Dtype[]): void {
  const backend = backendOf();
  for (const name of OP_NAMES) {
    if (backend.ops[name]) continue;
    it(`${name}: not implemented by this backend (UNSUPPORTED_OP)`, async () => {
      const A = dtypes[0] === 'float64' ? Float64Array : Float32Array;
      const call = backendOf()[name] as (...args: unknown[]) => unknown;
      let error: unknown;
      try {
        await call.call(backendOf(), new A(4), new A(4));
      } catch (e) {
        error = e;
      }
      expect((error as SoftmaxError)?.code, `${name} did not fail with UNSUPPORTED_OP: ${String(error)}`).toBe(
        'UNSUPPORTED_OP',
      );
      expect(error instanceof SoftmaxError || (error as Error).name === 'SoftmaxError').toBe(true);
    });
  }
}
