import { scenarioLabel, shapeLabel } from '@softmax/bench-scenarios';
import { bytesText, duration, markdownTable, textTable } from './format.js';
import type { Measurement, RunResult, ScenarioResult } from './results.js';

/**
 * crossEntropy's comparisons, as data: a fused candidate against what it must beat in the same
 * scenario and mode, and the speed-up the issue asks for (none: reported only). wasm is the
 * `wasm` candidate (its default options: one thread on a 2-core machine; the section says how many
 * it ran), and wasm-unfused the same backend with the same options.
 */
export const CE_COMPARISONS: readonly { ours: string; against: string; goal?: number }[] = [
  { ours: 'wasm', against: 'tfjs-wasm', goal: 3 },
  { ours: 'wasm', against: 'wasm-unfused', goal: 1.5 },
  { ours: 'webgpu', against: 'tfjs-webgpu', goal: 2 },
  { ours: 'webgpu', against: 'webgpu-unfused' },
  { ours: 'core', against: 'core-unfused' },
];

export const CE_OP = 'crossEntropy';

const times = (v: number) => `${v < 10 ? v.toFixed(2) : v.toFixed(0)}×`;

/** One compared pair in one scenario and mode: their median over ours (> 1: ours is faster). */
export interface Ratio {
  scenario: ScenarioResult;
  mode: string;
  ours: string;
  against: string;
  /** 'wall' (median time per call) or 'GPU' (timestamp queries, kernel mode). */
  clock: 'wall' | 'GPU';
  oursNs: number;
  theirNs: number;
  speedup: number;
  goal?: number;
}

export function crossEntropyRatios(result: RunResult): Ratio[] {
  const out: Ratio[] = [];
  for (const s of result.scenarios.filter((x) => x.op === CE_OP)) {
    for (const mode of ['user', 'kernel']) {
      const find = (id: string) => s.results.find((m) => m.candidate === id && m.mode === mode && m.stats);
      for (const c of CE_COMPARISONS) {
        const [a, b] = [find(c.ours), find(c.against)];
        if (!a || !b) continue;
        const base = { scenario: s, mode, ours: c.ours, against: c.against, goal: c.goal };
        out.push({
          ...base,
          clock: 'wall',
          oursNs: a.stats!.median,
          theirNs: b.stats!.median,
          speedup: b.stats!.median / a.stats!.median,
        });
        if (a.gpuStats && b.gpuStats) {
          out.push({
            ...base,
            clock: 'GPU',
            oursNs: a.gpuStats.median,
            theirNs: b.gpuStats.median,
            speedup: b.gpuStats.median / a.gpuStats.median,
          });
        }
      }
    }
  }
  return out;
}

const goalText = (r: Ratio) =>
  r.goal === undefined ? '–' : `≥ ${times(r.goal)} ${r.speedup >= r.goal ? 'met' : 'NOT met'}`;

export function ratioRows(result: RunResult): string[][] {
  return [
    ['scenario', 'mode', 'fused', 'against', 'fused median', 'their median', 'speed-up', 'goal'],
    ...crossEntropyRatios(result).map((r) => [
      scenarioLabel(r.scenario),
      r.clock === 'GPU' ? `${r.mode} (GPU time)` : r.mode,
      r.ours,
      r.against,
      duration(r.oursNs),
      duration(r.theirNs),
      times(r.speedup),
      goalText(r),
    ]),
  ];
}

const logitsBytes = (s: ScenarioResult) => s.rows * s.cols * (s.dtype === 'float32' ? 4 : 8);

/** Per scenario and candidate: what a call needs beyond its logits and the gradient it returns. */
export function memoryRows(result: RunResult): string[][] {
  const rows = [
    [
      'scenario',
      'candidate',
      'mode',
      'peak RSS − before',
      'returned gradient',
      'extra',
      'extra per row',
      'extra ÷ logits',
      'wasm memory growth',
    ],
  ];
  for (const s of result.scenarios.filter((x) => x.op === CE_OP)) {
    for (const m of s.results.filter((x): x is Measurement & { memory: object } => x.memory !== undefined)) {
      const f = m.memory!;
      if (f.error) {
        rows.push([scenarioLabel(s), m.candidate, m.mode, `error: ${f.error}`, '', '', '', '', '']);
        continue;
      }
      rows.push([
        scenarioLabel(s),
        m.candidate,
        m.mode,
        bytesText(f.rssPeakDelta),
        bytesText(f.returnedBytes),
        bytesText(f.extra),
        f.extra === undefined ? '–' : bytesText(Math.round(f.extra / s.rows)),
        f.extra === undefined ? '–' : `${(f.extra / logitsBytes(s)).toFixed(2)}×`,
        bytesText(f.ownGrowth),
      ]);
    }
  }
  return rows;
}

/** What the wasm candidates ran on, from their details: the goals are for one thread. */
function threadsLine(result: RunResult): string | undefined {
  const ran = ['wasm', 'wasm-unfused']
    .map((id) => result.candidates.find((c) => c.id === id && c.available))
    .filter((c) => c !== undefined)
    .map((c) => `${c.id} ${c.details?.threads ?? '?'}`);
  if (ran.length === 0) return undefined;
  const one = ran.every((r) => r.endsWith(' 1'));
  return `Threads: ${ran.join(', ')}${one ? ' (one thread, as the goals ask, like-for-like with tfjs-wasm)' : ': NOT one thread (the default takes half the cores); the goals are for one thread'}.`;
}

/** The report's crossEntropy section: the issue's speed-ups, the memory of a call, and how they were measured. */
export function crossEntropySection(result: RunResult, markdown: boolean, chart?: string): string[] {
  const scenarios = result.scenarios.filter((s) => s.op === CE_OP);
  if (scenarios.length === 0) return [];
  const table = (rows: string[][], numeric: (i: number) => boolean) =>
    markdown ? markdownTable(rows, numeric) : textTable(rows, numeric);
  const shapes = [...new Set(scenarios.map((s) => shapeLabel(s)))].join(', ');
  const out = [
    markdown ? '## crossEntropy: fused against TensorFlow.js and the unfused composition' : 'crossEntropy',
    '',
  ];
  out.push(
    `Shapes ${shapes}; calls: ${[...new Set(scenarios.map((s) => `${s.variant} ${JSON.stringify(s.options ?? {})}`))].join('; ')}. Targets are class indices uniform in [0, cols) from the bench's seed, every eighth row ignored (−100, the default ignoreIndex: padding). TensorFlow.js gets tf.oneHot labels and weight 0 on the ignored rows (tf.losses.softmaxCrossEntropy, gradient by tf.valueAndGrad); the unfused candidates compose logSoftmax, a host gather, a dense one-hot upstream gradient and logSoftmaxBackward on the same backend.`,
  );
  const threads = threadsLine(result);
  if (threads) out.push('', threads);
  const ratios = ratioRows(result);
  out.push('', 'speed-up = their median ÷ the fused median (above 1×: the fused op is faster).', '');
  out.push(ratios.length > 1 ? table(ratios, (i) => i >= 4 && i <= 6) : 'No compared pair was measured in this run.');
  if (chart && markdown) out.push('', `![crossEntropy speed-ups](${chart})`);
  const memory = memoryRows(result);
  if (memory.length > 1) {
    out.push(
      '',
      markdown ? '### Memory of one call' : 'Memory of one call',
      '',
      "Each candidate's first call at the shape in a fresh Node process (after warm-up calls at a tiny shape, so no code is compiled during it): peak RSS during the call minus RSS just before it (Linux VmHWM, reset through /proc/self/clear_refs); extra = that minus the gradient array the call returns (none in place), i.e. the memory beyond the logits and the gradient. It counts pages touched: a zeroed array written only sparsely (the unfused one-hot, on the host) counts only the pages written, and a few MiB of V8 heap growth is noise at any shape. wasm memory growth = growth of the backend's linear memory in the same call (kernel mode: beyond the resident buffers). On SwiftShader GPU buffers are host memory and show in RSS; on a real GPU they do not.",
      '',
      table(memory, (i) => i >= 3),
    );
  }
  return out;
}

/** A bar chart of the speed-ups (log scale), with 1× and each goal marked. */
export function ratioChartSvg(result: RunResult): string | undefined {
  const ratios = crossEntropyRatios(result);
  if (ratios.length === 0) return undefined;
  const W = 860;
  const rowH = 22;
  const M = { left: 330, right: 60, top: 44, bottom: 40 };
  const H = M.top + M.bottom + rowH * ratios.length;
  const values = ratios.flatMap((r) => [r.speedup, r.goal ?? 1]);
  const lo = Math.min(0.5, ...values) * 0.8;
  const hi = Math.max(4, ...values) * 1.25;
  const px = (v: number) => M.left + (Math.log(v / lo) / Math.log(hi / lo)) * (W - M.left - M.right);
  const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="20" y="24" font-size="15" font-weight="bold">crossEntropy: their median ÷ the fused median (log scale; right of 1× the fused op is faster)</text>`,
  ];
  for (const v of [0.5, 1, 2, 3, 5, 10, 20, 50, 100].filter((t) => t >= lo && t <= hi)) {
    parts.push(
      `<line x1="${px(v).toFixed(1)}" x2="${px(v).toFixed(1)}" y1="${M.top - 6}" y2="${H - M.bottom}" stroke="${v === 1 ? '#444' : '#ddd'}"/>`,
      `<text x="${px(v).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${v}×</text>`,
    );
  }
  ratios.forEach((r, i) => {
    const y = M.top + i * rowH;
    const met = r.goal === undefined ? '#1f77b4' : r.speedup >= r.goal ? '#2ca02c' : '#d62728';
    const x0 = px(Math.min(1, r.speedup));
    const x1 = px(Math.max(1, r.speedup));
    const label = `${r.ours} vs ${r.against} · ${r.scenario.variant} ${shapeLabel(r.scenario)} · ${r.clock === 'GPU' ? `${r.mode}, GPU` : r.mode}`;
    parts.push(
      `<text x="${M.left - 8}" y="${y + 15}" text-anchor="end">${esc(label)}</text>`,
      `<rect x="${x0.toFixed(1)}" y="${y + 4}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${rowH - 8}" fill="${met}"><title>${esc(`${times(r.speedup)}${r.goal ? ` (goal ≥ ${times(r.goal)})` : ''}`)}</title></rect>`,
      `<text x="${(x1 + 4).toFixed(1)}" y="${y + 15}">${times(r.speedup)}</text>`,
    );
    if (r.goal !== undefined) {
      const g = px(r.goal).toFixed(1);
      parts.push(`<line x1="${g}" x2="${g}" y1="${y + 1}" y2="${y + rowH - 1}" stroke="#000" stroke-width="2"/>`);
    }
  });
  parts.push(
    `<text x="20" y="${H - 10}" font-size="11" fill="#555">green: goal met; red: goal not met; blue: no goal; black tick: the goal</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
