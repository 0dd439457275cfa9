import type { Backend, Dtype, FloatArray } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { chiSquare } from '../chi-square.js';
import { ALL_DTYPES, DTYPES } from '../dtypes.js';
import { type OracleSample, type OracleSampleRow, oracleDraw, oracleSample } from '../oracle-sample.js';
import { oracleUniform } from '../philox-oracle.js';
import {
  CHI_SQUARE_CASES,
  CHI_SQUARE_P_MIN,
  DRAW_SEEDS,
  HAND_VECTORS,
  maskWords,
  SAMPLE_BAD_OPTIONS,
  SAMPLE_COMBOS,
  SAMPLE_PATTERNS,
  sampleCase,
} from '../vectors-sample.js';
import { expectSoftmaxError, failure } from './errors.js';
import type { SuiteContext } from './ops.js';

/**
 * sample against the independent oracle (oracle-sample.ts) and u from the BigInt Philox
 * (philox-oracle.ts). The kept set is read from `topLogprobs: cols` (every kept id with its
 * log-probability, then −1); the token must be the oracle's, or the id across the boundary when u
 * lies within the backend's `sampleMargin` of it. Log-probabilities are held to
 * (rtol + 2^-23)·(|ref| + 1 + max |x − max|/T): log-softmax's bound, plus the rounding of the
 * scaled logits and of the float32 result.
 */

interface Sampled {
  tokens: Int32Array;
  logprobs?: Float32Array;
  top?: { ids: Int32Array; logprobs: Float32Array };
}

const run = async (ctx: SuiteContext, logits: FloatArray, options: Record<string, unknown>): Promise<Sampled> =>
  (await ctx.backend().sample(logits, options as never)) as Sampled;

const SCALARS = [
  ['temperature', 1],
  ['topK', 0],
  ['topP', 1],
  ['minP', 0],
  ['repetitionPenalty', 1],
  ['presencePenalty', 0],
  ['frequencyPenalty', 0],
] as const;

/**
 * The call's options for rows of the given settings, each a value per row: per-row arrays, the
 * history as one array per row, the biases with offsets, one mask per row (all ids for a row
 * without one).
 */
function batchOptions(settings: readonly OracleSampleRow[], cols: number): Record<string, unknown> {
  const o: Record<string, unknown> = { cols };
  for (const [key, fallback] of SCALARS) {
    if (settings.some((s) => s[key] !== undefined)) o[key] = settings.map((s) => s[key] ?? fallback);
  }
  if (settings.some((s) => s.history)) o.history = settings.map((s) => [...(s.history ?? [])]);
  if (settings.some((s) => s.bias)) {
    const all = settings.map((s) => s.bias ?? []);
    const offsets = [0];
    for (const b of all) offsets.push(offsets[offsets.length - 1] + b.length);
    o.logitBias = { ids: all.flat().map((b) => b[0]), values: all.flat().map((b) => b[1]), offsets };
  }
  if (settings.some((s) => s.mask)) {
    const everything = maskWords(cols, () => true);
    o.mask = Uint32Array.from(settings.flatMap((s) => s.mask ?? everything));
  }
  return o;
}

/** Asserts one row of `top` (n = cols entries) against the oracle's kept set, order and log-probabilities. */
function expectKept(ctx: SuiteContext, top: Sampled['top'], row: number, n: number, o: OracleSample, label: string) {
  expect(top, `${label}: no top`).toBeDefined();
  const ids = Array.from((top as NonNullable<Sampled['top']>).ids.subarray(row * n, (row + 1) * n));
  const lps = Array.from((top as NonNullable<Sampled['top']>).logprobs.subarray(row * n, (row + 1) * n));
  const kept = ids.filter((id) => id >= 0);
  expect(
    [...kept].sort((a, b) => a - b),
    `${label}: the kept set`,
  ).toEqual(o.kept);
  for (let k = 0; k < n; k++) {
    if (k >= kept.length) {
      expect(
        ids[k] === -1 && lps[k] === -Infinity,
        `${label}: entry ${k} past the kept set is ${ids[k]}, ${lps[k]}`,
      ).toBe(true);
      continue;
    }
    const id = ids[k];
    // Most probable first: the same processed logit as the oracle's k-th, ties by ascending id.
    expect(o.processed[id], `${label}: entry ${k} is id ${id}, expected one like id ${o.ranked[k]}`).toBe(
      o.processed[o.ranked[k]],
    );
    if (k > 0 && o.processed[ids[k - 1]] === o.processed[id]) {
      expect(id, `${label}: tied ids ${ids[k - 1]}, ${id} not in ascending order`).toBeGreaterThan(ids[k - 1]);
    }
    const ref = o.logprob.get(id) as number;
    const bound = (ctx.rtol + 2 ** -23) * (Math.abs(ref) + 1 + o.zScale);
    expect(
      Math.abs(lps[k] - ref),
      `${label}: log-probability of id ${id}: ${lps[k]}, expected ${ref}`,
    ).toBeLessThanOrEqual(bound);
  }
}

/** Asserts a row's token (and its log-probability) against the oracle's draw for u. */
function expectToken(ctx: SuiteContext, got: Sampled, row: number, o: OracleSample, u: number, label: string) {
  const draw = oracleDraw(o, u);
  const token = got.tokens[row];
  const near = draw.margin < ctx.sampleMargin;
  const ok = token === draw.token || (near && token === draw.neighbour);
  expect(
    ok,
    `${label}: u = ${u} drew ${token}, expected ${draw.token}${near ? ` or ${draw.neighbour} (u within ${draw.margin} of their boundary)` : ''}`,
  ).toBe(true);
  if (got.logprobs) {
    const ref = o.logprob.get(token) as number;
    const bound = (ctx.rtol + 2 ** -23) * (Math.abs(ref) + 1 + o.zScale);
    expect(
      Math.abs(got.logprobs[row] - ref),
      `${label}: logprob ${got.logprobs[row]}, expected ${ref}`,
    ).toBeLessThanOrEqual(bound);
  }
}

/** The values as the dtype holds them. */
const rounder = (ctx: SuiteContext) => (values: number[]) => Array.from(ctx.dtype.ArrayType.from(values));

const CASES = SAMPLE_PATTERNS.flatMap((pattern) => SAMPLE_COMBOS.map((combo) => ({ pattern, combo })));

export function registerSampleTests(ctx: SuiteContext): void {
  const A = ctx.dtype.ArrayType;

  describe('sample', () => {
    it.each(CASES.map((c) => ({ ...c, name: `${c.pattern.name} × ${c.combo.name}` })))(
      'kept set, order, log-probabilities and draws: $name',
      async ({ pattern, combo }) => {
        const c = sampleCase(pattern, combo, rounder(ctx));
        const o = oracleSample(c.row, c.settings);
        const rows = DRAW_SEEDS.length;
        const logits = A.from(Array.from({ length: rows }, () => c.row).flat());
        const snapshot = logits.slice();
        const options = {
          ...batchOptions(Array(rows).fill(c.settings), c.cols),
          seed: [...DRAW_SEEDS],
          step: DRAW_SEEDS.map((_, i) => 3 * i),
          logprobs: true,
          topLogprobs: c.cols,
        };
        const got = await run(ctx, logits, options);
        expect(got.tokens).toBeInstanceOf(Int32Array);
        expect(got.tokens.length).toBe(rows);
        expect(Array.from(logits), 'the logits were modified').toEqual(Array.from(snapshot));
        for (let i = 0; i < rows; i++) {
          const label = `${c.pattern} (seed ${c.seed}) × ${c.combo}, row ${i}`;
          expectKept(ctx, got.top, i, c.cols, o, label);
          expectToken(ctx, got, i, o, oracleUniform(DRAW_SEEDS[i], i, 3 * i), label);
        }
      },
    );

    it('per-row settings in one batch: every combination a row of its own', async () => {
      const pattern = SAMPLE_PATTERNS[0];
      const cases = SAMPLE_COMBOS.map((combo, i) => sampleCase(pattern, combo, rounder(ctx), 100 + 17 * i));
      const seeds = cases.map((_, i) => (DRAW_SEEDS[i % DRAW_SEEDS.length] + i) % 2 ** 53);
      const steps = cases.map((_, i) => i * 5 + 1);
      const options = {
        ...batchOptions(
          cases.map((c) => c.settings),
          pattern.cols,
        ),
        seed: seeds,
        step: steps,
        logprobs: true,
        topLogprobs: pattern.cols,
      };
      const got = await run(ctx, A.from(cases.flatMap((c) => c.row)), options);
      cases.forEach((c, i) => {
        const o = oracleSample(c.row, c.settings);
        const label = `row ${i} (${c.combo})`;
        expectKept(ctx, got.top, i, pattern.cols, o, label);
        expectToken(ctx, got, i, o, oracleUniform(seeds[i], i, steps[i]), label);
      });
    });

    it.each(HAND_VECTORS)('penalties and bias against hand-computed rows: $name', async (v) => {
      const T = v.temperature ?? 1;
      const got = await run(ctx, A.from(v.logits), {
        cols: v.cols,
        ...v.options,
        temperature: T,
        seed: 0,
        topLogprobs: v.cols,
      });
      v.processed.forEach((z, r) => {
        const finite = z.map((x) => x / T).filter((x) => x > -Infinity);
        const max = Math.max(...finite);
        const lse = max + Math.log(finite.reduce((s, x) => s + Math.exp(x - max), 0));
        const ids = Array.from((got.top as NonNullable<Sampled['top']>).ids.subarray(r * v.cols, (r + 1) * v.cols));
        const lps = (got.top as NonNullable<Sampled['top']>).logprobs.subarray(r * v.cols, (r + 1) * v.cols);
        const expectedIds = z.flatMap((x, j) => (x > -Infinity ? [j] : []));
        expect(
          ids.filter((id) => id >= 0).sort((a, b) => a - b),
          `row ${r}: ids`,
        ).toEqual(expectedIds);
        ids.forEach((id, k) => {
          if (id < 0) return;
          const ref = z[id] / T - lse;
          const bound = (ctx.rtol + 2 ** -23) * (Math.abs(ref) + 1 + (max - z[id] / T));
          expect(Math.abs(lps[k] - ref), `row ${r}, id ${id}: ${lps[k]}, expected ${ref}`).toBeLessThanOrEqual(bound);
        });
      });
    });

    it('greedy (temperature 0) takes the largest processed logit, ties to the lowest id', async () => {
      const logits = A.from([1, 7, 3, 7, 7, 0, 0, 0, 2, -1, 5, 5]);
      const got = await run(ctx, logits, { cols: 4, temperature: 0, logprobs: true });
      expect(Array.from(got.tokens)).toEqual([1, 0, 2]);
      expect(Array.from(got.logprobs as Float32Array)).toEqual([0, 0, 0]);
      const masked = await run(ctx, logits, { cols: 4, temperature: 0, mask: new Uint32Array([0b1100]) });
      expect(Array.from(masked.tokens)).toEqual([3, 2, 2]);
    });

    it('a NaN row, a row of only −Infinity and a row whose allowed ids are −Infinity are SoftmaxErrors naming the row', async () => {
      const cases: Array<{ values: number[]; options: Record<string, unknown>; row: number }> = [
        { values: [1, 2, 3, 4, Number.NaN, 6, 7, 8, 9], options: { cols: 3 }, row: 1 },
        { values: [1, 2, 3, 4, 5, 6, -Infinity, -Infinity, -Infinity], options: { cols: 3 }, row: 2 },
        { values: [1, -Infinity, 3], options: { mask: new Uint32Array([0b010]) }, row: 0 },
      ];
      for (const c of cases) {
        const error = await failure(() => ctx.backend().sample(A.from(c.values), { ...c.options, seed: 1 } as never));
        expectSoftmaxError(error, { code: 'INVALID_INPUT', message: [`row ${c.row}`] }, `${c.values}`);
      }
      // A NaN at an id the mask disallows is ignored: only allowed ids are drawn from.
      const got = await run(ctx, A.from([Number.NaN, 2, 1]), {
        mask: new Uint32Array([0b110]),
        seed: 1,
        topLogprobs: 3,
      });
      expect(Array.from((got.top as NonNullable<Sampled['top']>).ids).sort((a, b) => a - b)).toEqual([-1, 1, 2]);
    });

    it('returns Int32Array tokens, Float32Array log-probabilities, top only when asked; empty input', async () => {
      const logits = A.from([0, 1, 2, 3, 4, 5]);
      const plain = await run(ctx, logits, { cols: 3, seed: 4 });
      expect(Object.keys(plain).sort()).toEqual(['tokens']);
      const full = await run(ctx, logits, { cols: 3, seed: 4, logprobs: true, topLogprobs: 2 });
      expect(full.logprobs).toBeInstanceOf(Float32Array);
      expect(full.top?.ids).toBeInstanceOf(Int32Array);
      expect(full.top?.logprobs).toBeInstanceOf(Float32Array);
      expect([full.logprobs?.length, full.top?.ids.length, full.top?.logprobs.length]).toEqual([2, 4, 4]);
      expect(Array.from(full.tokens)).toEqual(Array.from(plain.tokens));
      const none = await run(ctx, logits, { cols: 3, seed: 4, topLogprobs: 0 });
      expect(none.top?.ids.length).toBe(0);
      const empty = await run(ctx, new A(0), { cols: 3, logprobs: true });
      expect(empty.tokens).toEqual(new Int32Array(0));
      expect(empty.logprobs).toEqual(new Float32Array(0));
    });

    it.each(SAMPLE_BAD_OPTIONS)('bad options: $name → $code', async (row) => {
      const logits = A.from([1, 2, 3, 4, 5, 6]);
      const snapshot = logits.slice();
      const error = await failure(() => ctx.backend().sample(logits, { cols: 3, ...row.options } as never));
      expectSoftmaxError(error, row, `sample ${row.name}`);
      expect(Array.from(logits)).toEqual(Array.from(snapshot));
    });

    it.each(CHI_SQUARE_CASES)(
      `100,000 seeded draws match the processed distribution (chi-square, p ≥ ${CHI_SQUARE_P_MIN}): $name`,
      async (c) => {
        const row = rounder(ctx)(c.logits);
        const cols = row.length;
        const o = oracleSample(row, c.settings);
        const logits = new A(c.rows * cols);
        for (let i = 0; i < c.rows; i++) logits.set(row, i * cols);
        const { history, bias, mask, ...scalars } = c.settings;
        const options: Record<string, unknown> = { cols, ...scalars, ...c.draws(c.rows) };
        if (bias) options.logitBias = { ids: bias.map((b) => b[0]), values: bias.map((b) => b[1]) };
        if (mask) options.mask = Uint32Array.from(mask);
        if (history) {
          // One history for every row: rows × length, flat.
          const flat = new Int32Array(c.rows * history.length);
          for (let i = 0; i < c.rows; i++) flat.set(history, i * history.length);
          options.history = flat;
        }
        const got = await run(ctx, logits, options);
        const counts = new Float64Array(cols);
        for (const t of got.tokens) counts[t]++;
        const kept = new Set(o.kept);
        for (let j = 0; j < cols; j++) {
          if (!kept.has(j)) expect(counts[j], `id ${j} is outside the kept set ${o.kept}`).toBe(0);
        }
        const probabilities = o.kept.map((j) => Math.exp(o.logprob.get(j) as number));
        const test = chiSquare(
          o.kept.map((j) => counts[j]),
          probabilities,
          c.rows,
        );
        expect(
          test.p,
          `chi-square ${test.statistic.toFixed(2)} on ${test.df} degrees of freedom: p = ${test.p} (bins ${JSON.stringify(test.bins.map(([e, s]) => [Math.round(e), s]))})`,
        ).toBeGreaterThanOrEqual(CHI_SQUARE_P_MIN);
      },
    );
  });
}

/** The float types the backend does not list for sample must be refused. */
export function registerSampleDtypeTests(backendOf: () => Backend): void {
  const unlisted = ALL_DTYPES.filter((d: Dtype) => !backendOf().ops.sample?.includes(d));
  if (unlisted.length === 0) return;
  describe('sample: float types it does not list', () => {
    it.each(unlisted)('sample(%s logits) → UNSUPPORTED_DTYPE', async (dtype) => {
      const error = await failure(() => backendOf().sample(DTYPES[dtype].ArrayType.from([1, 2, 3]), { seed: 0 }));
      expectSoftmaxError(error, { code: 'UNSUPPORTED_DTYPE', message: ['logits'] }, `sample(${dtype})`);
    });
  });
}
