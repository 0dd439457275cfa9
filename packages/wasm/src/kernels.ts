import type { Dtype } from '@softmax/core';
import type {
  BackwardCallOptions,
  CrossEntropyCallOptions,
  CrossEntropyParams,
  ForwardCallOptions,
  OpCall,
  OpName,
  OpSupport,
  SampleCallOptions,
  SampleParams,
} from '@softmax/core/backend';
import type { KernelExports, KernelName } from './abi.js';

/**
 * How each op of core's table runs on the kernel. Every kernel takes pointers to the op's
 * operands (its inputs, then its outputs, in declaration order; 0 for an output the call does not
 * compute), then pointers to its `extras`, then rows and cols, then the scalars below; the
 * marshaller (marshal.ts) and the thread pool need nothing else of an op (but for the threads'
 * split of one long float32 softmax row into pieces).
 */
export interface OpKernel {
  /**
   * The kernel's export for each float type; for an op one of whose inputs takes several forms
   * (core's OperandDecl.or: class indices or probabilities), one record per form of that input.
   */
  readonly exports: Readonly<Record<Dtype, KernelName>> | readonly Readonly<Record<Dtype, KernelName>>[];
  /** The scalar arguments after rows and cols, from the validated call (options parsed, core's params). */
  scalars(call: OpCall): number[];
  /**
   * Arrays of the call's options that the kernel reads whole (cross-entropy's class weights, cols
   * float64s), passed after the operands' pointers: copied into the kernel's memory for the call,
   * the same pointer for every row and thread; 0 where the option is absent.
   */
  readonly extras?: readonly ((call: OpCall) => Float64Array | undefined)[];
  /**
   * Per extra, its bytes per row (default 0: every row reads the same array): an extra of one
   * record per row (sample's settings table, its per-row masks) is split with the rows.
   */
  readonly extraStrides?: readonly (((call: OpCall) => number) | undefined)[];
  /**
   * The bytes of scratch the kernel needs on one thread for this call: the marshaller passes a
   * block of one such slot per thread (after a header the kernel claims them through) as the
   * last pointer, after the extras.
   */
  readonly scratch?: (call: OpCall, kernel: KernelExports) => number;
}

const forward = (float32: KernelName, float64: KernelName): OpKernel => ({
  exports: { float32, float64 },
  scalars: (call) => {
    const { temperature, fullyMasked } = call.options as unknown as ForwardCallOptions;
    return [temperature, fullyMasked === 'zero' ? 1 : 0];
  },
});

/** Kernels whose one scalar is the temperature (the gradients, logSumExp). */
const withTemperature = (float32: KernelName, float64: KernelName): OpKernel => ({
  exports: { float32, float64 },
  scalars: (call) => [(call.options as unknown as BackwardCallOptions).temperature],
});

const CE_INDEX = { float32: 'cross_entropy_index_f32', float64: 'cross_entropy_index_f64' } as const;

/**
 * crossEntropy: class-index targets (forms 0 and 1, Int32Array and Uint32Array: the kernel reads
 * their 32 bits) or probabilities (form 2). The index kernels treat every class index outside
 * [0, cols) as ignored (core has checked that only the ignore index can be), so an ignore index
 * outside the classes is passed as 2^32 − 1, which no valid class can equal.
 */
const crossEntropy: OpKernel = {
  exports: [CE_INDEX, CE_INDEX, { float32: 'cross_entropy_probs_f32', float64: 'cross_entropy_probs_f64' }],
  scalars: (call) => {
    const o = call.options as unknown as CrossEntropyCallOptions;
    const { scale } = call.params as unknown as CrossEntropyParams;
    const s = [o.temperature, o.softcap, o.labelSmoothing, o.zLoss, scale];
    if (call.forms[1] !== 2) s.push(o.ignoreIndex >= 0 && o.ignoreIndex < call.cols ? o.ignoreIndex : -1);
    return s;
  },
  extras: [(call) => (call.options as unknown as CrossEntropyCallOptions).weight],
};

/** Float64s per row of sample's settings table (crate/src/sample.rs TABLE). */
const SAMPLE_TABLE = 12;

/**
 * sample's settings, one record of SAMPLE_TABLE float64s per row: T, topK, topP, minP, the three
 * penalties, u, then where the row's history pairs and bias pairs lie in the pairs table.
 */
function sampleTable(call: OpCall): Float64Array {
  const o = call.options as unknown as SampleCallOptions;
  const { u } = call.params as unknown as SampleParams;
  const { rows } = call;
  const t = new Float64Array(rows * SAMPLE_TABLE);
  const h = o.history.offsets;
  const b = o.logitBias.offsets;
  const historyPairs = h[rows];
  for (let i = 0; i < rows; i++) {
    const r = i * SAMPLE_TABLE;
    t[r] = o.temperature[i];
    t[r + 1] = o.topK[i];
    t[r + 2] = o.topP[i];
    t[r + 3] = o.minP[i];
    t[r + 4] = o.repetitionPenalty[i];
    t[r + 5] = o.presencePenalty[i];
    t[r + 6] = o.frequencyPenalty[i];
    t[r + 7] = u[i];
    t[r + 8] = h[i];
    t[r + 9] = h[i + 1];
    t[r + 10] = historyPairs + b[i];
    t[r + 11] = historyPairs + b[i + 1];
  }
  return t;
}

/** The history's (id, count) pairs, then the biases' (id, value) pairs, as the table indexes them. */
function samplePairs(call: OpCall): Float64Array | undefined {
  const o = call.options as unknown as SampleCallOptions;
  const { history, logitBias } = o;
  const nh = history.ids.length;
  const nb = logitBias.ids.length;
  if (nh + nb === 0) return undefined;
  const p = new Float64Array(2 * (nh + nb));
  for (let k = 0; k < nh; k++) {
    p[2 * k] = history.ids[k];
    p[2 * k + 1] = history.counts[k];
  }
  for (let k = 0; k < nb; k++) {
    p[2 * (nh + k)] = logitBias.ids[k];
    p[2 * (nh + k) + 1] = logitBias.values[k];
  }
  return p;
}

/** The mask's words as float64s of the same bytes (the extras are staged as float64s; set() keeps the bits). */
function sampleMask(call: OpCall): Float64Array | undefined {
  const mask = (call.options as unknown as SampleCallOptions).mask;
  if (mask === undefined) return undefined;
  const words = new Uint32Array(mask.words.length + (mask.words.length % 2));
  words.set(mask.words);
  return new Float64Array(words.buffer);
}

/**
 * sample: the logits; tokens, logprobs, topIds, topLogprobs (0 where not asked), then the settings
 * table (split with the rows), the pairs table (shared), the masks (split with the rows, or one
 * shared) and a scratch slot per thread; scalars n (topLogprobs) and the mask's words per row (0:
 * shared).
 */
const sample: OpKernel = {
  exports: { float32: 'sample_f32', float64: 'sample_f64' },
  scalars: (call) => {
    const o = call.options as unknown as SampleCallOptions;
    return [o.topLogprobs ?? 0, o.mask?.stride ?? 0];
  },
  extras: [sampleTable, samplePairs, sampleMask],
  extraStrides: [
    () => SAMPLE_TABLE * 8,
    undefined,
    (call) => 4 * ((call.options as unknown as SampleCallOptions).mask?.stride ?? 0),
  ],
  scratch: (call, kernel) => kernel.sample_scratch_bytes(call.cols, call.dtype === 'float64' ? 8 : 4),
};

/** The ops this backend implements: those with a kernel here. */
export const KERNELS: { readonly [K in OpName]?: OpKernel } = {
  softmax: forward('softmax_f32', 'softmax_f64'),
  logSoftmax: forward('log_softmax_f32', 'log_softmax_f64'),
  softmaxBackward: withTemperature('softmax_backward_f32', 'softmax_backward_f64'),
  logSoftmaxBackward: withTemperature('log_softmax_backward_f32', 'log_softmax_backward_f64'),
  logSumExp: withTemperature('log_sum_exp_f32', 'log_sum_exp_f64'),
  crossEntropy,
  sample,
};

const DTYPES: readonly Dtype[] = ['float32', 'float64'];

/** What the backend declares (`backend.ops`): every op of KERNELS, in both float types. */
export const OP_SUPPORT: OpSupport = Object.fromEntries(Object.keys(KERNELS).map((name) => [name, DTYPES]));

/** The kernel of an op this backend implements (one of OP_SUPPORT's). */
export function kernelOf(op: OpName): OpKernel {
  return KERNELS[op] as OpKernel;
}

/** The export of a kernel for a float type and a form (see OpKernel.exports). */
export function exportOf(kernel: OpKernel, dtype: Dtype, form: number): KernelName {
  const { exports } = kernel;
  return (Array.isArray(exports) ? exports[form] : (exports as Readonly<Record<Dtype, KernelName>>))[dtype];
}

type Export = (...args: number[]) => number | undefined;

/**
 * Calls a kernel export with its `n` pointers, rows, cols and scalars. The ops' argument counts are
 * written out as direct calls: a spread call of a 10-element softmax kernel measured ~20 ns
 * (15%) slower in V8. Other counts (cross-entropy's, whose calls are large) take the spread.
 */
export function invoke(
  kernel: KernelExports,
  name: KernelName,
  p: readonly number[],
  n: number,
  rows: number,
  cols: number,
  s: readonly number[],
): number | undefined {
  const f = kernel[name] as Export;
  if (n === 2 && s.length === 2) return f(p[0], p[1], rows, cols, s[0], s[1]);
  if (n === 2 && s.length === 1) return f(p[0], p[1], rows, cols, s[0]);
  if (n === 3 && s.length === 1) return f(p[0], p[1], p[2], rows, cols, s[0]);
  return f(...p.slice(0, n), rows, cols, ...s);
}
