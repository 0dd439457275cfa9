import { type Backend, type FullyMasked, SoftmaxError } from '@softmax/core';
import {
  type Async,
  BackendBase,
  checkLayout,
  type ForwardCallOptions,
  type OpCall,
  type OpMethods,
  type OpName,
  type OpSupport,
} from '@softmax/core/backend';
import { type Acquired, acquireDevice } from './device.js';
import { Kernels, type OpParams, partBytes } from './kernels.js';
import { checkBackendOptions, type Tuning, type WebGPUBackendOptions } from './options.js';
import { checkBuffer, checkEncoder, checkQuerySet, trackDevice } from './ownership.js';
import type { DeviceTraits, Plan } from './plan.js';
import { BufferPool } from './pool.js';
import { OPS, type Op } from './shaders.js';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE } from './usage.js';

/** Shape and options of a GPU-resident call. Buffers hold rows × cols float32 values from byte 0. */
export interface EncodeShape {
  rows: number;
  cols: number;
  temperature?: number;
  /** Forward only: what a row of only −Infinity gives ('nan' by default). */
  fullyMasked?: FullyMasked;
  /** Optional timestamp writes for the compute pass (needs the 'timestamp-query' feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

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

interface DeviceState {
  device: GPUDevice;
  kernels: Kernels;
  pool: BufferPool;
  lost: boolean;
  /** Why, once lost. */
  lostError?: SoftmaxError;
  /**
   * Calls in flight, each as the function that ends its wait: device.lost calls them all with
   * DEVICE_LOST, and each removes itself when it settles. (Racing every call against one promise
   * that settles only on a loss left a reaction on it per call: a leak without bound.)
   */
  waiters: Set<(lost: SoftmaxError) => void>;
  /** Scratch of the GPU-resident API; replaced ones stay alive until dispose (an encoder may still use them). */
  scratch: { parts?: GPUBuffer; copy?: GPUBuffer; retired: GPUBuffer[] };
}

/** One array call on one device: its buffers, and the validation errors of its work. */
interface Call {
  plan: Plan;
  bytes: number;
  ins: GPUBuffer[];
  /** Every pooled buffer the call holds: released (or destroyed) when it ends. */
  held: GPUBuffer[];
  /** Set once the work is submitted: the output is copied here. */
  staging?: GPUBuffer;
  /** The popped validation scopes around the call's GPU work. */
  errors: Array<Promise<GPUError | null>>;
}

const disposedError = (cause?: unknown) =>
  new SoftmaxError(
    'BACKEND_UNAVAILABLE',
    'the WebGPU backend was disposed',
    cause === undefined ? undefined : { cause },
  );

const DEFAULT_PREPARE_SHAPES = [
  { rows: 64, cols: 1024 },
  { rows: 1, cols: 1_000_000 },
];

function isCpuAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  return (
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|cpu/i.test(`${info.architecture} ${info.device} ${info.description}`)
  );
}

function isSwiftShader(info: GPUAdapterInfo | undefined): boolean {
  return /swiftshader/i.test(`${info?.architecture} ${info?.device} ${info?.description} ${info?.vendor}`);
}

function traitsOf(device: GPUDevice, info: GPUAdapterInfo | undefined, tuning: Tuning): DeviceTraits {
  const l = device.limits;
  const sg = info as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
  const sgMax = sg?.subgroupMaxSize ?? 0;
  const sgMin = sg?.subgroupMinSize ?? 0;
  const subgroups = tuning.subgroups !== false && device.features.has('subgroups') && sgMax > 0 && sgMax <= 128;
  const cpu = isCpuAdapter(info);
  const maxWorkgroupSize = Math.min(256, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX);
  // On CPU adapters a barrier is costly (SwiftShader runs a workgroup with barriers as coroutines)
  // and a workgroup is executed a few lanes at a time anyway: units of one subgroup, reduced by
  // shuffles, and long rows over a few workgroups (about one per core) do best there.
  const cpuUnit = subgroups && sgMin > 0 ? sgMin : 1;
  return {
    maxWorkgroupSize,
    maxWorkgroupsPerDimension: Math.min(
      l.maxComputeWorkgroupsPerDimension,
      tuning.maxWorkgroupsPerDimension ?? Infinity,
    ),
    maxBindingBytes: Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize, tuning.maxBindingBytes ?? Infinity),
    offsetAlignment: l.minStorageBufferOffsetAlignment,
    subgroupMaxSize: subgroups ? sgMax : 0,
    subgroupMinSize: subgroups ? sgMin : 0,
    maxUnitThreads: tuning.maxUnitThreads ?? (cpu ? cpuUnit : maxWorkgroupSize),
    minWorkgroupSize: tuning.minWorkgroupSize ?? (cpu ? 1 : 64),
    targetWorkgroups: tuning.targetWorkgroups ?? (cpu ? 8 : 256),
    minLanesPerThread: tuning.minLanesPerThread ?? 8,
    lanesPerThread: tuning.lanesPerThread ?? (cpu ? 16 : 4),
    guardCompensation: tuning.guardCompensation ?? !isSwiftShader(info),
  };
}

const isShared = (b: ArrayBufferLike) => Object.prototype.toString.call(b) === '[object SharedArrayBuffer]';

/** `work`'s outcome, or DEVICE_LOST as soon as the device is lost (the work then ends unobserved). */
function orLost<T>(state: DeviceState, work: Promise<T>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (state.lostError) reject(state.lostError);
    state.waiters.add(reject);
    work.then(resolve, reject).finally(() => state.waiters.delete(reject));
  });
}

/** Whether the device is lost within `ms` milliseconds (a failed map may come just before the loss). */
function lostWithin(state: DeviceState, ms: number): Promise<boolean> {
  if (state.lost) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      state.waiters.delete(done);
      resolve(state.lost);
    };
    const timer = setTimeout(done, ms);
    state.waiters.add(done);
  });
}

/** Splits a GPU-resident call's options into the layout (validated by core) and the pass's extras. */
function splitShape(shape: EncodeShape): { layout: unknown; timestampWrites?: GPUComputePassTimestampWrites } {
  if (typeof shape !== 'object' || shape === null) return { layout: shape };
  const { timestampWrites, ...layout } = shape;
  return { layout, timestampWrites };
}

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
  private state: DeviceState;
  private replacing: Promise<DeviceState> | undefined;
  private disposed = false;
  adapterInfo: GPUAdapterInfo | undefined;

  constructor(
    acquired: Acquired,
    private readonly options: WebGPUBackendOptions,
  ) {
    super();
    this.adapterInfo = acquired.adapterInfo;
    this.replaceable = acquired.replaceable;
    this.state = this.adopt(acquired.device);
  }

  private readonly replaceable: boolean;

  get device(): GPUDevice {
    return this.state.device;
  }

  private adopt(device: GPUDevice): DeviceState {
    trackDevice(device); // so that the GPU-resident API can refuse another device's buffers
    const state: DeviceState = {
      device,
      kernels: new Kernels(device, traitsOf(device, this.adapterInfo, this.options.tuning ?? {})),
      pool: new BufferPool(device),
      lost: false,
      waiters: new Set(),
      scratch: { retired: [] },
    };
    device.lost.then((info) => {
      state.lost = true;
      const error = new SoftmaxError('DEVICE_LOST', `the GPU device was lost (${info.reason}): ${info.message}`);
      state.lostError = error;
      for (const wake of [...state.waiters]) wake(error);
      state.waiters.clear();
    });
    return state;
  }

  /** The live device state; after a loss, a new device (when this backend created the first one). */
  private async live(): Promise<DeviceState> {
    if (this.disposed) throw disposedError();
    if (!this.state.lost) return this.state;
    if (!this.replaceable) {
      throw new SoftmaxError(
        'DEVICE_LOST',
        'the GPUDevice given to createWebGPUBackend was lost; create a new backend',
      );
    }
    if (!this.replacing) {
      this.replacing = acquireDevice(this.options)
        .then((acquired) => {
          if (this.disposed) {
            acquired.device.destroy(); // disposed while it was being requested
            throw disposedError();
          }
          this.adapterInfo = acquired.adapterInfo;
          this.state = this.adopt(acquired.device);
          return this.state;
        })
        .finally(() => {
          this.replacing = undefined;
        });
    }
    return this.replacing;
  }

  private liveSync(): DeviceState {
    if (this.disposed) throw disposedError();
    if (this.state.lost) {
      throw new SoftmaxError('DEVICE_LOST', 'the GPU device is lost; await a call or prepare() to get a new one');
    }
    return this.state;
  }

  /** After every await of a call: a disposed backend or a lost device creates nothing more. */
  private checkOpen(state: DeviceState): void {
    if (this.disposed) throw disposedError();
    if (state.lost) throw new SoftmaxError('DEVICE_LOST', 'the GPU device was lost');
  }

  /**
   * Runs one array call. The inputs are captured before this returns (never after an await): on
   * a live device `queue.writeBuffer` copies them into GPU buffers at once; while a lost device
   * is being replaced they are copied. So the result never depends on what the caller does to
   * its arrays once the call has returned its promise.
   */
  private arrayCall(
    op: Op,
    inputs: Float32Array[],
    rows: number,
    cols: number,
    params: OpParams,
    out: Float32Array,
  ): Promise<void> {
    if (this.disposed) return Promise.reject(disposedError());
    const current = this.state;
    if (!current.lost)
      return this.settle(current, this.begin(current, op, inputs, rows, cols, params), op, params, out);
    const copies = inputs.map((x) => x.slice());
    return this.live().then((state) =>
      this.settle(state, this.begin(state, op, copies, rows, cols, params), op, params, out),
    );
  }

  /**
   * Synchronously writes the inputs into pooled buffers and, when the pipelines are compiled
   * (every call but the first of a layout), also records and submits the work: one error scope.
   */
  private begin(
    state: DeviceState,
    op: Op,
    inputs: Float32Array[],
    rows: number,
    cols: number,
    params: OpParams,
  ): Call {
    const { device, kernels, pool } = state;
    const bytes = rows * cols * 4;
    // Each operand is one GPU buffer; past the limit createBuffer would only report a validation error.
    if (bytes > device.limits.maxBufferSize) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${rows} × ${cols} float32 values take ${bytes} bytes, more than one buffer of this device holds (maxBufferSize ${device.limits.maxBufferSize} bytes)`,
      );
    }
    const call: Call = { plan: kernels.plan(rows, cols), bytes, ins: [], held: [], errors: [] };
    let ok = false;
    device.pushErrorScope('validation');
    try {
      for (const input of inputs) {
        // The spec's writeBuffer takes shared memory too, Dawn's does not: such an input is copied.
        const x = isShared(input.buffer) ? input.slice() : input;
        const b = pool.acquire(bytes, STORAGE | COPY_DST);
        call.held.push(b);
        device.queue.writeBuffer(b, 0, x.buffer, x.byteOffset, bytes);
        call.ins.push(b);
      }
      if (kernels.ready(op, call.plan, params.temperature)) this.submit(state, call, op, params);
      ok = true;
    } finally {
      const popped = device.popErrorScope().catch(() => null);
      if (ok) call.errors.push(popped);
      else for (const b of call.held) b.destroy();
    }
    return call;
  }

  /** Records the call's compute pass and the copy to a staging buffer, and submits them. */
  private submit(state: DeviceState, call: Call, op: Op, params: OpParams): void {
    const { device, kernels, pool } = state;
    const { plan, bytes, ins, held } = call;
    const take = (size: number, usage: number) => {
      const b = pool.acquire(size, usage);
      held.push(b);
      return b;
    };
    const output = take(bytes, STORAGE | COPY_SRC);
    const staging = take(bytes, MAP_READ | COPY_DST);
    const pb = partBytes(plan);
    const parts = pb > 0 ? take(pb, STORAGE) : undefined;
    const encoder = device.createCommandEncoder();
    kernels.encode(encoder, op, plan, { a: ins[0], b: ins[1], out: output, parts }, params, { external: false });
    encoder.copyBufferToBuffer(output, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    call.staging = staging;
  }

  private async settle(state: DeviceState, call: Call, op: Op, params: OpParams, out: Float32Array): Promise<void> {
    const work = this.finish(state, call, op, params, out);
    try {
      await orLost(state, work);
    } catch (error) {
      // dispose() during the call (which may destroy the device, and so reject its map) is not a loss.
      if (this.disposed) {
        throw error instanceof SoftmaxError && error.code === 'BACKEND_UNAVAILABLE' ? error : disposedError(error);
      }
      if (error instanceof SoftmaxError) throw error;
      // A failed map or pipeline may come just before device.lost settles: give it a moment.
      if (await lostWithin(state, 100)) {
        throw new SoftmaxError('DEVICE_LOST', 'the GPU device was lost during the call', { cause: error });
      }
      throw new SoftmaxError('BACKEND_UNAVAILABLE', `the WebGPU call failed: ${String(error)}`, { cause: error });
    }
  }

  /** Submits the work if begin() could not (pipelines still compiling), then reads the result. */
  private async finish(state: DeviceState, call: Call, op: Op, params: OpParams, out: Float32Array): Promise<void> {
    const { device, kernels, pool } = state;
    try {
      if (!call.staging) {
        await kernels.prepare(op, call.plan, params.temperature);
        this.checkOpen(state);
        device.pushErrorScope('validation');
        try {
          this.submit(state, call, op, params);
        } finally {
          call.errors.push(device.popErrorScope().catch(() => null));
        }
      }
      const staging = call.staging as GPUBuffer;
      // A failed map is reported after the validation errors, which say why (settle() wraps it).
      const mapped = await staging.mapAsync(MAP_MODE_READ, 0, call.bytes).then(
        () => ({ ok: true as const }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      for (const invalid of call.errors) {
        const error = await invalid;
        if (error) throw new SoftmaxError('BACKEND_UNAVAILABLE', `WebGPU rejected the work: ${error.message}`);
      }
      if (!mapped.ok) throw mapped.error;
      out.set(new Float32Array(staging.getMappedRange(0, call.bytes)));
      staging.unmap();
    } finally {
      // Buffers of a lost device are dropped, not pooled (and a disposed pool destroys them);
      // a staging buffer still mapped (a failed call) is destroyed too.
      for (const b of call.held) {
        if (state.lost || b.mapState !== 'unmapped') b.destroy();
        else pool.release(b);
      }
    }
  }

  /** One validated call of an op of the table: its float32 operands in, its output read back. */
  run(call: OpCall): Promise<void> {
    const op = call.op.name as Op;
    const maskedZero = !OPS[op].backward && (call.options as unknown as ForwardCallOptions).fullyMasked === 'zero';
    const params = { temperature: call.options.temperature as number, maskedZero };
    return this.arrayCall(
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
    const state = await this.live();
    const jobs: Promise<void>[] = [];
    for (const { rows, cols } of shapes) {
      const plan = state.kernels.plan(rows, cols);
      // T = 1 and an ordinary T (pipelines differ by temperature class; a T past 2^±64 compiles on first use).
      for (const op of ops) for (const t of [1, 2]) jobs.push(state.kernels.prepare(op, plan, t));
    }
    await orLost(state, Promise.all(jobs));
  }

  /** A scratch buffer of the GPU-resident API that is at least `size` bytes. */
  private scratch(state: DeviceState, which: 'parts' | 'copy', size: number): GPUBuffer {
    const current = state.scratch[which];
    if (current && current.size >= size) return current;
    if (current) state.scratch.retired.push(current);
    const usage = which === 'parts' ? STORAGE : STORAGE | COPY_DST;
    const b = state.device.createBuffer({ size: BufferPool.bucket(size), usage });
    state.scratch[which] = b;
    return b;
  }

  private encodeOp(
    encoder: GPUCommandEncoder,
    op: Op,
    a: GPUBuffer,
    b: GPUBuffer | undefined,
    out: GPUBuffer,
    shape: EncodeShape,
  ): void {
    const state = this.liveSync();
    // Another device's objects must not reach Dawn: it reports the mismatch only asynchronously.
    // Every object of a device this backend created was recorded; a caller's device may own
    // buffers made before the backend existed, so only those recorded for another device fail.
    const { device } = state;
    checkEncoder(device, this.replaceable, encoder);
    const named: Array<[GPUBuffer, string]> = b
      ? [
          [a, 'y'],
          [b, 'dy'],
          [out, 'output'],
        ]
      : [
          [a, 'input'],
          [out, 'output'],
        ];
    const inPlace = a === out || b === out; // then that buffer is copied first
    for (const [buffer, name] of named) checkBuffer(device, this.replaceable, buffer, name, inPlace && buffer === out);
    const { layout, timestampWrites } = splitShape(shape);
    checkQuerySet(device, this.replaceable, timestampWrites);
    const { rows, cols, temperature, fullyMasked } = checkLayout(layout);
    const bytes = rows * cols * 4;
    for (const [buffer] of named) {
      if (buffer.size < bytes) {
        throw new SoftmaxError(
          'INVALID_SHAPE',
          `a buffer of ${buffer.size} bytes cannot hold ${rows} × ${cols} float32 values`,
        );
      }
    }
    if (rows === 0) {
      // Nothing to compute; an empty pass still writes the timestamps the caller asked for.
      if (timestampWrites) encoder.beginComputePass({ timestampWrites }).end();
      return;
    }
    const plan = state.kernels.plan(rows, cols);
    // Reading and writing one buffer in a dispatch is not allowed: in place goes through a copy.
    const copyOf = (buf: GPUBuffer) => {
      if (buf !== out) return buf;
      const c = this.scratch(state, 'copy', bytes);
      encoder.copyBufferToBuffer(buf, 0, c, 0, bytes);
      return c;
    };
    const pb = partBytes(plan);
    state.kernels.encode(
      encoder,
      op,
      plan,
      { a: copyOf(a), b: b && copyOf(b), out, parts: pb > 0 ? this.scratch(state, 'parts', pb) : undefined },
      { temperature, maskedZero: !OPS[op].backward && fullyMasked === 'zero' },
      { external: true, timestampWrites },
    );
  }

  encodeSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void {
    this.encodeOp(encoder, 'softmax', input, undefined, output, shape);
  }

  encodeLogSoftmax(encoder: GPUCommandEncoder, input: GPUBuffer, output: GPUBuffer, shape: EncodeShape): void {
    this.encodeOp(encoder, 'logSoftmax', input, undefined, output, shape);
  }

  encodeSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void {
    this.encodeOp(encoder, 'softmaxBackward', y, dy, output, shape);
  }

  encodeLogSoftmaxBackward(
    encoder: GPUCommandEncoder,
    y: GPUBuffer,
    dy: GPUBuffer,
    output: GPUBuffer,
    shape: EncodeShape,
  ): void {
    this.encodeOp(encoder, 'logSoftmaxBackward', y, dy, output, shape);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.state;
    s.pool.destroyAll();
    s.kernels.destroy();
    for (const b of [s.scratch.parts, s.scratch.copy, ...s.scratch.retired]) b?.destroy();
    if (this.replaceable) s.device.destroy();
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
  return new Impl(acquired, checked);
}

export type { Plan, Tuning, WebGPUBackendOptions };
