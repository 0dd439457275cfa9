import { createRequire } from 'node:module';
import path from 'node:path';
import { crossEntropyVariants, type Mode, type Suite } from '@softmax/bench-scenarios';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Candidate, FloatArray, LoadContext, Loaded, Output, Problem } from '../src/candidate.js';
import { core } from '../src/candidates/core.js';
import { tfjsCpu } from '../src/candidates/tfjs-cpu.js';
import { tfjsWasm } from '../src/candidates/tfjs-wasm.js';
import { coreUnfused, wasmUnfused } from '../src/candidates/unfused.js';
import { crossEntropyRatios, crossEntropySection, memoryRows, ratioChartSvg } from '../src/cross-entropy-report.js';
import { makeInputs } from '../src/inputs.js';
import { oracle, verify } from '../src/oracle.js';
import type { Measurement, RunResult } from '../src/results.js';
import { runSuite } from '../src/runner.js';

const require = createRequire(import.meta.url);
const context: LoadContext = {
  env: 'node',
  tfjsWasmPaths: `${path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist')}${path.sep}`,
};

const [lossGrad, inPlace] = crossEntropyVariants;
const rows = 16;
const cols = 40;
const sentinel = { operand: 'targets', option: 'ignoreIndex', every: 8 };
const inputs = makeInputs('crossEntropy', 'float32', rows, cols, 1, { sentinel });
const logits = inputs[0] as Float32Array;
const targets = inputs[1] as Int32Array;

const problem = (mode: Mode, options = lossGrad.options): Problem => ({
  op: 'crossEntropy',
  dtype: 'float32',
  mode,
  rows,
  cols,
  inputs,
  x: logits,
  options,
});

/**
 * The mean cross-entropy and its gradient written out here in float64, apart from core: for each
 * row not ignored (−100), loss_i = log Σ exp(x) − x_t, mean over those rows (D of them), and
 * grad = (softmax − one-hot) / D; an ignored row has gradient 0.
 */
function independent(): { loss: Float64Array; grad: Float64Array } {
  const grad = new Float64Array(rows * cols);
  let sum = 0;
  let kept = 0;
  for (let i = 0; i < rows; i++) if (targets[i] !== -100) kept++;
  for (let i = 0; i < rows; i++) {
    const t = targets[i];
    if (t === -100) continue;
    const row = Array.from(logits.subarray(i * cols, (i + 1) * cols));
    const m = Math.max(...row);
    const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
    sum += m + Math.log(z) - row[t];
    row.forEach((v, j) => {
      grad[i * cols + j] = (Math.exp(v - m) / z - (j === t ? 1 : 0)) / kept;
    });
  }
  return { loss: Float64Array.of(sum / kept), grad };
}

const reference = independent();

async function once(l: Loaded, p: Problem): Promise<Output> {
  const prepared = await l.prepare(p);
  await prepared.beforeSample?.();
  await prepared.beforeEach?.();
  await prepared.run();
  const out = await prepared.output();
  await prepared.dispose();
  return out;
}

describe('crossEntropy in the benchmark', () => {
  const loaded = new Map<string, Loaded>();
  const candidates: Candidate[] = [core, coreUnfused, wasmUnfused, tfjsWasm, tfjsCpu];
  beforeAll(async () => {
    for (const c of candidates) loaded.set(c.id, await c.load(context));
  });
  afterAll(async () => {
    for (const l of loaded.values()) await l.dispose();
  });

  it('has an oracle (core, float64) that agrees with the loss and gradient written out independently', () => {
    const expected = oracle('crossEntropy', inputs, cols, lossGrad.options) as Record<string, Float64Array>;
    expect(expected.loss[0]).toBeCloseTo(reference.loss[0], 12);
    for (let k = 0; k < rows * cols; k++) expect(Math.abs(expected.grad[k] - reference.grad[k])).toBeLessThan(1e-14);
    // ...and whose in-place call gives the same, leaving the bench's logits as they were.
    const before = logits.slice();
    const inPlaceRef = oracle('crossEntropy', inputs, cols, inPlace.options) as Record<string, Float64Array>;
    expect(inPlaceRef.grad).toEqual(expected.grad);
    expect(logits).toEqual(before);
  });

  const cases: [string, Mode][] = [
    ['core', 'user'],
    ['core-unfused', 'user'],
    ['wasm-unfused', 'user'],
    ['wasm-unfused', 'kernel'],
    ['tfjs-wasm', 'user'],
    ['tfjs-wasm', 'kernel'],
  ];
  for (const [id, mode] of cases) {
    it(`${id} (${mode}) gives the loss and gradient, within the float32 tolerance of the oracle and of the written-out values`, async () => {
      const l = loaded.get(id)!;
      expect(l.supports('crossEntropy', 'float32', mode, lossGrad.options)).toBe(true);
      const out = (await once(l, problem(mode))) as Record<string, FloatArray>;
      expect(out.loss).toHaveLength(1);
      expect(out.grad).toHaveLength(rows * cols);
      const byOracle = verify(out, oracle('crossEntropy', inputs, cols, lossGrad.options), 'float32', cols);
      expect(byOracle.ok, byOracle.detail).toBe(true);
      const byHand = verify(out, reference, 'float32', cols);
      expect(byHand.ok, byHand.detail).toBe(true);
      // The ignored rows' gradient is exactly 0.
      for (const i of [7, 15])
        expect([...out.grad.subarray(i * cols, (i + 1) * cols)].every((v) => v === 0)).toBe(true);
    });
  }

  it('rejects a gradient that forgets the mean (÷ D): verify fails it', () => {
    const wrong = { loss: Float32Array.from(reference.loss), grad: Float32Array.from(reference.grad, (g) => g * 14) };
    const v = verify(wrong, reference, 'float32', cols);
    expect(v.ok).toBe(false);
    expect(v.detail).toMatch(/^grad: /);
    expect(verify({ loss: wrong.loss }, reference, 'float32', cols).ok).toBe(false);
  });

  it('runs core in place on its own copy of the logits, put back before each call', async () => {
    const l = loaded.get('core')!;
    const prepared = await l.prepare(problem('user', inPlace.options));
    expect(prepared.beforeEach).toBeTypeOf('function');
    const results: FloatArray[] = [];
    for (let i = 0; i < 2; i++) {
      await prepared.beforeEach!();
      prepared.run();
      results.push(((await prepared.output()) as Record<string, FloatArray>).grad.slice());
    }
    expect(results[1]).toEqual(results[0]);
    expect(verify({ grad: results[0] }, { grad: reference.grad }, 'float32', cols).ok).toBe(true);
    // The shared logits (every other candidate's input) are untouched.
    expect(logits).toEqual(makeInputs('crossEntropy', 'float32', rows, cols, 1, { sentinel })[0]);
  });

  it('offers tfjs and the unfused compositions only the calls they can make', () => {
    for (const id of ['tfjs-wasm', 'core-unfused', 'wasm-unfused']) {
      expect(loaded.get(id)!.supports('crossEntropy', 'float32', 'user', inPlace.options), id).toBe(false);
      expect(
        loaded.get(id)!.supports('crossEntropy', 'float32', 'user', { ...lossGrad.options, labelSmoothing: 0.1 }),
      ).toBe(false);
    }
    expect(loaded.get('core')!.supports('crossEntropy', 'float32', 'user', inPlace.options)).toBe(true);
    expect(loaded.get('tfjs-wasm')!.supports('crossEntropy', 'float64', 'user', lossGrad.options)).toBe(false);
    expect(loaded.get('core-unfused')!.supports('crossEntropy', 'float64', 'user', lossGrad.options)).toBe(true);
    expect(loaded.get('core-unfused')!.supports('crossEntropy', 'float32', 'kernel', lossGrad.options)).toBe(false);
    expect(loaded.get('tfjs-cpu')!.supports('crossEntropy', 'float32', 'user', lossGrad.options)).toBe(false);
    expect(loaded.get('core-unfused')!.supports('softmax', 'float32', 'user', {})).toBe(false);
  });

  it('leaves no tfjs tensor behind, in either mode', async () => {
    const { importTfjs } = await import('../src/candidates/tfjs-common.js');
    const tf = await importTfjs();
    const l = loaded.get('tfjs-wasm')!;
    for (const mode of ['user', 'kernel'] as Mode[]) {
      const prepared = await l.prepare(problem(mode));
      await prepared.run();
      const count = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await prepared.run();
      expect(tf.memory().numTensors, mode).toBe(count);
      await prepared.output();
      await prepared.dispose();
    }
  });
});

describe('a crossEntropy suite through the harness', () => {
  const suite: Suite = {
    name: 'test',
    shapes: [{ rows: 1, cols: 10 }],
    ops: ['crossEntropy'],
    dtypes: ['float64'],
    modes: ['user', 'kernel'],
    budget: { warmupMs: 1, sampleMs: 0.2, samples: 3, minSamples: 2, maxMs: 5 },
    perOp: {
      crossEntropy: {
        shapes: [{ rows: 16, cols: 40 }],
        dtypes: ['float32'],
        variants: crossEntropyVariants,
        sentinel,
        memory: true,
      },
    },
  };

  it('times each call as a scenario of its own, asks for memory where the plan says, and reports the pairs', async () => {
    const asked: string[] = [];
    const result = await runSuite({
      suite,
      candidates: [core, coreUnfused],
      context,
      machine: {},
      async measureMemory(s, c, mode, own) {
        asked.push(`${s.variant} ${c.id} ${mode} ${own}`);
        return c.id === 'core' ? { rssPeakDelta: 2600, returnedBytes: 2560, extra: 40 } : undefined;
      },
    });
    expect(result.scenarios.map((s) => `${s.op} ${s.variant} ${s.dtype} ${s.rows}×${s.cols}`)).toEqual([
      'crossEntropy loss+grad float32 16×40',
      'crossEntropy in-place float32 16×40',
    ]);
    const [grad, place] = result.scenarios;
    expect(grad.options).toEqual(lossGrad.options);
    expect(grad.results.map((m) => `${m.candidate}:${m.status}`).sort()).toEqual(['core-unfused:ok', 'core:ok']);
    expect(place.results.map((m) => `${m.candidate}:${m.status}`)).toEqual(['core:ok']);
    expect(asked.sort()).toEqual([
      'in-place core user false',
      'loss+grad core user false',
      'loss+grad core-unfused user false',
    ]);
    expect(grad.results.find((m) => m.candidate === 'core')!.memory).toEqual({
      rssPeakDelta: 2600,
      returnedBytes: 2560,
      extra: 40,
    });
    const [ratio] = crossEntropyRatios(result);
    const of = (id: string) => grad.results.find((m) => m.candidate === id)!.stats!.median;
    expect(ratio).toMatchObject({ ours: 'core', against: 'core-unfused', mode: 'user', clock: 'wall' });
    expect(ratio.speedup).toBeCloseTo(of('core-unfused') / of('core'), 12);
    expect(memoryRows(result)[1]).toEqual([
      'crossEntropy loss+grad float32 16×40',
      'core',
      'user',
      '2.54 KiB',
      '2.50 KiB',
      '40 B',
      '3 B',
      '0.02×',
      '–',
    ]);
  });
});

describe("the report's crossEntropy section", () => {
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
  const m = (candidate: string, mode: Mode, median: number, gpu?: number): Measurement => ({
    candidate,
    mode,
    status: 'ok',
    samples: [],
    stats: stats(median),
    ...(gpu ? { gpuStats: stats(gpu) } : {}),
  });
  const result: RunResult = {
    schema: 'softmax-bench/1',
    startedAt: '',
    finishedAt: '',
    suite: { name: 't', budget: {} as Suite['budget'], ops: [], dtypes: [], modes: ['user', 'kernel'], shapes: [] },
    machine: {},
    candidates: [
      { id: 'wasm', label: 'wasm', kind: 'ours', description: '', available: true, details: { threads: '1' } },
      { id: 'wasm-unfused', label: 'u', kind: 'ours', description: '', available: true, details: { threads: '1' } },
    ],
    scenarios: [
      {
        op: 'crossEntropy',
        variant: 'loss+grad',
        options: lossGrad.options,
        dtype: 'float32',
        rows: 512,
        cols: 32000,
        elements: 512 * 32000,
        bytes: 1,
        results: [
          m('wasm', 'user', 10e6),
          m('tfjs-wasm', 'user', 40e6),
          m('wasm-unfused', 'user', 12e6),
          m('webgpu', 'kernel', 2e6, 1e6),
          m('tfjs-webgpu', 'kernel', 3e6, 5e6),
          m('softmax-only-peer', 'user', 1),
        ],
      },
      { op: 'softmax', dtype: 'float32', rows: 1, cols: 10, elements: 10, bytes: 80, results: [m('wasm', 'user', 5)] },
    ],
  };

  it('divides each peer by the fused candidate in the same scenario and mode, against the goals', () => {
    const lines = crossEntropySection(result, false);
    const text = lines.join('\n');
    expect(text).toContain('Threads: wasm 1, wasm-unfused 1 (one thread');
    const row = (ours: string, against: string, mode: string) =>
      lines.find((l) => l.includes(` ${ours} `) && l.includes(` ${against} `) && l.includes(` ${mode} `));
    expect(row('wasm', 'tfjs-wasm', 'user')).toMatch(/4\.00×\s+≥ 3\.00× met/);
    expect(row('wasm', 'wasm-unfused', 'user')).toMatch(/1\.20×\s+≥ 1\.50× NOT met/);
    expect(row('webgpu', 'tfjs-webgpu', 'kernel')).toMatch(/1\.50×\s+≥ 2\.00× NOT met/);
    expect(row('webgpu', 'tfjs-webgpu', '(GPU time)')).toMatch(/5\.00×\s+≥ 2\.00× met/);
    expect(crossEntropyRatios(result)).toHaveLength(4);
    expect(ratioChartSvg(result)).toContain('<rect');
  });

  it('says when wasm did not run on one thread, and is empty without crossEntropy', () => {
    const threaded = {
      ...result,
      candidates: result.candidates.map((c) => ({ ...c, details: { threads: '8' } })),
    };
    expect(crossEntropySection(threaded, true).join('\n')).toContain('NOT one thread');
    expect(crossEntropySection({ ...result, scenarios: [result.scenarios[1]] }, true)).toEqual([]);
    expect(ratioChartSvg({ ...result, scenarios: [result.scenarios[1]] })).toBeUndefined();
  });
});
