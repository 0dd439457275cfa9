import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { thrown } from './helpers.js';

// Integer buffers hold the integer operands of the coming ops (cross-entropy's class targets,
// sampled token ids) in the kernel's memory.

const backend = await createWasmBackend({ threads: 1 });
afterAll(() => backend.dispose());

describe('int32 and uint32 buffers', () => {
  for (const [dtype, Type, extremes] of [
    ['int32', Int32Array, [-(2 ** 31), 2 ** 31 - 1, -1]],
    ['uint32', Uint32Array, [0, 2 ** 32 - 1, 7]],
  ] as const) {
    it(`${dtype}: a view of the element type, 4 bytes each, aligned, kept across memory growth`, () => {
      const buf = backend.alloc(5, dtype);
      expect(buf.dtype).toBe(dtype);
      expect(buf.length).toBe(5);
      expect(buf.byteOffset % 16).toBe(0);
      const view = buf.view();
      expect(view).toBeInstanceOf(Type);
      expect(view.length).toBe(5);
      expect(view.byteLength).toBe(20);
      view.set(extremes);
      expect(Array.from(buf.view().subarray(0, 3))).toEqual(extremes);
      // The next buffer starts right after this one's 16-byte-rounded block (20 bytes → 32).
      const next = backend.alloc(1, dtype);
      expect(next.byteOffset - buf.byteOffset).toBe(32);
      const big = backend.alloc(backend.memoryBytes / 4); // more than all of memory: it grows, detaching the view
      expect(view.length).toBe(0);
      expect(Array.from(buf.view().subarray(0, 3))).toEqual(extremes);
      expect(buf.view()).toBe(buf.view()); // the same view until memory grows again
      for (const b of [buf, next, big]) b.free();
      expect(() => buf.view()).toThrow(/freed/);
    });
  }

  it('an unknown dtype is refused', () => {
    for (const bad of ['int8', 'float16', 'bigint64', 3]) {
      const error = thrown(() => backend.alloc(4, bad as 'int32'));
      expect(error.code).toBe('UNSUPPORTED_DTYPE');
      expect(error.message).toMatch(/dtype must be 'float32', 'float64', 'int32' or 'uint32', got /);
    }
    expect(backend.alloc(4).dtype).toBe('float32');
  });

  it('float ops refuse integer buffers and their views', () => {
    const ints = backend.alloc(8, 'int32');
    const floats = backend.alloc(8);
    expect(thrown(() => backend.softmaxBuffer(ints as never)).code).toBe('UNSUPPORTED_DTYPE');
    expect(thrown(() => backend.softmaxBackwardBuffer(floats, ints as never)).code).toBe('UNSUPPORTED_DTYPE');
    expect(thrown(() => backend.softmax(ints.view() as never)).code).toBe('UNSUPPORTED_DTYPE');
    ints.free();
    floats.free();
  });
});
