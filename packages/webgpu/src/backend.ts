import {
  allocateResult,
  type Backend,
  type BackwardOptions,
  checkBackward,
  checkForward,
  type FloatArray,
  type FullyMasked,
  type OutputOf,
  SoftmaxError,
  type SoftmaxInput,
  type SoftmaxOptions,
} from '@softmax/core';
import { type Acquired, acquireDevice, type DeviceSource } from './device.js';
import { Kernels, partBytes } from './kernels.js';
import type { DeviceTraits, Plan } from './plan.js';
import { BufferPool } from './pool.js';
import type { Op } from './shaders.js';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE } from './usage.js';

/** Knobs for tuning and for tests (e.g. forcing chunked or 2-D dispatches on small inputs). */
export interface Tuning {
  /** Workgroups a call aims for: long rows split into segments below it. Default 256 (8 on CPU adapters). */
  targetWorkgroups?: number;
  /** Fewest lanes (vec4 or scalar) per thread in a segment of a split row. Default 8. */
  minLanesPerThread?: number;
  /** Lanes (vec4 or scalar) per thread that sets the threads per row. Default 4 (16 on CPU adapters). */
  lanesPerThread?: number;
  /** Cap on the bytes bound at once (default: the device's maxStorageBufferBindingSize). */
  maxBindingBytes?: number;
  /** Cap on workgroups per dispatch dimension (default: the device's limit). */
  maxWorkgroupsPerDimension?: number;
  /** Set false to use workgroup-memory reductions even where subgroups exist. */
  subgroups?: boolean;
  /** Cap on the threads that share one row or segment. Default 256 (the subgroup size, or 1, on CPU adapters). */
  maxUnitThreads?: number;
  /** Fewest threads per workgroup. Default 64 (1 on CPU adapters). */
  minWorkgroupSize?: number;
  /**
   * Keep the shader compiler from cancelling the terms of compensated sums (TwoSum, Kahan), at
   * one integer OR each. Default on, except on SwiftShader, which keeps float order as written;
   * Mesa's lavapipe does not (it rewrites (a + b) − a as b).
   */
  guardCompensation?: boolean;
}

export interface WebGPUBackendOptions extends DeviceSource {
  tuning?: Tuning;
}

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

export interface WebGPUBackend extends Backend {
  readonly name: 'webgpu';
  readonly dtypes: readonly ['float32'];
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
  /** Rejects with DEVICE_LOST when the device is lost: every call in flight races it. */
  lostSignal: Promise<never>;
  /** Scratch of the GPU-resident API; replaced ones stay alive until dispose (an encoder may still use them). */
  scratch: { parts?: GPUBuffer; copy?: GPUBuffer; retired: GPUBuffer[] };
}

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

async function isSettled(p: Promise<unknown>): Promise<boolean> {
  const marker = {};
  return (await Promise.race([p, Promise.resolve(marker)])) !== marker;
}

function checkShape(shape: EncodeShape, buffers: GPUBuffer[]): { rows: number; cols: number; temperature: number } {
  const { rows, cols } = shape;
  if (!Number.isSafeInteger(rows) || rows <= 0 || !Number.isSafeInteger(cols) || cols <= 0) {
    throw new SoftmaxError('INVALID_SHAPE', `rows and cols must be positive integers, got ${rows} × ${cols}`);
  }
  for (const b of buffers) {
    if (b.size < rows * cols * 4) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `a buffer of ${b.size} bytes cannot hold ${rows} × ${cols} float32 values`,
      );
    }
  }
  const temperature = shape.temperature ?? 1;
  if (!Number.isFinite(temperature) || temperature <= 0) {
    throw new SoftmaxError('INVALID_OPTION', `temperature must be a finite number > 0, got ${temperature}`);
  }
  if (shape.fullyMasked !== undefined && shape.fullyMasked !== 'nan' && shape.fullyMasked !== 'zero') {
    throw new SoftmaxError('INVALID_OPTION', `fullyMasked must be 'nan' or 'zero', got ${String(shape.fullyMasked)}`);
  }
  return { rows, cols, temperature };
}

class Impl implements WebGPUBackend {
  readonly name = 'webgpu' as const;
  readonly dtypes = ['float32'] as const;
  private state: DeviceState;
  private replacing: Promise<DeviceState> | undefined;
  private disposed = false;
  adapterInfo: GPUAdapterInfo | undefined;

  constructor(
    acquired: Acquired,
    private readonly options: WebGPUBackendOptions,
  ) {
    this.adapterInfo = acquired.adapterInfo;
    this.replaceable = acquired.replaceable;
    this.gpu = acquired.gpu;
    this.state = this.adopt(acquired.device);
  }

  private readonly replaceable: boolean;
  /** Held for the backend's lifetime: a collected Dawn instance takes its devices down with it. */
  private gpu: GPU | undefined;

  get device(): GPUDevice {
    return this.state.device;
  }

  private adopt(device: GPUDevice): DeviceState {
    let reject!: (e: unknown) => void;
    const lostSignal = new Promise<never>((_, r) => {
      reject = r;
    });
    lostSignal.catch(() => {}); // observed by the calls that race it
    const state: DeviceState = {
      device,
      kernels: new Kernels(device, traitsOf(device, this.adapterInfo, this.options.tuning ?? {})),
      pool: new BufferPool(device),
      lost: false,
      lostSignal,
      scratch: { retired: [] },
    };
    device.lost.then((info) => {
      state.lost = true;
      reject(new SoftmaxError('DEVICE_LOST', `the GPU device was lost (${info.reason}): ${info.message}`));
    });
    return state;
  }

  /** The live device state; after a loss, a new device (when this backend created the first one). */
  private async live(): Promise<DeviceState> {
    if (this.disposed) throw new SoftmaxError('DEVICE_LOST', 'the WebGPU backend was disposed');
    if (!this.state.lost) return this.state;
    if (!this.replaceable) {
      throw new SoftmaxError(
        'DEVICE_LOST',
        'the GPUDevice given to createWebGPUBackend was lost; create a new backend',
      );
    }
    if (!this.replacing) {
      this.replacing = acquireDevice({ ...this.options, gpu: this.options.gpu ?? this.gpu })
        .then((acquired) => {
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
    if (this.disposed || this.state.lost) {
      throw new SoftmaxError(
        'DEVICE_LOST',
        'the GPU device is lost or the backend disposed; await a call or prepare() to get a new one',
      );
    }
    return this.state;
  }

  private async run(
    op: Op,
    inputs: Float32Array[],
    rows: number,
    cols: number,
    params: { temperature: number; maskedZero: boolean },
    out: Float32Array,
  ): Promise<void> {
    const state = await this.live();
    const work = this.runOn(state, op, inputs, rows, cols, params, out);
    try {
      await Promise.race([work, state.lostSignal]);
    } catch (error) {
      if (error instanceof SoftmaxError) throw error;
      // A failed map or pipeline may come just before device.lost settles: give it a moment.
      await Promise.race([state.device.lost, new Promise((resolve) => setTimeout(resolve, 100))]);
      if (state.lost || (await isSettled(state.device.lost))) {
        throw new SoftmaxError('DEVICE_LOST', 'the GPU device was lost during the call', { cause: error });
      }
      throw error;
    }
  }

  private async runOn(
    state: DeviceState,
    op: Op,
    inputs: Float32Array[],
    rows: number,
    cols: number,
    params: { temperature: number; maskedZero: boolean },
    out: Float32Array,
  ): Promise<void> {
    const { device, kernels, pool } = state;
    const plan = kernels.plan(rows, cols);
    await kernels.prepare(op, plan);
    if (state.lost) throw new SoftmaxError('DEVICE_LOST', 'the GPU device was lost');
    const bytes = rows * cols * 4;
    const held: GPUBuffer[] = [];
    const take = (size: number, usage: number) => {
      const b = pool.acquire(size, usage);
      held.push(b);
      return b;
    };
    try {
      const ins = inputs.map((x) => {
        const b = take(bytes, STORAGE | COPY_DST);
        device.queue.writeBuffer(b, 0, x.buffer, x.byteOffset, bytes);
        return b;
      });
      const output = take(bytes, STORAGE | COPY_SRC);
      const staging = take(bytes, MAP_READ | COPY_DST);
      const pb = partBytes(plan);
      const parts = pb > 0 ? take(pb, STORAGE) : undefined;
      device.pushErrorScope('validation');
      const encoder = device.createCommandEncoder();
      kernels.encode(encoder, op, plan, { a: ins[0], b: ins[1], out: output, parts }, params);
      encoder.copyBufferToBuffer(output, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      const invalid = device.popErrorScope();
      await staging.mapAsync(MAP_MODE_READ, 0, bytes);
      const error = await invalid;
      if (error) {
        staging.unmap();
        throw new Error(`@softmax/webgpu: ${error.message}`);
      }
      out.set(new Float32Array(staging.getMappedRange(0, bytes)));
      staging.unmap();
    } finally {
      // Buffers of a lost device are dropped, not pooled.
      for (const b of held) {
        if (state.lost || b.mapState !== 'unmapped') b.destroy();
        else pool.release(b);
      }
    }
  }

  private async forward<T extends SoftmaxInput>(op: Op, x: T, options?: SoftmaxOptions): Promise<OutputOf<T>> {
    const req = checkForward(x, options, this.dtypes);
    const out = allocateResult(req) as Float32Array;
    if (req.rows * req.cols > 0) {
      await this.run(
        op,
        [req.x as Float32Array],
        req.rows,
        req.cols,
        {
          temperature: req.temperature,
          maskedZero: req.fullyMasked === 'zero',
        },
        out,
      );
    }
    return out as FloatArray as OutputOf<T>;
  }

  private async backward<T extends SoftmaxInput>(op: Op, y: T, dy: T, options?: BackwardOptions): Promise<OutputOf<T>> {
    const req = checkBackward(y, dy, options, this.dtypes);
    const out = allocateResult(req) as Float32Array;
    if (req.rows * req.cols > 0) {
      await this.run(
        op,
        [req.y as Float32Array, req.dy as Float32Array],
        req.rows,
        req.cols,
        {
          temperature: req.temperature,
          maskedZero: false,
        },
        out,
      );
    }
    return out as FloatArray as OutputOf<T>;
  }

  softmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): Promise<OutputOf<T>> {
    return this.forward('softmax', x, options);
  }

  logSoftmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): Promise<OutputOf<T>> {
    return this.forward('logSoftmax', x, options);
  }

  softmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): Promise<OutputOf<T>> {
    return this.backward('softmaxBackward', y, dy, options);
  }

  logSoftmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): Promise<OutputOf<T>> {
    return this.backward('logSoftmaxBackward', y, dy, options);
  }

  async prepare(
    shapes: ReadonlyArray<{ rows: number; cols: number }> = DEFAULT_PREPARE_SHAPES,
    ops: readonly Op[] = ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'],
  ): Promise<void> {
    const state = await this.live();
    const jobs: Promise<void>[] = [];
    for (const { rows, cols } of shapes) {
      const plan = state.kernels.plan(rows, cols);
      for (const op of ops) jobs.push(state.kernels.prepare(op, plan));
    }
    await Promise.race([Promise.all(jobs), state.lostSignal]);
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
    const { rows, cols, temperature } = checkShape(shape, b ? [a, b, out] : [a, out]);
    const plan = state.kernels.plan(rows, cols);
    const bytes = rows * cols * 4;
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
      { temperature, maskedZero: shape.fullyMasked === 'zero' },
      shape.timestampWrites,
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
 * BACKEND_UNAVAILABLE, and the reason, when there is no usable adapter.
 */
export async function createWebGPUBackend(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  const acquired = await acquireDevice(options);
  return new Impl(acquired, options);
}

export type { Plan };
