import { scenarioLabel, tolerance } from '@softmax/bench-scenarios';
import type { CandidateInfo, Measurement, RunResult, ScenarioResult } from './results.js';
import { spread } from './stats.js';

/** Human units for a duration given in nanoseconds. */
export function duration(ns: number): string {
  if (!Number.isFinite(ns)) return '–';
  if (ns < 1e3) return `${ns.toFixed(ns < 10 ? 2 : 0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toPrecision(3)} s`;
}

const num = (v: number | undefined, digits = 3): string =>
  v === undefined || !Number.isFinite(v) ? '–' : v.toPrecision(digits);
const ratio = (v: number | undefined): string => (v === undefined ? '–' : `${v < 10 ? v.toFixed(2) : v.toFixed(0)}×`);

export const tableHeader = ['candidate', 'mode', 'median', '±', 'ns/elem', 'GB/s', '× fastest', '× copy', 'check'];

/** Bytes in binary units, signed ("−" below 0). */
export function bytesText(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  const sign = n < 0 ? '−' : '';
  const a = Math.abs(n);
  if (a < 1024) return `${sign}${a} B`;
  if (a < 1024 ** 2) return `${sign}${(a / 1024).toPrecision(3)} KiB`;
  if (a < 1024 ** 3) return `${sign}${(a / 1024 ** 2).toPrecision(3)} MiB`;
  return `${sign}${(a / 1024 ** 3).toPrecision(3)} GiB`;
}

/**
 * Header of a scenario's table: tableHeader, plus a 'GPU time' column when a candidate reports one
 * and an 'extra memory' column when the scenario's memory was measured.
 */
export function scenarioHeader(s: ScenarioResult): string[] {
  return [...tableHeader, ...(hasGpuTime(s) ? ['GPU time'] : []), ...(hasMemory(s) ? ['extra memory'] : [])];
}

const hasGpuTime = (s: ScenarioResult): boolean => s.results.some((m) => m.gpuStats);
const hasMemory = (s: ScenarioResult): boolean => s.results.some((m) => m.memory);

/** Numeric columns of a scenario table (right-aligned): the timings and ratios, GPU time and memory. */
export const scenarioNumeric = (i: number): boolean => (i >= 2 && i <= 7) || i >= tableHeader.length;

/** A call's memory beyond its inputs and the gradient it returns (user), or its own memory's growth (kernel). */
export function memoryText(m: Measurement): string {
  const f = m.memory;
  if (!f) return '–';
  if (f.error) return 'error';
  const own = f.ownGrowth === undefined ? '' : `wasm memory +${bytesText(f.ownGrowth)}`;
  if (f.extra === undefined) return own || '–';
  return own ? `${bytesText(f.extra)} (${own})` : bytesText(f.extra);
}

function checkText(m: Measurement): string {
  if (m.status === 'error') return `error: ${m.error}`;
  if (m.status === 'wrong') return `WRONG (${m.error ?? 'beyond tolerance'})`;
  // sample's tokens have no error to show: how its rows passed (sample-check.ts) instead.
  if (m.check?.detail) return `ok (${m.check.detail})`;
  return `ok (err ${m.check?.relError === undefined ? '–' : m.check.relError.toExponential(1)})`;
}

/** One row per measurement: timed ones by median, then the wrong and failed ones. */
export function scenarioRows(s: ScenarioResult, labels: Map<string, string>): string[][] {
  const order = (m: Measurement) => (m.stats ? m.stats.median : Number.POSITIVE_INFINITY);
  const gpu = hasGpuTime(s);
  const memory = hasMemory(s);
  return [...s.results]
    .sort((a, b) => (a.mode === b.mode ? order(a) - order(b) : a.mode === 'user' ? -1 : 1))
    .map((m) => [
      labels.get(m.candidate) ?? m.candidate,
      m.mode,
      m.stats ? duration(m.stats.median) : '–',
      m.stats ? duration(spread(m.stats)) : '–',
      num(m.nsPerElement),
      num(m.gbPerSecond),
      ratio(m.ratioToFastest),
      ratio(m.ratioToCopy),
      checkText(m),
      ...(gpu ? [m.gpuStats ? duration(m.gpuStats.median) : '–'] : []),
      ...(memory ? [memoryText(m)] : []),
    ]);
}

export const scenarioTitle = (s: ScenarioResult): string =>
  `${scenarioLabel(s)} (${s.elements.toLocaleString('en-US')} elements)`;

export function textTable(rows: string[][], numeric: (i: number) => boolean = (i) => i >= 2 && i <= 7): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r, k) => {
      const line = r.map((cell, i) => (numeric(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join('  ');
      return k === 0 ? `${line}\n${widths.map((w) => '─'.repeat(w)).join('  ')}` : line;
    })
    .join('\n');
}

export function markdownTable(rows: string[][], numeric: (i: number) => boolean = (i) => i >= 2 && i <= 7): string {
  const esc = (c: string) => c.replaceAll('|', '\\|');
  return [
    `| ${rows[0].map(esc).join(' | ')} |`,
    `| ${rows[0].map((_, i) => (numeric(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.slice(1).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export const labelsOf = (candidates: CandidateInfo[]): Map<string, string> =>
  new Map(candidates.map((c) => [c.id, c.label]));

/**
 * Ours against the peers, one row per scenario and mode: each @softmax backend's ns/element and its
 * median over the fastest peer's (below 1: ours is faster). The floor is left out.
 */
export function summaryRows(result: RunResult): string[][] {
  // Ours that measured something in this run (the unfused compositions only run crossEntropy).
  const measured = new Set(result.scenarios.flatMap((s) => s.results.map((m) => m.candidate)));
  const ours = result.candidates.filter((c) => c.kind === 'ours' && c.available && measured.has(c.id));
  const labels = labelsOf(result.candidates);
  const kinds = new Map(result.candidates.map((c) => [c.id, c.kind]));
  const header = [
    'scenario',
    'mode',
    'fastest peer',
    'peer ns/elem',
    ...ours.map((c) => `${c.label} ns/elem (× peer)`),
  ];
  const rows: string[][] = [header];
  for (const s of result.scenarios) {
    for (const mode of result.suite.modes) {
      const timed = s.results.filter((m) => m.mode === mode && m.stats);
      const peers = timed
        .filter((m) => kinds.get(m.candidate) === 'peer')
        .sort((a, b) => a.stats!.median - b.stats!.median);
      const mine = ours.map((c) => timed.find((m) => m.candidate === c.id));
      if (mine.every((m) => !m)) continue;
      const best = peers[0];
      rows.push([
        scenarioLabel(s),
        mode,
        best ? (labels.get(best.candidate) ?? best.candidate) : '–',
        num(best?.nsPerElement),
        ...mine.map((m) =>
          m ? `${num(m.nsPerElement)}${best ? ` (${ratio(m.stats!.median / best.stats!.median)})` : ''}` : '–',
        ),
      ]);
    }
  }
  return rows;
}

export function terminalReport(result: RunResult): string {
  const labels = labelsOf(result.candidates);
  return result.scenarios
    .map((s) => `${scenarioTitle(s)}\n${textTable([scenarioHeader(s), ...scenarioRows(s, labels)], scenarioNumeric)}`)
    .join('\n\n');
}

export function candidateLines(candidates: CandidateInfo[]): string[] {
  return candidates.map((c) =>
    c.available
      ? `${c.label} ${c.version ?? ''}${
          c.details && Object.keys(c.details).length
            ? ` (${Object.entries(c.details)
                .map(([k, v]) => `${k}: ${v}`)
                .join(', ')})`
            : ''
        }: ${c.description}`
      : `${c.label}: UNAVAILABLE: ${c.reason}`,
  );
}

/** The Markdown report written beside the JSON. */
export function markdownReport(result: RunResult, charts: string[]): string {
  const labels = labelsOf(result.candidates);
  const m = result.machine;
  const b = result.suite.budget;
  return [
    `# softmax benchmark: ${result.suite.name} run`,
    '',
    `Recorded ${result.finishedAt} on ${m.cpu ?? m.userAgent ?? 'unknown CPU'} (${m.cores ?? '?'} cores), ${m.runtime ?? ''}, ${m.platform ?? ''}; GPU: ${m.gpu ?? 'none'}.`,
    '',
    'Each candidate is first checked against the float64 oracle (@softmax/core reference); only verified ones are timed.',
    `Passing means |y − ref| ≤ rtol·|ref| + atol·(row max): float32 rtol ${tolerance.float32.rtol}, atol ${tolerance.float32.atol}; float64 rtol ${tolerance.float64.rtol}, atol ${tolerance.float64.atol}. "err" is each result's largest error relative to |ref| (over normal-range entries).`,
    `Then: ${b.warmupMs} ms warm-up; samples of at least ${b.sampleMs} ms each (many calls, timed together), ${b.minSamples}–${b.samples} samples per candidate,`,
    'taken in interleaved rounds (every candidate once per round, rotating order) so load on the shared machine hits all alike.',
    'median = median time per call; ± = half the interquartile range; GB/s = (input + output bytes) / median;',
    '× fastest = against the fastest verified candidate in the same mode; × copy = against TypedArray.prototype.set of the same bytes (the floor).',
    'GPU time (shown only where a candidate reports it: the WebGPU candidates in kernel mode, when the adapter has timestamp-query) = median time between the timestamps written at the beginning and end of the compute passes, sampled after the wall-time samples; – = not reported.',
    'Modes: **user** = array in, array out (what a caller pays); **kernel** = the op on data already resident (tfjs tensor on its backend, no readback; @softmax/wasm zero-copy buffers; @softmax/webgpu encode* on GPU buffers).',
    '',
    '## Candidates',
    '',
    ...candidateLines(result.candidates).map((l) => `- ${l}`),
    '',
    ...(charts.length ? ['## Charts', '', ...charts.map((c) => `![${c}](${c})`), ''] : []),
    '## Ours against the fastest peer',
    '',
    "Per scenario and mode: the fastest peer (TensorFlow.js, ONNX Runtime, plain JS) and each @softmax backend, with its median over that peer's (below 1.00×: ours is faster).",
    '',
    markdownTable(summaryRows(result), (i) => i >= 3),
    '',
    '## Results',
    '',
    ...result.scenarios.flatMap((s) => [
      `### ${scenarioTitle(s)}`,
      '',
      markdownTable([scenarioHeader(s), ...scenarioRows(s, labels)], scenarioNumeric),
      '',
    ]),
  ].join('\n');
}
