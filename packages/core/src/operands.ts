import { describeValue, SoftmaxError } from './errors.js';
import type { ElementKind, OperandArray, OperandForm } from './ops/declaration.js';
import { floatDtypeOf } from './typed-arrays.js';
import type { Dtype, FloatArray } from './types.js';

/** Reading operands into typed arrays, and the type and length of a form's array: what every validation step shares. */

export const ALL_DTYPES: readonly Dtype[] = ['float32', 'float64'];

/** Array.isArray, which throws (instead of answering) for a revoked Proxy. */
export function isArray(value: unknown, name: string): value is readonly unknown[] {
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
export function copyNumbers(value: readonly unknown[], name: string, element: ElementKind): OperandArray {
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

export const INDEX_TYPES = { int32: Int32Array, uint32: Uint32Array } as const;
export const TAGS: Record<'int32' | 'uint32', string> = { int32: 'Int32Array', uint32: 'Uint32Array' };

/**
 * Converts a float operand to a float typed array, or throws INVALID_INPUT / UNSUPPORTED_DTYPE.
 * Typed arrays are recognised by their internal tag, not `instanceof`, so arrays of another realm
 * count, and are passed through as they are (no copy, no per-element work).
 */
export function readFloat(value: unknown, name: string, dtypes: readonly Dtype[]): { array: FloatArray; dtype: Dtype } {
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

export function tagFor(form: OperandForm, dtype: Dtype): string {
  if (form.element !== 'float') return TAGS[form.element];
  return (form.dtype ?? dtype) === 'float32' ? 'Float32Array' : 'Float64Array';
}

export function arrayFor(form: OperandForm, dtype: Dtype, length: number): OperandArray {
  if (form.element !== 'float') return new INDEX_TYPES[form.element](length);
  return (form.dtype ?? dtype) === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

export function lengthFor(decl: OperandForm, rows: number, cols: number): number {
  return decl.shape === 'matrix' ? rows * cols : decl.shape === 'rows' ? rows : 1;
}

/** A present output: the caller's `out` (`given`), or a new array of its form's type. */
export function presentOutput(
  form: OperandForm,
  given: OperandArray | undefined,
  dtype: Dtype,
  length: number,
): { array: OperandArray; provided: boolean } {
  return given ? { array: given, provided: true } : { array: arrayFor(form, dtype, length), provided: false };
}
