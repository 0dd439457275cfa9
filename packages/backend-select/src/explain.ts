import type { Bucket } from './bucket.js';
import type { Fingerprint } from './fingerprint.js';
import type { DemotionEntry, FailureEntry, ProfileReport } from './instance.js';
import type { Selector } from './select.js';
import type { Slot } from './slots.js';
import type { BackendName, CandidateId, ChoiceSource } from './types.js';

/** explain(): a plain object (JSON-serialisable) saying what auto knows and why it chose. */
export interface Explain {
  mode: 'learn' | 'profile-only';
  forced?: BackendName;
  verify: boolean;
  persistence: string;
  fingerprint: Fingerprint;
  backends: ExplainBackend[];
  buckets: ExplainBucket[];
  failures: FailureEntry[];
  demotions: DemotionEntry[];
  profiles: ProfileReport[];
  /** Calls routed to exploration, their total time, and their time beyond the choice (ms). */
  exploring: { calls: number; ms: number; excessMs: number };
}

export interface ExplainBackend {
  id: CandidateId;
  backend: BackendName;
  threads?: number;
  /** available, or why not: its status and the exact reason. */
  status: string;
  reason?: string;
  details: Record<string, string>;
  /** Cold costs, paid once (ms): module import/compile, adapter and device, pipelines, canary. */
  cold: Record<string, number>;
  canary?: string;
  /** Per-call cost model fitted for softmax float32 (ms): fixed + perElement · n. */
  model: { fixed: number; perElement: number };
  served: number;
  demotedUntil?: number;
}

export interface ExplainCandidate {
  id: CandidateId;
  /** Measured median and spread (relative half-IQR) of the whole call, ms; or the model's prediction. */
  medianMs?: number;
  spread?: number;
  samples: number;
  source?: string;
  predictedMs: number;
  dropped: boolean;
}

export interface ExplainBucket {
  bucket: string;
  op: string;
  dtype: string;
  shape: string;
  calls: number;
  chosen?: CandidateId;
  source: ChoiceSource;
  settled: boolean;
  candidates: ExplainCandidate[];
  explored: number;
}

export interface ExplainInput {
  slots: readonly Slot[];
  buckets: readonly Bucket[];
  selector: Selector;
  failures: FailureEntry[];
  demotions: DemotionEntry[];
  profiles: ProfileReport[];
  forced?: BackendName;
  mode: 'learn' | 'profile-only';
  fingerprint: Fingerprint;
  persistence: string;
  verify: boolean;
  now: number;
}

export function explainOf(input: ExplainInput): Explain {
  const { selector } = input;
  const backends = input.slots.map((s): ExplainBackend => {
    const status =
      s.status === 'ready' && s.breaker.openUntil > 0 ? 'demoted' : s.status === 'ready' ? 'available' : s.status;
    return {
      id: s.id,
      backend: s.backend,
      threads: s.threads,
      status,
      reason: s.reason,
      details: s.loaded?.details ?? {},
      cold: { ...s.cold },
      canary: s.canary
        ? s.canary.ok
          ? `passed (${s.canary.checks} calls, ${s.canary.ms.toFixed(1)} ms)`
          : `FAILED: ${s.canary.message}`
        : undefined,
      model: selector.line(s.id, 'softmax', 'float32'),
      served: s.served,
      demotedUntil: s.breaker.openUntil > 0 ? s.breaker.openUntil : undefined,
    };
  });
  let calls = 0;
  let ms = 0;
  let excessMs = 0;
  const buckets = input.buckets.map((b): ExplainBucket => {
    calls += b.exploreCalls;
    ms += b.exploreMs;
    excessMs += b.exploreExcessMs;
    const ids = input.slots.map((s) => s.id).filter((id) => b.stats.has(id) || b.ready.includes(id));
    return {
      bucket: b.label,
      op: b.op,
      dtype: b.dtype,
      shape: `${b.rows}×${b.cols}`,
      calls: b.calls,
      chosen: b.chosen,
      source: b.source,
      settled: b.settled,
      explored: b.exploreCalls,
      candidates: ids.map((id) => {
        const s = b.stats.get(id);
        const measured = s !== undefined && s.size > 0;
        return {
          id,
          medianMs: measured ? s.median : undefined,
          spread: measured ? s.spread : undefined,
          samples: s?.count ?? 0,
          source: measured ? s.source : undefined,
          predictedMs: predictOnly(selector, b, id),
          dropped: b.dropped.has(id),
        };
      }),
    };
  });
  return {
    mode: input.mode,
    forced: input.forced,
    verify: input.verify,
    persistence: input.persistence,
    fingerprint: input.fingerprint,
    backends,
    buckets,
    failures: [...input.failures],
    demotions: [...input.demotions],
    profiles: input.profiles.map((p) => ({ ...p, rejectedCandidates: [...p.rejectedCandidates] })),
    exploring: { calls, ms, excessMs },
  };
}

function predictOnly(selector: Selector, b: Bucket, id: CandidateId): number {
  const line = selector.line(id, b.op, b.dtype);
  return line.fixed + line.perElement * b.elements;
}

const time = (ms: number | undefined) =>
  ms === undefined || !Number.isFinite(ms)
    ? '—'
    : ms >= 1
      ? `${ms.toFixed(2)} ms`
      : `${(ms * 1000).toFixed(ms >= 0.01 ? 1 : 2)} µs`;

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows
    .map((r) =>
      r
        .map((cell, c) => (cell ?? '').padEnd(widths[c]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** explain() as text: a table of backends, one of buckets, then failures, demotions and profiles. */
export function formatExplain(e: Explain): string {
  const out: string[] = [];
  out.push(
    `@softmax/auto — mode ${e.mode}${e.forced ? `, forced to ${e.forced}` : ''}, canary ${e.verify ? 'on' : 'off'}, persistence ${e.persistence}`,
  );
  out.push('', 'Backends');
  out.push(
    table([
      ['candidate', 'status', 'cold costs', 'per call (softmax f32)', 'served', 'canary / reason'],
      ...e.backends.map((b) => [
        b.id + (b.threads && b.threads > 1 ? ` (${b.threads} threads)` : ''),
        b.status,
        Object.entries(b.cold)
          .map(([k, v]) => `${k} ${time(v)}`)
          .join(', ') || '—',
        `${time(b.model.fixed)} + ${(b.model.perElement * 1e6).toFixed(2)} ns/elem`,
        String(b.served),
        [b.reason, b.canary, b.details.adapter ? `adapter: ${b.details.adapter}` : undefined]
          .filter(Boolean)
          .join('; ') || '—',
      ]),
    ]),
  );
  if (e.buckets.length > 0) {
    out.push('', 'Buckets (median ± spread of the whole call, per candidate; * chosen)');
    out.push(
      table([
        ['bucket', 'calls', 'chosen', 'from', ...e.backends.map((b) => b.id)],
        ...e.buckets.map((b) => [
          `${b.op} ${b.dtype} ${b.shape}`,
          String(b.calls),
          b.chosen ?? '—',
          b.source,
          ...e.backends.map((be) => {
            const c = b.candidates.find((x) => x.id === be.id);
            if (!c) return '';
            const mark = b.chosen === c.id ? '*' : '';
            if (c.medianMs === undefined) return `${mark}(predicted ${time(c.predictedMs)})`;
            const tag = c.source && c.source !== 'measured' ? ` ${c.source}` : '';
            return `${mark}${time(c.medianMs)} ±${((c.spread ?? 0) * 100).toFixed(0)}% n=${c.samples}${c.dropped ? ' dropped' : ''}${tag}`;
          }),
        ]),
      ]),
    );
  }
  out.push(
    '',
    `Exploring: ${e.exploring.calls} calls, ${time(e.exploring.ms)} (${time(e.exploring.excessMs)} beyond the choice)`,
  );
  if (e.failures.length > 0) {
    out.push('', 'Failures');
    for (const f of e.failures) {
      out.push(`  ${f.candidate} ${f.op}: ${f.code} ${f.message}${f.servedBy ? ` → served by ${f.servedBy}` : ''}`);
    }
  }
  for (const d of e.demotions) {
    out.push(`  demoted ${d.candidate} after ${d.afterFailures} failures, cool-down ${time(d.coolDownMs)}`);
  }
  for (const p of e.profiles) {
    const what = p.error
      ? `error: ${p.error}`
      : p.rejected
        ? `not used: ${p.rejected.field} differs (recorded ${p.rejected.recorded}, here ${p.rejected.current})`
        : `${p.applied} buckets applied`;
    out.push('', `Profile (${p.source}): ${what}`);
    for (const r of p.rejectedCandidates) {
      out.push(`  ${r.candidate} entries not used: ${r.field} differs (recorded ${r.recorded}, here ${r.current})`);
    }
  }
  return out.join('\n');
}
