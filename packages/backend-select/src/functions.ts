import { OP_NAMES } from '@softmax/core/backend';
import { type AsyncOps, AutoSoftmax, createDefault, type SyncOps } from './instance.js';

/**
 * The module-level functions: one async function and one sync twin per op of core's table, on a
 * default instance created at the first call (importing this module does no work).
 */
let instance: AutoSoftmax | undefined;

/**
 * The default instance (SOFTMAX_BACKEND, read when it is created, forces its backend).
 *
 * @example
 * ```ts
 * import { defaultInstance, softmax } from '@softmax/auto';
 *
 * await softmax([1, 2, 3]); // runs on the default instance
 * console.log(defaultInstance().explain().buckets); // what it learned
 * ```
 */
export function defaultInstance(): AutoSoftmax {
  instance ??= createDefault();
  return instance;
}

const functions: Record<string, unknown> = {};
for (const name of OP_NAMES) {
  functions[name] = (...args: unknown[]) => defaultInstance().callAsync(name, args);
  functions[`${name}Sync`] = (...args: unknown[]) => defaultInstance().callSync(name, args);
}

export const ops = functions as unknown as AsyncOps & SyncOps;

/**
 * Resolves once the default instance's CPU backends are ready (the sync functions then use wasm).
 *
 * @example
 * ```ts
 * import { ready, softmaxSync } from '@softmax/auto';
 *
 * await ready(); // core and wasm loaded and verified
 * softmaxSync(new Float32Array([1, 2, 3])); // served by wasm
 * ```
 */
export const ready = (): Promise<void> => defaultInstance().ready();

export { AutoSoftmax };
