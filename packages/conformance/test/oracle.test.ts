import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exp, log, log1p, R } from '../src/dd.js';
import { ulpDistance } from '../src/dtypes.js';
import {
  oracleLogSoftmax,
  oracleLogSoftmaxBackward,
  oracleLogSumExp,
  oracleSoftmax,
  oracleSoftmaxBackward,
} from '../src/oracle.js';
import { WORKED_EXAMPLE } from '../src/vectors.js';
import { exactRow, expFixed, fromFixed, logFixed, toFixed } from './exact.js';

/** Published double-double constants (QD library): e, ln 10. */
const E = [Math.E, 1.4456468917292502e-16];
const LN10 = [Math.LN10, -2.1707562233822494e-16];

describe('double-double primitives', () => {
  it('exp(1) and log(10) match the published double-double constants', () => {
    exp(1, 0);
    expect(R.h).toBe(E[0]);
    expect(Math.abs(R.l - E[1])).toBeLessThan(1e-31);
    log(10, 0);
    expect(R.h).toBe(LN10[0]);
    expect(Math.abs(R.l - LN10[1])).toBeLessThan(1e-31);
  });

  it('exp and log1p agree with a 1400-bit BigInt computation to ~2^-100', () => {
    fc.assert(
      fc.property(fc.double({ min: -700, max: 700, noNaN: true }), (z) => {
        exp(z, 0);
        const exact = expFixed(toFixed(z));
        const err = Math.abs(fromFixed(exact - toFixed(R.h) - toFixed(R.l)) / R.h);
        expect(err).toBeLessThan(2 ** -98);
      }),
      { numRuns: 60 },
    );
    fc.assert(
      fc.property(fc.double({ min: 1e-30, max: 1e6, noNaN: true }), (u) => {
        log1p(u, 0);
        const exact = logFixed(toFixed(1) + toFixed(u));
        const err = Math.abs(fromFixed(exact - toFixed(R.h) - toFixed(R.l)) / R.h);
        expect(err).toBeLessThan(2 ** -98);
      }),
      { numRuns: 60 },
    );
  });
});

describe('oracle', () => {
  it("gives the worked example [2, 1, 0.1] within 1 ulp of the issue's figures, and correctly rounded", () => {
    const y = oracleSoftmax(WORKED_EXAMPLE.x);
    for (let j = 0; j < 3; j++) expect(ulpDistance(y[j], WORKED_EXAMPLE.softmax[j])).toBeLessThanOrEqual(1);
    expect(Array.from(y)).toEqual(exactRow([...WORKED_EXAMPLE.x]).softmax);
  });

  it('is correctly rounded to float64 and float32 on random rows (against BigInt)', () => {
    const row = fc.array(fc.double({ min: -60, max: 60, noNaN: true }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(row, fc.constantFrom(1, 0.3, 7), (x, temperature) => {
        const exact = exactRow(x, temperature);
        expect(Array.from(oracleSoftmax(x, { temperature }))).toEqual(exact.softmax);
        expect(Array.from(oracleLogSoftmax(x, { temperature }))).toEqual(exact.logSoftmax);
        const x32 = Float32Array.from(x);
        const exact32 = exactRow(Array.from(x32), temperature);
        const y32 = oracleSoftmax(x32, { temperature });
        // fround of the float64 rounding can differ from one rounding only at a float32 midpoint.
        for (let j = 0; j < x.length; j++) expect(ulpDistance(y32[j], exact32.softmax[j], 'float32')).toBe(0);
      }),
      { numRuns: 80 },
    );
  });

  it('gives log-sum-exp of a row of ±0 as +0 (log 1), and of a tiny negative max/T as −0', () => {
    // fast-check once found [−0]: the oracle kept max's sign where the exact value is log 1 = +0.
    expect(Object.is(oracleLogSumExp([-0])[0], 0)).toBe(true);
    expect(Object.is(oracleLogSumExp([-0, -0], { cols: 1, temperature: 7 })[1], 0)).toBe(true);
    expect(Object.is(oracleLogSumExp([-1e-320], { temperature: 1e10 })[0], -0)).toBe(true);
  });

  it('gives log-sum-exp correctly rounded (against BigInt), and its special values', () => {
    const row = fc.array(fc.double({ min: -60, max: 60, noNaN: true }), { minLength: 1, maxLength: 6 });
    fc.assert(
      fc.property(row, fc.constantFrom(1, 0.3, 7), (x, temperature) => {
        expect(oracleLogSumExp(x, { temperature })[0]).toBe(exactRow(x, temperature).logSumExp);
      }),
      { numRuns: 80 },
    );
    const rows = [Number.NaN, 1, 1, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY];
    expect(Array.from(oracleLogSumExp(rows, { cols: 2 }))).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
    // One logit: the result is x/T itself, a zero's sign included (fast-check found −5e-324 at T = 7).
    expect(oracleLogSumExp([-5e-324], { temperature: 7 })[0]).toBe(exactRow([-5e-324], 7).logSumExp);
    expect(Object.is(oracleLogSumExp([-5e-324], { temperature: 7 })[0], -0)).toBe(true);
    // Two equal maxima: log 2 exactly rounded; a huge logit at T = 1e-300 overflows as the true value does.
    expect(oracleLogSumExp([5, 5])[0]).toBe(exactRow([5, 5]).logSumExp);
    expect(oracleLogSumExp([1e10, 0], { temperature: 1e-300 })[0]).toBe(Number.POSITIVE_INFINITY);
    expect(oracleLogSumExp(new Float32Array([3, 1]))).toBeInstanceOf(Float32Array);
  });

  it('is correctly rounded at extreme temperatures, where the division under- or overflows (against BigInt)', () => {
    // Logits are multiples of T, so z = x/T is moderate while x and T are subnormal or huge.
    const max = Number.MAX_VALUE;
    const cases: [number[], number][] = [
      [[3 * 5e-324, 0, -5 * 5e-324, -700 * 5e-324], Number.MIN_VALUE],
      [[1e-310, 0, -2.5e-310, -6.7e-308], 1e-310],
      [[1e-300, -3e-300, -1.2345e-298], 1e-300],
      [[1e300, 0, -7.5e301], 1e300],
      [[max, 0, -max / 2, -max], max],
      [[1, -0.75, 0.3], max],
    ];
    for (const [x, temperature] of cases) {
      const exact = exactRow(x, temperature);
      expect(Array.from(oracleSoftmax(x, { temperature })), `softmax T=${temperature}`).toEqual(exact.softmax);
      expect(Array.from(oracleLogSoftmax(x, { temperature })), `log T=${temperature}`).toEqual(exact.logSoftmax);
    }
  });

  it('divides the gradients by extreme temperatures exactly (against BigInt)', () => {
    const fixed = (v: number) => toFixed(v);
    const one = toFixed(1);
    const temperatures = [Number.MIN_VALUE, 1e-310, 1e-30, 1e30, 1e300, Number.MAX_VALUE];
    // The second y has subnormal entries: y_j·(dy_j − s) is subnormal, y_j·(dy_j − s)/T need not be.
    for (const [y, dy, temperature] of temperatures.flatMap((t) => [
      [[0.5, 0.25, 0.125, 0.125], [1e20, -3, 0.1, 7], t] as const,
      [[0.75, 3e-320, 0.25, 1e-310], [1, -3, 0.1, 7], t] as const,
    ])) {
      const t = fixed(temperature);
      const dot = y.reduce((s, v, j) => s + (fixed(dy[j]) * fixed(v)) / one, 0n);
      const softmaxExact = y.map((v, j) => fromFixed(((((fixed(dy[j]) - dot) * fixed(v)) / one) * one) / t));
      // Results that underflow to zero are compared without their sign (the fixed point has none).
      const unsigned = (a: ArrayLike<number>) => Array.from(a, (v) => (v === 0 ? 0 : v));
      expect(unsigned(oracleSoftmaxBackward(y, dy, { temperature })), `T=${temperature}`).toEqual(
        unsigned(softmaxExact),
      );
      const logY = [-1, -2.5, -0.1, -40];
      const total = dy.reduce((s, v) => s + fixed(v), 0n);
      const logExact = logY.map((v, j) => fromFixed(((fixed(dy[j]) - (expFixed(fixed(v)) * total) / one) * one) / t));
      expect(unsigned(oracleLogSoftmaxBackward(logY, dy, { temperature })), `log T=${temperature}`).toEqual(
        unsigned(logExact),
      );
    }
  });

  it('keeps relative precision for log-softmax entries near 0 and for tiny probabilities', () => {
    const cases = [
      [0, -40],
      [0, -36.7],
      [0, -745, -1],
      [5, -700],
      [1, 1, -30],
    ];
    for (const x of cases) {
      const exact = exactRow(x);
      expect(Array.from(oracleLogSoftmax(x))).toEqual(exact.logSoftmax);
      expect(Array.from(oracleSoftmax(x))).toEqual(exact.softmax);
    }
  });

  it('backward oracles match finite differences of the forward oracle', () => {
    const x = [0.3, -1.2, 2.5, 0.7, -0.4];
    const dy = [0.5, -0.25, 1, 0.125, -2];
    const h = 1e-6;
    for (const [forward, backward, useLog] of [
      [oracleSoftmax, oracleSoftmaxBackward, false],
      [oracleLogSoftmax, oracleLogSoftmaxBackward, true],
    ] as const) {
      for (const temperature of [1, 0.5, 3]) {
        const y = forward(x, { temperature });
        const dx = backward(y, dy, { temperature });
        for (let j = 0; j < x.length; j++) {
          const plus = forward(
            x.map((v, i) => (i === j ? v + h : v)),
            { temperature },
          );
          const minus = forward(
            x.map((v, i) => (i === j ? v - h : v)),
            { temperature },
          );
          let fd = 0;
          for (let i = 0; i < x.length; i++) fd += (dy[i] * (plus[i] - minus[i])) / (2 * h);
          expect(Math.abs(fd - dx[j]), `${useLog ? 'log' : ''} T=${temperature} j=${j}`).toBeLessThan(1e-8);
        }
      }
    }
  });

  it('follows the special-value rules', () => {
    const inf = Number.POSITIVE_INFINITY;
    expect(Array.from(oracleSoftmax([inf, 1, inf, -inf]))).toEqual([0.5, 0, 0.5, 0]);
    expect(Array.from(oracleLogSoftmax([inf, 1, inf]))).toEqual([-Math.LN2, -inf, -Math.LN2]);
    expect(Array.from(oracleSoftmax([1, Number.NaN, inf]))).toEqual([Number.NaN, Number.NaN, Number.NaN]);
    expect(Array.from(oracleSoftmax([-inf, -inf]))).toEqual([Number.NaN, Number.NaN]);
    expect(Array.from(oracleSoftmax([-inf, -inf], { fullyMasked: 'zero' }))).toEqual([0, 0]);
    expect(Array.from(oracleLogSoftmax([-inf, -inf], { fullyMasked: 'zero' }))).toEqual([-inf, -inf]);
    expect(Array.from(oracleLogSoftmax([-inf, 0]))).toEqual([-inf, 0]);
    // x − max overflows float64 (float32) here, but the true z = −3.4e307 (−6.8e37) is finite.
    expect(Array.from(oracleLogSoftmax([1.7e308, -1.7e308], { temperature: 10 }))).toEqual([0, -3.4e307]);
    const f32 = Float32Array.from([3.4e38, -3.4e38]);
    expect(Array.from(oracleLogSoftmax(f32, { temperature: 10 }))).toEqual([0, Math.fround((-2 * f32[0]) / 10)]);
  });

  it('computes 1 × 1,000,000 in about a second', () => {
    const x = new Float32Array(1_000_000).map((_, i) => Math.sin(i) * 20);
    const start = performance.now();
    const y = oracleSoftmax(x);
    const elapsed = performance.now() - start;
    expect(y.length).toBe(x.length);
    expect(elapsed).toBeLessThan(5000);
  });
});
