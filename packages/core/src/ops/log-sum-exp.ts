import { referenceLogSumExp } from '../reference.js';
import type { FloatArray, OutputOf, SoftmaxInput } from '../types.js';
import type { OpCall, OpDecl } from './declaration.js';
import { temperature } from './options.js';
import type { Returns, Sync } from './returns.js';

/** logSumExp: rows × cols logits in, one log Σ exp(x / T) per row out (cross-entropy's normaliser). */

export interface LogSumExpOptions {
  /** Row length: the input is rows × cols, row-major. Default: the whole input is one row. */
  cols?: number;
  /** Logits are divided by it first. Finite and > 0; default 1. */
  temperature?: number;
  /** Preallocated result of the result's type, one element per row. */
  out?: FloatArray;
}

export const logSumExpOp: OpDecl<'logSumExp'> = {
  name: 'logSumExp',
  inputs: [{ name: 'x', element: 'float', shape: 'matrix' }],
  outputs: [{ name: 'out', element: 'float', shape: 'rows', outOption: 'out' }],
  options: { temperature },
  reference: (call: OpCall) => {
    referenceLogSumExp({
      x: call.inputs[0] as FloatArray,
      out: call.outputs[0] as FloatArray,
      rows: call.rows,
      cols: call.cols,
      temperature: (call.options as { temperature: number }).temperature,
    });
  },
};

export interface LogSumExpMethods<R = Sync> {
  /** log Σ_j exp(x_j / temperature) for each row: one value per row. */
  logSumExp<T extends SoftmaxInput>(x: T, options?: LogSumExpOptions): Returns<R, OutputOf<T>>;
}
