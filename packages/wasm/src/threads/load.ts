import { SoftmaxError } from '@softmax/core';
import { WasmBackend } from '../backend.js';
import { compile, instantiateShared } from '../instance.js';
import { askedThreads, type CreateWasmBackendOptions } from '../load.js';
import { ThreadedCalls } from './calls.js';
import { availableThreads, threadsUnavailable } from './runtime.js';

/** Most threads a backend starts unless asked. */
const DEFAULT_MAX_THREADS = 8;

/** The thread count a backend with these options runs (validated). */
export function wantThreads(options: CreateWasmBackendOptions | undefined, simd: boolean): number {
  const asked = askedThreads(options);
  if (asked === undefined) {
    if (!simd || threadsUnavailable() !== undefined) return 1;
    return Math.min(Math.ceil(availableThreads() / 2), DEFAULT_MAX_THREADS);
  }
  if (asked > 1) {
    const why = simd ? threadsUnavailable() : 'threads run the SIMD build, and simd is false or unsupported here';
    if (why !== undefined)
      throw new SoftmaxError('BACKEND_UNAVAILABLE', `threads: ${asked} is not possible here: ${why}`);
  }
  return asked;
}

/** A backend on `threads` threads over the bytes of the threads build (shared memory). */
export async function threadedBackend(bytes: BufferSource, threads: number): Promise<WasmBackend> {
  const module = await compile(bytes);
  return new WasmBackend(await instantiateShared(module), {
    threads,
    start: (kernel, heap) => new ThreadedCalls({ module, threads }, kernel, heap),
  });
}
