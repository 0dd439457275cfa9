import type { BenchDtype, Op } from '@softmax/bench-scenarios';
import { seededRandom } from '@softmax/conformance/helpers';
import { OPS, type OpName, type ShapeKind, validateCall } from '@softmax/core/backend';
import { arrayOf, type FloatArray } from './candidate.js';

/**
 * The inputs of one op, made from its declaration in core's op table: logits uniform in [−8, 8)
 * (a realistic spread: exp values over ~7 decades); an operand that is another op's output (a
 * gradient's y) is that op of those logits; any other float operand (dy) uniform in [−1, 1).
 */
export function makeInputs(op: Op, dtype: BenchDtype, rows: number, cols: number, seed = 1): FloatArray[] {
  const next = seededRandom(seed + rows * 31 + cols);
  const n = rows * cols;
  const logits = arrayOf(dtype, n);
  for (let i = 0; i < n; i++) logits[i] = next() * 16 - 8;
  return OPS[op].inputs.map((decl, index) => {
    if (decl.element !== 'float' || decl.shape !== 'matrix') {
      throw new Error(`the benchmark makes only rows × cols float inputs; ${op}'s ${decl.name} is another kind`);
    }
    if (decl.producedBy) {
      const call = validateCall(OPS[decl.producedBy as OpName], [logits, { cols }]);
      call.op.reference(call);
      return call.outputs[0] as FloatArray;
    }
    if (index === 0) return logits;
    const values = arrayOf(dtype, n);
    for (let i = 0; i < n; i++) values[i] = next() * 2 - 1;
    return values;
  });
}

/** Elements of an operand of this shape kind (core's op table) in a call of rows × cols. */
export function operandLength(shape: ShapeKind, rows: number, cols: number): number {
  return shape === 'matrix' ? rows * cols : shape === 'rows' ? rows : 1;
}

/** Bytes a call of `op` reads and writes at this shape: every operand and output of its declaration. */
export function bytesMoved(op: Op, dtype: BenchDtype, rows: number, cols: number): number {
  const { inputs, outputs } = OPS[op];
  const size = (element: string) => (element === 'float' ? (dtype === 'float32' ? 4 : 8) : 4);
  return [...inputs, ...outputs].reduce((sum, d) => sum + operandLength(d.shape, rows, cols) * size(d.element), 0);
}
