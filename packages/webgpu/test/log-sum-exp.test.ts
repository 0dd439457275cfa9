import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { lseMismatch, random, reference } from './compare.js';
import { gpuBackend, REDUCTION_TUNINGS } from './gpu.js';

const INF = Number.POSITIVE_INFINITY;

// logSumExp on WebGPU beyond the shared conformance suite: every reduction, the split-row merge,
// chunks (its one-value-per-row output bound at aligned offsets) and 2-D grids.
describe.each(REDUCTION_TUNINGS)('logSumExp kernels, %s', (_, tuning) => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend({ tuning });
  });
  afterAll(() => backend?.dispose());

  it.each([
    [3, 10, 1], // scalar lanes, several rows per workgroup
    [5, 64, 0.7], // vec4 lanes
    [2, 1000, 3],
    [1, 4099, 1], // one long scalar row
  ])('[%i, %i] at temperature %f matches the reference, one value per row', async (rows, cols, temperature) => {
    const x = random(rows * cols, 40, rows * 7919 + cols);
    const y = await backend.logSumExp(x, { cols, temperature });
    expect(y).toBeInstanceOf(Float32Array);
    expect(y.length).toBe(rows);
    expect(lseMismatch(y, reference.logSumExp(x, { cols, temperature }))).toBeUndefined();
  });

  it('follows every special-value rule of the reference', async () => {
    const rows = [
      [1, 2, Number.NaN, 4, 5, 6, 7, 8], // NaN → NaN
      [1, INF, 3, INF, -INF, INF, 0, 2], // +Inf → +Inf
      [-INF, -INF, -INF, -INF, -INF, -INF, -INF, -INF], // all −Inf → −Inf
      [0, -INF, 3, 3, -INF, 1, -0, 2], // −Inf entries add nothing, a repeated max
      [0, -0, 0, -0, 0, -0, 0, -0], // signed zeros are one max: log 8
      [3e38, -3e38, 1, 0, 2, 3e38, -1, 5], // differences overflow to −Inf
      [88, -20, -90, 10, 0, 1e-30, 87, 87.5],
      [Number.NaN, INF, -INF, 0, 0, 0, 0, 0], // NaN beside +Inf is still NaN
    ];
    const x = Float32Array.from(rows.flat());
    for (const temperature of [1, 0.25, 3e38]) {
      const y = await backend.logSumExp(x, { cols: 8, temperature });
      const expected = reference.logSumExp(x, { cols: 8, temperature });
      expect(lseMismatch(y, expected), `T=${temperature}`).toBeUndefined();
      // The special rows by bit pattern: NaN is NaN, and the infinities are exact.
      expect(
        [0, 1, 2, 7].map((r) => y[r]),
        `T=${temperature}`,
      ).toEqual([Number.NaN, INF, -INF, Number.NaN]);
    }
  });

  it('keeps full relative accuracy when the max dominates (log1p of the rest)', async () => {
    const cols = 256;
    const x = new Float32Array(cols * 2);
    for (let j = 0; j < cols; j++) {
      x[j] = j === 5 ? 0 : -19 - j / 256; // log-sum-exp ≈ cols·e^-19 ≈ 1.4e-6: log(1 + rest) rounded loses it
      x[cols + j] = j === 9 ? 1000 : -j * 0.37; // a dominant logit: exactly max/T
    }
    for (const temperature of [1, 1.3]) {
      const y = await backend.logSumExp(x, { cols, temperature });
      expect(lseMismatch(y, reference.logSumExp(x, { cols, temperature }), true), `T=${temperature}`).toBeUndefined();
    }
  });
});

describe('logSumExp kernels, layout paths', () => {
  it('splits long rows into segments and merges their (max, count, rest) partials', async () => {
    const backend = await gpuBackend({ tuning: { targetWorkgroups: 64, minLanesPerThread: 1 } });
    try {
      const cols = 4096;
      const x = random(4 * cols, 30, 12);
      x[100] = 60; // the max of row 0 sits in one segment only
      x[cols + 3000] = Number.NaN;
      x[2 * cols + 10] = INF;
      x[3 * cols + 4000] = 1e4; // a dominant logit in the last segment
      for (const temperature of [1, 2.5, 1e-30, 1e39]) {
        const y = await backend.logSumExp(x, { cols, temperature });
        expect(lseMismatch(y, reference.logSumExp(x, { cols, temperature })), `T=${temperature}`).toBeUndefined();
      }
      // Segment maxes of opposite huge signs: merging them forms (m_s − M)/T past float32's range.
      const huge = new Float32Array(cols).fill(-3.4e38);
      huge[3500] = 3.4e38;
      huge[40] = -1e38;
      for (const temperature of [1e37, 1e38]) {
        const y = await backend.logSumExp(huge, { cols, temperature });
        expect(
          lseMismatch(y, reference.logSumExp(huge, { cols, temperature })),
          `huge T=${temperature}`,
        ).toBeUndefined();
      }
      const masked = new Float32Array(2 * cols).fill(-INF);
      masked.fill(-3, 0, 17); // row 0: only its first segment has finite entries; row 1: all −Inf
      const y = await backend.logSumExp(masked, { cols });
      expect(lseMismatch(y, reference.logSumExp(masked, { cols }))).toBeUndefined();
      expect(y[1]).toBe(-INF);
    } finally {
      backend.dispose();
    }
  });

  it('writes each chunk’s rows of the output at unaligned row offsets', async () => {
    const backend = await gpuBackend({ tuning: { maxBindingBytes: 4096 } });
    try {
      for (const cols of [7, 36, 37]) {
        const rows = 1000; // chunks of 137 (cols 7) rows: their first rows are not 64-aligned
        const x = random(rows * cols, 20, cols);
        const y = await backend.logSumExp(x, { cols });
        expect(lseMismatch(y, reference.logSumExp(x, { cols })), `cols ${cols}`).toBeUndefined();
      }
    } finally {
      backend.dispose();
    }
  });

  it('lays out more workgroups than fit in one dispatch dimension on a 2-D grid', async () => {
    const backend = await gpuBackend({ tuning: { maxWorkgroupsPerDimension: 3 } });
    try {
      const cols = 2048;
      const x = random(9 * cols, 20, 5);
      const y = await backend.logSumExp(x, { cols });
      expect(lseMismatch(y, reference.logSumExp(x, { cols }))).toBeUndefined();
    } finally {
      backend.dispose();
    }
  });
});
