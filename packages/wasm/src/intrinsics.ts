import type { FloatArray } from '@softmax/core';

/**
 * Typed-array getters taken from the intrinsics at load time. A caller's array may be a subclass
 * or carry its own `buffer` or `byteOffset`: those could hide that it is a view of wasm memory.
 * The intrinsic getters read the array's internal slots and run no user code.
 */
const TypedArray = Object.getPrototypeOf(Uint8Array.prototype) as object;
const getter = (name: string) => Object.getOwnPropertyDescriptor(TypedArray, name)?.get as (this: unknown) => unknown;
const bufferGetter = getter('buffer');
const byteOffsetGetter = getter('byteOffset');

export const bufferOf = (array: FloatArray) => bufferGetter.call(array) as ArrayBufferLike;
export const byteOffsetOf = (array: FloatArray) => byteOffsetGetter.call(array) as number;
