/**
 * Which calls are split between threads. Apart from the pool (calls.ts), so that the marshaller
 * can ask without bringing the Node-only pool into a browser bundle.
 */

/**
 * Calls of at least this many elements are split between threads; below it, waking a worker
 * (~15 µs here) costs more than it saves.
 */
const PARALLEL_MIN_ELEMENTS = 65536;

/** Whether a call of `rows × cols` is worth splitting. */
export const isLarge = (rows: number, cols: number) => rows * cols >= PARALLEL_MIN_ELEMENTS;
