import { Bucket, bucketKey } from './bucket.js';
import { fit, type Line, predict, prior } from './cost-model.js';
import { EXPLORE_SAMPLES } from './samples.js';
import type { CandidateId, Dtype, OpName } from './types.js';

export { EXPLORE_SAMPLES };

/**
 * The decision, as data: per bucket, the measured median of each candidate (or the cost model's
 * prediction where there is none yet). The lowest wins, with hysteresis; a bounded number of calls
 * measure the other plausible candidates.
 */

/** A candidate predicted (or measured) slower than this many times the best is not tried there. */
export const PLAUSIBLE = 4;
/** Exploring a bucket measures only candidates estimated within this factor of its choice. */
const WORTH_MEASURING = 2.5;
/** After one sample (maybe a cold start), a candidate this many times slower than the best is dropped; after two, DROP. */
const DROP_FIRST = 3;
const DROP = 1.5;
/**
 * Exploring a bucket may cost, beyond its choice, at most this fraction of what its calls so far
 * cost on the choice: a candidate predicted slower is measured once the bucket has served enough
 * calls to pay for it, so learning never costs more than a quarter on top at any point, whatever
 * the predictions get wrong (a cold first call, a prior far off on this machine). One predicted
 * no slower than the choice costs nothing by this count and is measured at once.
 */
export const LEARNING_BUDGET = 0.25;
/** Least relative advantage that moves a bucket to another candidate (above the measured noise). */
export const MIN_MARGIN = 0.05;
/** A settled bucket re-decides every REDECIDE calls and re-measures its runner-up every RECHECK. */
const REDECIDE = 16;
const RECHECK = 256;

export interface Pick {
  id: CandidateId;
  explore: boolean;
}

export class Selector {
  readonly buckets = new Map<number, Bucket>();
  #lines = new Map<string, Line>();
  #dirty = new Set<string>();

  constructor(
    /** 'learn': explore; false: use only what is measured, seeded or predicted (profile-only). */
    readonly learn: boolean,
    /** Whether the WebGPU adapter is software (priced as a CPU until measured). */
    readonly softwareGpu: () => boolean,
    /** One candidate pinned by `backend`: every bucket's choice is 'forced'. */
    readonly forced = false,
  ) {}

  bucket(op: OpName, dtype: Dtype, rows: number, cols: number): Bucket {
    const key = bucketKey(op, dtype, rows, cols);
    let b = this.buckets.get(key);
    if (!b) {
      b = new Bucket(key, op, dtype, rows, cols);
      this.buckets.set(key, b);
    }
    return b;
  }

  /** The fitted line of a candidate for an op and dtype (refitted when its measurements changed). */
  line(id: CandidateId, op: OpName, dtype: Dtype): Line {
    const k = `${id} ${op} ${dtype}`;
    let line = this.#lines.get(k);
    if (line && !this.#dirty.has(k)) return line;
    const points: Array<{ n: number; ms: number }> = [];
    for (const b of this.buckets.values()) {
      const s = b.op === op && b.dtype === dtype ? b.stats.get(id) : undefined;
      if (s && s.size > 0) points.push({ n: b.elements, ms: s.median });
    }
    line = fit(points, prior(id, op, dtype, id === 'webgpu' && this.softwareGpu()));
    this.#lines.set(k, line);
    this.#dirty.delete(k);
    return line;
  }

  /** What a call in `b` costs on `id`: the measured median, else the model's prediction (ms). */
  estimate(b: Bucket, id: CandidateId): number {
    const s = b.stats.get(id);
    if (s && s.size > 0) return s.median;
    return predict(this.line(id, b.op, b.dtype), b.elements);
  }

  /** The candidates worth having for `b` (to load, prepare or measure): within PLAUSIBLE of the best prediction. */
  plausible(b: Bucket, ids: readonly CandidateId[]): CandidateId[] {
    const est = ids.map((id) => this.estimate(b, id));
    const best = Math.min(...est);
    return ids.filter((_, i) => est[i] <= best * PLAUSIBLE);
  }

  /** The candidate for the next call in `b`, among `ready` (non-empty). */
  pick(b: Bucket, ready: readonly CandidateId[]): Pick {
    b.calls++;
    const chosen = b.chosen;
    if (b.settled && !b.stale && chosen !== undefined && b.calls % REDECIDE !== 0 && ready.includes(chosen)) {
      return { id: chosen, explore: false };
    }
    this.#decide(b, ready);
    const id = b.chosen!;
    if (!this.learn) return { id, explore: false };
    const target = b.settled ? this.#recheck(b, ready) : this.#explore(b, ready);
    return target ? { id: target, explore: true } : { id, explore: false };
  }

  /** Records a call's whole time on `id`. */
  record(b: Bucket, id: CandidateId, ms: number, explored: boolean): void {
    const s = b.samples(id);
    const predicted = explored && s.size === 0 ? predict(this.line(id, b.op, b.dtype), b.elements) : 0;
    // Timings it was dropped on that this one shows cold are gone: so is the drop.
    if (s.add(ms)) b.dropped.delete(id);
    let key = b.lineKeys[id];
    if (key === undefined) {
      key = `${id} ${b.op} ${b.dtype}`;
      b.lineKeys[id] = key;
    }
    this.#dirty.add(key);
    if (!explored) return;
    b.exploreCalls++;
    b.exploreMs += ms;
    const others = [...b.stats.entries()].filter(([other, t]) => other !== id && t.size > 0).map(([, t]) => t.median);
    const best = Math.min(...others);
    b.exploreExcessMs += Math.max(0, ms - (Number.isFinite(best) ? best : ms));
    // One sample may be a cold start, so it drops a candidate only when far slower, or when it
    // confirms a prediction that it is slower (a cold start that happens to be predicted is cheap to misjudge).
    const confirmed = s.size === 1 && ms > DROP * best && predicted > best;
    if (confirmed || (s.size === 1 && ms > DROP_FIRST * best) || (s.size >= 2 && s.min > DROP * best))
      b.dropped.add(id);
  }

  /** Picks the lowest estimate; the current choice keeps the bucket unless beaten beyond the noise. */
  #decide(b: Bucket, ready: readonly CandidateId[]): void {
    b.stale = false;
    let best = ready[0];
    let bestMs = this.estimate(b, best);
    for (let i = 1; i < ready.length; i++) {
      const ms = this.estimate(b, ready[i]);
      if (ms < bestMs) {
        best = ready[i];
        bestMs = ms;
      }
    }
    const current = b.chosen;
    if (this.forced) {
      b.chosen = best;
      b.source = 'forced';
      return;
    }
    if (current !== undefined && !ready.includes(current)) {
      // The choice is demoted, or lost its pipelines: the next best serves until it is back.
      b.chosen = best;
      b.source = 'fallback';
      return;
    }
    if (current !== undefined && current !== best) {
      const margin = Math.max(
        MIN_MARGIN,
        2 * Math.max(b.stats.get(current)?.spread ?? 0, b.stats.get(best)?.spread ?? 0),
      );
      if (!(bestMs < this.estimate(b, current) * (1 - margin))) best = current;
    }
    if (best !== current || b.source === 'prior' || b.source === 'fallback') {
      const s = b.stats.get(best);
      b.source = s && s.size > 0 ? (s.source === 'measured' ? 'measured' : s.source) : 'prior';
    }
    if (b.chosen !== best) b.dirty = true;
    b.chosen = best;
  }

  /**
   * The next candidate to measure in an unsettled bucket (the most promising first), once the
   * choice itself has two timings and the bucket can afford it (LEARNING_BUDGET); settles the
   * bucket when there is none.
   */
  #explore(b: Bucket, ready: readonly CandidateId[]): CandidateId | undefined {
    const own = b.stats.get(b.chosen!);
    if (own === undefined) return undefined;
    const chosenMs = this.estimate(b, b.chosen!);
    const limit = chosenMs * WORTH_MEASURING;
    let target: CandidateId | undefined;
    let targetMs = Number.POSITIVE_INFINITY;
    for (const id of ready) {
      if (id === b.chosen || b.dropped.has(id)) continue;
      const s = b.stats.get(id);
      // Seeded (persisted, imported) timings count as measured: they are why a record is kept.
      if ((s === undefined ? 0 : s.source === 'measured' ? s.size : EXPLORE_SAMPLES) >= EXPLORE_SAMPLES) continue;
      const ms = this.estimate(b, id);
      if (ms <= limit && ms < targetMs) {
        target = id;
        targetMs = ms;
      }
    }
    if (target === undefined && (own.size >= EXPLORE_SAMPLES || own.source !== 'measured')) {
      b.settled = true;
      b.dirty = true;
    }
    // Not yet affordable: the choice serves, and the bucket stays open until its calls pay for it
    // (the most promising target is also the cheapest to measure, so no other one is).
    if (
      target !== undefined &&
      b.exploreExcessMs + Math.max(0, targetMs - chosenMs) > LEARNING_BUDGET * b.calls * chosenMs
    ) {
      return undefined;
    }
    return target;
  }

  /**
   * Every RECHECK calls of a settled bucket, one call re-measures the runner-up (the machine may
   * change). First, a candidate dropped on the few timings of its exploration (or timed only once)
   * is timed again, once, if its prior calls it plausible: the first calls may have been cold (code
   * not yet optimised, caches empty, other candidates loading on the same cores; the candidate
   * explored first pays for the JIT warming the code the others share), and cold calls must not
   * keep the fastest candidate out of a bucket for good.
   */
  #recheck(b: Bucket, ready: readonly CandidateId[]): CandidateId | undefined {
    if (b.calls % RECHECK !== 0) return undefined;
    const chosenMs = this.estimate(b, b.chosen!);
    for (const id of ready) {
      const s = b.stats.get(id);
      if (id === b.chosen || s === undefined || s.source !== 'measured') continue;
      if (s.size !== 1 && !(b.dropped.has(id) && s.count <= EXPLORE_SAMPLES)) continue;
      const priorMs = predict(prior(id, b.op, b.dtype, id === 'webgpu' && this.softwareGpu()), b.elements);
      if (priorMs <= chosenMs * PLAUSIBLE) return id;
    }
    let runnerUp: CandidateId | undefined;
    let runnerMs = Number.POSITIVE_INFINITY;
    for (const id of ready) {
      if (id === b.chosen) continue;
      const ms = this.estimate(b, id);
      if (ms < runnerMs) {
        runnerUp = id;
        runnerMs = ms;
      }
    }
    return runnerUp !== undefined && runnerMs <= chosenMs * DROP ? runnerUp : undefined;
  }

  /** Marks a bucket as needing exploration again (a candidate joined it: WebGPU became ready, say). */
  reopen(b: Bucket): void {
    if (this.learn) b.settled = false;
  }
}
