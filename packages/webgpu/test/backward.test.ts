import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { mismatch, random, reference } from './compare.js';
import { gpuBackend, REDUCTION_TUNINGS } from './gpu.js';

/** y from the forward pass (computed by the reference), so the gradients see realistic inputs. */
function forwardOf(op: 'softmaxBackward' | 'logSoftmaxBackward', x: Float32Array, cols: number, temperature: number) {
  const y =
    op === 'softmaxBackward'
      ? reference.softmax(x, { cols, temperature })
      : reference.logSoftmax(x, { cols, temperature });
  return y as Float32Array;
}

// The gradients subtract a row sum, so entries can cancel: the tolerance adds an absolute
// term scaled by the row's magnitude (float32 rounding of the sum, not of each entry).
function gradientTolerance(dy: Float32Array): number {
  let m = 0;
  for (const v of dy) m = Math.max(m, Math.abs(v));
  return m * 4e-7;
}

describe.each(REDUCTION_TUNINGS)('gradient kernels, %s', (_, tuning) => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend({ tuning });
  });
  afterAll(() => backend?.dispose());

  const cases: Array<[number, number, number]> = [
    [3, 10, 1],
    [4, 256, 0.5],
    [1, 3001, 2],
  ];
  for (const op of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
    it.each(cases)(`${op} [%i, %i] at temperature %f matches the reference`, async (rows, cols, temperature) => {
      const x = random(rows * cols, 8, cols + 1);
      const y = forwardOf(op, x, cols, temperature);
      const dy = random(rows * cols, 1, cols + 2);
      const dx = await backend[op](y, dy, { cols, temperature });
      expect(mismatch(dx, reference[op](y, dy, { cols, temperature }), 2e-6, gradientTolerance(dy))).toBeUndefined();
    });
  }

  it('splits long rows into segments for the gradients too', async () => {
    const split = await gpuBackend({ tuning: { targetWorkgroups: 32, minLanesPerThread: 1 } });
    try {
      const cols = 4096;
      const x = random(2 * cols, 6, 9);
      const dy = random(2 * cols, 1, 10);
      for (const op of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
        const y = forwardOf(op, x, cols, 1.5);
        const dx = await split[op](y, dy, { cols, temperature: 1.5 });
        expect(
          mismatch(dx, reference[op](y, dy, { cols, temperature: 1.5 }), 2e-6, gradientTolerance(dy)),
          op,
        ).toBeUndefined();
      }
    } finally {
      split.dispose();
    }
  });

  it('gives exp(−Inf) = 0 in the log-softmax gradient and NaN where y is NaN', async () => {
    const y = Float32Array.from([-Infinity, -0.5, -1.2, -3, Number.NaN, -1, -2, -0.1]);
    const dy = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    const dx = await backend.logSoftmaxBackward(y, dy, { cols: 4 });
    const ref = reference.logSoftmaxBackward(y, dy, { cols: 4 });
    expect(Number.isNaN(ref[4])).toBe(true);
    expect(mismatch(dx, ref, 2e-6, gradientTolerance(dy))).toBeUndefined();
  });
});
