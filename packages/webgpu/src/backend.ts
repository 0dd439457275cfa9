import type { Backend } from '@softmax/core';
import {
  type Async,
  BackendBase,
  type ForwardCallOptions,
  type OpCall,
  type OpMethods,
  type OpName,
  type OpSupport,
} from '@softmax/core/backend';
import { arrayCall } from './array-call.js';
import { acquireDevice } from './device.js';
import { DeviceSlot, orLost } from './device-state.js';
import { type EncodeShape, encodeOp } from './encode.js';
import { checkBackendOptions, type Tuning, type WebGPUBackendOptions } from './options.js';
import type { Plan } from './plan.js';
import { OPS, type Op } from './shaders.js';

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
  prepare(shapes?: ReadonlyArray<{ rows: number; cols: number }>, ops?: readonly Op[]): Promise<void>;
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

/** The ops of the table this backend implements: float32 only (WGSL has no float64). */
const OP_SUPPORT: OpSupport = {
  softmax: ['float32'],
  logSoftmax: ['float32'],
  softmaxBackward: ['float32'],
  logSoftmaxBackward: ['float32'],
};

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

  /** One validated call of an op of the table: its float32 operands in, its output read back. */
  run(call: OpCall): Promise<void> {
    const op = call.op.name as Op;
    const maskedZero = !OPS[op].backward && (call.options as unknown as ForwardCallOptions).fullyMasked === 'zero';
    const params = { temperature: call.options.temperature as number, maskedZero };
    return arrayCall(
      this.slot,
      op,
      call.inputs as Float32Array[],
      call.rows,
      call.cols,
      params,
      call.outputs[0] as Float32Array,
    );
  }

  async prepare(
    shapes: ReadonlyArray<{ rows: number; cols: number }> = DEFAULT_PREPARE_SHAPES,
    ops: readonly Op[] = ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'],
  ): Promise<void> {
    const state = await this.slot.live();
    const jobs: Promise<void>[] = [];
    for (const { rows, cols } of shapes) {
      const plan = state.kernels.plan(rows, cols);
      // T = 1 and an ordinary T (pipelines differ by temperature class; a T past 2^±64 compiles on first use).
      for (const op of ops) for (const t of [1, 2]) jobs.push(state.kernels.prepare(op, plan, t));
    }
    await orLost(state, Promise.all(jobs));
  }

  encodeSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void {
    encodeOp(this.slot, encoder, 'softmax', input, undefined, output, shape);
  }

  encodeLogSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void {
    encodeOp(this.slot, encoder, 'logSoftmax', input, undefined, output, shape);
  }

  encodeSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void {
    encodeOp(this.slot, encoder, 'softmaxBackward', y, dy, output, shape);
  }

  encodeLogSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void {
    encodeOp(this.slot, encoder, 'logSoftmaxBackward', y, dy, output, shape);
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

export type { EncodeShape, Plan, Tuning, WebGPUBackendOptions };
