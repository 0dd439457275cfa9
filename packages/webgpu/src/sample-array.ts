import { type OpCall, SAMPLE_OUTPUTS, type SampleCallOptions, type SampleParams } from '@softmax/core/backend';
import type { ArrayLayout } from './array-call.js';
import type { GpuOp } from './ops.js';
import type { Plan } from './plan.js';
import { sampleParams } from './sample-params.js';

/**
 * sample's array call: it uploads the logits and one table of per-row records (with each row's
 * u, which core drew: every backend draws with the same u), and reads back the tokens (4 bytes a
 * row), plus the log-probabilities and the top n only when asked. The processed copy of the rows
 * (penalties, bias, mask) lives on the GPU only; the caller's logits are never written.
 */
export function sampleArrayLayout(call: OpCall, _op: GpuOp, _plan: Plan): ArrayLayout {
  const o = call.options as unknown as SampleCallOptions;
  const { u } = call.params as unknown as SampleParams;
  const top = o.topLogprobs ?? 0;
  const k = sampleParams({ rows: call.rows, cols: call.cols, options: o, u, logprobs: o.logprobs, top });
  const out = SAMPLE_OUTPUTS;
  return {
    params: k.params,
    uploads: [call.inputs[0], k.meta],
    // tokens, logprobs, topIds, topLogprobs, then the processed copy (never read back).
    outputs: [
      { read: call.outputs[out.tokens] },
      o.logprobs ? { read: call.outputs[out.logprobs] } : undefined,
      top > 0 ? { read: call.outputs[out.topIds] } : undefined,
      top > 0 ? { read: call.outputs[out.topLogprobs] } : undefined,
      k.process ? {} : undefined,
    ],
  };
}
