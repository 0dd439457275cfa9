import { SoftmaxError } from '@softmax/core';
import { WasmBackend } from './backend.js';
import { compile, instantiate, instantiateShared, runtimeHasSimd } from './instance.js';
import { availableThreads, threadsUnavailable } from './threads/runtime.js';

/** The options of `createWasmBackend`. */
export interface CreateWasmBackendOptions {
  /**
   * Which build of the kernel to run. Default: the SIMD128 build when `WebAssembly.validate`
   * accepts SIMD instructions, else the scalar build. `false` forces the scalar build; `true`
   * forces SIMD (failing with BACKEND_UNAVAILABLE where the runtime lacks it).
   */
  simd?: boolean;
  /**
   * Threads that share a large call (rows split between them; a single long float32 softmax row
   * split into pieces), the calling one included. Default: half the logical processors this
   * process may use, rounded up, at most 8, where the runtime allows threads (today Node ≥ 20.16
   * with the SIMD build); elsewhere 1. So a 2-core machine runs one thread unless asked: the other
   * core stays free for the engine's garbage collector, whose frees a busy second core delays (see
   * the README). Calls below 65,536 elements always run on the calling thread alone. `1` keeps
   * everything on the calling thread; more than 1 where threads are unavailable fails with
   * BACKEND_UNAVAILABLE and the reason.
   */
  threads?: number;
}

/** Most threads a backend starts, and most it starts unless asked. */
const MAX_THREADS = 16;
const DEFAULT_MAX_THREADS = 8;

/** The bytes of a base64 string (atob exists in browsers, workers and Node ≥ 16). */
export function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** A backend over compiled-module bytes. */
export async function backendFromBytes(bytes: BufferSource): Promise<WasmBackend> {
  return new WasmBackend(await instantiate(await compile(bytes)));
}

/** A backend over an already compiled module. */
export async function backendFromModule(module: WebAssembly.Module): Promise<WasmBackend> {
  return new WasmBackend(await instantiate(module));
}

export function wantSimd(options: CreateWasmBackendOptions | undefined): boolean {
  return options?.simd ?? runtimeHasSimd();
}

/** The thread count a backend with these options runs (validated). */
export function wantThreads(options: CreateWasmBackendOptions | undefined, simd: boolean): number {
  const asked = options?.threads;
  if (asked === undefined) {
    if (!simd || threadsUnavailable() !== undefined) return 1;
    return Math.min(Math.ceil(availableThreads() / 2), DEFAULT_MAX_THREADS);
  }
  if (!Number.isSafeInteger(asked) || asked < 1 || asked > MAX_THREADS) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `threads must be an integer from 1 to ${MAX_THREADS}, got ${String(asked)}`,
    );
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
  return new WasmBackend(await instantiateShared(module), { module, threads });
}
