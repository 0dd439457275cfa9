import { type AutoSoftmax, createDefault } from './instance.js';

/**
 * The default instance, created at its first use. The async functions import() this module at
 * their first call, so a bundle of them alone keeps it (and @softmax/core) in a chunk of its own.
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
