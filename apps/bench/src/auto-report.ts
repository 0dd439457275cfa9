import { scenarioLabel } from '@softmax/bench-scenarios';
import { type AutoSummary, LEARNING_CALLS, scenarioKey } from './candidates/auto.js';
import { duration, markdownTable, textTable } from './format.js';
import type { RunResult } from './results.js';

/** The single candidates auto chooses among: its regret is against the fastest of these in the same run. */
export const SINGLES = ['core', 'wasm', 'wasm-mt', 'webgpu'] as const;

const x = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}×`);

const signed = (ns: number) => `${ns < 0 ? '−' : '+'}${duration(Math.abs(ns))}`;

/** Per scenario (user mode): auto after 20 calls ÷ the fastest single, its learning cost, and against tfjs-wasm. */
export function autoRows(result: RunResult): string[][] {
  const summary = result.candidates.find((c) => c.id === 'auto')?.summary as AutoSummary | undefined;
  const rows = [
    [
      'scenario',
      'fastest single',
      'its median',
      'auto median',
      'auto ÷ fastest',
      `first ${LEARNING_CALLS} calls ÷ ${LEARNING_CALLS} × fastest`,
      'tfjs-wasm ÷ auto',
    ],
  ];
  for (const s of result.scenarios) {
    const timed = s.results.filter((m) => m.mode === 'user' && m.stats);
    const mine = timed.find((m) => m.candidate === 'auto');
    const singles = timed
      .filter((m) => (SINGLES as readonly string[]).includes(m.candidate))
      .sort((a, b) => a.stats!.median - b.stats!.median);
    const best = singles[0];
    if (!mine || !best) continue;
    const learning = summary?.learningMs[scenarioKey(s)];
    const calls = summary?.learningCalls?.[scenarioKey(s)] ?? LEARNING_CALLS;
    const tfjs = timed.find((m) => m.candidate === 'tfjs-wasm');
    rows.push([
      scenarioLabel(s),
      best.candidate,
      duration(best.stats!.median),
      duration(mine.stats!.median),
      x(mine.stats!.median / best.stats!.median),
      x(learning === undefined ? undefined : (learning * 1e6) / (calls * best.stats!.median)),
      x(tfjs ? tfjs.stats!.median / mine.stats!.median : undefined),
    ]);
  }
  return rows;
}

/** The regrets' median and worst, for the one-line verdict under the table. */
export function regretSummary(rows: string[][]): { median: number; worst: number } | undefined {
  const r = rows
    .slice(1)
    .map((row) => Number.parseFloat(row[4]))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  if (r.length === 0) return undefined;
  const mid = r.length >> 1;
  return { median: r.length % 2 ? r[mid] : (r[mid - 1] + r[mid]) / 2, worst: r[r.length - 1] };
}

/** The report's auto section: regret per shape, the cold and dispatch costs, and explain(). */
export function autoSection(result: RunResult, markdown: boolean): string[] {
  const info = result.candidates.find((c) => c.id === 'auto');
  if (!info?.available) return [];
  const rows = autoRows(result);
  const table = markdown ? markdownTable(rows, (i) => i >= 2) : textTable(rows, (i) => i >= 2);
  const out = [markdown ? '## @softmax/auto' : '@softmax/auto against each single candidate', ''];
  out.push(
    `auto ÷ fastest = auto's median (after its first ${LEARNING_CALLS} calls and the warm-up) over the fastest of ${SINGLES.join(', ')} in this run; the next column is what its first ${LEARNING_CALLS} calls of the shape (exploring included) cost against ${LEARNING_CALLS} calls of that fastest candidate.`,
    '',
    table,
  );
  const r = regretSummary(rows);
  if (r) out.push('', `auto ÷ fastest: median ${x(r.median)}, worst ${x(r.worst)}.`);
  const f = result.autoFigures;
  if (f) {
    const d = f.dispatch;
    out.push(
      '',
      `First call after import at [1, 10] (fresh process, median of 5): auto ${duration(f.firstCallAuto)}; importing @softmax/wasm, creating its backend and calling it once ${duration(f.firstCallWasm)}.`,
      `Dispatch overhead at [1, 10] float32 (auto chose ${d.chosen}): sync ${duration(d.autoSync)} vs ${duration(d.directSync)} direct (${signed(d.autoSync - d.directSync)}); async ${duration(d.autoAsync)} vs ${duration(d.directAsync)} direct (${signed(d.autoAsync - d.directAsync)}).`,
    );
  }
  const summary = info.summary as AutoSummary | undefined;
  if (summary?.explainText) {
    out.push('', markdown ? "auto's explain() after the run:" : 'explain() after the run:', '');
    out.push(markdown ? `\`\`\`\n${summary.explainText}\n\`\`\`` : summary.explainText);
  }
  return out;
}
