import { referenceLogSoftmaxBackward, referenceSoftmaxBackward } from '../reference.js';
import type { BackwardOptions, FloatArray, OutputOf, SoftmaxInput } from '../types.js';
import type { OpCall, OpDecl } from './declaration.js';
import { temperature } from './options.js';
import type { Returns, Sync } from './returns.js';

/** The gradients: the forward output `y` and the upstream `dy` in, dx out (`out` may be `y` or `dy`). */

export interface BackwardCallOptions {
  /** The forward call's temperature (1 when not given). */
  temperature: number;
}

const declare = <Name extends string>(
  name: Name,
  forward: string,
  kernel: typeof referenceSoftmaxBackward,
): OpDecl<Name> => ({
  name,
  inputs: [
    { name: 'y', element: 'float', shape: 'matrix', producedBy: forward },
    { name: 'dy', element: 'float', shape: 'matrix' },
  ],
  outputs: [{ name: 'out', element: 'float', shape: 'matrix', outOption: 'out' }],
  options: { temperature },
  reference: (call: OpCall) => {
    kernel({
      y: call.inputs[0] as FloatArray,
      dy: call.inputs[1] as FloatArray,
      out: call.outputs[0] as FloatArray,
      rows: call.rows,
      cols: call.cols,
      temperature: (call.options as unknown as BackwardCallOptions).temperature,
    });
  },
});

export const softmaxBackwardOp = /* @__PURE__ */ declare('softmaxBackward', 'softmax', referenceSoftmaxBackward);
export const logSoftmaxBackwardOp = /* @__PURE__ */ declare(
  'logSoftmaxBackward',
  'logSoftmax',
  referenceLogSoftmaxBackward,
);

export interface BackwardMethods<R = Sync> {
  /** dx = y ⊙ (dy − Σ dy·y) / temperature per row, where y is the softmax output. */
  softmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): Returns<R, OutputOf<T>>;
  /** dx = (dy − exp(y) · Σ dy) / temperature per row, where y is the log-softmax output. */
  logSoftmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): Returns<R, OutputOf<T>>;
}
