import { checkAgainstOracle, describeCheck, softmaxBackwardScale } from '@softmax/conformance/helpers';
import type { FloatArray } from '@softmax/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { ATOL, mismatch, RTOL, random, reference } from './compare.js';
import { gpuBackend } from './gpu.js';

// WGSL lets hardware flush subnormal floats to zero (SwiftShader does, operands and results).
// The gradients used to lose a subnormal factor of a product whose value is an ordinary number:
// softmaxBackward([1, 1e-40, 0], [0, 1e20, 0]) gave [0, 0, 0] instead of ≈ [−1e-20, 1e-20, 0].

const f32 = Math.fround;
const TINY = [1e-40, -3e-42, 1.4e-45, 1.1754942e-38]; // subnormal float32 values, the largest one too

function expectClose(actual: Float32Array, expected: FloatArray, label: string) {
  expect(mismatch(actual, expected), label).toBeUndefined();
}

describe.each([
  ['scalar lanes, one thread per unit', { subgroups: false }, 3],
  ['vec4 lanes, subgroup shuffles', {}, 4],
] as const)('subnormal inputs, %s', (_, tuning, cols) => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend({ tuning });
  });
  afterAll(() => backend?.dispose());

  it('softmaxBackward keeps products of a subnormal and a larger factor (the reported case)', async () => {
    const y = Float32Array.from([1, 1e-40, 0]);
    const dy = Float32Array.from([0, 1e20, 0]);
    expectClose(await backend.softmaxBackward(y, dy), reference.softmaxBackward(y, dy, {}), 'reported');
    expect((await backend.softmaxBackward(y, dy))[0]).toBeLessThan(0); // not flushed: ≈ −1e-20
  });

  it('softmaxBackward with subnormal y or dy, at temperatures of every class', async () => {
    const rows = [
      [1, TINY[0], 0, 0.5], // subnormal y times a large dy
      [1e30, 0.25, 2, 1], // a large y times a subnormal dy
      [TINY[1], TINY[2], 0.75, TINY[3]],
      [0.1, 0.2, 0.3, 0.4], // no subnormal: the plain path beside careful rows
    ].map((r) => r.slice(0, cols));
    const dys = [
      [0, 1e20, 3, -1],
      [TINY[0], 1e-30, 0, TINY[3]],
      [1e25, -1e30, 1, 2e28],
      [1, -1, 0.5, 2],
    ].map((r) => r.slice(0, cols));
    const y = Float32Array.from(rows.flat());
    const dy = Float32Array.from(dys.flat());
    for (const temperature of [1, 0.5, 1e-30, 1e10, 1e30, 1e-50]) {
      const options = { cols, temperature };
      const dx = await backend.softmaxBackward(y, dy, options);
      const ref = reference.softmaxBackward(y, dy, options);
      const check = checkAgainstOracle(dx, ref, {
        rtol: RTOL,
        atol: ATOL,
        scale: softmaxBackwardScale(y, dy, cols, temperature),
      });
      expect(check.ok, `T=${temperature}: ${describeCheck(check, dx, ref)}`).toBe(true);
    }
  });

  it('logSoftmaxBackward keeps exp(y)·Σdy where exp(y) alone is subnormal', async () => {
    // dx_j = (dy_j − exp(y_j)·Σdy)/T with dy_j = 0 but for the max: e^-100·1e30 ≈ 3.7e-14.
    const y = Float32Array.from([-100, 0, -95, -120].slice(0, cols));
    const dy = Float32Array.from([0, 1e30, 0, 0].slice(0, cols));
    for (const temperature of [1, 3, 1e-20]) {
      const options = { cols, temperature };
      expectClose(
        await backend.logSoftmaxBackward(y, dy, options),
        reference.logSoftmaxBackward(y, dy, options),
        `T=${temperature}`,
      );
    }
  });

  it('softmax and log-softmax of subnormal logits (what counts is x − max; tiny T makes it whole units)', async () => {
    const x = Float32Array.from(
      [
        [TINY[0], 0, -TINY[0], TINY[2]],
        [TINY[3], -TINY[3], TINY[1], 1],
        [TINY[2], 2 * TINY[2], 0, -TINY[2]],
      ].flatMap((r) => r.slice(0, cols)),
    );
    for (const temperature of [1, 1e-3, 1e-40, 1e-45, 2 ** -149]) {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const options = { cols, temperature };
        expectClose(await backend[op](x, options), reference[op](x, options), `${op} T=${temperature}`);
      }
    }
  });
});

describe('subnormal inputs, split rows', () => {
  it('a segment with a subnormal factor is summed and written carefully, the others plainly', async () => {
    const backend = await gpuBackend({ tuning: { targetWorkgroups: 32, minLanesPerThread: 1 } });
    try {
      const cols = 4096;
      const y = Float32Array.from(random(cols, 1, 4), (v) => f32(Math.abs(v) / 1000));
      const dy = random(cols, 1, 5);
      y[3100] = 1e-40;
      dy[3100] = 1e30; // a product of 1e-10, in one segment only
      dy[17] = 1e-41;
      y[17] = 1e25;
      for (const temperature of [1, 0.01]) {
        const options = { cols, temperature };
        const dx = await backend.softmaxBackward(y, dy, options);
        const ref = reference.softmaxBackward(y, dy, options);
        const check = checkAgainstOracle(dx, ref, {
          rtol: RTOL,
          atol: ATOL,
          scale: softmaxBackwardScale(y, dy, cols, temperature),
        });
        expect(check.ok, `T=${temperature}: ${describeCheck(check, dx, ref)}`).toBe(true);
      }
    } finally {
      backend.dispose();
    }
  });
});

describe('the stated exception: intermediate results below 2^-126', () => {
  it('costs at most (2 + |y|·(cols + 1))·2^-126 / T beyond the bound', async () => {
    // y·dy = 1e-40 from two normal factors: a subnormal product, which hardware may flush before
    // the division by T lifts it to 1e-30. The README's accuracy section states this bound.
    const backend = await gpuBackend();
    try {
      const cols = 2;
      const y = Float32Array.from([1e-20, 1]);
      const dy = Float32Array.from([1e-20, 0]);
      const temperature = 1e-10;
      const dx = await backend.softmaxBackward(y, dy, { cols, temperature });
      const ref = reference.softmaxBackward(y, dy, { cols, temperature });
      const scale = softmaxBackwardScale(y, dy, cols, temperature);
      for (let j = 0; j < cols; j++) {
        const allowed = RTOL * scale[j] + ((2 + Math.abs(y[j]) * (cols + 1)) * 2 ** -126) / temperature;
        expect(Math.abs(dx[j] - ref[j]), `dx[${j}] = ${dx[j]}, reference ${ref[j]}`).toBeLessThanOrEqual(allowed);
      }
    } finally {
      backend.dispose();
    }
  });
});
