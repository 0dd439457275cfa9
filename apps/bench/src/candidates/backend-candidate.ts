import type { Mode, Op } from '@softmax/bench-scenarios';
import type { Backend } from '@softmax/core';
import type { Loaded, OperandArray, Output, Prepared, Problem } from '../candidate.js';
import { overwrittenInputs } from '../inputs.js';

/**
 * The problem's inputs as one candidate calls them: the shared arrays, except those its call writes
 * over (crossEntropy's logits with `gradient: 'in-place'`), which are copies of its own; `restore`
 * puts the shared values back into them (undefined when nothing is overwritten).
 */
export function workingInputs(p: Problem): { inputs: OperandArray[]; restore?: () => void } {
  const overwritten = overwrittenInputs(p.op, p.options);
  if (overwritten.length === 0) return { inputs: p.inputs };
  const inputs = p.inputs.map((a, i) => (overwritten.includes(i) ? a.slice() : a));
  return {
    inputs,
    restore() {
      for (const i of overwritten) inputs[i].set(p.inputs[i] as never);
    },
  };
}

/** The arguments of a user call of the problem's op: its inputs, then its options with cols. */
export const argsOf = (p: Problem, inputs: readonly OperandArray[]): unknown[] => [
  ...inputs,
  { ...p.options, cols: p.cols },
];

type Method = (this: Backend, ...a: unknown[]) => unknown;

/**
 * One call of the problem's op as a user writes it: arrays in, a new options object each call,
 * a new array (or result object) out. Written out for one and two inputs with no options but
 * cols (every softmax-family scenario), so the harness adds no spread or copy to a small call
 * that the code it measures would not have.
 */
function caller(backend: Backend, p: Problem, inputs: readonly OperandArray[]): () => unknown {
  const method = backend[p.op] as unknown as Method;
  const { cols } = p;
  if (Object.keys(p.options).length === 0) {
    const [a, b] = inputs;
    if (inputs.length === 1) return () => method.call(backend, a, { cols });
    if (inputs.length === 2) return () => method.call(backend, a, b, { cols });
  }
  return () => method.call(backend, ...argsOf(p, inputs));
}

/**
 * The user-facing measurement shared by every @softmax backend (core, wasm, webgpu): the
 * public `Backend` API, input array to output array, including validation and readback.
 */
export function userPrepared(backend: Backend, p: Problem, isAsync: boolean, memoryBytes?: () => number): Prepared {
  const { inputs, restore } = workingInputs(p);
  const call = caller(backend, p, inputs);
  let last: unknown;
  return {
    async: isAsync,
    // An async call's Promise is what the harness awaits, once, as a user's `await softmax(x)`:
    // an async wrapper of its own would add a second await (and a Promise) to every timed call.
    run: isAsync
      ? () => {
          last = call();
          return last as Promise<unknown>;
        }
      : () => {
          last = call();
        },
    output: async () => (await last) as Output,
    ...(restore ? { beforeEach: restore } : {}),
    ...(memoryBytes ? { memoryBytes } : {}),
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
    /** The backend's own memory in bytes (wasm's linear memory), for the memory figures. */
    memoryBytes?: () => number;
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
      return userPrepared(backend, p, opts.isAsync, opts.memoryBytes);
    },
    dispose: () => backend.dispose(),
  };
}
