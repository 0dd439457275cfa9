import { scenarioLabel } from '@softmax/bench-scenarios';
import { duration, markdownTable, textTable } from './format.js';
import type { Measurement, RunResult } from './results.js';
import { type Stats, spread } from './stats.js';

export type Verdict = 'regression' | 'improvement' | 'within noise' | 'floor';

export interface ComparisonRow {
  scenario: string;
  candidate: string;
  mode: string;
  before: number;
  after: number;
  /** The raw change of the median: after / before − 1. */
  change: number;
  /** The change of the median relative to the copy floor of the same run and scenario (absent: no floor in one run). */
  vsFloor?: number;
  verdict: Verdict;
}

/** The floor's id (TypedArray.prototype.set of the same bytes), measured in every run. */
const FLOOR = 'copy';

const relSpread = (s: Stats): number => spread(s) / s.median;

/** What identifies a measurement across runs: its scenario (op, call, dtype, shape), candidate and mode. */
export const measurementKey = (
  s: { op: string; variant?: string; dtype: string; rows: number; cols: number },
  candidate: string,
  mode: string,
): string => `${scenarioLabel(s)}|${candidate}|${mode}`;

/**
 * Pairs each timed measurement of `a` with the same (op, call, dtype, shape, candidate, mode) in `b`.
 * Each candidate is judged against the copy floor measured in the same run and scenario: on a
 * machine that is slower (or busier) overall the floor slows too, and a change of the time *per
 * floor* separates a regression of the code from drift of the machine. A change counts only when
 * it exceeds the noise: the relative half-IQRs of the four medians involved (two without a floor).
 * The floor itself gets the verdict 'floor': its move is the machine's, summarised by machineDrift.
 */
export function compareRuns(a: RunResult, b: RunResult): ComparisonRow[] {
  const before = new Map<string, Measurement>();
  for (const s of a.scenarios)
    for (const m of s.results) if (m.stats) before.set(measurementKey(s, m.candidate, m.mode), m);
  const floorOf = (s: RunResult['scenarios'][number], mode: string, source: 'a' | 'b') => {
    const find = (md: string) =>
      source === 'a'
        ? before.get(measurementKey(s, FLOOR, md))?.stats
        : s.results.find((m) => m.candidate === FLOOR && m.mode === md && m.stats)?.stats;
    return find(mode) ?? find('user');
  };
  const rows: ComparisonRow[] = [];
  for (const s of b.scenarios) {
    const floorA = floorOf(s, 'user', 'a');
    for (const m of s.results) {
      const old = before.get(measurementKey(s, m.candidate, m.mode));
      if (!m.stats || !old?.stats) continue;
      const change = m.stats.median / old.stats.median - 1;
      const fa = floorOf(s, m.mode, 'a') ?? floorA;
      const fb = floorOf(s, m.mode, 'b');
      const isFloor = m.candidate === FLOOR;
      const vsFloor =
        fa && fb && !isFloor ? m.stats.median / fb.median / (old.stats.median / fa.median) - 1 : undefined;
      const noise =
        relSpread(m.stats) + relSpread(old.stats) + (vsFloor !== undefined ? relSpread(fa!) + relSpread(fb!) : 0);
      const judged = vsFloor ?? change;
      const verdict: Verdict = isFloor
        ? 'floor'
        : Math.abs(judged) <= noise
          ? 'within noise'
          : judged > 0
            ? 'regression'
            : 'improvement';
      rows.push({
        scenario: scenarioLabel(s),
        candidate: m.candidate,
        mode: m.mode,
        before: old.stats.median,
        after: m.stats.median,
        change,
        vsFloor,
        verdict,
      });
    }
  }
  return rows;
}

/** How the machine itself moved: the median change of the floor and of every candidate's raw median. */
export function machineDrift(rows: ComparisonRow[]): { floor?: number; all?: number } {
  const med = (v: number[]) => {
    if (v.length === 0) return undefined;
    const s = [...v].sort((x, y) => x - y);
    const mid = s.length >> 1;
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  };
  return {
    floor: med(rows.filter((r) => r.verdict === 'floor').map((r) => r.change)),
    all: med(rows.filter((r) => r.verdict !== 'floor').map((r) => r.change)),
  };
}

const pct = (v: number | undefined) => (v === undefined ? '–' : `${v >= 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);

/** One line on the machine: drift of the floor (and of everything) is the machine, not the code. */
export function driftLine(rows: ComparisonRow[]): string {
  const d = machineDrift(rows);
  if (d.floor === undefined)
    return `No copy floor in both runs: verdicts are on raw medians (all moved ${pct(d.all)} at the median).`;
  const slower =
    d.floor > 0.1
      ? 'this machine is slower than the recorded one'
      : d.floor < -0.1
        ? 'this machine is faster than the recorded one'
        : 'the machine is comparable';
  return `Machine: the TypedArray.set floor moved ${pct(d.floor)} and all candidates ${pct(d.all)} at the median (${slower}); verdicts are judged against the floor of the same run.`;
}

export function comparisonTable(rows: ComparisonRow[], markdown = false): string {
  const header = ['scenario', 'candidate', 'mode', 'before', 'after', 'change', 'vs floor', 'verdict'];
  const body = rows.map((r) => [
    r.scenario,
    r.candidate,
    r.mode,
    duration(r.before),
    duration(r.after),
    pct(r.change),
    pct(r.vsFloor),
    r.verdict === 'regression' ? 'REGRESSION' : r.verdict === 'floor' ? 'floor (the machine)' : r.verdict,
  ]);
  return markdown ? markdownTable([header, ...body]) : textTable([header, ...body]);
}
