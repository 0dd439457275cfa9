import type { Bucket } from './bucket.js';
import type { Fingerprint } from './fingerprint.js';
import type { DemotionEntry, FailureEntry, ProfileReport } from './instance.js';
import type { Selector } from './select.js';
import type { Slot } from './slots.js';
import type { BackendName, CandidateId, ChoiceSource } from './types.js';

/** explain(): a plain object (JSON-serialisable) saying what auto knows and why it chose. */
export interface Explain {
  /** 'learn' (measures real calls) or 'profile-only'. */
  mode: 'learn' | 'profile-only';
  /** The backend every call goes to, when one is forced (`backend:` or `SOFTMAX_BACKEND`). */
  forced?: BackendName;
  /** Whether canaries run before a backend serves. */
  verify: boolean;
  /** Where measurements persist ('off', or the store and its state). */
  persistence: string;
  /** This machine's fingerprint, as persisted records are keyed. */
  fingerprint: Fingerprint;
  /** Every candidate and its state. */
  backends: ExplainBackend[];
  /** Every (op, dtype, shape bucket) seen, with its choice and measurements. */
  buckets: ExplainBucket[];
  /** Calls a backend failed (and who served them instead). */
  failures: FailureEntry[];
  /** Candidates demoted after failures in a row. */
  demotions: DemotionEntry[];
  /** What happened to each persisted record or imported profile. */
  profiles: ProfileReport[];
  /** Calls routed to exploration, their total time, and their time beyond the choice (ms). */
  exploring: { calls: number; ms: number; excessMs: number };
}

/** One candidate in `explain()`: its status, costs and what it served. */
export interface ExplainBackend {
  /** The candidate: 'core', 'wasm', 'wasm-mt' or 'webgpu'. */
  id: CandidateId;
  /** The backend it runs on. */
  backend: BackendName;
  /** Threads, for wasm candidates. */
  threads?: number;
  /** available, or why not: its status and the exact reason. */
  status: string;
  /** Why it is not available, when it is not. */
  reason?: string;
  /** Facts worth printing (simd, threads, adapter, ...). */
  details: Record<string, string>;
  /** Cold costs, paid once (ms): module import/compile, adapter and device, pipelines, canary. */
  cold: Record<string, number>;
  /** The canary's verdict, when one ran. */
  canary?: string;
  /** Per-call cost model fitted for softmax float32 (ms): fixed + perElement · n. */
  model: { fixed: number; perElement: number };
  /** Calls it served. */
  served: number;
  /** Clock time (ms) its cool-down ends, while demoted. */
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

/** One bucket in `explain()`: the calls it saw, its choice and where that came from. */
export interface ExplainBucket {
  /** The bucket's key. */
  bucket: string;
  /** The op. */
  op: string;
  /** The float type. */
  dtype: string;
  /** The shape range (rows and cols each within a power of two). */
  shape: string;
  /** Calls it saw. */
  calls: number;
  /** The candidate its calls go to. */
  chosen?: CandidateId;
  /** Where the choice came from: 'prior', 'measured', 'persisted', 'imported', 'forced' or 'fallback'. */
  source: ChoiceSource;
  /** Whether exploring is over for it. */
  settled: boolean;
  /** Each candidate's measurement (or prediction) here. */
  candidates: ExplainCandidate[];
  /** Calls routed to other candidates to measure them. */
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

/**
 * explain() as text: a table of backends, one of buckets, then failures, demotions and profiles.
 *
 * @example
 * ```ts
 * import { createSoftmax, formatExplain } from '@softmax/auto';
 *
 * const auto = createSoftmax({ backends: ['core', 'wasm'] });
 * await auto.softmax(new Float32Array(1000), { cols: 1000 });
 * console.log(formatExplain(auto.explain())); // backends, buckets, failures, as tables
 * ```
 */
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
