import { type OpCall, type OperandArray, resultOf } from '@softmax/core/backend';
import type { Backend } from './types.js';

/**
 * Running one validated call on a backend. auto validates each call once, with core's rules, and
 * hands the validated call to the chosen backend's `run` (what `defineBackend`/`BackendBase` give
 * every backend), so a call is validated once however many backends it is tried on.
 */
export interface Runnable extends Backend {
  readonly returns?: 'sync' | 'async';
  run(call: OpCall): void | Promise<void>;
  begin?(): void;
  end?(ok: boolean): void;
}

export function isRunnable(backend: Backend): backend is Runnable {
  return typeof (backend as Partial<Runnable>).run === 'function';
}

export const isSync = (backend: Backend): boolean => (backend as Partial<Runnable>).returns === 'sync';

/** A synchronous backend's run, inside its begin/end hooks (its re-entrancy guard, wasm's). */
export function runSync(backend: Runnable, call: OpCall): void {
  backend.begin?.();
  let ok = false;
  try {
    backend.run(call);
    ok = true;
  } finally {
    backend.end?.(ok);
  }
}

/** What a call returns, formed by core exactly as its own dispatch forms it (an op's `finish` included). */
export { resultOf };

/** The same call with its own output list (a backend may replace outputs; a retry starts over). */
export const attemptOf = (call: OpCall, outputs: readonly OperandArray[]): OpCall => ({
  ...call,
  outputs: [...outputs],
});

/**
 * Copies of the inputs an output overwrites in place: a backend that fails half-way may have
 * written part of its result over them, and the retry needs the caller's values back.
 */
export function inPlaceInputs(call: OpCall): ReadonlyArray<{ target: OperandArray; copy: OperandArray }> {
  let saved: Array<{ target: OperandArray; copy: OperandArray }> | undefined;
  for (let i = 0; i < call.outputs.length; i++) {
    if (!call.provided[i]) continue;
    const out = call.outputs[i];
    for (const input of call.inputs) {
      if (input.buffer === out.buffer && !saved?.some((s) => s.target === input)) {
        saved ??= [];
        saved.push({ target: input, copy: input.slice() });
      }
    }
  }
  // Most calls write a new result: nothing to save, and nothing allocated for it.
  return saved ?? NOTHING_SAVED;
}

const NOTHING_SAVED: ReadonlyArray<{ target: OperandArray; copy: OperandArray }> = Object.freeze([]);
