import { describe, expect, expectTypeOf, it } from 'vitest';
import { OPS, validateCall } from '../src/backend.js';
import { crossEntropy, logSoftmax, logSoftmaxBackward, SoftmaxError } from '../src/index.js';

/*
 * crossEntropy against computations written here from CE-SPEC's formulas (plain float64, max then
 * sum), not from the kernel: the fused reference must agree with the unfused definition.
 */

interface Spec {
  cols: number;
  ignoreIndex?: number;
  weight?: number[];
  labelSmoothing?: number;
  zLoss?: number;
  softcap?: number;
  temperature?: number;
}

/** log-softmax of one row of s, naively (max, then log Σ exp). */
function naiveLogSoftmax(s: number[]): { logp: number[]; lse: number } {
  const max = Math.max(...s);
  const lse = max + Math.log(s.reduce((a, v) => a + Math.exp(v - max), 0));
  return { logp: s.map((v) => v - lse), lse };
}

/** Per-row loss and d(loss_i)/d(x_j), from the definitions (index targets: t, probabilities: q). */
function naiveRow(x: number[], target: number | number[], o: Spec) {
  const C = o.cols;
  const c = o.softcap ?? 0;
  const T = o.temperature ?? 1;
  const w = o.weight ?? Array(C).fill(1);
  const eps = o.labelSmoothing ?? 0;
  const z = x.map((v) => (c > 0 ? c * Math.tanh(v / c) : v));
  const { logp, lse } = naiveLogSoftmax(z.map((v) => v / T));
  const p = logp.map(Math.exp);
  // The coefficient of −logp_c in the loss.
  const a =
    typeof target === 'number'
      ? w.map((wc, j) => (j === target ? (1 - eps) * wc : 0) + (eps / C) * wc)
      : w.map((wc, j) => wc * ((1 - eps) * target[j] + eps / C));
  const zeta = o.zLoss ?? 0;
  const loss = a.reduce((s, aj, j) => s - aj * logp[j], 0) + zeta * lse * lse;
  const A = a.reduce((s, v) => s + v, 0);
  const grad = x.map((v, j) => {
    const ds = A * p[j] - a[j] + 2 * zeta * lse * p[j];
    const dz = c > 0 ? 1 - Math.tanh(v / c) ** 2 : 1;
    return (ds * dz) / T;
  });
  return { loss, grad, lse };
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string) {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const ok = Number.isFinite(e) ? Math.abs(actual[i] - e) <= tol * (Math.abs(e) + 1) : Object.is(actual[i], e);
    expect(ok, `${label}[${i}]: ${actual[i]}, expected ${e}`).toBe(true);
  }
}

const LOGITS = [0.5, -1.25, 3, 2, 2, -4, 0, 1.5, 1, 1, 1, 1, -2, 7, 0.25, -0.5, 3, 3, -1, 0];
const COLS = 4;
const ROWS = LOGITS.length / COLS;

function failure(call: () => unknown): SoftmaxError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(SoftmaxError);
    return error as SoftmaxError;
  }
  throw new Error('the call did not fail');
}

describe('crossEntropy (core reference)', () => {
  it('worked example: [2, 1, 0.1] with target 0 is log Σ exp − 2, gradient softmax − one-hot', () => {
    const r = crossEntropy(new Float64Array([2, 1, 0.1]), [0], { gradient: true, returnLse: true });
    const lse = Math.log(Math.exp(2) + Math.exp(1) + Math.exp(0.1));
    expect(r.loss).toBeInstanceOf(Float64Array);
    close(r.loss, [lse - 2], 1e-15, 'loss');
    close(r.lse, [lse], 1e-15, 'lse');
    close(r.grad, [Math.exp(2 - lse) - 1, Math.exp(1 - lse), Math.exp(0.1 - lse)], 1e-15, 'grad');
    expect(Object.keys(crossEntropy([2, 1, 0.1], [1]))).toEqual(['loss']);
  });

  const CASES: Array<{ name: string; spec: Omit<Spec, 'cols'>; targets: number[] }> = [
    { name: 'plain', spec: {}, targets: [0, 2, 3, 1, 2] },
    { name: 'ignored rows at start, middle, end', spec: {}, targets: [-100, 2, -100, 1, -100] },
    { name: 'weights', spec: { weight: [0.5, 2, 0, 1.25] }, targets: [0, 1, 2, 3, 1] },
    {
      name: 'smoothing with weights and an ignored row',
      spec: { weight: [0.5, 2, 0.1, 1.25], labelSmoothing: 0.2 },
      targets: [3, -100, 2, 0, 1],
    },
    {
      name: 'z-loss, softcap and temperature',
      spec: { zLoss: 1e-2, softcap: 2.5, temperature: 0.7 },
      targets: [1, 0, 3, 2, 2],
    },
    { name: 'custom ignoreIndex', spec: { ignoreIndex: 3 }, targets: [3, 0, 1, 3, 2] },
  ];

  it.each(CASES)('$name: every reduction against the definitions', ({ spec, targets }) => {
    const o = { cols: COLS, ...spec };
    const ignore = spec.ignoreIndex ?? -100;
    const rows = targets.map((t, i) => {
      const x = LOGITS.slice(i * COLS, i * COLS + COLS);
      return t === ignore ? { loss: 0, grad: [0, 0, 0, 0], ignored: true } : { ...naiveRow(x, t, o), ignored: false };
    });
    const none = crossEntropy(LOGITS, targets, { ...o, reduction: 'none', gradient: true });
    close(
      none.loss,
      rows.map((r) => r.loss),
      1e-13,
      'none',
    );
    close(
      none.grad,
      rows.flatMap((r) => r.grad),
      1e-13,
      'none grad',
    );
    const sum = rows.reduce((s, r) => s + r.loss, 0);
    const sumCall = crossEntropy(LOGITS, targets, { ...o, reduction: 'sum', gradient: true, gradScale: 3 });
    close(sumCall.loss, [sum], 1e-13, 'sum');
    close(
      sumCall.grad,
      rows.flatMap((r) => r.grad.map((g) => 3 * g)),
      1e-13,
      'sum grad',
    );
    // PyTorch's documented mean: Σ loss over rows / Σ_{rows not ignored} weight[target].
    const w = spec.weight ?? [1, 1, 1, 1];
    const D = targets.reduce((s, t) => s + (t === ignore ? 0 : w[t]), 0);
    const mean = crossEntropy(LOGITS, targets, { ...o, gradient: true });
    close(mean.loss, [sum / D], 1e-13, 'mean');
    close(
      mean.grad,
      rows.flatMap((r) => r.grad.map((g) => g / D)),
      1e-13,
      'mean grad',
    );
  });

  it('probability targets (PyTorch: the mean divides by rows), smoothed and weighted', () => {
    const q = [0.25, 0.25, 0.5, 0, 1, 0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0, 0, 0, 1, 0.5, 0, 0.5, 0];
    const spec = { cols: COLS, labelSmoothing: 0.1, weight: [1, 0.5, 2, 0] };
    const rows = Array.from({ length: ROWS }, (_, i) =>
      naiveRow(LOGITS.slice(i * COLS, i * COLS + COLS), q.slice(i * COLS, i * COLS + COLS), spec),
    );
    const r = crossEntropy(Float64Array.from(LOGITS), Float64Array.from(q), { ...spec, gradient: true });
    close(r.loss, [rows.reduce((s, v) => s + v.loss, 0) / ROWS], 1e-13, 'loss');
    close(
      r.grad,
      rows.flatMap((v) => v.grad.map((g) => g / ROWS)),
      1e-13,
      'grad',
    );
    // Float64 probabilities with float32 logits are converted to float32 (the call's type).
    const r32 = crossEntropy(Float32Array.from(LOGITS), Float64Array.from(q), { ...spec, gradient: true });
    expect(r32.loss).toBeInstanceOf(Float32Array);
    expect(r32.grad).toBeInstanceOf(Float32Array);
    close(r32.loss, r.loss, 1e-6, 'float32 loss');
  });

  it('the gradient matches central differences of the loss (every option on)', () => {
    const o = {
      cols: COLS,
      weight: [0.5, 2, 1, 1.25],
      labelSmoothing: 0.15,
      zLoss: 0.05,
      softcap: 4,
      temperature: 1.3,
      gradScale: 2,
    };
    const targets = [1, -100, 3, 0, 2];
    const { grad } = crossEntropy(LOGITS, targets, { ...o, gradient: true });
    const h = 1e-6;
    for (let i = 0; i < LOGITS.length; i++) {
      const up = LOGITS.slice();
      const down = LOGITS.slice();
      up[i] += h;
      down[i] -= h;
      const fd = (2 * (crossEntropy(up, targets, o).loss[0] - crossEntropy(down, targets, o).loss[0])) / (2 * h);
      expect(Math.abs(grad[i] - fd), `element ${i}: ${grad[i]} vs ${fd}`).toBeLessThan(1e-8);
    }
  });

  it('the gradient is the composition logSoftmaxBackward(logSoftmax(x), −one-hot·w) of the existing ops', () => {
    const targets = [2, 0, 1, 3, 1];
    const weight = [1, 3, 0.5, 2];
    const y = logSoftmax(LOGITS, { cols: COLS });
    const dy = new Float64Array(LOGITS.length);
    targets.forEach((t, i) => {
      dy[i * COLS + t] = -weight[t];
    });
    const expected = logSoftmaxBackward(y, dy, { cols: COLS });
    const { grad } = crossEntropy(LOGITS, targets, { cols: COLS, weight, reduction: 'sum', gradient: true });
    close(grad, expected, 1e-15, 'grad');
  });

  it('special values: NaN row, +Infinity sharing, a −Infinity target, a fully masked row, ignored NaN', () => {
    const inf = Number.POSITIVE_INFINITY;
    const x = [1, Number.NaN, 0, inf, inf, 0, inf, -inf, 0, 2, -inf, -inf, -inf, -inf, Number.NaN, 5];
    const r = crossEntropy(x, [0, 0, 2, 1], { cols: 4, reduction: 'none', gradient: true, returnLse: true });
    const rows = crossEntropy(x.slice(0, 12).concat([0, 0, 0, 0]), [0, 0, 2, -100], {
      cols: 4,
      reduction: 'none',
    });
    expect(r.loss[0]).toBeNaN();
    expect(r.lse[0]).toBeNaN();
    expect(Array.from(r.grad.subarray(0, 4)).every(Number.isNaN)).toBe(true);
    // Two +Infinity share the mass: loss log 2, p = [½, 0, ½, 0], lse +Infinity.
    close([r.loss[1]], [Math.LN2], 1e-15, '+Infinity loss');
    expect(r.lse[1]).toBe(inf);
    close(r.grad.subarray(4, 8), [-0.5, 0, 0.5, 0], 1e-15, '+Infinity grad');
    // A −Infinity target logit: +Infinity loss, the finite gradient p − one-hot.
    expect(r.loss[2]).toBe(inf);
    close(r.grad.subarray(8, 12), [1 / (1 + Math.exp(2)), Math.exp(2) / (1 + Math.exp(2)), -1, 0], 1e-15, 'grad');
    // Only −Infinity and NaN in row 3 — NaN; fully masked rows are NaN too.
    expect(r.loss[3]).toBeNaN();
    // One +Infinity row loss makes the sum +Infinity (not the NaN a compensated sum's carry holds).
    expect(crossEntropy(x.slice(4, 12), [0, 2], { cols: 4, reduction: 'sum' }).loss[0]).toBe(inf);
    expect(crossEntropy([-inf, -inf], [0]).loss[0]).toBeNaN();
    expect(crossEntropy([-inf, -inf], [0], { returnLse: true }).lse[0]).toBe(-inf);
    // An ignored row is 0 whatever it holds; its lse is still its log-sum-exp.
    expect(rows.loss[3]).toBe(0);
    const ignoredNaN = crossEntropy([Number.NaN, 1], [-100], { reduction: 'sum', gradient: true, returnLse: true });
    expect(Array.from(ignoredNaN.loss)).toEqual([0]);
    expect(Array.from(ignoredNaN.grad)).toEqual([0, 0]);
    expect(ignoredNaN.lse[0]).toBeNaN();
    // Weight 0 on a −Infinity target: 0·(−Infinity) counts as 0.
    expect(Array.from(crossEntropy([-inf, 0], [0], { weight: [0, 1], reduction: 'sum' }).loss)).toEqual([0]);
    // Smoothing reaches every class: a −Infinity logit with weight > 0 gives +Infinity.
    expect(crossEntropy([-inf, 0, 1], [2], { labelSmoothing: 0.1 }).loss[0]).toBe(inf);
    // Softcap makes infinities finite: c·tanh(±∞) = ±c, and the gradient there is 0.
    const capped = crossEntropy([inf, 0], [1], { softcap: 2, gradient: true });
    close(capped.loss, [Math.log(1 + Math.exp(2))], 1e-15, 'softcap loss');
    expect(capped.grad[0]).toBe(0);
  });

  it('gradient in place writes over the logits and returns them; gradOut is filled and returned', () => {
    const targets = Int32Array.from([0, 2, -100, 1, 3]);
    const expected = crossEntropy(LOGITS, targets, { cols: COLS, gradient: true, zLoss: 0.1 });
    for (const Type of [Float32Array, Float64Array]) {
      const x = Type.from(LOGITS);
      const fresh = crossEntropy(x.slice(), targets, { cols: COLS, gradient: true, zLoss: 0.1 });
      const r = crossEntropy(x, targets, { cols: COLS, gradient: 'in-place', zLoss: 0.1 });
      expect(r.grad).toBe(x);
      expect(Array.from(x)).toEqual(Array.from(fresh.grad));
      expect(Array.from(r.loss)).toEqual(Array.from(fresh.loss));
      const gradOut = new Type(LOGITS.length).fill(9);
      const logits = Type.from(LOGITS);
      const g = crossEntropy(logits, targets, { cols: COLS, gradient: true, gradOut, zLoss: 0.1 });
      expect(g.grad).toBe(gradOut);
      expect(Array.from(gradOut)).toEqual(Array.from(fresh.grad));
      expect(Array.from(logits)).toEqual(Array.from(Type.from(LOGITS)));
      // gradOut may be the logits themselves (the same as 'in-place').
      const same = Type.from(LOGITS);
      expect(crossEntropy(same, targets, { cols: COLS, gradient: true, gradOut: same, zLoss: 0.1 }).grad).toBe(same);
      expect(Array.from(same)).toEqual(Array.from(fresh.grad));
    }
    close(
      expected.grad,
      crossEntropy(Float64Array.from(LOGITS), targets, { cols: COLS, gradient: true, zLoss: 0.1 }).grad,
      0,
      'same',
    );
  });

  it('Uint32Array targets, with an ignoreIndex they can hold', () => {
    const t = Uint32Array.from([0, 0xffffffff, 1, 2, 3]);
    const a = crossEntropy(LOGITS, t, { cols: COLS, ignoreIndex: 0xffffffff, reduction: 'none' });
    const b = crossEntropy(LOGITS, [0, -100, 1, 2, 3], { cols: COLS, reduction: 'none' });
    expect(Array.from(a.loss)).toEqual(Array.from(b.loss));
  });

  it('the kernel-facing call: targets form, the derived D and k, absent outputs as empty arrays', () => {
    const call = validateCall(OPS.crossEntropy, [
      Float32Array.from(LOGITS),
      [1, -100, 2, 0, 3],
      { cols: COLS, weight: [1, 2, 3, 4], gradScale: 6 },
    ]);
    expect(call.forms).toEqual([0, 0]);
    expect(call.inputs[1]).toBeInstanceOf(Int32Array);
    expect(call.params).toEqual({ targets: 'index', normaliser: 2 + 3 + 1 + 4, scale: 0.6 });
    expect(call.present).toEqual([true, false, false]);
    expect(call.outputs[0]).toBeInstanceOf(Float64Array);
    expect(call.outputs[0]).toHaveLength(ROWS);
    expect(call.outputs[1]).toHaveLength(0);
    expect(call.options.weight).toEqual(Float64Array.from([1, 2, 3, 4]));
    const probs = validateCall(OPS.crossEntropy, [
      Float32Array.from(LOGITS),
      new Float64Array(LOGITS.length).fill(0.25),
      { cols: COLS, gradient: 'in-place', returnLse: true, reduction: 'sum' },
    ]);
    expect(probs.forms).toEqual([0, 2]);
    expect(probs.inputs[1]).toBeInstanceOf(Float32Array);
    expect(probs.params).toEqual({ targets: 'probs', normaliser: 1, scale: 1 });
    expect(probs.outputs[1]).toBe(probs.inputs[0]);
    expect(probs.provided).toEqual([false, true, false]);
    expect(probs.outputs[2]).toBeInstanceOf(Float32Array);
  });

  it('an empty batch: sum 0, none empty, mean refused (D = 0)', () => {
    expect(Array.from(crossEntropy(new Float32Array(0), [], { reduction: 'sum' }).loss)).toEqual([0]);
    expect(crossEntropy(new Float32Array(0), [], { reduction: 'none', cols: 3 }).loss).toHaveLength(0);
    expect(failure(() => crossEntropy(new Float32Array(0), [])).code).toBe('INVALID_INPUT');
  });

  const BAD: Array<{ name: string; call: () => unknown; code: string; message: RegExp }> = [
    {
      name: 'a target out of range names its row and value',
      call: () => crossEntropy(LOGITS, [0, 1, 4, 0, 0], { cols: COLS }),
      code: 'INVALID_INPUT',
      message: /targets\[2\] \(row 2\) is 4.*\[0, 4\)/,
    },
    {
      name: 'a negative target that is not ignoreIndex',
      call: () => crossEntropy(LOGITS, Int32Array.from([0, 1, 2, 3, -1]), { cols: COLS }),
      code: 'INVALID_INPUT',
      message: /row 4\) is -1/,
    },
    {
      name: 'a fractional target',
      call: () => crossEntropy(LOGITS, [0, 1.5, 2, 3, 0], { cols: COLS }),
      code: 'INVALID_INPUT',
      message: /targets\[1\].*1\.5/,
    },
    {
      name: 'targets of the wrong length',
      call: () => crossEntropy(LOGITS, [0, 1, 2], { cols: COLS }),
      code: 'INVALID_SHAPE',
      message: /targets\.length must be 5/,
    },
    {
      name: 'targets of the wrong type',
      call: () => crossEntropy(LOGITS, new Uint8Array(5) as never, { cols: COLS }),
      code: 'UNSUPPORTED_DTYPE',
      message:
        /targets must be an Int32Array, Uint32Array, number\[\], Float32Array or Float64Array, got Uint8Array\(5\)/,
    },
    {
      name: 'targets that are not an array',
      call: () => crossEntropy(LOGITS, 'cat' as never, { cols: COLS }),
      code: 'INVALID_INPUT',
      message: /targets must be/,
    },
    {
      name: 'probability targets of the wrong shape',
      call: () => crossEntropy(Float64Array.from(LOGITS), new Float64Array(8).fill(0.25), { cols: COLS }),
      code: 'INVALID_SHAPE',
      message: /logits and targets must have the same length/,
    },
    {
      name: 'probability rows that do not sum to 1',
      call: () => crossEntropy([1, 2, 3, 4], new Float64Array([0.5, 0.5, 0.75, 0.75]), { cols: 2 }),
      code: 'INVALID_INPUT',
      message: /targets row 1 sums to 1\.5/,
    },
    {
      name: 'a negative or NaN probability',
      call: () => crossEntropy([1, 2], new Float64Array([1.5, -0.5])),
      code: 'INVALID_INPUT',
      message: /targets\[0\] \(row 0, class 0\) is 1\.5/,
    },
    {
      name: 'labelSmoothing 1',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, labelSmoothing: 1 }),
      code: 'INVALID_OPTION',
      message: /options\.labelSmoothing must be a number in \[0, 1\), got 1/,
    },
    {
      name: 'weight of the wrong length',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, weight: [1, 2, 3] }),
      code: 'INVALID_OPTION',
      message: /options\.weight must be of length cols \(4\)/,
    },
    {
      name: 'a negative weight',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, weight: new Float32Array([1, -2, 3, 4]) }),
      code: 'INVALID_OPTION',
      message: /options\.weight\[1\] must be a finite number ≥ 0, got -2/,
    },
    {
      name: 'a non-finite weight',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, weight: [1, 2, Number.NaN, 4] }),
      code: 'INVALID_OPTION',
      message: /options\.weight\[2\].*NaN/,
    },
    {
      name: 'every row ignored with mean',
      call: () => crossEntropy(LOGITS, [-100, -100, -100, -100, -100], { cols: COLS }),
      code: 'INVALID_INPUT',
      message: /targets: every row is ignored.*'sum'/,
    },
    {
      name: 'every target weight 0 with mean',
      call: () => crossEntropy(LOGITS, [0, 0, -100, 0, 0], { cols: COLS, weight: [0, 1, 1, 1] }),
      code: 'INVALID_INPUT',
      message: /targets: every row is ignored or has weight 0/,
    },
    {
      name: 'an unknown reduction',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, reduction: 'avg' as never }),
      code: 'INVALID_OPTION',
      message: /options\.reduction/,
    },
    {
      name: 'a negative zLoss',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, zLoss: -1 }),
      code: 'INVALID_OPTION',
      message: /options\.zLoss must be a finite number ≥ 0, got -1/,
    },
    {
      name: 'a negative softcap',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, softcap: -3 }),
      code: 'INVALID_OPTION',
      message: /options\.softcap/,
    },
    {
      name: 'an infinite gradScale',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, gradScale: Number.POSITIVE_INFINITY }),
      code: 'INVALID_OPTION',
      message: /options\.gradScale must be a finite number/,
    },
    {
      name: 'a fractional ignoreIndex',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, ignoreIndex: 0.5 }),
      code: 'INVALID_OPTION',
      message: /options\.ignoreIndex/,
    },
    {
      name: "gradient 'yes'",
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, gradient: 'yes' as never }),
      code: 'INVALID_OPTION',
      message: /options\.gradient must be true, false or 'in-place'/,
    },
    {
      name: 'gradOut without gradient: true',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, gradOut: new Float64Array(20) }),
      code: 'INVALID_OPTION',
      message: /options\.gradOut is given, but this call does not compute grad \(options\.gradient\)/,
    },
    {
      name: "gradOut with gradient 'in-place'",
      call: () =>
        crossEntropy(Float64Array.from(LOGITS), [0, 1, 2, 3, 0], {
          cols: COLS,
          gradient: 'in-place',
          gradOut: new Float64Array(20),
        }),
      code: 'INVALID_OPTION',
      message: /writes grad in place/,
    },
    {
      name: "'in-place' on number[] logits",
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, gradient: 'in-place' }),
      code: 'INVALID_OPTION',
      message:
        /writes grad in place over logits \(options\.gradient\), so logits must be a Float64Array, got Array\(20\)/,
    },
    {
      name: 'gradOut of the wrong type',
      call: () =>
        crossEntropy(Float32Array.from(LOGITS), [0, 1, 2, 3, 0], {
          cols: COLS,
          gradient: true,
          gradOut: new Float64Array(20),
        }),
      code: 'INVALID_OPTION',
      message: /options\.gradOut must be a Float32Array/,
    },
    {
      name: 'gradOut over the probability targets',
      call: () => {
        const q = new Float64Array(4).fill(0.5);
        return crossEntropy(new Float64Array(4), q, { cols: 2, gradient: true, gradOut: q });
      },
      code: 'INVALID_OPTION',
      message: /options\.gradOut shares memory with targets/,
    },
    {
      name: 'an unknown option',
      call: () => crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, ignore_index: 3 } as never),
      code: 'INVALID_OPTION',
      message: /options\.ignore_index is not a known option/,
    },
  ];

  it.each(BAD)('$name → $code', ({ call, code, message }) => {
    const error = failure(call);
    expect(error.code, error.message).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('never modifies its arguments unless asked to write in place', () => {
    const x = Float32Array.from(LOGITS);
    const t = Int32Array.from([0, 1, -100, 3, 2]);
    const weight = [1, 2, 3, 4];
    crossEntropy(x, t, { cols: COLS, gradient: true, weight, labelSmoothing: 0.1, returnLse: true });
    failure(() => crossEntropy(x, Int32Array.from([0, 1, 9, 3, 2]), { cols: COLS, gradient: 'in-place' }));
    expect(Array.from(x)).toEqual(Array.from(Float32Array.from(LOGITS)));
    expect(Array.from(t)).toEqual([0, 1, -100, 3, 2]);
    expect(weight).toEqual([1, 2, 3, 4]);
  });

  it('a number[] weight is read once, while the options are read (a Proxy cannot change it later)', () => {
    let reads = 0;
    const weight = new Proxy([1, 2, 3, 4], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver);
      },
    });
    const a = crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, weight, reduction: 'sum' });
    expect(reads).toBe(4);
    close(
      a.loss,
      crossEntropy(LOGITS, [0, 1, 2, 3, 0], { cols: COLS, weight: [1, 2, 3, 4], reduction: 'sum' }).loss,
      0,
      'w',
    );
  });

  it('types: grad and lse are present exactly when the options ask for them', () => {
    const x = new Float32Array(4);
    expectTypeOf(crossEntropy(x, [0]).loss).toEqualTypeOf<Float32Array>();
    expectTypeOf(crossEntropy(x, [0]).grad).toEqualTypeOf<undefined>();
    expectTypeOf(crossEntropy(x, [0], { gradient: true }).grad).toEqualTypeOf<Float32Array>();
    expectTypeOf(crossEntropy(x, [0], { gradient: 'in-place', returnLse: true }).lse).toEqualTypeOf<Float32Array>();
    expectTypeOf(crossEntropy([1, 2], [0], { gradient: true }).grad).toEqualTypeOf<Float64Array>();
    const options: { gradient?: boolean } = {};
    expectTypeOf(crossEntropy(x, [0], options).grad).toEqualTypeOf<Float32Array | undefined>();
  });
});
