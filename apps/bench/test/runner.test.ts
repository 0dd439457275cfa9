import { parseShapes, type Suite } from '@softmax/bench-scenarios';
import { describe, expect, it } from 'vitest';
import { arrayOf, type Candidate } from '../src/candidate.js';
import { copy } from '../src/candidates/copy.js';
import { core } from '../src/candidates/core.js';
import { softmaxModel } from '../src/candidates/onnx-model.js';
import { compareRuns } from '../src/compare.js';
import type { RunResult } from '../src/results.js';
import { runSuite } from '../src/runner.js';

const tiny: Suite = {
  name: 'test',
  shapes: [{ rows: 3, cols: 50 }],
  ops: ['softmax', 'logSoftmaxBackward'],
  dtypes: ['float32', 'float64'],
  modes: ['user', 'kernel'],
  budget: { warmupMs: 1, sampleMs: 0.2, samples: 3, minSamples: 2, maxMs: 5 },
};

/** A fast candidate that forgets to normalise: exp(x − max) only. */
const unnormalised: Candidate = {
  id: 'unnormalised',
  label: 'forgets the sum',
  kind: 'peer',
  description: 'wrong on purpose',
  async load() {
    return {
      version: 'test',
      supports: (op, _dtype, mode) => op === 'softmax' && mode === 'user',
      async prepare(p) {
        const out = arrayOf(p.dtype, p.x.length);
        return {
          async: false,
          run() {
            for (let r = 0; r < p.rows; r++) {
              let max = Number.NEGATIVE_INFINITY;
              for (let j = 0; j < p.cols; j++) max = Math.max(max, p.x[r * p.cols + j]);
              for (let j = 0; j < p.cols; j++) out[r * p.cols + j] = Math.exp(p.x[r * p.cols + j] - max);
            }
          },
          output: async () => out,
          dispose() {},
        };
      },
      dispose() {},
    };
  },
};

const broken: Candidate = {
  id: 'broken',
  label: 'cannot load',
  kind: 'peer',
  description: 'throws on load',
  async load() {
    throw new Error('no such device');
  },
};

describe('runSuite', () => {
  it('times verified candidates, reports wrong answers as wrong without timing them, and lists unloadable ones', async () => {
    const result = await runSuite({
      suite: tiny,
      candidates: [core, unnormalised, broken, copy],
      context: { env: 'node' },
      machine: {},
    });
    expect(result.candidates.find((c) => c.id === 'broken')).toMatchObject({
      available: false,
      reason: 'no such device',
    });
    const softmax32 = result.scenarios.find((s) => s.op === 'softmax' && s.dtype === 'float32')!;
    const wrong = softmax32.results.find((m) => m.candidate === 'unnormalised')!;
    expect(wrong.status).toBe('wrong');
    expect(wrong.samples).toEqual([]);
    expect(wrong.stats).toBeUndefined();
    const ok = softmax32.results.find((m) => m.candidate === 'core')!;
    expect(ok.status).toBe('ok');
    expect(ok.samples.length).toBeGreaterThanOrEqual(2);
    expect(ok.check!.worst).toBeLessThanOrEqual(1);
    expect(ok.ratioToCopy).toBeGreaterThan(0);
    // core has no kernel-only mode, and the wrong candidate no backward op: nothing made up for them.
    expect(softmax32.results.filter((m) => m.mode === 'kernel')).toEqual([]);
    const backward = result.scenarios.find((s) => s.op === 'logSoftmaxBackward' && s.dtype === 'float64')!;
    expect(backward.results.map((m) => `${m.candidate}:${m.status}`).sort()).toEqual(['copy:ok', 'core:ok']);
  });
});

/** core's softmax with a made-up GPU time (its run count), to check the harness records and shows it. */
const gpuTimed: Candidate = {
  id: 'gpu-timed',
  label: 'reports GPU time',
  kind: 'peer',
  description: 'core softmax plus a GPU time',
  async load(ctx) {
    const inner = await core.load(ctx);
    return {
      ...inner,
      supports: (op, dtype, mode) => op === 'softmax' && dtype === 'float32' && mode === 'user',
      async prepare(p) {
        const prepared = await inner.prepare(p);
        let calls = 0;
        return { ...prepared, gpuTime: async () => 1000 * ++calls };
      },
    };
  },
};

describe('GPU time', () => {
  it('is sampled for candidates that report it, and shown as a last column with – for the others', async () => {
    const suite: Suite = { ...tiny, ops: ['softmax'], dtypes: ['float32'], modes: ['user'] };
    const result = await runSuite({ suite, candidates: [core, gpuTimed], context: { env: 'node' }, machine: {} });
    const [scenario] = result.scenarios;
    const timed = scenario.results.find((m) => m.candidate === 'gpu-timed')!;
    const n = timed.gpuSamples!.length;
    expect(n).toBeGreaterThanOrEqual(suite.budget.minSamples);
    expect(timed.gpuSamples).toEqual(Array.from({ length: n }, (_, i) => 1000 * (i + 1)));
    expect(timed.gpuStats!.median).toBe(timed.gpuSamples![Math.floor(n / 2)] + (n % 2 ? 0 : -500));
    expect(scenario.results.find((m) => m.candidate === 'core')!.gpuStats).toBeUndefined();
    const { scenarioHeader, scenarioRows } = await import('../src/format.js');
    expect(scenarioHeader(scenario).at(-1)).toBe('GPU time');
    const rows = new Map(scenarioRows(scenario, new Map()).map((r) => [r[0], r.at(-1)]));
    expect(rows.get('core')).toBe('–');
    expect(rows.get('gpu-timed')).toMatch(/µs$/);
    // Without any GPU time, the table keeps its usual columns.
    const plain = { ...scenario, results: scenario.results.filter((m) => m.candidate === 'core') };
    expect(scenarioHeader(plain)).not.toContain('GPU time');
    expect(scenarioRows(plain, new Map())[0]).toHaveLength(scenarioHeader(plain).length);
  });
});

describe('compareRuns', () => {
  const run = (median: number, p25: number, p75: number): RunResult => ({
    schema: 'softmax-bench/1',
    startedAt: '',
    finishedAt: '',
    suite: tiny,
    machine: {},
    candidates: [],
    scenarios: [
      {
        op: 'softmax',
        dtype: 'float32',
        rows: 1,
        cols: 10,
        elements: 10,
        bytes: 80,
        results: [
          {
            candidate: 'core',
            mode: 'user',
            status: 'ok',
            samples: [],
            stats: { n: 5, median, min: p25, max: p75, p25, p75, mad: 0, mean: median },
          },
        ],
      },
    ],
  });

  it('flags a change larger than the two spreads together, and not a smaller one', () => {
    expect(compareRuns(run(100, 95, 105), run(120, 115, 125))[0].verdict).toBe('regression');
    expect(compareRuns(run(100, 95, 105), run(108, 103, 113))[0].verdict).toBe('within noise');
    expect(compareRuns(run(100, 95, 105), run(80, 78, 82))[0].verdict).toBe('improvement');
  });
});

describe('scenarios', () => {
  it('parses shapes and rejects bad ones', () => {
    expect(parseShapes('64x32000, 1×10,1x1_000_000')).toEqual([
      { rows: 64, cols: 32000 },
      { rows: 1, cols: 10 },
      { rows: 1, cols: 1_000_000 },
    ]);
    expect(() => parseShapes('64by3')).toThrow(/bad shape/);
    expect(() => parseShapes('0x3')).toThrow(/bad shape/);
  });
});

describe('softmaxModel', () => {
  it('encodes the ONNX graph fields ORT reads (op type, axis −1 as a 10-byte varint, opset 13)', () => {
    const bytes = softmaxModel('Softmax', 'float32');
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text).toContain('Softmax');
    expect(text).toContain('axis');
    // axis = −1: field 3 varint, 0xff × 9 then 0x01.
    const axis = [0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    expect(Buffer.from(bytes).includes(Buffer.from(axis))).toBe(true);
    // opset_import { domain ""; version 13 } at the end.
    expect([...bytes.slice(-6)]).toEqual([0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d]);
  });
});

describe('verify (the oracle check before timing)', () => {
  const ref = new Float64Array([0.1, 0.2, 0.7, 1e-9]);
  it('passes float32 results within rtol 1e-3 of the row, and fails NaN or a 1% error', async () => {
    const { verify } = await import('../src/oracle.js');
    expect(verify(Float32Array.from(ref.map((v) => v * (1 + 2e-4))), ref, 'float32', 4).ok).toBe(true);
    expect(verify(Float32Array.from(ref.map((v, i) => (i === 1 ? v * 1.01 : v))), ref, 'float32', 4).ok).toBe(false);
    expect(verify(Float32Array.from([0.1, Number.NaN, 0.7, 0]), ref, 'float32', 4).ok).toBe(false);
  });
  it('holds float64 results to rtol 1e-9', async () => {
    const { verify } = await import('../src/oracle.js');
    expect(
      verify(
        ref.map((v) => v * (1 + 1e-12)),
        ref,
        'float64',
        4,
      ).ok,
    ).toBe(true);
    expect(
      verify(
        ref.map((v) => v * (1 + 2e-4)),
        ref,
        'float64',
        4,
      ).ok,
    ).toBe(false);
  });
});
