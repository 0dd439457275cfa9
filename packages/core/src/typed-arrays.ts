import type { Dtype, FloatArray } from './types.js';

/*
 * Typed-array facts read through the built-in accessors of %TypedArray%.prototype, captured when
 * this module loads. They read the array's internal slots, so they hold for arrays of any realm
 * (node:vm, an iframe), and no own property, subclass or replaced prototype can make them lie.
 */

type Getter<T> = (this: unknown) => T;

/** The typed arrays operands may be. */
type View = FloatArray | Int32Array | Uint32Array;

function getter<T>(object: object, key: PropertyKey): Getter<T> {
  return Object.getOwnPropertyDescriptor(object, key)?.get as Getter<T>;
}

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
const tagOf = getter<string | undefined>(TypedArrayPrototype, Symbol.toStringTag);
const lengthOfView = getter<number>(TypedArrayPrototype, 'length');
const bufferOfView = getter<ArrayBufferLike>(TypedArrayPrototype, 'buffer');
const byteOffsetOfView = getter<number>(TypedArrayPrototype, 'byteOffset');
const byteLengthOfView = getter<number>(TypedArrayPrototype, 'byteLength');
const at = (TypedArrayPrototype as { at: (this: unknown, index: number) => unknown }).at;
const arrayBufferByteLength = getter<number>(ArrayBuffer.prototype, 'byteLength');
const arrayBufferDetached = getter<boolean>(ArrayBuffer.prototype, 'detached');
const Shared = typeof SharedArrayBuffer === 'function' ? SharedArrayBuffer : undefined;

/** The internal tag of a typed array of any realm ('Int32Array', ...); undefined for anything else. */
export function typedArrayTag(value: unknown): string | undefined {
  return tagOf.call(value);
}

/** 'float32' or 'float64' for a Float32Array or Float64Array of any realm; undefined for anything else. */
export function floatDtypeOf(value: unknown): Dtype | undefined {
  // The getter returns undefined, without throwing, for every value that is not a typed array.
  const tag = tagOf.call(value);
  return tag === 'Float32Array' ? 'float32' : tag === 'Float64Array' ? 'float64' : undefined;
}

export function lengthOf(array: View): number {
  return lengthOfView.call(array);
}

export function bufferOf(array: View): ArrayBufferLike {
  return bufferOfView.call(array);
}

export function byteOffsetOf(array: View): number {
  return byteOffsetOfView.call(array);
}

export function byteLengthOf(array: View): number {
  return byteLengthOfView.call(array);
}

/**
 * Why a view reads as empty without being empty — its buffer was detached (transferred), or a
 * resizable buffer shrank below it — or undefined when it is usable. Such a view reports length
 * 0, so this is only worth asking for length 0; the built-in `at` refuses exactly these views.
 */
export function unusable(array: View): string | undefined {
  try {
    at.call(array, 0);
    return undefined;
  } catch {
    const buffer = bufferOf(array);
    const detached = arrayBufferDetached ? arrayBufferDetached.call(buffer) : isDetached(buffer);
    return detached ? 'its buffer is detached' : 'it lies outside its resized buffer';
  }
}

/** Without ArrayBuffer.prototype.detached (Node 20): only a detached buffer refuses a new view. */
function isDetached(buffer: ArrayBufferLike): boolean {
  try {
    new Uint8Array(buffer, 0, 0);
    return false;
  } catch {
    return true;
  }
}

/**
 * Whether a buffer is a SharedArrayBuffer (of any realm). `instanceof` answers the usual case
 * cheaply (a wrong "shared" only costs a copy); anything else is asked of ArrayBuffer's own
 * accessor, which refuses a SharedArrayBuffer of any realm (slow only then: it throws).
 */
export function isShared(buffer: ArrayBufferLike): boolean {
  if (Shared !== undefined && buffer instanceof Shared) return true;
  try {
    arrayBufferByteLength.call(buffer);
    return false;
  } catch {
    return true;
  }
}
