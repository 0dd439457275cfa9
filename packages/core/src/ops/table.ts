import type { BackwardMethods } from './backward.js';
import { logSoftmaxBackwardOp, softmaxBackwardOp } from './backward.js';
import type { CrossEntropyMethods } from './cross-entropy.js';
import { crossEntropyOp } from './cross-entropy.js';
import type { LogSumExpMethods } from './log-sum-exp.js';
import { logSumExpOp } from './log-sum-exp.js';
import type { Sync } from './returns.js';
import type { SampleMethods } from './sample.js';
import { sampleOp } from './sample.js';
import type { ForwardMethods } from './softmax.js';
import { logSoftmaxOp, softmaxOp } from './softmax.js';

/**
 * The op table: every operation of every backend, declared once. A backend states which of
 * these it implements (and for which float types); `defineBackend` gives it a method per op.
 *
 * @example
 * ```ts
 * import { OPS } from '@softmax/core/backend';
 *
 * OPS.softmax.inputs; // its operands: x, rows × cols floats
 * const ref = OPS.logSumExp.reference; // the float64 reference kernel of the op
 * ```
 */
export const OPS = {
  softmax: softmaxOp,
  logSoftmax: logSoftmaxOp,
  softmaxBackward: softmaxBackwardOp,
  logSoftmaxBackward: logSoftmaxBackwardOp,
  logSumExp: logSumExpOp,
  crossEntropy: crossEntropyOp,
  sample: sampleOp,
} as const;

/** The name of an op of the table: `'softmax'`, `'logSoftmax'`, ..., `'sample'`. */
export type OpName = keyof typeof OPS;

/**
 * Every op's name, in the table's order.
 *
 * @example
 * ```ts
 * import { OP_NAMES } from '@softmax/core/backend';
 *
 * for (const name of OP_NAMES) console.log(name); // 'softmax', 'logSoftmax', ..., 'sample'
 * ```
 */
export const OP_NAMES = /* @__PURE__ */ Object.keys(OPS) as OpName[];

/** The public method of every op, returning per `R` (see returns.ts). */
export interface OpMethods<R = Sync>
  extends ForwardMethods<R>,
    BackwardMethods<R>,
    LogSumExpMethods<R>,
    CrossEntropyMethods<R>,
    SampleMethods<R> {}
