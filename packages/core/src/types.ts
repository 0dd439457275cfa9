/** The float arrays softmax computes on. */
export type FloatArray = Float32Array | Float64Array;

/** What every entry point accepts: a float typed array or a plain array of numbers. */
export type SoftmaxInput = FloatArray | readonly number[];

/** Element types a backend may support. */
export type Dtype = 'float32' | 'float64';

/** Result type for an input: Float32Array stays Float32Array, everything else is Float64Array. */
export type OutputOf<T extends SoftmaxInput> = T extends Float32Array ? Float32Array : Float64Array;

/** What a row whose entries are all −Infinity gives. */
export type FullyMasked = 'nan' | 'zero';

/** The options of `softmax` and `logSoftmax`. */
export interface SoftmaxOptions {
  /** Row length: the input is rows × cols, row-major. Default: the whole input is one row. */
  cols?: number;
  /** Logits are divided by it before the softmax. Finite and > 0; default 1. */
  temperature?: number;
  /** Preallocated result of the result's type and length. May be the input itself (in place). */
  out?: FloatArray;
  /** Result for a row of only −Infinity: 'nan' (default, as PyTorch and JAX) or 'zero'. */
  fullyMasked?: FullyMasked;
}

/** The options of `softmaxBackward` and `logSoftmaxBackward`. */
export interface BackwardOptions {
  /** Row length, as in the forward call. */
  cols?: number;
  /** The temperature of the forward call: the gradient is taken with respect to the raw logits. */
  temperature?: number;
  /** Preallocated gradient; may be `y` or `dy` itself (in place). */
  out?: FloatArray;
}

/** A value, or a Promise of it: a backend's calls may be synchronous (core, wasm) or not (WebGPU). */
export type MaybePromise<T> = T | Promise<T>;
