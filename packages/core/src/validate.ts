import { describeValue, SoftmaxError } from './errors.js';
import type {
  CallShape,
  ElementKind,
  OpCall,
  OpDecl,
  OperandArray,
  OperandDecl,
  OperandForm,
  OutputDecl,
} from './ops/declaration.js';
import { fullyMasked, temperature } from './ops/options.js';
import {
  bufferOf,
  byteLengthOf,
  byteOffsetOf,
  floatDtypeOf,
  isShared,
  lengthOf,
  typedArrayTag,
  unusable,
} from './typed-arrays.js';
import type { Dtype, FloatArray, FullyMasked } from './types.js';

/**
 * Validation, written once over the op table's declarations. Every backend's calls go through
 * `validateCall` (via `BackendBase`), so every backend rejects the same inputs with the same
 * codes and messages, and kernels only ever see typed arrays of a known shape.
 *
 * Order of work: first everything that can run the caller's code — the options' getters (each
 * read exactly once) and a number[]'s elements — then the typed arrays' lengths and buffers. A
 * getter that ran later could detach, shrink or rewrite an input after its checks, and the backend
 * would read stale or missing memory. Errors are still reported in the order of the arguments.
 */

const ALL_DTYPES: readonly Dtype[] = ['float32', 'float64'];

/** Array.isArray, which throws (instead of answering) for a revoked Proxy. */
function isArray(value: unknown, name: string): value is readonly unknown[] {
  try {
    return Array.isArray(value);
  } catch (cause) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${name} must be a Float32Array, Float64Array or number[], got a revoked Proxy`,
      { cause },
    );
  }
}

/**
 * A number[] copied into a new typed array, each element read exactly once and checked as read:
 * checking first and converting after (through the iterator) would let a Proxy, an accessor or a
 * custom Symbol.iterator hand over other values than the ones checked. `integer`: the element
 * type an integer operand holds (each element must be exactly representable in it).
 */
function copyNumbers(value: readonly unknown[], name: string, element: ElementKind): OperandArray {
  const length = value.length;
  // A Proxy can claim any length; a real array's is always an integer in [0, 2^32 − 1].
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > 2 ** 32 - 1) {
    throw new SoftmaxError('INVALID_INPUT', `${name}.length must be an array length, got ${describeValue(length)}`);
  }
  const Type = element === 'float' ? Float64Array : INDEX_TYPES[element];
  let array: OperandArray;
  try {
    array = new Type(length);
  } catch (cause) {
    throw new SoftmaxError('INVALID_INPUT', `${name}.length (${length}) is too large to copy into a ${Type.name}`, {
      cause,
    });
  }
  for (let i = 0; i < length; i++) {
    const v = value[i];
    if (typeof v !== 'number') {
      throw new SoftmaxError('INVALID_INPUT', `${name}[${i}] must be a number, got ${describeValue(v)}`);
    }
    array[i] = v;
    if (element !== 'float' && array[i] !== v) {
      throw new SoftmaxError('INVALID_INPUT', `${name}[${i}] must be an ${element} integer, got ${describeValue(v)}`);
    }
  }
  return array;
}

const INDEX_TYPES = { int32: Int32Array, uint32: Uint32Array } as const;
const TAGS: Record<'int32' | 'uint32', string> = { int32: 'Int32Array', uint32: 'Uint32Array' };

/**
 * Converts a float operand to a float typed array, or throws INVALID_INPUT / UNSUPPORTED_DTYPE.
 * Typed arrays are recognised by their internal tag, not `instanceof`, so arrays of another realm
 * count, and are passed through as they are (no copy, no per-element work).
 */
function readFloat(value: unknown, name: string, dtypes: readonly Dtype[]): { array: FloatArray; dtype: Dtype } {
  const typed = floatDtypeOf(value);
  let array: FloatArray;
  if (typed !== undefined) {
    array = value as FloatArray;
  } else if (ArrayBuffer.isView(value)) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `${name} must be a Float32Array, Float64Array or number[], got ${describeValue(value)}`,
    );
  } else if (isArray(value, name)) {
    array = copyNumbers(value, name, 'float') as FloatArray;
  } else {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${name} must be a Float32Array, Float64Array or number[], got ${describeValue(value)}`,
    );
  }
  const dtype: Dtype = typed ?? 'float64';
  if (!dtypes.includes(dtype)) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `${name} is ${dtype === 'float32' ? 'Float32Array' : typed === undefined ? 'number[] (computed as float64)' : 'Float64Array'}, but this backend supports only ${dtypes.join(', ')}`,
    );
  }
  return { array, dtype };
}

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

/** Rejects a view that reads as empty (length 0) because its buffer was detached or shrank below it. */
function checkUsable(array: OperandArray, length: number, name: string): void {
  const why = length === 0 ? unusable(array) : undefined;
  if (why) throw new SoftmaxError('INVALID_INPUT', `${name} cannot be read: ${why}, got ${describeValue(array)}`);
}

/** Object.prototype of this realm or another (the prototypes whose own prototype is null), or none. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/**
 * The options object to read (undefined when there is none), or the message of why it cannot be
 * read (thrown after the inputs' own errors, which come first). A Map, a Date, an array or a
 * class instance is refused: its entries or accessors would otherwise be silently ignored.
 */
function optionSource(
  options: unknown,
  allowed: readonly string[],
): Readonly<Record<string, unknown>> | string | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') return `options must be an object, got ${describeValue(options)}`;
  if (!isPlainObject(options)) return `options must be a plain object, got ${describeValue(options)}`;
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) return `options.${key} is not a known option (expected one of ${allowed.join(', ')})`;
  }
  return options as Record<string, unknown>;
}

/**
 * Each allowed option read exactly once (a getter could answer differently the second time), and
 * what an op's reader reads early (a number[]'s elements) read now too, before the inputs' checks.
 */
function readOptions(
  source: Readonly<Record<string, unknown>> | string | undefined,
  allowed: readonly string[],
  readers?: OpDecl['options'],
) {
  const values: Record<string, unknown> = {};
  if (typeof source === 'object') {
    for (const key of allowed) {
      const value = source[key];
      const early = readers && Object.hasOwn(readers, key) ? readers[key].early : undefined;
      values[key] = early && value !== undefined ? early(value, `options.${key}`) : value;
    }
  }
  return values;
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

/** Whether two views of one buffer share bytes without being the very same range. */
function partiallyOverlaps(a: OperandArray, b: OperandArray): boolean {
  const ao = byteOffsetOf(a);
  const al = byteLengthOf(a);
  const bo = byteOffsetOf(b);
  const bl = byteLengthOf(b);
  if (ao === bo && al === bl) return false;
  return ao < bo + bl && bo < ao + al;
}

/**
 * The input as the backend may read it while it writes `out`: the input itself, or a copy when
 * the two may share memory that no check can see. Rows are read before they are written, which
 * is safe for out === input but not for a shifted view, so a partial overlap is refused when it
 * can be seen: both views of one buffer object. Views of two different SharedArrayBuffer objects
 * can still be one memory (a structuredClone'd SharedArrayBuffer, a WebAssembly.Memory's buffer
 * fetched again after it grew), and no API tells whether they are: then the input is copied, so
 * the result is right however they overlap. (Other buffers never share memory.)
 */
function readableWhileWriting(input: OperandArray, out: OperandArray, label: string, name: string): OperandArray {
  const inputBuffer = bufferOf(input);
  const outBuffer = bufferOf(out);
  if (inputBuffer === outBuffer) {
    if (partiallyOverlaps(out, input)) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `${label} partially overlaps ${name}: pass ${name} itself for in-place, or a separate array`,
      );
    }
    return input;
  }
  if (!isShared(outBuffer) || !isShared(inputBuffer)) return input;
  return input.slice();
}

function tagFor(form: OperandForm, dtype: Dtype): string {
  if (form.element !== 'float') return TAGS[form.element];
  return (form.dtype ?? dtype) === 'float32' ? 'Float32Array' : 'Float64Array';
}

function arrayFor(form: OperandForm, dtype: Dtype, length: number): OperandArray {
  if (form.element !== 'float') return new INDEX_TYPES[form.element](length);
  return (form.dtype ?? dtype) === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

function lengthFor(decl: OperandForm, rows: number, cols: number): number {
  return decl.shape === 'matrix' ? rows * cols : decl.shape === 'rows' ? rows : 1;
}

function readOut(value: unknown, decl: OutputDecl, dtype: Dtype, length: number): OperandArray | undefined {
  if (value === undefined) return undefined;
  const name = `options.${decl.outOption}`;
  const tag = tagFor(decl, dtype);
  if (typedArrayTag(value) !== tag) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `${name} must be a ${tag} (the result's type), got ${describeValue(value)}`,
    );
  }
  const out = value as OperandArray;
  if (lengthOf(out) !== length) {
    throw new SoftmaxError('INVALID_OPTION', `${name} must have length ${length}, got ${describeValue(value)}`);
  }
  const why = length === 0 ? unusable(out) : undefined;
  if (why) throw new SoftmaxError('INVALID_OPTION', `${name} cannot be written: ${why}, got ${describeValue(out)}`);
  return out;
}

/** The names a call of `op` accepts in its options object: cols, its options, its outputs' `out`. */
const OPTION_NAMES = new WeakMap<OpDecl, readonly string[]>();
function optionNames(op: OpDecl): readonly string[] {
  let names = OPTION_NAMES.get(op);
  if (!names) {
    names = ['cols', ...Object.keys(op.options), ...op.outputs.flatMap((o) => (o.outOption ? [o.outOption] : []))];
    OPTION_NAMES.set(op, names);
  }
  return names;
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
  presence: 'absent' | 'present' | 'in-place',
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
  if (presence === 'present') {
    return given ? { array: given, provided: true } : { array: arrayFor(decl, shape.dtype, length), provided: false };
  }
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
 * Validates one call of `op`: `args` are its operands in declaration order, then the options
 * object. Returns the call as a kernel receives it: the operands as typed arrays (a number[]
 * converted once; an input copied where it may share memory with an `out` unseen), the shape,
 * the parsed options, the outputs (the caller's `out` arrays, inputs in place, or new ones) and
 * what the op derives from them. Never modifies its arguments. `dtypes`: the float types this
 * backend computes this op in.
 */
export function validateCall(op: OpDecl, args: ArrayLike<unknown>, dtypes: readonly Dtype[] = ALL_DTYPES): OpCall {
  const names = optionNames(op);
  const source = optionSource(args[op.inputs.length], names);
  const values = readOptions(source, names, op.options);

  // The operands, in order; a number[]'s elements (caller code, through a Proxy) are read here.
  const inputs: OperandArray[] = [];
  const forms: number[] = [];
  const taken: OperandForm[] = [];
  const floatTypes: Array<Dtype | undefined> = [];
  for (let i = 0; i < op.inputs.length; i++) {
    const decl = op.inputs[i];
    const form = formFor(decl, args[i]);
    const f = formsOf(decl)[form];
    forms.push(form);
    taken.push(f);
    if (f.element === 'float') {
      // A form that converts takes either float type, whatever the backend computes in.
      const { array, dtype } = readFloat(args[i], decl.name, f.convert ? ALL_DTYPES : dtypes);
      inputs.push(array);
      floatTypes.push(f.convert ? undefined : dtype);
    } else {
      inputs.push(readIndex(args[i], decl.name, f.element));
      floatTypes.push(undefined);
    }
  }
  // Then the typed arrays' lengths, once each.
  const lengths = inputs.map((array, i) => {
    const length = lengthOf(array);
    checkUsable(array, length, op.inputs[i].name);
    return length;
  });
  const firstFloat = floatTypes.findIndex((d) => d !== undefined);
  const dtype = floatTypes[firstFloat] ?? 'float64';
  for (let i = firstFloat + 1; i < op.inputs.length; i++) {
    if (floatTypes[i] !== undefined && floatTypes[i] !== dtype) {
      const [a, b] = [op.inputs[firstFloat].name, op.inputs[i].name];
      throw new SoftmaxError(
        'UNSUPPORTED_DTYPE',
        `${a} and ${b} must have the same type, got ${a}: ${describeValue(args[firstFloat])}, ${b}: ${describeValue(args[i])}`,
      );
    }
  }
  const first = taken.findIndex((f) => f.shape === 'matrix');
  const length = lengths[first];
  for (let i = first + 1; i < op.inputs.length; i++) {
    if (taken[i].shape === 'matrix' && lengths[i] !== length) {
      const [a, b] = [op.inputs[first].name, op.inputs[i].name];
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${a} and ${b} must have the same length, got ${a}.length ${length} and ${b}.length ${lengths[i]}`,
      );
    }
  }
  if (typeof source === 'string') throw new SoftmaxError('INVALID_OPTION', source);
  const { rows, cols } = readCols(values.cols, length, op.inputs[first].name);
  for (let i = 0; i < op.inputs.length; i++) {
    const decl = op.inputs[i];
    const want = lengthFor(taken[i], rows, cols);
    if (taken[i].shape !== 'matrix' && lengths[i] !== want) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${decl.name}.length must be ${want} (${taken[i].shape === 'rows' ? 'one per row' : 'one value'}), got ${lengths[i]}`,
      );
    }
    // A float form that converts: the other float type copied into the call's (never written back).
    if (taken[i].convert && floatDtypeOf(inputs[i]) !== dtype) {
      inputs[i] = dtype === 'float32' ? Float32Array.from(inputs[i]) : Float64Array.from(inputs[i]);
    }
  }
  const shape: CallShape = { dtype, rows, cols };

  const options: Record<string, unknown> = {};
  for (const key in op.options) options[key] = op.options[key](values[key], `options.${key}`, shape);

  const outputs: OperandArray[] = [];
  const provided: boolean[] = [];
  const present: boolean[] = [];
  for (const decl of op.outputs) {
    const n = lengthFor(decl, rows, cols) * (decl.width ? decl.width(options) : 1);
    const presence = decl.when ? decl.when(options) : 'present';
    const given = decl.outOption ? readOut(values[decl.outOption], decl, dtype, n) : undefined;
    const { array, provided: theirs } = outputFor(op, decl, presence, given, args, inputs, shape, n);
    if (theirs) {
      const option = given
        ? `options.${decl.outOption}`
        : `${decl.name} (in place over ${op.inputs[decl.inPlaceOf ?? 0].name})`;
      for (let i = 0; i < inputs.length; i++) {
        if (presence === 'in-place' && i === (decl.inPlaceOf ?? 0)) continue;
        checkAlias(decl, array, inputs[i], op.inputs[i].name, option);
        inputs[i] = readableWhileWriting(inputs[i], array, option, op.inputs[i].name);
      }
    }
    outputs.push(array);
    provided.push(theirs);
    present.push(presence !== 'absent');
  }
  const call: OpCall = { op, dtype, rows, cols, inputs, forms, outputs, provided, present, options, params: {} };
  return op.derive ? { ...call, params: op.derive(call) } : call;
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
  const source = optionSource(options, LAYOUT_OPTIONS);
  if (typeof source === 'string') throw new SoftmaxError('INVALID_OPTION', source);
  const { rows, cols, temperature: t, fullyMasked: masked } = readOptions(source, LAYOUT_OPTIONS);
  if (typeof cols !== 'number' || !Number.isSafeInteger(cols) || cols <= 0) {
    throw new SoftmaxError('INVALID_SHAPE', `options.cols must be a positive integer, got ${describeValue(cols)}`);
  }
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(rows * cols)) {
    throw new SoftmaxError('INVALID_SHAPE', `options.rows must be a non-negative integer, got ${describeValue(rows)}`);
  }
  return {
    rows,
    cols,
    temperature: temperature(t, 'options.temperature'),
    fullyMasked: fullyMasked(masked, 'options.fullyMasked'),
  };
}
