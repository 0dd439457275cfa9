import { SoftmaxError } from '@softmax/core';
import { WasmBackend } from './backend.js';
import { compile, instantiate, runtimeHasSimd } from './instance.js';

/** The options of `createWasmBackend`. */
export interface CreateWasmBackendOptions {
  /**
   * Which build of the kernel to run. Default: the SIMD128 build when `WebAssembly.validate`
   * accepts SIMD instructions (and DecompressionStream exists to inflate it), else the scalar
   * build, which a bundle loads as a chunk of its own only then. `false` forces the scalar build; `true`
   * forces SIMD (failing with BACKEND_UNAVAILABLE where the runtime lacks it).
   */
  simd?: boolean;
  /**
   * Threads that share a large call (rows split between them; a single long float32 softmax row
   * split into pieces), the calling one included. Default: half the logical processors this
   * process may use, rounded up, at most 8, where the runtime allows threads (today Node ≥ 20.16
   * with the SIMD build; browsers and other runtimes get the `browser` entry, single-threaded);
   * elsewhere 1. So a 2-core machine runs one thread unless asked: the other
   * core stays free for the engine's garbage collector, whose frees a busy second core delays (see
   * the README). Calls below 65,536 elements always run on the calling thread alone. `1` keeps
   * everything on the calling thread; more than 1 where threads are unavailable fails with
   * BACKEND_UNAVAILABLE and the reason.
   */
  threads?: number;
}

/** Most threads a backend starts. */
export const MAX_THREADS = 16;

/** The bytes of a base64 string (atob exists in browsers, workers and Node ≥ 16). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Whether this runtime can inflate the deflated builds (see scripts/build.mjs). */
export const canInflate = () => typeof DecompressionStream === 'function';

/** The bytes of a base64 string of zlib-deflated data. */
export async function inflateBase64(text: string): Promise<ArrayBuffer> {
  const stream = new Blob([decodeBase64(text)]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Response(stream).arrayBuffer();
}

/** The embedded SIMD build, inflated, or BACKEND_UNAVAILABLE when this runtime cannot inflate it. */
export async function simdBytes(deflated: string): Promise<ArrayBuffer> {
  if (!canInflate()) {
    throw new SoftmaxError(
      'BACKEND_UNAVAILABLE',
      'the SIMD build is embedded deflated and this runtime has no DecompressionStream: use simd: false, or @softmax/wasm/init with softmax_wasm_bg.wasm',
    );
  }
  return inflateBase64(deflated);
}

/** The scalar build, from its own module (a chunk of its own in a bundle: only runtimes without SIMD load it). */
export async function scalarBytes(): Promise<Uint8Array<ArrayBuffer>> {
  return decodeBase64((await import('./generated/scalar-wasm.js')).SCALAR_WASM_BASE64);
}

/** A backend over compiled-module bytes. */
export async function backendFromBytes(bytes: BufferSource): Promise<WasmBackend> {
  return new WasmBackend(await instantiate(await compile(bytes)));
}

/** A backend over an already compiled module. */
export async function backendFromModule(module: WebAssembly.Module): Promise<WasmBackend> {
  return new WasmBackend(await instantiate(module));
}

/**
 * Whether to run the SIMD build. Where SIMD is there but DecompressionStream is not (Firefox 89 to
 * 112), the default is the scalar build, which is embedded plain.
 */
export function wantSimd(options: CreateWasmBackendOptions | undefined): boolean {
  return options?.simd ?? (runtimeHasSimd() && canInflate());
}

/** The `threads` option, validated: undefined when not given. */
export function askedThreads(options: CreateWasmBackendOptions | undefined): number | undefined {
  const asked = options?.threads;
  if (asked !== undefined && (!Number.isSafeInteger(asked) || asked < 1 || asked > MAX_THREADS)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `threads must be an integer from 1 to ${MAX_THREADS}, got ${String(asked)}`,
    );
  }
  return asked;
}

/** A single-threaded backend over the embedded builds: SIMD (deflated, given) or scalar (on demand). */
export async function embeddedBackend(simd: boolean, simdDeflated: string): Promise<WasmBackend> {
  return backendFromBytes(simd ? await simdBytes(simdDeflated) : await scalarBytes());
}
