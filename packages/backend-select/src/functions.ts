import type { OpName } from '@softmax/core';
import type { AsyncOps, AutoSoftmax } from './instance.js';

/**
 * The module-level async functions, one per op of core's table, on the default instance. They
 * reach the implementation (the instance, @softmax/core) only through import() at the first call:
 * importing the package does no work, and a bundle of these functions alone keeps it in a chunk of
 * its own, fetched at that call.
 */

/** The default instance once a call has loaded it: later calls go to it with no await in between. */
let loaded: AutoSoftmax | undefined;
let loading: Promise<AutoSoftmax> | undefined;

function load(): Promise<AutoSoftmax> {
  loading ??= import('./impl.js').then(
    (impl) => {
      loaded = impl.defaultInstance();
      return loaded;
    },
    (error: unknown) => {
      // A chunk that did not arrive (or a bad SOFTMAX_BACKEND) fails this call; the next one tries again.
      loading = undefined;
      throw error;
    },
  );
  return loading;
}

/** The async function of op `name`: `@softmax/core`'s arguments, its result as a Promise. */
function asyncOp<K extends OpName>(name: K): AsyncOps[K] {
  return ((...args: unknown[]) =>
    loaded ? loaded.callAsync(name, args) : load().then((auto) => auto.callAsync(name, args))) as AsyncOps[K];
}

// One name per op of core's table (test/exports.test.ts fails when core gains an op not listed),
// each a pure statement of its own, so that a bundle keeps only the functions a page imports.
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
export const softmax = /* @__PURE__ */ asyncOp('softmax');

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
export const logSoftmax = /* @__PURE__ */ asyncOp('logSoftmax');

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
export const softmaxBackward = /* @__PURE__ */ asyncOp('softmaxBackward');

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
export const logSoftmaxBackward = /* @__PURE__ */ asyncOp('logSoftmaxBackward');

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
export const logSumExp = /* @__PURE__ */ asyncOp('logSumExp');

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
export const crossEntropy = /* @__PURE__ */ asyncOp('crossEntropy');

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
export const sample = /* @__PURE__ */ asyncOp('sample');

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
export const ready = (): Promise<void> => (loaded ? loaded.ready() : load().then((auto) => auto.ready()));
