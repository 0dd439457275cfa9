import { describe, expect, it } from 'vitest';
import { compareRuns } from '../src/compare.js';
import { poolRuns } from '../src/pool.js';
import type { Measurement } from '../src/results.js';
import { summarize } from '../src/stats.js';
import { runOf } from './run-result.js';

const timed = (candidate: string, samples: number[]): Measurement => ({
  candidate,
  mode: 'user',
  status: 'ok',
  samples,
  stats: summarize(samples),
  ratioToFastest: 1,
});

const run = (cols: number, results: Measurement[]) => runOf(results, cols);

describe('poolRuns: several runs of one build as one', () => {
  it("gives each (scenario, candidate, mode) the union of its runs' samples, summarised again", () => {
    const a = run(10, [timed('wasm', [1, 2, 3]), timed('copy', [10, 11, 12])]);
    const b = run(10, [timed('wasm', [7, 8, 9, 10])]);
    const pooled = poolRuns([a, b]);
    expect(pooled.scenarios).toHaveLength(1);
    const [wasm, copy] = pooled.scenarios[0].results;
    expect(wasm.samples).toEqual([1, 2, 3, 7, 8, 9, 10]);
    expect(wasm.stats?.median).toBe(7);
    expect(wasm.stats?.n).toBe(7);
    // The per-run ratios would describe one run only: they are not carried over.
    expect(wasm.ratioToFastest).toBeUndefined();
    // A candidate timed in one run only keeps that run's samples.
    expect(copy.samples).toEqual([10, 11, 12]);
    // The runs themselves are untouched.
    expect(a.scenarios[0].results[0].samples).toEqual([1, 2, 3]);
  });

  it('keeps scenarios apart by shape, and leaves out what was not timed', () => {
    const failed: Measurement = { candidate: 'core', mode: 'user', status: 'error', samples: [], error: 'x' };
    const pooled = poolRuns([run(10, [timed('wasm', [1]), failed]), run(1000, [timed('wasm', [5])])]);
    expect(pooled.scenarios.map((s) => [s.cols, s.results.map((m) => m.candidate)])).toEqual([
      [10, ['wasm']],
      [1000, ['wasm']],
    ]);
  });

  it('one run is itself; none is an error', () => {
    const a = run(10, [timed('wasm', [1, 2])]);
    expect(poolRuns([a])).toBe(a);
    expect(() => poolRuns([])).toThrow(/at least one run/);
  });

  it('pooled runs compare as single ones do: drift spread over both sides cancels', () => {
    // Build A ran once on a quiet machine and once on a busy one (everything 1.5×); so did B, in
    // the other order. Single runs paired badly show +50% or −33%; pooled, the change is none.
    const quiet = (s: number[]) => s;
    const busy = (s: number[]) => s.map((v) => v * 1.5);
    const times = [100, 101, 102, 103];
    const floor = [10, 10.1, 10.2, 10.3];
    const a = [
      run(10, [timed('wasm', quiet(times)), timed('copy', quiet(floor))]),
      run(10, [timed('wasm', busy(times)), timed('copy', busy(floor))]),
    ];
    const b = [
      run(10, [timed('wasm', busy(times)), timed('copy', busy(floor))]),
      run(10, [timed('wasm', quiet(times)), timed('copy', quiet(floor))]),
    ];
    const [wasm] = compareRuns(poolRuns(a), poolRuns(b)).filter((r) => r.candidate === 'wasm');
    expect(wasm.change).toBeCloseTo(0, 12);
    expect(wasm.verdict).toBe('within noise');
  });
});
