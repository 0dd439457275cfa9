import { describe, expect, it } from 'vitest';
import { BACKWARD_CASES, seededRandom, uniform } from '../vectors.js';
import { backwardScale, expectUnchanged, expectWithinBound, type SuiteContext } from './ops.js';

/** Finite-difference set-up: rows × cols logits on a 2^-10 grid in [-4, 4]. */
const FD_ROWS = 3;
const FD_COLS = 9;
const FD_TEMPERATURES = [1, 0.5, 2];

function gridValues(n: number, seed: number, lo: number, hi: number): number[] {
  return uniform(n, lo, hi, seed).map((v) => Math.round(v * 1024) / 1024);
}

export function registerBackwardTests(ctx: SuiteContext): void {
  const A = ctx.dtype.ArrayType;

  describe.each(ctx.backwardOps)('$name', (op) => {
    it.each(BACKWARD_CASES)('against the oracle: $name', async (c) => {
      const { rows, cols } = ctx.scale === 'small' && c.small ? c.small : c;
      const temperature = c.temperature ?? 1;
      const logits = uniform(rows * cols, -c.spread, c.spread, rows * 31 + cols);
      if (c.masked) for (let i = 0; i < logits.length; i += 3) logits[i] = Number.NEGATIVE_INFINITY;
      const y = op.forward.oracle(A.from(logits), { cols, temperature });
      const dy = c.dy === 'ones' ? new A(y.length).fill(1) : A.from(uniform(y.length, -1, 1, cols));
      const [ys, dys] = [y.slice(), dy.slice()];
      const ref = op.oracle(y, dy, { cols, temperature });
      const dx = await op.run(ctx.backend(), y, dy, { cols, temperature });
      expectUnchanged(y, ys, `${op.name} y`);
      expectUnchanged(dy, dys, `${op.name} dy`);
      expectWithinBound(ctx, dx, ref, backwardScale(ctx, op, y, dy, cols, temperature), `${op.name} ${c.name}`);
    });

    // The backward result must be the derivative of the backend's own forward: ⟨dx, v⟩ equals
    // the central difference Σ dy·(f(x + hv) − f(x − hv)) / 2h. With h/T = 2^-k near
    // max(rtol, u)^(1/3), the truncation error is ~(h/T)² and the rounding error ~rtol/(h/T),
    // relative to the scale 2·Σ|dy|·max|v|/T of the directional derivative. x ± hv stays exact
    // in the dtype (grid values, v in {-1, 0, 1}, h a power of two times T).
    it.each(FD_TEMPERATURES)('matches finite differences of the forward (temperature %d)', async (temperature) => {
      const next = seededRandom(4242 + temperature * 8);
      const x = A.from(gridValues(FD_ROWS * FD_COLS, 17, -4, 4));
      const v = A.from(Array.from(x, () => Math.floor(next() * 3) - 1));
      const dy = A.from(gridValues(x.length, 23, -1, 1));
      const eps = Math.max(ctx.rtol, ctx.dtype.unitRoundoff);
      const hr = 2 ** Math.round(Math.log2(Math.cbrt(eps)));
      const h = hr * temperature;
      const xp = A.from(Array.from(x, (value, i) => value + h * v[i]));
      const xm = A.from(Array.from(x, (value, i) => value - h * v[i]));
      for (let i = 0; i < x.length; i++) expect(xp[i] - xm[i]).toBe(2 * h * v[i]);
      const options = { cols: FD_COLS, temperature };
      const y = await op.forward.run(ctx.backend(), x, options);
      const yp = await op.forward.run(ctx.backend(), xp, options);
      const ym = await op.forward.run(ctx.backend(), xm, options);
      const dx = await op.run(ctx.backend(), y, dy, options);
      for (let r = 0; r < FD_ROWS; r++) {
        let fd = 0;
        let ad = 0;
        let dyNorm = 0;
        for (let j = r * FD_COLS; j < (r + 1) * FD_COLS; j++) {
          fd += (dy[j] * (yp[j] - ym[j])) / (2 * h);
          ad += dx[j] * v[j];
          dyNorm += Math.abs(dy[j]);
        }
        const scale = (2 * dyNorm) / temperature;
        const allowed = (8 * hr * hr + (4 * eps) / hr) * scale;
        expect(Math.abs(fd - ad), `row ${r}: finite difference ${fd}, backward ${ad}`).toBeLessThanOrEqual(allowed);
      }
    });
  });
}
