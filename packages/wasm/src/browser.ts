/**
 * @softmax/wasm for browsers, web workers and every runtime but Node (package.json's `browser`,
 * `worker` and `default` conditions): the API of index.ts, single-threaded, with no worker-pool
 * code. The SIMD build is embedded (deflated); the scalar build is a module of its own, imported
 * only where SIMD is missing, so a bundler puts it in a chunk that SIMD runtimes never load. No
 * URL is fetched: this works under a CSP of `script-src 'self' 'wasm-unsafe-eval'`.
 */
import { SoftmaxError } from '@softmax/core';
import type { WasmBackend } from './backend.js';
import { SIMD_WASM_DEFLATE } from './generated/simd-wasm.js';
import { askedThreads, type CreateWasmBackendOptions, embeddedBackend, wantSimd } from './load.js';

export type {
  BufferBackwardOptions,
  BufferCallOptions,
  BufferForwardOptions,
  CrossEntropyBufferOptions,
  CrossEntropyBufferResult,
  WasmBackend,
} from './backend.js';
export { WasmBuffer } from './buffer.js';
export type { ArrayOf, BufferDtype, IndexDtype } from './elements.js';
export { runtimeHasSimd } from './instance.js';
export type { CreateWasmBackendOptions } from './load.js';

/**
 * Creates the wasm backend. Resolves once the module is compiled; every call after that is
 * synchronous. Each backend owns its own linear memory.
 */
export async function createWasmBackend(options?: CreateWasmBackendOptions): Promise<WasmBackend> {
  const threads = askedThreads(options);
  if (threads !== undefined && threads > 1) {
    throw new SoftmaxError(
      'BACKEND_UNAVAILABLE',
      `threads: ${threads} is not possible here: worker threads are used in Node only; this is the single-threaded build for browsers and other runtimes`,
    );
  }
  return embeddedBackend(wantSimd(options), SIMD_WASM_DEFLATE);
}
