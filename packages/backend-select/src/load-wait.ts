/**
 * Letting a candidate's load finish while calls run. A loop of awaited calls that all run
 * synchronously on a ready candidate (core) never gives the event loop a turn, and a load
 * resolves in tasks (a dynamic import, a WebAssembly compile) that run only after every
 * microtask: without a turn, wasm would never finish loading under such a loop, and core would
 * serve every call however slow.
 */

/** An async call gives the event loop a turn at most once per this many ms while a load is pending. */
export const YIELD_EVERY_MS = 1;

/**
 * A call estimated to cost at least this on what is ready waits for a faster candidate's load,
 * up to that estimate (so it costs at most twice its estimate); a shorter one only yields.
 */
export const WAIT_MIN_MS = 1;

/** Most ms an instance waits for loads over its lifetime, so that a load that hangs costs a bounded delay. */
export const WAIT_BUDGET_MS = 2000;

/** One turn of the event loop (a macrotask: setImmediate in Node, a message elsewhere). */
export function macrotask(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(0);
  });
}

/** Waits for `promise` (its outcome ignored) or `ms`, whichever comes first; no timer is left behind. */
export function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([promise.then(noop, noop), timeout]).finally(() => clearTimeout(timer));
}

const noop = () => {};
