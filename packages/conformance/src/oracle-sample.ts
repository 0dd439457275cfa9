/**
 * The sampling oracle: the README's rules for one row, computed independently of `@softmax/core`
 * and by other means than its reference (which sorts and walks each row): every filter as a
 * count or a mass of the ids *strictly above* an id — top-k keeps j when fewer than k ids have a
 * larger logit; top-p keeps j when the probability of the ids above it is still below topP;
 * min-p compares each ratio p_j / p_max — with compensated sums. It also reports how far each
 * decision was from going the other way, so the suite can hold a backend that rounds otherwise to
 * the answer wherever the answer is well-defined at its precision.
 */

/** One row's settings in plain form (the suite turns them into the call's options). */
export interface OracleSampleRow {
  /** ≥ 0, 0 for greedy; default 1. */
  temperature?: number;
  /** 0 (default) for off. */
  topK?: number;
  /** 1 (default) for off. */
  topP?: number;
  /** 0 (default) for off. */
  minP?: number;
  /** HF's; default 1. */
  repetitionPenalty?: number;
  /** OpenAI's; default 0. */
  presencePenalty?: number;
  /** OpenAI's; default 0. */
  frequencyPenalty?: number;
  /** Ids in any order, repeats counted; −1 ignored. */
  history?: readonly number[];
  /** [id, bias] pairs, each id at most once. */
  bias?: ReadonlyArray<readonly [number, number]>;
  /** The row's ceil(cols / 32) words. */
  mask?: readonly number[];
}

/** The oracle's view of one row: processed logits, the kept set, each id's weight and log-probability. */
export interface OracleSample {
  /** 'ok', or why the row has no token: a NaN allowed by the mask, or nothing allowed above −Infinity. */
  status: 'ok' | 'nan' | 'empty';
  /** The logits after penalties, bias and mask. */
  processed: number[];
  /** Kept ids, ascending. */
  kept: number[];
  /** Kept ids from most to least probable, ties by ascending id. */
  ranked: number[];
  /** Per kept id: the draw's weight exp((x − max)/T) (1 for +Infinity) and its log-probability. */
  weight: Map<number, number>;
  /** Per kept id: its log-probability under the processed distribution. */
  logprob: Map<number, number>;
  /**
   * How close the decisions came to another kept set or order: the smallest gap in logit units
   * next to a cut (greedy's maximum, top-k's and top-p's cut values) and between two distinct kept
   * logits; top-p's distance from topP to the cumulative probability before and at its cut; min-p's
   * smallest |log(p_j / p_max) − log(minP)|. Infinity where nothing was decided.
   */
  ambiguity: { logitGap: number; topP: number; minP: number };
  /** max |x − max| / T over the kept ids: the scale of a log-probability's rounding. */
  zScale: number;
}

/** Neumaier's compensated sum. */
function sum(values: Iterable<number>): number {
  let s = 0;
  let c = 0;
  for (const v of values) {
    const t = s + v;
    c += Math.abs(s) >= Math.abs(v) ? s - t + v : v - t + s;
    s = t;
  }
  return s + c;
}

/**
 * The logits after penalties (repetition, then presence and frequency), bias and mask.
 *
 * @example
 * ```ts
 * import { oracleProcessed } from '@softmax/conformance/helpers';
 *
 * oracleProcessed([2, -1, 3], { repetitionPenalty: 2, history: [0, 1] }); // [1, -2, 3]
 * ```
 */
export function oracleProcessed(row: ArrayLike<number>, s: OracleSampleRow): number[] {
  const z = Array.from(row);
  const counts = new Map<number, number>();
  for (const id of s.history ?? []) if (id !== -1) counts.set(id, (counts.get(id) ?? 0) + 1);
  const r = s.repetitionPenalty ?? 1;
  for (const [id, c] of counts) {
    const v = r === 1 ? z[id] : z[id] < 0 ? z[id] * r : z[id] / r;
    z[id] = v - c * (s.frequencyPenalty ?? 0) - (s.presencePenalty ?? 0);
  }
  for (const [id, b] of s.bias ?? []) z[id] += b;
  const mask = s.mask;
  if (mask) for (let j = 0; j < z.length; j++) if (((mask[j >>> 5] >>> (j & 31)) & 1) === 0) z[j] = -Infinity;
  return z;
}

/** The smallest gap between adjacent distinct values, among `values` (Infinity for fewer than two). */
function smallestGap(values: number[]): number {
  const distinct = [...new Set(values)].sort((a, b) => b - a);
  let gap = Infinity;
  for (let k = 1; k < distinct.length; k++) gap = Math.min(gap, distinct[k - 1] - distinct[k]);
  return gap;
}

/** The gap between `v` and the nearest distinct value of `values` above or below it. */
function gapAround(v: number, values: number[]): number {
  let gap = Infinity;
  for (const w of values) if (w !== v) gap = Math.min(gap, Math.abs(w - v));
  return gap;
}

/**
 * The kept set and distribution of one row under one row's settings, from the spec (computed independently of `@softmax/core`).
 *
 * @example
 * ```ts
 * import { oracleSample } from '@softmax/conformance/helpers';
 *
 * const o = oracleSample([1, 5, 2, 4], { temperature: 0.7, topK: 2 });
 * o.kept; // [1, 3]
 * ```
 */
export function oracleSample(row: ArrayLike<number>, s: OracleSampleRow): OracleSample {
  const z = oracleProcessed(row, s);
  const T = s.temperature ?? 1;
  const topK = s.topK ?? 0;
  const topP = s.topP ?? 1;
  const minP = s.minP ?? 0;
  const ambiguity = { logitGap: Infinity, topP: Infinity, minP: Infinity };
  const result = (kept: number[], weight: Map<number, number>, logprob: Map<number, number>, zScale = 0) => {
    const ranked = [...kept].sort((a, b) => (z[b] === z[a] ? a - b : z[b] > z[a] ? 1 : -1));
    return {
      status: 'ok' as const,
      processed: z,
      kept: [...kept].sort((a, b) => a - b),
      ranked,
      weight,
      logprob,
      ambiguity,
      zScale,
    };
  };
  if (z.some((v) => Number.isNaN(v))) {
    return { ...result([], new Map(), new Map()), status: 'nan' };
  }
  const A = z.flatMap((v, j) => (v > -Infinity ? [j] : []));
  if (A.length === 0) return { ...result([], new Map(), new Map()), status: 'empty' };

  const infinite = A.filter((j) => z[j] === Infinity);
  if (infinite.length > 0) {
    const kept = T === 0 ? [infinite[0]] : infinite;
    const lp = T === 0 ? 0 : -Math.log(kept.length);
    return result(kept, new Map(kept.map((j) => [j, 1])), new Map(kept.map((j) => [j, lp])));
  }
  const values = A.map((j) => z[j]);
  const max = Math.max(...values);
  if (T === 0) {
    const id = A.find((j) => z[j] === max) as number;
    ambiguity.logitGap = gapAround(max, values);
    return result([id], new Map([[id, 1]]), new Map([[id, 0]]));
  }

  // Top-k: fewer than k ids strictly above.
  const above = (j: number, set: number[]) => set.filter((i) => z[i] > z[j]);
  let K = A;
  if (topK > 0 && topK < A.length) {
    K = A.filter((j) => above(j, A).length < topK);
    const cut = Math.min(...K.map((j) => z[j]));
    ambiguity.logitGap = Math.min(ambiguity.logitGap, gapAround(cut, values));
  }
  const w = new Map(K.map((j) => [j, Math.exp((z[j] - max) / T)]));

  // Top-p: the probability of the ids strictly above j (over K) is still below topP.
  let P = K;
  if (topP < 1) {
    const total = sum(K.map((j) => w.get(j) as number));
    const massAbove = (j: number) => sum(above(j, K).map((i) => w.get(i) as number));
    P = K.filter((j) => massAbove(j) < topP * total);
    const cut = Math.min(...P.map((j) => z[j]));
    const before = massAbove(P.find((j) => z[j] === cut) as number) / total;
    const at = sum(K.filter((j) => z[j] >= cut).map((j) => w.get(j) as number)) / total;
    ambiguity.topP = P.length === K.length && at < topP ? topP - at : Math.min(topP - before, at - topP);
    if (P.length < K.length) {
      ambiguity.logitGap = Math.min(
        ambiguity.logitGap,
        gapAround(
          cut,
          K.map((j) => z[j]),
        ),
      );
    }
  }

  // Min-p: p_j / p_max ≥ minP.
  let M = P;
  if (minP > 0) {
    M = P.filter((j) => (w.get(j) as number) >= minP);
    for (const j of P) ambiguity.minP = Math.min(ambiguity.minP, Math.abs((z[j] - max) / T - Math.log(minP)));
  }
  ambiguity.logitGap = Math.min(ambiguity.logitGap, smallestGap(M.map((j) => z[j])));
  const total = sum(M.map((j) => w.get(j) as number));
  const logTotal = Math.log(total);
  const weight = new Map(M.map((j) => [j, w.get(j) as number]));
  const logprob = new Map(M.map((j) => [j, (z[j] - max) / T - logTotal]));
  const zScale = Math.max(...M.map((j) => Math.abs(z[j] - max) / T));
  return result(M, weight, logprob, zScale);
}

/** The token the oracle draws for a u, with how close u was to a boundary. */
export interface OracleDraw {
  /** The id drawn. */
  token: number;
  /** u's distance to the nearer boundary of the token's interval that has an id beyond it (Infinity: none). */
  margin: number;
  /** That id (−1: none). */
  neighbour: number;
}

/**
 * The draw for u: the token is the first kept id (ascending) whose cumulative probability
 * (compensated) exceeds u. A backend within its bound gives it, or `neighbour` when u is within
 * that bound of the boundary between them.
 *
 * @example
 * ```ts
 * import { oracleDraw, oracleSample, oracleUniform } from '@softmax/conformance/helpers';
 *
 * const o = oracleSample([1, 5, 2, 4], { topK: 2 });
 * const { token } = oracleDraw(o, oracleUniform(42, 0, 0)); // what sample({ seed: 42, topK: 2 }) must give row 0
 * ```
 */
export function oracleDraw(o: OracleSample, u: number): OracleDraw {
  if (o.kept.length === 1) return { token: o.kept[0], margin: Infinity, neighbour: -1 };
  const w = o.kept.map((j) => o.weight.get(j) as number);
  const total = sum(w);
  const bounds = w.map((_, m) => sum(w.slice(0, m + 1)) / total);
  let m = bounds.findIndex((b) => b > u);
  if (m < 0) m = w.length - 1;
  let before = m - 1;
  while (before >= 0 && !(w[before] > 0)) before--;
  let after = m + 1;
  while (after < w.length && !(w[after] > 0)) after++;
  const low = before >= 0 ? u - (m > 0 ? bounds[m - 1] : 0) : Infinity;
  const high = after < w.length ? bounds[m] - u : Infinity;
  const margin = Math.min(low, high);
  return {
    token: o.kept[m],
    margin,
    neighbour: margin === Infinity ? -1 : low <= high ? o.kept[before] : o.kept[after],
  };
}
