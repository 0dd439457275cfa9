import { SoftmaxError } from './errors.js';
import type { OpCall, OpDecl } from './ops/declaration.js';
import type { Async, Either, Sync } from './ops/returns.js';
import { OP_NAMES, OPS, type OpMethods, type OpName } from './ops/table.js';
import { resultOf } from './result.js';
import type { Dtype } from './types.js';
import { validateCall } from './validate.js';

/** Which ops a backend implements, and in which float types. An op left out is UNSUPPORTED_OP. */
export type OpSupport = { readonly [K in OpName]?: readonly Dtype[] };

/**
 * The contract every backend implements: a method per op of the op table (each may return a
 * Promise), what it supports, and `dispose()`. Build one with `defineBackend` or `BackendBase`.
 */
export interface Backend extends OpMethods<Either> {
  /** Short stable name, e.g. 'core', 'wasm', 'webgpu'. */
  readonly name: string;
  /** Which ops, in which float types. */
  readonly ops: OpSupport;
  /** Every float type some op computes in; others are rejected with UNSUPPORTED_DTYPE. */
  readonly dtypes: readonly Dtype[];
  /** Releases what the backend holds (memory, devices). Calls after dispose are not supported. */
  dispose(): void | Promise<void>;
}

/**
 * A base class for backends: a method per op of the table, each validating its arguments once
 * (core's rules and messages), allocating the results, answering empty calls, and handing the
 * call to `run`. `returns` says whether `run` is synchronous; an asynchronous backend's methods
 * reject (never throw) on bad input.
 *
 * @example
 * ```ts
 * import { BackendBase, type OpCall, type OpSupport } from '@softmax/core/backend';
 *
 * class MyBackend extends BackendBase {
 *   readonly name = 'mine';
 *   readonly ops: OpSupport = { softmax: ['float32'] };
 *   readonly returns = 'sync' as const;
 *   run(call: OpCall): void {
 *     call.op.reference(call); // a real backend runs its own kernel here
 *   }
 *   dispose(): void {}
 * }
 * new MyBackend().softmax(new Float32Array([1, 2, 3])); // validated by core, then run()
 * ```
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the op methods are installed on the prototype from the op table (opMethods).
export abstract class BackendBase<R extends Sync | Async = Sync> {
  /** The backend's name (`'core'`, `'wasm'`, ...), as error messages and explain() print it. */
  abstract readonly name: string;
  /** Which ops it implements, in which float types; the others fail with `UNSUPPORTED_OP`. */
  abstract readonly ops: OpSupport;
  /** `'sync'` or `'async'`: whether `run` (and so every method) returns a Promise. */
  abstract readonly returns: R;
  /**
   * Runs one validated call with at least one row: fills `call.outputs`. A backend may replace an
   * output with another view of the same memory (wasm, after its memory grew).
   */
  abstract run(call: OpCall): R extends Sync ? void : Promise<void>;
  /** Frees what the backend holds; later calls fail with `BACKEND_UNAVAILABLE`. */
  abstract dispose(): void | Promise<void>;
  /**
   * Optional, for synchronous backends: called before a call's validation and after its run
   * (`ok`: it returned). A backend that must refuse a call made while another runs (from a getter
   * of the options, say) throws from `beforeCall`; `afterCall` may throw to fail a call that returned (the
   * backend was disposed while it ran).
   */
  beforeCall?(): void;
  /** See `beforeCall`. */
  afterCall?(ok: boolean): void;

  // The op methods go on the prototype as the class is defined. A pure static initializer rather
  // than a statement after the class: a bundle that never uses BackendBase drops it, and with it
  // the op table (every op's declaration and kernel), which `import { softmax }` does not need.
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: defining it is its purpose; nothing reads it.
  private static readonly opMethods = /* @__PURE__ */ installOpMethods(this);

  /** The float types some op of the backend computes in. */
  get dtypes(): readonly Dtype[] {
    const all = new Set<Dtype>();
    for (const name of OP_NAMES) for (const d of this.ops[name] ?? []) all.add(d);
    return (['float32', 'float64'] as const).filter((d) => all.has(d));
  }
}
export interface BackendBase<R extends Sync | Async = Sync> extends OpMethods<R> {}

/** Validates, answers an empty call, runs, and returns the result (rejecting, on an async backend). */
function dispatch(backend: BackendBase<Sync | Async>, op: OpDecl, args: ArrayLike<unknown>): unknown {
  const async = backend.returns === 'async';
  try {
    const dtypes = backend.ops[op.name as OpName];
    if (!dtypes) {
      throw new SoftmaxError('UNSUPPORTED_OP', `the ${backend.name} backend does not implement ${op.name}`);
    }
    const call = validateCall(op, args, dtypes);
    if (call.rows === 0) return async ? Promise.resolve(resultOf(call)) : resultOf(call);
    const ran = backend.run(call);
    return async ? (ran as Promise<void>).then(() => resultOf(call)) : resultOf(call);
  } catch (error) {
    if (async) return Promise.reject(error);
    throw error;
  }
}

/** A synchronous call between the backend's beforeCall() and afterCall(ok). */
function guarded(backend: BackendBase<Sync | Async>, op: OpDecl, args: ArrayLike<unknown>): unknown {
  backend.beforeCall?.();
  let ok = false;
  try {
    const result = dispatch(backend, op, args);
    ok = true;
    return result;
  } finally {
    backend.afterCall?.(ok);
  }
}

/** Puts a method for every op of the table on BackendBase's prototype (once, as the class is defined). */
function installOpMethods(base: { prototype: object }): true {
  for (const name of OP_NAMES) {
    const op = OPS[name];
    Object.defineProperty(base.prototype, name, {
      value: function (this: BackendBase<Sync | Async>, ...args: unknown[]) {
        return this.beforeCall ? guarded(this, op, args) : dispatch(this, op, args);
      },
      writable: true,
      configurable: true,
    });
  }
  return true;
}

/** The parts `defineBackend` makes a backend of. */
export interface BackendDefinition<R extends Sync | Async> {
  /** The backend's name. */
  name: string;
  /** Which ops it implements, in which float types. */
  ops: OpSupport;
  /** `'sync'` or `'async'`. */
  returns: R;
  /** Runs one validated call with at least one row: fills `call.outputs`. */
  run(call: OpCall): R extends Sync ? void : Promise<void>;
  /** Frees what the backend holds (optional). */
  dispose?(): void | Promise<void>;
}

/**
 * A backend from its parts: `defineBackend({ name, ops, returns: 'sync', run })`.
 *
 * @example
 * ```ts
 * import { defineBackend } from '@softmax/core/backend';
 *
 * const mine = defineBackend({
 *   name: 'mine',
 *   ops: { softmax: ['float32', 'float64'] },
 *   returns: 'sync',
 *   run: (call) => call.op.reference(call), // your kernel: fill call.outputs
 * });
 * mine.softmax([1, 2, 3]); // Float64Array; mine.logSoftmax(...) throws UNSUPPORTED_OP
 * ```
 */
export function defineBackend<R extends Sync | Async>(definition: BackendDefinition<R>): BackendBase<R> & Backend {
  const { name, ops, returns, run, dispose } = definition;
  class Defined extends BackendBase<R> {
    readonly name = name;
    readonly ops = ops;
    readonly returns = returns;
    run(call: OpCall) {
      return run(call);
    }
    dispose() {
      return dispose?.();
    }
  }
  return new Defined() as BackendBase<R> & Backend;
}

/**
 * Every op of `backend` as a plain function (for module-level exports).
 *
 * @example
 * ```ts
 * import { createCoreBackend } from '@softmax/core';
 * import { functionsOf } from '@softmax/core/backend';
 *
 * const { softmax, logSumExp } = functionsOf(createCoreBackend());
 * softmax([1, 2, 3]); // a plain function, no `this` needed
 * ```
 */
export function functionsOf<R extends Sync | Async>(backend: BackendBase<R>): OpMethods<R> {
  const functions: Record<string, unknown> = {};
  for (const name of OP_NAMES) functions[name] = (backend[name] as (...a: unknown[]) => unknown).bind(backend);
  return functions as unknown as OpMethods<R>;
}
