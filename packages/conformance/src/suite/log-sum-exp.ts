import type { FloatArray } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { logSoftmaxScale } from '../check.js';
import { oracleLogSumExp } from '../oracle.js';
import { FORWARD_VECTORS, ROW_LENGTHS, SHAPES, uniform } from '../vectors.js';
import { LOG_SUM_EXP_VECTORS } from '../vectors-log-sum-exp.js';
import { expectUnchanged, expectWithinBound, type SuiteContext } from './ops.js';

type Options = { cols?: number; temperature?: number; out?: FloatArray };
const run = (ctx: SuiteContext, x: FloatArray, options?: Options) =>
  Promise.resolve(ctx.backend().logSumExp(x, options)) as Promise<FloatArray>;

/**
 * logSumExp against the oracle, one value per row. Its bound is log-softmax's, rtol·(|ref| + 1):
 * an error δ in log S is a relative error δ in the sum S, and max/T + log S cancels where the
 * result is near 0.
 */
async function checkRows(ctx: SuiteContext, values: ArrayLike<number>, options: Options, label: string) {
  const x = ctx.dtype.ArrayType.from(values);
  const snapshot = x.slice();
  const ref = oracleLogSumExp(x, options);
  const y = await run(ctx, x, options);
  expectUnchanged(x, snapshot, label);
  expectWithinBound(ctx, y, ref, logSoftmaxScale(ref), label);
}

export function registerLogSumExpTests(ctx: SuiteContext): void {
  describe('logSumExp', () => {
    it.each(FORWARD_VECTORS)('against the oracle: $name', async (vector) => {
      const { cols, temperature } = vector;
      await checkRows(ctx, vector.x(ctx.dtype), { cols, temperature }, `logSumExp ${vector.name}`);
    });

    it.each(LOG_SUM_EXP_VECTORS)('special values: $name', async (vector) => {
      const y = await run(ctx, ctx.dtype.ArrayType.from(vector.x), {
        cols: vector.cols,
        temperature: vector.temperature,
      });
      expect(y).toBeInstanceOf(ctx.dtype.ArrayType);
      expect(y.length).toBe(vector.expected.length);
      vector.expected.forEach((e, r) => {
        const label = `row ${r}: ${y[r]}, expected ${e}`;
        if (!Number.isFinite(e)) expect(Object.is(y[r], e), label).toBe(true);
        else expect(Math.abs(y[r] - e), label).toBeLessThanOrEqual((ctx.rtol + 2 ** -52) * (Math.abs(e) + 1));
      });
    });

    // As for softmax: the maximum at every position, and a 1000 above the rest (a missed max overflows).
    it.each(ROW_LENGTHS)('row length %i with the maximum at every position', async (n) => {
      const base = uniform(2 * n * n, -3, 0, 2000 + n);
      for (let i = 0; i < n; i++) {
        base[i * n + i] = 0.5;
        base[(n + i) * n + i] = 1000;
      }
      await checkRows(ctx, base, { cols: n }, `logSumExp length ${n}`);
    });

    it.each(SHAPES.map((s) => (ctx.scale === 'small' && s.small ? s.small : s)))(
      'batch of $rows × $cols from U(-10, 10)',
      async ({ rows, cols }) => {
        await checkRows(
          ctx,
          uniform(rows * cols, -10, 10, rows * 7919 + cols + 1),
          { cols },
          `logSumExp ${rows} × ${cols}`,
        );
      },
    );

    it('writes into out (one element per row) and returns it; rejects an out of the matrix length', async () => {
      const x = ctx.dtype.ArrayType.from(uniform(12, -4, 4, 5));
      const out = new ctx.dtype.ArrayType(3).fill(7);
      const plain = await run(ctx, x, { cols: 4 });
      expect(await run(ctx, x, { cols: 4, out })).toBe(out);
      expect(Array.from(out)).toEqual(Array.from(plain));
      let error: unknown;
      try {
        await run(ctx, x, { cols: 4, out: new ctx.dtype.ArrayType(12) });
      } catch (e) {
        error = e;
      }
      expect((error as { code?: string })?.code).toBe('INVALID_OPTION');
    });

    it('shifting a row by c shifts its log-sum-exp by c/T', async () => {
      const values = uniform(40, -8, 8, 9).map((v) => Math.round(v * 512) / 512);
      const a = await run(ctx, ctx.dtype.ArrayType.from(values), { cols: 10, temperature: 2 });
      const b = await run(ctx, ctx.dtype.ArrayType.from(values.map((v) => v + 16)), { cols: 10, temperature: 2 });
      for (let r = 0; r < 4; r++) {
        const allowed = 2 * ctx.rtol * (Math.abs(a[r]) + Math.abs(b[r]) + 2) + 2 * ctx.atol;
        expect(Math.abs(b[r] - (a[r] + 8)), `row ${r}: ${a[r]} then ${b[r]}`).toBeLessThanOrEqual(allowed);
      }
    });
  });
}
