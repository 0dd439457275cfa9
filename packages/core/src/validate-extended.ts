import { describeValue, SoftmaxError } from './errors.js';
import {
  ALL_DTYPES,
  arrayFor,
  copyNumbers,
  isArray,
  lengthFor,
  presentOutput,
  readFloat,
  TAGS,
  tagFor,
} from './operands.js';
import type {
  CallShape,
  OpDecl,
  OperandArray,
  OperandDecl,
  OperandForm,
  OperandRead,
  OutputDecl,
  OutputPresence,
  ValidationSteps,
} from './ops/declaration.js';
import { bufferOf, byteLengthOf, byteOffsetOf, floatDtypeOf, lengthOf, typedArrayTag } from './typed-arrays.js';
import type { Dtype } from './types.js';

/**
 * The validation steps of the declarations that go beyond a plain op (validate.ts has the plain
 * ones): operands of several forms or of integers, operands one per row or one per call, forms
 * that convert, outputs absent or in place, outputs restricted in what they may alias. Only the
 * declarations that use them reference them (OpDecl.validation), so a bundle of softmax alone
 * leaves them out.
 */

/** Converts an integer operand: its typed array (of any realm), or a number[] of integers in range. */
function readIndex(value: unknown, name: string, element: 'int32' | 'uint32'): OperandArray {
  if (typedArrayTag(value) === TAGS[element]) return value as OperandArray;
  if (ArrayBuffer.isView(value) || !isArray(value, name)) {
    const code = ArrayBuffer.isView(value) ? 'UNSUPPORTED_DTYPE' : 'INVALID_INPUT';
    throw new SoftmaxError(code, `${name} must be an ${TAGS[element]} or number[], got ${describeValue(value)}`);
  }
  return copyNumbers(value, name, element);
}

function formsOf(decl: OperandDecl): readonly OperandForm[] {
  return decl.or ? [decl, ...decl.or] : [decl];
}

/**
 * Which form of `decl` a value takes: the first whose element type accepts the value's type (an
 * integer form takes its typed array and number[], a float form Float32Array and Float64Array).
 * None: the error lists what every form accepts.
 */
function formFor(decl: OperandDecl, value: unknown): number {
  const forms = formsOf(decl);
  if (forms.length === 1) return 0;
  const tag = typedArrayTag(value);
  const array = tag === undefined && isArray(value, decl.name);
  for (let k = 0; k < forms.length; k++) {
    const { element } = forms[k];
    if (element === 'float' ? tag === 'Float32Array' || tag === 'Float64Array' : tag === TAGS[element]) return k;
    if (array) return k;
  }
  const integers = forms.flatMap((f) => (f.element === 'float' ? [] : [TAGS[f.element]]));
  const accepted = [...integers, ...(integers.length > 0 ? ['number[]'] : [])];
  if (forms.some((f) => f.element === 'float')) accepted.push('Float32Array', 'Float64Array');
  throw new SoftmaxError(
    ArrayBuffer.isView(value) ? 'UNSUPPORTED_DTYPE' : 'INVALID_INPUT',
    `${decl.name} must be an ${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}, got ${describeValue(value)}`,
  );
}

/** Whether two views share any byte (the same range included). */
function sharesBytes(a: OperandArray, b: OperandArray): boolean {
  if (bufferOf(a) !== bufferOf(b)) return false;
  const ao = byteOffsetOf(a);
  const bo = byteOffsetOf(b);
  return ao < bo + byteLengthOf(b) && bo < ao + byteLengthOf(a);
}

/** An input an output may not be (OutputDecl.mayAlias): refused when it shares memory with it. */
function checkAlias(decl: OutputDecl, out: OperandArray, input: OperandArray, name: string, option: string): void {
  if (!decl.mayAlias || decl.mayAlias.includes(name) || lengthOf(out) === 0 || !sharesBytes(out, input)) return;
  throw new SoftmaxError(
    'INVALID_OPTION',
    `${option} shares memory with ${name}, which ${decl.name} may not be written over (only ${decl.mayAlias.join(', ') || 'new memory'})`,
  );
}

/**
 * The output for a call: absent (a zero-length array), the input it is in place, the caller's
 * `out`, or a new array. Throws when an `out` option contradicts the presence its options ask for.
 */
function outputFor(
  op: OpDecl,
  decl: OutputDecl,
  presence: OutputPresence,
  given: OperandArray | undefined,
  args: ArrayLike<unknown>,
  inputs: readonly OperandArray[],
  shape: CallShape,
  length: number,
): { array: OperandArray; provided: boolean } {
  const why = decl.whenOption ? ` (options.${decl.whenOption})` : '';
  if (given && presence !== 'present') {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.${decl.outOption} is given, but this call ${presence === 'absent' ? `does not compute ${decl.name}` : `writes ${decl.name} in place`}${why}`,
    );
  }
  if (presence === 'absent') return { array: arrayFor(decl, shape.dtype, 0), provided: false };
  if (presence === 'present') return presentOutput(decl, given, shape.dtype, length);
  const at = decl.inPlaceOf ?? 0;
  const source = op.inputs[at];
  const tag = tagFor(decl, shape.dtype);
  // The caller's own array, not the copy a number[] became: there is nothing else to write into.
  if (typedArrayTag(args[at]) !== tag || args[at] !== inputs[at]) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `${op.name} writes ${decl.name} in place over ${source.name}${why}, so ${source.name} must be a ${tag}, got ${describeValue(args[at])}`,
    );
  }
  return { array: inputs[at], provided: true };
}

/**
 * The steps for any declaration: every form, shape and output the declarations can say. What
 * crossEntropy and sample name, and what `validateCall` uses for a declaration that names none.
 */
export const EXTENDED_VALIDATION: ValidationSteps = {
  operand(decl: OperandDecl, value: unknown, dtypes: readonly Dtype[]): OperandRead {
    const form = formFor(decl, value);
    const taken = formsOf(decl)[form];
    if (taken.element !== 'float') {
      return { form, taken, array: readIndex(value, decl.name, taken.element), dtype: undefined };
    }
    // A form that converts takes either float type, whatever the backend computes in.
    const { array, dtype } = readFloat(value, decl.name, taken.convert ? ALL_DTYPES : dtypes);
    return { form, taken, array, dtype: taken.convert ? undefined : dtype };
  },
  fit(op, taken, inputs, lengths, shape) {
    const { dtype, rows, cols } = shape;
    for (let i = 0; i < op.inputs.length; i++) {
      const want = lengthFor(taken[i], rows, cols);
      if (taken[i].shape !== 'matrix' && lengths[i] !== want) {
        throw new SoftmaxError(
          'INVALID_SHAPE',
          `${op.inputs[i].name}.length must be ${want} (${taken[i].shape === 'rows' ? 'one per row' : 'one value'}), got ${lengths[i]}`,
        );
      }
      // A float form that converts: the other float type copied into the call's (never written back).
      if (taken[i].convert && floatDtypeOf(inputs[i]) !== dtype) {
        inputs[i] = dtype === 'float32' ? Float32Array.from(inputs[i]) : Float64Array.from(inputs[i]);
      }
    }
  },
  output: outputFor,
  alias: checkAlias,
};
