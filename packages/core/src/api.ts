import type { OpSupport } from './define-backend.js';
import { defineBackend, functionsOf } from './define-backend.js';
import { OP_NAMES } from './ops/table.js';

const EVERY_OP: OpSupport = Object.fromEntries(OP_NAMES.map((name) => [name, ['float32', 'float64']]));

/** The reference backend: float64 inside, synchronous, every op in float32 and float64. */
export function createCoreBackend() {
  return defineBackend({ name: 'core', ops: EVERY_OP, returns: 'sync', run: (call) => call.op.reference(call) });
}

/**
 * The reference implementation of every op, as functions: `softmax(x, options)` and the rest.
 * See the op table (ops/table.ts) for what each one takes.
 */
export const { softmax, logSoftmax, softmaxBackward, logSoftmaxBackward, logSumExp, crossEntropy, sample } =
  functionsOf(createCoreBackend());
