import { describe, expect, it } from 'vitest';
import { checkRowSums } from '../check.js';
import { FORWARD_VECTORS, ROW_LENGTHS, SHAPES, uniform, WORKED_EXAMPLE } from '../vectors.js';
import { expectUnchanged, expectWithinBound, type ForwardOp, type SuiteContext } from './ops.js';

/** Runs one forward call against the oracle (and, for softmax, checks the row sums). */
async function checkForward(
  ctx: SuiteContext,
  op: ForwardOp,
  values: ArrayLike<number>,
  options: { cols?: number; temperature?: number; fullyMasked?: 'nan' | 'zero' },
  label: string,
) {
  const x = ctx.dtype.ArrayType.from(values);
  const snapshot = x.slice();
  const ref = op.oracle(x, options);
  const y = await op.run(ctx.backend(), x, options);
  expectUnchanged(x, snapshot, label);
  const check = expectWithinBound(ctx, y, ref, op.scale(ref), label);
  if (op.sumsToOne) {
    const sums = checkRowSums(y, ref, options.cols ?? Math.max(1, x.length), ctx);
    expect(sums.ok, `${label}: row ${sums.worstRow} sums to ${sums.worstSum} (${sums.worstRatio}× the bound)`).toBe(
      true,
    );
  }
  return check;
}

export function registerForwardTests(ctx: SuiteContext): void {
  const hasSoftmax = ctx.forwardOps.some((op) => op.name === 'softmax');
  // Registered only where softmax is declared; an op the backend lacks is reported by coverage.ts.
  if (hasSoftmax)
    it("softmax of the worked example [2, 1, 0.1] matches the issue's figures", async () => {
      const x = ctx.dtype.ArrayType.from(WORKED_EXAMPLE.x);
      const y = await ctx.backend().softmax(x);
      expect(y).toBeInstanceOf(ctx.dtype.ArrayType);
      // The figures are float64 printouts (within 2^-52 relative); converting x to the dtype moves
      // the exact result by at most 2·max|Δx| relative (∂y_i/∂x_j = y_i(δ_ij − y_j)).
      let dx = 0;
      for (let j = 0; j < x.length; j++) dx = Math.max(dx, Math.abs(x[j] - WORKED_EXAMPLE.x[j]));
      for (let j = 0; j < x.length; j++) {
        const figure = WORKED_EXAMPLE.softmax[j];
        const allowed = (ctx.rtol + 2 ** -52 + 2 * dx) * figure;
        expect(Math.abs(y[j] - figure), `y[${j}] = ${y[j]}, figure ${figure}`).toBeLessThanOrEqual(allowed);
      }
    });

  describe.each(ctx.forwardOps)('$name against the oracle', (op) => {
    it.each(FORWARD_VECTORS)('$name', async (vector) => {
      const { cols, temperature, fullyMasked } = vector;
      await checkForward(ctx, op, vector.x(ctx.dtype), { cols, temperature, fullyMasked }, `${op.name} ${vector.name}`);
    });

    // Two row families per length n, the maximum at every position i:
    //  - values in [-3, 0] with x_i = 0.5: each element's weight ≥ e^-3.5/n, so a reduction that
    //    drops any element shifts the normalisation far beyond any rtol;
    //  - x_i = 1000 above values in [-3, 0]: a max-reduction that misses x_i makes exp(x_i − max)
    //    overflow (even in float64), so the result cannot stay finite.
    it.each(ROW_LENGTHS)('row length %i with the maximum at every position', async (n) => {
      const base = uniform(2 * n * n, -3, 0, 1000 + n);
      for (let i = 0; i < n; i++) {
        base[i * n + i] = 0.5;
        base[(n + i) * n + i] = 1000;
      }
      await checkForward(ctx, op, base, { cols: n }, `${op.name} length ${n}`);
    });

    it.each(SHAPES.map((s) => (ctx.scale === 'small' && s.small ? s.small : s)))(
      'batch of $rows × $cols from U(-10, 10)',
      async ({ rows, cols }) => {
        const values = uniform(rows * cols, -10, 10, rows * 7919 + cols);
        await checkForward(ctx, op, values, { cols }, `${op.name} ${rows} × ${cols}`);
      },
    );
  });
}
