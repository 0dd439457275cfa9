import { checkAgainstOracle, describeCheck, seededRandom, uniform } from '@softmax/conformance/helpers';
import type { CrossEntropyOptions, Dtype, FloatArray } from '@softmax/core';
import * as core from '@softmax/core';
import { describe, expect, it } from 'vitest';
import type { WasmBackend } from '../dist/index.js';
import { everyBuild, expectSame, thrown } from './helpers.js';

// crossEntropy on each build (SIMD, scalar, threads) against @softmax/core's float64 reference,
// every option and their combinations, and the paths that are the wasm backend's own: views of its
// memory, the gradient in place or into a buffer, buffer calls, calls larger than the scratch
// block, and calls split between threads.

const backends = await everyBuild();
const RTOL: Record<Dtype, number> = { float32: 1e-6, float64: 1e-12 };
const make = (dtype: Dtype, values: ArrayLike<number>): FloatArray =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);

type Targets = Int32Array | Uint32Array | number[] | FloatArray;

/**
 * The gradient's error allowance per element, divided by rtol: k/T·σ_j·(A·p_j + b_j + |2ζ·lse·p_j|),
 * the sizes of the terms a correct float implementation adds (they may cancel to anything), from
 * an independent float64 computation of p and of the spec's coefficients.
 */
function gradScale(
  x: FloatArray,
  targets: Targets,
  lse: ArrayLike<number>,
  o: CrossEntropyOptions & { cols: number },
  k: number,
): Float64Array {
  const { cols } = o;
  const rows = x.length / cols;
  const [c, T, eps, zeta] = [o.softcap ?? 0, o.temperature ?? 1, o.labelSmoothing ?? 0, o.zLoss ?? 0];
  const w = (j: number) => (o.weight ? o.weight[j] : 1);
  const probs = !Array.isArray(targets) && (targets instanceof Float32Array || targets instanceof Float64Array);
  const scale = new Float64Array(x.length);
  for (let r = 0; r < rows; r++) {
    const t = probs ? -1 : (targets as ArrayLike<number>)[r];
    if (!probs && t === (o.ignoreIndex ?? -100)) continue;
    const u = (j: number) =>
      probs
        ? w(j) * ((1 - eps) * (targets as FloatArray)[r * cols + j] + eps / cols)
        : eps === 0
          ? 0
          : (eps / cols) * w(j);
    let A = probs ? 0 : (1 - eps) * w(t);
    for (let j = 0; j < cols; j++) A += u(j);
    for (let j = 0; j < cols; j++) {
      const v = x[r * cols + j];
      const s = (c > 0 ? c * Math.tanh(v / c) : v) / T;
      const p = Math.exp(s - lse[r]);
      const b = u(j) + (j === t ? (1 - eps) * w(t) : 0);
      const dz = c > 0 ? 1 / Math.cosh(v / c) ** 2 : 1;
      scale[r * cols + j] = (Math.abs(k) / T) * dz * (A * p + b + Math.abs(2 * zeta * lse[r] * p));
    }
  }
  return scale;
}

function expectWithin(got: ArrayLike<number>, want: FloatArray, scale: ArrayLike<number>, rtol: number, what: string) {
  const check = checkAgainstOracle(got, want, { rtol, scale });
  expect(check.ok, `${what}: ${describeCheck(check, got, want)}`).toBe(true);
}

const abs = (a: ArrayLike<number>) => Float64Array.from(a, Math.abs);
const plusOne = (a: ArrayLike<number>) => Float64Array.from(a, (v) => Math.abs(v) + 1);

/** One call on `b` against core's reference: the loss, lse and gradient, within the bounds above. */
function checkCall(
  b: WasmBackend,
  dtype: Dtype,
  x: FloatArray,
  targets: Targets,
  o: CrossEntropyOptions & { cols: number },
) {
  const options = { ...o, gradient: true, returnLse: true } as const;
  const want = core.crossEntropy(x, targets, options);
  const got = b.crossEntropy(x, targets, options);
  const rtol = RTOL[dtype];
  const what = `${dtype} ${JSON.stringify({ ...o, weight: o.weight ? 'w' : undefined })}`;
  // Every term of the loss is ≥ 0: a relative bound (the float32 exp's error, summed, stays within it).
  expectWithin(got.loss, want.loss, abs(want.loss), rtol, `${what} loss`);
  expectWithin(got.lse, want.lse, plusOne(want.lse), rtol, `${what} lse`);
  expectWithin(got.grad, want.grad, gradScale(x, targets, want.lse, o, kOf(x, targets, o)), rtol, `${what} grad`);
  return got;
}

/** k of a call: gradScale / D ('mean', D = Σ ω over the rows not ignored, or rows for probabilities), else gradScale. */
function kOf(x: FloatArray, targets: Targets, o: CrossEntropyOptions & { cols: number }): number {
  const g = o.gradScale ?? 1;
  if ((o.reduction ?? 'mean') !== 'mean') return g;
  const rows = x.length / o.cols;
  if (targets instanceof Float32Array || targets instanceof Float64Array) return g / rows;
  let D = 0;
  for (let r = 0; r < rows; r++) {
    const t = (targets as ArrayLike<number>)[r];
    if (t !== (o.ignoreIndex ?? -100)) D += o.weight ? o.weight[t] : 1;
  }
  return g / D;
}

/** Rows of probabilities: some classes 0, each row summing to 1. */
function probabilities(dtype: Dtype, rows: number, cols: number, seed: number): FloatArray {
  const next = seededRandom(seed);
  const q = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      q[r * cols + j] = j % 3 === 1 ? 0 : next();
      sum += q[r * cols + j];
    }
    for (let j = 0; j < cols; j++) q[r * cols + j] /= sum;
  }
  return make(dtype, q);
}

const OPTIONS: Array<Omit<CrossEntropyOptions, 'cols'>> = [
  {},
  { reduction: 'sum', gradScale: 3 },
  { reduction: 'none' },
  { labelSmoothing: 0.1 },
  { zLoss: 1e-3, gradScale: 0.5 },
  { softcap: 4 },
  { temperature: 0.6 },
  { temperature: 3, labelSmoothing: 0.3, zLoss: 1e-2, softcap: 9, reduction: 'sum' },
];

for (const [build, b] of Object.entries(backends)) {
  describe(`${build} build`, () => {
    for (const dtype of ['float32', 'float64'] as const) {
      it(`${dtype}: every option and combination, with and without class weights, against the reference`, () => {
        for (const cols of [1, 2, 3, 7, 64, 130, 1000]) {
          const rows = 6;
          const x = make(dtype, uniform(rows * cols, -15, 15, cols));
          const weight = Array.from({ length: cols }, (_, j) => (j % 5 === 2 ? 0 : 0.25 + (j % 4)));
          // Ignored rows at the start, in the middle and at the end.
          const t = Int32Array.from({ length: rows }, (_, r) =>
            r === 0 || r === 3 || r === 5 ? -100 : (r * 7) % cols,
          );
          for (const options of OPTIONS) {
            for (const w of [undefined, weight]) {
              const o = { cols, ...options, weight: w };
              // Weights of 0 on every target left would make 'mean' divide by 0 (an error, tested by core).
              if (kOf(x, t, o) === Number.POSITIVE_INFINITY) continue;
              checkCall(b, dtype, x, t, o);
              checkCall(b, dtype, x, probabilities(dtype, rows, cols, cols + 1), { ...o, ignoreIndex: undefined });
            }
          }
        }
      });

      it(`${dtype}: index targets as Int32Array, Uint32Array and number[], and an ignore index among the classes`, () => {
        const cols = 50;
        const x = make(dtype, uniform(8 * cols, -6, 6, 3));
        const t = [3, 0, 49, 7, 7, 12, 7, 30];
        const o = { cols, labelSmoothing: 0.05, gradient: true, returnLse: true } as const;
        const want = b.crossEntropy(x, Int32Array.from(t), o);
        for (const targets of [Uint32Array.from(t), t]) {
          const got = b.crossEntropy(x, targets, o);
          expectSame(got.loss, want.loss);
          expectSame(got.grad, want.grad);
          expectSame(got.lse, want.lse);
        }
        const ignored = checkCall(b, dtype, x, Int32Array.from(t), { cols, ignoreIndex: 7 });
        for (const r of [3, 4, 6])
          expect(ignored.grad.subarray(r * cols, r * cols + cols).every((g) => g === 0)).toBe(true);
        const u = Uint32Array.from(t, (v, r) => (r === 1 ? 2 ** 32 - 1 : v));
        checkCall(b, dtype, x, u, { cols, ignoreIndex: 2 ** 32 - 1 });
      });

      it(`${dtype}: rows of 1, 2, 3 and 1,000,000 columns`, () => {
        for (const cols of [1, 2, 3])
          checkCall(b, dtype, make(dtype, uniform(4 * cols, -3, 3, cols)), [0, 0, cols - 1, -100], { cols });
        const long = make(dtype, uniform(1_000_000, -20, 20, 11));
        checkCall(b, dtype, long, [123_457], { cols: 1_000_000, labelSmoothing: 0.1, zLoss: 1e-4 });
      });

      it(`${dtype}: the special values of the reference (NaN, ±Infinity), and a confident row`, () => {
        const [inf, nan] = [Number.POSITIVE_INFINITY, Number.NaN];
        const x = make(dtype, [
          ...[1, nan, 2, 0],
          ...[inf, 1, inf, -3],
          ...[inf, 1, 2, 0],
          ...[-inf, 1, 2, 0],
          ...[-inf, -inf, -inf, -inf],
          ...[30, -10, -12, -9],
        ]);
        const t = [0, 2, 1, 0, 1, 0];
        for (const options of [{}, { zLoss: 1e-3 }, { labelSmoothing: 0.2 }, { softcap: 5 }, { temperature: 0.5 }]) {
          const o = { cols: 4, reduction: 'none', gradient: true, returnLse: true, ...options } as const;
          const want = core.crossEntropy(x, t, o);
          const got = b.crossEntropy(x, t, o);
          const scale = (a: FloatArray) => plusOne(a);
          // The finite values within the usual bounds; NaN and infinities exactly where the reference has them.
          expectWithin(got.loss, want.loss, abs(want.loss), RTOL[dtype], `${JSON.stringify(options)} loss`);
          expectWithin(got.lse, want.lse, scale(want.lse), RTOL[dtype], `${JSON.stringify(options)} lse`);
          const k = 1;
          const finite = Float64Array.from(want.lse, (v) => (Number.isFinite(v) ? v : 0));
          expectWithin(
            got.grad,
            want.grad,
            gradScale(x, t, finite, o, k),
            RTOL[dtype],
            `${JSON.stringify(options)} grad`,
          );
        }
      });

      it(`${dtype}: the gradient matches the unfused logSoftmax and logSoftmaxBackward of this backend`, () => {
        const cols = 300;
        const rows = 5;
        const x = make(dtype, uniform(rows * cols, -8, 8, 21));
        const t = [4, 299, 0, 150, 77];
        const { grad, loss } = b.crossEntropy(x, t, { cols, gradient: true });
        const lp = b.logSoftmax(x, { cols });
        const dy = make(dtype, new Float64Array(rows * cols));
        let sum = 0;
        for (let r = 0; r < rows; r++) {
          dy[r * cols + t[r]] = -1 / rows;
          sum -= lp[r * cols + t[r]];
        }
        const unfused = b.logSoftmaxBackward(lp, dy, { cols });
        const tol = dtype === 'float32' ? 1e-6 : 1e-13;
        for (let i = 0; i < grad.length; i++) expect(Math.abs(grad[i] - unfused[i])).toBeLessThanOrEqual(tol);
        expect(Math.abs(loss[0] - sum / rows)).toBeLessThanOrEqual(tol * Math.abs(sum / rows) * 4);
      });

      it(`${dtype}: a large gradScale does not flush probabilities below the smallest normal`, () => {
        // p ≈ e^-95 ≈ 5e-42 at class 7: below float32's smallest normal, but k·p ≈ 6e-30 is not.
        const cols = 40;
        const values = uniform(2 * cols, -1, 1, 5);
        values[7] = -95;
        values[cols + 7] = -95;
        const x = make(dtype, values);
        const got = checkCall(b, dtype, x, [3, 4], { cols, gradScale: 2 ** 40, reduction: 'sum' });
        expect(got.grad[7]).toBeGreaterThan(0);
      });
    }

    it('the gradient against central finite differences of the loss (float64)', () => {
      const cols = 9;
      const x = make('float64', uniform(2 * cols, -2, 2, 8));
      const t = [2, 6];
      const o = {
        cols,
        labelSmoothing: 0.1,
        zLoss: 1e-2,
        softcap: 3,
        temperature: 0.8,
        weight: uniform(cols, 0.5, 2, 9),
      };
      const { grad } = b.crossEntropy(x, t, { ...o, gradient: true });
      const h = 1e-5;
      for (const j of [0, 2, 6, 8, 11, 15]) {
        const up = x.slice();
        const down = x.slice();
        up[j] += h;
        down[j] -= h;
        const fd = (b.crossEntropy(up, t, o).loss[0] - b.crossEntropy(down, t, o).loss[0]) / (2 * h);
        expect(Math.abs(fd - grad[j]), `d loss / d x[${j}]`).toBeLessThan(1e-8);
      }
    });

    it('views of the backend memory are used in place; the gradient goes in place, into gradOut, or into a new array', () => {
      for (const dtype of ['float32', 'float64'] as const) {
        const [rows, cols] = [9, 77];
        const x = make(dtype, uniform(rows * cols, -10, 10, 31));
        const t = Int32Array.from({ length: rows }, (_, r) => (r === 4 ? -100 : (r * 11) % cols));
        const o = { cols, gradient: true, returnLse: true, labelSmoothing: 0.1, zLoss: 1e-3 } as const;
        const plain = b.crossEntropy(x, t, o);
        const xb = b.alloc(x.length, dtype);
        xb.view().set(x);
        const tb = b.alloc(rows, 'int32');
        tb.view().set(t);
        const gb = b.alloc(x.length, dtype);
        const memory = b.memoryBytes;
        const fromViews = b.crossEntropy(xb.view(), tb.view(), { ...o, gradOut: gb.view() });
        expect(fromViews.grad).toBe(gb.view());
        expectSame(gb.view(), plain.grad);
        expectSame(fromViews.loss, plain.loss);
        expectSame(fromViews.lse, plain.lse);
        expectSame(xb.view(), x); // the logits are untouched unless in place was asked
        const inPlace = b.crossEntropy(xb.view(), tb.view(), { ...o, gradient: 'in-place' });
        expect(inPlace.grad).toBe(xb.view());
        expectSame(xb.view(), plain.grad);
        expect(b.memoryBytes, 'in place in wasm memory allocates nothing of the logits size').toBe(memory);
        const copy = x.slice();
        const arrayInPlace = b.crossEntropy(copy, t, { ...o, gradient: 'in-place' });
        expect(arrayInPlace.grad).toBe(copy);
        expectSame(copy, plain.grad);
        const out = make(dtype, new Float64Array(x.length));
        expect(b.crossEntropy(x, t, { ...o, gradOut: out }).grad).toBe(out);
        expectSame(out, plain.grad);
        // Probability targets in wasm memory, the logits outside it.
        const q = probabilities(dtype, rows, cols, 4);
        const qb = b.alloc(q.length, dtype);
        qb.view().set(q);
        const probs = b.crossEntropy(x, q, o);
        const probsView = b.crossEntropy(x, qb.view(), o);
        expectSame(probsView.grad, probs.grad);
        expectSame(probsView.loss, probs.loss);
        expectSame(qb.view(), q);
        for (const buffer of [xb, tb, gb, qb]) buffer.free();
      }
    });

    it('buffer calls: the gradient and lse as buffers (new, gradOut, or the logits in place), the loss as an array', () => {
      const [rows, cols] = [6, 130];
      const x = make('float32', uniform(rows * cols, -9, 9, 41));
      const t = Uint32Array.from({ length: rows }, (_, r) => (r * 17) % cols);
      const o = { cols, gradient: true, returnLse: true, weight: uniform(cols, 0.5, 1.5, 2) } as const;
      const plain = b.crossEntropy(x, t, o);
      const xb = b.alloc(x.length);
      xb.view().set(x);
      const tb = b.alloc(rows, 'uint32');
      tb.view().set(t);
      const live = b.memoryBytes;
      const r = b.bufferCall('crossEntropy', [xb, tb], o);
      expect(Object.keys(r).sort()).toEqual(['grad', 'loss', 'lse']);
      expect(r.loss).toBeInstanceOf(Float32Array);
      expectSame(r.loss, plain.loss);
      expectSame(r.grad?.view() ?? [], plain.grad);
      expectSame(r.lse?.view() ?? [], plain.lse);
      r.grad?.free();
      r.lse?.free();
      const gb = b.alloc(x.length);
      const into = b.crossEntropyBuffer(xb, tb, { ...o, gradOut: gb, returnLse: false });
      expect(into.grad).toBe(gb);
      expect(into.lse).toBeUndefined();
      expectSame(gb.view(), plain.grad);
      const loss = b.crossEntropyBuffer(xb, tb, { cols });
      expect(Object.keys(loss)).toEqual(['loss']);
      const inPlace = b.crossEntropyBuffer(xb, tb, { ...o, gradient: 'in-place', returnLse: false });
      expect(inPlace.grad).toBe(xb);
      expectSame(xb.view(), plain.grad);
      gb.free();
      expect(b.memoryBytes, 'the buffer calls freed what they did not return').toBe(live);
      expect(thrown(() => b.crossEntropyBuffer(xb, tb, { cols, gradOut: gb, gradient: true })).code).toBe(
        'INVALID_INPUT',
      );
      xb.free();
      tb.free();
    });

    it('a call larger than the scratch block runs in chunks with the bits of small calls, in bounded memory', () => {
      // 400 rows of 1000 float32: 1.6 MB of logits, through a working block of a few rows.
      const [rows, cols] = [400, 1000];
      const x = make('float32', uniform(rows * cols, -12, 12, 51));
      const t = Int32Array.from({ length: rows }, (_, r) => (r % 13 === 0 ? -100 : (r * 37) % cols));
      const o = { cols, gradient: true, returnLse: true, labelSmoothing: 0.1, reduction: 'sum' } as const;
      const memory = b.memoryBytes;
      const whole = b.crossEntropy(x, t, o);
      expect(b.memoryBytes - memory, 'no working array of the logits size').toBeLessThan(rows * cols * 2);
      const part = b.crossEntropy(x.subarray(0, 20 * cols), t.subarray(0, 20), { ...o, reduction: 'none' });
      const wholeNone = b.crossEntropy(x, t, { ...o, reduction: 'none' });
      expectSame(wholeNone.loss.subarray(0, 20), part.loss);
      expectSame(whole.grad.subarray(0, 20 * cols), part.grad);
      expectSame(whole.lse.subarray(0, 20), part.lse);
      if (build !== 'scalar') {
        // The SIMD build on one thread and the threads build compute each row with the same code.
        const one = backends.simd.crossEntropy(x, t, o);
        expectSame(whole.grad, one.grad);
        expectSame(whole.loss, one.loss);
      }
    });
  });
}

describe('threads build', () => {
  it('splits large calls between the threads, row by row with their per-row outputs, with the bits of one thread', () => {
    const b = backends.threads;
    const [rows, cols] = [64, 4099];
    for (const dtype of ['float32', 'float64'] as const) {
      const x = make(dtype, uniform(rows * cols, -20, 20, 61));
      const t = Int32Array.from({ length: rows }, (_, r) => (r % 10 === 9 ? -100 : (r * 101) % cols));
      const xb = b.alloc(x.length, dtype);
      const tb = b.alloc(rows, 'int32');
      tb.view().set(t);
      for (const o of [
        { cols, gradient: true, returnLse: true },
        { cols, gradient: true, labelSmoothing: 0.1, weight: uniform(cols, 0.5, 2, 3), reduction: 'none' },
      ] as const) {
        const one = backends.simd.crossEntropy(x, t, o);
        // Zero-copy, in place: every operand in the shared memory. Workers start on the first large
        // call and join once running: calls repeat until they have run chunks (a few seconds at most).
        const before = b.workerChunks;
        const t0 = Date.now();
        do {
          xb.view().set(x);
          const got = b.crossEntropy(xb.view(), tb.view(), { ...o, gradient: 'in-place' });
          expectSame(xb.view(), one.grad);
          expectSame(got.loss, one.loss);
          if (one.lse) expectSame(got.lse ?? [], one.lse);
        } while (b.workerChunks === before && Date.now() - t0 < 10_000);
        expect(b.workerChunks, 'no worker thread ran a chunk of these calls').toBeGreaterThan(before);
        // Copying, through blocks of rows.
        expectSame(b.crossEntropy(x, t, o).grad, one.grad);
      }
      xb.free();
      tb.free();
    }
  });
});
