import {
  CROSS_ENTROPY_OUTPUTS,
  type CrossEntropyCallOptions,
  type CrossEntropyParams,
  type OpCall,
} from '@softmax/core/backend';
import type { ArrayLayout } from './array-call.js';
import { crossEntropyParams, type GradTarget, type TargetKind } from './cross-entropy-params.js';
import { scaleRecordAt } from './kernels.js';
import type { GpuOp } from './ops.js';
import type { Plan } from './plan.js';

/**
 * crossEntropy's array call: what it uploads (logits, the targets in their form, the class weights
 * as float32) and reads back (each row's loss; the gradient and the lse only when asked). Core has
 * validated the call and computed k (`call.params.scale`), which goes into the partials' scale
 * record, so the uniform block does not change with each batch's normaliser; core also reduces
 * the row losses. 'in-place' writes the gradient over the logits' GPU buffer and reads it back
 * into the logits: no GPU buffer of the gradient's size beside the logits'.
 */
export function crossEntropyArrayLayout(call: OpCall, op: GpuOp, plan: Plan): ArrayLayout {
  const o = call.options as unknown as CrossEntropyCallOptions;
  const p = call.params as unknown as CrossEntropyParams;
  const { rowLoss, grad: G, lse: L } = CROSS_ENTROPY_OUTPUTS;
  const probs = p.targets === 'probs';
  const targets: TargetKind = probs ? 'probs' : call.forms[1] === 1 ? 'uint32' : 'int32';
  const grad: GradTarget = !call.present[G] ? 'none' : o.gradient === 'in-place' ? 'in-place' : 'out';
  const weight = o.weight ? Float32Array.from(o.weight) : undefined;
  const params = crossEntropyParams({
    rows: call.rows,
    cols: call.cols,
    targets,
    weighted: weight !== undefined,
    ignoreIndex: o.ignoreIndex,
    labelSmoothing: o.labelSmoothing,
    zLoss: o.zLoss,
    softcap: o.softcap,
    temperature: o.temperature,
    grad,
    gradScale: o.gradScale,
    scale: 'parts',
    scaleAt: scaleRecordAt(plan, op),
  });
  const t = call.inputs[1];
  return {
    params,
    // In the GPU op's order: logits, probabilities, class indices, weights.
    uploads: [call.inputs[0], probs ? t : undefined, probs ? undefined : t, weight],
    // loss, grad, lse: the lse is always computed (a buffer of one value per row), read when asked.
    outputs: [
      { read: call.outputs[rowLoss] },
      grad === 'none' ? undefined : { read: call.outputs[G], overInput: grad === 'in-place' ? 0 : undefined },
      { read: call.present[L] ? call.outputs[L] : undefined },
    ],
    scale: p.scale,
  };
}
