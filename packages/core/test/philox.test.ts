import { describe, expect, it } from 'vitest';
import { mulhi32, philox4x32, sampleCounter, sampleKey, sampleUniform } from '../src/random/philox.js';
import { PHILOX4X32_KAT, parseKat } from './vectors/philox-kat.js';

const hex = (words: ArrayLike<number>) => Array.from(words, (w) => w.toString(16).padStart(8, '0')).join(' ');

describe('Philox4x32', () => {
  it.each(parseKat(PHILOX4X32_KAT))('Random123 known answer: $rounds rounds, counter $counter', (v) => {
    expect(hex(philox4x32(v.counter, v.key, v.rounds))).toBe(hex(v.expected));
  });

  it('mulhi32 is the high word of the exact 64-bit product (BigInt), on edge and random words', () => {
    const words = [0, 1, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0xd2511f53, 0xcd9e8d57];
    let s = 0x12345678;
    for (let i = 0; i < 200; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      words.push(s);
    }
    for (const a of words) {
      for (const b of words.slice(0, 40)) {
        expect(mulhi32(a, b), `${a} × ${b}`).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
      }
    }
  });
});

describe("sample's u: the counter layout", () => {
  // Built here word by word from the spec (README): key (seed mod 2^32, ⌊seed / 2^32⌋),
  // counter (row, step mod 2^32, ⌊step / 2^32⌋, 0), u = (x0 >>> 8) · 2^-24.
  const cases = [
    { seed: 0, row: 0, step: 0 },
    { seed: 42, row: 3, step: 17 },
    { seed: 2 ** 53 - 1, row: 2 ** 32 - 1, step: 2 ** 53 - 1 },
    { seed: 0x1234_5678_9abc, row: 65_537, step: 0xdead_beef_01 },
  ];
  it.each(cases)('seed $seed, row $row, step $step', ({ seed, row, step }) => {
    const key = [Number(BigInt(seed) & 0xffffffffn), Number(BigInt(seed) >> 32n)];
    const counter = [row, Number(BigInt(step) & 0xffffffffn), Number(BigInt(step) >> 32n), 0];
    expect(sampleKey(seed)).toEqual(key);
    expect(sampleCounter(row, step)).toEqual(counter);
    const x0 = philox4x32(counter, key)[0];
    const u = sampleUniform(seed, row, step);
    expect(u).toBe(Math.floor(x0 / 256) / 2 ** 24);
    expect(Math.fround(u), 'u is exactly a float32').toBe(u);
    expect(u >= 0 && u < 1).toBe(true);
  });

  it('the key takes all 53 bits of the seed and the counter all 53 of the step', () => {
    const base = sampleUniform(7, 0, 9);
    expect(sampleUniform(7 + 2 ** 52, 0, 9)).not.toBe(base);
    expect(sampleUniform(7, 0, 9 + 2 ** 52)).not.toBe(base);
    expect(sampleUniform(7, 1, 9)).not.toBe(base);
  });

  it('u is uniform on [0, 1): 65,536 rows in 64 bins (chi-square, p > 0.001)', () => {
    const bins = new Float64Array(64);
    const n = 65_536;
    for (let row = 0; row < n; row++) bins[Math.floor(sampleUniform(12345, row, 0) * 64)]++;
    const expected = n / 64;
    let chi2 = 0;
    for (const b of bins) chi2 += (b - expected) ** 2 / expected;
    // The 0.999 quantile of chi-square with 63 degrees of freedom is 103.4.
    expect(chi2).toBeLessThan(103.4);
  });
});
