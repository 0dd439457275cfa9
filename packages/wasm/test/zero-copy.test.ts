import {
  logSoftmaxScale,
  oracleLogSoftmax,
  oracleSoftmax,
  oracleSoftmaxBackward,
  softmaxBackwardScale,
  uniform,
} from '@softmax/conformance/helpers';
import { SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { expectAccurate } from './helpers.js';

describe('zero-copy buffers', () => {
  it('softmax in place on a buffer written through view()', async () => {
    const backend = await createWasmBackend();
    const rows = 8;
    const cols = 1000;
    const buf = backend.alloc(rows * cols);
    buf.view().set(uniform(rows * cols, -20, 20, 1));
    const input = buf.view().slice();
    expect(backend.softmaxBuffer(buf, { cols, temperature: 0.7 })).toBe(buf);
    expectAccurate(buf.view(), oracleSoftmax(input, { cols, temperature: 0.7 }), { rtol: 1e-6 });
    buf.free();
  });

  it('writes to a separate out buffer, float64 too, and log-softmax', async () => {
    const backend = await createWasmBackend();
    const x = backend.alloc(3 * 50, 'float64');
    const out = backend.alloc(3 * 50, 'float64');
    x.view().set(uniform(3 * 50, -3, 3, 2));
    const input = x.view().slice();
    backend.logSoftmaxBuffer(x, { cols: 50, out });
    expect(x.view()).toEqual(input); // the input is untouched
    const ref = oracleLogSoftmax(input, { cols: 50 });
    expectAccurate(out.view(), ref, { rtol: 1e-12, scale: logSoftmaxScale(ref) });
  });

  it('backward writes into dy by default', async () => {
    const backend = await createWasmBackend();
    const y = backend.alloc(64);
    const dy = backend.alloc(64);
    y.view().set(uniform(64, 0, 1 / 32, 3));
    dy.view().set(uniform(64, -1, 1, 4));
    const yIn = y.view().slice();
    const dyIn = dy.view().slice();
    expect(backend.softmaxBackwardBuffer(y, dy)).toBe(dy);
    const scale = softmaxBackwardScale(yIn, dyIn, 64, 1);
    expectAccurate(dy.view(), oracleSoftmaxBackward(yIn, dyIn), { rtol: 1e-6, scale });
  });

  it('view() stays usable across memory growth (one thread: the old view is detached)', async () => {
    const backend = await createWasmBackend({ threads: 1 });
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

  it('view() stays usable across memory growth (threads: shared memory grows in place)', async () => {
    const backend = await createWasmBackend({ threads: 2 });
    const buf = backend.alloc(16);
    const before = buf.view();
    before.set([1, 2, 3]);
    const big = backend.alloc(4_000_000);
    // A SharedArrayBuffer is never detached: the old view still reads and writes the same bytes.
    expect(before.length).toBe(16);
    const after = buf.view();
    expect(after !== before).toBe(true);
    expect(after.buffer.byteLength).toBeGreaterThan(before.buffer.byteLength);
    before[3] = 4;
    expect(Array.from(after.subarray(0, 4))).toEqual([1, 2, 3, 4]);
    expect(buf.view()).toBe(after);
    backend.softmaxBuffer(buf, { cols: 4 });
    expect(before[0] + before[1] + before[2] + before[3]).toBeCloseTo(1, 6);
    big.free();
    backend.dispose();
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
    for (const [rows, cols] of [
      [1, 300_001],
      [700, 129],
    ]) {
      const x = Float32Array.from(uniform(rows * cols, -10, 10, 9));
      expectAccurate(backend.softmax(x, { cols }), oracleSoftmax(x, { cols }), { rtol: 1e-6 });
    }
  });
});
