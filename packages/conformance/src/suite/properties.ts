import type { FloatArray } from '@softmax/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkRowSums, exactRowSum, rowSumBound } from '../check.js';
import { expectWithinBound, type ForwardOp, type SuiteContext } from './ops.js';

const NUM_RUNS = 40;

/**
 * Logits on a 2^-9 grid in [-32, 32]: exact in float32, and x + c stays exact for an integer
 * shift |c| ≤ 64 (17 significant bits), so shifted rows are mathematically the same input.
 */
const gridValue = fc.integer({ min: -(2 ** 14), max: 2 ** 14 }).map((k) => k / 512);
const row = fc.array(gridValue, { minLength: 1, maxLength: 64 });

/** A value for the differential test: mostly grid values, sometimes special. */
const anyValue = fc.oneof(
  { arbitrary: fc.double({ min: -30, max: 30, noNaN: true }), weight: 40 },
  { arbitrary: fc.constantFrom(Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, 0, -0), weight: 1 },
);

/** max(|a|, |b|) plus the op's offset: the scale of the allowed difference of two results for one input. */
function pairScale(op: ForwardOp, a: number, b: number): number {
  return Math.max(Math.abs(a), Math.abs(b)) + (op.sumsToOne ? 0 : 1);
}

export function registerPropertyTests(ctx: SuiteContext): void {
  const A = ctx.dtype.ArrayType;
  const run = (op: ForwardOp, x: FloatArray, cols?: number) => op.run(ctx.backend(), x, { cols });
  // Two results for the same exact input each lie within rtol·s + atol of it, so they differ by
  // at most 2·(rtol·s/(1 − rtol) + atol), s measured on the results.
  const pairAllowed = (op: ForwardOp, a: number, b: number) =>
    2 * ((ctx.rtol * pairScale(op, a, b)) / (1 - ctx.rtol) + ctx.atol);

  const softmax = ctx.forwardOps.find((op) => op.name === 'softmax');
  if (softmax)
    it('softmax rows sum to 1 within the bound', async () => {
      await fc.assert(
        fc.asyncProperty(row, async (values) => {
          const y = await run(softmax as ForwardOp, A.from(values));
          const sum = exactRowSum(y, 0, y.length);
          expect(Math.abs(sum - 1)).toBeLessThanOrEqual(rowSumBound(ctx.rtol, ctx.atol, ctx.dtype.name, y.length));
        }),
        { numRuns: NUM_RUNS },
      );
    });

  describe.each(ctx.forwardOps)('$name', (op) => {
    it('is invariant under shifting a row by a constant', async () => {
      await fc.assert(
        fc.asyncProperty(row, fc.integer({ min: -64, max: 64 }), async (values, c) => {
          const a = await run(op, A.from(values));
          const b = await run(op, A.from(values.map((v) => v + c)));
          for (let j = 0; j < a.length; j++) {
            expect(Math.abs(a[j] - b[j]), `j=${j}: ${a[j]} vs ${b[j]}`).toBeLessThanOrEqual(
              pairAllowed(op, a[j], b[j]),
            );
          }
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('commutes with permuting a row', async () => {
      const permuted = row.chain((values) =>
        fc.tuple(
          fc.constant(values),
          fc.shuffledSubarray(
            values.map((_, i) => i),
            { minLength: values.length },
          ),
        ),
      );
      await fc.assert(
        fc.asyncProperty(permuted, async ([values, order]) => {
          const a = await run(op, A.from(values));
          const b = await run(op, A.from(order.map((i) => values[i])));
          for (let k = 0; k < order.length; k++) {
            const [p, q] = [a[order[k]], b[k]];
            expect(Math.abs(p - q), `position ${k}: ${p} vs ${q}`).toBeLessThanOrEqual(pairAllowed(op, p, q));
          }
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('preserves the order of the logits', async () => {
      await fc.assert(
        fc.asyncProperty(row, async (values) => {
          const x = A.from(values);
          const y = await run(op, x);
          const order = Array.from(x.keys()).sort((i, j) => x[i] - x[j]);
          // x_i ≤ x_j ⇒ y_i ≤ y_j, up to the two results' own errors.
          for (let k = 1; k < order.length; k++) {
            const [lo, hi] = [y[order[k - 1]], y[order[k]]];
            expect(lo - hi, `x ${x[order[k - 1]]} ≤ ${x[order[k]]} but y ${lo} > ${hi}`).toBeLessThanOrEqual(
              pairAllowed(op, lo, hi),
            );
          }
        }),
        { numRuns: NUM_RUNS },
      );
    });

    it('agrees with the oracle on random shapes and values (special values included)', async () => {
      const batch = fc
        .record({ rows: fc.integer({ min: 1, max: 6 }), cols: fc.integer({ min: 1, max: 300 }) })
        .chain(({ rows, cols }) =>
          fc.tuple(fc.constant(cols), fc.array(anyValue, { minLength: rows * cols, maxLength: rows * cols })),
        );
      await fc.assert(
        fc.asyncProperty(batch, fc.constantFrom(1, 0.5, 3), async ([cols, values], temperature) => {
          const x = A.from(values);
          const ref = op.oracle(x, { cols, temperature });
          const y = await op.run(ctx.backend(), x, { cols, temperature });
          expectWithinBound(ctx, y, ref, op.scale(ref), `${op.name} ${values.length / cols} × ${cols}`);
          if (op.sumsToOne) expect(checkRowSums(y, ref, cols, ctx).ok).toBe(true);
        }),
        { numRuns: NUM_RUNS },
      );
    });
  });
}
