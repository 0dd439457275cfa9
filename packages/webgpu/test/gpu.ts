import { expect } from 'vitest';
import { createWebGPUBackend, type Tuning, type WebGPUBackend, type WebGPUBackendOptions } from '../src/index.js';
import { COPY_DST, COPY_SRC, MAP_MODE_READ, MAP_READ, STORAGE } from '../src/usage.js';

/**
 * A backend on Dawn + SwiftShader. There is no fallback: if no adapter is found the test fails
 * with the reason (set SOFTMAX_SKIP_WEBGPU=1 to opt out of the WebGPU tests on purpose).
 */
export async function gpuBackend(options: WebGPUBackendOptions = {}): Promise<WebGPUBackend> {
  try {
    return await createWebGPUBackend(options);
  } catch (error) {
    throw new Error(
      `WebGPU tests need a working adapter (Dawn 'webgpu' + SwiftShader at ${process.env.VK_ICD_FILENAMES}); ` +
        `install chromium (scripts/setup.sh) or set SOFTMAX_SKIP_WEBGPU=1 to skip them on purpose. Cause: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

/**
 * Tunings that select each way a unit's threads reduce (plan.ts `Reduce`) on SwiftShader, whose
 * subgroups have 4 invocations: by default units are one subgroup (shuffles), without subgroups
 * one thread (no reduction); GPU-sized units use subgroup operations or workgroup memory.
 */
export const REDUCTION_TUNINGS: Array<[string, Tuning]> = [
  ['subgroup shuffles', {}],
  ['one thread per unit', { subgroups: false }],
  // GPU layouts; this one also with the compensated sums guarded, as on non-SwiftShader adapters.
  [
    'subgroup operations + workgroup memory, guarded sums',
    { maxUnitThreads: 256, lanesPerThread: 4, guardCompensation: true },
  ],
  ['workgroup memory', { maxUnitThreads: 256, lanesPerThread: 4, subgroups: false }],
];

/**
 * Counts the GPU buffers of `device` that are alive (created and not yet destroyed), by wrapping
 * `createBuffer` and each buffer's `destroy`.
 */
export function countLiveBuffers(device: GPUDevice): { readonly live: number } {
  const counter = { live: 0 };
  const createBuffer = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor) => {
    const buffer = createBuffer(descriptor);
    counter.live++;
    const destroy = buffer.destroy.bind(buffer);
    let destroyed = false;
    buffer.destroy = () => {
      if (!destroyed) counter.live--;
      destroyed = true;
      destroy();
    };
    return buffer;
  };
  return counter;
}

/** Copies a GPU buffer's first `length` floats back to the host (tests only: one staging buffer each). */
export async function readBack(device: GPUDevice, buffer: GPUBuffer, length: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: length * 4, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, length * 4);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(MAP_MODE_READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

/** A storage buffer holding `data`, as a caller of the encode API would make one. */
export function upload(device: GPUDevice, data: Float32Array): GPUBuffer {
  const b = device.createBuffer({ size: data.byteLength, usage: STORAGE | COPY_SRC | COPY_DST });
  device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
  return b;
}

/** Runs `record` on a fresh encoder and checks that it threw `expected` and left a valid, empty encoder. */
export async function refuses(backend: WebGPUBackend, record: (e: GPUCommandEncoder) => void, expected: unknown) {
  const { device } = backend;
  const encoder = device.createCommandEncoder();
  expect(() => record(encoder)).toThrow(expected as Error);
  device.pushErrorScope('validation');
  device.queue.submit([encoder.finish()]);
  expect((await device.popErrorScope())?.message).toBeUndefined();
}

export { COPY_DST, COPY_SRC, STORAGE };
