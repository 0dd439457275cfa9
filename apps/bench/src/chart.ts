import type { BenchDtype, Op } from '@softmax/bench-scenarios';
import type { CandidateInfo, ScenarioResult } from './results.js';

/**
 * A hand-written SVG line chart: nanoseconds per element (log) against elements per call (log),
 * one colour per candidate, solid for 'user' mode and dashed for 'kernel'. Single-row shapes
 * (1×n, a clean size sweep) are joined by lines; batched shapes are hollow markers.
 */
const palette = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
  '#393b79',
  '#637939',
];

const W = 860;
const H = 500;
const M = { left: 70, right: 230, top: 40, bottom: 55 };

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const decades = (lo: number, hi: number) => {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
};
const tickLabel = (v: number) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`);

/** One chart per (op, call, dtype) of a run, in the order its scenarios ran. */
export function chartKeys(scenarios: ScenarioResult[]): { op: Op; dtype: BenchDtype; variant?: string }[] {
  const seen = new Map<string, { op: Op; dtype: BenchDtype; variant?: string }>();
  for (const s of scenarios) {
    const k = `${s.op}|${s.variant ?? ''}|${s.dtype}`;
    if (!seen.has(k)) seen.set(k, { op: s.op, dtype: s.dtype, ...(s.variant ? { variant: s.variant } : {}) });
  }
  return [...seen.values()];
}

/** The chart's file name: NAME-op-dtype.svg, with the call's name for an op measured with options (loss+grad → loss-grad). */
export const chartFile = (name: string, k: { op: string; dtype: string; variant?: string }): string =>
  `${name}-${k.op}${k.variant ? `-${k.variant.replace(/[^A-Za-z0-9-]+/g, '-')}` : ''}-${k.dtype}.svg`;

interface Point {
  elements: number;
  rows: number;
  nsPerElement: number;
}

export function chartSvg(
  scenarios: ScenarioResult[],
  candidates: CandidateInfo[],
  op: Op,
  dtype: BenchDtype,
  variant?: string,
): string {
  const chosen = scenarios.filter((s) => s.op === op && s.dtype === dtype && s.variant === variant);
  const series = new Map<string, { candidate: string; mode: string; points: Point[] }>();
  for (const s of chosen) {
    for (const m of s.results) {
      if (m.nsPerElement === undefined) continue;
      const key = `${m.candidate}/${m.mode}`;
      if (!series.has(key)) series.set(key, { candidate: m.candidate, mode: m.mode, points: [] });
      series.get(key)!.points.push({ elements: s.elements, rows: s.rows, nsPerElement: m.nsPerElement });
    }
  }
  const all = [...series.values()].flatMap((s) => s.points);
  const title = `${op}${variant ? ` ${variant}` : ''} ${dtype}: time per element against size (log–log; lower is better)`;
  if (all.length === 0) {
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="120" viewBox="0 0 ${W} 120"><text x="20" y="40" font-family="sans-serif" font-size="14">${esc(title)}: no verified results yet</text></svg>`;
  }
  const xs = decades(Math.min(...all.map((p) => p.elements)), Math.max(...all.map((p) => p.elements)));
  const ys = decades(Math.min(...all.map((p) => p.nsPerElement)), Math.max(...all.map((p) => p.nsPerElement)));
  const [x0, x1] = [Math.log10(xs[0]), Math.log10(xs[xs.length - 1])];
  const [y0, y1] = [Math.log10(ys[0]), Math.log10(ys[ys.length - 1])];
  const px = (v: number) => M.left + ((Math.log10(v) - x0) / (x1 - x0 || 1)) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((Math.log10(v) - y0) / (y1 - y0 || 1)) * (H - M.top - M.bottom);
  const labels = new Map(candidates.map((c) => [c.id, c.label]));
  const colours = new Map(candidates.map((c, i) => [c.id, palette[i % palette.length]]));

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const v of xs) {
    parts.push(`<line x1="${px(v)}" x2="${px(v)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#ddd"/>`);
    parts.push(`<text x="${px(v)}" y="${H - M.bottom + 18}" text-anchor="middle">${tickLabel(v)}</text>`);
  }
  for (const v of ys) {
    parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(v)}" y2="${py(v)}" stroke="#ddd"/>`);
    parts.push(
      `<text x="${M.left - 8}" y="${py(v) + 4}" text-anchor="end">${v < 1 ? v.toPrecision(1) : tickLabel(v)}</text>`,
    );
  }
  parts.push(
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">elements per call (rows × cols)</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">ns per element</text>`,
    `<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#888"/>`,
  );
  let legendY = M.top + 4;
  for (const s of series.values()) {
    const colour = colours.get(s.candidate) ?? '#000';
    const dash = s.mode === 'kernel' ? ' stroke-dasharray="6 4"' : '';
    const line = s.points.filter((p) => p.rows === 1).sort((a, b) => a.elements - b.elements);
    if (line.length > 1) {
      const d = line
        .map((p, i) => `${i ? 'L' : 'M'}${px(p.elements).toFixed(1)},${py(p.nsPerElement).toFixed(1)}`)
        .join('');
      parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
    }
    for (const p of s.points) {
      const fill = p.rows === 1 ? colour : 'white';
      parts.push(
        `<circle cx="${px(p.elements).toFixed(1)}" cy="${py(p.nsPerElement).toFixed(1)}" r="4" fill="${fill}" stroke="${colour}" stroke-width="1.5"><title>${esc(`${labels.get(s.candidate) ?? s.candidate} (${s.mode}) ${p.rows}×${p.elements / p.rows}: ${p.nsPerElement.toPrecision(3)} ns/element`)}</title></circle>`,
      );
    }
    const lx = W - M.right + 14;
    parts.push(
      `<line x1="${lx}" x2="${lx + 26}" y1="${legendY}" y2="${legendY}" stroke="${colour}" stroke-width="2"${dash}/>`,
    );
    parts.push(
      `<text x="${lx + 32}" y="${legendY + 4}">${esc(`${labels.get(s.candidate) ?? s.candidate} · ${s.mode}`)}</text>`,
    );
    legendY += 18;
  }
  parts.push(
    `<text x="${W - M.right + 14}" y="${legendY + 14}" font-size="11" fill="#555">filled: 1×n rows; hollow: batched</text>`,
    `<text x="${W - M.right + 14}" y="${legendY + 28}" font-size="11" fill="#555">solid: user; dashed: kernel</text>`,
    '</svg>',
  );
  return parts.join('\n');
}
