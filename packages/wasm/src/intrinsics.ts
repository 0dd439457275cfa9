import type { OperandArray } from '@softmax/core/backend';
import { ARRAY_TYPES, type BufferDtype, ELEMENT_BYTES } from './elements.js';

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
  this: OperandArray,
  source: OperandArray,
  offset: number,
) => void;

export const bufferOf = (array: OperandArray) => bufferGetter.call(array) as ArrayBufferLike;
export const byteOffsetOf = (array: OperandArray) => byteOffsetGetter.call(array) as number;

/** `target.set(source, offset)`, whatever `target` overrides. */
export function copyInto(target: OperandArray, source: OperandArray, offset: number): void {
  set.call(target, source, offset);
}

/**
 * `target.set(view.subarray(start, start + n), offset)` for `view`, a view of the whole wasm
 * memory: a short run is copied element by element, since making its subarray costs more than
 * copying it (a typed array's elements are its own: no caller code runs on `target[i] = ...`).
 */
export function copyOut(target: OperandArray, offset: number, view: OperandArray, start: number, n: number): void {
  if (n <= 64) {
    for (let j = 0; j < n; j++) target[offset + j] = view[start + j];
  } else {
    set.call(target, view.subarray(start, start + n), offset);
  }
}

/**
 * Elements [start, start + length) of `array` as a plain view of the same memory: `subarray`
 * without its species lookup (a subclass's `constructor` or `Symbol.species` is its own code).
 */
export function part(array: OperandArray, type: BufferDtype, start: number, length: number): OperandArray {
  const Type = ARRAY_TYPES[type] as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => OperandArray;
  return new Type(bufferOf(array), byteOffsetOf(array) + start * ELEMENT_BYTES[type], length);
}
