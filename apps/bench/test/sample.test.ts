import { planOf, type Suite, sampleShapes, sampleVariants, scenarioLabel, suites } from '@softmax/bench-scenarios';
import { seededRandom } from '@softmax/conformance/helpers';
import { OPS, sampleUniform } from '@softmax/core/backend';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Candidate, LoadContext, Loaded, Output, Problem } from '../src/candidate.js';
import { copy } from '../src/candidates/copy.js';
import { core } from '../src/candidates/core.js';
import { jsArgmax, jsSort } from '../src/candidates/js-sort.js';
import { wasmSoftmaxTopP } from '../src/candidates/softmax-topp.js';
import { LLM_TOP, llmLogits, makeInputs } from '../src/inputs.js';
import type { Measurement, RunResult } from '../src/results.js';
import { checkOf, runSuite } from '../src/runner.js';
import { repeatableOptions, sampleExpectation, verifySample } from '../src/sample-check.js';
import { sampleGoalLines, sampleRatios, sampleSection } from '../src/sample-report.js';

const context: LoadContext = { env: 'node' };
const plan = { logits: 'llm' as const };

describe('sample scenarios', () => {
  it('are registered in the full suite at the issue shapes and calls, float32, LLM-like logits', () => {
    const s = suites.full.perOp!.sample!;
    expect(suites.full.ops).toContain('sample');
    expect(s.shapes).toEqual([
      { rows: 1, cols: 32000 },
      { rows: 1, cols: 128256 },
      { rows: 1, cols: 151936 },
      { rows: 32, cols: 151936 },
    ]);
    expect(s.dtypes).toEqual(['float32']);
    expect(s.logits).toBe('llm');
    expect(s.variants!.map((v) => v.options)).toEqual([
      { temperature: 0.7, topK: 50, topP: 0.9 },
      { topP: 0.95 },
      { temperature: 0 },
    ]);
    const labels = planOf(suites.full)
      .filter((p) => p.op === 'sample')
      .map((p) => scenarioLabel({ ...p, variant: p.variant?.name }));
    expect(labels).toHaveLength(sampleVariants.length * sampleShapes.length);
    expect(labels).toContain('sample p0.95 float32 1×151936');
    expect(labels).toContain('sample greedy float32 32×151936');
    expect(suites.quick.perOp!.sample!.variants).toEqual(sampleVariants);
  });

  it('makes LLM-like rows: seeded, a heavy top of a few hundred ids over a normal tail', () => {
    const cols = 32000;
    const a = new Float32Array(cols);
    const b = new Float32Array(cols);
    llmLogits(a, 1, cols, seededRandom(7));
    llmLogits(b, 1, cols, seededRandom(7));
    expect(b).toEqual(a);
    // Written out here: the probabilities at T = 1, most probable first.
    const max = Math.max(...a);
    const w = Array.from(a, (v) => Math.exp(v - max));
    const total = w.reduce((s, v) => s + v, 0);
    const p = w.map((v) => v / total).sort((x, y) => y - x);
    const keptFor = (topP: number) => {
      let c = 0;
      for (let k = 0; k < p.length; k++) {
        c += p[k];
        if (c >= topP) return k + 1;
      }
      return p.length;
    };
    expect(p[0]).toBeGreaterThan(0.05);
    expect(keptFor(0.9)).toBeLessThan(LLM_TOP);
    expect(keptFor(0.95)).toBeGreaterThan(keptFor(0.9));
    // The tail is normal: the median logit is near 0.
    const sorted = Float64Array.from(a).sort();
    expect(Math.abs(sorted[cols >> 1])).toBeLessThan(0.1);
    // makeInputs uses it for a plan that asks.
    const [x] = makeInputs('sample', 'float32', 2, 1000, 1, plan);
    expect(Math.max(...(x as Float32Array))).toBeGreaterThan(10);
  });
});

/** A row of two ids whose boundary lies `gap` above u (in probability), u being row 0's under seed 0. */
function twoIds(gap: number): Float32Array {
  const u = sampleUniform(0, 0, 0);
  const p0 = u + gap;
  return Float32Array.of(Math.log(p0), Math.log(1 - p0));
}

const check = (logits: Float32Array, cols: number, options: Record<string, unknown>) =>
  sampleExpectation(logits, logits.length / cols, cols, repeatableOptions(options), 'float32');

describe("the benchmark's sample check", () => {
  it('calls with the op’s repeatable seed', () => {
    expect(repeatableOptions({ topP: 0.9 })).toEqual({ topP: 0.9, ...OPS.sample.repeatable });
    expect(OPS.sample.repeatable).toHaveProperty('seed');
  });

  it('accepts the id across a boundary u lies within the margin of, and rejects it farther away', () => {
    const u = sampleUniform(0, 0, 0);
    const near = twoIds(2e-5);
    // Independently: p0 of the float32 row, in float64, is above u (token 0) by less than the margin.
    const p0 = Math.exp(near[0]) / (Math.exp(near[0]) + Math.exp(near[1]));
    expect(p0 - u).toBeGreaterThan(0);
    expect(p0 - u).toBeLessThan(1e-4);
    const e = check(near, 2, {});
    expect(verifySample({ tokens: Int32Array.of(0) }, e, false).ok).toBe(true);
    expect(verifySample({ tokens: Int32Array.of(1) }, e, false)).toMatchObject({ ok: true, detail: '1 neighbour' });
    expect(verifySample({ tokens: Int32Array.of(0) }, e, false).detail).toBe('1 exact');
    const far = check(twoIds(0.1), 2, {});
    expect(verifySample({ tokens: Int32Array.of(0) }, far, false).ok).toBe(true);
    const wrong = verifySample({ tokens: Int32Array.of(1) }, far, false);
    expect(wrong.ok).toBe(false);
    expect(wrong.detail).toMatch(/row 0: u = .* drew 1, expected 0/);
  });

  it('accepts only the neighbour across the near boundary, not any other id', () => {
    // Three ids: the boundary between 0 and 1 just above u, id 2 far from it.
    const u = sampleUniform(0, 0, 0);
    const p = [u + 2e-5, (1 - u - 2e-5) / 2, (1 - u - 2e-5) / 2];
    const row = Float32Array.from(p, Math.log);
    const e = check(row, 3, {});
    expect(verifySample({ tokens: Int32Array.of(1) }, e, false).ok).toBe(true);
    expect(verifySample({ tokens: Int32Array.of(2) }, e, false).ok).toBe(false);
  });

  it('holds a peer with its own generator to the kept set, and a cut within the margin of topP to topP + margin', () => {
    const row = Float32Array.from([0.5, 0.3, 0.2], Math.log);
    const topK = check(row, 3, { topK: 2 });
    expect(verifySample({ tokens: Int32Array.of(1) }, topK, true).ok).toBe(true);
    expect(verifySample({ tokens: Int32Array.of(2) }, topK, true).ok).toBe(false);
    // topP 0.8 − 1e-5: the reference keeps {0, 1} (0.8 reaches it), 1e-5 away; id 2 would be kept at topP + 1e-3.
    const close = check(row, 3, { topP: 0.8 - 1e-5 });
    expect(Array.from(close.rows[0].keep.kept)).toEqual([0, 1]);
    expect(verifySample({ tokens: Int32Array.of(2) }, close, true)).toMatchObject({ ok: true, detail: '1 cut' });
    const clear = check(row, 3, { topP: 0.7 });
    expect(verifySample({ tokens: Int32Array.of(2) }, clear, true).ok).toBe(false);
  });

  it('rejects results that are not one Int32Array token per row', () => {
    const e = check(twoIds(0.1), 2, {});
    expect(verifySample({ tokens: Int32Array.of(0, 0) }, e, false).ok).toBe(false);
    expect(verifySample({ tokens: Float32Array.of(0) } as unknown as Output, e, false).ok).toBe(false);
    expect(verifySample({ tokens: Int32Array.of(7) }, e, true).detail).toMatch(/not an id/);
  });
});

/** One checked call of a candidate on the problem, as the harness makes it. */
async function once(l: Loaded, p: Problem, rounds = 1) {
  const { check: verdictOf } = checkOf(p.op, p.dtype, p.inputs, p.rows, p.cols, p.options);
  const prepared = await l.prepare(p);
  const verdicts = [];
  for (let i = 0; i < rounds; i++) {
    await prepared.run();
    verdicts.push(verdictOf(await prepared.output(), prepared));
  }
  await prepared.dispose();
  return verdicts;
}

describe('sample candidates', () => {
  const rows = 6;
  const cols = 3000;
  const inputs = makeInputs('sample', 'float32', rows, cols, 1, plan);
  const problem = (options: Record<string, unknown>): Problem => ({
    op: 'sample',
    dtype: 'float32',
    mode: 'user',
    rows,
    cols,
    inputs,
    x: inputs[0] as Float32Array,
    options: repeatableOptions(options),
  });
  const loaded = new Map<string, Loaded>();
  const candidates: Candidate[] = [core, jsSort, jsArgmax, wasmSoftmaxTopP];
  beforeAll(async () => {
    for (const c of candidates) loaded.set(c.id, await c.load(context));
  });
  afterAll(async () => {
    for (const l of loaded.values()) await l.dispose();
  });

  for (const v of sampleVariants) {
    it(`core draws the reference's tokens; the peers draw from its kept set (${v.name})`, async () => {
      const [coreVerdict] = await once(loaded.get('core')!, problem(v.options));
      expect(coreVerdict.ok, coreVerdict.detail).toBe(true);
      for (const id of ['js-sort', 'wasm-softmax+js']) {
        const l = loaded.get(id)!;
        expect(l.supports('sample', 'float32', 'user', repeatableOptions(v.options)), id).toBe(true);
        // Math.random: many draws, every one in the kept set.
        for (const verdict of await once(l, problem(v.options), 20))
          expect(verdict.ok, `${id}: ${verdict.detail}`).toBe(true);
        // And u just below 1: the least probable id the peer keeps, which must be one the reference keeps.
        const random = vi.spyOn(Math, 'random').mockReturnValue(1 - 2 ** -40);
        try {
          const [edge] = await once(l, problem(v.options));
          expect(edge.ok, `${id} at its cut: ${edge.detail}`).toBe(true);
        } finally {
          random.mockRestore();
        }
      }
    });
  }

  it('rejects a candidate that draws with another seed (the check is not one that cannot fail)', async () => {
    const other: Problem = { ...problem({ topP: 0.95 }), options: { topP: 0.95, seed: 12345 } };
    const prepared = await loaded.get('core')!.prepare(other);
    prepared.run();
    const out = await prepared.output();
    const { check: verdictOf } = checkOf('sample', 'float32', inputs, rows, cols, repeatableOptions({ topP: 0.95 }));
    const verdict = verdictOf(out, prepared);
    expect(verdict.ok).toBe(false);
    expect(verdict.detail).toMatch(/^wrong tokens: row \d+: u = /);
  });

  it('runs the max pass on greedy calls only, and it gives the greedy token', async () => {
    const l = loaded.get('js-argmax')!;
    expect(l.supports('sample', 'float32', 'user', repeatableOptions({ topP: 0.95 }))).toBe(false);
    const [verdict] = await once(l, problem({ temperature: 0 }));
    expect(verdict.ok, verdict.detail).toBe(true);
    // Independently: each row's first largest logit.
    const prepared = await l.prepare(problem({ temperature: 0 }));
    prepared.run();
    const { tokens } = (await prepared.output()) as { tokens: Int32Array };
    const x = inputs[0] as Float32Array;
    for (let i = 0; i < rows; i++) {
      const row = Array.from(x.subarray(i * cols, (i + 1) * cols));
      expect(tokens[i]).toBe(row.indexOf(Math.max(...row)));
    }
  });

  it('leaves out what the peers do not do (a mask, per-row settings)', () => {
    const l = loaded.get('js-sort')!;
    expect(l.supports('sample', 'float32', 'user', { mask: new Uint32Array(94) })).toBe(false);
    expect(l.supports('sample', 'float32', 'user', { topP: [0.9, 0.8] })).toBe(false);
    expect(l.supports('softmax', 'float32', 'user', {})).toBe(false);
  });
});

describe('a sample suite through the harness', () => {
  const suite: Suite = {
    name: 'test',
    shapes: [{ rows: 1, cols: 10 }],
    ops: ['sample'],
    dtypes: ['float32'],
    modes: ['user'],
    budget: { warmupMs: 1, sampleMs: 0.2, samples: 3, minSamples: 2, maxMs: 5 },
    perOp: {
      sample: { shapes: [{ rows: 2, cols: 4000 }], dtypes: ['float32'], variants: sampleVariants, logits: 'llm' },
    },
  };

  it('verifies and times every candidate on every call, and the section renders the pairs', async () => {
    const result = await runSuite({ suite, candidates: [core, jsSort, jsArgmax, copy], context, machine: {} });
    expect(result.scenarios.map((s) => scenarioLabel(s))).toEqual([
      'sample t0.7-k50-p0.9 float32 2×4000',
      'sample p0.95 float32 2×4000',
      'sample greedy float32 2×4000',
    ]);
    const status = (i: number) => result.scenarios[i].results.map((m) => `${m.candidate}:${m.status}`).sort();
    expect(status(0)).toEqual(['copy:ok', 'core:ok', 'js-sort:ok']);
    expect(status(2)).toEqual(['copy:ok', 'core:ok', 'js-argmax:ok', 'js-sort:ok']);
    const pairs = sampleRatios(result).map((r) => `${r.scenario.variant} ${r.ours}/${r.against}`);
    expect(pairs).toEqual(['t0.7-k50-p0.9 core/js-sort', 'p0.95 core/js-sort', 'greedy core/js-argmax']);
    const text = sampleSection(result, false).join('\n');
    expect(text).toContain('greedy core vs one max pass: worst');
    expect(text).toContain('wasm 1×151936 p0.95: scenario not in this run.');
    expect(sampleSection(result, true)[0]).toBe('## sample: seeded sampling against the peers');
  });
});

describe("the report's sample section", () => {
  const stats = (median: number) => ({
    n: 5,
    median,
    min: median,
    max: median,
    p25: median,
    p75: median,
    mad: 0,
    mean: median,
  });
  const m = (candidate: string, median: number, mode: 'user' | 'kernel' = 'user'): Measurement => ({
    candidate,
    mode,
    status: 'ok',
    samples: [],
    stats: stats(median),
  });
  const scenario = (variant: string, rows: number, cols: number, results: Measurement[]) => ({
    op: 'sample' as const,
    variant,
    options: sampleVariants.find((v) => v.name === variant)!.options,
    dtype: 'float32' as const,
    rows,
    cols,
    elements: rows * cols,
    bytes: 1,
    results,
  });
  const info = (id: string, threads?: string) => ({
    id,
    label: id,
    kind: 'ours' as const,
    description: '',
    available: true,
    ...(threads ? { details: { threads } } : {}),
  });
  const result: RunResult = {
    schema: 'softmax-bench/1',
    startedAt: '',
    finishedAt: '',
    suite: { name: 't', budget: {} as Suite['budget'], ops: [], dtypes: [], modes: ['user'], shapes: [] },
    machine: {},
    candidates: [info('wasm', '1'), info('webgpu'), info('js-sort'), info('webgpu-readback'), info('js-argmax')],
    scenarios: [
      scenario('p0.95', 1, 151936, [m('wasm', 100e3), m('js-sort', 3e6), m('webgpu', 2e6), m('webgpu-readback', 1e6)]),
      scenario('p0.95', 32, 151936, [m('webgpu', 5e6), m('webgpu-readback', 40e6)]),
      scenario('greedy', 1, 151936, [m('wasm', 60e3), m('js-argmax', 120e3), m('webgpu', 1e6)]),
    ],
  };

  it('states each goal: wasm µs and × the JS sort, webgpu vs readback per shape, greedy vs one max pass', () => {
    const lines = sampleGoalLines(result);
    expect(lines).toContain('wasm 1×151936 p0.95 (threads: 1): 100.0 µs, goal ≤ 150 µs met.');
    expect(lines).toContain('wasm 1×151936 p0.95 vs js-sort: 30× (3.00 ms ÷ 100 µs), goal ≥ 20× met.');
    expect(lines.find((l) => l.startsWith('webgpu vs webgpu-readback'))).toBe(
      'webgpu vs webgpu-readback: 1 of 2 pairs won; NOT met at sample p0.95 float32 1×151936 user.',
    );
    expect(lines.find((l) => l.startsWith('greedy wasm'))).toMatch(/worst 2\.00× .* goal ≥ 1\.00× met/);
    expect(lines.find((l) => l.startsWith('greedy webgpu'))).toMatch(/worst 0\.12× .* NOT met/);
    const table = sampleSection(result, true).join('\n');
    expect(table).toMatch(
      /\| sample p0\.95 float32 1×151936 \| user \| wasm \| js-sort \| 100 µs \| 3\.00 ms \| 30× \| ≥ 20× met \|/,
    );
    expect(table).toMatch(
      /\| sample p0\.95 float32 32×151936 \| user \| webgpu \| webgpu-readback \| .* \| 8\.00× \| ≥ 1\.00× met \|/,
    );
  });

  it('says what was not measured, and is empty without sample', () => {
    const bare: RunResult = { ...result, scenarios: [scenario('p0.95', 1, 151936, [m('js-sort', 3e6)])] };
    expect(sampleGoalLines(bare)[0]).toMatch(
      /^wasm 1×151936 p0\.95 ≤ 150 µs and ≥ 20× js-sort: not measured \(wasm does not declare sample/,
    );
    expect(sampleSection({ ...result, scenarios: [] }, false)).toEqual([]);
  });
});
