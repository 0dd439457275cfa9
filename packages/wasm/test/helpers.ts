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

// sampleMargin, how close u may come to a boundary between two ids before this backend may draw
// the other one (sample's cumulative weights C and total S are not core's float64 ones):
// float32: each weight from exp32 within ~2^-23 of e^((x − max)/T), block sums of the kept weights
// in float32 lanes (≤ 6 roundings a term, 6·2^-24), blocks and the draw's partial sums in float64:
// C and S each within 8·2^-24 relatively, C/S within 16·2^-24; plus a penalized or biased logit
// rounded to float32 (core keeps it in float64), its weight off by up to |x/T|·2^-24, at most
// 2·64·2^-24 for |x/T| ≤ 64 (the suite's rows): 144·2^-24 ≈ 8.6e-6 → 1e-5. float64: exp64 within
// 1 ulp and float64 sums within cols·2^-53: 2·(2^-52 + cols·2^-53) ≤ 2.4e-10 for cols ≤ 2^20.
export const SAMPLE_MARGIN = { float32: 1e-5, float64: 2.5e-10 } as const;

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
