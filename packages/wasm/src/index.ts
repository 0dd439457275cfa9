/**
 * `@softmax/wasm` — the entry for Node (package.json's `node` condition; browser.ts is the others').
 * The kernel's bytes are embedded (base64, generated at build time), so Node (ESM and CJS),
 * bundlers and web workers need no file paths or plugins. To host the
 * .wasm file yourself, use `@softmax/wasm/init` instead. What only tooling needs (the kernel's C ABI
 * and its version) is on `@softmax/wasm/abi`.
 *
 * @module @softmax/wasm
 */
import type { WasmBackend } from './backend.js';
import { SIMD_WASM_DEFLATE } from './generated/simd-wasm.js';
import { THREADS_WASM_DEFLATE } from './generated/threads-wasm.js';
import { type CreateWasmBackendOptions, embeddedBackend, simdBytes, wantSimd } from './load.js';
import { threadedBackend, wantThreads } from './threads/load.js';

export type {
  BufferBackwardOptions,
  BufferCallOptions,
  BufferForwardOptions,
  CrossEntropyBufferOptions,
  CrossEntropyBufferResult,
  SampleBufferResult,
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
  if (threads > 1) return threadedBackend(await simdBytes(THREADS_WASM_DEFLATE), threads);
  return embeddedBackend(simd, SIMD_WASM_DEFLATE);
}
