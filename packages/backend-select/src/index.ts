/**
 * `@softmax/auto`: every call on the fastest correct backend of this machine. The functions take
 * `@softmax/core`'s arguments and return its results (as Promises; the *Sync twins return them).
 *
 * @module @softmax/auto
 */
import { ops } from './functions.js';

// One name per op of core's table (test/exports.test.ts fails when core gains an op not listed).
export const {
  /**
   * softmax on the fastest correct backend for this shape: `@softmax/core`'s arguments, its result as a Promise.
   *
   * @example
   * ```ts
   * import { softmax } from '@softmax/auto';
   *
   * const probs = await softmax(new Float32Array(4 * 32000), { cols: 32000, temperature: 0.7 }); // Float32Array
   * ```
   */
  softmax,
  /**
   * log-softmax on the fastest correct backend: `@softmax/core`'s arguments, its result as a Promise.
   *
   * @example
   * ```ts
   * import { logSoftmax } from '@softmax/auto';
   *
   * const logp = await logSoftmax([1, 2, 3]); // Float64Array
   * ```
   */
  logSoftmax,
  /**
   * The softmax gradient on the fastest correct backend, as a Promise.
   *
   * @example
   * ```ts
   * import { softmax, softmaxBackward } from '@softmax/auto';
   *
   * const y = await softmax(logits, { cols });
   * const dx = await softmaxBackward(y, dy, { cols });
   * ```
   */
  softmaxBackward,
  /**
   * The log-softmax gradient on the fastest correct backend, as a Promise.
   *
   * @example
   * ```ts
   * import { logSoftmax, logSoftmaxBackward } from '@softmax/auto';
   *
   * const y = await logSoftmax(logits, { cols });
   * const dx = await logSoftmaxBackward(y, dy, { cols });
   * ```
   */
  logSoftmaxBackward,
  /**
   * log Σ exp(x / T) per row on the fastest correct backend, as a Promise.
   *
   * @example
   * ```ts
   * import { logSumExp } from '@softmax/auto';
   *
   * const lse = await logSumExp(new Float32Array([0, 0, 1, 1]), { cols: 2 }); // Float32Array(2)
   * ```
   */
  logSumExp,
  /**
   * Fused softmax cross-entropy on the fastest backend that declares it, as a Promise.
   *
   * @example
   * ```ts
   * import { crossEntropy } from '@softmax/auto';
   *
   * const { loss, grad } = await crossEntropy(logits, new Int32Array([3, -100]), { cols: 32000, gradient: true });
   * ```
   */
  crossEntropy,
  /**
   * Seeded sampling (one token per row) on a backend that declares it, as a Promise.
   *
   * @example
   * ```ts
   * import { sample } from '@softmax/auto';
   *
   * const { tokens } = await sample(logits, { cols: 32000, temperature: 0.7, topP: 0.9, seed: 42, step: 0 });
   * ```
   */
  sample,
  /**
   * softmax's sync twin: core, or wasm once `ready()` has resolved.
   *
   * @example
   * ```ts
   * import { ready, softmaxSync } from '@softmax/auto';
   *
   * await ready();
   * const probs = softmaxSync(new Float32Array([1, 2, 3])); // Float32Array, no Promise
   * ```
   */
  softmaxSync,
  /**
   * logSoftmax's sync twin: core, or wasm once `ready()` has resolved.
   *
   * @example
   * ```ts
   * import { logSoftmaxSync } from '@softmax/auto';
   *
   * const logp = logSoftmaxSync([1, 2, 3]); // Float64Array
   * ```
   */
  logSoftmaxSync,
  /**
   * softmaxBackward's sync twin.
   *
   * @example
   * ```ts
   * import { softmaxBackwardSync, softmaxSync } from '@softmax/auto';
   *
   * const dx = softmaxBackwardSync(softmaxSync(logits, { cols }), dy, { cols });
   * ```
   */
  softmaxBackwardSync,
  /**
   * logSoftmaxBackward's sync twin.
   *
   * @example
   * ```ts
   * import { logSoftmaxBackwardSync, logSoftmaxSync } from '@softmax/auto';
   *
   * const dx = logSoftmaxBackwardSync(logSoftmaxSync(logits, { cols }), dy, { cols });
   * ```
   */
  logSoftmaxBackwardSync,
  /**
   * logSumExp's sync twin.
   *
   * @example
   * ```ts
   * import { logSumExpSync } from '@softmax/auto';
   *
   * const lse = logSumExpSync([0, 0]); // Float64Array [log 2]
   * ```
   */
  logSumExpSync,
  /**
   * crossEntropy's sync twin.
   *
   * @example
   * ```ts
   * import { crossEntropySync } from '@softmax/auto';
   *
   * const { loss } = crossEntropySync(new Float32Array([2, 0, 0]), [0], { cols: 3 });
   * ```
   */
  crossEntropySync,
  /**
   * sample's sync twin.
   *
   * @example
   * ```ts
   * import { sampleSync } from '@softmax/auto';
   *
   * const { tokens } = sampleSync(new Float32Array([1, 5, 2]), { cols: 3, temperature: 0 }); // Int32Array [1]
   * ```
   */
  sampleSync,
} = ops;

export { type Explain, type ExplainBackend, type ExplainBucket, formatExplain } from './explain.js';
export type { Fingerprint } from './fingerprint.js';
export { defaultInstance, ready } from './functions.js';
export {
  type AsyncOps,
  AutoSoftmax,
  type CalibrateOptions,
  createSoftmax,
  type DemotionEntry,
  type FailureEntry,
  type ProfileReport,
  type SyncOps,
} from './instance.js';
export type { SoftmaxAutoOptions } from './options.js';
export type { Profile, ProfileBucket, ProfileEntry } from './profile.js';
export { jsonFileStore, localStorageStore, STORE_KEY, type Store } from './store.js';
export type { BackendName, CandidateId, ChoiceSource, Loaded, Loaders } from './types.js';
