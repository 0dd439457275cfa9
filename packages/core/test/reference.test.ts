import { describe, expect, it } from 'vitest';
import { logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from '../src/index.js';

const inf = Number.POSITIVE_INFINITY;
const NaN3 = [Number.NaN, Number.NaN, Number.NaN];

/** |a − b| in units of float64's spacing at b. */
function ulps(a: number, b: number): number {
  return Math.abs(a - b) / (Number.EPSILON * 2 ** Math.floor(Math.log2(Math.abs(b))));
}

describe('reference kernels', () => {
  it("give the worked example within 1 ulp of the issue's figures", () => {
    const figures = [0.6590011388859679, 0.2424329707047139, 0.09856589040931818];
    const y = softmax([2, 1, 0.1]);
    expect(y).toBeInstanceOf(Float64Array);
    figures.forEach((f, j) => {
      expect(ulps(y[j], f)).toBeLessThanOrEqual(1);
    });
    const y32 = softmax(new Float32Array([2, 1, 0.1]));
    expect(y32).toBeInstanceOf(Float32Array);
    figures.forEach((f, j) => {
      expect(Math.abs(y32[j] - f) / f).toBeLessThan(2 ** -23);
    });
  });

  /** [rule, x, options, softmax, logSoftmax]: hand-written from the rules in reference.ts. */
  const RULES: [string, number[], object, number[], number[]][] = [
    ['NaN anywhere makes the row NaN', [1, Number.NaN, inf], {}, NaN3, NaN3],
    ['k = 1 +Infinity takes all', [inf, 5, -inf], {}, [1, 0, 0], [0, -inf, -inf]],
    ['k = 2 +Infinity share 1/2', [inf, 5, inf], {}, [0.5, 0, 0.5], [-Math.LN2, -inf, -Math.LN2]],
    [
      'k = 4 +Infinity share 1/4',
      [inf, inf, inf, inf],
      { temperature: 7 },
      [0.25, 0.25, 0.25, 0.25],
      Array(4).fill(-Math.log(4)),
    ],
    ['-Infinity → 0', [-inf, 0, 0], {}, [0, 0.5, 0.5], [-inf, -Math.LN2, -Math.LN2]],
    ['fully masked, default nan', [-inf, -inf, -inf], {}, NaN3, NaN3],
    ["fully masked, 'zero'", [-inf, -inf, -inf], { fullyMasked: 'zero' }, [0, 0, 0], [-inf, -inf, -inf]],
    ['empty', [], {}, [], []],
    ['empty with cols', [], { cols: 3 }, [], []],
    [
      'rows are independent',
      [Number.NaN, 1, -inf, -inf, 3, 3],
      { cols: 2, fullyMasked: 'zero' },
      [Number.NaN, Number.NaN, 0, 0, 0.5, 0.5],
      [Number.NaN, Number.NaN, -inf, -inf, -Math.LN2, -Math.LN2],
    ],
  ];

  it.each(RULES)('%s', (_, x, options, expectedSoftmax, expectedLog) => {
    for (const Type of [Float64Array, Float32Array]) {
      const input = Type.from(x);
      const round = Type === Float32Array ? Math.fround : (v: number) => v;
      // ±0 compare equal (the sign of a zero log-probability is not part of the rules).
      const plain = (a: ArrayLike<number>) => Array.from(a, (v) => (v === 0 ? 0 : v));
      expect(plain(softmax(input, options))).toEqual(plain(expectedSoftmax.map(round)));
      expect(plain(logSoftmax(input, options))).toEqual(plain(expectedLog.map(round)));
    }
  });

  it('keeps log-softmax entries near 0 relatively accurate (log1p of the rest)', () => {
    const y = logSoftmax([0, -40]);
    const expected = -Math.log1p(Math.exp(-40)); // ≈ −4.25e-18, which log(1 + rest) would round to 0
    expect(Math.abs(y[0] - expected) / Math.abs(expected)).toBeLessThan(4 * Number.EPSILON);
    expect(y[1]).toBeCloseTo(-40, 14);
  });

  it('does not round x − max where exp(x − max) is tiny but normal (issue #9)', () => {
    // Exact value from a 60-digit decimal computation (Python decimal) of exp(d)/(1 + exp(d)),
    // d = x1 − x0 = −670.960616893582312059… exactly; rounding d alone costs 5.7e-14 relative.
    const y = softmax([4.459351023873012, -666.5012658697093]);
    expect(ulps(y[1], 4.031869889096316e-292)).toBeLessThanOrEqual(2);
    expect(y[0]).toBe(1);
    // With a temperature, the division's rounding as well (plainly rounded, 1.9e-15 off here).
    const t = softmax([0, -1808.1234567891233], { temperature: 2.7 });
    expect(ulps(t[1], 1.4577697436157795e-291)).toBeLessThanOrEqual(2);
  });

  it('keeps the bits of a subnormal y·(dy − Σ dy·y) that a tiny temperature brings back', () => {
    // Exact values from rational arithmetic (Python fractions), each rounded once.
    const dx = softmaxBackward([0.75, 3e-320, 0.25], [1, -3, 0.1], { temperature: 1e-300 });
    expect(Array.from(dx)).toEqual([1.6875e299, -1.1324873920843885e-19, -1.6875e299]);
  });

  it('divides by the temperature: softmax([0, 2 ln 3], T = 2) = [1/4, 3/4]', () => {
    const y = softmax([0, 2 * Math.log(3)], { temperature: 2 });
    expect(ulps(y[0], 0.25)).toBeLessThanOrEqual(2);
    expect(ulps(y[1], 0.75)).toBeLessThanOrEqual(2);
  });

  it('sums a 1,000,000-element row without drift', () => {
    const y = softmax(new Float64Array(1_000_000).fill(3.5));
    expect(y.every((v) => v === 1e-6)).toBe(true);
  });

  it('computes both gradients (exact small cases)', () => {
    // Σ dy·y = 0.5 → dx = y (dy − 0.5) / T.
    expect(Array.from(softmaxBackward([0.5, 0.5], [1, 0]))).toEqual([0.25, -0.25]);
    expect(Array.from(softmaxBackward([0.5, 0.5], [1, 0], { temperature: 2 }))).toEqual([0.125, -0.125]);
    // exp(y) = [1/4, 3/4], Σ dy = 2 → dx = dy − 2·exp(y).
    const y = [Math.log(0.25), Math.log(0.75)];
    const dx = logSoftmaxBackward(y, [1, 1]);
    expect(dx[0]).toBeCloseTo(0.5, 15);
    expect(dx[1]).toBeCloseTo(-0.5, 15);
    // A masked entry (y = −Infinity, exp(y) = 0) passes its dy through; Σ dy = 4.
    expect(Array.from(logSoftmaxBackward([-inf, 0], [3, 1]))).toEqual([3, 1 - 4]);
  });
});

describe('huge logits of opposite signs', () => {
  it('never overflow the difference or its error term (x = [MAX, −MAX, 5.87e307] at T = 4.5e307)', () => {
    const M = Number.MAX_VALUE;
    const x = [M, -M, 5.86664288485667e307];
    const T = 4.5e307;
    // Exact in the limit: z_j = (x_j − M)/T; softmax = exp(z)/Σexp(z), each term well inside the range.
    const z = x.map((v) => v / T - M / T);
    const e = z.map(Math.exp);
    const sum = e.reduce((a, b) => a + b, 0);
    const y = softmax(x, { temperature: T });
    y.forEach((v, j) => {
      expect(Math.abs(v - e[j] / sum) / (e[j] / sum)).toBeLessThan(1e-13);
    });
    expect(logSoftmax(x, { temperature: T }).every(Number.isFinite)).toBe(true);
  });
});
