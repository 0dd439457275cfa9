import {
  checkAgainstOracle,
  describeCheck,
  logSoftmaxBackwardScale,
  softmaxBackwardScale,
} from '@softmax/conformance/helpers';
import type { FloatArray } from '@softmax/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { splitTemperature, tempClass } from '../src/params.js';
import { ATOL, lseMismatch, mismatch, RTOL, random, reference } from './compare.js';
import { gpuBackend, REDUCTION_TUNINGS } from './gpu.js';

// Every finite temperature > 0 is valid (a float64, from Number.MIN_VALUE to Number.MAX_VALUE):
// T past float32's range used to give NaN (T = 1e39), or lose the huge differences it scales
// (T = 3.5e38: 0.25 each), and T below float32's normal range NaN (T = 1e-38).

const f32 = Math.fround;
const INF = Number.POSITIVE_INFINITY;

const TEMPERATURES = [
  Number.MIN_VALUE,
  1e-320,
  2.2250738585072014e-308,
  1e-300,
  1e-200,
  1e-100,
  2 ** -150,
  1e-45,
  2 ** -140,
  1e-40,
  1e-38,
  2 ** -126,
  1e-30,
  2 ** -65,
  2 ** -64 * (1 - 2 ** -53),
  2 ** -64,
  1e-10,
  0.7,
  1,
  1 + 2 ** -52,
  3,
  1e10,
  2 ** 64,
  2 ** 64 * (1 + 2 ** -52),
  1e20,
  1e30,
  3.4e38,
  3.4028234663852886e38,
  3.5e38,
  1e39,
  1e100,
  1e300,
  Number.MAX_VALUE,
];

/** Uniform in (−1, 1), deterministic. */
const unit = (n: number, seed: number) => Array.from(random(n, 1, seed));

/** Rows of `cols` logits whose differences matter at temperature T, and rows of the other extremes. */
function rowsFor(T: number, cols: number, seed: number): Float32Array {
  const s = Math.min(T, 1e37); // T-sized differences, within float32
  const u = (k: number) => unit(cols, seed * 16 + k);
  const rows: number[][] = [
    u(1).map((v) => 40 * v), // ordinary logits
    u(2).map((v) => f32(30 * s * v)), // spread of a few T
    u(3).map((v) => f32(1 + 30 * s * v)), // the same beside 1 (T ≥ 2^-23 resolves it)
    u(4).map((v) => f32(v * 2 ** -140)), // subnormal logits: whole units of t when T ~ 1e-45
    u(5).map((v) => (v < 0 ? -1 : 1) * f32(1e37 + Math.abs(v) * 3.3e38)), // huge, of both signs
    u(6).map((v, j) => (j % 3 === 0 ? -INF : f32(5 * s * v))), // masked entries
    u(7).map((v, j) => (j % 2 === 0 ? f32(-3.4e38 * Math.abs(v)) : f32(3 * s * v))), // a small max, huge negatives
    u(8).map((v, j) => (j === 1 || j === 4 ? INF : f32(s * v))), // +Inf shares the mass
  ];
  return Float32Array.from(rows.flat());
}

describe('temperature classes (host side)', () => {
  it('splits every float64 temperature exactly as τ·2^p with τ in (1/2, 1]', () => {
    for (const T of TEMPERATURES) {
      const { tau, p } = splitTemperature(T);
      expect(tau, String(T)).toBeGreaterThan(0.5);
      expect(tau, String(T)).toBeLessThanOrEqual(1);
      // Exact: scaling back by powers of two (in two steps: 2^p alone may overflow) gives T.
      expect(tau * 2 ** Math.trunc(p / 2) * 2 ** (p - Math.trunc(p / 2)), String(T)).toBe(T);
    }
    expect(TEMPERATURES.map(tempClass)).toContain(3);
    expect(TEMPERATURES.map(tempClass)).toContain(2);
    expect([2 ** -64, 2 ** 64, 1.5].map(tempClass)).toEqual([1, 1, 1]);
    expect([2 ** -64 * (1 - 2 ** -53), 2 ** 64 * (1 + 2 ** -52), 1].map(tempClass)).toEqual([3, 2, 0]);
  });
});

const TUNINGS = REDUCTION_TUNINGS.filter(([name]) => name === 'subgroup shuffles' || name.includes('guarded'));

describe.each(TUNINGS)('every finite temperature, %s', (_, tuning) => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend({ tuning });
  });
  afterAll(() => backend?.dispose());

  it('softmax and log-softmax match the reference', async () => {
    const failures: string[] = [];
    for (const [i, T] of TEMPERATURES.entries()) {
      for (const cols of [8, 7]) {
        const x = rowsFor(T, cols, i * 2 + cols);
        for (const op of ['softmax', 'logSoftmax'] as const) {
          const options = { cols, temperature: T };
          const bad = mismatch(await backend[op](x, options), reference[op](x, options));
          if (bad) failures.push(`${op} T=${T} cols=${cols}: ${bad}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('logSumExp matches the reference (its max/T too, past float32 either way)', async () => {
    const failures: string[] = [];
    for (const [i, T] of TEMPERATURES.entries()) {
      for (const cols of [8, 7]) {
        const x = rowsFor(T, cols, i * 2 + cols);
        const options = { cols, temperature: T };
        const bad = lseMismatch(await backend.logSumExp(x, options), reference.logSumExp(x, options));
        if (bad) failures.push(`T=${T} cols=${cols}: ${bad}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('the gradients match the reference within the condition-aware bound', async () => {
    const failures: string[] = [];
    for (const [i, T] of TEMPERATURES.entries()) {
      const cols = 8;
      const x = rowsFor(T, cols, 100 + i).subarray(0, 3 * cols); // the rows of finite, resolved logits
      const dy = random(x.length, 1, 200 + i);
      for (const op of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
        const y = (op === 'softmaxBackward' ? reference.softmax : reference.logSoftmax)(x, { cols, temperature: T });
        const ref = reference[op](y as Float32Array, dy, { cols, temperature: T });
        const dx = await backend[op](y as Float32Array, dy, { cols, temperature: T });
        const scale = (op === 'softmaxBackward' ? softmaxBackwardScale : logSoftmaxBackwardScale)(y, dy, cols, T);
        const check = checkAgainstOracle(dx, ref as FloatArray, { rtol: RTOL, atol: ATOL, scale });
        if (!check.ok) failures.push(`${op} T=${T}: ${describeCheck(check, dx, ref)}`);
      }
    }
    expect(failures).toEqual([]);
  });
});

describe('every finite temperature, split rows', () => {
  it('merges segment partials at extreme temperatures', async () => {
    const backend = await gpuBackend({ tuning: { targetWorkgroups: 64, minLanesPerThread: 1 } });
    try {
      const cols = 4096;
      const failures: string[] = [];
      for (const T of [Number.MIN_VALUE, 1e-300, 1e-40, 2 ** -70, 2 ** 70, 1e39, 1e300, Number.MAX_VALUE]) {
        const s = Math.min(T, 1e37);
        const x = Float32Array.from(unit(cols, 7), (v) => f32(20 * s * v));
        x[3000] = f32(25 * s); // the max in one segment only
        x[10] = -INF;
        const tiny = Float32Array.from(unit(cols, 8), (v) => f32(v * 2 ** -140));
        tiny[500] = 2 ** -139;
        for (const data of [x, tiny]) {
          for (const op of ['softmax', 'logSoftmax'] as const) {
            const bad = mismatch(
              await backend[op](data, { cols, temperature: T }),
              reference[op](data, { cols, temperature: T }),
            );
            if (bad) failures.push(`${op} T=${T}: ${bad}`);
          }
          const bad = lseMismatch(
            await backend.logSumExp(data, { cols, temperature: T }),
            reference.logSumExp(data, { cols, temperature: T }),
          );
          if (bad) failures.push(`logSumExp T=${T}: ${bad}`);
        }
      }
      expect(failures).toEqual([]);
    } finally {
      backend.dispose();
    }
  });
});
