import {
  logSoftmaxBackwardScale,
  logSoftmaxScale,
  softmaxBackwardScale,
  type Tolerance,
  uniform,
} from '@softmax/conformance/helpers';
import type { FloatArray } from '@softmax/core';
import * as core from '@softmax/core';
import { describe, it } from 'vitest';
import type { WasmBackend } from '../dist/index.js';
import { everyBuild, expectAccurate } from './helpers.js';

// Every finite positive temperature is valid. The kernels multiply by 1/T, which is infinite for
// T < 5.6e-309 (0·∞ = NaN at the row's max) and subnormal for T > 4.5e307; the reference divides.

const backends = await everyBuild();

/** The float64 next to `t` (up: toward +∞). */
function neighbour(t: number, up: boolean): number {
  const bits = new BigInt64Array(new Float64Array([t]).buffer);
  bits[0] += up ? 1n : -1n;
  return new Float64Array(bits.buffer)[0];
}

const TEMPERATURES = [
  Number.MIN_VALUE,
  1e-320,
  1e-310,
  5.5e-309,
  5.6e-309,
  2 ** -1022,
  1e-307,
  neighbour(2 ** -1000, false),
  2 ** -1000,
  1e-300,
  1e-100,
  2 ** -41,
  2 ** -40,
  0.7,
  1,
  2 ** 40,
  2 ** 41,
  3.4e38,
  3.5e38,
  1e100,
  2 ** 1000,
  neighbour(2 ** 1000, true),
  1e305,
  4.5e307,
  1e308,
  Number.MAX_VALUE,
];

const F32_MAX = 3.4028234663852886e38;
/** Rows of `cols`: random values, ties at the max, masked entries, and the dtype's extremes. */
function inputs(dtype: 'float32' | 'float64', cols: number): FloatArray {
  const big = dtype === 'float32' ? F32_MAX : Number.MAX_VALUE;
  const rows = [
    uniform(cols, -30, 30, cols),
    uniform(cols, -3, 3, cols + 1).map((v, j) => (j % 5 === 0 ? 2.5 : v)), // a five-way tie at the max
    uniform(cols, -1e30, 1e30, cols + 2).map((v, j) => (j % 3 === 1 ? Number.NEGATIVE_INFINITY : v)),
    uniform(cols, -1, 1, cols + 3).map((v, j) => (j === 0 ? big : j === 1 ? -big : v * big)),
  ].flat();
  return dtype === 'float32' ? Float32Array.from(rows) : Float64Array.from(rows);
}

const RTOL = { float32: 1e-6, float64: 1e-12 };

/** Every op at temperature `t` against core's reference, with the conformance suite's bounds. */
function checkAll(backend: WasmBackend, x: FloatArray, cols: number, t: number): void {
  const rtol = RTOL[x instanceof Float32Array ? 'float32' : 'float64'];
  const options = { cols, temperature: t };
  const sm = core.softmax(x, options);
  expectAccurate(backend.softmax(x, options), sm, { rtol });
  const lsm = core.logSoftmax(x, options);
  expectAccurate(backend.logSoftmax(x, options), lsm, { rtol, scale: logSoftmaxScale(lsm) });
  const lse = core.logSumExp(x, options);
  expectAccurate(backend.logSumExp(x, options), lse, { rtol, scale: logSoftmaxScale(lse) });
  // The gradients take finite inputs: y from a T = 1 forward pass of the random row.
  const first = x.subarray(0, cols);
  const y = core.softmax(first, { cols });
  const ly = core.logSoftmax(first, { cols });
  const dy = first.map((_, j) => ((j * 7) % 11) / 5 - 1);
  const check = (got: FloatArray, want: FloatArray, scale: Float64Array) => {
    const tolerance: Tolerance = { rtol, scale };
    expectAccurate(got, want, tolerance);
  };
  check(
    backend.softmaxBackward(y, dy, options),
    core.softmaxBackward(y, dy, options),
    softmaxBackwardScale(y, dy, cols, t),
  );
  check(
    backend.logSoftmaxBackward(ly, dy, options),
    core.logSoftmaxBackward(ly, dy, options),
    logSoftmaxBackwardScale(ly, dy, cols, t),
  );
}

describe('every finite positive temperature', () => {
  for (const [name, backend] of Object.entries(backends)) {
    for (const dtype of ['float32', 'float64'] as const) {
      // 3: scalar tails only; 77 and 200: SIMD groups and 64-element blocks with tails.
      it(`${name} ${dtype}`, () => {
        for (const cols of [3, 77, 200]) {
          const x = inputs(dtype, cols);
          for (const t of TEMPERATURES) checkAll(backend, x, cols, t);
        }
      });
    }
  }

  it('threads: 2 on calls large enough to split (rows, and one float32 row in pieces)', () => {
    const backend = backends.threads;
    for (const t of [Number.MIN_VALUE, 1e-310, 1e-305, 1e305, Number.MAX_VALUE]) {
      for (const dtype of ['float32', 'float64'] as const) {
        const rows = uniform(70_000, -30, 30, 9);
        const x = dtype === 'float32' ? Float32Array.from(rows) : Float64Array.from(rows);
        for (const cols of [70_000, 17_500]) checkAll(backend, x, cols, t);
      }
    }
  });
});
