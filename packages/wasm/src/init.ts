/**
 * `@softmax/wasm/init` — for those who host the .wasm file themselves (no embedded bytes in this
 * entry). Pass the build you serve: `softmax_wasm_bg.wasm` (SIMD128) or
 * `softmax_wasm_scalar_bg.wasm` (scalar), both in the package's `pkg/` folder and exported as
 * `@softmax/wasm/softmax_wasm_bg.wasm` and `@softmax/wasm/softmax_wasm_scalar_bg.wasm`.
 *
 * @module @softmax/wasm/init
 */
import { SoftmaxError } from '@softmax/core';
import type { WasmBackend } from './backend.js';
import { backendFromBytes, backendFromModule } from './load.js';

export type { BufferBackwardOptions, BufferCallOptions, BufferForwardOptions, WasmBackend } from './backend.js';
export { WasmBuffer } from './buffer.js';
export type { ArrayOf, BufferDtype, IndexDtype } from './elements.js';
export { runtimeHasSimd } from './instance.js';

/** Exactly one source of the kernel module. */
export type InitSource =
  | { module: WebAssembly.Module; bytes?: never; url?: never }
  | { bytes: BufferSource; module?: never; url?: never }
  /** Fetched with `fetch` (http(s), blob: or data: URLs; in Node, read the file and pass `bytes`). */
  | { url: string | URL; module?: never; bytes?: never };

/**
 * Creates the wasm backend from a module, bytes, or a URL.
 *
 * @example
 * ```ts
 * import { readFile } from 'node:fs/promises';
 * import { init } from '@softmax/wasm/init';
 *
 * const wasm = await init({ url: '/assets/softmax_wasm_bg.wasm' }); // served by you (browser)
 * const fromFile = await init({ bytes: await readFile('node_modules/@softmax/wasm/pkg/softmax_wasm_bg.wasm') });
 * ```
 */
export async function init(source: InitSource): Promise<WasmBackend> {
  const given = ['module', 'bytes', 'url'].filter((key) => (source as Record<string, unknown>)?.[key] !== undefined);
  if (given.length !== 1) {
    throw new SoftmaxError('INVALID_OPTION', `init() needs exactly one of module, bytes or url, got ${given.length}`);
  }
  if (source.module !== undefined) return backendFromModule(source.module);
  if (source.bytes !== undefined) return backendFromBytes(source.bytes);
  let response: Response;
  try {
    response = await fetch(source.url as string | URL);
  } catch (error) {
    throw new SoftmaxError('BACKEND_UNAVAILABLE', `could not fetch ${String(source.url)}: ${String(error)}`, {
      cause: error,
    });
  }
  if (!response.ok) {
    throw new SoftmaxError('BACKEND_UNAVAILABLE', `could not fetch ${String(source.url)}: HTTP ${response.status}`);
  }
  return backendFromBytes(await response.arrayBuffer());
}
