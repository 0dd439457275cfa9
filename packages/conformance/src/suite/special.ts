import { describe, expect, it } from 'vitest';
import { SPECIAL_VECTORS } from '../vectors.js';
import { expectUnchanged, type SuiteContext } from './ops.js';

/**
 * The special-value rules against hand-written expectations: NaN, ±Infinity and 0 must come
 * out exactly (a masked entry is exactly 0, not merely tiny); shares like 1/3 and −log 3
 * within the contract.
 */
export function registerSpecialValueTests(ctx: SuiteContext): void {
  describe.each(ctx.forwardOps)('$name special values', (op) => {
    it.each(SPECIAL_VECTORS)('$name', async (vector) => {
      const x = ctx.dtype.ArrayType.from(vector.x(ctx.dtype));
      const snapshot = x.slice();
      const { cols, temperature, fullyMasked } = vector;
      const y = await op.run(ctx.backend(), x, { cols, temperature, fullyMasked });
      expectUnchanged(x, snapshot, vector.name);
      expect(y).toBeInstanceOf(ctx.dtype.ArrayType);
      const expected = op.name === 'softmax' ? vector.softmax : vector.logSoftmax;
      expect(y.length).toBe(expected.length);
      for (let j = 0; j < expected.length; j++) {
        const e = expected[j];
        const exact = e !== e || !Number.isFinite(e) || e === 0;
        const label = `${op.name} ${vector.name}: y[${j}] = ${y[j]}, expected ${e}`;
        if (exact) expect(y[j] === e || (e !== e && y[j] !== y[j]), label).toBe(true);
        // ±ln k and 1/k are float64 values within 1 ulp; the result within rtol of the true value.
        else expect(Math.abs(y[j] - e), label).toBeLessThanOrEqual((ctx.rtol + 2 ** -52) * Math.abs(e));
      }
    });
  });
}
