import type { Mode, Op } from '@softmax/bench-scenarios';
import type { Backend, FloatArray } from '@softmax/core';
import type { Loaded, Prepared, Problem } from '../candidate.js';

/** Calls one op of a @softmax Backend as a user does: arrays in, a new array out. */
function call(backend: Backend, p: Problem): unknown {
  return (backend[p.op] as (...args: unknown[]) => unknown).call(backend, ...p.inputs, { cols: p.cols });
}

/**
 * The user-facing measurement shared by every @softmax backend (core, wasm, webgpu): the
 * public `Backend` API, input array to output array, including validation and readback.
 */
export function userPrepared(backend: Backend, p: Problem, isAsync: boolean): Prepared {
  let last: unknown;
  return {
    async: isAsync,
    run: isAsync
      ? async () => {
          last = await call(backend, p);
        }
      : () => {
          last = call(backend, p);
        },
    output: async () => (await last) as FloatArray,
    dispose() {},
  };
}

/** A Loaded for a @softmax backend, with an optional kernel-only path. */
export function backendLoaded(
  backend: Backend,
  version: string,
  opts: {
    isAsync: boolean;
    details?: Record<string, string>;
    kernel?: { ops: Op[]; prepare(p: Problem): Promise<Prepared> };
  },
): Loaded {
  return {
    version,
    details: opts.details,
    supports(op: Op, dtype, mode: Mode) {
      if (!backend.ops[op]?.includes(dtype)) return false;
      if (mode === 'user') return true;
      return opts.kernel?.ops.includes(op) ?? false;
    },
    async prepare(p) {
      if (p.mode === 'kernel') return opts.kernel!.prepare(p);
      return userPrepared(backend, p, opts.isAsync);
    },
    dispose: () => backend.dispose(),
  };
}
