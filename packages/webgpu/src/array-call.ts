import { SoftmaxError } from '@softmax/core';
import { type DeviceSlot, type DeviceState, disposedError, lostWithin, orLost } from './device-state.js';
import { type OpParams, partBytes } from './kernels.js';
import type { Plan } from './plan.js';
import type { Op } from './shaders.js';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE } from './usage.js';

/**
 * The array API's transport: a call's inputs are uploaded into pooled buffers, its work recorded
 * and submitted, and its output copied into a staging buffer and read back into the caller's
 * array. The common case does everything up to the readback synchronously, in one error scope:
 * small calls are dominated by such host work, not by the GPU.
 */

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

const isShared = (b: ArrayBufferLike) => Object.prototype.toString.call(b) === '[object SharedArrayBuffer]';

/**
 * Runs one array call. The inputs are captured before this returns (never after an await): on
 * a live device `queue.writeBuffer` copies them into GPU buffers at once; while a lost device
 * is being replaced they are copied. So the result never depends on what the caller does to
 * its arrays once the call has returned its promise.
 */
export function arrayCall(
  slot: DeviceSlot,
  op: Op,
  inputs: Float32Array[],
  rows: number,
  cols: number,
  params: OpParams,
  out: Float32Array,
): Promise<void> {
  if (slot.disposed) return Promise.reject(disposedError());
  const current = slot.state;
  if (!current.lost) return settle(slot, current, begin(current, op, inputs, rows, cols, params), op, params, out);
  const copies = inputs.map((x) => x.slice());
  return slot
    .live()
    .then((state) => settle(slot, state, begin(state, op, copies, rows, cols, params), op, params, out));
}

/**
 * Synchronously writes the inputs into pooled buffers and, when the pipelines are compiled
 * (every call but the first of a layout), also records and submits the work: one error scope.
 */
function begin(state: DeviceState, op: Op, inputs: Float32Array[], rows: number, cols: number, params: OpParams): Call {
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
    if (kernels.ready(op, call.plan, params.temperature)) submit(state, call, op, params);
    ok = true;
  } finally {
    const popped = device.popErrorScope().catch(() => null);
    if (ok) call.errors.push(popped);
    else for (const b of call.held) b.destroy();
  }
  return call;
}

/** Records the call's compute pass and the copy to a staging buffer, and submits them. */
function submit(state: DeviceState, call: Call, op: Op, params: OpParams): void {
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

/** Awaits the call, turning what may go wrong into the backend's errors (a loss, dispose, rejected work). */
async function settle(
  slot: DeviceSlot,
  state: DeviceState,
  call: Call,
  op: Op,
  params: OpParams,
  out: Float32Array,
): Promise<void> {
  const work = finish(slot, state, call, op, params, out);
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

/** Submits the work if begin() could not (pipelines still compiling), then reads the result. */
async function finish(
  slot: DeviceSlot,
  state: DeviceState,
  call: Call,
  op: Op,
  params: OpParams,
  out: Float32Array,
): Promise<void> {
  const { device, kernels, pool } = state;
  try {
    if (!call.staging) {
      await kernels.prepare(op, call.plan, params.temperature);
      slot.checkOpen(state);
      device.pushErrorScope('validation');
      try {
        submit(state, call, op, params);
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
