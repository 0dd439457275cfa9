import { describeValue, SoftmaxError } from './errors.js';
import { bufferOf, byteLengthOf, byteOffsetOf, floatDtypeOf, isShared, lengthOf, unusable } from './typed-arrays.js';
import type { Dtype, FloatArray, FullyMasked } from './types.js';

/**
 * Validation, written once. Every backend calls `checkForward` / `checkBackward` first,
 * so every backend rejects the same inputs with the same codes and messages, and
 * backends only ever see a float typed array with a known shape.
 */

export interface ForwardRequest {
  /**
   * The input as a float typed array: the caller's, or a copy (a number[] becomes a new
   * Float64Array; an input that may share memory with `out` unseen is copied, see validate.ts).
   */
  x: FloatArray;
  dtype: Dtype;
  rows: number;
  cols: number;
  temperature: number;
  fullyMasked: FullyMasked;
  /** The caller's `out`, if any (already checked for type and length). */
  out: FloatArray | undefined;
}

export interface BackwardRequest {
  y: FloatArray;
  dy: FloatArray;
  dtype: Dtype;
  rows: number;
  cols: number;
  temperature: number;
  out: FloatArray | undefined;
}

const ALL_DTYPES: readonly Dtype[] = ['float32', 'float64'];
const FORWARD_OPTIONS = new Set(['cols', 'temperature', 'out', 'fullyMasked']);
const BACKWARD_OPTIONS = new Set(['cols', 'temperature', 'out']);
const FULLY_MASKED: readonly FullyMasked[] = ['nan', 'zero'];

/** What an absent options argument reads as. */
const NONE: Readonly<Record<string, undefined>> = Object.freeze({});

/** Array.isArray, which throws (instead of answering) for a revoked Proxy. */
function isArray(value: unknown, name: string): value is readonly unknown[] {
  try {
    return Array.isArray(value);
  } catch (cause) {
    throw new SoftmaxError(
      'INVALID_INPUT',
      `${name} must be a Float32Array, Float64Array or number[], got a revoked Proxy`,
      {
        cause,
      },
    );
  }
}

/**
 * A number[] copied into a new Float64Array, each element read exactly once and checked as read:
 * checking first and converting after (through the iterator) would let a Proxy, an accessor or a
 * custom Symbol.iterator hand over other values than the ones checked.
 */
function copyNumbers(value: readonly unknown[], name: string): Float64Array {
  const length = value.length;
  // A Proxy can claim any length; a real array's is always an integer in [0, 2^32 − 1].
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0 || length > 2 ** 32 - 1) {
    throw new SoftmaxError('INVALID_INPUT', `${name}.length must be an array length, got ${describeValue(length)}`);
  }
  let array: Float64Array;
  try {
    array = new Float64Array(length);
  } catch (cause) {
    throw new SoftmaxError('INVALID_INPUT', `${name}.length (${length}) is too large to copy into a Float64Array`, {
      cause,
    });
  }
  for (let i = 0; i < length; i++) {
    const v = value[i];
    if (typeof v !== 'number') {
      throw new SoftmaxError('INVALID_INPUT', `${name}[${i}] must be a number, got ${describeValue(v)}`);
    }
    array[i] = v;
  }
  return array;
}

/**
 * Converts an input argument to a float typed array, or throws INVALID_INPUT / UNSUPPORTED_DTYPE.
 * `typed` is floatDtypeOf(value): typed arrays are recognised by their internal tag, not
 * `instanceof`, so arrays of another realm count, and are passed through as they are (no copy,
 * no per-element work).
 */
function readInput(value: unknown, typed: Dtype | undefined, name: string, dtypes: readonly Dtype[]): FloatArray {
  let array: FloatArray;
  if (typed !== undefined) {
    array = value as FloatArray;
  } else if (ArrayBuffer.isView(value)) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `${name} must be a Float32Array, Float64Array or number[], got ${describeValue(value)}`,
    );
  } else if (isArray(value, name)) {
    array = copyNumbers(value, name);
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
  return array;
}

/** Rejects a view that reads as empty (length 0) because its buffer was detached or shrank below it. */
function checkUsable(array: FloatArray, length: number, name: string): void {
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
 * read (thrown by the caller after the
 * inputs' own errors, which came first before and still do). A Map, a Date, an array or a class
 * instance is refused: its entries or accessors would otherwise be silently ignored.
 */
function optionSource(
  options: unknown,
  allowed: ReadonlySet<string>,
): Readonly<Record<string, unknown>> | string | undefined {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') return `options must be an object, got ${describeValue(options)}`;
  if (!isPlainObject(options)) return `options must be a plain object, got ${describeValue(options)}`;
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) {
      return `options.${key} is not a known option (expected one of ${[...allowed].join(', ')})`;
    }
  }
  return options as Record<string, unknown>;
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

function readTemperature(value: unknown): number {
  if (value === undefined) return 1;
  // Dividing by a non-positive or non-finite temperature has no limit that is a distribution.
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.temperature must be a finite number > 0, got ${describeValue(value)}`,
    );
  }
  return value;
}

function readFullyMasked(value: unknown): FullyMasked {
  if (value === undefined) return 'nan';
  if (!FULLY_MASKED.includes(value as FullyMasked)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.fullyMasked must be 'nan' or 'zero', got ${describeValue(value)}`,
    );
  }
  return value as FullyMasked;
}

/** Whether two views of one buffer share bytes without being the very same range. */
function partiallyOverlaps(a: FloatArray, b: FloatArray): boolean {
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
function readableWhileWriting(input: FloatArray, out: FloatArray | undefined, name: string): FloatArray {
  if (!out) return input;
  const inputBuffer = bufferOf(input);
  const outBuffer = bufferOf(out);
  if (inputBuffer === outBuffer) {
    if (partiallyOverlaps(out, input)) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.out partially overlaps ${name}: pass ${name} itself for in-place, or a separate array`,
      );
    }
    return input;
  }
  if (!isShared(outBuffer) || !isShared(inputBuffer)) return input;
  return floatDtypeOf(input) === 'float32' ? new Float32Array(input) : new Float64Array(input);
}

function readOut(value: unknown, dtype: Dtype, length: number): FloatArray | undefined {
  if (value === undefined) return undefined;
  if (floatDtypeOf(value) !== dtype) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.out must be a ${dtype === 'float32' ? 'Float32Array' : 'Float64Array'} (the result's type), got ${describeValue(value)}`,
    );
  }
  const out = value as FloatArray;
  if (lengthOf(out) !== length) {
    throw new SoftmaxError('INVALID_OPTION', `options.out must have length ${length}, got ${describeValue(value)}`);
  }
  const why = length === 0 ? unusable(out) : undefined;
  if (why) throw new SoftmaxError('INVALID_OPTION', `options.out cannot be written: ${why}, got ${describeValue(out)}`);
  return out;
}

/*
 * Order of work in both checks: first everything that can run the caller's code — the options'
 * getters (each read exactly once, into locals) and a number[]'s elements — then the typed arrays'
 * lengths and buffers. A getter that ran later could detach, shrink or rewrite an input after its
 * checks, and the backend would read stale or missing memory.
 */

/** Validates a forward call (softmax / logSoftmax). Never modifies its arguments. */
export function checkForward(x: unknown, options?: unknown, dtypes: readonly Dtype[] = ALL_DTYPES): ForwardRequest {
  const source = optionSource(options, FORWARD_OPTIONS);
  const o = typeof source === 'object' ? source : undefined;
  const { cols, temperature, out, fullyMasked } = o ?? NONE;
  const typed = floatDtypeOf(x);
  const array = readInput(x, typed, 'x', dtypes);
  const length = lengthOf(array);
  checkUsable(array, length, 'x');
  if (typeof source === 'string') throw new SoftmaxError('INVALID_OPTION', source);
  const dtype = typed ?? 'float64';
  const shape = readCols(cols, length, 'x');
  const result = readOut(out, dtype, length);
  const input = readableWhileWriting(array, result, 'x');
  return {
    x: input,
    dtype,
    rows: shape.rows,
    cols: shape.cols,
    temperature: readTemperature(temperature),
    fullyMasked: readFullyMasked(fullyMasked),
    out: result,
  };
}

/** Validates a backward call (softmaxBackward / logSoftmaxBackward). Never modifies its arguments. */
export function checkBackward(
  y: unknown,
  dy: unknown,
  options?: unknown,
  dtypes: readonly Dtype[] = ALL_DTYPES,
): BackwardRequest {
  const source = optionSource(options, BACKWARD_OPTIONS);
  const o = typeof source === 'object' ? source : undefined;
  const { cols, temperature, out } = o ?? NONE;
  const yTyped = floatDtypeOf(y);
  const yArray = readInput(y, yTyped, 'y', dtypes);
  const dyTyped = floatDtypeOf(dy);
  const dyArray = readInput(dy, dyTyped, 'dy', dtypes);
  const length = lengthOf(yArray);
  const dyLength = lengthOf(dyArray);
  checkUsable(yArray, length, 'y');
  checkUsable(dyArray, dyLength, 'dy');
  const dtype = yTyped ?? 'float64';
  if ((dyTyped ?? 'float64') !== dtype) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `y and dy must have the same type, got y: ${describeValue(y)}, dy: ${describeValue(dy)}`,
    );
  }
  if (length !== dyLength) {
    throw new SoftmaxError(
      'INVALID_SHAPE',
      `y and dy must have the same length, got y.length ${length} and dy.length ${dyLength}`,
    );
  }
  if (typeof source === 'string') throw new SoftmaxError('INVALID_OPTION', source);
  const shape = readCols(cols, length, 'y');
  const result = readOut(out, dtype, length);
  const yInput = readableWhileWriting(yArray, result, 'y');
  const dyInput = readableWhileWriting(dyArray, result, 'dy');
  return {
    y: yInput,
    dy: dyInput,
    dtype,
    rows: shape.rows,
    cols: shape.cols,
    temperature: readTemperature(temperature),
    out: result,
  };
}

export interface LayoutRequest {
  rows: number;
  cols: number;
  temperature: number;
  fullyMasked: FullyMasked;
}

const LAYOUT_OPTIONS = new Set(['rows', 'cols', 'temperature', 'fullyMasked']);

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
  // Each option read exactly once (a getter could answer differently the second time).
  const { rows, cols, temperature, fullyMasked } = source ?? NONE;
  if (typeof cols !== 'number' || !Number.isSafeInteger(cols) || cols <= 0) {
    throw new SoftmaxError('INVALID_SHAPE', `options.cols must be a positive integer, got ${describeValue(cols)}`);
  }
  if (typeof rows !== 'number' || !Number.isSafeInteger(rows) || rows < 0 || !Number.isSafeInteger(rows * cols)) {
    throw new SoftmaxError('INVALID_SHAPE', `options.rows must be a non-negative integer, got ${describeValue(rows)}`);
  }
  return {
    rows,
    cols,
    temperature: readTemperature(temperature),
    fullyMasked: readFullyMasked(fullyMasked),
  };
}

/** The caller's `out`, or a new array of the result's type. */
export function allocateResult(request: {
  out: FloatArray | undefined;
  dtype: Dtype;
  rows: number;
  cols: number;
}): FloatArray {
  if (request.out) return request.out;
  const length = request.rows * request.cols;
  return request.dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}
