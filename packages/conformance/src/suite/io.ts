import type { FloatArray } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { uniform } from '../vectors.js';
import {
  type BackwardOp,
  expectIdentical,
  expectUnchanged,
  expectWithinBound,
  type ForwardOp,
  type SuiteContext,
} from './ops.js';

const COLS = 7;
/** Three ordinary rows and the special rows (NaN, +Infinity, −Infinity, fully masked). */
function forwardInput(): number[] {
  const inf = Number.POSITIVE_INFINITY;
  return [
    ...uniform(3 * COLS, -5, 5, 77),
    Number.NaN,
    0,
    0,
    0,
    0,
    0,
    0,
    inf,
    1,
    2,
    -inf,
    0,
    0,
    0,
    ...Array(COLS).fill(-inf),
  ];
}

/**
 * `out` and in place: the result must be the very array passed as `out`, hold exactly what a
 * call without `out` returns, and leave the other arguments untouched.
 */
export function registerOutTests(ctx: SuiteContext): void {
  const A = ctx.dtype.ArrayType;
  // A dispatcher may serve the call with `out` and the one without it on different member backends
  // (core and wasm differ by an ulp), so bit identity between them is not its contract: each result
  // must instead be within the bound of the oracle, which still demands the exact special values
  // (NaN meets NaN, ±Infinity the same infinity).
  const { dispatcher } = ctx;
  /** `actual` holds what `plain` holds: identical, or for a dispatcher both within the bound of `ref`. */
  const expectSame = (
    actual: FloatArray,
    plain: FloatArray,
    ref: () => { ref: FloatArray; scale: ArrayLike<number> | undefined },
    label: string,
  ) => {
    if (!dispatcher) return expectIdentical(actual, plain, label);
    const { ref: r, scale } = ref();
    expectWithinBound(ctx, plain, r, scale, `${label} (the call without out)`);
    expectWithinBound(ctx, actual, r, scale, label);
  };

  describe.each(ctx.forwardOps)('$name with out', (op) => {
    it('into a separate out: returns out, same values, x untouched', async () => {
      const x = A.from(forwardInput());
      const snapshot = x.slice();
      const plain = await op.run(ctx.backend(), x, { cols: COLS, fullyMasked: 'zero' });
      expect(plain).not.toBe(x);
      const out = new A(x.length).fill(12345);
      const result = await op.run(ctx.backend(), x, { cols: COLS, fullyMasked: 'zero', out });
      expect(result).toBe(out);
      expectSame(out, plain, () => forwardRef(op, snapshot, { fullyMasked: 'zero' }), `${op.name} out`);
      expectUnchanged(x, snapshot, `${op.name} out`);
    });

    it('in place (out === x): returns x holding the result', async () => {
      const x = A.from(forwardInput());
      const snapshot = x.slice();
      const plain = await op.run(ctx.backend(), x.slice(), { cols: COLS });
      const result = await op.run(ctx.backend(), x, { cols: COLS, out: x });
      expect(result).toBe(x);
      expectSame(x, plain, () => forwardRef(op, snapshot, {}), `${op.name} in place`);
    });
  });

  describe.each(ctx.backwardOps)('$name with out', (op) => {
    const make = () => {
      const x = uniform(4 * COLS, -3, 3, 99);
      const y = op.forward.oracle(A.from(x), { cols: COLS }) as FloatArray;
      const dy = A.from(uniform(4 * COLS, -1, 1, 98));
      return { y, dy };
    };

    it('into a separate out: returns out, same values, y and dy untouched', async () => {
      const { y, dy } = make();
      const [ys, dys] = [y.slice(), dy.slice()];
      const plain = await op.run(ctx.backend(), y, dy, { cols: COLS });
      const out = new A(y.length).fill(-7);
      const result = await op.run(ctx.backend(), y, dy, { cols: COLS, out });
      expect(result).toBe(out);
      expectSame(out, plain, () => backwardRef(op, ys, dys), `${op.name} out`);
      expectUnchanged(y, ys, `${op.name} y`);
      expectUnchanged(dy, dys, `${op.name} dy`);
    });

    it.each(['y', 'dy'] as const)('in place (out === %s): returns it holding the result', async (which) => {
      const { y, dy } = make();
      const [ys, dys] = [y.slice(), dy.slice()];
      const plain = await op.run(ctx.backend(), y.slice(), dy.slice(), { cols: COLS });
      const target = which === 'y' ? y : dy;
      const other = which === 'y' ? dy : y;
      const otherSnapshot = other.slice();
      const result = await op.run(ctx.backend(), y, dy, { cols: COLS, out: target });
      expect(result).toBe(target);
      expectSame(target, plain, () => backwardRef(op, ys, dys), `${op.name} in place on ${which}`);
      expectUnchanged(other, otherSnapshot, `${op.name} the other argument`);
    });
  });

  function forwardRef(op: ForwardOp, x: FloatArray, options: { fullyMasked?: 'zero' }) {
    const ref = op.oracle(x, { cols: COLS, ...options });
    return { ref, scale: op.scale(ref) };
  }
  function backwardRef(op: BackwardOp, y: FloatArray, dy: FloatArray) {
    return { ref: op.oracle(y, dy, { cols: COLS }), scale: op.scale(y, dy, COLS, 1) };
  }

  const [first] = ctx.forwardOps;
  if (ctx.dtype.name === 'float64' && first) {
    it(`${first.name}: a number[] input computes as float64 and returns a Float64Array`, async () => {
      const values = [2, 1, 0.1, -3];
      const y = await first.run(ctx.backend(), values as unknown as FloatArray);
      expect(y).toBeInstanceOf(Float64Array);
      expectIdentical(y, await first.run(ctx.backend(), Float64Array.from(values)), 'number[]');
      expect(values).toEqual([2, 1, 0.1, -3]);
    });
  }
}
