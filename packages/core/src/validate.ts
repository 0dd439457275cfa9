import { describeValue, SoftmaxError } from './errors.js';
import type { ElementKind, OpCall, OpDecl, OperandArray, OperandDecl, OutputDecl } from './ops/declaration.js';
import { fullyMasked, temperature } from './ops/options.js';
import type { Dtype, FloatArray, FullyMasked } from './types.js';

/**
 * Validation, written once over the op table's declarations. Every backend's calls go through
 * `validateCall` (via `defineBackend`), so every backend rejects the same inputs with the same
 * codes and messages, and kernels only ever see typed arrays of a known shape.
 */

const ALL_DTYPES: readonly Dtype[] = ['float32', 'float64'];

/** Converts a float operand to a float typed array, or throws INVALID_INPUT / UNSUPPORTED_DTYPE. */
function toFloatArray(value: unknown, name: string, dtypes: readonly Dtype[]): { array: FloatArray; dtype: Dtype } {
  let array: FloatArray;
  if (value instanceof Float32Array || value instanceof Float64Array) {
    array = value;
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (typeof value[i] !== 'number') {
        throw new SoftmaxError('INVALID_INPUT', `${name}[${i}] must be a number, got ${describeValue(value[i])}`);
      }
    }
    array = Float64Array.from(value as number[]);
  } else if (ArrayBuffer.isView(value)) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `${name} must be a Float32Array, Float64Array or number[], got ${describeValue(value)}`,
    );
  } else {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${name} must be a Float32Array, Float64Array or number[], got ${describeValue(value)}`,
    );
  }
  const dtype: Dtype = array instanceof Float32Array ? 'float32' : 'float64';
  if (!dtypes.includes(dtype)) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `${name} is ${dtype === 'float32' ? 'Float32Array' : Array.isArray(value) ? 'number[] (computed as float64)' : 'Float64Array'}, but this backend supports only ${dtypes.join(', ')}`,
    );
  }
  return { array, dtype };
}

const INDEX_TYPES = { int32: Int32Array, uint32: Uint32Array } as const;

/** Converts an integer operand (its typed array, or a number[] of integers in range). */
function toIndexArray(value: unknown, name: string, element: 'int32' | 'uint32'): OperandArray {
  const Type = INDEX_TYPES[element];
  if (value instanceof Type) return value;
  if (!Array.isArray(value)) {
    const code = ArrayBuffer.isView(value) ? 'UNSUPPORTED_DTYPE' : 'INVALID_INPUT';
    throw new SoftmaxError(code, `${name} must be an ${Type.name} or number[], got ${describeValue(value)}`);
  }
  const array = new Type(value.length);
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    array[i] = v as number;
    if (typeof v !== 'number' || array[i] !== v) {
      throw new SoftmaxError('INVALID_INPUT', `${name}[${i}] must be an ${element} integer, got ${describeValue(v)}`);
    }
  }
  return array;
}

/** The options of a call: each known key read once, up front; problems reported in order later. */
interface OptionValues {
  values: Record<string, unknown>;
  /** Set when `options` is not an object or has an unknown key (thrown after the operands are checked). */
  problem?: SoftmaxError;
}

function readOptions(options: unknown, allowed: readonly string[]): OptionValues {
  const values: Record<string, unknown> = {};
  if (options === undefined || options === null) return { values };
  if (typeof options !== 'object' || Array.isArray(options)) {
    return {
      values,
      problem: new SoftmaxError('INVALID_OPTION', `options must be an object, got ${describeValue(options)}`),
    };
  }
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      return {
        values,
        problem: new SoftmaxError(
          'INVALID_OPTION',
          `options.${key} is not a known option (expected one of ${allowed.join(', ')})`,
        ),
      };
    }
  }
  const source = options as Record<string, unknown>;
  for (const key of allowed) values[key] = source[key];
  return { values };
}

function readCols(value: unknown, length: number, name: string): { rows: number; cols: number } {
  if (value === undefined) return { rows: length === 0 ? 0 : 1, cols: length };
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new SoftmaxError('INVALID_SHAPE', `options.cols must be a positive integer, got ${describeValue(value)}`);
  }
  if (length % value !== 0) {
    throw new SoftmaxError('INVALID_SHAPE', `${name}.length (${length}) must be a multiple of options.cols (${value})`);
  }
  return { rows: length / value, cols: value };
}

/** Whether two views share bytes without being the very same range. */
function partiallyOverlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  if (a.byteOffset === b.byteOffset && a.byteLength === b.byteLength) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Rejects an output that shares bytes with an input without being the very same range. */
function checkOverlap(out: OperandArray, option: string, input: unknown, name: string): void {
  // Rows are read before they are written, which is safe for out === input but not for a shifted view.
  if (ArrayBuffer.isView(input) && partiallyOverlaps(out, input)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.${option} partially overlaps ${name}: pass ${name} itself for in-place, or a separate array`,
    );
  }
}

const typeFor = (element: ElementKind, dtype: Dtype) =>
  element === 'float' ? (dtype === 'float32' ? Float32Array : Float64Array) : INDEX_TYPES[element];

function lengthOf(decl: OperandDecl, rows: number, cols: number): number {
  return decl.shape === 'matrix' ? rows * cols : decl.shape === 'rows' ? rows : 1;
}

function readOut(value: unknown, decl: OutputDecl, dtype: Dtype, length: number): OperandArray | undefined {
  if (value === undefined) return undefined;
  const Expected = typeFor(decl.element, dtype);
  const name = `options.${decl.outOption}`;
  if (!(value instanceof Expected)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `${name} must be a ${Expected.name} (the result's type), got ${describeValue(value)}`,
    );
  }
  if (value.length !== length) {
    throw new SoftmaxError('INVALID_OPTION', `${name} must have length ${length}, got ${describeValue(value)}`);
  }
  return value;
}

/** The names a call of `op` accepts in its options object. */
function optionNames(op: OpDecl): readonly string[] {
  const names = ['cols', ...Object.keys(op.options)];
  for (const o of op.outputs) if (o.outOption) names.push(o.outOption);
  return names;
}
const OPTION_NAMES = new WeakMap<OpDecl, readonly string[]>();

/**
 * Validates one call of `op`: `args` are its operands in declaration order, then the options
 * object. Options are read once, before the operands are looked at (a getter cannot change an
 * operand after it was checked), operands are converted once, and the result arrays are the
 * caller's `out` arrays or new ones. Never modifies its arguments. `dtypes`: the float types
 * this backend computes this op in.
 */
export function validateCall(op: OpDecl, args: ArrayLike<unknown>, dtypes: readonly Dtype[] = ALL_DTYPES): OpCall {
  let names = OPTION_NAMES.get(op);
  if (!names) {
    names = optionNames(op);
    OPTION_NAMES.set(op, names);
  }
  const { values, problem } = readOptions(args[op.inputs.length], names);

  let dtype: Dtype | undefined;
  let firstFloat: { name: string; value: unknown } | undefined;
  const inputs: OperandArray[] = [];
  for (let i = 0; i < op.inputs.length; i++) {
    const decl = op.inputs[i];
    const value = args[i];
    if (decl.element !== 'float') {
      inputs.push(toIndexArray(value, decl.name, decl.element));
      continue;
    }
    const converted = toFloatArray(value, decl.name, dtypes);
    if (firstFloat && converted.dtype !== dtype) {
      throw new SoftmaxError(
        'UNSUPPORTED_DTYPE',
        `${firstFloat.name} and ${decl.name} must have the same type, got ${firstFloat.name}: ${describeValue(firstFloat.value)}, ${decl.name}: ${describeValue(value)}`,
      );
    }
    firstFloat ??= { name: decl.name, value };
    dtype = converted.dtype;
    inputs.push(converted.array);
  }
  const first = op.inputs.findIndex((d) => d.shape === 'matrix');
  const length = inputs[first].length;
  for (let i = first + 1; i < op.inputs.length; i++) {
    if (op.inputs[i].shape === 'matrix' && inputs[i].length !== length) {
      const a = op.inputs[first].name;
      const b = op.inputs[i].name;
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${a} and ${b} must have the same length, got ${a}.length ${length} and ${b}.length ${inputs[i].length}`,
      );
    }
  }
  if (problem) throw problem;
  const { rows, cols } = readCols(values.cols, length, op.inputs[first].name);
  for (let i = 0; i < op.inputs.length; i++) {
    const decl = op.inputs[i];
    if (decl.shape !== 'matrix' && inputs[i].length !== lengthOf(decl, rows, cols)) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${decl.name}.length must be ${lengthOf(decl, rows, cols)} (${decl.shape === 'rows' ? 'one per row' : 'one value'}), got ${inputs[i].length}`,
      );
    }
  }
  const callDtype = dtype ?? 'float64';
  const outputs: OperandArray[] = [];
  const provided: boolean[] = [];
  for (const decl of op.outputs) {
    const n = lengthOf(decl, rows, cols);
    const given = decl.outOption ? readOut(values[decl.outOption], decl, callDtype, n) : undefined;
    if (given) {
      for (let i = 0; i < op.inputs.length; i++) checkOverlap(given, decl.outOption!, args[i], op.inputs[i].name);
    }
    outputs.push(given ?? new (typeFor(decl.element, callDtype))(n));
    provided.push(given !== undefined);
  }
  const options: Record<string, unknown> = {};
  for (const key in op.options) options[key] = op.options[key](values[key], `options.${key}`);
  return { op, dtype: callDtype, rows, cols, inputs, outputs, provided, options };
}

export interface LayoutRequest {
  rows: number;
  cols: number;
  temperature: number;
  fullyMasked: FullyMasked;
}

const LAYOUT_OPTIONS = ['rows', 'cols', 'temperature', 'fullyMasked'];

/**
 * Validates the options of a call on memory the caller manages (GPU buffers, wasm memory), where
 * there is no array to take the shape from: `rows` (a non-negative integer) and `cols` (a positive
 * integer) are required, `temperature` and `fullyMasked` as for arrays. Checking that the memory
 * holds rows × cols elements is the backend's part, since only it knows the memory's size.
 */
export function checkLayout(options: unknown): LayoutRequest {
  if (options === undefined || options === null) {
    throw new SoftmaxError('INVALID_SHAPE', 'options.rows and options.cols are required for this call');
  }
  const { values: opts, problem } = readOptions(options, LAYOUT_OPTIONS);
  if (problem) throw problem;
  const { rows, cols } = opts;
  if (typeof cols !== 'number' || !Number.isSafeInteger(cols) || cols <= 0) {
    throw new SoftmaxError('INVALID_SHAPE', `options.cols must be a positive integer, got ${describeValue(cols)}`);
  }
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(rows * cols)) {
    throw new SoftmaxError('INVALID_SHAPE', `options.rows must be a non-negative integer, got ${describeValue(rows)}`);
  }
  return {
    rows,
    cols,
    temperature: temperature(opts.temperature, 'options.temperature'),
    fullyMasked: fullyMasked(opts.fullyMasked, 'options.fullyMasked'),
  };
}
