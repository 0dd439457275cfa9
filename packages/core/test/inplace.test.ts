import { describe, expect, it } from 'vitest';
import { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from '../src/index.js';

const values = [0.5, -1, 3, 2, 2, -4, Number.NaN, 0, -Infinity, -Infinity, 1e30, -1e30];
const FORWARD = [softmax, logSoftmax];
const BACKWARD = [softmaxBackward, logSoftmaxBackward];
const TYPES = [Float32Array, Float64Array];

describe('out and in place', () => {
  it.each(TYPES)('forward in place on a %o: returns x holding what a fresh call returns', (Type) => {
    for (const op of FORWARD) {
      const x = Type.from(values);
      const expected = op(x.slice(), { cols: 4, fullyMasked: 'zero' });
      const result = op(x, { cols: 4, out: x, fullyMasked: 'zero' });
      expect(result).toBe(x);
      expect(Array.from(x)).toEqual(Array.from(expected));
    }
  });

  it.each(TYPES)('forward into a separate out on a %o leaves x alone', (Type) => {
    for (const op of FORWARD) {
      const x = Type.from(values);
      const out = new Type(x.length).fill(9);
      const result = op(x, { cols: 3, out });
      expect(result).toBe(out);
      expect(Array.from(x)).toEqual(Array.from(Type.from(values)));
      expect(Array.from(out)).toEqual(Array.from(op(x, { cols: 3 })));
      expect(op(x, { cols: 3 })).not.toBe(x);
    }
  });

  it.each(TYPES)('backward in place on y or on dy (%o)', (Type) => {
    const y = Type.from(softmax(Type.from([0.1, 0.7, -0.3, 2, 1, 1])));
    const dy = Type.from([0.5, -1, 0.25, 2, 0, -0.75]);
    for (const op of BACKWARD) {
      const expected = Array.from(op(y, dy, { cols: 3, temperature: 2 }));
      for (const target of ['y', 'dy'] as const) {
        const [yy, dd] = [y.slice(), dy.slice()];
        const out = target === 'y' ? yy : dd;
        expect(op(yy, dd, { cols: 3, temperature: 2, out })).toBe(out);
        expect(Array.from(out)).toEqual(expected);
        expect(Array.from(target === 'y' ? dd : yy)).toEqual(Array.from(target === 'y' ? dy : y));
      }
    }
  });
});
