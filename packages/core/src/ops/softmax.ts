import { referenceLogSoftmax, referenceSoftmax } from '../reference.js';
import type { FloatArray, FullyMasked, OutputOf, SoftmaxInput, SoftmaxOptions } from '../types.js';
import type { OpCall, OpDecl } from './declaration.js';
import { fullyMasked, temperature } from './options.js';
import type { Returns, Sync } from './returns.js';

/** softmax and logSoftmax: rows × cols logits in, rows × cols out (`out` may be `x`). */

export interface ForwardCallOptions {
  /** Finite and > 0 (1 when not given). */
  temperature: number;
  /** What a row of only −Infinity gives ('nan' when not given). */
  fullyMasked: FullyMasked;
}

const declare = <Name extends string>(name: Name, kernel: typeof referenceSoftmax): OpDecl<Name> => ({
  name,
  inputs: [{ name: 'x', element: 'float', shape: 'matrix' }],
  outputs: [{ name: 'out', element: 'float', shape: 'matrix', outOption: 'out' }],
  options: { temperature, fullyMasked },
  reference: (call: OpCall) => {
    const o = call.options as unknown as ForwardCallOptions;
    kernel({
      x: call.inputs[0] as FloatArray,
      out: call.outputs[0] as FloatArray,
      rows: call.rows,
      cols: call.cols,
      temperature: o.temperature,
      fullyMasked: o.fullyMasked,
    });
  },
});

export const softmaxOp = /* @__PURE__ */ declare('softmax', referenceSoftmax);
export const logSoftmaxOp = /* @__PURE__ */ declare('logSoftmax', referenceLogSoftmax);

export interface ForwardMethods<R = Sync> {
  /** y = softmax(x / temperature) along each row. */
  softmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): Returns<R, OutputOf<T>>;
  /** y = log(softmax(x / temperature)) along each row, computed without forming softmax first. */
  logSoftmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): Returns<R, OutputOf<T>>;
}
