import { describeValue, SoftmaxError } from '../errors.js';
import { compensatedSum } from '../reference.js';
import { referenceCrossEntropy, Sum } from '../reference-cross-entropy.js';
import { floatDtypeOf, lengthOf } from '../typed-arrays.js';
import type { FloatArray, OutputOf, SoftmaxInput } from '../types.js';
import { EXTENDED_VALIDATION } from '../validate-extended.js';
import type { OpCall, OpDecl, OptionReader } from './declaration.js';
import { temperature, withEarly } from './options.js';
import type { Asks, Part } from './result-types.js';
import type { Returns, Sync } from './returns.js';

/**
 * crossEntropy: the fused softmax cross-entropy loss, its gradient and the log-sum-exp, in one op
 * (CE-SPEC). Kernels write each row's loss (`rowLoss`, float64) and, when asked, the gradient
 * already scaled by `params.scale` and the log-sum-exp; core derives the normaliser and the scale
 * once (validating the targets on the way) and reduces the row losses in `finish`, so no backend
 * reduces and every backend returns the same `{ loss, grad?, lse? }`.
 */

export type Reduction = 'mean' | 'sum' | 'none';
/** `false`: no gradient; `true`: `grad` in a new array (or `gradOut`); `'in-place'`: written over the logits. */
export type GradientMode = boolean | 'in-place';
/** Class indices, one per row (a number[] always means indices), or probabilities, rows × cols. */
export type CrossEntropyTargets = Int32Array | Uint32Array | readonly number[] | FloatArray;

/** The options of `crossEntropy` (PyTorch's, plus zLoss, softcap, temperature, gradScale and returnLse). */
export interface CrossEntropyOptions {
  /** Row length: logits are rows × cols, row-major. Default: the whole input is one row. */
  cols?: number;
  /** 'mean' (default: Σ loss / D, PyTorch's weighted mean), 'sum', or 'none' (one loss per row). */
  reduction?: Reduction;
  /** A class-index target equal to it marks a row ignored: 0 loss, 0 gradient, not counted. Default −100. */
  ignoreIndex?: number;
  /** Class weights, length cols, finite and ≥ 0. Default: all 1. */
  weight?: FloatArray | readonly number[];
  /** ε in [0, 1): the target becomes (1 − ε)·target + ε/cols. Default 0. */
  labelSmoothing?: number;
  /** ζ ≥ 0: adds ζ·lse² to each row's loss (z-loss). Default 0. */
  zLoss?: number;
  /** c > 0: logits become c·tanh(x/c) first (Gemma 2's soft-capping). Default: off (undefined or 0). */
  softcap?: number;
  /** Logits (after softcap) are divided by it. Finite and > 0; default 1. */
  temperature?: number;
  /** false (default); true: return `grad` (new, or `gradOut`); 'in-place': write it over `logits`. */
  gradient?: GradientMode;
  /** Preallocated gradient (logits' type and shape); needs `gradient: true`. May be `logits` itself. */
  gradOut?: FloatArray;
  /** Multiplies the gradient (an upstream loss scale, gradient accumulation). Finite; default 1. */
  gradScale?: number;
  /** Also return each row's log-sum-exp as `lse`. Default false. */
  returnLse?: boolean;
}

/** The options as kernels read them (`call.options`), defaults filled in. */
export interface CrossEntropyCallOptions {
  /** 'mean', 'sum' or 'none'. */
  reduction: Reduction;
  /** An index target equal to it counts for nothing (−100 when not given). */
  ignoreIndex: number;
  /** A copy (never the caller's array), or undefined for all 1. */
  weight: Float64Array | undefined;
  /** ε in [0, 1). */
  labelSmoothing: number;
  /** ζ ≥ 0: ζ·lse² is added per row. */
  zLoss: number;
  /** 0: off. */
  softcap: number;
  /** T > 0: the (softcapped) logits are divided by it. */
  temperature: number;
  /** Whether and where the gradient is written. */
  gradient: GradientMode;
  /** Multiplies the gradient. */
  gradScale: number;
  /** Whether each row's log-sum-exp is returned. */
  returnLse: boolean;
}

/** What core derives once per call (`call.params`), for every backend. */
export interface CrossEntropyParams {
  /** Which form `call.inputs[1]` took: class indices (Int32Array | Uint32Array, one per row) or probabilities (the call's float type, rows × cols). */
  targets: 'index' | 'probs';
  /** D: 'mean' divides Σ loss_i by it (Σ of the non-ignored rows' target weights, or rows for probabilities); 1 otherwise. */
  normaliser: number;
  /** k: every gradient element is multiplied by it (gradScale / D for 'mean', gradScale otherwise). */
  scale: number;
}

/** One validated call of `crossEntropy`, as a kernel receives it. */
export type CrossEntropyCall = OpCall<CrossEntropyCallOptions, CrossEntropyParams>;

/**
 * Output positions in `call.outputs`.
 *
 * @example
 * ```ts
 * import { CROSS_ENTROPY_OUTPUTS, type CrossEntropyCall } from '@softmax/core/backend';
 *
 * function run(call: CrossEntropyCall) {
 *   const rowLoss = call.outputs[CROSS_ENTROPY_OUTPUTS.rowLoss] as Float64Array; // one per row
 *   if (call.present[CROSS_ENTROPY_OUTPUTS.grad]) {
 *     // write d loss / d logits into call.outputs[CROSS_ENTROPY_OUTPUTS.grad]
 *   }
 * }
 * ```
 */
export const CROSS_ENTROPY_OUTPUTS = { rowLoss: 0, grad: 1, lse: 2 } as const;

const REDUCTIONS: readonly Reduction[] = ['mean', 'sum', 'none'];

const invalid = (name: string, what: string, value: unknown) =>
  new SoftmaxError('INVALID_OPTION', `${name} must be ${what}, got ${describeValue(value)}`);

const reduction: OptionReader<Reduction> = (value, name) => {
  if (value === undefined) return 'mean';
  if (!REDUCTIONS.includes(value as Reduction)) throw invalid(name, "'mean', 'sum' or 'none'", value);
  return value as Reduction;
};

/** Any 32-bit pattern a target array can hold (int32 or uint32), so comparing bits is exact. */
const ignoreIndex: OptionReader<number> = (value, name) => {
  if (value === undefined) return -100;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 32) {
    throw invalid(name, 'an integer in [-2^31, 2^32)', value);
  }
  return value;
};

const finiteAtLeast =
  (lo: number, fallback: number, what: string): OptionReader<number> =>
  (value, name) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < lo) throw invalid(name, what, value);
    return value;
  };

const labelSmoothing: OptionReader<number> = (value, name) => {
  if (value === undefined) return 0;
  // ε = 1 would drop the target altogether: the loss no longer depends on it.
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) throw invalid(name, 'a number in [0, 1)', value);
  return value;
};

const softcap: OptionReader<number> = (value, name) => {
  if (value === undefined || value === 0) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw invalid(name, 'a finite number > 0 (or 0 or undefined: off)', value);
  }
  return value;
};

const gradient: OptionReader<GradientMode> = (value, name) => {
  if (value === undefined) return false;
  if (value !== true && value !== false && value !== 'in-place')
    throw invalid(name, "true, false or 'in-place'", value);
  return value;
};

const gradScale: OptionReader<number> = (value, name) => {
  if (value === undefined) return 1;
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(name, 'a finite number', value);
  return value;
};

const returnLse: OptionReader<boolean> = (value, name) => {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalid(name, 'a boolean', value);
  return value;
};

/** A number[] weight, read once while the options are read (a Proxy cannot change it later). */
class EarlyWeight {
  constructor(
    readonly values: Float64Array | undefined,
    readonly error: SoftmaxError | undefined,
  ) {}
}

function readWeightArray(value: unknown, name: string): EarlyWeight {
  try {
    if (!Array.isArray(value)) return new EarlyWeight(undefined, undefined);
    const length = value.length;
    if (!Number.isSafeInteger(length) || length < 0 || length > 2 ** 32 - 1) {
      return new EarlyWeight(undefined, invalid(`${name}.length`, 'an array length', length));
    }
    const copy = new Float64Array(length);
    for (let i = 0; i < length; i++) {
      const v = value[i];
      if (typeof v !== 'number') return new EarlyWeight(undefined, invalid(`${name}[${i}]`, 'a number', v));
      copy[i] = v;
    }
    return new EarlyWeight(copy, undefined);
  } catch (cause) {
    return new EarlyWeight(undefined, new SoftmaxError('INVALID_OPTION', `${name} cannot be read`, { cause }));
  }
}

const parseWeight: OptionReader<Float64Array | undefined> = (value, name, shape) => {
  if (value === undefined) return undefined;
  let values: ArrayLike<number>;
  if (value instanceof EarlyWeight) {
    if (value.error) throw value.error;
    values = value.values as Float64Array;
  } else if (floatDtypeOf(value) !== undefined) {
    values = value as FloatArray;
  } else {
    throw invalid(name, 'a Float32Array, Float64Array or number[]', value);
  }
  const cols = shape?.cols ?? 0;
  const length = floatDtypeOf(values) ? lengthOf(values as FloatArray) : values.length;
  if (length !== cols) throw invalid(name, `of length cols (${cols})`, value instanceof EarlyWeight ? values : value);
  // A copy: the kernel reads it while writing the gradient, which may be memory the caller's array shares.
  const copy = Float64Array.from(values);
  for (let j = 0; j < cols; j++) {
    if (!(Number.isFinite(copy[j]) && copy[j] >= 0)) throw invalid(`${name}[${j}]`, 'a finite number ≥ 0', copy[j]);
  }
  return copy;
};
/** Class weights: a Float32Array, Float64Array or number[] of cols finite values ≥ 0, copied to float64. */
const weight = /* @__PURE__ */ withEarly(parseWeight, (value, name) =>
  Array.isArray(value) ? readWeightArray(value, name) : value,
);

/**
 * How far a probability row's sum may be from 1: 1e-4, plus what a row normalised by a naive
 * float sum in the targets' type can be off (cols · unit roundoff: 0.008 for 128k float32 classes).
 *
 * @example
 * ```ts
 * import { probabilityTolerance } from '@softmax/core/backend';
 *
 * probabilityTolerance(128_000, 'float32'); // ≈ 0.0077: how far a row of probability targets may sum from 1
 * ```
 */
export function probabilityTolerance(cols: number, dtype: 'float32' | 'float64'): number {
  return 1e-4 + cols * (dtype === 'float32' ? 2 ** -24 : 2 ** -53);
}

/** Checks the targets and computes D and k: once per call, in core, for every backend. */
function derive(call: OpCall): CrossEntropyParams {
  const o = call.options as unknown as CrossEntropyCallOptions;
  const { rows, cols } = call;
  const targets = call.inputs[1];
  const kind = call.forms[1] === 2 ? 'probs' : 'index';
  let normaliser = rows;
  if (kind === 'index') {
    const w = o.weight;
    const terms = o.reduction === 'mean' ? new Float64Array(rows) : undefined;
    for (let i = 0; i < rows; i++) {
      const t = targets[i];
      if (t === o.ignoreIndex) continue;
      if (!(t >= 0 && t < cols)) {
        throw new SoftmaxError(
          'INVALID_INPUT',
          `targets[${i}] (row ${i}) is ${t}: a class index must be in [0, ${cols}) or options.ignoreIndex (${o.ignoreIndex})`,
        );
      }
      if (terms) terms[i] = w ? w[t] : 1;
    }
    normaliser = terms ? compensatedSum(terms, rows) : 1;
  } else {
    const q = targets as FloatArray;
    const tolerance = probabilityTolerance(cols, call.dtype);
    for (let i = 0; i < rows; i++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const v = q[i * cols + j];
        if (!(v >= 0 && v <= 1)) {
          throw new SoftmaxError(
            'INVALID_INPUT',
            `targets[${i * cols + j}] (row ${i}, class ${j}) is ${describeValue(v)}: a probability must be in [0, 1]`,
          );
        }
        sum += v;
      }
      if (!(Math.abs(sum - 1) <= tolerance)) {
        throw new SoftmaxError(
          'INVALID_INPUT',
          `targets row ${i} sums to ${sum}: each row of probability targets must sum to 1 (within ${tolerance.toPrecision(3)})`,
        );
      }
    }
  }
  if (o.reduction !== 'mean') normaliser = 1;
  else if (!(normaliser > 0)) {
    // PyTorch returns NaN (0/0) here; a NaN loss silently poisons a training loop, and 'sum' gives 0.
    const why = rows === 0 ? 'there are no rows' : 'every row is ignored or has weight 0';
    throw new SoftmaxError(
      'INVALID_INPUT',
      `targets: ${why}, so reduction 'mean' divides by 0 (PyTorch gives NaN); use reduction 'sum', which gives 0`,
    );
  }
  const scale = o.gradScale / normaliser;
  if (o.gradient !== false && !Number.isFinite(scale)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.gradScale / D = ${o.gradScale} / ${normaliser} overflows: the gradient's scale must be finite`,
    );
  }
  return { targets: kind, normaliser, scale };
}

/** The result from the kernel's outputs: the reduction of the row losses, grad and lse when asked. */
function finish(call: OpCall): CrossEntropyResult<FloatArray> {
  const o = call.options as unknown as CrossEntropyCallOptions;
  const { normaliser } = call.params as unknown as CrossEntropyParams;
  const rowLoss = call.outputs[CROSS_ENTROPY_OUTPUTS.rowLoss] as Float64Array;
  const Type = call.dtype === 'float32' ? Float32Array : Float64Array;
  let loss: FloatArray;
  if (o.reduction === 'none') loss = Type.from(rowLoss);
  else {
    const total = new Sum();
    for (let i = 0; i < call.rows; i++) total.add(rowLoss[i]);
    loss = Type.of(total.value / (o.reduction === 'mean' ? normaliser : 1));
  }
  const result: CrossEntropyResult<FloatArray> = { loss };
  if (call.present[CROSS_ENTROPY_OUTPUTS.grad]) result.grad = call.outputs[CROSS_ENTROPY_OUTPUTS.grad] as FloatArray;
  if (call.present[CROSS_ENTROPY_OUTPUTS.lse]) result.lse = call.outputs[CROSS_ENTROPY_OUTPUTS.lse] as FloatArray;
  return result;
}

export const crossEntropyOp: OpDecl<'crossEntropy'> = {
  name: 'crossEntropy',
  inputs: [
    { name: 'logits', element: 'float', shape: 'matrix' },
    // Forms 0 and 1: class indices (a number[] is read into an Int32Array); form 2: probabilities, in the logits' type.
    {
      name: 'targets',
      element: 'int32',
      shape: 'rows',
      or: [
        { element: 'uint32', shape: 'rows' },
        { element: 'float', shape: 'matrix', convert: true },
      ],
    },
  ],
  outputs: [
    { name: 'rowLoss', element: 'float', dtype: 'float64', shape: 'rows' },
    {
      name: 'grad',
      element: 'float',
      shape: 'matrix',
      outOption: 'gradOut',
      when: (o) => (o.gradient === false ? 'absent' : o.gradient === 'in-place' ? 'in-place' : 'present'),
      whenOption: 'gradient',
      inPlaceOf: 0,
      // Over the logits only: a kernel reads a row's targets while it writes that row's gradient.
      mayAlias: ['logits'],
    },
    {
      name: 'lse',
      element: 'float',
      shape: 'rows',
      when: (o) => (o.returnLse ? 'present' : 'absent'),
      whenOption: 'returnLse',
    },
  ],
  options: {
    reduction,
    ignoreIndex,
    weight,
    labelSmoothing,
    zLoss: /* @__PURE__ */ finiteAtLeast(0, 0, 'a finite number ≥ 0'),
    softcap,
    temperature,
    gradient,
    gradScale,
    returnLse,
  },
  derive: derive as unknown as OpDecl['derive'],
  finish,
  // Targets of three forms, one per row; gradients absent, new or in place, never over the targets.
  validation: EXTENDED_VALIDATION,
  reference: (call: OpCall) => {
    const o = call.options as unknown as CrossEntropyCallOptions;
    const p = call.params as unknown as CrossEntropyParams;
    referenceCrossEntropy({
      logits: call.inputs[0] as FloatArray,
      targets: call.inputs[1],
      targetKind: p.targets,
      rows: call.rows,
      cols: call.cols,
      ignoreIndex: o.ignoreIndex,
      weight: o.weight,
      labelSmoothing: o.labelSmoothing,
      zLoss: o.zLoss,
      softcap: o.softcap,
      temperature: o.temperature,
      scale: p.scale,
      rowLoss: call.outputs[0] as Float64Array,
      grad: call.outputs[1] as FloatArray,
      lse: call.outputs[2] as FloatArray,
    });
  },
};

/**
 * What crossEntropy returns: `loss` (length rows for 'none', else 1), `grad` when `gradient` is
 * true or 'in-place', `lse` when `returnLse` is true; typed from the options when they are known.
 */
export type CrossEntropyResult<A extends FloatArray, O = CrossEntropyOptions> = { loss: A } & Part<
  A,
  'grad',
  Asks<O, 'gradient', true | 'in-place'>
> &
  Part<A, 'lse', Asks<O, 'returnLse', true>>;

export interface CrossEntropyMethods<R = Sync> {
  /**
   * Softmax cross-entropy of each row of `logits` against its target (a class index, or a row of
   * probabilities), reduced; with its gradient (fused, one pass per row) and log-sum-exp when asked.
   */
  crossEntropy<T extends SoftmaxInput, const O extends CrossEntropyOptions = Record<never, never>>(
    logits: T,
    targets: CrossEntropyTargets,
    options?: O,
  ): Returns<R, CrossEntropyResult<OutputOf<T>, O>>;
}
