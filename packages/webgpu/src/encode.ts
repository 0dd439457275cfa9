import { type FullyMasked, SoftmaxError } from '@softmax/core';
import { checkLayout, describeValue } from '@softmax/core/backend';
import type { DeviceSlot, DeviceState } from './device-state.js';
import { partBytes } from './kernels.js';
import { type GpuOp, gpuOp, type Operand, operandBytes } from './ops.js';
import { checkBuffer, checkEncoder, checkQuerySet } from './ownership.js';
import { BufferPool } from './pool.js';
import { COPY_DST, STORAGE } from './usage.js';

/**
 * The GPU-resident API: an op recorded into the caller's command encoder over the caller's
 * buffers, so a WebGPU pipeline never leaves the GPU. Everything is checked before anything is
 * recorded: WebGPU reports misuse only asynchronously (and Dawn may crash on another device's
 * buffers), so a bad argument throws a SoftmaxError and leaves the encoder as it was.
 */

/**
 * Shape and options of a GPU-resident call. Each buffer holds its operand from byte 0: rows × cols
 * float32 values, or one per row (logSumExp's output).
 */
export interface EncodeShape {
  /** Rows (≥ 0; 0 records nothing). */
  rows: number;
  /** Row length (> 0). */
  cols: number;
  /** T > 0; default 1. */
  temperature?: number;
  /** Forward only: what a row of only −Infinity gives ('nan' by default). */
  fullyMasked?: FullyMasked;
  /** Optional timestamp writes for the compute pass (needs the 'timestamp-query' feature). */
  timestampWrites?: GPUComputePassTimestampWrites;
}

/** The buffers of a GPU-resident call, in the order of the op's declaration in core (x; or y, dy). */
export interface EncodeBuffers {
  /** The op's operands, in declaration order. */
  inputs: readonly GPUBuffer[];
  /** Its output (one for every op but crossEntropy). */
  outputs: readonly GPUBuffer[];
}

/** Splits a GPU-resident call's options into the layout (validated by core) and the pass's extras. */
function splitShape(shape: EncodeShape): { layout: unknown; timestampWrites?: GPUComputePassTimestampWrites } {
  if (typeof shape !== 'object' || shape === null) return { layout: shape };
  const { timestampWrites, ...layout } = shape;
  return { layout, timestampWrites };
}

/**
 * A scratch buffer of the GPU-resident API that is at least `size` bytes: the partials of split
 * rows, the k-th copy of an input that is also an output, a per-row output the caller did not
 * ask for (written, never read), or sample's processed copy of the logits ('work'). Grown as needed; a replaced one is kept until dispose, since an
 * encoder not yet submitted may still use it.
 */
export function scratch(state: DeviceState, which: 'parts' | 'rows' | 'work' | number, size: number): GPUBuffer {
  const { scratch: s } = state;
  const current = typeof which === 'number' ? s.copies[which] : s[which];
  if (current && current.size >= size) return current;
  if (current) s.retired.push(current);
  const b = state.device.createBuffer({
    size: BufferPool.bucket(size),
    usage: typeof which === 'number' ? STORAGE | COPY_DST : STORAGE,
  });
  if (typeof which === 'number') s.copies[which] = b;
  else s[which] = b;
  return b;
}

/**
 * What error messages call each buffer: a lone input is 'input' and a lone output 'output' (as
 * the per-op methods have always said); several go by core's names (y, dy).
 */
const labelOf = (operands: readonly Operand[], i: number, lone: string) =>
  operands.length === 1 ? lone : operands[i].name;

function checkBufferList(value: unknown, operands: readonly Operand[], op: GpuOp, kind: string): GPUBuffer[] {
  if (!Array.isArray(value) || value.length !== operands.length) {
    const names = operands.map((o) => o.name).join(', ');
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${op.name} takes ${operands.length} ${kind} buffer${operands.length === 1 ? '' : 's'} (${names}), got ${describeValue(value)}`,
    );
  }
  return value as GPUBuffer[];
}

/** Checks and records one op into `encoder` over the caller's buffers. */
export function encodeOp(
  slot: DeviceSlot,
  name: unknown,
  encoder: GPUCommandEncoder,
  buffers: EncodeBuffers,
  shape: EncodeShape,
): void {
  const state = slot.liveSync();
  const op = gpuOp(name);
  // Another device's objects must not reach Dawn: it reports the mismatch only asynchronously.
  // Every object of a device this backend created was recorded; a caller's device may own
  // buffers made before the backend existed, so only those recorded for another device fail.
  const { device } = state;
  checkEncoder(device, slot.replaceable, encoder);
  if (typeof buffers !== 'object' || buffers === null) {
    throw new SoftmaxError('INVALID_INPUT', `buffers must be { inputs, outputs }, got ${describeValue(buffers)}`);
  }
  const inputs = checkBufferList(buffers.inputs, op.inputs, op, 'input');
  const outputs = checkBufferList(buffers.outputs, op.outputs, op, 'output');
  // An input that is also an output is copied first (one dispatch may not read and write a buffer).
  const aliased = inputs.filter((b) => outputs.includes(b));
  const named: Array<[GPUBuffer, string, Operand]> = [
    ...inputs.map((b, i): [GPUBuffer, string, Operand] => [b, labelOf(op.inputs, i, 'input'), op.inputs[i]]),
    ...outputs.map((b, i): [GPUBuffer, string, Operand] => [b, labelOf(op.outputs, i, 'output'), op.outputs[i]]),
  ];
  for (const [buffer, label] of named) {
    checkBuffer(device, slot.replaceable, buffer, label, aliased.includes(buffer));
  }
  const { layout, timestampWrites } = splitShape(shape);
  checkQuerySet(device, slot.replaceable, timestampWrites);
  const checked = checkLayout(layout);
  const { rows, cols } = checked;
  for (const [buffer, , operand] of named) {
    if (buffer.size < operandBytes(operand, rows, cols)) {
      const values =
        operand.shape === 'matrix' ? `${rows} × ${cols} float32 values` : `${rows} float32 values (one per row)`;
      throw new SoftmaxError('INVALID_SHAPE', `a buffer of ${buffer.size} bytes cannot hold ${values}`);
    }
  }
  if (rows === 0) {
    // Nothing to compute; an empty pass still writes the timestamps the caller asked for.
    if (timestampWrites) encoder.beginComputePass({ timestampWrites }).end();
    return;
  }
  const plan = state.kernels.plan(rows, cols);
  const copies = new Map<GPUBuffer, GPUBuffer>();
  const read = inputs.map((b, i) => {
    if (aliased.length === 0 || !aliased.includes(b)) return b;
    let copy = copies.get(b);
    if (!copy) {
      const bytes = operandBytes(op.inputs[i], rows, cols);
      copy = scratch(state, copies.size, bytes);
      encoder.copyBufferToBuffer(b, 0, copy, 0, bytes);
      copies.set(b, copy);
    }
    return copy;
  });
  const pb = partBytes(plan);
  state.kernels.encode(
    encoder,
    op,
    plan,
    { inputs: read, outputs, parts: pb > 0 ? scratch(state, 'parts', pb) : undefined },
    op.params(checked as unknown as Readonly<Record<string, unknown>>),
    { external: true, timestampWrites },
  );
}
