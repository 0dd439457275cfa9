import type { FloatArray, SoftmaxErrorCode } from '@softmax/core';
import type { DtypeInfo } from './dtypes.js';
import { seededRandom, uniform } from './vectors.js';

/**
 * crossEntropy's test vectors as data: option sets, target sets, logit patterns and shapes that
 * the suite crosses (every option with every kind of target, reduction and special-value row),
 * hand-written special-value expectations, and bad inputs with the code and message they must give.
 */

const inf = Number.POSITIVE_INFINITY;
const NaN_ = Number.NaN;

/** Options other than cols, reduction and the gradient's, as a function of cols (weights are length cols). */
export interface CrossEntropyOptionSet {
  name: string;
  options: (cols: number) => Record<string, unknown>;
}

/** Class weights in [0.25, 2], one 0 among them (a class that counts for nothing), from a seed. */
export function classWeights(cols: number, seed = 17): number[] {
  const w = uniform(cols, 0.25, 2, seed);
  if (cols > 2) w[1] = 0;
  return w;
}

export const CE_OPTION_SETS: readonly CrossEntropyOptionSet[] = [
  { name: 'defaults', options: () => ({}) },
  { name: 'class weights', options: (cols) => ({ weight: classWeights(cols) }) },
  { name: 'ignoreIndex 3', options: () => ({ ignoreIndex: 3 }) },
  { name: 'labelSmoothing 0.1', options: () => ({ labelSmoothing: 0.1 }) },
  {
    name: 'labelSmoothing 0.3 with class weights',
    options: (cols) => ({ labelSmoothing: 0.3, weight: classWeights(cols, 5) }),
  },
  { name: 'zLoss 1e-4', options: () => ({ zLoss: 1e-4 }) },
  { name: 'zLoss 0.5', options: () => ({ zLoss: 0.5 }) },
  { name: 'softcap 5', options: () => ({ softcap: 5 }) },
  { name: 'softcap 30, temperature 0.7', options: () => ({ softcap: 30, temperature: 0.7 }) },
  { name: 'temperature 0.25', options: () => ({ temperature: 0.25 }) },
  { name: 'temperature 4', options: () => ({ temperature: 4 }) },
  { name: 'gradScale 0.125', options: () => ({ gradScale: 0.125 }) },
  { name: 'gradScale −3', options: () => ({ gradScale: -3 }) },
  {
    name: 'everything: weights, smoothing, z-loss, softcap, temperature, gradScale',
    options: (cols) => ({
      weight: classWeights(cols, 9),
      labelSmoothing: 0.2,
      zLoss: 1e-3,
      softcap: 6,
      temperature: 1.5,
      gradScale: 0.5,
    }),
  },
];

export type TargetSpec =
  | { kind: 'index'; values: number[]; array: 'Int32Array' | 'Uint32Array' | 'number[]' }
  | {
      kind: 'probs';
      values: number[];
    };

export interface TargetSet {
  name: string;
  /** Whether the set still applies with this ignoreIndex (a Uint32Array cannot hold −100). */
  make: (rows: number, cols: number, ignoreIndex: number, seed: number) => TargetSpec;
}

/** A class index per row from a seed; the ones the ignore set marks get ignoreIndex. */
function indices(rows: number, cols: number, seed: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: rows }, () => Math.min(cols - 1, Math.floor(next() * cols)));
}

/** Probability rows: random, with some exact zeros, normalised in float64 (the dtype's rounding is the caller's). */
export function probabilityRows(rows: number, cols: number, seed: number): number[] {
  const next = seededRandom(seed);
  const q: number[] = [];
  for (let i = 0; i < rows; i++) {
    const row: number[] = Array.from({ length: cols }, () => (next() < 0.3 ? 0 : next()));
    if (!row.some((v) => v > 0)) row[0] = 1;
    const sum = row.reduce((s, v) => s + v, 0);
    q.push(...row.map((v) => v / sum));
  }
  return q;
}

export const TARGET_SETS: readonly TargetSet[] = [
  {
    name: 'class indices (Int32Array)',
    make: (r, c, _, s) => ({ kind: 'index', values: indices(r, c, s), array: 'Int32Array' }),
  },
  {
    name: 'class indices (number[])',
    make: (r, c, _, s) => ({ kind: 'index', values: indices(r, c, s), array: 'number[]' }),
  },
  {
    name: 'class indices (Uint32Array)',
    make: (r, c, ignore, s) => {
      const values = indices(r, c, s);
      // Ignored rows only where the Uint32Array can hold ignoreIndex.
      if (ignore >= 0 && r > 1) values[r - 1] = ignore;
      return { kind: 'index', values, array: 'Uint32Array' };
    },
  },
  {
    name: 'ignored rows at the start, in the middle and at the end',
    make: (r, c, ignore, s) => {
      const values = indices(r, c, s);
      for (const i of [0, Math.floor(r / 2), r - 1]) values[i] = ignore;
      // At least one row counts, so that 'mean' has something to divide by.
      if (r >= 2) values[1] = Math.min(c - 1, 1) === ignore ? 0 : Math.min(c - 1, 1);
      return { kind: 'index', values, array: 'Int32Array' };
    },
  },
  { name: 'probabilities', make: (r, c, _, s) => ({ kind: 'probs', values: probabilityRows(r, c, s) }) },
  {
    name: 'one-hot probabilities',
    make: (r, c, _, s) => {
      const values = new Array(r * c).fill(0);
      indices(r, c, s).forEach((t, i) => {
        values[i * c + t] = 1;
      });
      return { kind: 'probs', values };
    },
  },
];

export interface LogitPattern {
  name: string;
  rows: number;
  cols: number;
  logits: (d: DtypeInfo) => number[];
}

/** The grid's logits: 6 rows × 7 classes, ordinary values, and a batch of special-value rows. */
export const CE_LOGIT_PATTERNS: readonly LogitPattern[] = [
  { name: 'U(−8, 8)', rows: 6, cols: 7, logits: () => uniform(42, -8, 8, 71) },
  {
    name: 'special rows (NaN, ±Infinity, fully masked, huge, subnormal)',
    rows: 6,
    cols: 7,
    logits: (d) =>
      [
        [0.5, NaN_, 2, -1, 0, 3, 1],
        [inf, 0, inf, -inf, 1, -2, 0.5],
        [-inf, 1, -inf, 2, -inf, 0, -3],
        [-inf, -inf, -inf, -inf, -inf, -inf, -inf],
        [1e30, -1e30, 0, 5e29, -1e30, d.max / 4, 1],
        [d.minSubnormal, 0, -d.minSubnormal, d.minNormal, 2, -2, 0],
      ].flat(),
  },
];

/** Row lengths the issue asks for: 1, 2, 3 and 1,000,000 (with scale 'small': 65,537). */
export interface CrossEntropyShape {
  rows: number;
  cols: number;
  small?: { rows: number; cols: number };
}

export const CE_SHAPES: readonly CrossEntropyShape[] = [
  { rows: 5, cols: 1 },
  { rows: 4, cols: 2 },
  { rows: 3, cols: 3 },
  { rows: 1, cols: 1_000_000, small: { rows: 1, cols: 65_537 } },
  { rows: 2, cols: 50_000, small: { rows: 2, cols: 4099 } },
];

/**
 * Special values by hand, one row per case (reduction 'none', the gradient asked): the loss and,
 * where given, the gradient written from CE-SPEC's rules, not from any implementation. Non-finite
 * values must match exactly; the others within the backend's bound.
 */
export interface CrossEntropySpecial {
  name: string;
  logits: number[];
  targets: number[];
  options?: Record<string, unknown>;
  loss: number;
  grad?: number[];
  lse?: number;
}

const e2 = Math.exp(2);

export const CE_SPECIALS: readonly CrossEntropySpecial[] = [
  {
    name: 'NaN in the row → NaN loss, NaN gradient',
    logits: [1, NaN_, 0],
    targets: [0],
    loss: NaN_,
    grad: [NaN_, NaN_, NaN_],
    lse: NaN_,
  },
  {
    name: 'two +Infinity share the mass: loss log 2, gradient ½ − one-hot',
    logits: [inf, 0, inf, -inf],
    targets: [0],
    loss: Math.LN2,
    grad: [-0.5, 0, 0.5, 0],
    lse: inf,
  },
  {
    name: 'a −Infinity target logit → +Infinity loss, finite gradient p − one-hot',
    logits: [0, 2, -inf],
    targets: [2],
    loss: inf,
    grad: [1 / (1 + e2), e2 / (1 + e2), -1],
    lse: Math.log(1 + e2),
  },
  {
    name: 'only −Infinity → NaN loss and gradient, lse −Infinity',
    logits: [-inf, -inf, -inf],
    targets: [1],
    loss: NaN_,
    grad: [NaN_, NaN_, NaN_],
    lse: -inf,
  },
  {
    name: 'an ignored row is 0 whatever it holds (NaN included); its lse is still computed',
    logits: [NaN_, 1, 2],
    targets: [-100],
    options: { reduction: 'sum' },
    loss: 0,
    grad: [0, 0, 0],
    lse: NaN_,
  },
  {
    name: 'weight 0 on a −Infinity target: 0·(−Infinity) counts as 0',
    logits: [-inf, 0],
    targets: [0],
    options: { weight: [0, 1], reduction: 'sum' },
    loss: 0,
    grad: [0, 0],
  },
  {
    name: 'smoothing reaches a −Infinity class of weight > 0 → +Infinity',
    logits: [-inf, 0, 1],
    targets: [2],
    options: { labelSmoothing: 0.1 },
    loss: inf,
  },
  {
    name: 'softcap makes ±Infinity finite (±c); the gradient there is 0',
    logits: [inf, 0, -inf],
    targets: [1],
    options: { softcap: 2 },
    loss: Math.log(Math.exp(2) + 1 + Math.exp(-2)),
    grad: [0, -1 + 1 / (Math.exp(2) + 1 + Math.exp(-2)), 0],
  },
  {
    name: 'z-loss on a +Infinity row → +Infinity loss',
    logits: [inf, 1],
    targets: [0],
    options: { zLoss: 0.01 },
    loss: inf,
  },
  {
    name: 'a dominant target logit: loss log(1 + 2·exp(−40)) ≈ 2·exp(−40)',
    logits: [40, 0, 0],
    targets: [0],
    loss: 2 * Math.exp(-40),
    lse: 40,
  },
  {
    name: 'one class: log-softmax 0, so only the z-loss ζ·x² remains, gradient 2ζ·x',
    logits: [3],
    targets: [0],
    options: { zLoss: 0.5 },
    loss: 4.5,
    grad: [3],
    lse: 3,
  },
];

/** A bad call: its arguments (logits, targets, options) for an array type, the code and message parts. */
export interface CrossEntropyBadInput {
  name: string;
  args: (A: Float32ArrayConstructor | Float64ArrayConstructor) => unknown[];
  code: SoftmaxErrorCode;
  message: string[];
  /** Only where the backend computes crossEntropy in float64 (the row passes a number[] as logits). */
  float64?: true;
}

const X = [0.5, -1, 2, 0, 1, 3, -2, 0.25];

export const CE_BAD_INPUTS: readonly CrossEntropyBadInput[] = [
  {
    name: 'a target ≥ cols names its row and value',
    args: (A) => [A.from(X), Int32Array.from([1, 4]), { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets[1]', 'row 1', '4', '[0, 4)'],
  },
  {
    name: 'a negative target that is not ignoreIndex',
    args: (A) => [A.from(X), [-1, 0], { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets[0]', 'row 0', '-1'],
  },
  {
    name: 'a fractional target in a number[]',
    args: (A) => [A.from(X), [0, 2.5], { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets[1]', '2.5'],
  },
  {
    name: 'targets of the wrong length',
    args: (A) => [A.from(X), Int32Array.from([0, 1, 2]), { cols: 4 }],
    code: 'INVALID_SHAPE',
    message: ['targets.length', '2'],
  },
  {
    name: 'targets of another integer type',
    args: (A) => [A.from(X), Int16Array.from([0, 1]), { cols: 4 }],
    code: 'UNSUPPORTED_DTYPE',
    message: ['targets', 'Int16Array'],
  },
  {
    name: 'targets that are not an array',
    args: (A) => [A.from(X), 7, { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets', '7'],
  },
  {
    name: 'probability targets of the wrong shape',
    args: (A) => [A.from(X), A.from([0.5, 0.5, 0.5, 0.5]), { cols: 4 }],
    code: 'INVALID_SHAPE',
    message: ['logits', 'targets', 'length'],
  },
  {
    name: 'probability rows that do not sum to 1',
    args: (A) => [A.from(X), A.from([0.25, 0.25, 0.25, 0.25, 0.5, 0.5, 0.5, 0]), { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets row 1', '1.5'],
  },
  {
    name: 'a probability outside [0, 1]',
    args: (A) => [A.from(X), A.from([1.25, -0.25, 0, 0, 1, 0, 0, 0]), { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets[0]', 'row 0'],
  },
  {
    name: 'a NaN probability',
    args: (A) => [A.from(X), A.from([1, 0, 0, 0, NaN_, 1, 0, 0]), { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets[4]', 'NaN'],
  },
  {
    name: 'labelSmoothing 1',
    args: (A) => [A.from(X), [0, 1], { cols: 4, labelSmoothing: 1 }],
    code: 'INVALID_OPTION',
    message: ['options.labelSmoothing', '1'],
  },
  {
    name: 'labelSmoothing −0.1',
    args: (A) => [A.from(X), [0, 1], { cols: 4, labelSmoothing: -0.1 }],
    code: 'INVALID_OPTION',
    message: ['options.labelSmoothing', '-0.1'],
  },
  {
    name: 'weight of the wrong length',
    args: (A) => [A.from(X), [0, 1], { cols: 4, weight: A.from([1, 1, 1]) }],
    code: 'INVALID_OPTION',
    message: ['options.weight', '4'],
  },
  {
    name: 'a negative weight',
    args: (A) => [A.from(X), [0, 1], { cols: 4, weight: [1, 1, -1, 1] }],
    code: 'INVALID_OPTION',
    message: ['options.weight[2]', '-1'],
  },
  {
    name: 'an infinite weight',
    args: (A) => [A.from(X), [0, 1], { cols: 4, weight: A.from([1, inf, 1, 1]) }],
    code: 'INVALID_OPTION',
    message: ['options.weight[1]', 'Infinity'],
  },
  {
    name: "every row ignored with reduction 'mean' (D = 0)",
    args: (A) => [A.from(X), [-100, -100], { cols: 4 }],
    code: 'INVALID_INPUT',
    message: ['targets', "'mean'", "'sum'"],
  },
  {
    name: "every counted row of weight 0 with reduction 'mean' (D = 0)",
    args: (A) => [A.from(X), [1, -100], { cols: 4, weight: [1, 0, 1, 1] }],
    code: 'INVALID_INPUT',
    message: ['targets', 'weight 0'],
  },
  {
    name: 'an unknown reduction',
    args: (A) => [A.from(X), [0, 1], { cols: 4, reduction: 'avg' }],
    code: 'INVALID_OPTION',
    message: ['options.reduction', 'avg'],
  },
  {
    name: 'a fractional ignoreIndex',
    args: (A) => [A.from(X), [0, 1], { cols: 4, ignoreIndex: 1.5 }],
    code: 'INVALID_OPTION',
    message: ['options.ignoreIndex', '1.5'],
  },
  {
    name: 'a negative zLoss',
    args: (A) => [A.from(X), [0, 1], { cols: 4, zLoss: -0.5 }],
    code: 'INVALID_OPTION',
    message: ['options.zLoss', '-0.5'],
  },
  {
    name: 'a NaN softcap',
    args: (A) => [A.from(X), [0, 1], { cols: 4, softcap: NaN_ }],
    code: 'INVALID_OPTION',
    message: ['options.softcap', 'NaN'],
  },
  {
    name: 'temperature 0',
    args: (A) => [A.from(X), [0, 1], { cols: 4, temperature: 0 }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', '0'],
  },
  {
    name: 'a NaN gradScale',
    args: (A) => [A.from(X), [0, 1], { cols: 4, gradScale: NaN_ }],
    code: 'INVALID_OPTION',
    message: ['options.gradScale', 'NaN'],
  },
  {
    name: "gradient 'inplace'",
    args: (A) => [A.from(X), [0, 1], { cols: 4, gradient: 'inplace' }],
    code: 'INVALID_OPTION',
    message: ['options.gradient', 'inplace'],
  },
  {
    name: 'returnLse 1',
    args: (A) => [A.from(X), [0, 1], { cols: 4, returnLse: 1 }],
    code: 'INVALID_OPTION',
    message: ['options.returnLse', '1'],
  },
  {
    name: 'gradOut without gradient: true',
    args: (A) => [A.from(X), [0, 1], { cols: 4, gradOut: new A(8) }],
    code: 'INVALID_OPTION',
    message: ['options.gradOut', 'options.gradient'],
  },
  {
    name: "gradOut with gradient 'in-place'",
    args: (A) => [A.from(X), [0, 1], { cols: 4, gradient: 'in-place', gradOut: new A(8) }],
    code: 'INVALID_OPTION',
    message: ['options.gradOut', 'in place'],
  },
  {
    name: 'gradOut of the wrong length',
    args: (A) => [A.from(X), [0, 1], { cols: 4, gradient: true, gradOut: new A(4) }],
    code: 'INVALID_OPTION',
    message: ['options.gradOut', '8'],
  },
  {
    name: 'gradOut over the probability targets',
    args: (A) => {
      const q = A.from([1, 0, 0, 0, 0, 1, 0, 0]);
      return [A.from(X), q, { cols: 4, gradient: true, gradOut: q }];
    },
    code: 'INVALID_OPTION',
    message: ['options.gradOut', 'targets'],
  },
  {
    name: "gradient 'in-place' on number[] logits",
    args: () => [X.slice(), [0, 1], { cols: 4, gradient: 'in-place' }],
    float64: true,
    code: 'INVALID_OPTION',
    message: ['in place', 'logits', 'Array(8)'],
  },
  {
    name: 'an unknown option (PyTorch spelling)',
    args: (A) => [A.from(X), [0, 1], { cols: 4, label_smoothing: 0.1 }],
    code: 'INVALID_OPTION',
    message: ['options.label_smoothing'],
  },
  {
    name: 'cols that do not divide the logits',
    args: (A) => [A.from(X), [0, 1], { cols: 3 }],
    code: 'INVALID_SHAPE',
    message: ['options.cols', '3'],
  },
];

/** The typed array a target spec asks for (probabilities in the logits' type). */
export function targetArray(spec: TargetSpec, A: Float32ArrayConstructor | Float64ArrayConstructor): unknown {
  if (spec.kind === 'probs') return A.from(spec.values);
  if (spec.array === 'number[]') return spec.values.slice();
  return spec.array === 'Int32Array' ? Int32Array.from(spec.values) : Uint32Array.from(spec.values);
}

/** The values the backend computes on: probabilities rounded to the logits' type. */
export function targetValues(
  spec: TargetSpec,
  A: Float32ArrayConstructor | Float64ArrayConstructor,
): FloatArray | number[] {
  return spec.kind === 'probs' ? A.from(spec.values) : spec.values;
}
