import { logSoftmaxScale, softmaxBackwardScale, uniform } from '@softmax/conformance/helpers';
import * as core from '@softmax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../dist/index.js';
import { expectAccurate, failure } from './helpers.js';

// Copying calls given a view of a backend's linear memory that no live WasmBuffer holds (the
// kernel's data and stack, the scratch block, a freed buffer's stale view) must refuse it: used as
// `out` it overwrote the kernel's memory, and every later call returned NaN.

const CONFIGS = { 'threads: 1': { threads: 1 }, scalar: { simd: false }, 'threads: 2': { threads: 2 } } as const;
const backends: WasmBackend[] = [];
afterAll(() => {
  for (const b of backends) b.dispose();
});
async function backend(options: (typeof CONFIGS)[keyof typeof CONFIGS]): Promise<WasmBackend> {
  const b = await createWasmBackend(options);
  backends.push(b);
  return b;
}

const COLS = 64;
const x = Float32Array.from(uniform(4 * COLS, -5, 5, 3));
const y = core.softmax(x, { cols: COLS });
const dy = Float32Array.from(uniform(4 * COLS, -1, 1, 4));

/** Every copying call of `b` with `view` (a float32 view of x.length elements) in each argument. */
function misuses(b: WasmBackend, view: Float32Array): [string, () => unknown][] {
  const options = { cols: COLS };
  return [
    ['options.out', () => b.softmax(x, { ...options, out: view })],
    ['options.out', () => b.logSoftmax(x, { ...options, out: view })],
    ['x', () => b.softmax(view, options)],
    ['x', () => b.logSoftmax(view, { ...options, out: new Float32Array(view.length) })],
    ['y', () => b.softmaxBackward(view, dy, options)],
    ['dy', () => b.logSoftmaxBackward(y, view, options)],
    ['options.out', () => b.softmaxBackward(y, dy, { ...options, out: view })],
    ['x', () => b.logSumExp(view, options)],
    // logSumExp's out holds one element per row: x.length of them in rows of one.
    ['options.out', () => b.logSumExp(x, { cols: 1, out: view })],
  ];
}

/** Each misuse throws, naming its argument, and writes nothing to the backend's memory. */
function expectRefused(b: WasmBackend, view: Float32Array, buffer: ArrayBufferLike = view.buffer): void {
  const memory = new Uint8Array(buffer);
  for (const [name, call] of misuses(b, view)) {
    const before = memory.slice();
    const code = name === 'options.out' ? 'INVALID_OPTION' : 'INVALID_INPUT';
    expect(failure(call)).toMatch(
      new RegExp(
        `^${code}: ${name.replace('.', '\\.')} is a view of wasm memory at bytes \\d+ to \\d+ that no live WasmBuffer holds`,
      ),
    );
    expect(Buffer.from(memory).equals(before), `${name}: a refused call wrote to wasm memory`).toBe(true);
  }
}

/** The backend still computes every op right (a corrupted kernel returns NaN). */
function expectHealthy(b: WasmBackend): void {
  expectAccurate(b.softmax(x, { cols: COLS }), core.softmax(x, { cols: COLS }), { rtol: 1e-6 });
  const ref = core.logSoftmax(x, { cols: COLS, temperature: 0.5 });
  expectAccurate(b.logSoftmax(x, { cols: COLS, temperature: 0.5 }), ref, { rtol: 1e-6, scale: logSoftmaxScale(ref) });
  const lse = core.logSumExp(x, { cols: COLS });
  expectAccurate(b.logSumExp(x, { cols: COLS }), lse, { rtol: 1e-6, scale: logSoftmaxScale(lse) });
}

for (const [name, options] of Object.entries(CONFIGS)) {
  describe(`${name}: views of wasm memory outside live buffers`, () => {
    it("are refused anywhere below the first buffer (the kernel's data, stack, scratch block)", async () => {
      const b = await backend(options);
      const live = b.alloc(4 * COLS);
      live.view().set(x);
      const buffer = live.view().buffer;
      for (let at = 0; at + 4 * x.length <= live.byteOffset; at += 16_384) {
        expectRefused(b, new Float32Array(buffer, at, x.length));
      }
      expect(live.view()).toEqual(x);
      expectHealthy(b);
    });

    it("are refused where they run past a live buffer's end or start before it", async () => {
      const b = await backend(options);
      const live = b.alloc(4 * COLS);
      const next = b.alloc(4 * COLS);
      next.view().fill(7);
      const buffer = live.view().buffer;
      expectRefused(b, new Float32Array(buffer, live.byteOffset + 4, x.length));
      expectRefused(b, new Float32Array(buffer, live.byteOffset - 4, x.length));
      expect(next.view().every((v) => v === 7)).toBe(true);
      expectHealthy(b);
    });

    it('a view that reports another buffer or offset through its own getters is still refused', async () => {
      const b = await backend(options);
      const live = b.alloc(4 * COLS);
      const memory = live.view().buffer;
      const hidden = new Float32Array(memory, live.byteOffset - 4 * x.length, x.length);
      Object.defineProperty(hidden, 'buffer', { get: () => new ArrayBuffer(hidden.byteLength) });
      Object.defineProperty(hidden, 'byteOffset', { value: 0 });
      expectRefused(b, hidden, memory);
      expectHealthy(b);
    });

    it("a freed buffer's stale view is refused, and the block that reuses its memory is untouched", async () => {
      const b = await backend(options);
      const freed = b.alloc(4 * COLS);
      const stale = freed.view();
      freed.free();
      const reuse = b.alloc(4 * COLS);
      expect(reuse.byteOffset).toBe(freed.byteOffset); // first fit: the same memory
      reuse.view().fill(3);
      expectRefused(b, stale);
      expect(reuse.view().every((v) => v === 3)).toBe(true);
      expectHealthy(b);
    });

    it("a view of another backend's memory outside its buffers is refused; inside one it is copied", async () => {
      const a = await backend(options);
      const b = await backend(options);
      const held = a.alloc(4 * COLS);
      expectRefused(b, new Float32Array(held.view().buffer, held.byteOffset - 4 * x.length, x.length));
      expectHealthy(a);
      // A live buffer of another backend is ordinary memory to this one.
      b.softmax(x, { cols: COLS, out: held.view() });
      expectAccurate(held.view(), core.softmax(x, { cols: COLS }), { rtol: 1e-6 });
      expectHealthy(b);
    });

    it('live buffers and their subarrays are still used in place', async () => {
      const b = await backend(options);
      const buf = b.alloc(6 * COLS);
      buf.view().fill(-1);
      const inner = buf.view().subarray(COLS, 5 * COLS); // rows 1..4 of 6
      inner.set(x);
      b.softmax(inner, { cols: COLS, out: inner });
      expectAccurate(inner, core.softmax(x, { cols: COLS }), { rtol: 1e-6 });
      const whole = buf.view();
      expect([...whole.subarray(0, COLS), ...whole.subarray(5 * COLS)].every((v) => v === -1)).toBe(true);
      const grad = b.alloc(4 * COLS);
      b.softmaxBackward(y, dy, { cols: COLS, out: grad.view() });
      expectAccurate(grad.view(), core.softmaxBackward(y, dy, { cols: COLS }), {
        rtol: 1e-6,
        scale: softmaxBackwardScale(y, dy, COLS, 1),
      });
    });
  });
}

describe('threads: 2 (shared memory, which growth does not detach)', () => {
  it('a stale view from before growth is refused once its buffer is freed, and used in place while it lives', async () => {
    const b = await backend({ threads: 2 });
    const live = b.alloc(4 * COLS);
    const early = live.view();
    const freed = b.alloc(4 * COLS);
    const stale = freed.view();
    b.alloc(4 * 1024 * 1024); // grows memory: early views keep the old SharedArrayBuffer
    expect(early.buffer).not.toBe(live.view().buffer);
    freed.free();
    expectRefused(b, stale);
    early.set(x);
    b.softmax(early, { cols: COLS, out: early });
    expectAccurate(live.view(), core.softmax(x, { cols: COLS }), { rtol: 1e-6 });
    expectHealthy(b);
  });

  it('an out that partly overlaps x through views of two buffers of the same memory gets the right result', async () => {
    const b = await backend({ threads: 2 });
    const live = b.alloc(4 * COLS + 1);
    const early = live.view().subarray(0, 4 * COLS);
    b.alloc(4 * 1024 * 1024);
    const shifted = live.view().subarray(1);
    expect(shifted.buffer).not.toBe(early.buffer); // no identity check can see that they overlap
    early.set(x);
    // Core's validation reads x from a copy when out and x lie in two SharedArrayBuffer objects
    // (which may be one memory), so the overlap cannot corrupt the rows still to be read.
    const result = b.softmax(early, { cols: COLS, out: shifted });
    expect(result).toBe(shifted);
    expectAccurate(shifted, core.softmax(x, { cols: COLS }), { rtol: 1e-6 });
  });
});
