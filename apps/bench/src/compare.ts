import { shapeLabel } from '@softmax/bench-scenarios';
import { duration, markdownTable, textTable } from './format.js';
import type { Measurement, RunResult } from './results.js';
import { spread } from './stats.js';

export type Verdict = 'regression' | 'improvement' | 'within noise';

export interface ComparisonRow {
  scenario: string;
  candidate: string;
  mode: string;
  before: number;
  after: number;
  change: number;
  verdict: Verdict;
}

/**
 * Pairs each timed measurement of `a` with the same (op, dtype, shape, candidate, mode) in `b`.
 * A change counts only when the medians differ by more than the two spreads together (half the
 * interquartile range of each side): smaller moves are indistinguishable from noise.
 */
export function compareRuns(a: RunResult, b: RunResult): ComparisonRow[] {
  const key = (s: { op: string; dtype: string; rows: number; cols: number }, m: Measurement) =>
    `${s.op} ${s.dtype} ${shapeLabel(s)}|${m.candidate}|${m.mode}`;
  const before = new Map<string, Measurement>();
  for (const s of a.scenarios) for (const m of s.results) if (m.stats) before.set(key(s, m), m);
  const rows: ComparisonRow[] = [];
  for (const s of b.scenarios) {
    for (const m of s.results) {
      const old = before.get(key(s, m));
      if (!m.stats || !old?.stats) continue;
      const delta = m.stats.median - old.stats.median;
      const noise = spread(m.stats) + spread(old.stats);
      const verdict: Verdict = Math.abs(delta) <= noise ? 'within noise' : delta > 0 ? 'regression' : 'improvement';
      rows.push({
        scenario: `${s.op} ${s.dtype} ${shapeLabel(s)}`,
        candidate: m.candidate,
        mode: m.mode,
        before: old.stats.median,
        after: m.stats.median,
        change: delta / old.stats.median,
        verdict,
      });
    }
  }
  return rows;
}

export function comparisonTable(rows: ComparisonRow[], markdown = false): string {
  const header = ['scenario', 'candidate', 'mode', 'before', 'after', 'change', 'verdict'];
  const body = rows.map((r) => [
    r.scenario,
    r.candidate,
    r.mode,
    duration(r.before),
    duration(r.after),
    `${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%`,
    r.verdict === 'regression' ? 'REGRESSION' : r.verdict,
  ]);
  return markdown ? markdownTable([header, ...body]) : textTable([header, ...body]);
}
