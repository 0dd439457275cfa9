import { scenarioLabel, shapeLabel } from '@softmax/bench-scenarios';
import { duration, markdownTable, textTable } from './format.js';
import type { RunResult, ScenarioResult } from './results.js';

/**
 * sample's comparisons, as data: one of ours against what it must beat in the same scenario and
 * mode, the speed-up the issue asks for (their median ÷ ours; none: reported only) and where the
 * goal applies (every scenario of the comparison when absent). `variants` limits a pair to some
 * calls (greedy's floor is the max pass, which only greedy calls run).
 */
export interface SampleComparison {
  ours: string;
  against: string;
  goal?: number;
  /** The goal holds only here (a variant and shape); elsewhere the pair is reported without one. */
  goalAt?: { variant: string; rows: number; cols: number };
  variants?: string[];
  /** What the goal means, for the table. */
  why?: string;
}

export const SAMPLE_OP = 'sample';
export const TOP_P_ONLY = 'p0.95';
export const GREEDY = 'greedy';

/** The issue's wasm goal: [1, 151936], top-p 0.95 alone, one thread. */
export const WASM_GOAL = { variant: TOP_P_ONLY, rows: 1, cols: 151936, maxNs: 150_000, speedup: 20 };

const GREEDY_OURS = ['core', 'wasm', 'wasm-mt', 'webgpu', 'auto'];
const NOT_GREEDY = ['t0.7-k50-p0.9', TOP_P_ONLY];

export const SAMPLE_COMPARISONS: readonly SampleComparison[] = [
  {
    ours: 'wasm',
    against: 'js-sort',
    goal: WASM_GOAL.speedup,
    goalAt: WASM_GOAL,
    variants: NOT_GREEDY,
    why: 'wasm ≥ 20× the plain-JS full sort at 1×151936 top-p 0.95',
  },
  { ours: 'wasm', against: 'wasm-softmax+js', variants: NOT_GREEDY },
  { ours: 'wasm-mt', against: 'js-sort', variants: NOT_GREEDY },
  {
    ours: 'webgpu',
    against: 'webgpu-readback',
    goal: 1,
    why: 'GPU-resident beats readback + CPU sampling at every shape',
  },
  { ours: 'core', against: 'js-sort', variants: NOT_GREEDY },
  { ours: 'auto', against: 'js-sort', variants: NOT_GREEDY },
  ...GREEDY_OURS.map((ours) => ({
    ours,
    against: 'js-argmax',
    goal: 1,
    variants: [GREEDY],
    why: 'greedy costs no more than one max pass',
  })),
];

// Two significant digits below 0.1× (greedy on a full sort is hundreds of times one max pass).
const times = (v: number) => `${v < 0.1 ? v.toPrecision(2) : v < 10 ? v.toFixed(2) : v.toFixed(0)}×`;

export interface SampleRatio {
  scenario: ScenarioResult;
  mode: string;
  ours: string;
  against: string;
  oursNs: number;
  theirNs: number;
  /** Their median ÷ ours (above 1: ours is faster). */
  speedup: number;
  goal?: number;
  why?: string;
}

const samples = (result: RunResult) => result.scenarios.filter((s) => s.op === SAMPLE_OP);

const at = (s: ScenarioResult, where: { variant: string; rows: number; cols: number }) =>
  s.variant === where.variant && s.rows === where.rows && s.cols === where.cols;

/** Every compared pair measured in the run, per scenario and mode, each mode's pairs in the same mode. */
export function sampleRatios(result: RunResult): SampleRatio[] {
  const out: SampleRatio[] = [];
  for (const s of samples(result)) {
    for (const mode of ['user', 'kernel']) {
      const find = (id: string) => s.results.find((m) => m.candidate === id && m.mode === mode && m.stats);
      for (const c of SAMPLE_COMPARISONS) {
        if (c.variants && !c.variants.includes(s.variant ?? '')) continue;
        const [a, b] = [find(c.ours), find(c.against)];
        if (!a || !b) continue;
        const goal = c.goal !== undefined && (!c.goalAt || at(s, c.goalAt)) ? c.goal : undefined;
        out.push({
          scenario: s,
          mode,
          ours: c.ours,
          against: c.against,
          oursNs: a.stats!.median,
          theirNs: b.stats!.median,
          speedup: b.stats!.median / a.stats!.median,
          ...(goal !== undefined ? { goal, why: c.why } : {}),
        });
      }
    }
  }
  return out;
}

const goalText = (r: SampleRatio) =>
  r.goal === undefined ? '–' : `≥ ${times(r.goal)} ${r.speedup >= r.goal ? 'met' : 'NOT met'}`;

export function sampleRatioRows(result: RunResult): string[][] {
  return [
    ['scenario', 'mode', 'ours', 'against', 'our median', 'their median', 'speed-up', 'goal'],
    ...sampleRatios(result).map((r) => [
      scenarioLabel(r.scenario),
      r.mode,
      r.ours,
      r.against,
      duration(r.oursNs),
      duration(r.theirNs),
      times(r.speedup),
      goalText(r),
    ]),
  ];
}

/** The issue's goals, one line each: met, not met, or not measured in this run (and why). */
export function sampleGoalLines(result: RunResult): string[] {
  const ss = samples(result);
  const info = (id: string) => result.candidates.find((c) => c.id === id);
  const missing = (id: string, where: string) => {
    const c = info(id);
    if (!c) return `${id} was not in this run`;
    if (!c.available) return `${id} unavailable: ${c.reason}`;
    const m = ss.flatMap((s) => s.results).filter((r) => r.candidate === id);
    if (m.length === 0) return `${id} does not declare sample (or not this call)`;
    const bad = m.find((r) => r.status !== 'ok');
    return bad ? `${id}: ${bad.status} ${bad.error ?? ''}`.trim() : `${id} not timed ${where}`;
  };
  const lines: string[] = [];
  // wasm at 1×151936, top-p 0.95: absolute time (one thread) and against the plain-JS full sort.
  const target = ss.find((s) => at(s, WASM_GOAL));
  const label = `1×${WASM_GOAL.cols} ${WASM_GOAL.variant}`;
  const wasm = target?.results.find((m) => m.candidate === 'wasm' && m.mode === 'user' && m.stats);
  const sort = target?.results.find((m) => m.candidate === 'js-sort' && m.mode === 'user' && m.stats);
  const threads = info('wasm')?.details?.threads;
  if (!target) lines.push(`wasm ${label}: scenario not in this run.`);
  else if (!wasm) lines.push(`wasm ${label} ≤ 150 µs and ≥ 20× js-sort: not measured (${missing('wasm', 'there')}).`);
  else {
    const us = wasm.stats!.median / 1e3;
    const ok = wasm.stats!.median <= WASM_GOAL.maxNs;
    lines.push(
      `wasm ${label} (threads: ${threads ?? '?'}): ${us.toFixed(1)} µs, goal ≤ 150 µs ${ok ? 'met' : 'NOT met'}${threads === '1' ? '' : ' (the goal is for one thread)'}.`,
    );
    if (sort) {
      const x = sort.stats!.median / wasm.stats!.median;
      lines.push(
        `wasm ${label} vs js-sort: ${times(x)} (${duration(sort.stats!.median)} ÷ ${duration(wasm.stats!.median)}), goal ≥ 20× ${x >= WASM_GOAL.speedup ? 'met' : 'NOT met'}.`,
      );
    } else lines.push(`wasm ${label} vs js-sort: js-sort not measured (${missing('js-sort', 'there')}).`);
  }
  // WebGPU: GPU-resident against readback + CPU sampling, at every shape.
  const pairs = sampleRatios(result).filter((r) => r.ours === 'webgpu' && r.against === 'webgpu-readback');
  if (pairs.length === 0)
    lines.push(`webgpu vs webgpu-readback: not measured (${missing('webgpu', 'beside webgpu-readback')}).`);
  else {
    const lost = pairs.filter((r) => r.speedup < 1);
    lines.push(
      `webgpu vs webgpu-readback: ${pairs.length - lost.length} of ${pairs.length} pairs won${lost.length ? `; NOT met at ${lost.map((r) => `${scenarioLabel(r.scenario)} ${r.mode}`).join(', ')}` : ' (goal met)'}.`,
    );
  }
  // Greedy: no more than one max pass.
  const greedy = sampleRatios(result).filter((r) => r.against === 'js-argmax');
  if (greedy.length === 0) lines.push('greedy vs one max pass: not measured (no greedy call beside js-argmax).');
  for (const id of GREEDY_OURS) {
    const mine = greedy.filter((r) => r.ours === id);
    if (mine.length === 0) continue;
    const worst = mine.reduce((a, b) => (b.speedup < a.speedup ? b : a));
    lines.push(
      `greedy ${id} vs one max pass: worst ${times(worst.speedup)} at ${shapeLabel(worst.scenario)} (${duration(worst.oursNs)} vs ${duration(worst.theirNs)}), goal ≥ 1.00× ${mine.every((r) => r.speedup >= 1) ? 'met' : 'NOT met'}.`,
    );
  }
  return lines;
}

/** The report's sample section: the goals, the compared pairs, and how the calls were made and checked. */
export function sampleSection(result: RunResult, markdown: boolean): string[] {
  const ss = samples(result);
  if (ss.length === 0) return [];
  const table = (rows: string[][]) =>
    markdown ? markdownTable(rows, (i) => i >= 4 && i <= 6) : textTable(rows, (i) => i >= 4 && i <= 6);
  const shapes = [...new Set(ss.map((s) => shapeLabel(s)))].join(', ');
  const calls = [...new Set(ss.map((s) => `${s.variant} ${JSON.stringify(s.options ?? {})}`))].join('; ');
  const out = [markdown ? '## sample: seeded sampling against the peers' : 'sample', ''];
  out.push(
    `Shapes ${shapes}; calls: ${calls}, each with the op's repeatable options (seed 0), so every candidate drawing with the call's seed draws with the same u. Logits look like a language model's (a normal tail under a heavy top of 256 ids, seeded). Checked before timing against core's reference (float64 full sort): the reference's token, or the id across the boundary when u lies within the margin of it (1e-3 in float32); peers with a generator of their own (Math.random) must give a token of the reference's kept set.`,
    '',
    "GPU-resident sampling (webgpu) reads back 4 bytes a row; webgpu-readback reads back the logits (rows × cols × 4 bytes) and samples on the CPU, on the same adapter. The user-mode pair is the like-for-like one (both upload the logits; one reads back the tokens, the other the logits); in kernel mode webgpu is its encoded passes alone and webgpu-readback the readback and the CPU sample. js-argmax is one plain max pass (greedy calls only). The check column counts the rows by how they passed: exact (the reference token), neighbour (across a boundary within the margin), cut (just past a top-p cut within the margin), kept (a peer's own draw in the kept set).",
    '',
    'transformers.js (@huggingface/transformers 4.3.2) is not a candidate: its TopKLogitsWarper and TopPLogitsWarper have no _call (they throw; generate() leaves them out) and its sampler is not exported, so it cannot sample a logits array with these settings (apps/bench/README.md).',
    '',
    markdown ? '### Goals' : 'Goals',
    '',
    ...sampleGoalLines(result).map((l) => (markdown ? `- ${l}` : `  ${l}`)),
  );
  const rows = sampleRatioRows(result);
  out.push('', 'speed-up = their median ÷ our median (above 1×: ours is faster).', '');
  out.push(rows.length > 1 ? table(rows) : 'No compared pair was measured in this run.');
  return out;
}
