import type { BenchDtype, Op, OpPlan } from '@softmax/bench-scenarios';
import { seededRandom } from '@softmax/conformance/helpers';
import { OPS, type OperandArray, type OpName, type ShapeKind, validateCall } from '@softmax/core/backend';
import { arrayOf, type FloatArray } from './candidate.js';

/**
 * The inputs of one op, made from its declaration in core's op table: logits uniform in [−8, 8)
 * (a realistic spread: exp values over ~7 decades); an operand that is another op's output (a
 * gradient's y) is that op of those logits; any other float operand (dy) uniform in [−1, 1); an
 * integer operand (crossEntropy's class indices) uniform in [0, cols), an index into its row, with
 * the plan's sentinel rows (ignored rows) set to the sentinel option's default from the declaration.
 * The float operands come first from the generator, so adding an operand kind changed none of them.
 */
export function makeInputs(
  op: Op,
  dtype: BenchDtype,
  rows: number,
  cols: number,
  seed = 1,
  plan?: Pick<OpPlan, 'sentinel' | 'logits'>,
): OperandArray[] {
  const decl = OPS[op];
  const next = seededRandom(seed + rows * 31 + cols);
  const n = rows * cols;
  const logits = arrayOf(dtype, n);
  if (plan?.logits === 'llm') llmLogits(logits, rows, cols, next);
  else for (let i = 0; i < n; i++) logits[i] = next() * 16 - 8;
  const inputs = decl.inputs.map((operand, index): OperandArray | undefined => {
    if (operand.element !== 'float') return undefined; // below, after every float operand
    if (operand.shape !== 'matrix') {
      throw new Error(`the benchmark makes float inputs of rows × cols only; ${op}'s ${operand.name} is another shape`);
    }
    if (operand.producedBy) {
      const call = validateCall(OPS[operand.producedBy as OpName], [logits, { cols }]);
      call.op.reference(call);
      return call.outputs[0];
    }
    if (index === 0) return logits;
    const values = arrayOf(dtype, n);
    for (let i = 0; i < n; i++) values[i] = next() * 2 - 1;
    return values;
  });
  return decl.inputs.map((operand, index) => {
    const made = inputs[index];
    if (made) return made;
    const length = operandLength(operand.shape, rows, cols);
    const values = operand.element === 'int32' ? new Int32Array(length) : new Uint32Array(length);
    for (let i = 0; i < length; i++) values[i] = Math.min(cols - 1, Math.floor(next() * cols));
    const sentinel = plan?.sentinel;
    if (sentinel?.operand === operand.name && operand.shape === 'rows') {
      const value = sentinelValue(op, sentinel.option);
      for (let i = sentinel.every - 1; i < rows; i += sentinel.every) values[i] = value;
    }
    return values;
  });
}

/** Ids per row in the heavy top of `llmLogits`. */
export const LLM_TOP = 256;

/**
 * Rows that look like a language model's next-token logits: every id N(0, 1) (the long tail), and
 * LLM_TOP ids at random positions lifted by 14 − 1.5·ln(rank) plus Gumbel noise (a heavy, decaying
 * top). The top then holds about 90% of the probability at T = 1, so top-p 0.9 keeps tens of ids
 * and top-p 0.95 reaches into the tail (thousands), as with real models; the top's ids are spread
 * over the row, so no kernel gets them in order.
 */
export function llmLogits(out: FloatArray, rows: number, cols: number, next: () => number): void {
  const top = Math.min(LLM_TOP, cols);
  for (let r = 0; r < rows; r++) {
    const o = r * cols;
    for (let j = 0; j < cols; j += 2) {
      // Box–Muller: two normals from two uniforms (1 − u keeps the log finite).
      const radius = Math.sqrt(-2 * Math.log(1 - next()));
      const angle = 2 * Math.PI * next();
      out[o + j] = radius * Math.cos(angle);
      if (j + 1 < cols) out[o + j + 1] = radius * Math.sin(angle);
    }
    for (let k = 0; k < top; k++) {
      const j = Math.min(cols - 1, Math.floor(next() * cols));
      const gumbel = -Math.log(-Math.log(1 - next() * (1 - 1e-12)));
      out[o + j] = 14 - 1.5 * Math.log(k + 1) + 0.5 * gumbel;
    }
  }
}

/** An option's default, read by the op's own option reader (crossEntropy's ignoreIndex: −100). */
export function sentinelValue(op: Op, option: string, given?: unknown): number {
  const read = OPS[op].options[option];
  if (!read) throw new Error(`${op} has no option ${option}`);
  return read(given, `options.${option}`) as number;
}

/** Elements of an operand of this shape kind (core's op table) in a call of rows × cols. */
export function operandLength(shape: ShapeKind, rows: number, cols: number): number {
  return shape === 'matrix' ? rows * cols : shape === 'rows' ? rows : 1;
}

/**
 * Whether each output of `op` exists in a call with these options ('absent', 'present' or
 * 'in-place'), by the declaration's own `when` and the reader of the option it looks at.
 */
export function outputPresence(op: Op, options: Readonly<Record<string, unknown>> = {}) {
  const decl = OPS[op];
  return decl.outputs.map((o) => {
    if (!o.when) return 'present' as const;
    const key = o.whenOption;
    const parsed = key === undefined ? {} : { [key]: decl.options[key](options[key], `options.${key}`) };
    return o.when(parsed);
  });
}

/** The inputs (by index) a call with these options writes over: the `inPlaceOf` of its in-place outputs. */
export function overwrittenInputs(op: Op, options: Readonly<Record<string, unknown>> = {}): number[] {
  const outputs = OPS[op].outputs;
  return outputPresence(op, options).flatMap((p, k) => (p === 'in-place' ? [outputs[k].inPlaceOf ?? 0] : []));
}

const elementBytes = (element: string, dtype: BenchDtype): number =>
  element === 'float' ? (dtype === 'float32' ? 4 : 8) : 4;

/**
 * Bytes a call of `op` reads and writes at this shape: every operand of its declaration, and every
 * output the call computes (an in-place one too: it is written), each in its own type.
 */
export function bytesMoved(
  op: Op,
  dtype: BenchDtype,
  rows: number,
  cols: number,
  options: Readonly<Record<string, unknown>> = {},
): number {
  const { inputs, outputs } = OPS[op];
  const presence = outputPresence(op, options);
  const size = (d: { element: string; dtype?: BenchDtype }) => elementBytes(d.element, d.dtype ?? dtype);
  return [...inputs, ...outputs.filter((_, k) => presence[k] !== 'absent')].reduce(
    (sum, d) => sum + operandLength(d.shape, rows, cols) * size(d),
    0,
  );
}

/**
 * Bytes of the new arrays of rows × cols a call returns (crossEntropy's gradient with `gradient:
 * true`; none in place): what a call must allocate, which its extra memory is counted beyond.
 */
export function returnedMatrixBytes(
  op: Op,
  dtype: BenchDtype,
  rows: number,
  cols: number,
  options: Readonly<Record<string, unknown>> = {},
): number {
  const presence = outputPresence(op, options);
  return OPS[op].outputs.reduce(
    (sum, o, k) =>
      presence[k] === 'present' && o.shape === 'matrix'
        ? sum + rows * cols * elementBytes(o.element, (o.dtype as BenchDtype | undefined) ?? dtype)
        : sum,
    0,
  );
}
