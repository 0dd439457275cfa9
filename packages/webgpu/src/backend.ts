import type { Backend } from '@softmax/core';
import {
  type Async,
  BackendBase,
  type OpCall,
  type OpMethods,
  type OpName,
  type OpSupport,
} from '@softmax/core/backend';
import { arrayCall } from './array-call.js';
import { acquireDevice } from './device.js';
import { DeviceSlot, orLost } from './device-state.js';
import { type EncodeBuffers, type EncodeShape, encodeOp } from './encode.js';
import { GPU_OPS, type GpuOp, gpuOp } from './ops.js';
import { checkBackendOptions, type Tuning, type WebGPUBackendOptions } from './options.js';

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
  encodeLogSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void;
  encodeSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void;
  encodeLogSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void;
}

const DEFAULT_PREPARE_SHAPES = [
  { rows: 64, cols: 1024 },
  { rows: 1, cols: 1_000_000 },
];

const IMPLEMENTED = Object.keys(GPU_OPS) as OpName[];

/** The ops of the table this backend implements: float32 only (WGSL has no float64). */
const OP_SUPPORT: OpSupport = Object.fromEntries(IMPLEMENTED.map((name) => [name, ['float32']]));

class Impl extends BackendBase<Async> implements WebGPUBackend {
  readonly name = 'webgpu' as const;
  readonly ops = OP_SUPPORT;
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

  /** One validated call of an op of the table (BackendBase only runs those in `ops`): float32 in, read back. */
  run(call: OpCall): Promise<void> {
    return arrayCall(this.slot, GPU_OPS[call.op.name as OpName] as GpuOp, call);
  }

  async prepare(
    shapes: ReadonlyArray<{ rows: number; cols: number }> = DEFAULT_PREPARE_SHAPES,
    ops: readonly OpName[] = IMPLEMENTED,
  ): Promise<void> {
    const gpuOps = ops.map(gpuOp); // UNSUPPORTED_OP before any work
    const state = await this.slot.live();
    const jobs: Promise<void>[] = [];
    for (const { rows, cols } of shapes) {
      const plan = state.kernels.plan(rows, cols);
      // T = 1 and an ordinary T (pipelines differ by temperature class; a T past 2^±64 compiles on first use).
      for (const op of gpuOps) for (const t of [1, 2]) jobs.push(state.kernels.prepare(op, plan, t));
    }
    await orLost(state, Promise.all(jobs));
  }

  encode(op: OpName, encoder: GPUCommandEncoder, buffers: EncodeBuffers, shape: EncodeShape): void {
    encodeOp(this.slot, op, encoder, buffers, shape);
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
 */
export async function createWebGPUBackend(options?: WebGPUBackendOptions): Promise<WebGPUBackend> {
  const checked = checkBackendOptions(options); // INVALID_OPTION, naming the option
  const acquired = await acquireDevice(checked);
  return new Impl(new DeviceSlot(acquired, checked));
}

export type { EncodeBuffers, EncodeShape, Tuning, WebGPUBackendOptions };
