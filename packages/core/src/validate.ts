import { describeValue, SoftmaxError } from './errors.js';
import { ALL_DTYPES, lengthFor, presentOutput, readFloat, tagFor } from './operands.js';
import type {
  CallShape,
  OpCall,
  OpDecl,
  OperandArray,
  OperandForm,
  OutputDecl,
  ValidationSteps,
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
import { EXTENDED_VALIDATION } from './validate-extended.js';

/**
 * Validation, written once over the op table's declarations. Every backend's calls go through
 * `validateCall` (via `BackendBase`), so every backend rejects the same inputs with the same
 * codes and messages, and kernels only ever see typed arrays of a known shape.
 *
 * Order of work: first everything that can run the caller's code — the options' getters (each
 * read exactly once) and a number[]'s elements — then the typed arrays' lengths and buffers. A
 * getter that ran later could detach, shrink or rewrite an input after its checks, and the backend
 * would read stale or missing memory. Errors are still reported in the order of the arguments.
 *
 * The steps only some declarations need (several operand forms, integer operands, outputs absent
 * or in place, ...) are in validate-extended.ts, reached through the declarations that use them
 * (OpDecl.validation): core's `softmax` function validates with the plain steps alone.
 */

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
    if (!isOneOf(keys[j], names)) return optionSource(options, names) as string; // the reason it is refused
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

/** names.includes(key), as a loop of ===: V8 does not inline includes, which a small call notices. */
function isOneOf(key: string, names: readonly string[]): boolean {
  for (let i = 0; i < names.length; i++) if (names[i] === key) return true;
  return false;
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
  dtype: Dtype,
  rows: number,
  cols: number,
): Readonly<Record<string, unknown>> {
  const keys = plan.optionKeys;
  let given = false;
  if (values) for (let k = 0; k < keys.length; k++) given ||= values[1 + k] !== undefined;
  if (!given && plan.defaults) return plan.defaults;
  const reuse = given && plan.simple && plan.shapeFree;
  if (reuse && plan.lastValues && sameValues(plan.lastValues, values as readonly unknown[], keys.length)) {
    return plan.lastParsed as Readonly<Record<string, unknown>>;
  }
  const shape: CallShape = { dtype, rows, cols };
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
  const cols = colsOf(values, length);
  if (cols === 0) return undefined;
  const rows = length / cols;
  const n = outLength(plan, rows, length);
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
  return simpleCall(op, plan, values, dtype, rows, cols, inputs, out, given !== undefined);
}

/** The row length a simple call's `cols` value gives for `length` elements, or 0 for one the general path refuses. */
function colsOf(values: readonly unknown[] | undefined, length: number): number {
  const c = values?.[0];
  if (c === undefined) return length;
  if (typeof c !== 'number' || !Number.isSafeInteger(c) || c <= 0 || length % c !== 0) return 0;
  return c;
}

/** The length of a simple op's output for a call of `rows` rows of `length` elements in all. */
function outLength(plan: Plan, rows: number, length: number): number {
  const shape = plan.outShape;
  return shape === 'matrix' ? length : shape === 'rows' ? rows : 1;
}

/** A simple op's call, once its operands are checked: the options parsed, the rest as constants. */
function simpleCall(
  op: OpDecl,
  plan: Plan,
  values: readonly unknown[] | undefined,
  dtype: Dtype,
  rows: number,
  cols: number,
  inputs: OperandArray[],
  out: OperandArray,
  given: boolean,
): OpCall {
  const options = parseOptions(op, plan, values, dtype, rows, cols);
  return {
    op,
    dtype,
    rows,
    cols,
    inputs,
    forms: inputs.length === 1 ? ONE_FORM : TWO_FORMS,
    outputs: [out],
    provided: given ? PROVIDED : NOT_PROVIDED,
    present: PRESENT,
    options,
    params: NO_PARAMS,
  };
}

/**
 * An operand in memory that a backend manages and describes itself (a wasm buffer): its element
 * type, its length in elements and its byte offset in that memory. Every placed operand of a call
 * lies in the one memory, so offsets alone tell whether two overlap.
 */
export interface PlacedOperand {
  /** Its element type ('float32', 'float64', ...). */
  readonly dtype: string;
  /** Its length in elements. */
  readonly length: number;
  /** Where it starts in the backend's memory, in bytes. */
  readonly byteOffset: number;
}

/**
 * fastCall for operands a backend placed in its own memory (`placed`: the inputs, then the one
 * output): their types, lengths and offsets are plain fields, so nothing is asked of a typed
 * array's accessors, which a call of a few elements would otherwise spend most of its checks on.
 * `view` gives an operand's typed array, taken only once the call is known good.
 */
function placedCall<P extends PlacedOperand>(
  op: OpDecl,
  plan: Plan,
  placed: readonly P[],
  values: unknown[] | undefined,
  dtypes: readonly Dtype[],
  view: (operand: P, index: number) => OperandArray,
): OpCall | undefined {
  const x = placed[0];
  const dtype = x.dtype;
  if (dtype !== dtypes[0] && dtype !== dtypes[1]) return undefined;
  const length = x.length;
  if (length === 0) return undefined;
  const count = op.inputs.length;
  for (let i = 1; i < count; i++) {
    if (placed[i].dtype !== dtype || placed[i].length !== length) return undefined;
  }
  const cols = colsOf(values, length);
  if (cols === 0) return undefined;
  const rows = length / cols;
  const out = placed[count];
  const n = outLength(plan, rows, length);
  if (out.dtype !== dtype || out.length !== n) return undefined;
  // The partial overlaps readableWhileWriting refuses, from the offsets (the general path reports them).
  const bytes = dtype === 'float32' ? 4 : 8;
  const o = out.byteOffset;
  for (let i = 0; i < count; i++) {
    const a = placed[i].byteOffset;
    if (a !== o || length !== n) {
      if (a < o + n * bytes && o < a + length * bytes) return undefined;
    }
  }
  const inputs: OperandArray[] = new Array(count);
  for (let i = 0; i < count; i++) inputs[i] = view(placed[i], i);
  return simpleCall(op, plan, values, dtype as Dtype, rows, cols, inputs, view(out, count), true);
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
  return checkCall(op, op.validation ?? EXTENDED_VALIDATION, args, dtypes, outs);
}

/**
 * validateCall for a call whose operands lie in memory the backend manages (a wasm buffer call).
 * `placed` describes the op's inputs, then its output when it has a place (`out`, or the input it
 * is written over; none: core allocates it, as for arrays); `view(operand, i)` gives operand i's
 * typed array there, or throws the backend's error for it. The checks, codes and messages are
 * validateCall's for those arrays with `options`, the placed output standing for an `out`: a simple
 * op's good call is checked from the descriptions alone, and every other call (any error) goes
 * through the general path with the views. Views are taken after the options' getters ran, since
 * a getter may have grown the memory.
 *
 * @example
 * ```ts
 * import { OPS, validatePlaced } from '@softmax/core/backend';
 *
 * // x at byte 0 of one memory, the output placed at byte 64: 4 rows of 4 float32 each.
 * const memory = new Float32Array(32);
 * const placed = [
 *   { dtype: 'float32', length: 16, byteOffset: 0 },
 *   { dtype: 'float32', length: 16, byteOffset: 64 },
 * ];
 * const view = (p: (typeof placed)[number]) => memory.subarray(p.byteOffset / 4, p.byteOffset / 4 + p.length);
 * const call = validatePlaced(OPS.softmax, placed, { cols: 4 }, ['float32'], view);
 * call.rows; // 4
 * call.outputs[0]; // memory's elements 16 to 31, for the kernel to fill
 * ```
 */
export function validatePlaced<P extends PlacedOperand>(
  op: OpDecl,
  placed: readonly P[],
  options: unknown,
  dtypes: readonly Dtype[],
  view: (operand: P, index: number) => OperandArray,
): OpCall {
  const plan = planOf(op);
  const source = readSource(options, plan);
  const count = op.inputs.length;
  const simple = plan.simple && typeof source !== 'string';
  if (simple && placed.length > count) {
    const call = placedCall(op, plan, placed, source, dtypes, view);
    if (call) return call;
  }
  const args: unknown[] = new Array(count + 1);
  for (let i = 0; i < count; i++) args[i] = view(placed[i], i);
  args[count] = options;
  const outs = placed.length > count ? [view(placed[count], count)] : undefined;
  // No output placed (one the backend makes after): core's fast path, which allocates it.
  const call = simple && outs === undefined ? fastCall(op, plan, args, source, dtypes, outs) : undefined;
  return call ?? generalCall(op, plan, args, source, dtypes, outs, op.validation ?? EXTENDED_VALIDATION);
}

/**
 * validateCall (in both float types) for a declaration that names the steps it needs beyond a
 * plain op's (OpDecl.validation), as core's own do; the plain steps when it names none. Core's
 * functions validate through it, so a bundle of a plain op carries no other steps.
 */
export function validateDeclared(op: OpDecl, args: ArrayLike<unknown>): OpCall {
  return checkCall(op, op.validation ?? PLAIN_VALIDATION, args, ALL_DTYPES, undefined);
}

/**
 * The steps of a plain op: each operand one float matrix form (its length checked with the
 * others', nothing to convert), its outputs always present and free to be any input.
 */
const PLAIN_VALIDATION: ValidationSteps = {
  operand: (decl, value, dtypes) => ({ form: 0, taken: decl, ...readFloat(value, decl.name, dtypes) }),
  fit: () => {},
  output: (_op, decl, _presence, given, _args, _inputs, shape, length) =>
    presentOutput(decl, given, shape.dtype, length),
  alias: () => {},
};

function checkCall(
  op: OpDecl,
  steps: ValidationSteps,
  args: ArrayLike<unknown>,
  dtypes: readonly Dtype[],
  outs: readonly unknown[] | undefined,
): OpCall {
  const plan = planOf(op);
  const source = readSource(args[op.inputs.length], plan);
  if (plan.simple && typeof source !== 'string') {
    const call = fastCall(op, plan, args, source, dtypes, outs);
    if (call) return call;
  }
  return generalCall(op, plan, args, source, dtypes, outs, steps);
}

/** validateCall for every call fastCall does not take: any declaration, any error. */
function generalCall(
  op: OpDecl,
  plan: Plan,
  args: ArrayLike<unknown>,
  source: unknown[] | string | undefined,
  dtypes: readonly Dtype[],
  outs: readonly unknown[] | undefined,
  steps: ValidationSteps,
): OpCall {
  const values: readonly unknown[] = typeof source === 'object' ? source : [];
  // The operands, in order; a number[]'s elements (caller code, through a Proxy) are read here.
  const inputs: OperandArray[] = [];
  const forms: number[] = [];
  const taken: OperandForm[] = [];
  const floatTypes: Array<Dtype | undefined> = [];
  for (let i = 0; i < op.inputs.length; i++) {
    const read = steps.operand(op.inputs[i], args[i], dtypes);
    inputs.push(read.array);
    forms.push(read.form);
    taken.push(read.taken);
    floatTypes.push(read.dtype);
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
  const shape: CallShape = { dtype, rows, cols };
  steps.fit(op, taken, inputs, lengths, shape);

  const options = parseOptions(op, plan, values, dtype, rows, cols);

  const outputs: OperandArray[] = [];
  const provided: boolean[] = [];
  const present: boolean[] = [];
  for (let o = 0; o < op.outputs.length; o++) {
    const decl = op.outputs[o];
    const n = lengthFor(decl, rows, cols) * (decl.width ? decl.width(options) : 1);
    const presence = decl.when ? decl.when(options) : 'present';
    const value = outs?.[o] ?? (plan.outIndex[o] >= 0 ? values[plan.outIndex[o]] : undefined);
    const given = decl.outOption ? readOut(value, decl, dtype, n) : undefined;
    const { array, provided: theirs } = steps.output(op, decl, presence, given, args, inputs, shape, n);
    if (theirs) {
      const option = given
        ? `options.${decl.outOption}`
        : `${decl.name} (in place over ${op.inputs[decl.inPlaceOf ?? 0].name})`;
      for (let i = 0; i < inputs.length; i++) {
        if (presence === 'in-place' && i === (decl.inPlaceOf ?? 0)) continue;
        steps.alias(decl, array, inputs[i], op.inputs[i].name, option);
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
