import { type SampleRowOptions, sampleDraw, sampleKeep, sampleUniform } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { everyBuild, expectSame, SAMPLE_MARGIN, thrown } from './helpers.js';

// sample on each build (SIMD, scalar, threads) at vocabulary sizes, against @softmax/core's
// float64 full-sort helpers (sampleKeep: the kept set and its margins; sampleDraw: the token for a
// given u and how far u is from a boundary). The conformance suite covers the small rows; here the
// paths a long row takes (block bounds, histogram cut, the draw by blocks) and the threads.

const backends = await everyBuild();

/** How close a decision may come before the backend may decide otherwise (see the contract's comment). */
const MARGIN = SAMPLE_MARGIN.float32;

/** Deterministic N(0, scale) float32 logits. */
function normalRow(n: number, seed: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  for (let i = 0; i < n; i++) out[i] = scale * Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
  return out;
}

const repeat = (row: Float32Array, rows: number) => {
  const x = new Float32Array(rows * row.length);
  for (let i = 0; i < rows; i++) x.set(row, i * row.length);
  return x;
};

/** The filters: the options a row and a call spell alike. */
type Filters = Pick<SampleRowOptions, 'temperature' | 'topK' | 'topP' | 'minP'>;

const SETS: { name: string; o: Filters }[] = [
  { name: 'topP 0.95', o: { topP: 0.95 } },
  { name: 'T 0.7, topK 50, topP 0.9', o: { temperature: 0.7, topK: 50, topP: 0.9 } },
  { name: 'plain', o: {} },
  { name: 'minP 0.05, T 1.3', o: { minP: 0.05, temperature: 1.3 } },
  { name: 'topK 3000 (a long list), topP 0.8', o: { topK: 3000, topP: 0.8 } },
  { name: 'greedy', o: { temperature: 0 } },
  { name: 'topK 1', o: { topK: 1 } },
];

const ROWS = 6;

/**
 * Asserts each row's token against sampleDraw for its u (the neighbour allowed within MARGIN of a
 * boundary), its log-probability, and the top entries against the ranked kept set, unless a filter
 * decided within MARGIN (then only the tokens are compared and the top set must be the ranked
 * prefix of one of the two sets, which the token check covers).
 */
function expectRows(
  got: { tokens: Int32Array; logprobs?: Float32Array; top?: { ids: Int32Array; logprobs: Float32Array } },
  keep: ReturnType<typeof sampleKeep>,
  seeds: number[],
  n: number,
  label: string,
) {
  const m = keep.margins;
  const close = Math.min(m.topK, m.topP, m.minP) < MARGIN;
  for (let i = 0; i < seeds.length; i++) {
    const u = sampleUniform(seeds[i], i, 0);
    const draw = sampleDraw(keep, u);
    const t = got.tokens[i];
    const ok = t === draw.token || ((draw.margin < MARGIN || close) && keep.kept.includes(t));
    expect(ok, `${label}, row ${i}: u ${u} drew ${t}, expected ${draw.token} (margin ${draw.margin})`).toBe(true);
    const at = keep.kept.indexOf(t);
    if (at >= 0 && got.logprobs) {
      const ref = keep.logprobs[at];
      expect(Math.abs(got.logprobs[i] - ref), `${label}: logprob ${got.logprobs[i]} vs ${ref}`).toBeLessThanOrEqual(
        2e-6 * (Math.abs(ref) + 20),
      );
    }
    if (close || !got.top) continue;
    const ids = got.top.ids.subarray(i * n, (i + 1) * n);
    for (let r = 0; r < n; r++) {
      const want = r < keep.ranked.length ? keep.ranked[r] : -1;
      expect(ids[r], `${label}, row ${i}: top[${r}]`).toBe(want);
    }
  }
}

describe.each(Object.entries(backends))('sample on the %s build', (_, backend) => {
  it.each([32000, 151936])('every option set on [%i] rows against sampleKeep / sampleDraw', (cols) => {
    for (const scale of [1, 4]) {
      const row = normalRow(cols, cols + scale, scale);
      const x = repeat(row, ROWS);
      const snapshot = x.slice();
      for (const { name, o } of SETS) {
        const keep = sampleKeep(row, o);
        const seeds = Array.from({ length: ROWS }, (_, i) => 1000 * scale + 17 * i);
        const n = 20;
        const got = backend.sample(x, { ...o, cols, seed: seeds, logprobs: true, topLogprobs: n });
        expectRows(got, keep, seeds, n, `${cols} N(0, ${scale}) ${name}`);
      }
      expectSame(x, snapshot);
    }
  });

  it('the kept set of a long row is the reference one (topLogprobs: cols)', () => {
    const cols = 32000;
    const row = normalRow(cols, 5, 2);
    for (const o of [{ topP: 0.9 }, { topK: 700, topP: 0.97 }, { minP: 0.02 }, { topP: 0.5, minP: 0.1 }]) {
      const keep = sampleKeep(row, o);
      const got = backend.sample(row, { ...o, seed: 1, topLogprobs: cols });
      const ids = Array.from(got.top.ids.filter((id) => id >= 0)).sort((a, b) => a - b);
      const m = keep.margins;
      if (Math.min(m.topK, m.topP, m.minP) >= MARGIN) expect(ids).toEqual(Array.from(keep.kept));
      else expect(Math.abs(ids.length - keep.kept.length)).toBeLessThanOrEqual(2);
    }
  });

  it('adversarial rows: all equal, one dominant, ties at the top-k and top-p cuts, ±Infinity', () => {
    const cols = 151936;
    const equal = new Float32Array(cols).fill(0.5);
    const dominant = normalRow(cols, 3, 1);
    dominant[12345] = 60;
    // 10 distinct values only: every cut falls inside a group of ~15,000 equal logits.
    const tied = Float32Array.from({ length: cols }, (_, j) => (j * 7919) % 10);
    const infinite = normalRow(cols, 4, 1);
    for (const j of [7, 99999, 151935]) infinite[j] = Infinity;
    infinite[5] = -Infinity;
    const cases: [string, Float32Array, Filters][] = [
      ['all equal, topK 10', equal, { topK: 10 }],
      ['all equal, topP 0.3', equal, { topP: 0.3 }],
      ['one dominant, topP 0.99', dominant, { topP: 0.99 }],
      ['one dominant, greedy', dominant, { temperature: 0 }],
      ['ties, topK 20000', tied, { topK: 20000 }],
      ['ties, topP 0.5', tied, { topP: 0.5, temperature: 2 }],
      ['ties, topK 40000, topP 0.7', tied, { topK: 40000, topP: 0.7 }],
      ['+Infinity ids', infinite, { topP: 0.5 }],
      ['+Infinity ids, greedy', infinite, { temperature: 0 }],
    ];
    for (const [name, row, o] of cases) {
      const keep = sampleKeep(row, o);
      const seeds = Array.from({ length: ROWS }, (_, i) => 31 * i + 5);
      const n = 5;
      const got = backend.sample(repeat(row, ROWS), { ...o, cols, seed: seeds, logprobs: true, topLogprobs: n });
      expectRows(got, keep, seeds, n, name);
    }
  });

  it('a NaN at an allowed id and a row of −Infinity are SoftmaxErrors naming the row; a masked NaN is ignored', () => {
    const cols = 40000;
    const x = repeat(normalRow(cols, 8, 1), 3);
    x[cols + 777] = Number.NaN;
    expect(thrown(() => backend.sample(x, { cols, seed: 1 }))?.message).toMatch(/row 1/);
    const y = repeat(normalRow(cols, 8, 1), 3);
    y.fill(-Infinity, 2 * cols, 3 * cols);
    expect(thrown(() => backend.sample(y, { cols, seed: 1, topK: 5 }))?.message).toMatch(/row 2/);
    const words = Math.ceil(cols / 32);
    const mask = new Uint32Array(words).fill(0xffffffff);
    mask[777 >>> 5] &= ~(1 << (777 & 31));
    const got = backend.sample(x, { cols, seed: 1, mask, topLogprobs: 3 });
    expect(got.tokens[1]).not.toBe(777);
  });

  it('penalties, bias and masks per row in one batch, each row as sampleKeep says; the logits unchanged', () => {
    const cols = 50000;
    const rows = 4;
    const base = normalRow(cols, 21, 2);
    const x = repeat(base, rows);
    const snapshot = x.slice();
    const words = Math.ceil(cols / 32);
    const masks = new Uint32Array(rows * words).fill(0xffffffff);
    for (let j = 0; j < cols; j += 3) masks[2 * words + (j >>> 5)] &= ~(1 << (j & 31)); // row 2: no id ≡ 0 mod 3
    const order = Array.from(base.keys()).sort((a, b) => base[b] - base[a]);
    const history = [order.slice(0, 5), order.slice(3, 9), [order[0], order[0], order[1]], []];
    const bias = [[[order[40], 5]], [], [[order[2], -100]], [[order[100], 50]]] as [number, number][][];
    const settings: SampleRowOptions[] = [
      { temperature: 0.8, topK: 40, repetitionPenalty: 1.5 },
      { topP: 0.9, presencePenalty: 0.5, frequencyPenalty: 0.25 },
      { minP: 0.05, repetitionPenalty: 0.7 },
      { temperature: 0, topP: 0.5 },
    ];
    const offsets = [0];
    for (const b of bias) offsets.push(offsets[offsets.length - 1] + b.length);
    const seeds = [3, 4, 5, 6];
    const got = backend.sample(x, {
      cols,
      seed: seeds,
      temperature: settings.map((s) => s.temperature ?? 1),
      topK: settings.map((s) => s.topK ?? 0),
      topP: settings.map((s) => s.topP ?? 1),
      minP: settings.map((s) => s.minP ?? 0),
      repetitionPenalty: settings.map((s) => s.repetitionPenalty ?? 1),
      presencePenalty: settings.map((s) => s.presencePenalty ?? 0),
      frequencyPenalty: settings.map((s) => s.frequencyPenalty ?? 0),
      history,
      logitBias: { ids: bias.flat().map((b) => b[0]), values: bias.flat().map((b) => b[1]), offsets },
      mask: masks,
      logprobs: true,
      topLogprobs: 8,
    });
    expectSame(x, snapshot);
    for (let i = 0; i < rows; i++) {
      const keep = sampleKeep(base, {
        ...settings[i],
        history: history[i],
        logitBias: { ids: bias[i].map((b) => b[0]), values: bias[i].map((b) => b[1]) },
        mask: masks.subarray(i * words, (i + 1) * words),
      });
      const u = sampleUniform(seeds[i], i, 0);
      const draw = sampleDraw(keep, u);
      const t = got.tokens[i];
      expect(
        t === draw.token || (draw.margin < MARGIN && t === draw.neighbour),
        `row ${i}: ${t} vs ${draw.token}`,
      ).toBe(true);
      const ids = Array.from(got.top.ids.subarray(i * 8, (i + 1) * 8));
      expect(ids, `row ${i}: top`).toEqual(
        Array.from({ length: 8 }, (_, r) => (r < keep.ranked.length ? keep.ranked[r] : -1)),
      );
    }
  });

  it('float64 rows agree with float32 rows of the same values (greedy and a seeded draw)', () => {
    const cols = 32000;
    const row = normalRow(cols, 77, 1.5);
    const seeds = [1, 2, 3];
    for (const o of [{ temperature: 0 }, { topP: 0.9 }, { temperature: 0.7, topK: 50, topP: 0.9 }]) {
      const keep = sampleKeep(row, o);
      const got = backend.sample(Float64Array.from(repeat(row, 3)), { ...o, cols, seed: seeds, topLogprobs: 10 });
      expectRows(got, keep, seeds, 10, `float64 ${JSON.stringify(o)}`);
    }
  });
});

describe('threads', () => {
  it('[32, 151936] split between threads gives the tokens of one thread, row by row', () => {
    const cols = 151936;
    const rows = 32;
    const x = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) x.set(normalRow(cols, 100 + i, 1 + (i % 4)), i * cols);
    const seeds = Array.from({ length: rows }, (_, i) => i * 13 + 1);
    for (const o of [{ topP: 0.95 }, { temperature: 0.7, topK: 50, topP: 0.9 }, { temperature: 0 }]) {
      const options = { ...o, cols, seed: seeds, logprobs: true, topLogprobs: 4 };
      const one = backends.simd.sample(x, options);
      const split = backends.threads.sample(x, options);
      expectSame(split.tokens, one.tokens);
      expectSame(split.logprobs as Float32Array, one.logprobs as Float32Array);
      expectSame(split.top.ids, one.top.ids);
    }
    expect(backends.threads.threads).toBe(2);
  });
});

describe('buffer calls', () => {
  it.each(Object.entries(backends))(
    '%s: sampleBuffer gives the array call’s result in new buffers, the logits in place',
    (_, backend) => {
      const cols = 151936;
      const row = normalRow(cols, 55, 2);
      const x = repeat(row, 3);
      const options = { cols, seed: [4, 5, 6], topP: 0.9, logprobs: true, topLogprobs: 3 };
      const want = backend.sample(x, options);
      const logits = backend.alloc(x.length, 'float32');
      logits.view().set(x);
      const got = backend.sampleBuffer(logits, options);
      expectSame(got.tokens.view(), want.tokens);
      expectSame((got.logprobs as NonNullable<typeof got.logprobs>).view(), want.logprobs as Float32Array);
      const top = got.top as NonNullable<typeof got.top>;
      expectSame(top.ids.view(), want.top.ids);
      expectSame(top.logprobs.view(), want.top.logprobs);
      expectSame(logits.view(), x);
      const plain = backend.bufferCall('sample', [logits], { cols, seed: [4, 5, 6], topP: 0.9 });
      expect(Object.keys(plain)).toEqual(['tokens']);
      expectSame(plain.tokens.view(), want.tokens);
      for (const b of [got.tokens, got.logprobs, top.ids, top.logprobs, plain.tokens, logits]) b?.free();
    },
  );
});
