/**
 * `@softmax/wasm` — the default entry. The kernel's bytes are embedded (base64, generated at build
 * time), so Node (ESM and CJS), bundlers and web workers need no file paths or plugins. To host the
 * .wasm file yourself, use `@softmax/wasm/init` instead. What only tooling needs (the kernel's C ABI
 * and its version) is on `@softmax/wasm/abi`.
 *
 * @module @softmax/wasm
 */
import type { WasmBackend } from './backend.js';
import { SCALAR_WASM_BASE64, SIMD_WASM_BASE64, THREADS_WASM_BASE64 } from './generated/wasm-base64.js';
import {
  backendFromBytes,
  type CreateWasmBackendOptions,
  decodeBase64,
  threadedBackend,
  wantSimd,
  wantThreads,
} from './load.js';

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
 * synchronous. Each backend owns its own linear memory (and, on several threads, its workers).
 *
 * @example
 * ```ts
 * import { createWasmBackend } from '@softmax/wasm';
 *
 * const wasm = await createWasmBackend(); // SIMD128 where the runtime has it, else scalar
 * const y = wasm.softmax(new Float32Array([1, 2, 3, 4, 5, 6]), { cols: 3 });
 * const scalar = await createWasmBackend({ simd: false, threads: 1 });
 * ```
 */
export async function createWasmBackend(options?: CreateWasmBackendOptions): Promise<WasmBackend> {
  const simd = wantSimd(options);
  const threads = wantThreads(options, simd);
  if (threads > 1) return threadedBackend(decodeBase64(THREADS_WASM_BASE64), threads);
  return backendFromBytes(decodeBase64(simd ? SIMD_WASM_BASE64 : SCALAR_WASM_BASE64));
}
