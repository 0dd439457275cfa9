import { SoftmaxError } from '@softmax/core';
import type { OpCall } from '@softmax/core/backend';
import { type DeviceSlot, type DeviceState, disposedError, lostWithin, orLost } from './device-state.js';
import { partBytes } from './kernels.js';
import { type GpuOp, operandBytes } from './ops.js';
import type { OpParams } from './params.js';
import type { Plan } from './plan.js';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE } from './usage.js';

/**
 * The array API's transport: a call's inputs are uploaded into pooled buffers, its work recorded
 * and submitted, and its output copied into a staging buffer and read back into the caller's
 * array. The common case does everything up to the readback synchronously, in one error scope:
 * small calls are dominated by such host work, not by the GPU.
 */

/** One array call on one device: its buffers, and the validation errors of its work. */
interface Call {
  op: GpuOp;
  params: OpParams;
  plan: Plan;
  rows: number;
  cols: number;
  ins: GPUBuffer[];
  /** Every pooled buffer the call holds: released (or destroyed) when it ends. */
  held: GPUBuffer[];
  /** Set once the work is submitted: each output is copied into its own. */
  staging?: GPUBuffer[];
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
export function arrayCall(slot: DeviceSlot, op: GpuOp, call: OpCall): Promise<void> {
  if (slot.disposed) return Promise.reject(disposedError());
  const inputs = call.inputs as Float32Array[];
  const outputs = call.outputs as Float32Array[];
  const params = op.params(call.options);
  const current = slot.state;
  if (!current.lost) return settle(slot, current, begin(current, op, params, inputs, call), outputs);
  const copies = inputs.map((x) => x.slice());
  return slot.live().then((state) => settle(slot, state, begin(state, op, params, copies, call), outputs));
}

/**
 * Synchronously writes the inputs into pooled buffers and, when the pipelines are compiled
 * (every call but the first of a layout), also records and submits the work: one error scope.
 */
function begin(
  state: DeviceState,
  op: GpuOp,
  params: OpParams,
  inputs: Float32Array[],
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
  const call: Call = { op, params, plan: kernels.plan(rows, cols), rows, cols, ins: [], held: [], errors: [] };
  let ok = false;
  device.pushErrorScope('validation');
  try {
    for (let i = 0; i < inputs.length; i++) {
      const size = operandBytes(op.inputs[i], rows, cols);
      // The spec's writeBuffer takes shared memory too, Dawn's does not: such an input is copied.
      const x = isShared(inputs[i].buffer) ? inputs[i].slice() : inputs[i];
      const b = pool.acquire(size, STORAGE | COPY_DST);
      call.held.push(b);
      device.queue.writeBuffer(b, 0, x.buffer, x.byteOffset, size);
      call.ins.push(b);
    }
    if (kernels.ready(op, call.plan, params.temperature)) submit(state, call);
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
  const outputs: GPUBuffer[] = [];
  const staging: GPUBuffer[] = [];
  for (const o of op.outputs) {
    const size = operandBytes(o, rows, cols);
    outputs.push(take(size, STORAGE | COPY_SRC));
    staging.push(take(size, MAP_READ | COPY_DST));
  }
  const pb = partBytes(plan);
  const parts = pb > 0 ? take(pb, STORAGE) : undefined;
  const encoder = device.createCommandEncoder();
  kernels.encode(encoder, op, plan, { inputs: call.ins, outputs, parts }, call.params, { external: false });
  for (let i = 0; i < outputs.length; i++) {
    encoder.copyBufferToBuffer(outputs[i], 0, staging[i], 0, operandBytes(op.outputs[i], rows, cols));
  }
  device.queue.submit([encoder.finish()]);
  call.staging = staging;
}

/** Awaits the call, turning what may go wrong into the backend's errors (a loss, dispose, rejected work). */
async function settle(slot: DeviceSlot, state: DeviceState, call: Call, out: Float32Array[]): Promise<void> {
  const work = finish(slot, state, call, out);
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
async function finish(slot: DeviceSlot, state: DeviceState, call: Call, out: Float32Array[]): Promise<void> {
  const { device, kernels, pool } = state;
  try {
    if (!call.staging) {
      await kernels.prepare(call.op, call.plan, call.params.temperature);
      slot.checkOpen(state);
      device.pushErrorScope('validation');
      try {
        submit(state, call);
      } finally {
        call.errors.push(device.popErrorScope().catch(() => null));
      }
    }
    const staging = call.staging as GPUBuffer[];
    const map = (i: number) => staging[i].mapAsync(MAP_MODE_READ, 0, out[i].byteLength);
    // A failed map is reported after the validation errors, which say why (settle() wraps it).
    // (Every op has one output so far: its map is awaited alone, without Promise.all's extra turns.)
    const mapped = await (staging.length === 1 ? map(0) : Promise.all(staging.map((_, i) => map(i)))).then(
      () => ({ ok: true as const }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    for (const invalid of call.errors) {
      const error = await invalid;
      if (error) throw new SoftmaxError('BACKEND_UNAVAILABLE', `WebGPU rejected the work: ${error.message}`);
    }
    if (!mapped.ok) throw mapped.error;
    staging.forEach((b, i) => {
      out[i].set(new Float32Array(b.getMappedRange(0, out[i].byteLength)));
      b.unmap();
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
