import { type FullyMasked, SoftmaxError } from '@softmax/core';
import { checkLayout } from '@softmax/core/backend';
import type { DeviceSlot, DeviceState } from './device-state.js';
import { partBytes } from './kernels.js';
import { checkBuffer, checkEncoder, checkQuerySet } from './ownership.js';
import { BufferPool } from './pool.js';
import { OPS, type Op } from './shaders.js';
import { COPY_DST, STORAGE } from './usage.js';

/**
 * The GPU-resident API: an op recorded into the caller's command encoder over the caller's
 * buffers, so a WebGPU pipeline never leaves the GPU. Everything is checked before anything is
 * recorded: WebGPU reports misuse only asynchronously (and Dawn may crash on another device's
 * buffers), so a bad argument throws a SoftmaxError and leaves the encoder as it was.
 */

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

/** Splits a GPU-resident call's options into the layout (validated by core) and the pass's extras. */
function splitShape(shape: EncodeShape): { layout: unknown; timestampWrites?: GPUComputePassTimestampWrites } {
  if (typeof shape !== 'object' || shape === null) return { layout: shape };
  const { timestampWrites, ...layout } = shape;
  return { layout, timestampWrites };
}

/**
 * A scratch buffer of the GPU-resident API that is at least `size` bytes: the partials of split
 * rows, or the copy of an operand that is also the output. One of each per device, grown as
 * needed; a replaced one is kept until dispose, since an encoder not yet submitted may use it.
 */
function scratch(state: DeviceState, which: 'parts' | 'copy', size: number): GPUBuffer {
  const current = state.scratch[which];
  if (current && current.size >= size) return current;
  if (current) state.scratch.retired.push(current);
  const usage = which === 'parts' ? STORAGE : STORAGE | COPY_DST;
  const b = state.device.createBuffer({ size: BufferPool.bucket(size), usage });
  state.scratch[which] = b;
  return b;
}

/** Checks and records one op into `encoder`: `a` (x, or y), `b` (dy for the gradients), `out`. */
export function encodeOp(
  slot: DeviceSlot,
  encoder: GPUCommandEncoder,
  op: Op,
  a: GPUBuffer,
  b: GPUBuffer | undefined,
  out: GPUBuffer,
  shape: EncodeShape,
): void {
  const state = slot.liveSync();
  // Another device's objects must not reach Dawn: it reports the mismatch only asynchronously.
  // Every object of a device this backend created was recorded; a caller's device may own
  // buffers made before the backend existed, so only those recorded for another device fail.
  const { device } = state;
  checkEncoder(device, slot.replaceable, encoder);
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
  for (const [buffer, name] of named) checkBuffer(device, slot.replaceable, buffer, name, inPlace && buffer === out);
  const { layout, timestampWrites } = splitShape(shape);
  checkQuerySet(device, slot.replaceable, timestampWrites);
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
    const c = scratch(state, 'copy', bytes);
    encoder.copyBufferToBuffer(buf, 0, c, 0, bytes);
    return c;
  };
  const pb = partBytes(plan);
  state.kernels.encode(
    encoder,
    op,
    plan,
    { a: copyOf(a), b: b && copyOf(b), out, parts: pb > 0 ? scratch(state, 'parts', pb) : undefined },
    { temperature, maskedZero: !OPS[op].backward && fullyMasked === 'zero' },
    { external: true, timestampWrites },
  );
}
