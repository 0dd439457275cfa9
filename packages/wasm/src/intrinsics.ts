import type { Dtype, FloatArray } from '@softmax/core';

/**
 * The typed-array operations a call applies to the caller's arrays, taken from the intrinsics at
 * load time. A caller's array may be a subclass, or carry its own `buffer`, `set` or `subarray`:
 * those could hide that it is a view of wasm memory, or run the caller's code in the middle of a
 * call (a re-entrant call, say). The intrinsic getters read the array's internal slots, and `set`
 * with a typed-array source runs no user code.
 */
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (name: string) => Object.getOwnPropertyDescriptor(TypedArray, name)?.get as (this: unknown) => unknown;
const bufferGetter = getter('buffer');
const byteOffsetGetter = getter('byteOffset');
const set = Object.getOwnPropertyDescriptor(TypedArray, 'set')?.value as (
  this: FloatArray,
  source: FloatArray,
  offset: number,
) => void;
const F32 = Float32Array;
const F64 = Float64Array;

export const bufferOf = (array: FloatArray) => bufferGetter.call(array) as ArrayBufferLike;
export const byteOffsetOf = (array: FloatArray) => byteOffsetGetter.call(array) as number;

/** `target.set(source, offset)`, whatever `target` overrides. */
export function copyInto(target: FloatArray, source: FloatArray, offset: number): void {
  set.call(target, source, offset);
}

/**
 * Elements [start, start + length) of `array` as a plain view of the same memory: `subarray`
 * without its species lookup (a subclass's `constructor` or `Symbol.species` is its own code).
 */
export function part(array: FloatArray, dtype: Dtype, start: number, length: number): FloatArray {
  const at = byteOffsetOf(array);
  return dtype === 'float32'
    ? new F32(bufferOf(array), at + start * 4, length)
    : new F64(bufferOf(array), at + start * 8, length);
}
