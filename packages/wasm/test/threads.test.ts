import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { oracleSoftmax, uniform } from '@softmax/conformance/helpers';
import { type FloatArray, SoftmaxError } from '@softmax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../dist/index.js';
import { expectAccurate, expectSame } from './helpers.js';

const one = await createWasmBackend({ threads: 1 });
const two = await createWasmBackend({ threads: 2 });
afterAll(() => {
  one.dispose();
  two.dispose();
});

const code = async (f: () => unknown) => {
  try {
    await f();
  } catch (error) {
    expect(error).toBeInstanceOf(SoftmaxError);
    return `${(error as SoftmaxError).code}: ${(error as SoftmaxError).message}`;
  }
  return 'no error';
};

describe('the threads option', () => {
  it('is validated, and refused where threads cannot run', async () => {
    for (const bad of [0, 1.5, 17, -1, Number.NaN, '2']) {
      expect(await code(() => createWasmBackend({ threads: bad as number }))).toMatch(
        /^INVALID_OPTION: threads must be an integer from 1 to 16, got /,
      );
    }
    expect(await code(() => createWasmBackend({ simd: false, threads: 2 }))).toMatch(
      /^BACKEND_UNAVAILABLE: threads: 2 is not possible here: threads run the SIMD build/,
    );
    expect((await createWasmBackend({ simd: false })).threads).toBe(1);
  });

  it('defaults to half the processors Node offers, rounded up (at most 8)', async () => {
    const { availableParallelism } = await import('node:os');
    const backend = await createWasmBackend();
    expect(backend.threads).toBe(Math.min(Math.ceil(availableParallelism() / 2), 8));
    backend.dispose();
  });
});

type Dtype = 'float32' | 'float64';
const make = (dtype: Dtype, values: number[]): FloatArray =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);

/** Shapes above the 65,536-element threshold: many rows, a few long rows, rows that do not divide evenly. */
const SHAPES: [number, number][] = [
  [64, 2000],
  [3, 40_000],
  [257, 300],
];

describe('rows split between threads give the single-thread bits', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [rows, cols] of SHAPES) {
      it(`${dtype} ${rows}×${cols}: forward and backward, copying and zero-copy`, () => {
        const n = rows * cols;
        const x = make(dtype, uniform(n, -30, 30, rows));
        const dy = make(dtype, uniform(n, -1, 1, cols));
        const options = { cols, temperature: 0.8 };
        for (const op of ['softmax', 'logSoftmax'] as const) {
          const want = one[op](x, options);
          expectSame(two[op](x, options), want);
          // Into a caller's array, and from an input that already lies in the threads' memory.
          const out = make(dtype, new Array(n).fill(0));
          two[op](x, { ...options, out });
          expectSame(out, want);
          const buf = two.alloc(n, dtype);
          buf.view().set(x);
          expectSame(two[op](buf.view(), options), want);
          // Zero-copy: a separate out buffer, then in place.
          const outBuf = two.alloc(n, dtype);
          two[`${op}Buffer`](buf, { ...options, out: outBuf });
          expectSame(outBuf.view(), want);
          two[`${op}Buffer`](buf, options);
          expectSame(buf.view(), want);
          buf.free();
          outBuf.free();
        }
        for (const op of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
          const y = op === 'softmaxBackward' ? one.softmax(x, options) : one.logSoftmax(x, options);
          const want = one[op](y, dy, options);
          expectSame(two[op](y, dy, options), want);
          const [yb, dyb] = [two.alloc(n, dtype), two.alloc(n, dtype)];
          yb.view().set(y);
          dyb.view().set(dy);
          two[`${op}Buffer`](yb, dyb, options);
          expectSame(dyb.view(), want);
          yb.free();
          dyb.free();
        }
      });
    }
  }
});

describe('one long float32 softmax row split into pieces', () => {
  const cols = 300_000;

  it('is within the contract, near the single-thread result, and the same on every call', () => {
    const x = Float32Array.from(uniform(cols, -40, 40, 11));
    for (const temperature of [1, 0.37, 3]) {
      const got = two.softmax(x, { temperature });
      expectAccurate(got, oracleSoftmax(x, { temperature }), { rtol: 1e-6 });
      const single = one.softmax(x, { temperature });
      let worst = 0;
      for (let i = 0; i < cols; i++) {
        // Entries far below the max are flushed to 0 by both (the same constants).
        if (got[i] !== single[i]) worst = Math.max(worst, Math.abs(got[i] - single[i]) / single[i]);
      }
      expect(worst).toBeLessThan(1e-6);
      // The pieces' sums are added in piece order, whichever thread ran them.
      for (let k = 0; k < 5; k++) expectSame(two.softmax(x, { temperature }), got);
    }
  });

  /** Rows the pieces cannot handle: the whole-row kernel runs instead, so the bits are the single thread's. */
  const special: [string, (x: Float32Array) => void, object][] = [
    ['a NaN in the last piece', (x) => (x[cols - 5] = Number.NaN), {}],
    ['+Infinity in a middle piece', (x) => (x[cols / 2] = Number.POSITIVE_INFINITY), {}],
    ['every entry −Infinity', (x) => x.fill(Number.NEGATIVE_INFINITY), {}],
    ['every entry −Infinity, fullyMasked zero', (x) => x.fill(Number.NEGATIVE_INFINITY), { fullyMasked: 'zero' }],
    ['a temperature below the fast path', () => {}, { temperature: 1e-13 }],
    ['a max too large for the fast path', (x) => (x[7] = 1e6), {}],
  ];
  for (const [name, edit, options] of special) {
    it(`${name}: the single-thread bits, copying and in place`, () => {
      const x = Float32Array.from(uniform(cols, -40, 40, 12));
      edit(x);
      const want = one.softmax(x, options);
      expectSame(two.softmax(x, options), want);
      const buf = two.alloc(cols);
      buf.view().set(x);
      two.softmaxBuffer(buf, options);
      expectSame(buf.view(), want);
      buf.free();
    });
  }
});

describe('worker lifetime', () => {
  it('a process that never disposes its backend still exits', async () => {
    const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      const { createWasmBackend } = await import(${JSON.stringify(index)});
      const b = await createWasmBackend({ threads: 2 });
      let s = 0;
      for (let i = 0; i < 20; i++) s += b.softmax(new Float32Array(200000).fill(i), { cols: 1000 })[0];
      console.log('done', s.toFixed(3));`;
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      timeout: 60_000,
    });
    expect(stdout.trim()).toBe('done 0.020');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  it('dispose() stops the workers; the backend then refuses calls', async () => {
    const backend: WasmBackend = await createWasmBackend({ threads: 2 });
    backend.softmax(new Float32Array(200_000), { cols: 1000 });
    backend.dispose();
    backend.dispose();
    expect(await code(() => backend.softmax(new Float32Array(4)))).toMatch(/^BACKEND_UNAVAILABLE: /);
  });
});
