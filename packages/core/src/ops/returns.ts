/**
 * How a backend returns: `Sync` (core, wasm), `Async` (WebGPU) or `Either` (the `Backend`
 * interface, which covers both). Each op's method signatures are written once over it.
 */
export type Sync = 'sync';
/** Every call returns a Promise (WebGPU). */
export type Async = 'async';
/** A call may return a value or a Promise of it (the `Backend` interface). */
export type Either = 'either';
/** How a backend's calls return: `Sync`, `Async` or `Either`. */
export type ReturnMode = Sync | Async | Either;

/** `T` as a call of return mode `R` gives it: `T`, `Promise<T>`, or either. */
export type Returns<R, T> = R extends Sync ? T : R extends Async ? Promise<T> : T | Promise<T>;
