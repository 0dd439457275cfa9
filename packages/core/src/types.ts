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

export interface BackwardOptions {
  /** Row length, as in the forward call. */
  cols?: number;
  /** The temperature of the forward call: the gradient is taken with respect to the raw logits. */
  temperature?: number;
  /** Preallocated gradient; may be `y` or `dy` itself (in place). */
  out?: FloatArray;
}

export type MaybePromise<T> = T | Promise<T>;

/**
 * The contract every backend implements. Inputs are validated with `@softmax/core`'s
 * validation (see validate.ts), so every backend rejects bad input with the same codes.
 */
export interface Backend {
  /** Short stable name, e.g. 'core', 'wasm', 'webgpu'. */
  readonly name: string;
  /** Element types this backend computes in; others are rejected with UNSUPPORTED_DTYPE. */
  readonly dtypes: readonly Dtype[];
  /** y = softmax(x / temperature) along each row. */
  softmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): MaybePromise<OutputOf<T>>;
  /** y = log(softmax(x / temperature)) along each row. */
  logSoftmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): MaybePromise<OutputOf<T>>;
  /** dx = y ⊙ (dy − Σ dy·y) / temperature per row, where y is the softmax output. */
  softmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): MaybePromise<OutputOf<T>>;
  /** dx = (dy − exp(y) · Σ dy) / temperature per row, where y is the log-softmax output. */
  logSoftmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): MaybePromise<OutputOf<T>>;
  /** Releases what the backend holds (memory, devices). Calls after dispose are not supported. */
  dispose(): void | Promise<void>;
}
