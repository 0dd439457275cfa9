import { SoftmaxError } from '@softmax/core';
import {
  OPS as DECLARED,
  describeValue,
  type ForwardCallOptions,
  type OpName,
  type ShapeKind,
} from '@softmax/core/backend';
import backward from '../shaders/backward.wgsl';
import crossEntropy from '../shaders/cross_entropy.wgsl';
import forward from '../shaders/forward.wgsl';
import logSumExp from '../shaders/log_sum_exp.wgsl';
import sample from '../shaders/sample.wgsl';
import type { OpParams } from './params.js';
import type { DeviceTraits, Plan } from './plan.js';
import { samplePlan } from './sample-params.js';

/**
 * The ops of core's op table as this backend runs them: one row per op with its kernel file,
 * the entry point of each stage, the bindings of its operands, and how its kernel parameters
 * come from the call's options. The array call, the GPU-resident API and prepare() are written
 * once over these rows, so an op is its row and its WGSL.
 */

/**
 * A row in one dispatch ('fused'), or a long row split into segments: each segment's partials
 * ('partial', into the parts buffer), then their merge and the output ('write').
 */
export type Stage = 'fused' | 'partial' | 'write';

/** Bindings every kernel shares: the partials of split rows, and the uniform block (see common.wgsl). */
export const PARTS_BINDING = 3;
export const PARAMS_BINDING = 4;

/**
 * One input or output: its binding, and its shape from core's declaration (it sets its size and
 * range): rows × cols, one value per row (both bound chunk by chunk), one value per column
 * (class weights: bound whole), or 'buffer': a size the call sets (sample's tables, its rows × n
 * top ids), uploaded or read back at the array's length and bound whole.
 */
export interface Operand {
  readonly name: string;
  readonly binding: number;
  readonly shape: Exclude<ShapeKind, 'scalar'> | 'cols' | 'buffer';
}

/** A binding of an explicit layout (ops whose kernels take more than their operands: see GpuOp.layout). */
export interface LayoutEntry {
  readonly binding: number;
  readonly type: GPUBufferBindingType;
}

export interface GpuOp {
  readonly name: OpName;
  /** The kernel file, compiled after the shared prelude (shaders.ts); `name` keys the module cache. */
  readonly kernel: { readonly name: string; readonly source: string };
  readonly entryPoints: Readonly<Record<Stage, string>>;
  /** Overrides of the kernel file beside the plan's (G, WG), GUARD and TEMP. */
  readonly constants: Readonly<Record<string, number>>;
  /** In core's declaration order. */
  readonly inputs: readonly Operand[];
  readonly outputs: readonly Operand[];
  /** The bindings each stage uses: layout 'auto' keeps only those, so a bind group must hold exactly these. */
  readonly stages: Readonly<Record<Stage, readonly number[]>>;
  /** Kernel parameters from the call's parsed options (or the GPU-resident API's checked layout). */
  params(options: Readonly<Record<string, unknown>>): OpParams;
  /**
   * An explicit bind group layout, for kernels that bind optional operands (crossEntropy: a dummy
   * buffer stands in for an absent one, which layout 'auto' could not tell from a used one). Every
   * entry is bound at every stage; `stages` is then this list's bindings.
   */
  readonly layout?: readonly LayoutEntry[];
  /** Bytes of the uniform block each chunk binds (default Params' 64; see OpParams.extra). */
  readonly paramBytes?: number;
  /** The binding of a second view of the uniform block (the op's own struct that holds Params as `head`). */
  readonly paramsViewBinding?: number;
  /** Partial records per row segment (default 1), and whether a record after them holds a scale (k). */
  readonly partRecords?: number;
  readonly scaleRecord?: boolean;
  /** Entry points of one-thread stages outside the plan's (crossEntropy's normaliser). */
  readonly aux?: Readonly<Record<string, string>>;
  /** The op's own layout of a call (sample: one unit per row, never split), instead of planFor's. */
  readonly plan?: (rows: number, cols: number, traits: DeviceTraits) => Plan;
}

/** Operands of `op` as core declares them, at these bindings. */
function operands(op: OpName, kind: 'inputs' | 'outputs', bindings: readonly number[]): Operand[] {
  const declared = DECLARED[op][kind];
  return declared.map((d, i) => {
    // Kernels bind rows × cols arrays and arrays of one value per row, chunk by chunk (plan.ts).
    if (d.shape === 'scalar' || bindings[i] === undefined) throw new Error(`${op}.${d.name}: no binding for it`);
    return { name: d.name, binding: bindings[i], shape: d.shape };
  });
}

const temperatureOnly = (o: Readonly<Record<string, unknown>>): OpParams => ({
  temperature: o.temperature as number,
  maskedZero: false,
});

const forwardParams = (o: Readonly<Record<string, unknown>>): OpParams => ({
  temperature: o.temperature as number,
  maskedZero: (o as unknown as ForwardCallOptions).fullyMasked === 'zero',
});

/** softmax and log-softmax: forward.wgsl, x at 0, y at 2 (the partial stage keeps exp terms in y). */
const forwardOp = (name: 'softmax' | 'logSoftmax', log: boolean): GpuOp => ({
  name,
  kernel: { name: 'forward', source: forward },
  entryPoints: { fused: 'fwd_fused', partial: 'fwd_partial', write: 'fwd_write' },
  constants: { LOG: log ? 1 : 0 },
  inputs: operands(name, 'inputs', [0]),
  outputs: operands(name, 'outputs', [2]),
  stages: { fused: [0, 2, 4], partial: [0, 2, 3, 4], write: [0, 2, 3, 4] },
  params: forwardParams,
});

/** The gradients: backward.wgsl, y at 0, dy at 1, dx at 2. */
const backwardOp = (name: 'softmaxBackward' | 'logSoftmaxBackward', log: boolean): GpuOp => ({
  name,
  kernel: { name: 'backward', source: backward },
  entryPoints: { fused: 'bwd_fused', partial: 'bwd_partial', write: 'bwd_write' },
  constants: { LOG: log ? 1 : 0 },
  inputs: operands(name, 'inputs', [0, 1]),
  outputs: operands(name, 'outputs', [2]),
  stages: { fused: [0, 1, 2, 4], partial: [0, 1, 3, 4], write: [0, 1, 2, 3, 4] },
  params: temperatureOnly,
});

/** log-sum-exp: log_sum_exp.wgsl, x at 0, one value per row at 2 (the partial stage writes only partials). */
const logSumExpOp: GpuOp = {
  name: 'logSumExp',
  kernel: { name: 'logSumExp', source: logSumExp },
  entryPoints: { fused: 'lse_fused', partial: 'lse_partial', write: 'lse_write' },
  constants: {},
  inputs: operands('logSumExp', 'inputs', [0]),
  outputs: operands('logSumExp', 'outputs', [2]),
  stages: { fused: [0, 2, 4], partial: [0, 3, 4], write: [2, 3, 4] },
  params: temperatureOnly,
};

/**
 * crossEntropy: cross_entropy.wgsl. Its kernels bind the logits (0, the gradient over them in
 * place), probability targets (1), the gradient (2), class indices (6), class weights (7), and one
 * loss (8) and one lse (9) per row; absent ones are dummies. Eight storage bindings: the backend
 * offers crossEntropy only on devices that allow that many per stage (every core WebGPU device). Its parameters come from
 * cross-entropy-params.ts (they need the call's targets, scale and plan, not only its options).
 */
const CE_LAYOUT: readonly LayoutEntry[] = [
  { binding: 0, type: 'storage' },
  { binding: 1, type: 'read-only-storage' },
  { binding: 2, type: 'storage' },
  { binding: PARTS_BINDING, type: 'storage' },
  { binding: PARAMS_BINDING, type: 'uniform' },
  { binding: 5, type: 'uniform' },
  { binding: 6, type: 'read-only-storage' },
  { binding: 7, type: 'read-only-storage' },
  { binding: 8, type: 'storage' },
  { binding: 9, type: 'storage' },
];
const CE_BINDINGS = CE_LAYOUT.map((e) => e.binding);

export const crossEntropyOp: GpuOp = {
  name: 'crossEntropy' as OpName,
  kernel: { name: 'crossEntropy', source: crossEntropy },
  entryPoints: { fused: 'ce_fused', partial: 'ce_partial', write: 'ce_write' },
  constants: {},
  inputs: [
    { name: 'logits', binding: 0, shape: 'matrix' },
    { name: 'probabilities', binding: 1, shape: 'matrix' },
    { name: 'targets', binding: 6, shape: 'rows' },
    { name: 'weight', binding: 7, shape: 'cols' },
  ],
  // The loss first: bind groups are cached by the first output, which must always be there.
  outputs: [
    { name: 'loss', binding: 8, shape: 'rows' },
    { name: 'grad', binding: 2, shape: 'matrix' },
    { name: 'lse', binding: 9, shape: 'rows' },
  ],
  stages: { fused: CE_BINDINGS, partial: CE_BINDINGS, write: CE_BINDINGS },
  params: () => {
    throw new Error('crossEntropy: its parameters come from crossEntropyParams()');
  },
  layout: CE_LAYOUT,
  paramBytes: 144,
  paramsViewBinding: 5,
  partRecords: 2,
  scaleRecord: true,
  aux: { norm: 'ce_norm' },
};

/**
 * sample: sample.wgsl, one unit per row (samplePlan). It binds the logits (0), one table of
 * per-row records, history, biases and mask words (1, sample-params.ts), the processed copy of
 * the rows when penalties, bias or a mask apply (2, else a dummy), and its outputs: tokens (5),
 * log-probabilities (6), top ids (7) and their log-probabilities (8), absent ones dummies. Seven
 * storage bindings: offered only where the device allows that many per stage.
 */
const SAMPLE_LAYOUT: readonly LayoutEntry[] = [
  { binding: 0, type: 'read-only-storage' },
  { binding: 1, type: 'read-only-storage' },
  { binding: 2, type: 'storage' },
  { binding: PARAMS_BINDING, type: 'uniform' },
  { binding: 5, type: 'storage' },
  { binding: 6, type: 'storage' },
  { binding: 7, type: 'storage' },
  { binding: 8, type: 'storage' },
];
const SAMPLE_BINDINGS = SAMPLE_LAYOUT.map((e) => e.binding);

export const sampleOp: GpuOp = {
  name: 'sample' as OpName,
  kernel: { name: 'sample', source: sample },
  entryPoints: { fused: 'sample_row', partial: 'sample_row', write: 'sample_row' },
  constants: {},
  inputs: [
    { name: 'logits', binding: 0, shape: 'matrix' },
    { name: 'meta', binding: 1, shape: 'buffer' },
  ],
  // Tokens first: bind groups are cached by the first output, which must always be there.
  outputs: [
    { name: 'tokens', binding: 5, shape: 'rows' },
    { name: 'logprobs', binding: 6, shape: 'rows' },
    { name: 'topIds', binding: 7, shape: 'buffer' },
    { name: 'topLogprobs', binding: 8, shape: 'buffer' },
    { name: 'work', binding: 2, shape: 'matrix' },
  ],
  stages: { fused: SAMPLE_BINDINGS, partial: SAMPLE_BINDINGS, write: SAMPLE_BINDINGS },
  params: () => {
    throw new Error('sample: its parameters come from sampleParams()');
  },
  layout: SAMPLE_LAYOUT,
  plan: samplePlan,
};

/** The ops this backend implements, by core's name. */
export const GPU_OPS: Readonly<Partial<Record<OpName, GpuOp>>> = {
  softmax: forwardOp('softmax', false),
  logSoftmax: forwardOp('logSoftmax', true),
  softmaxBackward: backwardOp('softmaxBackward', false),
  logSoftmaxBackward: backwardOp('logSoftmaxBackward', true),
  logSumExp: logSumExpOp,
  crossEntropy: crossEntropyOp,
  sample: sampleOp,
};

/** The row of an op by name (the caller's: any value), or SoftmaxError UNSUPPORTED_OP. */
export function gpuOp(name: unknown): GpuOp {
  const op = typeof name === 'string' ? GPU_OPS[name as OpName] : undefined;
  if (!op) throw new SoftmaxError('UNSUPPORTED_OP', `the webgpu backend does not implement ${describeValue(name)}`);
  return op;
}

/** Bytes of one operand of a rows × cols call (float32, or 32-bit class indices); 'buffer' ones are sized by the call. */
export function operandBytes(operand: Operand, rows: number, cols: number): number {
  if (operand.shape === 'buffer') throw new Error(`${operand.name}: its size comes from the call`);
  return (operand.shape === 'matrix' ? rows * cols : operand.shape === 'rows' ? rows : cols) * 4;
}
