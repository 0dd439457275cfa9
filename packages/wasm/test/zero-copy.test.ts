import { referenceLogSoftmax, referenceSoftmax, referenceSoftmaxBackward, SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { random } from './helpers.js';

function expectClose(got: ArrayLike<number>, ref: ArrayLike<number>, rtol: number, scale?: (r: number) => number) {
  expect(got.length).toBe(ref.length);
  for (let i = 0; i < ref.length; i++) {
    const s = scale ? scale(ref[i]) : Math.abs(ref[i]);
    if (Math.abs(got[i] - ref[i]) > rtol * s + 1.2e-38) {
      throw new Error(`[${i}] got ${got[i]}, reference ${ref[i]}`);
    }
  }
}

describe('zero-copy buffers', () => {
  it('softmax in place on a buffer written through view()', async () => {
    const backend = await createWasmBackend();
    const rand = random(1);
    const rows = 8;
    const cols = 1000;
    const buf = backend.alloc(rows * cols);
    const x = buf.view();
    for (let i = 0; i < x.length; i++) x[i] = rand(-20, 20);
    const input = x.slice();
    expect(backend.softmaxBuffer(buf, { cols, temperature: 0.7 })).toBe(buf);
    const ref = new Float64Array(input.length);
    referenceSoftmax({ x: input, out: ref, rows, cols, temperature: 0.7, fullyMasked: 'nan' });
    expectClose(buf.view(), ref, 1e-6);
    buf.free();
  });

  it('writes to a separate out buffer, float64 too, and log-softmax', async () => {
    const backend = await createWasmBackend();
    const rand = random(2);
    const x = backend.alloc(3 * 50, 'float64');
    const out = backend.alloc(3 * 50, 'float64');
    for (let i = 0; i < x.length; i++) x.view()[i] = rand(-3, 3);
    const input = x.view().slice();
    backend.logSoftmaxBuffer(x, { cols: 50, out });
    expect(x.view()).toEqual(input); // the input is untouched
    const ref = new Float64Array(input.length);
    referenceLogSoftmax({ x: input, out: ref, rows: 3, cols: 50, temperature: 1, fullyMasked: 'nan' });
    expectClose(out.view(), ref, 1e-12, (r) => Math.abs(r) + 1);
  });

  it('backward writes into dy by default', async () => {
    const backend = await createWasmBackend();
    const rand = random(3);
    const y = backend.alloc(64);
    const dy = backend.alloc(64);
    for (let i = 0; i < 64; i++) {
      y.view()[i] = rand(0, 1) / 32;
      dy.view()[i] = rand(-1, 1);
    }
    const yIn = y.view().slice();
    const dyIn = dy.view().slice();
    expect(backend.softmaxBackwardBuffer(y, dy)).toBe(dy);
    const ref = new Float64Array(64);
    referenceSoftmaxBackward({ y: yIn, dy: dyIn, out: ref, rows: 1, cols: 64, temperature: 1 });
    let total = 0;
    for (let i = 0; i < 64; i++) total += Math.abs(yIn[i] * dyIn[i]);
    expectClose(dy.view(), ref, 1e-6, () => total + 1);
  });

  it('view() stays usable across memory growth', async () => {
    const backend = await createWasmBackend();
    const buf = backend.alloc(16);
    const before = buf.view();
    before.set([1, 2, 3]);
    const big = backend.alloc(4_000_000); // grows memory: `before` is detached now
    expect(before.length).toBe(0);
    const after = buf.view();
    expect(after !== before).toBe(true);
    expect(Array.from(after.subarray(0, 3))).toEqual([1, 2, 3]);
    expect(buf.view()).toBe(after); // cached until the next growth
    backend.softmaxBuffer(buf, { cols: 4 });
    expect(buf.array[0] + buf.array[1] + buf.array[2] + buf.array[3]).toBeCloseTo(1, 6);
    big.free();
  });

  it('rejects freed buffers, foreign buffers and bad options with SoftmaxError codes', async () => {
    const a = await createWasmBackend();
    const b = await createWasmBackend();
    const buf = a.alloc(8);
    const other = b.alloc(8);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(SoftmaxError);
        return (e as SoftmaxError).code;
      }
      return 'no error';
    };
    expect(code(() => a.softmaxBuffer(other))).toBe('INVALID_INPUT');
    expect(code(() => a.softmaxBuffer(buf, { cols: 3 }))).toBe('INVALID_SHAPE');
    expect(code(() => a.softmaxBuffer(buf, { out: a.alloc(8, 'float64') }))).toBe('INVALID_OPTION');
    expect(code(() => a.alloc(-1))).toBe('INVALID_SHAPE');
    buf.free();
    expect(code(() => a.softmaxBuffer(buf))).toBe('INVALID_INPUT');
    expect(code(() => buf.view())).toBe('INVALID_INPUT');
    a.dispose();
    expect(code(() => a.softmax(new Float32Array(4)))).toBe('BACKEND_UNAVAILABLE');
  });
});

describe('copying calls', () => {
  it('leave the input untouched, fill out when given, and work in place', async () => {
    const backend = await createWasmBackend();
    const x = new Float32Array([1, 2, 3, 4, 5, 6]);
    const copy = x.slice();
    const y = backend.softmax(x, { cols: 3 });
    expect(x).toEqual(copy);
    const out = new Float32Array(6);
    expect(backend.softmax(x, { cols: 3, out })).toBe(out);
    expect(out).toEqual(y);
    expect(backend.softmax(x, { cols: 3, out: x })).toBe(x);
    expect(x).toEqual(y);
    expect(backend.softmax([0, 0])).toEqual(new Float64Array([0.5, 0.5]));
  });

  it('rows larger than the scratch block and many rows in chunks agree with the reference', async () => {
    const backend = await createWasmBackend();
    const rand = random(9);
    for (const [rows, cols] of [
      [1, 300_001],
      [700, 129],
    ]) {
      const x = new Float32Array(rows * cols);
      for (let i = 0; i < x.length; i++) x[i] = rand(-10, 10);
      const ref = new Float64Array(x.length);
      referenceSoftmax({ x, out: ref, rows, cols, temperature: 1, fullyMasked: 'nan' });
      expectClose(backend.softmax(x, { cols }), ref, 1e-6);
    }
  });
});
