import { SoftmaxError } from '@softmax/core';
import type { OpCall, OperandArray } from '@softmax/core/backend';
import { type DeviceSlot, type DeviceState, disposedError, lostWithin, orLost } from './device-state.js';
import { partBytes } from './kernels.js';
import { type GpuOp, operandBytes } from './ops.js';
import type { OpParams } from './params.js';
import type { Plan } from './plan.js';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE } from './usage.js';

/**
 * What one array call uploads, computes and reads back, by its GPU op's operands (GpuOp.inputs
 * and outputs). By default: every input uploaded, every output computed and read back (one each);
 * an op with optional operands (crossEntropy) describes its calls itself (ArrayLayouts in backend.ts).
 */
export interface ArrayLayout {
  params: OpParams;
  /** Per input operand: the array to upload, or undefined (absent: a dummy is bound). */
  uploads: readonly (ArrayBufferView | undefined)[];
  /**
   * Per output operand: undefined when absent, else the array it is read back into (none: computed
   * on the GPU only) and, for an output written over an input's buffer, that input's index.
   */
  outputs: readonly ({ read?: OperandArray; overInput?: number } | undefined)[];
  /** A value for the op's scale record in the partials (GpuOp.scaleRecord), written before the work. */
  scale?: number;
}

export type ArrayLayoutOf = (call: OpCall, op: GpuOp, plan: Plan) => ArrayLayout;

/** The default layout: the call's inputs and outputs, each read back. */
function defaultLayout(call: OpCall, op: GpuOp): ArrayLayout {
  return {
    params: op.params(call.options),
    uploads: call.inputs as Float32Array[],
    outputs: call.outputs.map((read) => ({ read })),
  };
}

/**
 * The array API's transport: a call's inputs are uploaded into pooled buffers, its work recorded
 * and submitted, and its output copied into a staging buffer and read back into the caller's
 * array. The common case does everything up to the readback synchronously, in one error scope:
 * small calls are dominated by such host work, not by the GPU.
 */

/** One array call on one device: its buffers, and the validation errors of its work. */
interface Call {
  op: GpuOp;
  layout: ArrayLayout;
  plan: Plan;
  rows: number;
  cols: number;
  ins: (GPUBuffer | undefined)[];
  /** The partials, when the plan or the op needs them (acquired, and the scale written, with the inputs). */
  parts?: GPUBuffer;
  /** Every pooled buffer the call holds: released (or destroyed) when it ends. */
  held: GPUBuffer[];
  /** Set once the work is submitted: each output read back is copied into its own, with its array. */
  staging?: Array<{ buffer: GPUBuffer; out: OperandArray }>;
  /** The popped validation scopes around the call's GPU work. */
  errors: Array<Promise<GPUError | null>>;
}

const isShared = (b: ArrayBufferLike) => Object.prototype.toString.call(b) === '[object SharedArrayBuffer]';

/**
 * Runs one array call. The inputs are captured before this returns (never after an await): on
 * a live device `queue.writeBuffer` copies them into GPU buffers at once; while a lost device
 * is being replaced they are copied. So the result never depends on what the caller does to
 * its arrays once the call has returned its promise.
 */
export function arrayCall(slot: DeviceSlot, op: GpuOp, call: OpCall, layoutOf?: ArrayLayoutOf): Promise<void> {
  if (slot.disposed) return Promise.reject(disposedError());
  const layoutFor = (state: DeviceState) =>
    layoutOf ? layoutOf(call, op, state.kernels.plan(call.rows, call.cols, op)) : defaultLayout(call, op);
  const current = slot.state;
  if (!current.lost) return settle(slot, current, begin(current, op, layoutFor(current), call));
  const copies = layoutFor(current).uploads.map((x) => (x ? copyOf(x) : undefined));
  // The new device's plan may differ: the layout is made again there, over the copies.
  return slot
    .live()
    .then((state) => settle(slot, state, begin(state, op, { ...layoutFor(state), uploads: copies }, call)));
}

const copyOf = (x: ArrayBufferView) => (x as Float32Array).slice();

/**
 * Synchronously writes the inputs into pooled buffers and, when the pipelines are compiled
 * (every call but the first of a layout), also records and submits the work: one error scope.
 */
function begin(
  state: DeviceState,
  op: GpuOp,
  layout: ArrayLayout,
  { rows, cols }: { rows: number; cols: number },
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
  const call: Call = { op, layout, plan: kernels.plan(rows, cols, op), rows, cols, ins: [], held: [], errors: [] };
  const overInput = new Set(layout.outputs.map((o) => o?.overInput));
  let ok = false;
  device.pushErrorScope('validation');
  try {
    layout.uploads.forEach((input, i) => {
      if (!input) {
        call.ins.push(undefined);
        return;
      }
      // A 'buffer' operand (an op's tables) is as long as its array.
      const size = op.inputs[i].shape === 'buffer' ? input.byteLength : operandBytes(op.inputs[i], rows, cols);
      // The spec's writeBuffer takes shared memory too, Dawn's does not: such an input is copied.
      const x = isShared(input.buffer) ? copyOf(input) : input;
      // An output written over an input (in place) is read back from the input's buffer.
      const b = pool.acquire(size, STORAGE | COPY_DST | (overInput.has(i) ? COPY_SRC : 0));
      call.held.push(b);
      device.queue.writeBuffer(b, 0, x.buffer, x.byteOffset, size);
      call.ins.push(b);
    });
    const pb = partBytes(call.plan, op);
    if (pb > 0) {
      call.parts = pool.acquire(pb, STORAGE | (layout.scale === undefined ? 0 : COPY_DST));
      call.held.push(call.parts);
      if (layout.scale !== undefined) {
        // The scale record's `rest` word (see Partial in row_stats.wgsl).
        device.queue.writeBuffer(call.parts, pb - 16, new Float32Array([0, 0, layout.scale, 0]));
      }
    }
    if (kernels.ready(op, call.plan, layout.params)) submit(state, call);
    ok = true;
  } finally {
    const popped = device.popErrorScope().catch(() => null);
    if (ok) call.errors.push(popped);
    else for (const b of call.held) b.destroy();
  }
  return call;
}

/** Records the call's compute pass and the copies to staging buffers, and submits them. */
function submit(state: DeviceState, call: Call): void {
  const { device, kernels, pool } = state;
  const { op, plan, rows, cols, held } = call;
  const take = (size: number, usage: number) => {
    const b = pool.acquire(size, usage);
    held.push(b);
    return b;
  };
  const outputs: (GPUBuffer | undefined)[] = [];
  const staging: Array<{ buffer: GPUBuffer; out: OperandArray }> = [];
  const copies: Array<[GPUBuffer, GPUBuffer, number]> = [];
  op.outputs.forEach((o, i) => {
    const want = call.layout.outputs[i];
    if (!want) {
      outputs.push(undefined);
      return;
    }
    const size = o.shape === 'buffer' ? (want.read?.length ?? 0) * 4 : operandBytes(o, rows, cols);
    // Written over an input, the output is that input's binding (its own is left to a dummy).
    const over = want.overInput;
    const b = over === undefined ? take(size, STORAGE | COPY_SRC) : (call.ins[over] as GPUBuffer);
    outputs.push(over === undefined ? b : undefined);
    if (want.read) {
      const s = take(size, MAP_READ | COPY_DST);
      staging.push({ buffer: s, out: want.read });
      copies.push([b, s, size]);
    }
  });
  const encoder = device.createCommandEncoder();
  kernels.encode(encoder, op, plan, { inputs: call.ins, outputs, parts: call.parts }, call.layout.params, {
    external: false,
  });
  for (const [from, to, size] of copies) encoder.copyBufferToBuffer(from, 0, to, 0, size);
  device.queue.submit([encoder.finish()]);
  call.staging = staging;
}

/** Awaits the call, turning what may go wrong into the backend's errors (a loss, dispose, rejected work). */
async function settle(slot: DeviceSlot, state: DeviceState, call: Call): Promise<void> {
  const work = finish(slot, state, call);
  try {
    await orLost(state, work);
  } catch (error) {
    // dispose() during the call (which may destroy the device, and so reject its map) is not a loss.
    if (slot.disposed) {
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

/** Submits the work if begin() could not (pipelines still compiling), then reads the results. */
async function finish(slot: DeviceSlot, state: DeviceState, call: Call): Promise<void> {
  const { device, kernels, pool } = state;
  try {
    if (!call.staging) {
      await kernels.prepare(call.op, call.plan, call.layout.params);
      slot.checkOpen(state);
      device.pushErrorScope('validation');
      try {
        submit(state, call);
      } finally {
        call.errors.push(device.popErrorScope().catch(() => null));
      }
    }
    const staging = call.staging as Array<{ buffer: GPUBuffer; out: OperandArray }>;
    // 32 bits on the GPU, whatever the array (crossEntropy's row losses are a Float64Array).
    const bytesOf = (i: number) => staging[i].out.length * 4;
    const map = (i: number) => staging[i].buffer.mapAsync(MAP_MODE_READ, 0, bytesOf(i));
    // A failed map is reported after the validation errors, which say why (settle() wraps it).
    // (A single output's map is awaited alone, without Promise.all's extra turns.)
    const mapped = await (staging.length === 1 ? map(0) : Promise.all(staging.map((_, i) => map(i)))).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    for (const invalid of call.errors) {
      const error = await invalid;
      if (error) throw new SoftmaxError('BACKEND_UNAVAILABLE', `WebGPU rejected the work: ${error.message}`);
    }
    if (!mapped.ok) throw mapped.error;
    staging.forEach(({ buffer, out }, i) => {
      // 32-bit values as the GPU wrote them: float32, or int32 (sample's tokens and ids).
      const View = out instanceof Int32Array ? Int32Array : Float32Array;
      out.set(new View(buffer.getMappedRange(0, bytesOf(i))));
      buffer.unmap();
    });
  } finally {
    // Buffers of a lost device are dropped, not pooled (and a disposed pool destroys them);
    // a staging buffer still mapped (a failed call) is destroyed too.
    for (const b of call.held) {
      if (state.lost || b.mapState !== 'unmapped') b.destroy();
      else pool.release(b);
    }
  }
}
