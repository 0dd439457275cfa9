import type { Dtype } from '@softmax/core';

/** The element types of operands in linear memory: the float types and the integer ones. */

/** The integer element types (class targets, sampled token ids). */
export type IndexDtype = 'int32' | 'uint32';

/** The element types of a buffer: a float type, or an integer one (class targets, token ids). */
export type BufferDtype = Dtype | IndexDtype;

/** The typed array of each element type, taken at load time (see intrinsics.ts). */
export const ARRAY_TYPES = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint32: Uint32Array,
} as const;

/** The typed array of an element type. */
export type ArrayOf<D extends BufferDtype> = InstanceType<(typeof ARRAY_TYPES)[D]>;

/** Bytes per element of each element type. */
export const ELEMENT_BYTES: Readonly<Record<BufferDtype, number>> = { float32: 4, float64: 8, int32: 4, uint32: 4 };
