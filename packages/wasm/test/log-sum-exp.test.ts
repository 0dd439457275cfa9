import { logSoftmaxScale, uniform } from '@softmax/conformance/helpers';
import * as core from '@softmax/core';
import { SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { everyBuild, expectAccurate, expectSame } from './helpers.js';

// logSumExp on the paths that are the wasm backend's own (the conformance suite checks its values
// on arrays): an output of one element per row in and out of the kernel's memory, in place with
// rows of one, split into chunks and between threads, and as a buffer call.

const backends = await everyBuild();

type Dtype = 'float32' | 'float64';
const make = (dtype: Dtype, values: number[]) =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
const RTOL = { float32: 1e-6, float64: 1e-12 };
const typeName = (dtype: Dtype) => (dtype === 'float32' ? 'Float32Array' : 'Float64Array');

for (const [name, b] of Object.entries(backends)) {
  for (const dtype of ['float32', 'float64'] as const) {
    describe(`${name} ${dtype}`, () => {
      it('the output in and out of the kernel memory gives the same bits', () => {
        const cols = 77;
        const x = make(dtype, uniform(9 * cols, -20, 20, cols));
        const options = { cols, temperature: 0.7 };
        const want = core.logSumExp(x, options);
        const plain = b.logSumExp(x, options);
        expect(plain.length).toBe(9);
        expectAccurate(plain, want, { rtol: RTOL[dtype], scale: logSoftmaxScale(want) });
        const xb = b.alloc(x.length, dtype);
        xb.view().set(x);
        const outb = b.alloc(9, dtype);
        expectSame(b.logSumExp(xb.view(), options), plain); // x read where it lies
        expect(b.logSumExp(x, { ...options, out: outb.view() })).toBe(outb.view()); // written where it lies
        expectSame(outb.view(), plain);
        outb.view().fill(0);
        b.logSumExp(xb.view(), { ...options, out: outb.view() }); // both in memory: no copy
        expectSame(outb.view(), plain);
        expectSame(xb.view(), x); // the input is untouched
        xb.free();
        outb.free();
      });

      it('rows of one element, in place (out === x), in and out of the kernel memory', () => {
        const x = make(dtype, [3, -1.5, 0, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, 1e-30]);
        const want = x.map((v) => v / 4);
        const copy = x.slice();
        expect(b.logSumExp(copy, { cols: 1, temperature: 4, out: copy })).toBe(copy);
        expectSame(copy, want);
        const xb = b.alloc(x.length, dtype);
        xb.view().set(x);
        b.logSumExp(xb.view(), { cols: 1, temperature: 4, out: xb.view() });
        expectSame(xb.view(), want);
        xb.free();
      });

      it('a call larger than the scratch block runs in chunks, and on threads, with the bits of one', () => {
        // 3000 rows of 100: 1.2 MB of float32 input; above 65,536 elements it splits between
        // threads, whose row jobs move x by a row and out by one element.
        const cols = 100;
        const x = make(dtype, uniform(3000 * cols, -30, 30, 5));
        const small = make(dtype, Array.from(x.subarray(0, 64 * cols)));
        const whole = b.logSumExp(x, { cols });
        expectSame(whole.subarray(0, 64), b.logSumExp(small, { cols }));
        const want = core.logSumExp(x, { cols });
        expectAccurate(whole, want, { rtol: RTOL[dtype], scale: logSoftmaxScale(want) });
        if (name !== 'scalar') expectSame(whole, backends.simd.logSumExp(x, { cols })); // the same build's numerics
      });

      it('bufferCall: a new buffer of one element per row, or the given out', () => {
        const cols = 33;
        const x = make(dtype, uniform(5 * cols, -4, 4, 8));
        const xb = b.alloc(x.length, dtype);
        xb.view().set(x);
        const result = b.bufferCall('logSumExp', [xb], { cols, temperature: 2 });
        expect(result).not.toBe(xb);
        expect(result.dtype).toBe(dtype);
        expect(result.length).toBe(5);
        expectSame(result.view(), b.logSumExp(x, { cols, temperature: 2 }));
        expectSame(xb.view(), x);
        const out = b.alloc(5, dtype);
        expect(b.bufferCall('logSumExp', [xb], { cols, temperature: 2, out })).toBe(out);
        expectSame(out.view(), result.view());
        let error: unknown;
        try {
          b.bufferCall('logSumExp', [xb], { cols, out: b.alloc(x.length, dtype) });
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(SoftmaxError);
        expect((error as SoftmaxError).message).toBe(`options.out must have length 5, got ${typeName(dtype)}(165)`);
        for (const buffer of [xb, result, out]) buffer.free();
      });
    });
  }
}
