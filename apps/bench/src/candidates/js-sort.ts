import type { Candidate, FloatArray, Output, Prepared, Problem } from '../candidate.js';

/**
 * What a JS developer writes to sample a token: per row, a softmax with the temperature (max,
 * Math.exp, sum), every id sorted by probability, the top-k and top-p cut over the sorted ids, and
 * a draw with Math.random() along the kept ids' cumulative probability. Temperature 0 is the
 * argmax. No special values handled. Its own generator: checked by the reference's kept set.
 */

/** The settings it follows (one value for every row); any other option is not something it does. */
const FOLLOWS = ['temperature', 'topK', 'topP', 'seed', 'step'];

export const followsSampling = (options: Readonly<Record<string, unknown>>): boolean =>
  Object.entries(options).every(([k, v]) => FOLLOWS.includes(k) && (v === undefined || typeof v === 'number'));

export interface Settings {
  temperature: number;
  topK: number;
  topP: number;
}

export const settingsOf = (o: Readonly<Record<string, unknown>>): Settings => ({
  temperature: (o.temperature as number | undefined) ?? 1,
  topK: (o.topK as number | undefined) ?? 0,
  topP: (o.topP as number | undefined) ?? 1,
});

/** The index of the largest value (the first of equal ones): greedy. */
export function argmax(x: FloatArray, start: number, cols: number): number {
  let best = 0;
  let max = x[start];
  for (let j = 1; j < cols; j++) {
    if (x[start + j] > max) {
      max = x[start + j];
      best = j;
    }
  }
  return best;
}

/**
 * Top-k, then top-p, over probabilities already computed, by a full sort of the ids, then a draw
 * with Math.random(): the part every "softmax, then sample" composition writes in JS.
 */
export function sortedDraw(probs: FloatArray | number[], s: Settings): number {
  const ids = Array.from({ length: probs.length }, (_, i) => i);
  ids.sort((a, b) => probs[b] - probs[a]);
  let n = s.topK > 0 ? Math.min(s.topK, ids.length) : ids.length;
  if (s.topP < 1) {
    // Top-p over what top-k kept, renormalised (HF's order: the top-k warper, then the top-p one).
    let kept = 0;
    for (let k = 0; k < n; k++) kept += probs[ids[k]];
    let cumulative = 0;
    for (let k = 0; k < n; k++) {
      cumulative += probs[ids[k]];
      if (cumulative >= s.topP * kept) {
        n = k + 1;
        break;
      }
    }
  }
  let total = 0;
  for (let k = 0; k < n; k++) total += probs[ids[k]];
  let r = Math.random() * total;
  for (let k = 0; k < n; k++) {
    r -= probs[ids[k]];
    if (r < 0) return ids[k];
  }
  return ids[n - 1];
}

/** One row: softmax with the temperature, then the sorted draw. */
function sampleRow(x: FloatArray, start: number, cols: number, s: Settings): number {
  if (s.temperature === 0) return argmax(x, start, cols);
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < cols; j++) if (x[start + j] > max) max = x[start + j];
  const probs = new Float64Array(cols);
  let sum = 0;
  for (let j = 0; j < cols; j++) {
    const e = Math.exp((x[start + j] - max) / s.temperature);
    probs[j] = e;
    sum += e;
  }
  for (let j = 0; j < cols; j++) probs[j] /= sum;
  return sortedDraw(probs, s);
}

/** A Prepared drawing each row's token with `row(start)`, its own generator (checked by the kept set). */
export function tokensPrepared(p: Problem, row: (start: number) => number): Prepared {
  let last: Int32Array | undefined;
  return {
    async: false,
    ownRandom: true,
    run() {
      const tokens = new Int32Array(p.rows);
      for (let i = 0; i < p.rows; i++) tokens[i] = row(i * p.cols);
      last = tokens;
    },
    output: async (): Promise<Output> => ({ tokens: last! }),
    dispose() {},
  };
}

export const jsSort: Candidate = {
  id: 'js-sort',
  label: 'plain JS full-sort sampler',
  kind: 'peer',
  description:
    'softmax with the temperature (Math.exp), every id sorted by probability, the top-k and top-p cut, a Math.random() draw; argmax for temperature 0',
  async load() {
    return {
      version: 'n/a',
      supports: (op, _dtype, mode, options) => op === 'sample' && mode === 'user' && followsSampling(options),
      async prepare(p: Problem) {
        const s = settingsOf(p.options);
        return tokensPrepared(p, (start) => sampleRow(p.x, start, p.cols, s));
      },
      dispose() {},
    };
  },
};

/**
 * One plain max pass over the logits (the index of the largest, ties to the first): greedy
 * sampling as a JS developer writes it, and the least any greedy sampler can do, which the
 * report holds `temperature: 0` to.
 */
export const jsArgmax: Candidate = {
  id: 'js-argmax',
  label: 'plain JS max pass',
  kind: 'peer',
  description: 'one loop over each row for its largest logit (ties to the lowest id): greedy, temperature 0 only',
  async load() {
    return {
      version: 'n/a',
      supports: (op, _dtype, mode, options) =>
        op === 'sample' && mode === 'user' && followsSampling(options) && options.temperature === 0,
      async prepare(p: Problem) {
        const prepared = tokensPrepared(p, (start) => argmax(p.x, start, p.cols));
        // Greedy has no randomness: its token is the reference's exactly.
        return { ...prepared, ownRandom: false };
      },
      dispose() {},
    };
  },
};
