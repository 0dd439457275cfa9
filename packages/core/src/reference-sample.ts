import type { FloatArray } from './types.js';

/**
 * The reference sampler, done the obvious way (float64, a full sort of each row), and the per-row
 * helpers backends reuse in their tests: `sampleKeep` (the kept set, each kept id's probability
 * and how close each filter came to keeping another set) and `sampleDraw` (the token for a given u
 * and how close u lies to a boundary between two ids). The rules are the repository README's
 * `sample` section; this file is their executable form.
 */

/**
 * What a kernel writes as the token of a row that has none (core's `finish` turns it into a SoftmaxError).
 *
 * @example
 * ```ts
 * import { SAMPLE_NO_TOKEN } from '@softmax/core/backend';
 *
 * tokens[row] = SAMPLE_NO_TOKEN.empty; // a kernel's row with no allowed finite logit; finish() throws INVALID_INPUT
 * ```
 */
export const SAMPLE_NO_TOKEN = {
  /** A NaN logit (after penalties and bias) at an id the mask allows. */
  nan: -1,
  /** Every id the mask allows has logit −Infinity (after penalties and bias). */
  empty: -2,
} as const;

/** The processing of one row before the filters: penalties over its history, then bias, then mask. */
export interface RowProcessing {
  /** HF's: a positive logit is divided by it, a negative one multiplied. 1: off. */
  repetitionPenalty: number;
  /** OpenAI's: subtracted once from every id present in the history. */
  presencePenalty: number;
  /** OpenAI's: subtracted once per occurrence. */
  frequencyPenalty: number;
  /** The distinct ids of the history (any order) and how often each occurs. */
  historyIds: ArrayLike<number>;
  /** How often each of `historyIds` occurs. */
  historyCounts: ArrayLike<number>;
  /** Ids and their additive biases (each id at most once). */
  biasIds: ArrayLike<number>;
  /** The bias of each of `biasIds`. */
  biasValues: ArrayLike<number>;
  /** ceil(cols / 32) words; bit j % 32 of word ⌊j / 32⌋ allows id j. Undefined: every id allowed. */
  mask: ArrayLike<number> | undefined;
}

/** The filters, in their order: temperature, top-k, top-p, min-p. */
export interface SampleFilters {
  /** ≥ 0; 0: greedy (the lowest id of the largest logit). */
  temperature: number;
  /** 0: off. */
  topK: number;
  /** In (0, 1]; 1: off. */
  topP: number;
  /** In [0, 1); 0: off. */
  minP: number;
}

/**
 * How far each decision was from going the other way, so a test comparing backends that round
 * differently can tell a real disagreement from a near-tie (Infinity: the filter was off or had
 * nothing to decide).
 */
export interface SampleMargins {
  /** Greedy: the gap, in processed-logit units, between the largest logit and the next distinct one. */
  greedy: number;
  /** Top-k: the gap, in logit units, between the k-th largest logit and the nearest distinct one above or below. */
  topK: number;
  /** Top-p: how far topP is from the cumulative probability before and at the cut (in probability). */
  topP: number;
  /** Min-p: the smallest |log(p_j / p_max) − log(minP)| over the ids it judged. */
  minP: number;
}

/** The kept set of a row under the filters, with what the draw and the log-probabilities need. */
export interface SampleKeep {
  /** 'nan': a NaN at an allowed id; 'empty': nothing with nonzero probability; 'ok' otherwise. */
  status: 'ok' | 'nan' | 'empty';
  /** Temperature 0: the kept set is the one greedy token. */
  greedy: boolean;
  /** The kept ids, ascending (the draw's order). */
  kept: Int32Array;
  /** The kept ids from most to least probable, ties by ascending id (topLogprobs' order). */
  ranked: Int32Array;
  /** Per kept id (aligned with `kept`): exp((x − max)/T), 1 for each +Infinity logit; the draw's terms. */
  weights: Float64Array;
  /** Per kept id (aligned with `kept`): its log-probability under the processed distribution. */
  logprobs: Float64Array;
  /** Σ weights in ascending id order (the draw's total). */
  total: number;
  /** How close the filters' decisions were to going the other way. */
  margins: SampleMargins;
}

/** The result of `sampleDraw`: the token, and how close u was to the next id's interval. */
export interface SampleDraw {
  /** The id drawn. */
  token: number;
  /** min(u − C_prev / S, C_token / S − u): how far u is from either boundary of the token's interval. */
  margin: number;
  /** The id on the other side of the nearer boundary (−1: none, e.g. greedy or one kept id). */
  neighbour: number;
}

const NO_MARGINS = (): SampleMargins => ({ greedy: Infinity, topK: Infinity, topP: Infinity, minP: Infinity });

function none(status: 'nan' | 'empty'): SampleKeep {
  const empty = new Int32Array(0);
  return {
    status,
    greedy: false,
    kept: empty,
    ranked: empty,
    weights: new Float64Array(0),
    logprobs: new Float64Array(0),
    total: 0,
    margins: NO_MARGINS(),
  };
}

function single(id: number, margins: SampleMargins): SampleKeep {
  return {
    status: 'ok',
    greedy: true,
    kept: Int32Array.of(id),
    ranked: Int32Array.of(id),
    weights: Float64Array.of(1),
    logprobs: Float64Array.of(0),
    total: 1,
    margins,
  };
}

/**
 * Penalties, then bias, then mask, in place on a float64 copy of the row.
 *
 * @example
 * ```ts
 * import { processRow } from '@softmax/core/backend';
 *
 * const x = Float64Array.from([2, -1, 3]);
 * processRow(x, {
 *   repetitionPenalty: 2, presencePenalty: 0, frequencyPenalty: 0,
 *   historyIds: [0, 1], historyCounts: [1, 1], biasIds: [2], biasValues: [-1], mask: undefined,
 * }); // x is now [1, -2, 2]
 * ```
 */
export function processRow(x: Float64Array, p: RowProcessing): void {
  const r = p.repetitionPenalty;
  for (let k = 0; k < p.historyIds.length; k++) {
    const j = p.historyIds[k];
    let v = x[j];
    if (r !== 1) v = v < 0 ? v * r : v / r;
    x[j] = v - p.historyCounts[k] * p.frequencyPenalty - p.presencePenalty;
  }
  for (let k = 0; k < p.biasIds.length; k++) x[p.biasIds[k]] += p.biasValues[k];
  const mask = p.mask;
  if (mask) {
    for (let j = 0; j < x.length; j++) if (((mask[j >>> 5] >>> (j & 31)) & 1) === 0) x[j] = -Infinity;
  }
}

/**
 * The kept set of a processed row (penalties, bias and mask applied) under the filters.
 *
 * @example
 * ```ts
 * import { keepProcessed } from '@softmax/core/backend';
 *
 * const keep = keepProcessed(Float64Array.from([1, 3, 2]), { temperature: 1, topK: 2, topP: 1, minP: 0 });
 * keep.kept; // Int32Array [1, 2]
 * ```
 */
export function keepProcessed(x: ArrayLike<number>, f: SampleFilters): SampleKeep {
  const candidates: number[] = [];
  const infinite: number[] = [];
  for (let j = 0; j < x.length; j++) {
    const v = x[j];
    if (v !== v) return none('nan');
    if (v > -Infinity) {
      candidates.push(j);
      if (v === Infinity) infinite.push(j);
    }
  }
  if (candidates.length === 0) return none('empty');
  const margins = NO_MARGINS();
  if (infinite.length > 0) {
    // +Infinity logits share the probability equally (softmax's limit); every filter keeps ties.
    if (f.temperature === 0) return single(infinite[0], margins);
    const m = infinite.length;
    return {
      status: 'ok',
      greedy: false,
      kept: Int32Array.from(infinite),
      ranked: Int32Array.from(infinite),
      weights: new Float64Array(m).fill(1),
      logprobs: new Float64Array(m).fill(0 - Math.log(m)),
      total: m,
      margins,
    };
  }
  // Every candidate is finite here: most probable first, ties by ascending id.
  const order = Int32Array.from(candidates).sort((a, b) => x[b] - x[a] || a - b);
  const n = order.length;
  const max = x[order[0]];
  let next = 1;
  while (next < n && x[order[next]] === max) next++;
  margins.greedy = next < n ? max - x[order[next]] : Infinity;
  if (f.temperature === 0) return single(order[0], margins);

  // Top-k on the logits (dividing by T > 0 keeps their order): every id ≥ the k-th largest.
  let nK = n;
  if (f.topK > 0 && f.topK < n) {
    const v = x[order[f.topK - 1]];
    nK = f.topK;
    while (nK < n && x[order[nK]] === v) nK++;
    let above = f.topK - 1;
    while (above >= 0 && x[order[above]] === v) above--;
    margins.topK = Math.min(nK < n ? v - x[order[nK]] : Infinity, above >= 0 ? x[order[above]] - v : Infinity);
  }
  const T = f.temperature;
  const w = new Float64Array(nK);
  for (let k = 0; k < nK; k++) w[k] = Math.exp((x[order[k]] - max) / T);

  // Top-p over the top-k set: whole groups of equal logits, until the cumulative reaches topP.
  let nP = nK;
  if (f.topP < 1) {
    let total = 0;
    for (let k = 0; k < nK; k++) total += w[k];
    const target = f.topP * total;
    let cumulative = 0;
    let k = 0;
    margins.topP = Infinity;
    while (k < nK) {
      const before = cumulative;
      const v = x[order[k]];
      let g = k;
      while (g < nK && x[order[g]] === v) cumulative += w[g++];
      if (cumulative >= target) {
        nP = g;
        margins.topP = Math.min(f.topP - before / total, cumulative / total - f.topP);
        break;
      }
      k = g;
    }
    // Never reached (rounding, topP next to 1): everything stays, as short of topP as the sum fell.
    if (k >= nK) margins.topP = f.topP - cumulative / total;
  }

  // Min-p: p ≥ minP · p_max, i.e. exp((x − max)/T) ≥ minP.
  const keep: number[] = [];
  if (f.minP > 0) {
    const logMin = Math.log(f.minP);
    for (let k = 0; k < nP; k++) {
      margins.minP = Math.min(margins.minP, Math.abs((x[order[k]] - max) / T - logMin));
      if (w[k] >= f.minP) keep.push(k);
    }
  } else {
    for (let k = 0; k < nP; k++) keep.push(k);
  }

  const ranked = Int32Array.from(keep, (k) => order[k]);
  const byId = keep.slice().sort((a, b) => order[a] - order[b]);
  const kept = Int32Array.from(byId, (k) => order[k]);
  const weights = Float64Array.from(byId, (k) => w[k]);
  let total = 0;
  for (let m = 0; m < weights.length; m++) total += weights[m];
  const logTotal = Math.log(total);
  const logprobs = Float64Array.from(byId, (k) => (x[order[k]] - max) / T - logTotal);
  return { status: 'ok', greedy: false, kept, ranked, weights, logprobs, total, margins };
}

/**
 * The draw: the first kept id, in ascending id order, at which the cumulative weight exceeds
 * u × the total (the total being that same cumulative sum at its end, so some id always does).
 *
 * @example
 * ```ts
 * import { sampleDraw, sampleKeep } from '@softmax/core/backend';
 *
 * const keep = sampleKeep([0, 0, 10], { topK: 2 });
 * const { token, margin } = sampleDraw(keep, 0.5); // token 2: it holds almost all the mass
 * ```
 */
export function sampleDraw(keep: SampleKeep, u: number): SampleDraw {
  const { kept, weights, total } = keep;
  if (keep.status !== 'ok')
    return {
      token: keep.status === 'nan' ? SAMPLE_NO_TOKEN.nan : SAMPLE_NO_TOKEN.empty,
      margin: Infinity,
      neighbour: -1,
    };
  if (kept.length === 1) return { token: kept[0], margin: Infinity, neighbour: -1 };
  const target = u * total;
  let cumulative = 0;
  let m = 0;
  for (; m < kept.length - 1; m++) {
    if (cumulative + weights[m] > target) break;
    cumulative += weights[m];
  }
  // The ids of positive weight on either side: a boundary with none beyond it is 0 or 1, which no u crosses.
  let before = m - 1;
  while (before >= 0 && !(weights[before] > 0)) before--;
  let after = m + 1;
  while (after < kept.length && !(weights[after] > 0)) after++;
  const low = before >= 0 ? u - cumulative / total : Infinity;
  const high = after < kept.length ? (cumulative + weights[m]) / total - u : Infinity;
  const margin = Math.min(low, high);
  const neighbour = margin === Infinity ? -1 : low <= high ? kept[before] : kept[after];
  return { token: kept[m], margin, neighbour };
}

/** One row's settings, for `sampleKeep` (the kernels' options, per row, in plain form). */
export interface SampleRowOptions {
  /** ≥ 0, 0 for greedy; default 1. */
  temperature?: number;
  /** 0 (default) for off. */
  topK?: number;
  /** In (0, 1]; 1 (default) for off. */
  topP?: number;
  /** In [0, 1); 0 (default) for off. */
  minP?: number;
  /** HF's, > 0; default 1. */
  repetitionPenalty?: number;
  /** OpenAI's; default 0. */
  presencePenalty?: number;
  /** OpenAI's; default 0. */
  frequencyPenalty?: number;
  /** The row's history: ids in any order, repeats counted; −1 entries are padding. */
  history?: ArrayLike<number>;
  /** Ids and their biases, each id at most once. */
  logitBias?: { ids: ArrayLike<number>; values: ArrayLike<number> };
  /** The row's ceil(cols / 32) mask words. */
  mask?: ArrayLike<number>;
}

/**
 * Distinct ids of a history and their counts (−1 entries skipped), ascending.
 *
 * @example
 * ```ts
 * import { countHistory } from '@softmax/core/backend';
 *
 * countHistory([5, 3, 5, -1]); // { ids: Int32Array [3, 5], counts: Int32Array [1, 2] }
 * ```
 */
export function countHistory(history: ArrayLike<number>): { ids: Int32Array; counts: Int32Array } {
  const sorted = Int32Array.from(history).sort();
  const ids: number[] = [];
  const counts: number[] = [];
  for (let k = 0; k < sorted.length; k++) {
    if (sorted[k] === -1) continue;
    if (ids.length > 0 && ids[ids.length - 1] === sorted[k]) counts[counts.length - 1]++;
    else {
      ids.push(sorted[k]);
      counts.push(1);
    }
  }
  return { ids: Int32Array.from(ids), counts: Int32Array.from(counts) };
}

/**
 * The kept set of one row under one row's settings, with each kept id's probability and the
 * decisions' margins, plus the processed logits: for backends' tests (no validation here; `sample`
 * validates). Draw from it with `sampleDraw(keep, u)`.
 *
 * @example
 * ```ts
 * import { sampleKeep } from '@softmax/core/backend';
 *
 * const keep = sampleKeep([1, 5, 2, 4], { temperature: 0.7, topK: 2 });
 * keep.kept; // Int32Array [1, 3]
 * keep.logprobs; // their log-probabilities after the filters
 * ```
 */
export function sampleKeep(row: ArrayLike<number>, o: SampleRowOptions = {}): SampleKeep & { processed: Float64Array } {
  const x = Float64Array.from(row);
  const history = countHistory(o.history ?? []);
  processRow(x, {
    repetitionPenalty: o.repetitionPenalty ?? 1,
    presencePenalty: o.presencePenalty ?? 0,
    frequencyPenalty: o.frequencyPenalty ?? 0,
    historyIds: history.ids,
    historyCounts: history.counts,
    biasIds: o.logitBias?.ids ?? [],
    biasValues: o.logitBias?.values ?? [],
    mask: o.mask,
  });
  const keep = keepProcessed(x, {
    temperature: o.temperature ?? 1,
    topK: o.topK ?? 0,
    topP: o.topP ?? 1,
    minP: o.minP ?? 0,
  });
  return { ...keep, processed: x };
}

/** Per-row settings as the reference kernel reads them (call.options, see ops/sample.ts). */
export interface SampleArgs {
  /** rows × cols logits. */
  logits: FloatArray;
  /** The number of rows. */
  rows: number;
  /** The row length (the vocabulary size). */
  cols: number;
  /** Per row: ≥ 0. */
  temperature: ArrayLike<number>;
  /** Per row: 0 for off. */
  topK: ArrayLike<number>;
  /** Per row: 1 for off. */
  topP: ArrayLike<number>;
  /** Per row: 0 for off. */
  minP: ArrayLike<number>;
  /** Per row: 1 for off. */
  repetitionPenalty: ArrayLike<number>;
  /** Per row. */
  presencePenalty: ArrayLike<number>;
  /** Per row. */
  frequencyPenalty: ArrayLike<number>;
  /** CSR: row i's distinct history ids and counts are [offsets[i], offsets[i + 1]). */
  history: { offsets: ArrayLike<number>; ids: Int32Array; counts: Int32Array };
  /** CSR: row i's biased ids and values are [offsets[i], offsets[i + 1]). */
  bias: { offsets: ArrayLike<number>; ids: Int32Array; values: Float64Array };
  /** Row i's words start at i · stride (stride 0: one mask for every row). */
  mask: { words: Uint32Array; stride: number } | undefined;
  /** One u per row. */
  u: ArrayLike<number>;
  /** Written: one token per row (or a `SAMPLE_NO_TOKEN` code). */
  tokens: Int32Array;
  /** Length rows, or 0 when not asked. */
  logprobs: Float32Array;
  /** n per row: ids (−1 past the kept set) and log-probabilities (−Infinity there). */
  top: number;
  /** Written when `top` > 0: rows × top ids. */
  topIds: Int32Array;
  /** Written when `top` > 0: their log-probabilities. */
  topLogprobs: Float32Array;
}

/** Where `id` is in the ascending `kept` (it is there). */
function positionOf(kept: Int32Array, id: number): number {
  let lo = 0;
  let hi = kept.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (kept[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The reference kernel: each row processed, filtered and drawn from, as `keepProcessed` and `sampleDraw` define.
 *
 * @example
 * ```ts
 * import { OPS, validateCall } from '@softmax/core/backend';
 *
 * // The reference kernel is what core's sample() runs; a backend's tests compare with it.
 * const call = validateCall(OPS.sample, [new Float32Array([1, 5, 2]), { seed: 7 }]);
 * OPS.sample.reference(call); // = referenceSample over call.options; call.outputs[0] holds the token
 * ```
 */
export function referenceSample(a: SampleArgs): void {
  const { cols, history, bias, mask } = a;
  const words = Math.ceil(cols / 32);
  const x = new Float64Array(cols);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < cols; j++) x[j] = a.logits[i * cols + j];
    const h0 = history.offsets[i];
    const h1 = history.offsets[i + 1];
    const b0 = bias.offsets[i];
    const b1 = bias.offsets[i + 1];
    processRow(x, {
      repetitionPenalty: a.repetitionPenalty[i],
      presencePenalty: a.presencePenalty[i],
      frequencyPenalty: a.frequencyPenalty[i],
      historyIds: history.ids.subarray(h0, h1),
      historyCounts: history.counts.subarray(h0, h1),
      biasIds: bias.ids.subarray(b0, b1),
      biasValues: bias.values.subarray(b0, b1),
      mask: mask ? mask.words.subarray(i * mask.stride, i * mask.stride + words) : undefined,
    });
    const keep = keepProcessed(x, {
      temperature: a.temperature[i],
      topK: a.topK[i],
      topP: a.topP[i],
      minP: a.minP[i],
    });
    const { token } = sampleDraw(keep, a.u[i]);
    a.tokens[i] = token;
    if (keep.status !== 'ok') continue;
    if (a.logprobs.length > 0) a.logprobs[i] = keep.logprobs[positionOf(keep.kept, token)];
    for (let r = 0; r < a.top; r++) {
      const id = r < keep.ranked.length ? keep.ranked[r] : -1;
      a.topIds[i * a.top + r] = id;
      a.topLogprobs[i * a.top + r] = id < 0 ? -Infinity : keep.logprobs[positionOf(keep.kept, id)];
    }
  }
}
