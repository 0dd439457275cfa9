import { type Backend, SoftmaxError } from '@softmax/core';
import {
  type Async,
  BackendBase,
  describeValue,
  type OpCall,
  type OpMethods,
  type OpName,
  type OpSupport,
} from '@softmax/core/backend';
import { type ArrayLayoutOf, arrayCall } from './array-call.js';
import { crossEntropyArrayLayout } from './cross-entropy-array.js';
import {
  type CrossEntropyBuffers,
  type CrossEntropyShape,
  encodeCrossEntropy,
  supportsCrossEntropy,
} from './cross-entropy-encode.js';
import { crossEntropyParams } from './cross-entropy-params.js';
import { acquireDevice } from './device.js';
import { DeviceSlot, orLost } from './device-state.js';
import { type EncodeBuffers, type EncodeShape, encodeOp } from './encode.js';
import { scaleRecordAt } from './kernels.js';
import { crossEntropyOp, GPU_OPS, type GpuOp, gpuOp, sampleOp } from './ops.js';
import { checkBackendOptions, type Tuning, type WebGPUBackendOptions } from './options.js';
import type { OpParams } from './params.js';
import type { Plan } from './plan.js';
import { sampleArrayLayout } from './sample-array.js';
import { encodeSample, type SampleBuffers, type SampleShape } from './sample-encode.js';
import { supportsSample } from './sample-params.js';

/**
 * The WebGPU backend: core's BackendBase (validation, results, empty calls) over the array-call
 * transport (array-call.ts) and the GPU-resident API (encode.ts), on a device that is replaced
 * after a loss (device-state.ts).
 */

/** A `Backend` whose every op returns a Promise, plus the GPU-resident (encode) API. */
export interface WebGPUBackend extends Omit<Backend, OpName>, OpMethods<Async> {
  readonly name: 'webgpu';
  /** The device in use now (a new one after a loss, when the backend created it). */
  readonly device: GPUDevice;
  /** The adapter's info (vendor, architecture, ...), when known. */
  readonly adapterInfo: GPUAdapterInfo | undefined;
  /** Compiles, without blocking, the pipelines these shapes need (default: a spread of common ones). */
  prepare(shapes?: ReadonlyArray<{ rows: number; cols: number }>, ops?: readonly OpName[]): Promise<void>;
  /**
   * Records one op into the caller's encoder over the caller's buffers: `inputs` and `outputs` in
   * the order of the op's declaration in `@softmax/core` (softmax, logSoftmax, logSumExp: [x];
   * the gradients: [y, dy]; one output each). A buffer holds rows × cols float32 values, or
   * rows values for logSumExp's output. An input may be an output as well (it is copied first).
   * Throws SoftmaxError before recording anything when an argument is wrong.
   */
  encode(op: OpName, encoder: GPUCommandEncoder, buffers: EncodeBuffers, shape: EncodeShape): void;
  /** Records softmax of `input` into `output` on the caller's encoder. input === output is allowed. */
  encodeSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void;
  /** Records log-softmax of `input` into `output` on the caller's encoder. input === output is allowed. */
  encodeLogSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void;
  /** Records the softmax gradient from `y` and `dy` into `dx` on the caller's encoder. */
  encodeSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void;
  /** Records the log-softmax gradient from `y` (log-softmax output) and `dy` into `dx`. */
  encodeLogSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void;
  /**
   * Records crossEntropy over the caller's buffers: each row's loss into `loss` (unreduced), the
   * gradient into `grad` (`gradient: true`) or over `logits` ('in-place'), each row's log-sum-exp
   * into `lse` when given. `reduction` sets the gradient's scale ('mean' divides by D, summed on
   * the GPU). Throws SoftmaxError before recording anything when an argument is wrong.
   */
  encodeCrossEntropy(encoder: GPUCommandEncoder, buffers: CrossEntropyBuffers, shape: CrossEntropyShape): void;
  /**
   * Records sample over the caller's buffers: each row's token into `tokens` (int32), and, when
   * asked, its log-probability into `logprobs` and the n most probable ids into `topIds` /
   * `topLogprobs`. The options are the array API's (per-row values, seed and step: each row's u
   * is drawn on the host by core's Philox and uploaded, 4 bytes a row). A row with no token gets
   * −1 (a NaN at an allowed id) or −2 (nothing drawable): the GPU cannot throw. Throws
   * SoftmaxError before recording anything when an argument is wrong.
   */
  encodeSample(encoder: GPUCommandEncoder, buffers: SampleBuffers, shape: SampleShape): void;
}

const DEFAULT_PREPARE_SHAPES = [
  { rows: 64, cols: 1024 },
  { rows: 1, cols: 1_000_000 },
];

const IMPLEMENTED = Object.keys(GPU_OPS) as OpName[];

/** The ops of the table this backend implements, float32 only (WGSL has no float64), less those needing more storage bindings than the device has. */
const supportOf = (without: readonly OpName[]): OpSupport =>
  Object.fromEntries(IMPLEMENTED.filter((name) => !without.includes(name)).map((name) => [name, ['float32']]));
const OP_SUPPORT = supportOf([]);
/** Compatibility-mode devices (4 storage bindings): neither crossEntropy (8) nor sample (7). */
const OP_SUPPORT_FEW_BINDINGS = supportOf(['crossEntropy', 'sample']);
const OP_SUPPORT_WITHOUT_CE = supportOf(['crossEntropy']);

/** Ops whose array calls upload, bind and read back more than their declared operands. */
const ARRAY_LAYOUTS: Partial<Record<string, ArrayLayoutOf>> = {
  crossEntropy: crossEntropyArrayLayout,
  sample: sampleArrayLayout,
};

/** Whether the device has the storage bindings an op's kernels use. */
function usable(op: GpuOp, device: GPUDevice): boolean {
  if (op === crossEntropyOp) return supportsCrossEntropy(device);
  if (op === sampleOp) return supportsSample(device);
  return true;
}

/**
 * What prepare() compiles an op for, at temperature t: its usual parameters (crossEntropy: class
 * indices, no weights, smoothing or softcap, and the gradient into its own buffer; the other
 * variants compile on first use).
 */
function prepareParams(op: GpuOp, plan: Plan, t: number): OpParams[] {
  if (op !== crossEntropyOp) return [{ temperature: t, maskedZero: false }];
  const base = {
    rows: plan.rows,
    cols: plan.cols,
    targets: 'int32' as const,
    weighted: false,
    ignoreIndex: -100,
    labelSmoothing: 0,
    zLoss: 0,
    softcap: 0,
    temperature: t,
    gradScale: 1,
    scale: 'parts' as const,
    scaleAt: scaleRecordAt(plan, op),
  };
  return [crossEntropyParams({ ...base, grad: 'out' })];
}

class Impl extends BackendBase<Async> implements WebGPUBackend {
  readonly name = 'webgpu' as const;
  readonly returns = 'async' as const;
  private readonly slot: DeviceSlot;

  constructor(slot: DeviceSlot) {
    super();
    this.slot = slot;
  }

  get device(): GPUDevice {
    return this.slot.state.device;
  }

  get adapterInfo(): GPUAdapterInfo | undefined {
    return this.slot.adapterInfo;
  }

  /** Every op of the table, float32 only; crossEntropy and sample only where the device has their 8 and 7 storage bindings. */
  get ops(): OpSupport {
    const { device } = this.slot.state;
    if (supportsCrossEntropy(device)) return OP_SUPPORT;
    return supportsSample(device) ? OP_SUPPORT_WITHOUT_CE : OP_SUPPORT_FEW_BINDINGS;
  }

  /** One validated call of an op of the table (BackendBase only runs those in `ops`): float32 in, read back. */
  run(call: OpCall): Promise<void> {
    const name = call.op.name as OpName;
    return arrayCall(this.slot, GPU_OPS[name] as GpuOp, call, ARRAY_LAYOUTS[name]);
  }

  async prepare(
    shapes: ReadonlyArray<{ rows: number; cols: number }> = DEFAULT_PREPARE_SHAPES,
    ops: readonly OpName[] = IMPLEMENTED,
  ): Promise<void> {
    const gpuOps = ops.map(gpuOp); // UNSUPPORTED_OP before any work
    const state = await this.slot.live();
    const jobs: Promise<void>[] = [];
    // sample compiles on first use: its variants follow each call's options.
    const ready = gpuOps.filter((op) => op !== sampleOp && usable(op, state.device));
    for (const { rows, cols } of shapes) {
      const plan = state.kernels.plan(rows, cols);
      // T = 1 and an ordinary T (pipelines differ by temperature class; a T past 2^±64 compiles on first use).
      for (const op of ready) {
        for (const t of [1, 2])
          for (const p of prepareParams(op, plan, t)) jobs.push(state.kernels.prepare(op, plan, p));
      }
    }
    await orLost(state, Promise.all(jobs));
  }

  encode(op: OpName, encoder: GPUCommandEncoder, buffers: EncodeBuffers, shape: EncodeShape): void {
    if (op === 'crossEntropy') {
      encodeCrossEntropy(this.slot, encoder, crossEntropyBuffersOf(buffers, shape), crossEntropyShapeOf(shape));
      return;
    }
    if (op === 'sample') {
      encodeSample(this.slot, encoder, sampleBuffersOf(buffers), shape as unknown as SampleShape);
      return;
    }
    encodeOp(this.slot, op, encoder, buffers, shape);
  }

  encodeCrossEntropy(encoder: GPUCommandEncoder, buffers: CrossEntropyBuffers, shape: CrossEntropyShape): void {
    encodeCrossEntropy(this.slot, encoder, buffers, shape);
  }

  encodeSample(encoder: GPUCommandEncoder, buffers: SampleBuffers, shape: SampleShape): void {
    encodeSample(this.slot, encoder, buffers, shape);
  }

  // The per-op methods: thin calls of encode(), kept as the stable API they have been.
  encodeSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void {
    encodeOp(this.slot, 'softmax', encoder, { inputs: [input], outputs: [output] }, shape);
  }

  encodeLogSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void {
    encodeOp(this.slot, 'logSoftmax', encoder, { inputs: [input], outputs: [output] }, shape);
  }

  encodeSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void {
    encodeOp(this.slot, 'softmaxBackward', encoder, { inputs: [y, dy], outputs: [output] }, shape);
  }

  encodeLogSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void {
    encodeOp(this.slot, 'logSoftmaxBackward', encoder, { inputs: [y, dy], outputs: [output] }, shape);
  }

  dispose(): void {
    this.slot.dispose();
  }
}

/**
 * Creates the WebGPU backend: on `options.device`, else an adapter of `options.gpu`, of
 * `navigator.gpu`, or (in Node) of the optional `webgpu` package. Rejects with
 * BACKEND_UNAVAILABLE, and the reason, when there is no usable adapter, and with INVALID_OPTION
 * when an option is unknown or out of its range.
 *
 * @example
 * ```ts
 * import { createWebGPUBackend } from '@softmax/webgpu';
 *
 * const backend = await createWebGPUBackend(); // navigator.gpu, or Dawn (the `webgpu` package) in Node
 * await backend.prepare(); // optional: compile the pipelines ahead
 * const y = await backend.softmax(new Float32Array(4 * 32000), { cols: 32000 }); // Float32Array
 * await backend.dispose();
 * ```
 */
export async function createWebGPUBackend(options?: WebGPUBackendOptions): Promise<WebGPUBackend> {
  const checked = checkBackendOptions(options); // INVALID_OPTION, naming the option
  const acquired = await acquireDevice(checked);
  return new Impl(new DeviceSlot(acquired, checked));
}

/**
 * The generic form's { inputs, outputs }, checked against an op's operands: exactly its inputs,
 * and from its first output to all of them (a missing one undefined).
 */
function operandBuffers(
  buffers: EncodeBuffers,
  op: string,
  inputNames: readonly string[],
  outputNames: readonly string[],
): { inputs: readonly GPUBuffer[]; outputs: readonly (GPUBuffer | undefined)[] } {
  if (
    typeof buffers !== 'object' ||
    buffers === null ||
    !Array.isArray(buffers.inputs) ||
    !Array.isArray(buffers.outputs)
  ) {
    throw new SoftmaxError('INVALID_INPUT', `buffers must be { inputs, outputs }, got ${describeValue(buffers)}`);
  }
  const { inputs, outputs } = buffers;
  if (inputs.length !== inputNames.length || outputs.length < 1 || outputs.length > outputNames.length) {
    const n = inputNames.length;
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${op} takes ${n} input buffer${n === 1 ? '' : 's'} (${inputNames.join(', ')}) and 1 to ${outputNames.length} output buffers (${outputNames.join(', ')}), got ${inputs.length} and ${outputs.length}`,
    );
  }
  return { inputs, outputs };
}

/**
 * encode('crossEntropy', …) in the generic form: inputs [logits, targets], outputs [loss, grad?,
 * lse?] (core's order; a missing one undefined), and the class weights as `shape.weight`.
 */
function crossEntropyBuffersOf(buffers: EncodeBuffers, shape: EncodeShape): CrossEntropyBuffers {
  const { inputs, outputs } = operandBuffers(buffers, 'crossEntropy', ['logits', 'targets'], ['loss', 'grad', 'lse']);
  const weight = (shape as { weight?: GPUBuffer } | undefined)?.weight;
  const [logits, targets] = inputs;
  const [loss, grad, lse] = outputs;
  return { logits, targets, loss: loss as GPUBuffer, grad, lse, weight };
}

/** encode('sample', …) in the generic form: inputs [logits], outputs [tokens, logprobs?, topIds?, topLogprobs?] (core's order). */
function sampleBuffersOf(buffers: EncodeBuffers): SampleBuffers {
  const outputNames = ['tokens', 'logprobs', 'topIds', 'topLogprobs'];
  const { inputs, outputs } = operandBuffers(buffers, 'sample', ['logits'], outputNames);
  const [tokens, logprobs, topIds, topLogprobs] = outputs;
  return { logits: inputs[0], tokens: tokens as GPUBuffer, logprobs, topIds, topLogprobs };
}

function crossEntropyShapeOf(shape: EncodeShape): CrossEntropyShape {
  if (typeof shape !== 'object' || shape === null) return shape;
  const { weight: _, ...rest } = shape as EncodeShape & { weight?: unknown };
  return rest as CrossEntropyShape;
}

export type {
  CrossEntropyBuffers,
  CrossEntropyShape,
  EncodeBuffers,
  EncodeShape,
  SampleBuffers,
  SampleShape,
  Tuning,
  WebGPUBackendOptions,
};
