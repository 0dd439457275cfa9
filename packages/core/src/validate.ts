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
 * The options object's values by accepted name (`names` order; undefined when absent, or when
 * there is no options object), or the message of why it cannot be read. Each accepted name is read
 * exactly once (a getter could answer differently the second time), only after every own key was
 * found acceptable; what an op's reader reads early (a number[]'s elements) is read now too, before
 * the inputs' checks.
 */
function readSource(options: unknown, plan: Plan): unknown[] | string | undefined {
  if (options === undefined || options === null) return undefined;
  const { names, early } = plan;
  if (typeof options !== 'object' || !isPlainObject(options)) return optionSource(options, names) as string;
  const keys = Object.keys(options);
  for (let j = 0; j < keys.length; j++) {
    if (!names.includes(keys[j])) return optionSource(options, names) as string; // the reason it is refused
  }
  const values: unknown[] = new Array(names.length);
  // names[0] is always cols: a named load, where the loop's are keyed ones (megamorphic across names).
  values[0] = (options as { cols?: unknown }).cols;
  for (let k = 1; k < names.length; k++) {
    const value = optionValue(options as Record<string, unknown>, names[k]);
    const read = early[k];
    values[k] = read && value !== undefined ? read(value, `options.${names[k]}`) : value;
  }
  return values;
}

/**
 * options[name], by a named load for the names every call of the small ops reads: one keyed load
 * site for every name is megamorphic, about 30 ns for an absent name (most of them, in most calls),
 * more than the rest of a small call's validation; a named load site sees one name. The same
 * [[Get]] either way (a getter or a Proxy's trap runs alike).
 */
function optionValue(options: Readonly<Record<string, unknown>>, name: string): unknown {
  switch (name) {
    case 'temperature':
      return options.temperature;
    case 'fullyMasked':
      return options.fullyMasked;
    case 'out':
      return options.out;
    default:
      return options[name];
  }
}

/** Each allowed option read exactly once (a getter could answer differently the second time). */
function readOptions(source: Readonly<Record<string, unknown>> | undefined, allowed: readonly string[]) {
  const values: Record<string, unknown> = {};
  if (source !== undefined) for (const key of allowed) values[key] = source[key];
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

/**
 * What validation needs of a declaration, worked out once per op: the option names it accepts
 * (cols, its options, its outputs' `out`), their early readers, where its first float operand is,
 * and whether the fast path takes its calls. Small calls are dominated by this bookkeeping, not by
 * their kernel.
 */
interface Plan {
  readonly names: readonly string[];
  readonly early: readonly (((value: unknown, name: string) => unknown) | undefined)[];
  readonly optionKeys: readonly string[];
  /** Index in `names` of each output's `out` option, or −1. */
  readonly outIndex: readonly number[];
  /**
   * One form per operand, float matrix inputs, one float output of the call's type that the caller
   * may pass and that may be an input (in place), nothing derived: the calls fastCall handles.
   */
  readonly simple: boolean;
  /**
   * Whether absent options parse to the same values in every call: no reader takes the call's shape
   * (a third parameter). Then a call of a simple op that sets none shares one frozen options object.
   */
  readonly shapeFree: boolean;
  /** The first output's shape. */
  readonly outShape: OutputDecl['shape'];
  defaults?: Readonly<Record<string, unknown>>;
  /** The last options that set some value, parsed (simple, shape-free ops), and the primitive values they came from. */
  lastValues?: unknown[];
  lastParsed?: Readonly<Record<string, unknown>>;
}

const PLANS = new WeakMap<OpDecl, Plan>();
// The last op's plan: a call usually follows one of the same op, and a WeakMap lookup costs ~20 ns.
let lastOp: OpDecl | undefined;
let lastPlan: Plan | undefined;
function planOf(op: OpDecl): Plan {
  if (op === lastOp) return lastPlan as Plan;
  let plan = PLANS.get(op);
  if (!plan) {
    const optionKeys = Object.keys(op.options);
    const outs = op.outputs.flatMap((o) => (o.outOption ? [o.outOption] : []));
    const names = ['cols', ...optionKeys, ...outs];
    const out = op.outputs[0];
    plan = {
      names,
      early: names.map((n) => (Object.hasOwn(op.options, n) ? op.options[n].early : undefined)),
      optionKeys,
      outIndex: op.outputs.map((o) => (o.outOption ? names.indexOf(o.outOption) : -1)),
      simple:
        op.derive === undefined &&
        op.inputs.every((d) => d.element === 'float' && d.shape === 'matrix' && !d.or) &&
        optionKeys.every((k) => op.options[k].early === undefined) &&
        op.outputs.length === 1 &&
        out.element === 'float' &&
        out.outOption !== undefined &&
        out.dtype === undefined &&
        out.when === undefined &&
        out.width === undefined &&
        out.mayAlias === undefined,
      shapeFree: optionKeys.every((k) => op.options[k].length < 3),
      outShape: op.outputs[0].shape,
    };
    PLANS.set(op, plan);
  }
  lastOp = op;
  lastPlan = plan;
  return plan;
}

/** The parsed options: each reader called once with its value (values[1 + k] is optionKeys[k]'s). */
function parseOptions(
  op: OpDecl,
  plan: Plan,
  values: readonly unknown[] | undefined,
  shape: CallShape,
): Readonly<Record<string, unknown>> {
  const keys = plan.optionKeys;
  let given = false;
  if (values) for (let k = 0; k < keys.length; k++) given ||= values[1 + k] !== undefined;
  if (!given && plan.defaults) return plan.defaults;
  const reuse = given && plan.simple && plan.shapeFree;
  if (reuse && plan.lastValues && sameValues(plan.lastValues, values as readonly unknown[], keys.length)) {
    return plan.lastParsed as Readonly<Record<string, unknown>>;
  }
  const options: Record<string, unknown> = {};
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k];
    options[key] = op.options[key](values?.[1 + k], `options.${key}`, shape);
  }
  if (!given && plan.simple && plan.shapeFree) plan.defaults = Object.freeze(options);
  // A loop that sets the same temperature every call parses it once: a shape-free reader of a
  // primitive gives the same result for the same value (an object could change between calls).
  if (reuse && primitives(values as readonly unknown[], keys.length)) {
    plan.lastValues = (values as readonly unknown[]).slice(1, 1 + keys.length);
    plan.lastParsed = Object.freeze(options);
  }
  return options;
}

function isPrimitive(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

function primitives(values: readonly unknown[], n: number): boolean {
  for (let k = 0; k < n; k++) if (!isPrimitive(values[1 + k])) return false;
  return true;
}

/** Whether `values[1..n]` are the primitives `last` holds (Object.is: NaN is NaN, 0 is not −0). */
function sameValues(last: readonly unknown[], values: readonly unknown[], n: number): boolean {
  for (let k = 0; k < n; k++) if (!Object.is(last[k], values[1 + k])) return false;
  return true;
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
 * The common call, checked with nothing allocated but its result: typed-array operands of one
 * float type, a valid `cols`, and an `out` (if any) of the right type and length that cannot
 * overlap an input unseen. Anything else (a number[], any error) returns undefined and takes the
 * general path, which reports it; the options' values were read already, once, and are reused.
 */
function fastCall(
  op: OpDecl,
  plan: Plan,
  args: ArrayLike<unknown>,
  values: unknown[] | undefined,
  dtypes: readonly Dtype[],
  outs: readonly unknown[] | undefined,
): OpCall | undefined {
  const x = args[0];
  const dtype = floatDtypeOf(x);
  if (dtype === undefined || (dtype !== dtypes[0] && dtype !== dtypes[1])) return undefined;
  const length = lengthOf(x as FloatArray);
  if (length === 0) return undefined;
  const count = op.inputs.length;
  const inputs: OperandArray[] = new Array(count);
  inputs[0] = x as FloatArray;
  for (let i = 1; i < count; i++) {
    const y = args[i];
    if (floatDtypeOf(y) !== dtype || lengthOf(y as FloatArray) !== length) return undefined;
    inputs[i] = y as FloatArray;
  }
  let rows = 1;
  let cols = length;
  const c = values?.[0];
  if (c !== undefined) {
    if (typeof c !== 'number' || !Number.isSafeInteger(c) || c <= 0 || length % c !== 0) return undefined;
    rows = length / c;
    cols = c;
  }
  const shapeOut = plan.outShape;
  const n = shapeOut === 'matrix' ? length : shapeOut === 'rows' ? rows : 1;
  const given = outs?.[0] ?? values?.[plan.outIndex[0]];
  let out: FloatArray;
  if (given === undefined) {
    out = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  } else {
    if (floatDtypeOf(given) !== dtype || lengthOf(given as FloatArray) !== n) return undefined;
    out = given as FloatArray;
    const outBuffer = bufferOf(out);
    for (let i = 0; i < inputs.length; i++) {
      const inputBuffer = bufferOf(inputs[i]);
      // The cases readableWhileWriting refuses or copies.
      if (
        inputBuffer === outBuffer ? partiallyOverlaps(out, inputs[i]) : isShared(outBuffer) && isShared(inputBuffer)
      ) {
        return undefined;
      }
    }
  }
  const options = parseOptions(op, plan, values, { dtype, rows, cols });
  const forms = inputs.length === 1 ? ONE_FORM : TWO_FORMS;
  return {
    op,
    dtype,
    rows,
    cols,
    inputs,
    forms,
    outputs: [out],
    provided: given === undefined ? NOT_PROVIDED : PROVIDED,
    present: PRESENT,
    options,
    params: NO_PARAMS,
  };
}

const ONE_FORM: readonly number[] = Object.freeze([0]);
const TWO_FORMS: readonly number[] = Object.freeze([0, 0]);
const PRESENT: readonly boolean[] = Object.freeze([true]);
const PROVIDED: readonly boolean[] = PRESENT;
const NOT_PROVIDED: readonly boolean[] = Object.freeze([false]);
const NO_PARAMS: Readonly<Record<string, unknown>> = Object.freeze({});

/**
 * Validates one call of `op`: `args` are its operands in declaration order, then the options
 * object. Returns the call as a kernel receives it: the operands as typed arrays (a number[]
 * converted once; an input copied where it may share memory with an `out` unseen), the shape,
 * the parsed options (one frozen object shared by the calls that set none), the outputs (the
 * caller's `out` arrays, inputs in place, or new ones) and what the op derives from them. Never
 * modifies its arguments. `dtypes`: the float types this backend computes this op in. `outs`: for
 * a backend whose `out` options are handles (wasm buffers), the arrays to validate in their
 * place, by output (undefined: the option's value).
 *
 * @example
 * ```ts
 * import { OPS, validateCall } from '@softmax/core/backend';
 *
 * const call = validateCall(OPS.softmax, [new Float32Array(6), { cols: 3 }], ['float32']);
 * call.rows; // 2
 * call.outputs[0]; // a new Float32Array(6) for the kernel to fill
 * validateCall(OPS.softmax, [new Float64Array(3), {}], ['float32']); // throws UNSUPPORTED_DTYPE
 * ```
 */
export function validateCall(
  op: OpDecl,
  args: ArrayLike<unknown>,
  dtypes: readonly Dtype[] = ALL_DTYPES,
  outs?: readonly unknown[],
): OpCall {
  const plan = planOf(op);
  const source = readSource(args[op.inputs.length], plan);
  if (plan.simple && typeof source !== 'string') {
    const call = fastCall(op, plan, args, source, dtypes, outs);
    if (call) return call;
  }
  return generalCall(op, plan, args, source, dtypes, outs);
}

/** validateCall for every call fastCall does not take: any declaration, any error. */
function generalCall(
  op: OpDecl,
  plan: Plan,
  args: ArrayLike<unknown>,
  source: unknown[] | string | undefined,
  dtypes: readonly Dtype[],
  outs: readonly unknown[] | undefined,
): OpCall {
  const values: readonly unknown[] = typeof source === 'object' ? source : [];
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
  const { rows, cols } = readCols(values[0], length, op.inputs[first].name);
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

  const options = parseOptions(op, plan, values, shape);

  const outputs: OperandArray[] = [];
  const provided: boolean[] = [];
  const present: boolean[] = [];
  for (let o = 0; o < op.outputs.length; o++) {
    const decl = op.outputs[o];
    const n = lengthFor(decl, rows, cols) * (decl.width ? decl.width(options) : 1);
    const presence = decl.when ? decl.when(options) : 'present';
    const value = outs?.[o] ?? (plan.outIndex[o] >= 0 ? values[plan.outIndex[o]] : undefined);
    const given = decl.outOption ? readOut(value, decl, dtype, n) : undefined;
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

/** The shape and options of a call on caller-managed memory, as `checkLayout` returns them. */
export interface LayoutRequest {
  /** Rows (≥ 0). */
  rows: number;
  /** Row length (> 0). */
  cols: number;
  /** > 0; 1 when not given. */
  temperature: number;
  /** 'nan' (default) or 'zero'. */
  fullyMasked: FullyMasked;
}

const LAYOUT_OPTIONS = ['rows', 'cols', 'temperature', 'fullyMasked'];

/**
 * Validates the options of a call on memory the caller manages (GPU buffers, wasm memory), where
 * there is no array to take the shape from: `rows` (a non-negative integer) and `cols` (a positive
 * integer) are required, `temperature` and `fullyMasked` as for arrays. Checking that the memory
 * holds rows × cols elements is the backend's part, since only it knows the memory's size.
 *
 * @example
 * ```ts
 * import { checkLayout } from '@softmax/core/backend';
 *
 * const { rows, cols, temperature, fullyMasked } = checkLayout({ rows: 4, cols: 32000 }); // temperature 1, 'nan'
 * checkLayout({ rows: 4 }); // throws SoftmaxError INVALID_SHAPE: cols is required
 * ```
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
