import type { OpSupport } from './define-backend.js';
import { defineBackend } from './define-backend.js';
import { opFunction } from './op-function.js';
import { logSoftmaxBackwardOp, softmaxBackwardOp } from './ops/backward.js';
import { crossEntropyOp } from './ops/cross-entropy.js';
import { logSumExpOp } from './ops/log-sum-exp.js';
import { sampleOp } from './ops/sample.js';
import { logSoftmaxOp, softmaxOp } from './ops/softmax.js';
import { OP_NAMES } from './ops/table.js';

/** Every op of the table, in both float types. */
function everyOp(): OpSupport {
  return Object.fromEntries(OP_NAMES.map((name) => [name, ['float32', 'float64']]));
}

// Pure: a bundle that does not use createCoreBackend drops it, and the op table it reads.
const EVERY_OP = /* @__PURE__ */ everyOp();

/**
 * The reference backend: float64 inside, synchronous, every op in float32 and float64.
 *
 * @example
 * ```ts
 * import { createCoreBackend } from '@softmax/core';
 *
 * const core = createCoreBackend(); // a Backend, like createWasmBackend()'s, but synchronous from the start
 * const y = core.softmax(new Float32Array([1, 2, 3]));
 * console.log(core.name, core.ops.softmax); // 'core' ['float32', 'float64']
 * ```
 */
export function createCoreBackend() {
  return defineBackend({ name: 'core', ops: EVERY_OP, returns: 'sync', run: (call) => call.op.reference(call) });
}

// The reference implementation of every op, as functions: `softmax(x, options)` and the rest (see
// the op table, ops/table.ts, for what each one takes). Each is built from its own op's declaration,
// so a bundle keeps only the functions it imports, each with its own declaration and kernel.

/**
 * y = softmax(x / temperature) along each row of rows × cols, computed in float64 and rounded
 * once (Float32Array in → Float32Array out; `number[]` → Float64Array).
 *
 * @example
 * ```ts
 * import { softmax } from '@softmax/core';
 *
 * softmax([2, 1, 0.1]); // Float64Array [0.659, 0.242, 0.0986]
 * const probs = softmax(new Float32Array(4 * 32000), { cols: 32000, temperature: 0.7 }); // 4 rows
 * softmax(probs, { cols: 32000, out: probs }); // in place
 * ```
 */
export const softmax = /* @__PURE__ */ opFunction(softmaxOp);

/**
 * log(softmax(x / temperature)) along each row, keeping full relative accuracy where one logit
 * dominates.
 *
 * @example
 * ```ts
 * import { logSoftmax } from '@softmax/core';
 *
 * logSoftmax([0, Infinity, Infinity]); // Float64Array [-Infinity, -0.693, -0.693]
 * logSoftmax(new Float32Array([-Infinity, -Infinity]), { fullyMasked: 'zero' }); // [-Infinity, -Infinity]
 * ```
 */
export const logSoftmax = /* @__PURE__ */ opFunction(logSoftmaxOp);

/**
 * The gradient of softmax with respect to the raw logits, from its output `y` and the upstream
 * gradient `dy`: dx = y ⊙ (dy − Σ dy·y) / T per row.
 *
 * @example
 * ```ts
 * import { softmax, softmaxBackward } from '@softmax/core';
 *
 * const y = softmax(new Float32Array([1, 2, 3, 4]), { cols: 2, temperature: 0.5 });
 * const dy = new Float32Array([1, 0, 0, 1]);
 * const dx = softmaxBackward(y, dy, { cols: 2, temperature: 0.5 }); // Float32Array(4)
 * ```
 */
export const softmaxBackward = /* @__PURE__ */ opFunction(softmaxBackwardOp);

/**
 * The gradient of log-softmax from its output `y` (a log-probability) and `dy`:
 * dx = (dy − exp(y) · Σ dy) / T per row.
 *
 * @example
 * ```ts
 * import { logSoftmax, logSoftmaxBackward } from '@softmax/core';
 *
 * const y = logSoftmax([1, 2, 3]);
 * const dx = logSoftmaxBackward(y, [0, 0, 1]); // d(log p_2)/dx: Float64Array [-p0, -p1, 1 - p2]
 * ```
 */
export const logSoftmaxBackward = /* @__PURE__ */ opFunction(logSoftmaxBackwardOp);

/**
 * log Σ exp(x / T) per row: one value per row.
 *
 * @example
 * ```ts
 * import { logSumExp } from '@softmax/core';
 *
 * logSumExp([0, 0]); // Float64Array [0.693...] (log 2)
 * logSumExp(new Float32Array([1, 2, 3, 4]), { cols: 2 }); // Float32Array(2), one per row
 * ```
 */
export const logSumExp = /* @__PURE__ */ opFunction(logSumExpOp);

/**
 * Fused softmax cross-entropy: the loss, and optionally its gradient (new, into `gradOut`, or
 * in place over the logits) and each row's log-sum-exp.
 *
 * @example
 * ```ts
 * import { crossEntropy } from '@softmax/core';
 *
 * const logits = new Float32Array([2, 0, 0, 0, 3, 0]); // 2 rows of 3 classes
 * const { loss, grad } = crossEntropy(logits, [0, 1], { cols: 3, gradient: true, labelSmoothing: 0.1 });
 * crossEntropy(logits, new Int32Array([0, -100]), { cols: 3, gradient: 'in-place' }); // row 1 ignored
 * ```
 */
export const crossEntropy = /* @__PURE__ */ opFunction(crossEntropyOp);

/**
 * Draws one token per row of rows × cols logits, seeded (Philox4x32-10 keyed by seed, row and
 * step), after penalties, bias, mask, temperature, top-k, top-p and min-p.
 *
 * @example
 * ```ts
 * import { sample } from '@softmax/core';
 *
 * const logits = new Float32Array([1, 5, 2, 0, 0, 9, 0, 9]); // 2 rows, vocabulary of 4
 * sample(logits, { cols: 4, temperature: 0 }).tokens; // Int32Array [1, 1] (greedy, ties to the lowest id)
 * const { tokens, logprobs } = sample(logits, { cols: 4, topK: 2, seed: 42, step: 7, logprobs: true });
 * ```
 */
export const sample = /* @__PURE__ */ opFunction(sampleOp);
