import type { OpName } from '@softmax/core';
import { defaultInstance } from './impl.js';
import type { SyncOps } from './instance.js';

/**
 * The sync twins, one per op of core's table, on the default instance. They answer at once (core,
 * or wasm once `ready()` has resolved), so they import the implementation statically; each is a pure
 * statement of its own, and a bundle that uses none of them carries none of it.
 */
function syncOp<K extends OpName>(name: K): SyncOps[`${K}Sync`] {
  return ((...args: unknown[]) => defaultInstance().callSync(name, args)) as SyncOps[`${K}Sync`];
}

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
export const softmaxSync = /* @__PURE__ */ syncOp('softmax');

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
export const logSoftmaxSync = /* @__PURE__ */ syncOp('logSoftmax');

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
export const softmaxBackwardSync = /* @__PURE__ */ syncOp('softmaxBackward');

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
export const logSoftmaxBackwardSync = /* @__PURE__ */ syncOp('logSoftmaxBackward');

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
export const logSumExpSync = /* @__PURE__ */ syncOp('logSumExp');

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
export const crossEntropySync = /* @__PURE__ */ syncOp('crossEntropy');

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
export const sampleSync = /* @__PURE__ */ syncOp('sample');
