import type { SoftmaxErrorCode } from '@softmax/core';
import { type OracleSample, type OracleSampleRow, oracleSample } from './oracle-sample.js';
import { seededRandom } from './vectors.js';

/**
 * sample's test vectors as data: row patterns (random and adversarial), option combinations,
 * rows whose penalties and biases are worked out by hand, bad options, and the chi-square cases.
 * Logits sit on a 1/8 grid (exact in float32, many exact ties), and the penalties and biases are
 * binary fractions, so every tie stays a tie at any precision; a (pattern, options) case whose
 * decisions come within WELL_POSED of going the other way is redrawn with the next seed, so each
 * case has one right answer at float32 precision too.
 */

/**
 * How far every decision of a case must be from going the other way (logit units, probability, log ratio).
 *
 * @example
 * ```ts
 * import { WELL_POSED, oracleSample, wellPosed } from '@softmax/conformance/helpers';
 *
 * WELL_POSED.logitGap; // 1e-3: cases closer than this to a decision are left to the statistical tests
 * wellPosed(oracleSample([1, 2, 3], { topK: 2 })); // true
 * ```
 */
export const WELL_POSED = { logitGap: 1e-3, topP: 1e-3, minP: 1e-3 } as const;

/**
 * n logits on the 1/8 grid in [lo, hi].
 *
 * @example
 * ```ts
 * import { gridRow } from '@softmax/conformance/helpers';
 *
 * gridRow(8, -4, 4, 1); // 8 seeded logits on the 1/8 grid in [-4, 4] (so ties occur)
 * ```
 */
export function gridRow(n: number, lo: number, hi: number, seed: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: n }, () => Math.round((lo + (hi - lo) * next()) * 8) / 8);
}

/** A family of logit rows the sampling suite draws from. */
export interface SamplePattern {
  /** A readable name, printed by the suite. */
  name: string;
  /** Row length (vocabulary size). */
  cols: number;
  /** One row of the family, for a seed. */
  row: (seed: number) => number[];
}

const INF = Number.POSITIVE_INFINITY;

/** Values with many ties, spread over the ids by a fixed permutation (ties not adjacent). */
const TIED = [5, 4, 4, 4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0];
const spread = (values: number[]) => values.map((_, j) => values[(j * 7) % values.length]);

/**
 * The logit patterns of the sampling suite (ties, dominant ids, ±Infinity, wide ranges).
 *
 * @example
 * ```ts
 * import { SAMPLE_PATTERNS } from '@softmax/conformance/helpers';
 *
 * for (const p of SAMPLE_PATTERNS) console.log(p.name, p.row(1).length);
 * ```
 */
export const SAMPLE_PATTERNS: readonly SamplePattern[] = [
  { name: 'random', cols: 64, row: (s) => gridRow(64, -6, 6, s) },
  { name: 'random, 1000 wide', cols: 1000, row: (s) => gridRow(1000, -8, 8, s) },
  { name: 'all equal', cols: 16, row: () => Array(16).fill(0.5) },
  {
    name: 'one dominant id',
    cols: 32,
    row: (s) => gridRow(32, -2, 2, s).map((v, j) => (j === 7 ? 40 : v)),
  },
  { name: 'many ties at the cut', cols: 24, row: () => spread(TIED) },
  { name: '+Infinity entries', cols: 8, row: () => [0, INF, 1, -INF, INF, 2, 0.5, -1] },
  {
    name: '−Infinity entries',
    cols: 16,
    row: (s) => gridRow(16, -3, 3, s).map((v, j) => (j % 2 === 1 ? -INF : v)),
  },
];

/**
 * Mask words allowing the ids j with allow(j), for cols ids.
 *
 * @example
 * ```ts
 * import { maskWords } from '@softmax/conformance/helpers';
 *
 * maskWords(40, (j) => j % 2 === 0); // two words: the even ids of 40 allowed
 * ```
 */
export function maskWords(cols: number, allow: (j: number) => boolean): number[] {
  const words = new Array(Math.ceil(cols / 32)).fill(0);
  for (let j = 0; j < cols; j++) if (allow(j)) words[j >>> 5] = (words[j >>> 5] | (1 << (j & 31))) >>> 0;
  return words;
}

/** A combination of sampling settings the suite crosses with every pattern. */
export interface SampleCombo {
  /** A readable name, printed by the suite. */
  name: string;
  /** The settings, for a row length. */
  settings: (cols: number) => OracleSampleRow;
}

const penalties = (cols: number): OracleSampleRow => ({
  history: [0, 0, 1, 3, 3, 3, cols - 1, -1],
  repetitionPenalty: 1.5,
  presencePenalty: 0.25,
  frequencyPenalty: 0.125,
});
const bias = (): OracleSampleRow => ({
  bias: [
    [0, 2],
    [3, -1.5],
    [5, 0.75],
  ],
});
const mask = (cols: number): OracleSampleRow => ({ mask: maskWords(cols, (j) => j % 3 !== 1) });

/**
 * Every option alone, and combinations; each is applied to every pattern.
 *
 * @example
 * ```ts
 * import { SAMPLE_COMBOS } from '@softmax/conformance/helpers';
 *
 * for (const c of SAMPLE_COMBOS) console.log(c.name, c.settings(100));
 * ```
 */
export const SAMPLE_COMBOS: readonly SampleCombo[] = [
  { name: 'defaults', settings: () => ({}) },
  { name: 'temperature 0 (greedy)', settings: () => ({ temperature: 0 }) },
  { name: 'temperature 0.5', settings: () => ({ temperature: 0.5 }) },
  { name: 'temperature 2', settings: () => ({ temperature: 2 }) },
  { name: 'topK 1', settings: () => ({ topK: 1 }) },
  { name: 'topK 5', settings: () => ({ topK: 5 }) },
  { name: 'topK 1000000 (> cols)', settings: () => ({ topK: 1_000_000 }) },
  { name: 'topP 0.3', settings: () => ({ topP: 0.3 }) },
  { name: 'topP 0.9', settings: () => ({ topP: 0.9 }) },
  { name: 'minP 0.1', settings: () => ({ minP: 0.1 }) },
  { name: 'minP 0.5', settings: () => ({ minP: 0.5 }) },
  { name: 'penalties', settings: penalties },
  { name: 'logitBias', settings: bias },
  { name: 'mask', settings: mask },
  {
    name: 'temperature 0.7, topK 10, topP 0.9, minP 0.05',
    settings: () => ({ temperature: 0.7, topK: 10, topP: 0.9, minP: 0.05 }),
  },
  {
    name: 'penalties, bias, mask, topK 5, topP 0.8',
    settings: (cols) => ({ ...penalties(cols), ...bias(), ...mask(cols), topK: 5, topP: 0.8 }),
  },
  { name: 'temperature 1.3, topP 0.5, minP 0.2', settings: () => ({ temperature: 1.3, topP: 0.5, minP: 0.2 }) },
  {
    name: 'greedy after penalties, bias and mask',
    settings: (cols) => ({ ...penalties(cols), ...bias(), ...mask(cols), temperature: 0 }),
  },
];

/** One pattern × combo case, as `sampleCase` builds it. */
export interface SampleCase {
  /** The pattern's name. */
  pattern: string;
  /** The combo's name. */
  combo: string;
  /** Row length. */
  cols: number;
  /** The logits. */
  row: number[];
  /** The settings. */
  settings: OracleSampleRow;
  /** The pattern seed the row was drawn with (after redraws). */
  seed: number;
}

/**
 * Whether every decision of the oracle's answer is at least WELL_POSED from going the other way.
 *
 * @example
 * ```ts
 * import { oracleSample, wellPosed } from '@softmax/conformance/helpers';
 *
 * wellPosed(oracleSample([1, 1, 2], { topK: 1 })); // true: no decision is near a tie
 * ```
 */
export function wellPosed(o: OracleSample): boolean {
  const a = o.ambiguity;
  return a.logitGap >= WELL_POSED.logitGap && a.topP >= WELL_POSED.topP && a.minP >= WELL_POSED.minP;
}

/**
 * The case for a pattern and a combination: the first seed from `seed` whose row is well-posed
 * under the options, on the values as the dtype holds them (`round`). Fixed patterns have one row.
 *
 * @example
 * ```ts
 * import { SAMPLE_COMBOS, SAMPLE_PATTERNS, sampleCase } from '@softmax/conformance/helpers';
 *
 * const c = sampleCase(SAMPLE_PATTERNS[0], SAMPLE_COMBOS[0]);
 * console.log(c.pattern, c.combo, c.row.length);
 * ```
 */
export function sampleCase(
  pattern: SamplePattern,
  combo: SampleCombo,
  round: (values: number[]) => number[] = (v) => v,
  seed = 1,
): SampleCase {
  const settings = combo.settings(pattern.cols);
  for (let attempt = 0; attempt < 64; attempt++) {
    const row = round(pattern.row(seed + attempt));
    if (wellPosed(oracleSample(row, settings))) {
      return { pattern: pattern.name, combo: combo.name, cols: pattern.cols, row, settings, seed: seed + attempt };
    }
  }
  throw new Error(`no well-posed row for ${pattern.name} × ${combo.name} (the vectors need fixing)`);
}

/**
 * Seeds for the draws: small, large (every bit of the 53), and the extremes.
 *
 * @example
 * ```ts
 * import { DRAW_SEEDS } from '@softmax/conformance/helpers';
 *
 * for (const seed of DRAW_SEEDS) myBackend.sample(logits, { cols, seed }); // 0 up to 2^53 − 1
 * ```
 */
export const DRAW_SEEDS: readonly number[] = [0, 1, 2, 7, 42, 0x1234_5678, 0xdead_beef_cafe, 2 ** 53 - 1];

/**
 * Rows whose penalties and biases are worked out by hand (the `processed` logits written here
 * as numbers, the working in the comments); the suite compares the backend's log-probabilities
 * with log-softmax(processed / T), computed in the test.
 */
export interface HandVector {
  /** A readable name, printed by the suite. */
  name: string;
  /** rows × cols logits. */
  logits: number[];
  /** Row length. */
  cols: number;
  /** `sample`'s options. */
  options: Record<string, unknown>;
  /** T used to derive the expected distribution; default 1. */
  temperature?: number;
  /** Per row, the logits after penalties, bias and mask, worked out by hand. */
  processed: number[][];
}

/**
 * Sampling cases whose processed logits were worked out by hand (penalties, bias, masks).
 *
 * @example
 * ```ts
 * import { HAND_VECTORS } from '@softmax/conformance/helpers';
 *
 * for (const v of HAND_VECTORS) console.log(v.name, v.processed); // logits after penalties, bias and mask
 * ```
 */
export const HAND_VECTORS: readonly HandVector[] = [
  {
    // Counts: id 0 ×2, id 1 ×1, id 3 ×3. Repetition 2: 2 → 1, −1 → −2, 3 → 1.5. Then
    // − count·0.25 − 0.5: 0, −2.75, 0.25. Bias: id 2 − 0.5 → 0, id 4 + 1 → 1.
    name: 'repetition, then presence and frequency, then bias (one row, flat history)',
    logits: [2, -1, 0.5, 3, 0],
    cols: 5,
    options: {
      history: [0, 0, 1, 3, 3, 3],
      repetitionPenalty: 2,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      logitBias: { ids: [2, 4], values: [-0.5, 1] },
    },
    processed: [[0, -2.75, 0, 0.25, 1]],
  },
  {
    // Row 0: id 0 ×1, id 1 ×2; repetition 2: 1 → 0.5, −2 → −4; frequency 0.5: 0.5 − 0.5 = 0,
    // −4 − 1 = −5; bias id 2 + 1.5 → 2. Row 1: id 3 ×2; repetition 1; 2 − 2·0.25 − 1 = 0.5; bias
    // id 0 − 0.5, id 1 + 0.25.
    name: 'per-row penalties and per-row biases (offsets), history as one array per row',
    logits: [1, -2, 0.5, 4, 0, 3, -1, 2],
    cols: 4,
    options: {
      history: [
        [0, 1, 1],
        [3, 3],
      ],
      repetitionPenalty: [2, 1],
      presencePenalty: [0, 1],
      frequencyPenalty: [0.5, 0.25],
      logitBias: { ids: [2, 0, 1], values: [1.5, -0.5, 0.25], offsets: [0, 1, 3] },
    },
    processed: [
      [0, -5, 2, 4],
      [-0.5, 3.25, -1, 0.5],
    ],
  },
  {
    // HF multiplies a negative logit by the penalty and divides a positive one; 0 stays 0.
    name: 'repetition on negative, positive and zero logits',
    logits: [-1, -0.5, 2, 0],
    cols: 4,
    options: { history: [0, 1, 2, 3], repetitionPenalty: 1.25 },
    processed: [[-1.25, -0.625, 1.6, 0]],
  },
  {
    // Bias ids 1 (+3) and 4 (+1); mask 0b00111 allows ids 0, 1, 2; then temperature 2.
    name: 'bias, then mask, then temperature',
    logits: [0, 0, 0, 0, 0],
    cols: 5,
    options: { logitBias: { ids: [1, 4], values: [3, 1] }, mask: new Uint32Array([0b00111]) },
    temperature: 2,
    processed: [[0, 3, 0, -INF, -INF]],
  },
  {
    // Presence and frequency may be negative (OpenAI allows −2..2): they then raise the logit.
    name: 'negative presence and frequency penalties',
    logits: [1, 1, 1],
    cols: 3,
    options: { history: new Int32Array([2, 2, -1, -1]), presencePenalty: -0.5, frequencyPenalty: -0.25 },
    processed: [[1, 1, 2]],
  },
];

/** A bad `sample` option, with the code it must fail with. */
export interface SampleBadOption {
  /** A readable name, printed by the suite. */
  name: string;
  /** The options passed. */
  options: Record<string, unknown>;
  /** The SoftmaxError code it must fail with. */
  code: SoftmaxErrorCode;
  /** Substrings of the message (the argument and the value). */
  message: string[];
}

/**
 * Bad options on logits of 2 rows × 3 (cols 3).
 *
 * @example
 * ```ts
 * import { SAMPLE_BAD_OPTIONS } from '@softmax/conformance/helpers';
 *
 * for (const bad of SAMPLE_BAD_OPTIONS) {
 *   // myBackend.sample(logits, { cols, ...bad.options }) must throw SoftmaxError bad.code
 * }
 * ```
 */
export const SAMPLE_BAD_OPTIONS: readonly SampleBadOption[] = [
  { name: 'topP 0', options: { topP: 0 }, code: 'INVALID_OPTION', message: ['options.topP', 'got 0'] },
  { name: 'topP above 1', options: { topP: 1.5 }, code: 'INVALID_OPTION', message: ['options.topP', '1.5'] },
  {
    name: 'temperature negative',
    options: { temperature: -1 },
    code: 'INVALID_OPTION',
    message: ['options.temperature', '-1'],
  },
  { name: 'topK negative', options: { topK: -2 }, code: 'INVALID_OPTION', message: ['options.topK', '-2'] },
  { name: 'minP 1', options: { minP: 1 }, code: 'INVALID_OPTION', message: ['options.minP', 'got 1'] },
  {
    name: 'seed not an integer',
    options: { seed: 1.5 },
    code: 'INVALID_OPTION',
    message: ['options.seed', '1.5'],
  },
  {
    name: 'per-row option of the wrong length',
    options: { temperature: [1, 1, 1] },
    code: 'INVALID_OPTION',
    message: ['options.temperature', 'one value per row (2)'],
  },
  {
    name: 'per-row option with a bad row',
    options: { topP: [0.5, 2] },
    code: 'INVALID_OPTION',
    message: ['options.topP[1] (row 1)', 'got 2'],
  },
  {
    name: 'mask of the wrong length',
    options: { mask: new Uint32Array(3) },
    code: 'INVALID_OPTION',
    message: ['options.mask', 'Uint32Array(3)'],
  },
  {
    name: 'a mask row that allows nothing',
    options: { mask: new Uint32Array([0b111, 0b1000]) },
    code: 'INVALID_OPTION',
    message: ['options.mask', 'row 1'],
  },
  {
    name: 'history id out of range',
    options: { history: [[0], [3]] },
    code: 'INVALID_OPTION',
    message: ['options.history[1][0]', 'got 3'],
  },
  {
    name: 'logitBias id repeated',
    options: { logitBias: { ids: [2, 2], values: [1, 1] } },
    code: 'INVALID_OPTION',
    message: ['options.logitBias.ids[1]', 'repeats id 2'],
  },
  {
    name: 'logitBias value not finite',
    options: { logitBias: { ids: [0], values: [Number.NaN] } },
    code: 'INVALID_OPTION',
    message: ['options.logitBias.values[0]', 'NaN'],
  },
  {
    name: 'topLogprobs above cols',
    options: { topLogprobs: 4 },
    code: 'INVALID_OPTION',
    message: ['options.topLogprobs', 'got 4'],
  },
  { name: 'an unknown option', options: { top_k: 3 }, code: 'INVALID_OPTION', message: ['options.top_k'] },
];

/**
 * The chi-square test's threshold: a p-value below it fails (a fixed seed: the same answer every run).
 *
 * @example
 * ```ts
 * import { CHI_SQUARE_P_MIN, chiSquare } from '@softmax/conformance/helpers';
 *
 * const { p } = chiSquare(observed, probabilities, draws);
 * if (p < CHI_SQUARE_P_MIN) throw new Error(`the draws do not follow the distribution (p = ${p})`);
 * ```
 */
export const CHI_SQUARE_P_MIN = 0.001;

/** A distribution check: many seeded draws of one row, compared with the oracle's probabilities. */
export interface ChiSquareCase {
  /** A readable name, printed by the suite. */
  name: string;
  /** One row of logits, repeated for every row. */
  logits: number[];
  /** Draws (rows of the same logits). */
  rows: number;
  /** The settings. */
  settings: OracleSampleRow;
  /** The call's options besides the settings (seed and step, scalar or per row). */
  draws: (rows: number) => { seed: number | number[]; step: number | number[] };
}

/**
 * The chi-square cases of the sampling suite.
 *
 * @example
 * ```ts
 * import { CHI_SQUARE_CASES } from '@softmax/conformance/helpers';
 *
 * for (const c of CHI_SQUARE_CASES) console.log(c.name, c.rows, 'draws');
 * ```
 */
export const CHI_SQUARE_CASES: readonly ChiSquareCase[] = [
  {
    name: 'one seed and step for 100,000 rows (u varies with the row)',
    logits: [2, 1.5, 1.5, 1, 0.5, 0, -0.5, -1, -1.5, -2, -3, -6],
    rows: 100_000,
    settings: { temperature: 0.8, topK: 9, topP: 0.95 },
    draws: () => ({ seed: 0x5eed_5a3e, step: 12 }),
  },
  {
    name: 'a seed and a step per row, with penalties and min-p',
    logits: [1, 0, 2, -1, 0.5, 1.5, -2, 0.25, 3, -0.5, 1, 0.75],
    rows: 100_000,
    settings: { temperature: 1.2, minP: 0.05, history: [8, 8, 2, 5], repetitionPenalty: 1.3, presencePenalty: 0.2 },
    draws: (rows) => ({
      seed: Array.from({ length: rows }, (_, i) => (i * 7919 + 13) % 2 ** 40),
      step: Array.from({ length: rows }, (_, i) => i % 97),
    }),
  },
];
