import type { Backend, Dtype, FloatArray, MaybePromise, SoftmaxErrorCode } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { DTYPES } from '../dtypes.js';
import { nodeBuiltin } from '../environment.js';
import { splitmix32 } from '../fuzz-cases.js';

/** The options of a soak run: how many calls, of which sizes, and the leak thresholds. */
export interface SoakOptions {
  /** Calls in all, warm-up included (default 100,000). */
  calls?: number;
  /**
   * A count of what the backend holds that must not grow over the run (live GPU buffers, bytes of
   * wasm memory): taken after the warm-up and at the end, and the end may not exceed the start.
   */
  resources?: (backend: Backend) => MaybePromise<number>;
  /** Heap (JS heap plus ArrayBuffer memory) growth allowed from after the warm-up to the end. Default 4 MiB. */
  maxHeapGrowthBytes?: number;
  /** Heap growth allowed per call, as the slope fitted over the samples. Default 24 bytes. */
  maxBytesPerCall?: number;
  /** Test timeout in ms (default 120,000). */
  timeout?: number;
}

/** What a soak run measured (also printed, one line). */
export interface SoakReport {
  /** Calls made. */
  calls: number;
  /** Heap after the warm-up and at the end (after a full GC), in bytes. */
  heapStart: number;
  /** See heapStart. */
  heapEnd: number;
  /** Least-squares slope of the heap samples, in bytes per call. */
  bytesPerCall: number;
  /** Live resources (GPU buffers, wasm bytes) after the warm-up, when the backend counts them. */
  resourcesStart?: number;
  /** The same at the end. */
  resourcesEnd?: number;
  /** Wall time of the run. */
  seconds: number;
}

const WARM_UP = 0.1;
const SAMPLES = 12;
const CHECK_EVERY = 997;

interface NodeMemory {
  memoryUsage(): { heapUsed: number; arrayBuffers: number };
}

/**
 * A full garbage collection, without `--expose-gc` on the command line: V8 accepts the flag at
 * run time, and a new context created after it has `gc` on its global object.
 */
function collector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (typeof existing === 'function') return existing;
  const v8 = nodeBuiltin<{ setFlagsFromString(flags: string): void }>('node:v8');
  const vm = nodeBuiltin<{ runInNewContext(code: string): unknown }>('node:vm');
  if (!v8 || !vm) throw new Error('describeSoak measures the heap with node:v8 and node:vm: run it in Node');
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

function heapBytes(gc: () => void, memory: NodeMemory): number {
  // Twice: the first collection can leave garbage that only finalisers of the first released.
  gc();
  gc();
  const { heapUsed, arrayBuffers } = memory.memoryUsage();
  return heapUsed + arrayBuffers;
}

function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

type Method = 'softmax' | 'logSoftmax' | 'softmaxBackward' | 'logSoftmaxBackward';
const METHODS: readonly Method[] = ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'];

interface Call {
  method: Method;
  args: unknown[];
  /** A call that must be refused, with this code. */
  code?: SoftmaxErrorCode;
  /** The row length, to check softmax results now and then. */
  cols: number;
}

/** Call `i` of the run: tiny shapes, all four functions, some with out or in place, some bad. */
function makeCall(next: () => number, dtypes: readonly Dtype[], methods: readonly Method[]): Call {
  const method = methods[Math.floor(next() * methods.length)];
  const A = DTYPES[dtypes[Math.floor(next() * dtypes.length)]].ArrayType;
  const cols = 1 + Math.floor(next() * 8);
  const n = cols * (1 + Math.floor(next() * 3));
  const inputs = method.endsWith('Backward') ? 2 : 1;
  const arrays = Array.from({ length: inputs }, () => {
    const array = new A(n);
    for (let i = 0; i < n; i++) array[i] = next() * 4 - 2;
    return array;
  });
  if (method === 'logSoftmaxBackward') for (let i = 0; i < n; i++) arrays[0][i] = -Math.abs(arrays[0][i]) - 0.1;
  const r = next();
  if (r < 0.04) return { method, args: ['not an array', ...arrays.slice(1)], code: 'INVALID_INPUT', cols };
  if (r < 0.07) return { method, args: [...arrays, { cols: n + 1 }], code: 'INVALID_SHAPE', cols };
  if (r < 0.1) return { method, args: [...arrays, { cols, temperature: 0 }], code: 'INVALID_OPTION', cols };
  if (r < 0.12) return { method, args: [...arrays, { cols, out: new A(n + 1) }], code: 'INVALID_OPTION', cols };
  const temperature = next() < 0.3 ? 0.5 + next() * 2 : 1;
  if (r < 0.35) return { method, args: [...arrays, { cols, temperature, out: new A(n) }], cols };
  if (r < 0.5) return { method, args: [...arrays, { cols, temperature, out: arrays[inputs - 1] }], cols };
  return { method, args: [...arrays, { cols, temperature }], cols };
}

async function perform(backend: Backend, call: Call, index: number): Promise<void> {
  const method = backend[call.method] as (...args: unknown[]) => unknown;
  let result: unknown;
  try {
    const value = method.apply(backend, call.args);
    result = value && typeof (value as Promise<unknown>).then === 'function' ? await value : value;
  } catch (error) {
    const { name, code } = (error ?? {}) as { name?: string; code?: string };
    if (call.code && name === 'SoftmaxError' && code === call.code) return;
    throw new Error(`soak call ${index} (${call.method}) failed: ${String(error)}`);
  }
  if (call.code) throw new Error(`soak call ${index} (${call.method}) was not refused with ${call.code}`);
  // Now and then, the result must be real: softmax rows sum to 1.
  if (call.method === 'softmax' && index % CHECK_EVERY === 0) {
    const y = result as FloatArray;
    for (let o = 0; o < y.length; o += call.cols) {
      let sum = 0;
      for (let j = 0; j < call.cols; j++) sum += y[o + j];
      if (!(Math.abs(sum - 1) < 1e-4)) throw new Error(`soak call ${index}: a softmax row sums to ${sum}`);
    }
  }
}

/**
 * Runs the soak on a backend: `calls` (default 100,000) mixed calls — all four functions, tiny
 * shapes, some into `out` or in place, some bad inputs that must be refused — sampling the heap
 * after full GCs from the end of the warm-up (10%) on. Node only (it needs node:v8 and node:vm).
 *
 * @example
 * ```ts
 * import { soakBackend, soakProblems } from '@softmax/conformance';
 *
 * const report = await soakBackend(myBackend, { calls: 10_000 });
 * console.log(soakProblems(report)); // [] when neither the heap nor the resources grow
 * ```
 */
export async function soakBackend(backend: Backend, options: SoakOptions = {}): Promise<SoakReport> {
  const gc = collector();
  const memory = nodeBuiltin<NodeMemory>('node:process') as NodeMemory;
  return soak(backend, options.calls ?? 100_000, gc, memory, options.resources);
}

/**
 * The same measurement over any call (a backend's `prepare()`, an encode loop): `call(i)` runs
 * `calls` times (default 100,000), awaited when it returns a Promise. Check the report with
 * `soakProblems`.
 *
 * @example
 * ```ts
 * import { describeSoakReport, soakCalls } from '@softmax/conformance';
 *
 * const report = await soakCalls((i) => myBackend.softmax(new Float32Array(1 + (i % 100))), { calls: 10_000 });
 * console.log(describeSoakReport(report));
 * ```
 */
export async function soakCalls(
  call: (index: number) => unknown,
  options: { calls?: number; resources?: () => MaybePromise<number> } = {},
): Promise<SoakReport> {
  const memory = nodeBuiltin<NodeMemory>('node:process') as NodeMemory;
  return sample(call, options.calls ?? 100_000, collector(), memory, options.resources);
}

/**
 * What is wrong with a soak's figures (empty when nothing is). After a full GC the heap of a
 * steady loop varies by a few hundred KiB between samples (V8 compiling, vitest's bookkeeping):
 * a slope error of a few bytes per call over 90,000 calls. A leak of 100 bytes a call (9 MB over
 * the run) exceeds both default limits severalfold; a retained array per call, far more.
 *
 * @example
 * ```ts
 * import { soakBackend, soakProblems } from '@softmax/conformance';
 *
 * const problems = soakProblems(await soakBackend(myBackend)); // e.g. ['the heap grows by 12.0 bytes per call ...']
 * ```
 */
export function soakProblems(report: SoakReport, options: SoakOptions = {}): string[] {
  const maxGrowth = options.maxHeapGrowthBytes ?? 4 * 1024 * 1024;
  const maxSlope = options.maxBytesPerCall ?? 24;
  const problems: string[] = [];
  if (!(report.bytesPerCall <= maxSlope)) {
    problems.push(`the heap grows by ${report.bytesPerCall.toFixed(1)} bytes per call (allowed ${maxSlope})`);
  }
  const growth = report.heapEnd - report.heapStart;
  if (!(growth <= maxGrowth)) problems.push(`the heap grew by ${growth} bytes over the run (allowed ${maxGrowth})`);
  if (report.resourcesStart !== undefined && !((report.resourcesEnd ?? 0) <= report.resourcesStart)) {
    problems.push(`the backend's resources grew from ${report.resourcesStart} to ${report.resourcesEnd}`);
  }
  return problems;
}

/**
 * One line of a soak's figures.
 *
 * @example
 * ```ts
 * import { describeSoakReport, soakBackend } from '@softmax/conformance';
 *
 * console.log(describeSoakReport(await soakBackend(myBackend))); // one line: calls, heap, slope, seconds
 * ```
 */
export function describeSoakReport(report: SoakReport): string {
  const resources =
    report.resourcesStart === undefined ? '' : `, resources ${report.resourcesStart} → ${report.resourcesEnd}`;
  return `${report.calls} calls in ${report.seconds.toFixed(1)} s, heap ${report.heapStart} → ${report.heapEnd} bytes, ${report.bytesPerCall.toFixed(2)} bytes/call${resources}`;
}

/**
 * Registers a soak test (see soakBackend and soakProblems): it fails when the heap grows — by the
 * slope over the samples (maxBytesPerCall) or in all (maxHeapGrowthBytes) — or when
 * `resources(backend)` ends above where it was after the warm-up. Its figures are printed.
 *
 * @example
 * ```ts
 * // soak.test.ts, run by vitest
 * import { describeSoak } from '@softmax/conformance';
 *
 * describeSoak('my-backend', () => createMyBackend(), { calls: 100_000 });
 * ```
 */
export function describeSoak(name: string, create: () => MaybePromise<Backend>, options: SoakOptions = {}): void {
  const calls = options.calls ?? 100_000;
  describe(`soak: ${name}`, () => {
    it(
      `${calls} mixed calls leave the heap and the backend's resources where they were`,
      async () => {
        const backend = await create();
        try {
          const report = await soakBackend(backend, options);
          console.log(`soak ${name}: ${describeSoakReport(report)}`);
          expect(soakProblems(report, options), describeSoakReport(report)).toEqual([]);
        } finally {
          await backend.dispose();
        }
      },
      options.timeout ?? 120_000,
    );
  });
}

async function soak(
  backend: Backend,
  calls: number,
  gc: () => void,
  memory: NodeMemory,
  resources: SoakOptions['resources'],
): Promise<SoakReport> {
  const next = splitmix32(0x50a1c);
  // The four functions this backend declares (all of them, for every backend so far).
  const methods = METHODS.filter((m) => backend.ops[m]);
  const count = resources && (() => resources(backend));
  return sample((i) => perform(backend, makeCall(next, backend.dtypes, methods), i), calls, gc, memory, count);
}

/** Runs `call` `calls` times, sampling the heap after full GCs from the end of the warm-up on. */
async function sample(
  call: (index: number) => unknown,
  calls: number,
  gc: () => void,
  memory: NodeMemory,
  resources: (() => MaybePromise<number>) | undefined,
): Promise<SoakReport> {
  const start = performance.now();
  const warmUp = Math.floor(calls * WARM_UP);
  const step = Math.max(1, Math.floor((calls - warmUp) / (SAMPLES - 1)));
  const xs: number[] = [];
  const ys: number[] = [];
  let resourcesStart: number | undefined;
  for (let i = 0; i < calls; i++) {
    await call(i);
    const done = i + 1;
    if (done === warmUp && resources) resourcesStart = await resources();
    if (done >= warmUp && ((done - warmUp) % step === 0 || done === calls)) {
      xs.push(done);
      ys.push(heapBytes(gc, memory));
    }
  }
  return {
    calls,
    heapStart: ys[0],
    heapEnd: ys[ys.length - 1],
    bytesPerCall: slope(xs, ys),
    resourcesStart,
    resourcesEnd: resources ? await resources() : undefined,
    seconds: (performance.now() - start) / 1000,
  };
}
