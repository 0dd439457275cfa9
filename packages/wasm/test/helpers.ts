import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkAgainstOracle, describeCheck, type Tolerance } from '@softmax/conformance/helpers';
import { type Dtype, type FloatArray, SoftmaxError } from '@softmax/core';
import { afterAll, expect } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../dist/index.js';

/** pkg/ as the build lays it out (wasm-pack's layout). */
export const pkgPath = (file: string) => fileURLToPath(new URL(`../pkg/${file}`, import.meta.url));
export const simdBytes = () => readFileSync(pkgPath('softmax_wasm_bg.wasm'));
export const scalarBytes = () => readFileSync(pkgPath('softmax_wasm_scalar_bg.wasm'));
export const threadsBytes = () => readFileSync(pkgPath('softmax_wasm_threads_bg.wasm'));
/** What the threads build imports: a shared memory up to wasm32's 4 GiB. */
export const threadsImports = () => ({
  env: { memory: new WebAssembly.Memory({ initial: 2, maximum: 65536, shared: true }) },
});

/** Asserts the conformance suite's element-wise bound against an oracle result. */
export function expectAccurate(result: ArrayLike<number>, ref: FloatArray, tolerance: Tolerance): void {
  const check = checkAgainstOracle(result, ref, tolerance);
  expect(check.ok, describeCheck(check, result, ref)).toBe(true);
}

/** Asserts bit-for-bit equal contents (vitest's toEqual takes ~0.3 s on 100,000 elements). */
export function expectSame(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  let first = -1;
  for (let i = 0; i < want.length && first < 0; i++) if (!Object.is(got[i], want[i])) first = i;
  expect(first, first < 0 ? '' : `[${first}]: ${got[first]} ≠ ${want[first]}`).toBe(-1);
}

/**
 * The conformance suite's `ownMemory` hook for the wasm backend: views of its linear memory,
 * a live WasmBuffer's (which calls use in place), and a freed buffer's (which calls refuse).
 */
export function wasmOwnMemory(backend: unknown) {
  const b = backend as WasmBackend;
  return {
    view: (length: number, dtype: Dtype) => b.alloc(length, dtype).view() as FloatArray,
    stale: (length: number, dtype: Dtype) => {
      const buffer = b.alloc(length, dtype);
      const view = buffer.view() as FloatArray;
      buffer.free();
      return view;
    },
  };
}

/** The SoftmaxError `call` throws (anything else, or nothing, fails the test). */
export function thrown(call: () => unknown): SoftmaxError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(SoftmaxError);
    return error as SoftmaxError;
  }
  throw new Error('expected a SoftmaxError, nothing was thrown');
}

/** The SoftmaxError `call` throws, as "CODE: message" ('no error' if it returns). */
export function failure(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(SoftmaxError);
    return `${(error as SoftmaxError).code}: ${(error as SoftmaxError).message}`;
  }
  return 'no error';
}

/**
 * A backend of each build: SIMD128 on one thread, scalar, and the threads build on two threads
 * (whose large calls split). Disposed after the calling file's tests.
 */
export async function everyBuild(): Promise<Record<'simd' | 'scalar' | 'threads', WasmBackend>> {
  const backends = {
    simd: await createWasmBackend({ simd: true, threads: 1 }),
    scalar: await createWasmBackend({ simd: false }),
    threads: await createWasmBackend({ threads: 2 }),
  };
  afterAll(() => {
    for (const b of Object.values(backends)) b.dispose();
  });
  return backends;
}
