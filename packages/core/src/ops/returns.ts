/**
 * How a backend returns: `Sync` (core, wasm), `Async` (WebGPU) or `Either` (the `Backend`
 * interface, which covers both). Each op's method signatures are written once over it.
 */
export type Sync = 'sync';
export type Async = 'async';
export type Either = 'either';
export type ReturnMode = Sync | Async | Either;

export type Returns<R, T> = R extends Sync ? T : R extends Async ? Promise<T> : T | Promise<T>;
