import type { OpCall, OperandArray } from './ops/declaration.js';

/**
 * What a call returns once its kernel has run (or at once, for a call of no rows): the op's
 * `finish` of the call (crossEntropy reduces its per-row losses there), or by default its one
 * output, or an object of its outputs by name. Every dispatcher (BackendBase, `@softmax/auto`)
 * returns through it, so the result is formed once for every backend.
 *
 * @example
 * ```ts
 * import { OPS, resultOf, validateCall } from '@softmax/core/backend';
 *
 * const call = validateCall(OPS.softmax, [new Float32Array([1, 2]), {}]);
 * OPS.softmax.reference(call); // fills call.outputs
 * const y = resultOf(call); // Float32Array [0.269, 0.731]: what the public method returns
 * ```
 */
export function resultOf(call: OpCall): unknown {
  if (call.op.finish) return call.op.finish(call);
  const { outputs } = call;
  if (outputs.length === 1) return outputs[0];
  const record: Record<string, OperandArray> = {};
  call.op.outputs.forEach((o, i) => {
    record[o.name] = outputs[i];
  });
  return record;
}
