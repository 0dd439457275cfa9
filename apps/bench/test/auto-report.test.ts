import { describe, expect, it } from 'vitest';
import { autoRows, autoSection, regretSummary } from '../src/auto-report.js';
import type { AutoSummary } from '../src/candidates/auto.js';
import type { Measurement, RunResult } from '../src/results.js';

const measured = (candidate: string, median: number): Measurement => ({
  candidate,
  mode: 'user',
  status: 'ok',
  samples: [],
  stats: { n: 5, median, min: median, max: median, p25: median, p75: median, mad: 0, mean: median },
});

const summary: AutoSummary = {
  explainText: 'Backends\ncore available',
  learningMs: { 'softmax float32 1×10': 0.03, 'softmax float32 64×32000': 200 },
};

const result: RunResult = {
  schema: 'softmax-bench/1',
  startedAt: '',
  finishedAt: '',
  suite: { name: 't', budget: {} as RunResult['suite']['budget'], ops: [], dtypes: [], modes: ['user'], shapes: [] },
  machine: {},
  candidates: [
    { id: 'auto', label: '@softmax/auto', kind: 'ours', description: '', available: true, summary },
    { id: 'core', label: 'core', kind: 'ours', description: '', available: true },
  ],
  scenarios: [
    {
      op: 'softmax',
      dtype: 'float32',
      rows: 1,
      cols: 10,
      elements: 10,
      bytes: 80,
      results: [measured('auto', 1100), measured('core', 1000), measured('wasm', 2000), measured('copy', 10)],
    },
    {
      op: 'softmax',
      dtype: 'float32',
      rows: 64,
      cols: 32000,
      elements: 64 * 32000,
      bytes: 1,
      results: [measured('auto', 5e6), measured('wasm-mt', 5e6), measured('tfjs-wasm', 1e7)],
    },
  ],
  autoFigures: {
    firstCallAuto: 40e6,
    firstCallWasm: 80e6,
    dispatch: { chosen: 'wasm', autoSync: 500, directSync: 300, autoAsync: 900, directAsync: 400 },
  },
};

describe("the report's auto section", () => {
  it('divides auto by the fastest single candidate (never the floor or a peer), with learning and tfjs-wasm', () => {
    const rows = autoRows(result);
    expect(rows[1]).toEqual([
      'softmax float32 1×10',
      'core',
      '1.00 µs',
      '1.10 µs',
      '1.10×',
      // 0.03 ms over 20 × 1 µs
      '1.50×',
      '–',
    ]);
    expect(rows[2].slice(1, 2)).toEqual(['wasm-mt']);
    expect(rows[2][4]).toBe('1.00×');
    expect(rows[2][5]).toBe(`${(200e6 / (20 * 5e6)).toFixed(2)}×`);
    expect(rows[2][6]).toBe('2.00×');
    expect(regretSummary(rows)).toEqual({ median: 1.05, worst: 1.1 });
  });

  it('prints the cold and dispatch figures and the explain() table, fenced in Markdown', () => {
    const md = autoSection(result, true).join('\n');
    expect(md).toContain('## @softmax/auto');
    expect(md).toContain('auto 40.0 ms');
    expect(md).toContain('sync 500 ns vs 300 ns direct (+200 ns)');
    expect(md).toContain('```\nBackends\ncore available\n```');
    expect(autoSection({ ...result, candidates: [] }, false)).toEqual([]);
  });
});
