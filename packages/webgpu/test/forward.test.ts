import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { mismatch, random, reference } from './compare.js';
import { gpuBackend, REDUCTION_TUNINGS } from './gpu.js';

const NaN32 = Number.NaN;
const INF = Number.POSITIVE_INFINITY;

// Every reduction flavour (see REDUCTION_TUNINGS).
describe.each(REDUCTION_TUNINGS)('forward kernels, %s', (_, tuning) => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend({ tuning });
  });
  afterAll(() => backend?.dispose());

  const shapes: Array<[number, number, number]> = [
    [3, 10, 1], // scalar lanes, several rows per workgroup
    [5, 64, 0.7], // vec4 lanes
    [2, 1000, 3],
    [1, 4099, 1], // one long scalar row
  ];
  for (const op of ['softmax', 'logSoftmax'] as const) {
    it.each(shapes)(`${op} [%i, %i] at temperature %f matches the reference`, async (rows, cols, temperature) => {
      const x = random(rows * cols, 40, rows * 7919 + cols);
      const y = await backend[op](x, { cols, temperature });
      expect(mismatch(y, reference[op](x, { cols, temperature }))).toBeUndefined();
    });
  }

  it('follows every special-value rule of the reference', async () => {
    const rows = [
      [1, 2, NaN32, 4, 5, 6, 7, 8], // NaN row
      [1, INF, 3, INF, -INF, INF, 0, 2], // three +Inf share the mass
      [-INF, -INF, -INF, -INF, -INF, -INF, -INF, -INF], // fully masked
      [0, -INF, 3, 3, -INF, 1, -0, 2], // −Inf → 0, a repeated max
      [0, -0, 0, -0, 0, -0, 0, -0], // signed zeros are one max
      [3e38, -3e38, 1, 0, 2, 3e38, -1, 5], // differences overflow to −Inf
      [88, -20, -90, 10, 0, 1e-30, 87, 87.5],
      [1, 1, 1, 1, 1, 1, 1, 1],
    ];
    const x = Float32Array.from(rows.flat());
    for (const fullyMasked of ['nan', 'zero'] as const) {
      for (const temperature of [1, 0.25]) {
        for (const op of ['softmax', 'logSoftmax'] as const) {
          const options = { cols: 8, fullyMasked, temperature };
          const y = await backend[op](x, options);
          expect(mismatch(y, reference[op](x, options)), `${op} ${fullyMasked} T=${temperature}`).toBeUndefined();
        }
      }
    }
  });

  it('keeps (x − max)/T finite when x − max overflows float32 but the quotient does not', async () => {
    const big = 3.4028234663852886e38; // the largest float32
    const rows = [
      [big, -big, big / 2, -big / 2, 0, -big, 1, -3e38],
      [-big, -big, big, -big, -1e38, -2e38, -3e38, -big],
      [big, -INF, -big, -big, -big, -big, -big, -big],
      [-big, big, -big, big, -big, -1, -big, -3.3e38],
    ];
    const x = Float32Array.from(rows.flat());
    // Huge temperatures make exp((x − max)/T) matter for softmax too, not only log-softmax.
    for (const temperature of [1, 10, 1e36, 1e37, 1e38, 3e38, big]) {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const options = { cols: 8, temperature };
        const y = await backend[op](x, options);
        expect(mismatch(y, reference[op](x, options)), `${op} T=${temperature}`).toBeUndefined();
      }
    }
  });

  it('keeps full relative accuracy across a wide dynamic range and when the max dominates', async () => {
    const cols = 256;
    const x = new Float32Array(cols * 2);
    for (let j = 0; j < cols; j++) {
      x[j] = -j * 0.37 + Math.fround(1e-3 * j); // exp down to e^-95: every exponent range
      x[cols + j] = j === 5 ? 0 : -19 - j / 256; // log-softmax of the max ≈ −cols·e^-19: log1p matters
    }
    for (const temperature of [1, 1.3]) {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const y = await backend[op](x, { cols, temperature });
        expect(mismatch(y, reference[op](x, { cols, temperature })), `${op} T=${temperature}`).toBeUndefined();
      }
    }
  });
});

describe('forward kernels, layout paths', () => {
  it('splits long rows into segments and merges their (max, sum) partials', async () => {
    const backend = await gpuBackend({ tuning: { targetWorkgroups: 64, minLanesPerThread: 1 } });
    try {
      const cols = 4096;
      const x = random(3 * cols, 30, 11);
      x[100] = 60; // the max of row 0 sits in one segment only
      x[cols + 3000] = Number.NaN;
      x[2 * cols + 10] = INF;
      x[2 * cols + 4000] = INF;
      for (const op of ['softmax', 'logSoftmax'] as const) {
        for (const temperature of [1, 2.5]) {
          const y = await backend[op](x, { cols, temperature });
          expect(mismatch(y, reference[op](x, { cols, temperature })), op).toBeUndefined();
        }
      }
      // Segment maxes of opposite huge signs: merging them forms (m_s − M)/T past float32's range.
      const huge = new Float32Array(cols).fill(-3.4e38);
      huge[3500] = 3.4e38;
      huge[40] = -1e38;
      for (const op of ['softmax', 'logSoftmax'] as const) {
        for (const temperature of [1e37, 1e38]) {
          const y = await backend[op](huge, { cols, temperature });
          expect(
            mismatch(y, reference[op](huge, { cols, temperature })),
            `${op} huge T=${temperature}`,
          ).toBeUndefined();
        }
      }
      const masked = new Float32Array(cols).fill(-INF);
      masked.fill(-3, 0, 17); // only the first segment has finite entries
      expect(mismatch(await backend.softmax(masked), reference.softmax(masked, {}))).toBeUndefined();
      masked.fill(-INF);
      const zero = await backend.logSoftmax(masked, { fullyMasked: 'zero' });
      expect(mismatch(zero, reference.logSoftmax(masked, { fullyMasked: 'zero' }))).toBeUndefined();
    } finally {
      backend.dispose();
    }
  });

  it('processes inputs larger than one storage binding in chunks at unaligned row offsets', async () => {
    const backend = await gpuBackend({ tuning: { maxBindingBytes: 4096 } });
    try {
      for (const cols of [36, 37]) {
        const x = random(60 * cols, 20, cols);
        const y = await backend.softmax(x, { cols });
        expect(mismatch(y, reference.softmax(x, { cols }))).toBeUndefined();
      }
    } finally {
      backend.dispose();
    }
  });

  it('lays out more workgroups than fit in one dispatch dimension on a 2-D grid', async () => {
    const backend = await gpuBackend({ tuning: { maxWorkgroupsPerDimension: 3 } });
    try {
      const cols = 2048; // one row per workgroup: 9 rows need a 3 × 3 grid
      const x = random(9 * cols, 20, 5);
      const y = await backend.logSoftmax(x, { cols });
      expect(mismatch(y, reference.logSoftmax(x, { cols }))).toBeUndefined();
    } finally {
      backend.dispose();
    }
  });

  it('computes with one workgroup per dispatch dimension (maxWorkgroupsPerDimension: 1)', async () => {
    const backend = await gpuBackend({ tuning: { maxWorkgroupsPerDimension: 1 } });
    try {
      for (const [rows, cols] of [
        [1, 5000], // a long row: no more segments than one workgroup holds
        [3, 40],
      ]) {
        const x = random(rows * cols, 20, cols);
        const y = await backend.softmax(x, { cols });
        expect(mismatch(y, reference.softmax(x, { cols })), `${rows} × ${cols}`).toBeUndefined();
      }
    } finally {
      backend.dispose();
    }
  });

  it('handles 70,000 short rows (several rows per workgroup)', async () => {
    const backend = await gpuBackend();
    try {
      const cols = 4;
      const x = random(70_000 * cols, 10, 3);
      const y = await backend.softmax(x, { cols });
      expect(mismatch(y, reference.softmax(x, { cols }))).toBeUndefined();
    } finally {
      backend.dispose();
    }
  });
});
