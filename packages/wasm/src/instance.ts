import { SoftmaxError } from '@softmax/core';
import { ABI_VERSION, type KernelExports } from './abi.js';

/**
 * The smallest module that uses a SIMD128 instruction (`i32.const 0; i8x16.splat`):
 * `WebAssembly.validate` on it tells whether the runtime has SIMD without compiling anything real.
 */
const SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, 0x03, 0x02, 0x01, 0x00,
  0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0xfd, 0x0f, 0x0b,
]);

/**
 * Whether this runtime validates SIMD128 instructions.
 *
 * @example
 * ```ts
 * import { runtimeHasSimd } from '@softmax/wasm';
 *
 * const file = runtimeHasSimd() ? 'softmax_wasm_bg.wasm' : 'softmax_wasm_scalar_bg.wasm'; // for init()
 * ```
 */
export function runtimeHasSimd(): boolean {
  try {
    return WebAssembly.validate(SIMD_PROBE);
  } catch {
    return false;
  }
}

/** A kernel's exports, after checking that the module speaks this loader's ABI. */
function checkedExports(exports: KernelExports): KernelExports {
  if (typeof exports.abi_version !== 'function' || !(exports.memory instanceof WebAssembly.Memory)) {
    throw new SoftmaxError('BACKEND_UNAVAILABLE', 'the WebAssembly module is not a softmax_wasm kernel');
  }
  const found = exports.abi_version();
  if (found !== ABI_VERSION) {
    throw new SoftmaxError(
      'BACKEND_UNAVAILABLE',
      `the WebAssembly module has ABI version ${found}, this loader expects ${ABI_VERSION}: use the .wasm file of the same @softmax/wasm release`,
    );
  }
  return exports;
}

/** Instantiates a compiled module (the kernel imports nothing). */
export async function instantiate(module: WebAssembly.Module): Promise<KernelExports> {
  try {
    return checkedExports((await WebAssembly.instantiate(module, {})).exports as unknown as KernelExports);
  } catch (error) {
    if (error instanceof SoftmaxError) throw error;
    throw new SoftmaxError('BACKEND_UNAVAILABLE', `could not instantiate the WebAssembly module: ${String(error)}`, {
      cause: error,
    });
  }
}

/**
 * Instantiates the threads build on a new shared memory (the module imports it; it may grow to
 * wasm32's 4 GiB, the maximum the module declares).
 */
export async function instantiateShared(module: WebAssembly.Module): Promise<KernelExports> {
  try {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    // The exports object is read-only; the backend expects `memory` beside the functions.
    return checkedExports({ ...instance.exports, memory } as unknown as KernelExports);
  } catch (error) {
    if (error instanceof SoftmaxError) throw error;
    throw new SoftmaxError('BACKEND_UNAVAILABLE', `could not instantiate the threads build: ${String(error)}`, {
      cause: error,
    });
  }
}

/** Compiles bytes, reporting failure (e.g. SIMD bytes on a runtime without SIMD) as BACKEND_UNAVAILABLE. */
export async function compile(bytes: BufferSource): Promise<WebAssembly.Module> {
  try {
    return await WebAssembly.compile(bytes);
  } catch (error) {
    throw new SoftmaxError('BACKEND_UNAVAILABLE', `could not compile the WebAssembly module: ${String(error)}`, {
      cause: error,
    });
  }
}
