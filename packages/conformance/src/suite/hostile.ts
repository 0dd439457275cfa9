import type { FloatArray } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { checkAgainstOracle, checkRowSums, describeCheck } from '../check.js';
import type { OwnMemory } from '../contract.js';
import { floatTagOf, flushSubnormals } from '../dtypes.js';
import { nodeBuiltin } from '../environment.js';
import {
  HOSTILE_CASES,
  HOSTILE_COLS,
  HOSTILE_LOGITS,
  HOSTILE_UPSTREAM,
  type HostileCall,
  type HostileCase,
  type HostileEnv,
  type HostileKind,
  type HostileNeed,
} from '../hostile-inputs.js';
import { uniform } from '../vectors.js';
import { expectSoftmaxError, failure } from './errors.js';
import { type BackwardOp, backwardScale, type ForwardOp, type SuiteContext } from './ops.js';

type Op = ForwardOp | BackwardOp;
type AnyCall = (...args: unknown[]) => unknown;

const vm = nodeBuiltin<{ runInNewContext: (code: string) => unknown }>('node:vm');

/** Whether the environment has what a case needs; cases that need more are not registered here. */
const HAS: Readonly<Record<HostileNeed, boolean>> = {
  SharedArrayBuffer: typeof SharedArrayBuffer === 'function' && typeof structuredClone === 'function',
  'resizable ArrayBuffer': typeof (ArrayBuffer.prototype as { resize?: unknown }).resize === 'function',
  'node:vm': vm !== undefined,
};

/** The ops of a kind this backend declares (coverage.ts reports the others). */
function opsOf(ctx: SuiteContext, kind: HostileKind): readonly Op[] {
  return kind === 'forward' ? ctx.forwardOps : ctx.backwardOps;
}

/** The environment of a case: its inputs made from `logits` and `upstream` (rows of `cols`). */
function envFor(
  ctx: SuiteContext,
  kind: HostileKind,
  op: Op,
  logits: readonly number[] = HOSTILE_LOGITS,
  upstream: readonly number[] = HOSTILE_UPSTREAM,
  cols = HOSTILE_COLS,
): HostileEnv {
  const A = ctx.dtype.ArrayType;
  const forward = (x: readonly number[], options: { cols?: number; temperature?: number }) =>
    Array.from((kind === 'forward' ? (op as ForwardOp) : (op as BackwardOp).forward).oracle(A.from(x), options));
  const inputs =
    kind === 'forward' ? [Array.from(A.from(logits))] : [forward(logits, { cols }), Array.from(A.from(upstream))];
  return { d: ctx.dtype, kind, inputs, forward, runInNewContext: vm?.runInNewContext };
}

/** A copy of a view's bytes (NaN payloads and the sign of zero included). */
function bytesOf(view: ArrayBufferView): Uint8Array {
  // A detached view has no bytes (and its buffer refuses a new view).
  if (view.byteLength === 0) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

function defaultUnchanged(call: HostileCall): ArrayBufferView[] {
  return call.args.filter((a): a is FloatArray => floatTagOf(a) !== undefined && a !== call.out);
}

/** Asserts a result of the right type and length within the backend's bound of the oracle's. */
function expectCorrect(ctx: SuiteContext, op: Op, result: unknown, call: HostileCall, env: HostileEnv, label: string) {
  const A = ctx.dtype.ArrayType;
  expect(floatTagOf(result), `${label}: the result is not a ${A.name}`).toBe(ctx.dtype.name);
  if (call.out !== undefined) expect(result === call.out, `${label}: the result is not the call's out`).toBe(true);
  const shape = call.shape ?? { cols: HOSTILE_COLS };
  const cols = shape.cols ?? HOSTILE_COLS;
  const temperature = shape.temperature ?? 1;
  // A backend that flushes subnormal inputs is held to the oracle on the flushed inputs.
  const values = (call.values ?? env.inputs).map((v) =>
    A.from(ctx.subnormalInputs === 'flush' ? flushSubnormals(v, ctx.dtype.name) : v),
  );
  const y = result as FloatArray;
  let ref: FloatArray;
  let scale: ArrayLike<number> | undefined;
  if (env.kind === 'forward') {
    const f = op as ForwardOp;
    ref = f.oracle(values[0], shape);
    scale = f.scale(ref);
  } else {
    const b = op as BackwardOp;
    ref = b.oracle(values[0], values[1], { cols, temperature });
    scale = backwardScale(ctx, b, values[0], values[1], cols, temperature);
  }
  expect(y.length, `${label}: result length`).toBe(ref.length);
  const check = checkAgainstOracle(y, ref, { rtol: ctx.rtol, atol: ctx.atol, scale });
  expect(check.ok, `${label}:${describeCheck(check, y, ref)}`).toBe(true);
  if (op.name === 'softmax') {
    const sums = checkRowSums(y, ref, cols, ctx);
    expect(sums.ok, `${label}: row ${sums.worstRow} sums to ${sums.worstSum}`).toBe(true);
  }
}

function register(ctx: SuiteContext, c: HostileCase, kind: HostileKind, op: Op): void {
  const promise = 'code' in c.expect ? c.expect.code : 'a correct result';
  it(`${op.name}: ${c.name} → ${promise}`, async () => {
    const env = envFor(ctx, kind, op);
    const call = c.make(env);
    const watched = (call.unchanged ?? defaultUnchanged(call)).map((view) => ({ view, bytes: bytesOf(view) }));
    const backend = ctx.backend();
    const method = backend[op.name] as AnyCall;
    const label = `${op.name} ${c.name}`;
    if ('code' in c.expect) {
      const error = await failure(() => method.apply(backend, call.args));
      expectSoftmaxError(error, { code: c.expect.code, message: [] }, label);
    } else {
      expectCorrect(ctx, op, await method.apply(backend, call.args), call, env, label);
    }
    watched.forEach(({ view, bytes }, i) => {
      expect(Array.from(bytesOf(view)), `${label}: argument view ${i} was modified`).toEqual(Array.from(bytes));
    });
  });
}

/**
 * The hostile-input cases (src/hostile-inputs.ts) for one dtype: each as a test per method of its
 * kinds. Cases that need what the environment lacks (node:vm in a browser) are not registered.
 */
export function registerHostileTests(ctx: SuiteContext): void {
  const cases = HOSTILE_CASES.filter(
    (c) => (c.dtypes ?? [ctx.dtype.name]).includes(ctx.dtype.name) && (c.needs ?? []).every((n) => HAS[n]),
  );
  for (const kind of ['forward', 'backward'] as const) {
    describe(`hostile inputs (${kind})`, () => {
      for (const c of cases.filter((c) => (c.kinds ?? [kind]).includes(kind))) {
        for (const op of opsOf(ctx, kind)) register(ctx, c, kind, op);
      }
    });
  }
}

/**
 * Where the own-memory cases put the arrays: P plain, M a live view of the backend's memory, S a
 * stale one. Large cases (2 × 40,000: 320 kB of float64 per row) make a backend that stages rows
 * in its memory allocate there, which can move or grow it under the caller's views.
 */
const OWN_MEMORY_PLACES = [
  { name: 'inputs in its memory', inputs: 'M', out: 'none' },
  { name: 'out in its memory', inputs: 'P', out: 'M' },
  { name: 'inputs and out in its memory', inputs: 'M', out: 'M' },
  { name: 'in place in its memory (out is the first input)', inputs: 'M', out: 'first' },
  { name: 'out in its memory overlapping the first input there', inputs: 'M', out: 'overlap' },
  { name: 'large inputs in its memory', inputs: 'M', out: 'none', large: true },
  { name: 'large inputs in its memory, out plain', inputs: 'M', out: 'P', large: true },
  { name: 'large inputs plain, out in its memory', inputs: 'P', out: 'M', large: true },
  { name: 'a stale view of its memory as the first input', inputs: 'S', out: 'none', stale: true },
  { name: 'a stale view of its memory as out', inputs: 'P', out: 'S', stale: true },
  // Memory freed under a large stale view is what the backend may take for its own work.
  { name: 'a large stale view of its memory as the first input', inputs: 'S', out: 'none', stale: true, large: true },
  { name: 'a large stale view of its memory as out', inputs: 'P', out: 'S', stale: true, large: true },
] as const;

const LARGE_COLS = 40_000;
const LARGE_LOGITS = uniform(2 * LARGE_COLS, -8, 8, 909);
const LARGE_UPSTREAM = uniform(2 * LARGE_COLS, -1, 1, 910);

/**
 * Views of the backend's own memory as inputs and `out` (ConformanceContract.ownMemory). The
 * promise: a correct result or a SoftmaxError, and the backend still correct on the next call.
 * `memory` is asked for views only inside the tests; the stale cases exist when it has `stale`.
 */
export function registerOwnMemoryTests(ctx: SuiteContext, memory: OwnMemory): void {
  const A = ctx.dtype.ArrayType;
  const d = ctx.dtype.name;
  const places = OWN_MEMORY_PLACES.filter((p) => !('stale' in p) || memory.stale);
  describe('views of its own memory', () => {
    for (const kind of ['forward', 'backward'] as const) {
      for (const op of opsOf(ctx, kind)) {
        for (const place of places) {
          it(`${op.name}: ${place.name} → a correct result or a SoftmaxError, then correct again`, async () => {
            const backend = ctx.backend();
            const large = 'large' in place;
            const cols = large ? LARGE_COLS : HOSTILE_COLS;
            const env = large ? envFor(ctx, kind, op, LARGE_LOGITS, LARGE_UPSTREAM, LARGE_COLS) : envFor(ctx, kind, op);
            const shape = { cols };
            const n = env.inputs[0].length;
            let out: FloatArray | undefined;
            const inputs = env.inputs.map((values, i) => {
              let array: FloatArray;
              if (place.inputs === 'P' || (place.inputs === 'S' && i > 0)) array = new A(n);
              else if (place.inputs === 'S') array = (memory.stale as NonNullable<OwnMemory['stale']>)(n, d);
              else if (i === 0 && place.out === 'overlap') {
                // One element more, so that the shifted out stays inside memory the caller holds.
                const whole = memory.view(n + 1, d);
                array = whole.subarray(0, n);
                out = whole.subarray(1, n + 1);
              } else array = memory.view(n, d);
              array.set(values);
              return array;
            });
            if (place.out === 'M') out = memory.view(n, d);
            else if (place.out === 'S') out = memory.stale?.(n, d);
            else if (place.out === 'P') out = new A(n);
            else if (place.out === 'first') out = inputs[0];
            const options = out ? { cols, out } : { cols };
            const label = `${op.name} ${place.name}`;
            const method = backend[op.name] as AnyCall;
            let result: unknown;
            const error = await failure(async () => {
              result = await method.apply(backend, [...inputs, options]);
            });
            if (error === undefined) expectCorrect(ctx, op, result, { args: [], shape }, env, label);
            else expectSoftmaxError(error, { code: (error as { code: never }).code, message: [] }, label);
            // The backend must still be right on an ordinary call.
            const plain = env.inputs.map((v) => A.from(v));
            const after = await method.apply(backend, [...plain, shape]);
            expectCorrect(ctx, op, after, { args: [], shape }, env, `${label}, then an ordinary call`);
          });
        }
      }
    }
  });
}
