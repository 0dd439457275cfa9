import { describe, expect, it } from 'vitest';
import { compareRuns, comparisonTable, driftLine, machineDrift } from '../src/compare.js';
import type { Measurement } from '../src/results.js';
import { runOf } from './run-result.js';

const measured = (candidate: string, median: number, spread = 0.02): Measurement => ({
  candidate,
  mode: 'user',
  status: 'ok',
  samples: [],
  stats: {
    n: 5,
    median,
    min: median,
    max: median,
    p25: median * (1 - spread),
    p75: median * (1 + spread),
    mad: 0,
    mean: median,
  },
});

const run = (results: Measurement[]) => runOf(results);

describe('compareRuns against the copy floor of each run', () => {
  it('a machine 1.5× slower throughout is drift, not regressions', () => {
    const a = run([measured('copy', 100), measured('core', 1000), measured('wasm', 400)]);
    const b = run([measured('copy', 150), measured('core', 1500), measured('wasm', 600)]);
    const rows = compareRuns(a, b);
    expect(rows.map((r) => [r.candidate, r.verdict])).toEqual([
      ['copy', 'floor'],
      ['core', 'within noise'],
      ['wasm', 'within noise'],
    ]);
    expect(machineDrift(rows).floor).toBeCloseTo(0.5);
    expect(driftLine(rows)).toContain('this machine is slower than the recorded one');
    expect(comparisonTable(rows)).toContain('floor (the machine)');
  });

  it('a candidate that slows beyond its floor is a regression, even on a slower machine', () => {
    const a = run([measured('copy', 100), measured('core', 1000)]);
    const b = run([measured('copy', 150), measured('core', 2000)]);
    const [, core] = compareRuns(a, b);
    expect(core.verdict).toBe('regression');
    expect(core.vsFloor).toBeCloseTo(2000 / 150 / 10 - 1);
  });

  it('without a floor in both runs, the raw medians are judged and the line says so', () => {
    const rows = compareRuns(run([measured('core', 1000)]), run([measured('core', 800)]));
    expect(rows[0].verdict).toBe('improvement');
    expect(rows[0].vsFloor).toBeUndefined();
    expect(driftLine(rows)).toContain('No copy floor');
  });
});
