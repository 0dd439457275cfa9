import { sampleUniform } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { chiSquare, gammaQ } from '../src/chi-square.js';
import { oracleDraw, oracleSample } from '../src/oracle-sample.js';
import { oraclePhilox4x32, oracleUniform } from '../src/philox-oracle.js';
import { SAMPLE_COMBOS, SAMPLE_PATTERNS, sampleCase } from '../src/vectors-sample.js';

/*
 * Philox4x32 known answers: the "philox4x32" lines of Random123's kat_vectors file (D. E. Shaw
 * Research), as reproduced in DEShawResearch/Random123-Boost, libs/random/test/test_philox.cpp
 * (commit 916db91ae4c6fd8324ef054a518851321ab41f91). Rounds, counter, key, expected.
 */
const KAT = `
7  00000000 00000000 00000000 00000000  00000000 00000000  5f6fb709 0d893f64 4f121f81 4f730a48
7  ffffffff ffffffff ffffffff ffffffff  ffffffff ffffffff  5207ddc2 45165e59 4d8ee751 8c52f662
7  243f6a88 85a308d3 13198a2e 03707344  a4093822 299f31d0  4dfccaba 190a87f0 c47362ba b6b5242a
10 00000000 00000000 00000000 00000000  00000000 00000000  6627e8d5 e169c58d bc57ac4c 9b00dbd8
10 ffffffff ffffffff ffffffff ffffffff  ffffffff ffffffff  408f276d 41c83b0e a20bc7c6 6d5451fd
10 243f6a88 85a308d3 13198a2e 03707344  a4093822 299f31d0  d16cfe09 94fdcceb 5001e420 24126ea1
`
  .trim()
  .split('\n')
  .map((line) => {
    const [rounds, ...w] = line.trim().split(/\s+/);
    const words = w.map((h) => Number.parseInt(h, 16));
    return { rounds: Number(rounds), counter: words.slice(0, 4), key: words.slice(4, 6), expected: words.slice(6) };
  });

describe('the BigInt Philox oracle', () => {
  it.each(KAT)('Random123 known answer: $rounds rounds, counter $counter', (v) => {
    expect(oraclePhilox4x32(v.counter, v.key, v.rounds)).toEqual(v.expected);
  });

  it('agrees with core’s 32-bit implementation of u on 2,000 (seed, row, step)', () => {
    for (let i = 0; i < 2000; i++) {
      const seed = (i * 0x9e3779b1 * 4096 + i) % 2 ** 53;
      const row = (i * 2654435761) % 2 ** 32;
      const step = (i * 40503 * 1e6) % 2 ** 53;
      expect(sampleUniform(seed, row, step), `${seed}, ${row}, ${step}`).toBe(oracleUniform(seed, row, step));
    }
  });
});

describe('the chi-square p-value', () => {
  // Published quantiles: χ²(1) 0.95 = 3.841459; χ²(10) 0.95 = 18.307038; χ²(63) 0.999 ≈ 103.44.
  it.each([
    [1, 3.841459, 0.05],
    [10, 18.307038, 0.05],
    [4, 13.276704, 0.01],
    [30, 59.703058, 0.001],
  ])('df %i, χ² %f → p %f', (df, x, p) => {
    expect(gammaQ(df / 2, x / 2)).toBeCloseTo(p, 6);
  });

  it('pools bins expected below 5 and counts the degrees of freedom', () => {
    const test = chiSquare([50, 30, 15, 3, 2], [0.5, 0.3, 0.15, 0.03, 0.02], 100);
    expect(test.bins).toEqual([
      [50, 50],
      [30, 30],
      [15, 15],
      [5, 5],
    ]);
    expect(test.df).toBe(3);
    expect(test.p).toBeCloseTo(1, 12);
  });
});

describe('the sampling oracle', () => {
  it('hand rows: top-k ties, top-p ties at the cut, min-p, the draw’s boundaries', () => {
    const ln = Math.log;
    expect(oracleSample([1, 3, 3, 2, 3, 0], { topK: 2 }).kept).toEqual([1, 2, 4]);
    const p = [0.1, 0.4, 0.2, 0.2, 0.1].map(ln);
    expect(oracleSample(p, { topP: 0.5 }).kept).toEqual([1, 2, 3]);
    expect(oracleSample(p, { topP: 0.35 }).kept).toEqual([1]);
    expect(oracleSample(p, { minP: 0.45 }).kept).toEqual([1, 2, 3]);
    expect(oracleSample([0.4, 0.3, 0.2, 0.1].map(ln), { topK: 2, topP: 0.5 }).kept).toEqual([0]);
    const o = oracleSample([0.5, 0.25, 0.25].map(ln), {});
    expect(oracleDraw(o, 0.49)).toEqual({ token: 0, margin: expect.closeTo(0.01, 12), neighbour: 1 });
    expect(oracleDraw(o, 0.76).token).toBe(2);
    expect(oracleSample([1, Number.NaN], {}).status).toBe('nan');
    expect(oracleSample([Number.NaN, 1], { mask: [0b10] }).kept).toEqual([1]);
    expect(oracleSample([-Infinity, -Infinity], {}).status).toBe('empty');
    expect(oracleSample([Infinity, 0, Infinity], { temperature: 0 }).kept).toEqual([0]);
  });

  it('every (pattern, options) case has a well-posed row in float32 and float64', () => {
    const f32 = (v: number[]) => Array.from(Float32Array.from(v));
    for (const pattern of SAMPLE_PATTERNS) {
      for (const combo of SAMPLE_COMBOS) {
        expect(() => sampleCase(pattern, combo)).not.toThrow();
        expect(() => sampleCase(pattern, combo, f32)).not.toThrow();
      }
    }
  });
});
