import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkAgainstOracle, describeCheck, type Tolerance } from '@softmax/conformance/helpers';
import type { Dtype, FloatArray } from '@softmax/core';
import { expect } from 'vitest';
import type { WasmBackend } from '../dist/index.js';

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
