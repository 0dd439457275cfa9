import { SoftmaxError } from '@softmax/core';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ } from './usage.js';

const QUERY_RESOLVE = 0x0200; // GPUBufferUsage.QUERY_RESOLVE

/**
 * Times compute passes on the GPU with a 'timestamp' query set: one measurement in flight at a time.
 *
 * ```ts
 * const timer = createGpuTimer(backend.device); // undefined without the 'timestamp-query' feature
 * backend.encodeSoftmax(encoder, x, y, { rows, cols, timestampWrites: timer.timestampWrites });
 * timer.resolve(encoder);
 * device.queue.submit([encoder.finish()]);
 * const ns = await timer.read();
 * ```
 */
export interface GpuTimer {
  /** For one compute pass: the beginning in slot 0, the end in slot 1. */
  readonly timestampWrites: GPUComputePassTimestampWrites;
  /** Records, after the timed pass and on an encoder submitted after it, the copy of both timestamps. */
  resolve(encoder: GPUCommandEncoder): void;
  /** Once the resolving encoder is submitted: nanoseconds from the pass's beginning to its end. */
  read(): Promise<number>;
  /** Frees its query set and buffers. */
  destroy(): void;
}

/**
 * A timer for passes on `device`, or undefined when the device lacks 'timestamp-query'
 * (createWebGPUBackend requests the feature whenever the adapter has it).
 *
 * @example
 * ```ts
 * import { createGpuTimer } from '@softmax/webgpu';
 *
 * const timer = createGpuTimer(backend.device);
 * if (timer) {
 *   const encoder = backend.device.createCommandEncoder();
 *   backend.encodeSoftmax(encoder, input, output, { rows, cols, timestampWrites: timer.timestampWrites });
 *   timer.resolve(encoder);
 *   backend.device.queue.submit([encoder.finish()]);
 *   console.log(await timer.read(), 'ns');
 * }
 * ```
 */
export function createGpuTimer(device: GPUDevice): GpuTimer | undefined {
  if (!device.features.has('timestamp-query')) return undefined;
  const querySet = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolved = device.createBuffer({ size: 16, usage: QUERY_RESOLVE | COPY_SRC });
  const staging = device.createBuffer({ size: 16, usage: MAP_READ | COPY_DST });
  let pending = false;
  return {
    timestampWrites: { querySet, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 },
    resolve(encoder) {
      if (pending) throw new SoftmaxError('INVALID_INPUT', 'read() the previous measurement before resolving another');
      encoder.resolveQuerySet(querySet, 0, 2, resolved, 0);
      encoder.copyBufferToBuffer(resolved, 0, staging, 0, 16);
      pending = true;
    },
    async read() {
      if (!pending) throw new SoftmaxError('INVALID_INPUT', 'nothing to read: resolve(encoder) and submit it first');
      try {
        await staging.mapAsync(MAP_MODE_READ);
        const [begin, end] = new BigUint64Array(staging.getMappedRange());
        staging.unmap();
        // Timestamps are in nanoseconds (the implementation applies the tick period); a driver
        // may write end < begin for an empty pass, which is reported as 0.
        return end > begin ? Number(end - begin) : 0;
      } finally {
        pending = false;
      }
    },
    destroy() {
      querySet.destroy();
      resolved.destroy();
      staging.destroy();
    },
  };
}
