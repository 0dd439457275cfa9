import { WasmBackend } from './backend.js';
import { compile, instantiate, runtimeHasSimd } from './instance.js';

export interface CreateWasmBackendOptions {
  /**
   * Which build of the kernel to run. Default: the SIMD128 build when `WebAssembly.validate`
   * accepts SIMD instructions, else the scalar build. `false` forces the scalar build; `true`
   * forces SIMD (failing with BACKEND_UNAVAILABLE where the runtime lacks it).
   */
  simd?: boolean;
}

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
