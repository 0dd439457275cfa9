import type { FloatArray } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { checkAgainstOracle, describeCheck } from '../check.js';
import { flushSubnormals } from '../dtypes.js';
import { splitmix32 } from '../fuzz-cases.js';
import {
  type OracleCrossEntropy,
  type OracleCrossEntropyOptions,
  oracleCrossEntropy,
} from '../oracle-cross-entropy.js';
import { uniform } from '../vectors.js';
import {
  CE_BAD_INPUTS,
  CE_LOGIT_PATTERNS,
  CE_OPTION_SETS,
  CE_SHAPES,
  CE_SPECIALS,
  classWeights,
  probabilityRows,
  TARGET_SETS,
  type TargetSpec,
  targetArray,
  targetValues,
} from '../vectors-cross-entropy.js';
import { expectSoftmaxError, failure } from './errors.js';
import { expectIdentical, expectUnchanged, expectWithinBound, type SuiteContext } from './ops.js';

interface CEResult {
  loss: FloatArray;
  grad?: FloatArray;
  lse?: FloatArray;
}

type Options = Record<string, unknown>;
const REDUCTIONS = ['mean', 'sum', 'none'] as const;

const run = (ctx: SuiteContext, logits: unknown, targets: unknown, options: Options) =>
  Promise.resolve(
    ctx.backend().crossEntropy(logits as FloatArray, targets as Int32Array, options),
  ) as Promise<CEResult>;

/** The oracle on what the backend computes on (its flushed inputs, for a backend that flushes). */
function oracleFor(
  ctx: SuiteContext,
  logits: ArrayLike<number>,
  spec: TargetSpec,
  options: Options,
): OracleCrossEntropy {
  const A = ctx.dtype.ArrayType;
  const x = ctx.subnormalInputs === 'flush' ? flushSubnormals(logits, ctx.dtype.name) : logits;
  const values = targetValues(spec, A);
  return oracleCrossEntropy(
    x,
    { kind: spec.kind, values },
    { ...(options as OracleCrossEntropyOptions), dtype: ctx.dtype.name },
  );
}

/** The gradient's scale, with the allowance for flushing where the contract says the backend flushes. */
function gradScale(ctx: SuiteContext, ref: OracleCrossEntropy): Float64Array {
  const scale = ref.bounds.grad.slice();
  if (ctx.gradientIntermediates === 'flush' || ctx.subnormalInputs === 'flush') {
    const unit = ctx.dtype.minNormal / ctx.rtol;
    for (let i = 0; i < scale.length; i++) scale[i] += ref.gradFlush[i] * unit;
  }
  return scale;
}

/** Checks loss (and grad and lse when the call asked for them) against the oracle. */
function expectOracle(ctx: SuiteContext, result: CEResult, ref: OracleCrossEntropy, options: Options, label: string) {
  const keys = ['loss', ...(options.gradient ? ['grad'] : []), ...(options.returnLse ? ['lse'] : [])];
  expect(Object.keys(result).sort(), `${label}: the result's keys`).toEqual(keys.sort());
  expectWithinBound(ctx, result.loss, ref.loss, ref.bounds.loss, `${label}: loss`);
  if (options.gradient) expectWithinBound(ctx, result.grad, ref.grad, gradScale(ctx, ref), `${label}: grad`);
  if (options.returnLse) expectWithinBound(ctx, result.lse, ref.lse, ref.bounds.lse, `${label}: lse`);
}

/** One call against the oracle, the arguments unchanged after it. */
async function checkCall(
  ctx: SuiteContext,
  values: readonly number[] | FloatArray,
  spec: TargetSpec,
  options: Options,
  label: string,
) {
  const A = ctx.dtype.ArrayType;
  const logits = A.from(values);
  const snapshot = logits.slice();
  const targets = targetArray(spec, A);
  const targetsBefore = structuredClone(targets);
  const ref = oracleFor(ctx, logits, spec, options);
  const result = await run(ctx, logits, targets, options);
  expectUnchanged(logits, snapshot, label);
  expect(targets, `${label}: the targets were modified`).toEqual(targetsBefore);
  expectOracle(ctx, result, ref, options, label);
  return { result, ref };
}

/** Richardson's central difference (O(h⁴)) of f at x[i]. */
function derivative(f: (x: Float64Array) => number, x: Float64Array, i: number, h: number): number {
  const at = (d: number) => {
    const y = x.slice();
    y[i] += d;
    return f(y);
  };
  return (8 * (at(h) - at(-h)) - (at(2 * h) - at(-2 * h))) / (12 * h);
}

export function registerCrossEntropyTests(ctx: SuiteContext): void {
  const A = ctx.dtype.ArrayType;
  describe('crossEntropy', () => {
    // Every option set with every kind of target, on ordinary and on special-value rows, each reduction.
    for (const pattern of CE_LOGIT_PATTERNS) {
      for (const set of CE_OPTION_SETS) {
        it.each(TARGET_SETS)(`${pattern.name} · ${set.name} · $name`, async (targetSet) => {
          const { rows, cols } = pattern;
          const base = set.options(cols);
          const spec = targetSet.make(rows, cols, (base.ignoreIndex as number) ?? -100, rows * 31 + cols);
          for (const reduction of REDUCTIONS) {
            const options = { cols, ...base, reduction, gradient: true, returnLse: true };
            await checkCall(
              ctx,
              pattern.logits(ctx.dtype),
              spec,
              options,
              `${set.name}, ${targetSet.name}, ${reduction}`,
            );
          }
        });
      }
    }

    it.each(
      CE_SHAPES.flatMap((s) => {
        const shape = ctx.scale === 'small' && s.small ? s.small : s;
        // Probability targets double the oracle's work: not at a million columns (50,000 has them).
        return [
          { ...shape, set: CE_OPTION_SETS[0], probs: false },
          { ...shape, set: CE_OPTION_SETS[CE_OPTION_SETS.length - 1], probs: false },
          ...(shape.cols > 100_000 ? [] : [{ ...shape, set: CE_OPTION_SETS[4], probs: true }]),
        ];
      }),
    )('$rows × $cols: $set.name (probabilities: $probs)', async ({ rows, cols, set, probs }) => {
      const logits = uniform(rows * cols, -10, 10, rows * 7919 + cols);
      const spec: TargetSpec = probs
        ? { kind: 'probs', values: probabilityRows(rows, cols, cols + 3) }
        : { kind: 'index', values: TARGET_SETS[3].make(rows, cols, -100, cols).values, array: 'Int32Array' };
      if (!probs && rows < 3) spec.values.fill(Math.floor(cols / 2));
      const options = { cols, ...set.options(cols), gradient: true, returnLse: true, reduction: 'sum' };
      await checkCall(ctx, logits, spec, options, `${rows} × ${cols}`);
    });

    it.each(CE_SPECIALS)('special values: $name', async (v) => {
      const options = {
        reduction: 'none',
        ...v.options,
        gradient: v.grad !== undefined,
        returnLse: v.lse !== undefined,
      };
      const r = await run(ctx, A.from(v.logits), v.targets, options);
      const near = (got: number, e: number, what: string) => {
        const label = `${what}: ${got}, expected ${e}`;
        if (!Number.isFinite(e)) expect(Object.is(got, e), label).toBe(true);
        else expect(Math.abs(got - e), label).toBeLessThanOrEqual((ctx.rtol + 2 ** -52) * (Math.abs(e) + 1) + ctx.atol);
      };
      expect(r.loss).toBeInstanceOf(A);
      near(r.loss[0], v.loss, 'loss');
      if (v.grad) {
        expect(r.grad).toBeInstanceOf(A);
        for (let j = 0; j < v.grad.length; j++) near((r.grad as FloatArray)[j], v.grad[j], `grad[${j}]`);
      }
      if (v.lse !== undefined) near((r.lse as FloatArray)[0], v.lse, 'lse');
    });

    it("the mean's normaliser is PyTorch's: Σ loss over rows / Σ over rows not ignored of weight[target]", async () => {
      const cols = 6;
      const weight = [0.5, 2, 1, 0, 1.5, 3];
      const targets = [-100, 1, 4, -100, 0, 5, 3, -100];
      const logits = A.from(uniform(targets.length * cols, -5, 5, 404));
      const o = { cols, weight, labelSmoothing: 0.1, zLoss: 1e-3 };
      const none = await run(ctx, logits, targets, { ...o, reduction: 'none' });
      const sum = await run(ctx, logits, targets, { ...o, reduction: 'sum', gradient: true });
      const mean = await run(ctx, logits, targets, { ...o, gradient: true });
      // Written from PyTorch's documentation, independently of the oracle's own normaliser.
      let D = 0;
      for (const t of targets) if (t !== -100) D += weight[t];
      const spec: TargetSpec = { kind: 'index', values: targets, array: 'number[]' };
      const ref = oracleFor(ctx, logits, spec, { ...o, reduction: 'none' });
      let total = 0;
      let allowed = 0;
      for (let i = 0; i < targets.length; i++) {
        total += none.loss[i];
        allowed += ref.bounds.loss[i];
      }
      expect(ref.normaliser).toBe(1);
      const meanLabel = `mean ${mean.loss[0]}, expected ${total} / ${D}`;
      expect(Math.abs(mean.loss[0] - total / D), meanLabel).toBeLessThanOrEqual(
        (2 * ctx.rtol * allowed) / D + ctx.atol,
      );
      expect(Math.abs(sum.loss[0] - total), `sum ${sum.loss[0]}`).toBeLessThanOrEqual(
        2 * ctx.rtol * allowed + ctx.atol,
      );
      // The gradient of the mean is the sum's divided by D.
      const refSum = oracleFor(ctx, logits, spec, { ...o, reduction: 'sum' });
      const scale = gradScale(ctx, refSum);
      for (let j = 0; j < logits.length; j++) {
        const m = (mean.grad as FloatArray)[j];
        const s = (sum.grad as FloatArray)[j] / D;
        expect(Math.abs(m - s), `grad[${j}]: mean ${m}, sum / D ${s}`).toBeLessThanOrEqual(
          (2 * ctx.rtol * scale[j]) / D + 2 * ctx.atol,
        );
      }
    });

    it('the gradient matches central differences of the float64 oracle loss (every option on)', async () => {
      const rows = 3;
      const cols = 5;
      const logits = A.from(uniform(rows * cols, -3, 3, 77));
      const cases: Array<{ spec: TargetSpec; options: Options }> = [
        {
          spec: { kind: 'index', values: [2, -100, 0], array: 'Int32Array' },
          options: { weight: classWeights(cols, 3), labelSmoothing: 0.2, zLoss: 0.05, softcap: 2.5, temperature: 0.8 },
        },
        {
          spec: { kind: 'probs', values: probabilityRows(rows, cols, 8) },
          options: { weight: [1, 2, 0.5, 1, 3], labelSmoothing: 0.1, zLoss: 0.01, temperature: 1.7, gradScale: -0.5 },
        },
      ];
      for (const { spec, options } of cases) {
        for (const reduction of REDUCTIONS) {
          const o = { cols, ...options, reduction };
          const r = await run(ctx, logits, targetArray(spec, A), { ...o, gradient: true });
          const values = targetValues(spec, A);
          // d(Σ loss)/dx for 'none' (its gradient is of the sum), the loss itself otherwise, times gradScale.
          const loss = (x: Float64Array) => {
            const ref = oracleCrossEntropy(x, { kind: spec.kind, values }, { ...o, dtype: 'float64' } as never);
            let s = 0;
            for (const v of ref.loss) s += v;
            return s * ((o as { gradScale?: number }).gradScale ?? 1);
          };
          const x = Float64Array.from(logits);
          const scale = gradScale(ctx, oracleFor(ctx, logits, spec, o));
          for (let i = 0; i < x.length; i++) {
            const fd = derivative(loss, x, i, 1e-3);
            const g = (r.grad as FloatArray)[i];
            expect(
              Math.abs(g - fd),
              `${spec.kind} ${reduction} element ${i}: ${g}, differences ${fd}`,
            ).toBeLessThanOrEqual(ctx.rtol * scale[i] + 1e-9);
          }
        }
      }
    });

    const composes = ['logSoftmax', 'logSoftmaxBackward'].every((op) =>
      ctx.backend().ops[op as 'logSoftmax']?.includes(ctx.dtype.name),
    );
    if (composes) {
      it('the gradient is logSoftmaxBackward(logSoftmax(x), −target coefficients) of the existing ops, times k', async () => {
        const cols = 9;
        const targets = [4, -100, 0, 8, 2];
        const weight = classWeights(cols, 21);
        const eps = 0.15;
        const T = 1.3;
        const logits = A.from(uniform(targets.length * cols, -6, 6, 55));
        const ce = await run(ctx, logits, targets, {
          cols,
          weight,
          labelSmoothing: eps,
          temperature: T,
          gradient: true,
        });
        // dy = −(loss coefficients): −(1−ε)·w_t at the target, −(ε/C)·w_c everywhere; 0 on ignored rows.
        const dy = new A(logits.length);
        let D = 0;
        targets.forEach((t, i) => {
          if (t === -100) return;
          D += weight[t];
          for (let j = 0; j < cols; j++)
            dy[i * cols + j] = -((j === t ? (1 - eps) * weight[j] : 0) + (eps / cols) * weight[j]);
        });
        const backend = ctx.backend();
        const y = (await backend.logSoftmax(logits, { cols, temperature: T })) as FloatArray;
        const dx = (await backend.logSoftmaxBackward(y, dy, { cols, temperature: T })) as FloatArray;
        const ref = oracleFor(
          ctx,
          logits,
          { kind: 'index', values: targets, array: 'number[]' },
          {
            cols,
            weight,
            labelSmoothing: eps,
            temperature: T,
          },
        );
        const scale = gradScale(ctx, ref);
        for (let i = 0; i < targets.length; i++) {
          let total = 0;
          for (let j = 0; j < cols; j++) total += Math.abs(dy[i * cols + j]);
          for (let j = 0; j < cols; j++) {
            const at = i * cols + j;
            const composed = dx[at] / D;
            // Both within their bounds of the truth; y's own error moves exp(y) by (|y| + 1)·rtol.
            const allowed =
              ctx.rtol * (scale[at] + (Math.abs(dy[at]) + Math.exp(y[at]) * total * (2 + Math.abs(y[at]))) / T / D) +
              2 * ctx.atol;
            const g = (ce.grad as FloatArray)[at];
            expect(Math.abs(g - composed), `grad[${at}]: fused ${g}, composed ${composed}`).toBeLessThanOrEqual(
              allowed,
            );
          }
        }
      });
    }

    it.each([
      { name: 'class indices', probs: false, set: CE_OPTION_SETS[0] },
      { name: 'class indices, every option', probs: false, set: CE_OPTION_SETS[CE_OPTION_SETS.length - 1] },
      { name: 'probabilities, smoothing and weights', probs: true, set: CE_OPTION_SETS[4] },
    ])('gradient false / true / gradOut / in place, and returnLse: $name', async ({ probs, set }) => {
      const rows = 4;
      const cols = 6;
      const values = uniform(rows * cols, -4, 4, 99);
      const spec: TargetSpec = probs
        ? { kind: 'probs', values: probabilityRows(rows, cols, 5) }
        : { kind: 'index', values: [5, -100, 0, 2], array: 'Int32Array' };
      const base = { cols, ...set.options(cols) };
      const targets = targetArray(spec, A);
      const ref = oracleFor(ctx, values, spec, base);
      // No gradient, no lse: the result holds the loss only.
      const plain = await checkCall(ctx, values, spec, { ...base, gradient: false }, 'gradient false');
      expect(Object.keys(plain.result)).toEqual(['loss']);
      const fresh = await run(ctx, A.from(values), targets, { ...base, gradient: true });
      expectWithinBound(ctx, fresh.grad, ref.grad, gradScale(ctx, ref), 'gradient true');
      const same = (got: FloatArray, label: string) =>
        ctx.dispatcher
          ? expectWithinBound(ctx, got, ref.grad, gradScale(ctx, ref), label)
          : expectIdentical(got, fresh.grad as FloatArray, label);
      // gradOut: filled and returned; the logits untouched.
      const logits = A.from(values);
      const gradOut = new A(values.length).fill(7);
      const withOut = await run(ctx, logits, targets, { ...base, gradient: true, gradOut });
      expect(withOut.grad, 'the result is gradOut').toBe(gradOut);
      same(gradOut, 'gradOut');
      expectUnchanged(logits, A.from(values), 'gradOut');
      // In place: the gradient over the logits, returned as grad; the loss as without.
      const inPlace = A.from(values);
      const r = await run(ctx, inPlace, targets, { ...base, gradient: 'in-place', returnLse: true });
      expect(r.grad, 'the result is the logits array').toBe(inPlace);
      same(inPlace, 'in place');
      expectWithinBound(ctx, r.loss, ref.loss, ref.bounds.loss, 'in place: loss');
      expectWithinBound(ctx, r.lse, ref.lse, ref.bounds.lse, 'in place: lse');
      // gradOut may be the logits themselves.
      const over = A.from(values);
      expect((await run(ctx, over, targets, { ...base, gradient: true, gradOut: over })).grad).toBe(over);
      same(over, 'gradOut === logits');
    });

    it('an empty batch: sum [0], none [], mean refused (D = 0)', async () => {
      const sum = await run(ctx, new A(0), [], { reduction: 'sum', gradient: true });
      expect(Array.from(sum.loss)).toEqual([0]);
      expect(sum.grad).toHaveLength(0);
      expect((await run(ctx, new A(0), [], { reduction: 'none', cols: 5 })).loss).toHaveLength(0);
      expectSoftmaxError(
        await failure(() => run(ctx, new A(0), [], {})),
        { code: 'INVALID_INPUT', message: ['targets'] },
        'empty mean',
      );
    });

    it('a number[] weight is read once, before the inputs are checked', async () => {
      let reads = 0;
      const weight = new Proxy([1, 2, 0.5, 3], {
        get(target, key, receiver) {
          if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver);
        },
      });
      const logits = A.from(uniform(8, -2, 2, 3));
      const r = await run(ctx, logits, [0, 3], { cols: 4, weight, reduction: 'sum' });
      expect(reads, 'weight elements read').toBe(4);
      const ref = oracleFor(
        ctx,
        logits,
        { kind: 'index', values: [0, 3], array: 'number[]' },
        {
          cols: 4,
          weight: [1, 2, 0.5, 3],
          reduction: 'sum',
        },
      );
      expectWithinBound(ctx, r.loss, ref.loss, ref.bounds.loss, 'weight via Proxy');
    });

    it.each(CE_BAD_INPUTS.filter((row) => !row.float64 || ctx.dtype.name === 'float64'))(
      'bad input: $name → $code',
      async (row) => {
        const args = row.args(A);
        const before = args.map((a) => (ArrayBuffer.isView(a) || Array.isArray(a) ? structuredClone(a) : a));
        const error = await failure(() => (ctx.backend().crossEntropy as (...a: unknown[]) => unknown)(...args));
        expectSoftmaxError(error, row, `crossEntropy ${row.name}`);
        expect(args, 'the arguments were modified').toEqual(before);
      },
    );

    const other = ctx.dtype.name === 'float32' ? 'float64' : 'float32';
    if (!ctx.backend().ops.crossEntropy?.includes(other)) {
      it(`${other} logits → UNSUPPORTED_DTYPE (this backend lists only ${ctx.dtype.name})`, async () => {
        const B = other === 'float64' ? Float64Array : Float32Array;
        const error = await failure(() => run(ctx, new B(4), [0], {}));
        expectSoftmaxError(error, { code: 'UNSUPPORTED_DTYPE', message: ['logits'] }, other);
      });
    }

    // Seeded random combinations: shapes, option sets, targets, reductions, gradient modes, specials.
    const CASES = 150;
    const SEED = 0xce_2024;
    it(`seeded combinations: ${CASES} cases against the oracle (seed 0x${SEED.toString(16)})`, async () => {
      const failures: string[] = [];
      for (let c = 0; c < CASES && failures.length < 5; c++) {
        const next = splitmix32((SEED ^ Math.imul(c + 1, 0x9e3779b9)) | 0);
        const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
        const rows = 1 + Math.floor(next() * 5);
        const cols = 1 + Math.floor(next() * 40);
        const set = pick(CE_OPTION_SETS);
        const base = set.options(cols);
        const targetSet = pick(TARGET_SETS);
        const spec = targetSet.make(rows, cols, (base.ignoreIndex as number) ?? -100, c);
        const reduction = pick(REDUCTIONS);
        const gradient = pick([true, false, 'in-place'] as const);
        const spread = 10 ** (next() * 4 - 1);
        const logits = Array.from({ length: rows * cols }, () => {
          const r = next();
          if (r < 0.02) return Number.NaN;
          if (r < 0.05) return Number.NEGATIVE_INFINITY;
          if (r < 0.07) return Number.POSITIVE_INFINITY;
          return (next() * 2 - 1) * spread;
        });
        const options = { cols, ...base, reduction, gradient, returnLse: next() < 0.5 };
        const label = `case ${c}: ${rows} × ${cols}, ${set.name}, ${targetSet.name}, ${reduction}, gradient ${gradient}`;
        const x = A.from(logits);
        const ref = oracleFor(ctx, x, spec, options);
        // 'mean' over rows all ignored (or of weight 0) must be refused: D = 0.
        const refuse = reduction === 'mean' && ref.normaliser === 0;
        const error = await failure(async () => {
          const r = await run(ctx, x, targetArray(spec, A), options);
          if (refuse) throw new Error("reduction 'mean' with D = 0 was not refused");
          if (gradient === 'in-place' && r.grad !== x) throw new Error('the in-place result is not the logits');
          const checks: Array<[string, FloatArray | undefined, FloatArray, ArrayLike<number>]> = [
            ['loss', r.loss, ref.loss, ref.bounds.loss],
          ];
          if (gradient !== false) checks.push(['grad', r.grad, ref.grad, gradScale(ctx, ref)]);
          if (options.returnLse) checks.push(['lse', r.lse, ref.lse, ref.bounds.lse]);
          for (const [what, got, want, scale] of checks) {
            if (!(got instanceof A)) throw new Error(`${what} is not a ${A.name}`);
            const check = checkAgainstOracle(got, want, { rtol: ctx.rtol, atol: ctx.atol, scale });
            if (!check.ok) throw new Error(`${what}:${describeCheck(check, got, want)}`);
          }
        });
        const refused = (error as { code?: string } | undefined)?.code === 'INVALID_INPUT';
        if (error !== undefined && !(refuse && refused)) failures.push(`${label}: ${(error as Error).message}`);
      }
      expect(failures, failures.join('\n')).toEqual([]);
    });
  });
}
