import { uniform } from '@softmax/conformance/helpers';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBuffer } from '../dist/index.js';
import { expectSame, failure } from './helpers.js';

const backend = await createWasmBackend({ threads: 1 });
afterAll(() => backend.dispose());

function filled(values: number[], dtype: 'float32' | 'float64'): WasmBuffer {
  const buffer = backend.alloc(values.length, dtype);
  buffer.view().set(values);
  return buffer;
}

const COLS = 37;
const x = uniform(4 * COLS, -6, 6, 3);
const dy = uniform(4 * COLS, -1, 1, 4);

describe('bufferCall', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    it(`${dtype}: each op as its named method and as the array call compute`, () => {
      for (const op of ['softmax', 'logSoftmax'] as const) {
        const options = { cols: COLS, temperature: 0.6, fullyMasked: 'zero' as const };
        const want = backend[op](filled(x, dtype).view(), options);
        // Default: in place into x.
        const a = filled(x, dtype);
        expect(backend.bufferCall(op, [a], options)).toBe(a);
        expectSame(a.view(), want);
        const b = filled(x, dtype);
        const out = backend.alloc(x.length, dtype);
        expect(backend.bufferCall(op, [b], { ...options, out })).toBe(out);
        expectSame(out.view(), want);
        expectSame(b.view(), filled(x, dtype).view()); // the input is untouched
        const c = filled(x, dtype);
        backend[`${op}Buffer`](c, options);
        expectSame(c.view(), want);
      }
      for (const op of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
        const options = { cols: COLS, temperature: 1.5 };
        const y =
          op === 'softmaxBackward'
            ? backend.softmax(Float64Array.from(x), { cols: COLS })
            : backend.logSoftmax(Float64Array.from(x), { cols: COLS });
        const yb = filled(Array.from(y), dtype);
        const want = backend[op](yb.view().slice(), filled(dy, dtype).view(), options);
        // Default: in place into dy, the last input.
        const g = filled(dy, dtype);
        expect(backend.bufferCall(op, [yb, g], options)).toBe(g);
        expectSame(g.view(), want);
        const g2 = filled(dy, dtype);
        backend[`${op}Buffer`](yb, g2, options);
        expectSame(g2.view(), want);
      }
    });
  }

  it('refuses ops this backend lacks, the wrong inputs, and bad options as the array calls do', () => {
    const a = filled(x, 'float32');
    const ints = backend.alloc(8, 'int32');
    // An op name outside core's table (every op in it has a kernel here).
    expect(failure(() => backend.bufferCall('sparsemax' as never, [a]))).toBe(
      'UNSUPPORTED_OP: the wasm backend does not implement sparsemax',
    );
    expect(failure(() => backend.bufferCall('softmaxBackward', [a]))).toBe(
      'INVALID_INPUT: softmaxBackward takes an array of 2 buffers (y, dy), got 1 buffer',
    );
    expect(failure(() => backend.bufferCall('softmax', a as never))).toMatch(
      /^INVALID_INPUT: softmax takes an array of 1 buffer \(x\), got /,
    );
    expect(failure(() => backend.bufferCall('softmax', [a.view() as never]))).toBe(
      "INVALID_INPUT: x must be a WasmBuffer from this backend's alloc()",
    );
    expect(failure(() => backend.bufferCall('softmax', [ints as never]))).toMatch(/^UNSUPPORTED_DTYPE: x must be /);
    expect(failure(() => backend.bufferCall('softmax', [a], { temperature: 0 }))).toMatch(
      /^INVALID_OPTION: options.temperature must be a finite number > 0/,
    );
    expect(failure(() => backend.bufferCall('softmaxBackward', [a, a], { fullyMasked: 'zero' }))).toMatch(
      /^INVALID_OPTION: options.fullyMasked is not a known option/,
    );
    expect(failure(() => backend.bufferCall('softmax', [a], { out: backend.alloc(3) }))).toMatch(
      /^INVALID_OPTION: options.out must have length 148/,
    );
  });
});
