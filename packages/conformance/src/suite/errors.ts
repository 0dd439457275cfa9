import { type Backend, type Dtype, SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { ALL_DTYPES, DTYPES } from '../dtypes.js';
import { BAD_INPUTS, type BadInput } from '../vectors.js';

type AnyCall = (...args: unknown[]) => unknown;

/** The backend's methods as plain functions of unknown arguments (bad input is the point). */
const METHODS = {
  forward: ['softmax', 'logSoftmax'],
  backward: ['softmaxBackward', 'logSoftmaxBackward'],
} as const;

/** Runs a call that must fail; returns what it threw or rejected with (undefined if it succeeded). */
export async function failure(call: () => unknown): Promise<unknown> {
  try {
    await call();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Copies of every array argument (typed arrays and number[]), to prove they come back unchanged. */
function snapshot(args: unknown[]): unknown[] {
  return args.map((a) => (ArrayBuffer.isView(a) || Array.isArray(a) ? structuredClone(a) : a));
}

/** Fills the float arrays among the arguments with distinct values, so any write shows. */
function fill(args: unknown[]): unknown[] {
  for (const a of args) {
    if (a instanceof Float32Array || a instanceof Float64Array) for (let i = 0; i < a.length; i++) a[i] += i + 0.5;
  }
  return args;
}

/** Asserts that `error` is a SoftmaxError (of any copy of `@softmax/core`) with the row's code and message parts. */
export function expectSoftmaxError(error: unknown, row: Pick<BadInput, 'code' | 'message'>, label: string): void {
  expect(error, `${label}: the call did not fail`).toBeDefined();
  // instanceof fails when a backend bundles its own copy of @softmax/core; the name still tells.
  const isSoftmaxError = error instanceof SoftmaxError || (error as Error)?.name === 'SoftmaxError';
  expect(isSoftmaxError, `${label}: not a SoftmaxError: ${String(error)}`).toBe(true);
  const { code, message } = error as SoftmaxError;
  expect(code, `${label}: ${message}`).toBe(row.code);
  for (const part of row.message) expect(message, label).toContain(part);
}

export function registerErrorTests(backendOf: () => Backend, dtypes: readonly Dtype[]): void {
  const A = DTYPES[dtypes[0]].ArrayType;
  // The ops of each family this backend declares (the others are reported by coverage.ts).
  const declared = (kind: keyof typeof METHODS) => METHODS[kind].filter((method) => backendOf().ops[method]);
  const rows = BAD_INPUTS.flatMap((row) => declared(row.kind).map((method) => ({ ...row, method })));

  it.each(rows)('$method: $name → $code', async (row) => {
    const args = fill(row.args(A));
    const before = snapshot(args);
    const call = backendOf()[row.method] as AnyCall;
    const error = await failure(() => call.apply(backendOf(), args));
    expectSoftmaxError(error, row, `${row.method} ${row.name}`);
    expect(args, 'the arguments were modified').toEqual(before);
  });

  // Dtypes the backend does not list must be refused, whether as a typed array or as number[] (float64).
  const unlisted = ALL_DTYPES.filter((d) => !dtypes.includes(d)).flatMap((d) => {
    const typed = DTYPES[d].ArrayType.name;
    const inputs =
      d === 'float64'
        ? [
            { label: typed, make: () => new Float64Array(3) },
            { label: 'number[]', make: () => [1, 2, 3] },
          ]
        : [{ label: typed, make: () => new Float32Array(3) }];
    return inputs.flatMap(({ label, make }) => [
      ...declared('forward').map((method) => ({ method, label, args: () => [make()] })),
      ...declared('backward').map((method) => ({ method, label, args: () => [make(), make()] })),
    ]);
  });
  if (unlisted.length === 0) return;
  describe('dtypes the backend does not list', () => {
    it.each(unlisted)('$method($label) → UNSUPPORTED_DTYPE', async ({ method, label, args }) => {
      const a = fill(args());
      const before = snapshot(a);
      const call = backendOf()[method] as AnyCall;
      const error = await failure(() => call.apply(backendOf(), a));
      expectSoftmaxError(
        error,
        { code: 'UNSUPPORTED_DTYPE', message: [label.replace('[]', '')] },
        `${method}(${label})`,
      );
      expect(a).toEqual(before);
    });
  });
}
