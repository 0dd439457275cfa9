import { SoftmaxError } from '@softmax/core';
import { type SampleKeep, type SampleRowOptions, sampleDraw, sampleKeep, sampleUniform } from '@softmax/core/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { COPY_DST, COPY_SRC, gpuBackend, REDUCTION_TUNINGS, readBack, refuses, STORAGE, upload } from './gpu.js';

/**
 * sample on WebGPU against core's float64 reference helpers: `sampleKeep` (the kept set, its
 * ranking, log-probabilities and how close each decision came to going the other way) and
 * `sampleDraw` (the token for u). u is core's own sampleUniform, which the backend draws with.
 * The token must be the reference's, or the id across the boundary when u lies within MARGIN of
 * it (the kernel's float32 sums); a kept set is compared only when the reference's decisions are
 * at least WELL_POSED from flipping.
 */

const MARGIN = 1e-4; // the conformance contract's sampleMargin (conformance.test.ts)
const WELL_POSED = 1e-4;
const MASK = (cols: number, allow: (j: number) => boolean) => {
  const w = new Uint32Array(Math.ceil(cols / 32));
  for (let j = 0; j < cols; j++) if (allow(j)) w[j >>> 5] |= 1 << (j & 31);
  return w;
};

let backend: WebGPUBackend;
beforeAll(async () => {
  backend = await gpuBackend();
});
afterAll(() => backend?.dispose());

/** A seeded row of n float32 logits in [−s, s] (xorshift). */
function randomRow(n: number, seed: number, s = 8): Float32Array {
  let x = seed * 2654435761 + 1;
  return Float32Array.from({ length: n }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) / 2 ** 32 - 0.5) * 2 * s;
  });
}

interface Got {
  tokens: Int32Array;
  logprobs?: Float32Array;
  top?: { ids: Int32Array; logprobs: Float32Array };
}

function wellPosed(k: SampleKeep): boolean {
  const m = k.margins;
  return m.greedy >= WELL_POSED && m.topK >= WELL_POSED && m.topP >= WELL_POSED && m.minP >= WELL_POSED;
}

/** Checks row i of a result against the reference for that row's settings. */
function expectRow(
  got: Got,
  i: number,
  row: ArrayLike<number>,
  o: SampleRowOptions,
  u: number,
  n: number,
  label: string,
) {
  const keep = sampleKeep(row, o);
  const draw = sampleDraw(keep, u);
  const token = got.tokens[i];
  const near = draw.margin < MARGIN;
  expect(
    token === draw.token || (near && token === draw.neighbour),
    `${label}: drew ${token}, expected ${draw.token}${near ? ` or ${draw.neighbour}` : ''} (u ${u}, margin ${draw.margin})`,
  ).toBe(true);
  if (keep.status !== 'ok') return;
  const lpOf = (id: number) => keep.logprobs[keep.kept.indexOf(id)];
  const T = o.temperature ?? 1;
  const max = keep.greedy ? 0 : Math.max(...Array.from(keep.kept, (j) => keep.processed[j]));
  const zScale =
    keep.greedy || !Number.isFinite(max) ? 0 : (max - Math.min(...Array.from(keep.kept, (j) => keep.processed[j]))) / T;
  const bound = (ref: number) => (2e-6 + 2 ** -23) * (Math.abs(ref) + 1 + zScale);
  if (got.logprobs && keep.kept.includes(token)) {
    const ref = lpOf(token);
    expect(Math.abs(got.logprobs[i] - ref), `${label}: logprob ${got.logprobs[i]} vs ${ref}`).toBeLessThanOrEqual(
      bound(ref),
    );
  }
  if (!got.top || !wellPosed(keep)) return;
  const ids = got.top.ids.subarray(i * n, (i + 1) * n);
  const lps = got.top.logprobs.subarray(i * n, (i + 1) * n);
  for (let r = 0; r < n; r++) {
    if (r >= keep.ranked.length) {
      expect([ids[r], lps[r]], `${label}: entry ${r} past the kept set`).toEqual([-1, -Infinity]);
      continue;
    }
    const id = ids[r];
    expect(keep.kept.includes(id), `${label}: entry ${r} (id ${id}) is not kept`).toBe(true);
    expect(keep.processed[id], `${label}: entry ${r} is id ${id}, expected one like ${keep.ranked[r]}`).toBe(
      keep.processed[keep.ranked[r]],
    );
    if (r > 0 && keep.processed[ids[r - 1]] === keep.processed[id]) expect(id).toBeGreaterThan(ids[r - 1]);
    expect(Math.abs(lps[r] - lpOf(id)), `${label}: top logprob of ${id}`).toBeLessThanOrEqual(bound(lpOf(id)));
  }
  if (n >= keep.kept.length) {
    expect(
      Array.from(ids)
        .filter((id) => id >= 0)
        .sort((a, b) => a - b),
      `${label}: the kept set`,
    ).toEqual(Array.from(keep.kept));
  }
}

/** Runs `rows` copies-with-variation of a setting through the array API and checks every row. */
async function checkCall(
  rows: Float32Array[],
  settings: SampleRowOptions,
  extra: Record<string, unknown>,
  label: string,
  n = 8,
  on: WebGPUBackend = backend,
) {
  const cols = rows[0].length;
  const logits = new Float32Array(rows.length * cols);
  rows.forEach((r, i) => {
    logits.set(r, i * cols);
  });
  const snapshot = logits.slice();
  const seeds = rows.map((_, i) => 1000 + 7 * i);
  const steps = rows.map((_, i) => i * 3);
  const { history, logitBias, mask, ...scalars } = settings;
  const options: Record<string, unknown> = {
    cols,
    ...scalars,
    ...extra,
    seed: seeds,
    step: steps,
    logprobs: true,
    topLogprobs: n,
  };
  if (history) options.history = rows.map(() => Array.from(history));
  if (logitBias) options.logitBias = logitBias;
  if (mask) options.mask = mask;
  const got = (await on.sample(logits, options as never)) as Got;
  expect(Array.from(logits), `${label}: the logits were modified`).toEqual(Array.from(snapshot));
  for (const [i, r] of rows.entries()) {
    expectRow(got, i, r, settings, sampleUniform(seeds[i], i, steps[i]), n, `${label}, row ${i}`);
  }
}

const COMBOS: Array<[string, (cols: number) => SampleRowOptions]> = [
  ['defaults', () => ({})],
  ['greedy', () => ({ temperature: 0 })],
  ['temperature 0.5', () => ({ temperature: 0.5 })],
  ['topK 1', () => ({ topK: 1 })],
  ['topK 50', () => ({ topK: 50 })],
  ['topP 0.3', () => ({ topP: 0.3 })],
  ['topP 0.95', () => ({ topP: 0.95 })],
  ['minP 0.2', () => ({ minP: 0.2 })],
  [
    'penalties',
    (cols) => ({
      history: [0, 0, 5, 9, 9, 9, cols - 1],
      repetitionPenalty: 1.3,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
    }),
  ],
  ['logitBias', (cols) => ({ logitBias: { ids: [1, 4, cols - 2], values: [6, -3, 9] } })],
  ['mask', (cols) => ({ mask: MASK(cols, (j) => j % 5 !== 2) })],
  ['temperature 0.7, topK 50, topP 0.9, minP 0.05', () => ({ temperature: 0.7, topK: 50, topP: 0.9, minP: 0.05 })],
  [
    'everything',
    (cols) => ({
      history: [3, 3, 8],
      repetitionPenalty: 1.2,
      logitBias: { ids: [3, 8], values: [2, 1] },
      mask: MASK(cols, (j) => j % 3 !== 1),
      temperature: 1.4,
      topK: 20,
      topP: 0.8,
      minP: 0.02,
    }),
  ],
];

describe('sample on WebGPU against core', () => {
  for (const cols of [40, 1000, 3000]) {
    it.each(COMBOS.map(([name, s]) => ({ name, s })))(`${cols} wide, $name`, async ({ name, s }) => {
      const rows = [0, 1, 2].map((k) => randomRow(cols, cols + 31 * k));
      await checkCall(rows, s(cols), {}, `${cols} × ${name}`, cols <= 40 ? cols : 8);
    });
  }

  it('per-row settings in one batch', async () => {
    const cols = 500;
    const settings = COMBOS.map(([, s]) => s(cols));
    const rows = settings.map((_, i) => randomRow(cols, 77 + i));
    const logits = new Float32Array(rows.length * cols);
    rows.forEach((r, i) => {
      logits.set(r, i * cols);
    });
    const pick = <K extends keyof SampleRowOptions>(key: K, fallback: number) =>
      settings.map((s) => (s[key] as number | undefined) ?? fallback);
    const everything = MASK(cols, () => true);
    const biases = settings.map((s) => s.logitBias ?? { ids: [], values: [] });
    const offsets = [0];
    for (const b of biases) offsets.push(offsets[offsets.length - 1] + b.ids.length);
    const seeds = rows.map((_, i) => 5 + i);
    const got = (await backend.sample(logits, {
      cols,
      temperature: pick('temperature', 1),
      topK: pick('topK', 0),
      topP: pick('topP', 1),
      minP: pick('minP', 0),
      repetitionPenalty: pick('repetitionPenalty', 1),
      presencePenalty: pick('presencePenalty', 0),
      frequencyPenalty: pick('frequencyPenalty', 0),
      history: settings.map((s) => Array.from(s.history ?? [])),
      logitBias: {
        ids: biases.flatMap((b) => Array.from(b.ids)),
        values: biases.flatMap((b) => Array.from(b.values)),
        offsets,
      },
      mask: Uint32Array.from(settings.flatMap((s) => Array.from(s.mask ?? everything))),
      seed: seeds,
      logprobs: true,
      topLogprobs: 6,
    })) as Got;
    for (const [i, r] of rows.entries()) {
      expectRow(got, i, r, settings[i], sampleUniform(seeds[i], i, 0), 6, `row ${i} (${COMBOS[i][0]})`);
    }
  });

  it('adversarial rows: all equal, ties at the top-k and top-p cuts, ±Infinity', async () => {
    const INF = Number.POSITIVE_INFINITY;
    const equal = new Float32Array(300).fill(0.25);
    const tiedK = Float32Array.from({ length: 200 }, (_, j) => [4, 3, 3, 3, 2, 1][j % 6]);
    // Top-p 0.5 over five equal leaders of 0.12 each: the cut falls inside their group, which stays whole.
    const tiedP = Float32Array.from({ length: 64 }, (_, j) => (j % 13 === 0 ? 3 : 0));
    const inf = Float32Array.from({ length: 100 }, (_, j) =>
      j === 17 || j === 60 ? INF : j % 9 === 0 ? -INF : j / 10,
    );
    const negInf = Float32Array.from({ length: 100 }, (_, j) => (j % 2 ? -INF : Math.cos(j)));
    for (const [name, row] of [
      ['all equal', equal],
      ['ties at the k-th', tiedK],
      ['ties at the top-p cut', tiedP],
      ['+Infinity', inf],
      ['−Infinity', negInf],
    ] as const) {
      for (const s of [{}, { temperature: 0 }, { topK: 3 }, { topK: 2, topP: 0.5 }, { topP: 0.5 }, { minP: 0.5 }]) {
        await checkCall([row, row], s, {}, `${name} ${JSON.stringify(s)}`, 12);
      }
    }
  });

  it('a NaN at an allowed id is a SoftmaxError naming the row; at a masked id it is ignored', async () => {
    const row = randomRow(100, 3);
    const logits = new Float32Array(300);
    logits.set(row, 0);
    logits.set(row, 100);
    logits.set(row, 200);
    logits[150] = Number.NaN;
    const error = await backend.sample(logits, { cols: 100, seed: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SoftmaxError);
    expect((error as SoftmaxError).message).toContain('row 1');
    const mask = MASK(100, (j) => j !== 50);
    const got = (await backend.sample(logits, { cols: 100, seed: 2, mask, logprobs: true, topLogprobs: 5 })) as Got;
    for (let i = 0; i < 3; i++) expectRow(got, i, row, { mask }, sampleUniform(2, i, 0), 5, `masked NaN, row ${i}`);
  });

  it('32000 wide: temperature 0.7, topK 50, topP 0.9; topP 0.95 alone; greedy', async () => {
    const rows = [randomRow(32000, 11, 12), randomRow(32000, 12, 12)];
    await checkCall(rows, { temperature: 0.7, topK: 50, topP: 0.9 }, {}, '32000 × k50 p0.9', 20);
    await checkCall(rows, { topP: 0.95 }, {}, '32000 × p0.95', 8);
    await checkCall(rows, { temperature: 0 }, {}, '32000 × greedy', 4);
  });

  it('151936 wide (Qwen 2): temperature 0.7, topK 50, topP 0.9', async () => {
    const rows = [randomRow(151936, 21, 12)];
    await checkCall(rows, { temperature: 0.7, topK: 50, topP: 0.9 }, {}, '151936 × k50 p0.9', 10);
  });
});

describe('sample on each unit layout and reduction (the GPU-sized rows of 256 threads among them)', () => {
  for (const [label, tuning] of REDUCTION_TUNINGS) {
    it(label, async () => {
      const on = await gpuBackend({ tuning });
      try {
        for (const cols of [200, 3000]) {
          const rows = [randomRow(cols, 3 * cols), randomRow(cols, 3 * cols + 1)];
          for (const [name, s] of COMBOS.filter(([n]) => /greedy|topP 0.95|topK 50|everything|penalties/.test(n))) {
            await checkCall(rows, s(cols), {}, `${label}, ${cols} × ${name}`, 6, on);
          }
        }
      } finally {
        on.dispose();
      }
    });
  }
});

describe('encodeSample on the caller’s buffers', () => {
  const int32 = async (b: GPUBuffer, n: number) => new Int32Array((await readBack(backend.device, b, n)).buffer);

  it('writes the array API’s tokens, log-probabilities and top ids; reads back 4 bytes a row; leaves the logits', async () => {
    const { device } = backend;
    const rows = 3;
    const cols = 2000;
    const x = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) x.set(randomRow(cols, 40 + i), i * cols);
    const options = {
      temperature: [0.8, 0, 1.2],
      topK: 40,
      topP: [0.9, 1, 0.5],
      seed: 99,
      step: [4, 5, 6],
      history: [[1, 2], [], [7, 7]],
      repetitionPenalty: 1.1,
      mask: MASK(cols, (j) => j !== 5),
    };
    const logits = upload(device, x);
    const make = (values: number) => device.createBuffer({ size: values * 4, usage: STORAGE | COPY_SRC | COPY_DST });
    const tokens = make(rows);
    const logprobs = make(rows);
    const topIds = make(rows * 4);
    const topLogprobs = make(rows * 4);
    const encoder = device.createCommandEncoder();
    backend.encodeSample(
      encoder,
      { logits, tokens, logprobs, topIds, topLogprobs },
      {
        rows,
        cols,
        ...options,
        logprobs: true,
        topLogprobs: 4,
      },
    );
    device.queue.submit([encoder.finish()]);
    const expected = (await backend.sample(x, { cols, ...options, logprobs: true, topLogprobs: 4 })) as Got;
    // 4 bytes a row: the tokens alone.
    expect(Array.from(await int32(tokens, rows))).toEqual(Array.from(expected.tokens));
    expect(Array.from(await readBack(device, logprobs, rows))).toEqual(Array.from(expected.logprobs as Float32Array));
    expect(Array.from(await int32(topIds, rows * 4))).toEqual(Array.from(expected.top?.ids ?? []));
    expect(Array.from(await readBack(device, topLogprobs, rows * 4))).toEqual(Array.from(expected.top?.logprobs ?? []));
    expect(Array.from(await readBack(device, logits, rows * cols))).toEqual(Array.from(x));
    // And against the reference, row by row.
    const tok = await int32(tokens, rows);
    for (let i = 0; i < rows; i++) {
      const row = x.subarray(i * cols, (i + 1) * cols);
      const s: SampleRowOptions = {
        temperature: options.temperature[i],
        topK: 40,
        topP: options.topP[i],
        history: options.history[i],
        repetitionPenalty: 1.1,
        mask: options.mask,
      };
      expectRow({ tokens: tok }, i, row, s, sampleUniform(99, i, options.step[i]), 0, `encodeSample row ${i}`);
    }
    for (const b of [logits, tokens, logprobs, topIds, topLogprobs]) b.destroy();
  });

  it('two calls in one encoder each read their own settings; the generic encode() takes core’s order', async () => {
    const { device } = backend;
    const cols = 300;
    const x = randomRow(cols, 5);
    const logits = upload(device, x);
    const a = device.createBuffer({ size: 4, usage: STORAGE | COPY_SRC });
    const b = device.createBuffer({ size: 4, usage: STORAGE | COPY_SRC });
    const encoder = device.createCommandEncoder();
    backend.encodeSample(encoder, { logits, tokens: a }, { rows: 1, cols, temperature: 0 });
    backend.encode('sample', encoder, { inputs: [logits], outputs: [b] }, {
      rows: 1,
      cols,
      logitBias: { ids: [123], values: [100] },
    } as never);
    device.queue.submit([encoder.finish()]);
    expect((await int32(a, 1))[0]).toBe(sampleKeep(x, { temperature: 0 }).kept[0]);
    expect((await int32(b, 1))[0]).toBe(123);
  });

  it('refuses bad arguments before recording anything', async () => {
    const { device } = backend;
    const logits = upload(device, new Float32Array(64));
    const tokens = device.createBuffer({ size: 8, usage: STORAGE | COPY_SRC });
    const mapped = device.createBuffer({ size: 8, usage: 1 | COPY_DST, mappedAtCreation: true });
    const shape = { rows: 2, cols: 32 };
    await refuses(backend, (e) => backend.encodeSample(e, { logits, tokens }, { rows: 3, cols: 32 }), /cannot hold/);
    await refuses(
      backend,
      (e) => backend.encodeSample(e, { logits, tokens }, { ...shape, logprobs: true }),
      /logprobs/,
    );
    await refuses(backend, (e) => backend.encodeSample(e, { logits, tokens }, { ...shape, topLogprobs: 2 }), /topIds/);
    await refuses(backend, (e) => backend.encodeSample(e, { logits, tokens }, { ...shape, topP: 0 }), /options\.topP/);
    await refuses(
      backend,
      (e) => backend.encodeSample(e, { logits, tokens }, { ...shape, top_k: 3 } as never),
      /top_k/,
    );
    await refuses(backend, (e) => backend.encodeSample(e, { logits, tokens: logits }, shape), /same buffer/);
    await refuses(backend, (e) => backend.encodeSample(e, { logits, tokens: mapped }, shape), /tokens/);
    await refuses(backend, () => backend.encodeSample({} as GPUCommandEncoder, { logits, tokens }, shape), /encoder/);
    await refuses(
      backend,
      (e) => backend.encodeSample(e, { logits, tokens }, { ...shape, mask: new Uint32Array(3) }),
      /options\.mask/,
    );
    mapped.unmap();
    for (const b of [logits, tokens, mapped]) b.destroy();
  });
});
