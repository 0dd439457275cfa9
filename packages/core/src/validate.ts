import { describeValue, SoftmaxError } from './errors.js';
import type { Dtype, FloatArray, FullyMasked } from './types.js';

/**
 * Validation, written once. Every backend calls `checkForward` / `checkBackward` first,
 * so every backend rejects the same inputs with the same codes and messages, and
 * backends only ever see a float typed array with a known shape.
 */

export interface ForwardRequest {
  /** The input as a float typed array (a number[] is copied into a new Float64Array). */
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

/** Converts an input argument to a float typed array, or throws INVALID_INPUT / UNSUPPORTED_DTYPE. */
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

function readOptions(options: unknown, allowed: ReadonlySet<string>): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new SoftmaxError('INVALID_OPTION', `options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!allowed.has(key)) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.${key} is not a known option (expected one of ${[...allowed].join(', ')})`,
      );
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

/** Whether two views share bytes without being the very same range. */
function partiallyOverlaps(a: ArrayBufferView, b: ArrayBufferView): boolean {
  if (a.buffer !== b.buffer) return false;
  if (a.byteOffset === b.byteOffset && a.byteLength === b.byteLength) return false;
  return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
}

/** Rejects an `out` that shares bytes with `input` without being the very same range. */
function checkOverlap(out: FloatArray, input: unknown, name: string): void {
  // Rows are read before they are written, which is safe for out === input but not for a shifted view.
  if (ArrayBuffer.isView(input) && partiallyOverlaps(out, input)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.out partially overlaps ${name}: pass ${name} itself for in-place, or a separate array`,
    );
  }
}

function readOut(value: unknown, dtype: Dtype, length: number): FloatArray | undefined {
  if (value === undefined) return undefined;
  const Expected = dtype === 'float32' ? Float32Array : Float64Array;
  if (!(value instanceof Expected)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.out must be a ${Expected.name} (the result's type), got ${describeValue(value)}`,
    );
  }
  if (value.length !== length) {
    throw new SoftmaxError('INVALID_OPTION', `options.out must have length ${length}, got ${describeValue(value)}`);
  }
  return value;
}

/** Validates a forward call (softmax / logSoftmax). Never modifies its arguments. */
export function checkForward(x: unknown, options?: unknown, dtypes: readonly Dtype[] = ALL_DTYPES): ForwardRequest {
  const { array, dtype } = toFloatArray(x, 'x', dtypes);
  const opts = readOptions(options, FORWARD_OPTIONS);
  const { rows, cols } = readCols(opts.cols, array.length, 'x');
  const out = readOut(opts.out, dtype, array.length);
  if (out) checkOverlap(out, x, 'x');
  return {
    x: array,
    dtype,
    rows,
    cols,
    temperature: readTemperature(opts.temperature),
    fullyMasked: readFullyMasked(opts.fullyMasked),
    out,
  };
}

/** Validates a backward call (softmaxBackward / logSoftmaxBackward). Never modifies its arguments. */
export function checkBackward(
  y: unknown,
  dy: unknown,
  options?: unknown,
  dtypes: readonly Dtype[] = ALL_DTYPES,
): BackwardRequest {
  const yy = toFloatArray(y, 'y', dtypes);
  const dd = toFloatArray(dy, 'dy', dtypes);
  if (yy.dtype !== dd.dtype) {
    throw new SoftmaxError(
      'UNSUPPORTED_DTYPE',
      `y and dy must have the same type, got y: ${describeValue(y)}, dy: ${describeValue(dy)}`,
    );
  }
  if (yy.array.length !== dd.array.length) {
    throw new SoftmaxError(
      'INVALID_SHAPE',
      `y and dy must have the same length, got y.length ${yy.array.length} and dy.length ${dd.array.length}`,
    );
  }
  const opts = readOptions(options, BACKWARD_OPTIONS);
  const { rows, cols } = readCols(opts.cols, yy.array.length, 'y');
  const out = readOut(opts.out, yy.dtype, yy.array.length);
  if (out) {
    checkOverlap(out, y, 'y');
    checkOverlap(out, dy, 'dy');
  }
  return {
    y: yy.array,
    dy: dd.array,
    dtype: yy.dtype,
    rows,
    cols,
    temperature: readTemperature(opts.temperature),
    out,
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
  const opts = readOptions(options, LAYOUT_OPTIONS);
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
    temperature: readTemperature(opts.temperature),
    fullyMasked: readFullyMasked(opts.fullyMasked),
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
