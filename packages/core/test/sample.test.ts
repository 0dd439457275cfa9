import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  OPS,
  type SampleCallOptions,
  type SampleParams,
  sampleDraw,
  sampleKeep,
  sampleUniform,
  validateCall,
} from '../src/backend.js';
import { SoftmaxError, sample } from '../src/index.js';

/*
 * sample against rows worked out by hand here from the README's rules (processed logits, kept
 * sets, cumulative boundaries written as numbers), not from the reference's code. The
 * conformance suite adds the independent oracle, random and adversarial rows and the
 * chi-square test.
 */

const ln = Math.log;

/** log-softmax of a row, naively, with −Infinity entries left at −Infinity. */
function logSoftmaxOf(z: number[]): number[] {
  const max = Math.max(...z);
  const lse = max + ln(z.reduce((s, v) => s + Math.exp(v - max), 0));
  return z.map((v) => v - lse);
}

function thrown(call: () => unknown): SoftmaxError {
  try {
    call();
  } catch (error) {
    return error as SoftmaxError;
  }
  throw new Error('expected the call to throw');
}

/** The kept set of each row as `top` reports it (ids with a log-probability), sorted. */
function keptOf(top: { ids: Int32Array }, cols: number, rows: number): number[][] {
  return Array.from({ length: rows }, (_, i) =>
    Array.from(top.ids.subarray(i * cols, (i + 1) * cols))
      .filter((id) => id >= 0)
      .sort((a, b) => a - b),
  );
}

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, label: string) {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const ok = Number.isFinite(e) ? Math.abs(actual[i] - e) <= tol * (Math.abs(e) + 1) : Object.is(actual[i], e);
    expect(ok, `${label}[${i}]: ${actual[i]}, expected ${e}`).toBe(true);
  }
}

describe('sample: penalties, bias and mask against hand-computed rows', () => {
  it('repetition (HF), then presence and frequency (OpenAI), then bias', () => {
    // History [0, 0, 1, 3, 3, 3]: id 0 twice, id 1 once, id 3 three times.
    // Repetition 2: 2 → 1, −1 → −2, 3 → 1.5. Then − count·0.25 − 0.5: 1 → 0, −2 → −2.75, 1.5 → 0.25.
    // Bias: id 2 − 0.5, id 4 + 1.
    const processed = [0, -2.75, 0, 0.25, 1];
    const { top } = sample(new Float64Array([2, -1, 0.5, 3, 0]), {
      seed: 1,
      history: [0, 0, 1, 3, 3, 3],
      repetitionPenalty: 2,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      logitBias: { ids: [2, 4], values: [-0.5, 1] },
      topLogprobs: 5,
    });
    const expected = logSoftmaxOf(processed);
    const order = [4, 3, 0, 2, 1]; // by processed logit, ties (ids 0 and 2) by ascending id
    expect(Array.from(top.ids)).toEqual(order);
    close(
      top.logprobs,
      order.map((j) => expected[j]),
      2 ** -23,
      'logprobs',
    );
  });

  it('the mask: bit j % 32 of word ⌊j / 32⌋; bits past cols ignored; a NaN it disallows is ignored', () => {
    // cols 40 (2 words): ids 0, 5, 33 and 39 allowed; bit 8 of word 1 is id 40, past cols.
    const logits = Float64Array.from({ length: 40 }, (_, j) => j / 10);
    logits[7] = Number.NaN;
    const mask = new Uint32Array([(1 << 0) | (1 << 5), (1 << 1) | (1 << 7) | (1 << 8)]);
    const { top } = sample(logits, { seed: 3, mask, topLogprobs: 40 });
    const expected = logSoftmaxOf([0, 0.5, 3.3, 3.9]);
    expect(Array.from(top.ids.subarray(0, 5))).toEqual([39, 33, 5, 0, -1]);
    close(top.logprobs.subarray(0, 4), [expected[3], expected[2], expected[1], expected[0]], 2 ** -23, 'logprobs');
    expect(Array.from(top.logprobs.subarray(4)).every((v) => v === -Infinity)).toBe(true);
  });

  it('a repetition penalty leaves 0 and ±Infinity where they are; presence pulls +Infinity nowhere', () => {
    const { top } = sample([0, Infinity, -Infinity, 1], {
      seed: 0,
      history: [0, 1, 2],
      repetitionPenalty: 3,
      presencePenalty: 1,
      topLogprobs: 4,
    });
    // +Infinity stays +Infinity, so it takes all the probability.
    expect(Array.from(top.ids)).toEqual([1, -1, -1, -1]);
    expect(top.logprobs[0]).toBe(0);
  });
});

describe('sample: the filters on hand-made rows', () => {
  const p = [0.1, 0.4, 0.2, 0.2, 0.1];
  const logp = p.map(ln);
  const kept = (logits: number[], options: Record<string, unknown>) =>
    keptOf(sample(logits, { seed: 0, topLogprobs: logits.length, ...options }).top, logits.length, 1)[0];

  it('top-k keeps every id ≥ the k-th largest logit (ties kept); k ≥ cols keeps all', () => {
    const row = [1, 3, 3, 2, 3, 0];
    expect(kept(row, { topK: 1 })).toEqual([1, 2, 4]);
    expect(kept(row, { topK: 2 })).toEqual([1, 2, 4]);
    expect(kept(row, { topK: 4 })).toEqual([1, 2, 3, 4]);
    expect(kept(row, { topK: 6 })).toEqual([0, 1, 2, 3, 4, 5]);
    expect(kept(row, { topK: 1000 })).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('top-p keeps the most probable ids until the cumulative reaches topP, ties at the cut kept', () => {
    // Sorted: 0.4 (id 1), 0.2 + 0.2 (ids 2, 3, tied), 0.1 + 0.1 (ids 0, 4).
    expect(kept(logp, { topP: 0.35 })).toEqual([1]);
    expect(kept(logp, { topP: 0.5 })).toEqual([1, 2, 3]);
    expect(kept(logp, { topP: 0.75 })).toEqual([1, 2, 3]);
    expect(kept(logp, { topP: 0.85 })).toEqual([0, 1, 2, 3, 4]);
    expect(kept(logp, { topP: 1 })).toEqual([0, 1, 2, 3, 4]);
  });

  it('min-p keeps p ≥ minP · p_max', () => {
    expect(kept(logp, { minP: 0.2 })).toEqual([0, 1, 2, 3, 4]);
    expect(kept(logp, { minP: 0.45 })).toEqual([1, 2, 3]);
    expect(kept(logp, { minP: 0.6 })).toEqual([1]);
  });

  it('the order: top-p renormalises over what top-k kept; temperature comes before both', () => {
    const q = [0.4, 0.3, 0.2, 0.1].map(ln);
    // Over all four, 0.4 < 0.5 so top-p 0.5 keeps two; over top-2, 0.4 / 0.7 ≥ 0.5 keeps one.
    expect(kept(q, { topP: 0.5 })).toEqual([0, 1]);
    expect(kept(q, { topK: 2, topP: 0.5 })).toEqual([0]);
    // T = 2 flattens to ∝ √p = [0.632, 0.548, 0.447, 0.316] / 1.944: 0.325, then 0.607 with id 1.
    // At T = 1 the first id alone has 0.4, so topP 0.33 would keep it alone.
    expect(kept(q, { topP: 0.33 })).toEqual([0]);
    expect(kept(q, { temperature: 2, topP: 0.33 })).toEqual([0, 1]);
    expect(kept(q, { temperature: 2, topP: 0.6 })).toEqual([0, 1]);
    expect(kept(q, { temperature: 2, topP: 0.61 })).toEqual([0, 1, 2]);
    expect(kept(q, { temperature: 2, topP: 0.32 })).toEqual([0]);
  });

  it('the kept set renormalised: log-probabilities of the processed distribution', () => {
    const { top, logprobs, tokens } = sample(logp, { seed: 5, topP: 0.5, logprobs: true, topLogprobs: 3 });
    const mass = 0.8;
    close(top.logprobs, [ln(0.4 / mass), ln(0.2 / mass), ln(0.2 / mass)], 2 ** -23, 'top');
    expect(logprobs[0]).toBeCloseTo(ln(p[tokens[0]] / mass), 6);
  });
});

describe('sample: the draw', () => {
  const row = [0.5, 0.25, 0.25].map(ln);

  it.each([
    [0, 0],
    [0.49, 0],
    [0.51, 1],
    [0.74, 1],
    [0.76, 2],
    [1 - 2 ** -24, 2],
  ])('u = %f draws id %i (boundaries 0.5 and 0.75)', (u, token) => {
    const draw = sampleDraw(sampleKeep(row), u);
    expect(draw.token).toBe(token);
  });

  it('the margin is u’s distance to the nearer boundary, and names the id beyond it', () => {
    const draw = sampleDraw(sampleKeep(row), 0.49);
    expect(draw.margin).toBeCloseTo(0.01, 12);
    expect(draw.neighbour).toBe(1);
    const high = sampleDraw(sampleKeep(row), 0.74);
    expect(high.margin).toBeCloseTo(0.01, 12);
    expect(high.neighbour).toBe(2);
    // Near 0 or 1 there is nothing beyond: the margin is to the other boundary.
    expect(sampleDraw(sampleKeep(row), 0.001).margin).toBeCloseTo(0.499, 12);
  });

  it('sample draws with u = sampleUniform(seed, row, step): 200 seeds against the boundaries', () => {
    const seeds = Array.from({ length: 200 }, (_, s) => s * 7919 + 1);
    const { tokens } = sample(new Float64Array([...row, ...row]), { cols: 3, seed: [seeds[0], seeds[1]], step: 4 });
    const expectedFor = (u: number) => (u < 0.5 ? 0 : u < 0.75 ? 1 : 2);
    expect(Array.from(tokens)).toEqual([
      expectedFor(sampleUniform(seeds[0], 0, 4)),
      expectedFor(sampleUniform(seeds[1], 1, 4)),
    ]);
    const counts = [0, 0, 0];
    for (const seed of seeds) {
      const u = sampleUniform(seed, 0, 9);
      const token = sample(row, { seed, step: 9 }).tokens[0];
      expect(token, `seed ${seed}, u ${u}`).toBe(expectedFor(u));
      counts[token]++;
    }
    expect(
      counts.every((c) => c > 20),
      `every id drawn: ${counts}`,
    ).toBe(true);
  });

  it('a kept id of probability 0 (−Infinity, or outside the filters) is never drawn', () => {
    const tokens = sample(
      new Float64Array(3000).map((_, k) => [-Infinity, 0, -Infinity][k % 3]),
      {
        cols: 3,
        seed: 11,
      },
    ).tokens;
    expect(tokens.every((t) => t === 1)).toBe(true);
  });
});

describe('sample: greedy and special values', () => {
  it('temperature 0 is the argmax, ties to the lowest id; logprob 0 (the draw is certain)', () => {
    const { tokens, logprobs, top } = sample([1, 5, 5, 2, 5, -1, 4, 4], {
      cols: 4,
      temperature: 0,
      logprobs: true,
      topLogprobs: 2,
    });
    expect(Array.from(tokens)).toEqual([1, 0]);
    expect(Array.from(logprobs)).toEqual([0, 0]);
    expect(Array.from(top.ids)).toEqual([1, -1, 0, -1]);
    expect(Array.from(top.logprobs)).toEqual([0, -Infinity, 0, -Infinity]);
  });

  it('per-row temperatures: greedy rows and sampled rows in one batch', () => {
    const logits = [0, 0, 0, 9, 0, 0, 0, 9];
    const { tokens } = sample(logits, { cols: 4, temperature: [0, 1], topK: [0, 3], seed: 2 });
    expect(tokens[0]).toBe(3);
    const { top } = sample(logits, { cols: 4, temperature: [0, 1], topK: [0, 3], seed: 2, topLogprobs: 4 });
    // Row 1, top-3: 9 then the three tied 0s (ties at the k-th kept).
    expect(keptOf(top, 4, 2)).toEqual([[3], [0, 1, 2, 3]]);
  });

  it('greedy after the mask and penalties', () => {
    const mask = new Uint32Array([0b1101]);
    expect(sample([1, 5, 5, 2], { temperature: 0, mask }).tokens[0]).toBe(2);
    expect(sample([1, 5, 5, 2], { temperature: 0, history: [[1, 2]], repetitionPenalty: 4 }).tokens[0]).toBe(3);
  });

  it('+Infinity logits share the probability equally; greedy takes the lowest', () => {
    const row = [Infinity, 0, Infinity, 1];
    const { top } = sample(row, { seed: 1, topK: 1, topLogprobs: 4 });
    expect(Array.from(top.ids)).toEqual([0, 2, -1, -1]);
    close(top.logprobs.subarray(0, 2), [-ln(2), -ln(2)], 2 ** -23, '+Infinity');
    expect(sample(row, { temperature: 0 }).tokens[0]).toBe(0);
    const tokens = sample(
      new Float64Array(4000).map((_, k) => row[k % 4]),
      { cols: 4, seed: 4 },
    ).tokens;
    const zeros = tokens.filter((t) => t === 0).length;
    expect(tokens.every((t) => t === 0 || t === 2)).toBe(true);
    expect(Math.abs(zeros - 500)).toBeLessThan(100); // Binomial(1000, 1/2): sd 16
  });

  it('a NaN row, a row of only −Infinity and a mask that allows nothing are SoftmaxErrors naming the row', () => {
    const nan = thrown(() => sample([1, 2, 3, 1, Number.NaN, 3], { cols: 3, seed: 0 }));
    expect(nan).toBeInstanceOf(SoftmaxError);
    expect(nan.code).toBe('INVALID_INPUT');
    expect(nan.message).toContain('row 1');
    expect(nan.message).toContain('NaN');
    const empty = thrown(() => sample([1, 2, -Infinity, -Infinity], { cols: 2, seed: 0 }));
    expect(empty.code).toBe('INVALID_INPUT');
    expect(empty.message).toContain('row 1');
    const masked = thrown(() => sample([1, 2, 3, 4], { cols: 2, mask: new Uint32Array([0b01, 0b100]) }));
    expect(masked.code).toBe('INVALID_OPTION');
    expect(masked.message).toContain('options.mask');
    expect(masked.message).toContain('row 1');
    // Allowed ids of logit −Infinity only: nothing to draw either.
    const banned = thrown(() => sample([1, -Infinity], { mask: new Uint32Array([0b10]) }));
    expect(banned.message).toContain('row 0');
  });

  it('an empty input gives no tokens', () => {
    expect(sample(new Float32Array(0), { logprobs: true })).toEqual({
      tokens: new Int32Array(0),
      logprobs: new Float32Array(0),
    });
  });
});

describe('sample: the option forms agree', () => {
  const logits = Float32Array.from({ length: 3 * 8 }, (_, k) => Math.sin(k * 1.3) * 3);
  const run = (o: Record<string, unknown>) =>
    sample(logits, { cols: 8, seed: 9, topLogprobs: 8, logprobs: true, ...o });

  it('history: flat with −1 padding, one array per row, Int32Arrays', () => {
    const flat = run({ history: new Int32Array([1, 1, 2, -1, 5, -1, -1, -1, 0, 7, 7, 7]), repetitionPenalty: 1.5 });
    const perRow = run({ history: [[1, 1, 2], [5], new Uint32Array([0, 7, 7, 7])], repetitionPenalty: 1.5 });
    const numbers = run({ history: [1, 1, 2, -1, 5, -1, -1, -1, 0, 7, 7, 7], repetitionPenalty: 1.5 });
    expect(perRow).toEqual(flat);
    expect(numbers).toEqual(flat);
    expect(flat).not.toEqual(run({}));
  });

  it('logitBias shared and per row (offsets); mask shared and per row', () => {
    const shared = run({ logitBias: { ids: [3, 6], values: [2, -1] } });
    const perRow = run({
      logitBias: { ids: new Int32Array([3, 6, 6, 3, 3, 6]), values: [2, -1, -1, 2, 2, -1], offsets: [0, 2, 4, 6] },
    });
    expect(perRow).toEqual(shared);
    const one = run({ mask: new Uint32Array([0b10110110]) });
    const each = run({ mask: new Int32Array([0b10110110, 0b10110110, 0b10110110]) });
    expect(each).toEqual(one);
  });

  it('per-row options: a batch row gives what that row alone gives (kept sets and log-probabilities)', () => {
    const settings = { temperature: [0.7, 1, 2], topK: [3, 0, 5], topP: [1, 0.6, 0.9], minP: [0, 0.1, 0.05] };
    const batch = run(settings);
    for (let i = 0; i < 3; i++) {
      const one = sample(logits.subarray(i * 8, (i + 1) * 8), {
        seed: 9,
        topLogprobs: 8,
        temperature: settings.temperature[i],
        topK: settings.topK[i],
        topP: settings.topP[i],
        minP: settings.minP[i],
      });
      expect(Array.from(batch.top.ids.subarray(i * 8, (i + 1) * 8)), `row ${i}`).toEqual(Array.from(one.top.ids));
      expect(Array.from(batch.top.logprobs.subarray(i * 8, (i + 1) * 8))).toEqual(Array.from(one.top.logprobs));
    }
    // Typed arrays of one value per row read the same as number[].
    expect(run({ ...settings, topK: new Int32Array([3, 0, 5]), topP: new Float64Array([1, 0.6, 0.9]) })).toEqual(batch);
  });

  it('the caller’s arrays are never modified; number[] and float64 logits are accepted', () => {
    const history = [[1, 1], [2], [3]];
    const bias = { ids: new Int32Array([0]), values: new Float64Array([1]) };
    const mask = new Uint32Array([0xff]);
    const before = [logits.slice(), structuredClone(history), bias.ids.slice(), bias.values.slice(), mask.slice()];
    run({ history, logitBias: bias, mask, repetitionPenalty: 2 });
    expect([logits, history, bias.ids, bias.values, mask]).toEqual(before);
    expect(sample(Array.from(logits), { cols: 8, seed: 9 }).tokens).toEqual(run({}).tokens);
    expect(sample(Float64Array.from(logits), { cols: 8, seed: 9 }).tokens).toEqual(run({}).tokens);
  });

  it('without a seed each call draws a fresh one', () => {
    const flat = new Float32Array(64 * 1000);
    const a = sample(flat, { cols: 1000 }).tokens;
    const b = sample(flat, { cols: 1000 }).tokens;
    expect(a).not.toEqual(b);
  });
});

describe('sample: bad options are SoftmaxErrors naming the argument and the value', () => {
  const x = new Float32Array([1, 2, 3, 4, 5, 6]);
  const cases: [string, Record<string, unknown>, string, string[]][] = [
    ['topP 0', { topP: 0 }, 'INVALID_OPTION', ['options.topP', '(0, 1]', 'got 0']],
    ['topP above 1', { topP: 1.01 }, 'INVALID_OPTION', ['options.topP', '1.01']],
    ['topP NaN', { topP: Number.NaN }, 'INVALID_OPTION', ['options.topP', 'NaN']],
    ['temperature negative', { temperature: -0.5 }, 'INVALID_OPTION', ['options.temperature', '-0.5']],
    ['temperature Infinity', { temperature: Infinity }, 'INVALID_OPTION', ['options.temperature', 'Infinity']],
    ['topK negative', { topK: -1 }, 'INVALID_OPTION', ['options.topK', '-1']],
    ['topK fractional', { topK: 2.5 }, 'INVALID_OPTION', ['options.topK', '2.5']],
    ['minP 1', { minP: 1 }, 'INVALID_OPTION', ['options.minP', '[0, 1)', 'got 1']],
    ['seed 2^53', { seed: 2 ** 53 }, 'INVALID_OPTION', ['options.seed', '9007199254740992']],
    ['seed fractional', { seed: 0.5 }, 'INVALID_OPTION', ['options.seed', '0.5']],
    ['step negative', { step: -1 }, 'INVALID_OPTION', ['options.step', '-1']],
    ['repetitionPenalty 0', { repetitionPenalty: 0 }, 'INVALID_OPTION', ['options.repetitionPenalty', 'got 0']],
    ['presencePenalty NaN', { presencePenalty: Number.NaN }, 'INVALID_OPTION', ['options.presencePenalty', 'NaN']],
    [
      'per-row topP of the wrong length',
      { topP: [0.5, 0.5, 0.5] },
      'INVALID_OPTION',
      ['options.topP', 'one value per row (2)'],
    ],
    ['per-row topP with a bad row', { topP: [0.5, 0] }, 'INVALID_OPTION', ['options.topP[1] (row 1)', 'got 0']],
    [
      'per-row temperature as strings',
      { temperature: ['1', '1'] },
      'INVALID_OPTION',
      ['options.temperature[0]', '"1"'],
    ],
    ['topK as a string', { topK: '3' }, 'INVALID_OPTION', ['options.topK', '"3"']],
    [
      'mask of the wrong length',
      { mask: new Uint32Array(3) },
      'INVALID_OPTION',
      ['options.mask', '2 × 1 = 2', 'Uint32Array(3)'],
    ],
    ['mask a Float32Array', { mask: new Float32Array(2) }, 'INVALID_OPTION', ['options.mask', 'Float32Array(2)']],
    [
      'mask allowing nothing past cols',
      { mask: new Uint32Array([0b1000, 1]) },
      'INVALID_OPTION',
      ['options.mask', 'row 0'],
    ],
    [
      'history id out of range',
      { history: [0, 3] },
      'INVALID_OPTION',
      ['options.history[1] (row 1)', '[0, 3)', 'got 3'],
    ],
    ['history row id negative', { history: [[0], [-2]] }, 'INVALID_OPTION', ['options.history[1][0]', '-2']],
    ['history not a multiple of rows', { history: [0, 1, 2] }, 'INVALID_OPTION', ['options.history.length', '3']],
    [
      'history of the wrong row count',
      { history: [[0]] },
      'INVALID_OPTION',
      ['options.history', 'one array per row (2)'],
    ],
    [
      'history a Float64Array',
      { history: new Float64Array(2) },
      'INVALID_OPTION',
      ['options.history', 'Float64Array(2)'],
    ],
    ['history mixing forms', { history: [0, [1]] }, 'INVALID_OPTION', ['options.history[1]', 'Array(1)']],
    ['bias not an object', { logitBias: 3 }, 'INVALID_OPTION', ['options.logitBias', 'got 3']],
    [
      'bias unknown field',
      { logitBias: { ids: [], values: [], scale: 1 } },
      'INVALID_OPTION',
      ['options.logitBias.scale'],
    ],
    [
      'bias id out of range',
      { logitBias: { ids: [5], values: [1] } },
      'INVALID_OPTION',
      ['options.logitBias.ids[0]', 'got 5'],
    ],
    [
      'bias value infinite',
      { logitBias: { ids: [0], values: [-Infinity] } },
      'INVALID_OPTION',
      ['options.logitBias.values[0]', '-Infinity'],
    ],
    [
      'bias lengths differ',
      { logitBias: { ids: [0, 1], values: [1] } },
      'INVALID_OPTION',
      ['options.logitBias.values', 'as long as'],
    ],
    [
      'bias id repeated',
      { logitBias: { ids: [1, 1], values: [1, 2] } },
      'INVALID_OPTION',
      ['options.logitBias.ids[1]', 'repeats id 1'],
    ],
    [
      'bias offsets wrong',
      { logitBias: { ids: [1, 2], values: [1, 2], offsets: [0, 3, 2] } },
      'INVALID_OPTION',
      ['options.logitBias.offsets'],
    ],
    ['topLogprobs above cols', { topLogprobs: 4 }, 'INVALID_OPTION', ['options.topLogprobs', 'cols = 3', 'got 4']],
    ['logprobs not a boolean', { logprobs: 1 }, 'INVALID_OPTION', ['options.logprobs', 'got 1']],
    ['an unknown option', { top_p: 0.9 }, 'INVALID_OPTION', ['options.top_p']],
  ];
  it.each(cases)('%s', (_, options, code, parts) => {
    const error = thrown(() => sample(x, { cols: 3, ...options } as never));
    expect(error).toBeInstanceOf(SoftmaxError);
    expect(error.code, error.message).toBe(code);
    for (const part of parts) expect(error.message).toContain(part);
  });

  it('a number[] option is read once, element by element, before the logits are checked', () => {
    let reads = 0;
    const topP = new Proxy([0.5, 0.5], {
      get: (target, key) => {
        if (key === '0') reads++;
        return reads > 1 && key === '0' ? 0 : Reflect.get(target, key);
      },
    });
    expect(sample(x, { cols: 3, topP, seed: 0 }).tokens.length).toBe(2);
    expect(reads).toBe(1);
  });

  it('topK > cols is fine', () => {
    expect(sample(x, { cols: 3, topK: 1000, seed: 0 }).tokens.length).toBe(2);
  });
});

describe('sample: what a kernel receives (OpCall)', () => {
  it('per-row Float64Arrays, CSR history counts and biases, the mask words and stride, u per row', () => {
    const call = validateCall(OPS.sample, [
      new Float32Array(2 * 40),
      {
        cols: 40,
        seed: [5, 6],
        step: 3,
        topP: 0.9,
        history: [[7, 7, 1], [39]],
        logitBias: { ids: [2], values: [0.5] },
        mask: new Uint32Array([0xffffffff, 0xff]),
        topLogprobs: 4,
      },
    ]);
    const o = call.options as unknown as SampleCallOptions;
    expect(Array.from(o.topP)).toEqual([0.9, 0.9]);
    expect(Array.from(o.temperature)).toEqual([1, 1]);
    expect(Array.from(o.history.offsets)).toEqual([0, 2, 3]);
    expect(Array.from(o.history.ids)).toEqual([1, 7, 39]);
    expect(Array.from(o.history.counts)).toEqual([1, 2, 1]);
    expect(Array.from(o.logitBias.offsets)).toEqual([0, 1, 2]);
    expect(Array.from(o.logitBias.ids)).toEqual([2, 2]);
    expect(o.mask?.stride).toBe(0);
    expect(o.topLogprobs).toBe(4);
    const { u } = call.params as unknown as SampleParams;
    expect(Array.from(u)).toEqual([sampleUniform(5, 0, 3), sampleUniform(6, 1, 3)]);
    expect(call.outputs.map((a) => [a.constructor.name, a.length])).toEqual([
      ['Int32Array', 2],
      ['Float32Array', 0],
      ['Int32Array', 8],
      ['Float32Array', 8],
    ]);
    expect(call.present).toEqual([true, false, true, true]);
  });

  it('repeatable: the options that make two calls draw the same (a seed); without them each call has its own', () => {
    expect(OPS.sample.repeatable).toEqual({ seed: 0 });
    const x = new Float32Array(256 * 100);
    const a = validateCall(OPS.sample, [x, { cols: 100, ...OPS.sample.repeatable }]);
    const b = validateCall(OPS.sample, [x, { cols: 100, ...OPS.sample.repeatable }]);
    expect(a.params).toEqual(b.params);
    expect(validateCall(OPS.sample, [x, { cols: 100 }]).params).not.toEqual(a.params);
  });

  it('types: the result has logprobs and top exactly when the options ask', () => {
    const x = new Float32Array(4);
    expectTypeOf(sample(x).tokens).toEqualTypeOf<Int32Array>();
    expectTypeOf(sample(x, { logprobs: true }).logprobs).toEqualTypeOf<Float32Array>();
    expectTypeOf(sample(x).logprobs).toEqualTypeOf<undefined>();
    expectTypeOf(sample(x, { topLogprobs: 2 }).top.ids).toEqualTypeOf<Int32Array>();
  });
});
