import type { OperandArray } from '@softmax/core/backend';
import { KERNEL_FUNCTIONS, type KernelExports, type KernelName } from '../abi.js';
import { type BufferDtype, ELEMENT_BYTES } from '../elements.js';
import type { Heap } from '../heap.js';
import { copyInto, part } from '../intrinsics.js';
import { invoke } from '../kernels.js';
import { MAX_CHUNKS } from './chunks.js';
import { type Job, ThreadPool, WORKER_STACK_BYTES } from './pool.js';

/**
 * A copying forward call on several threads moves blocks of this size through two buffers: the
 * workers transform one block while the calling thread copies the previous result out (paying the
 * new array's page faults) and the next input in.
 */
const PIPELINE_BLOCK_BYTES = 1024 * 1024;

/**
 * Threads take work in chunks of about this many elements (20–30 µs of float32 softmax), so that
 * a thread the OS deschedules mid-chunk (on a shared machine, or for the engine's own GC threads)
 * holds up the others for one small chunk at most, while the rest is taken by whoever is running.
 */
const CHUNK_ELEMENTS = 32768;

/** The kernels a worker can run, by index (the pool's function numbers): every export of the ABI. */
const POOL_FUNCTIONS = Object.keys(KERNEL_FUNCTIONS) as KernelName[];

const fnIndex = (name: KernelName) => POOL_FUNCTIONS.indexOf(name);

/** Rows per chunk for a call of `rows × cols` (at most MAX_CHUNKS chunks). */
function rowsPerChunk(rows: number, cols: number): number {
  return Math.min(rows, Math.max(Math.ceil(rows / MAX_CHUNKS), Math.ceil(CHUNK_ELEMENTS / cols)));
}

/**
 * A job over rows: the first arguments are pointers, `strides` their bytes per row (moved to each
 * chunk's first row), the next is the row count.
 */
function rowJob(name: KernelName, args: number[], strides: readonly number[], rows: number, cols: number): Job {
  return {
    fn: fnIndex(name),
    args,
    strides,
    countAt: strides.length,
    items: rows,
    perChunk: rowsPerChunk(rows, cols),
  };
}

/** What a backend on several threads is built from (see load.ts); its memory is the kernel's. */
export interface ThreadsSetup {
  /** The threads build, which each worker instantiates on the same memory. */
  module: WebAssembly.Module;
  /** Threads in all, the calling one included (> 1). */
  threads: number;
}

/** Kernel calls split between the threads of a pool (the backend decides when; see isLarge). */
export class ThreadedCalls {
  readonly #pool: ThreadPool;
  readonly #kernel: KernelExports;

  /** Takes a shadow stack for each worker from `heap`. */
  constructor(setup: ThreadsSetup, kernel: KernelExports, heap: Heap) {
    const stacks = Array.from({ length: setup.threads - 1 }, () => heap.alloc(WORKER_STACK_BYTES));
    const exports = kernel as unknown as Record<string, unknown>;
    this.#pool = new ThreadPool(setup.module, kernel.memory, exports, POOL_FUNCTIONS, stacks);
    this.#kernel = kernel;
  }

  /**
   * A kernel call over rows: its pointer arguments (`strides`: each one's bytes per row), rows,
   * cols and the op's scalars. Several rows are split between threads; one float32 softmax row is
   * split into pieces, any other single row runs on the calling thread.
   */
  rows(
    name: KernelName,
    pointers: readonly number[],
    strides: readonly number[],
    rows: number,
    cols: number,
    scalars: readonly number[],
  ): void {
    if (rows > 1) this.#pool.run(rowJob(name, [...pointers, rows, cols, ...scalars], strides, rows, cols));
    else if (name !== 'softmax_f32' || !this.#splitRow(pointers[0], pointers[1], cols, scalars[0])) {
      invoke(this.#kernel, name, pointers, pointers.length, rows, cols, scalars);
    }
  }

  /**
   * One long float32 softmax row in pieces on every thread: the pieces' maxima, then exp-and-sum
   * with the row's max (every piece gets the same constants), then the scale by the float32 of
   * 1/Σ, as the single-thread kernel does. The pieces' sums are added in piece order, so the result
   * does not depend on which thread ran which piece; it differs from the single-thread result
   * only by the order of that sum (within the float64 sum's rounding). False, with nothing
   * written, when the row needs the whole-row path (NaN, ±∞ max, or off the fast path's range).
   */
  #splitRow(x: number, out: number, cols: number, t: number): boolean {
    const pool = this.#pool;
    // Pieces are multiples of 64 elements, the kernel's block.
    const perChunk = Math.ceil(Math.max(CHUNK_ELEMENTS, cols / MAX_CHUNKS) / 64) * 64;
    const piece = { items: cols, perChunk };
    let max = Number.NEGATIVE_INFINITY;
    for (const m of pool.run({ ...piece, fn: fnIndex('piece_max_f32'), args: [x, cols], strides: [4], countAt: 1 })) {
      max = Math.max(max, m); // a piece's NaN makes the row NaN, whatever comes after it
    }
    if (!Number.isFinite(max)) return false;
    const sums = pool.run({
      ...piece,
      fn: fnIndex('piece_exp_sum_f32'),
      args: [x, out, cols, max, t],
      strides: [4, 4],
      countAt: 2,
    });
    let sum = 0;
    for (const s of sums) sum += s;
    if (Number.isNaN(sum)) return false;
    const inv = Math.fround(1 / sum);
    pool.run({ ...piece, fn: fnIndex('piece_scale_f32'), args: [out, cols, inv], strides: [4], countAt: 1 });
    return true;
  }

  /**
   * Whether `pipelined` suits a copying call: at least two rows fit a block, so that every block
   * still splits between threads. Longer rows go through the plain copying path, whose call on a
   * single row splits the row itself (float32 softmax).
   */
  pipelines(rows: number, rowBytes: number): boolean {
    return rows > 1 && 2 * rowBytes <= PIPELINE_BLOCK_BYTES;
  }

  /**
   * The copying path for several rows of an op of one input and one output of the same shape
   * (forward), a block of rows at a time through two buffers: while the workers run block k, the
   * calling thread copies block k - 1's result out and block k + 1's input in, then joins them on
   * what is left of block k. `xAt` ≥ 0: the input already lies in the kernel's memory at that byte
   * offset (nothing to copy in).
   */
  pipelined(
    heap: Heap,
    name: KernelName,
    scalars: readonly number[],
    input: OperandArray,
    xAt: number,
    result: OperandArray,
    rows: number,
    cols: number,
    dtype: BufferDtype,
  ): void {
    const bpe = ELEMENT_BYTES[dtype];
    const rowBytes = cols * bpe;
    const blockRows = Math.min(rows, Math.max(1, Math.floor(PIPELINE_BLOCK_BYTES / rowBytes)));
    const blocks = Math.ceil(rows / blockRows);
    const what = `a working block for ${blockRows} rows of ${cols} ${dtype} elements`;
    const buffers = [heap.alloc(blockRows * rowBytes, what)];
    try {
      if (blocks > 1) buffers.push(heap.alloc(blockRows * rowBytes, what));
      const view = heap.view(dtype);
      const first = (k: number) => k * blockRows;
      const count = (k: number) => Math.min(blockRows, rows - k * blockRows);
      const buffer = (k: number) => buffers[k % 2];
      const copyIn = (k: number) => {
        const start = first(k) * cols;
        if (xAt < 0) copyInto(view, part(input, dtype, start, count(k) * cols), buffer(k) / bpe);
      };
      const copyOut = (k: number) => {
        const at = buffer(k) / bpe;
        copyInto(result, part(view, dtype, at, count(k) * cols), first(k) * cols);
      };
      copyIn(0);
      for (let k = 0; k < blocks; k++) {
        const n = count(k);
        const x = xAt < 0 ? buffer(k) : xAt + first(k) * rowBytes;
        this.#pool.post(rowJob(name, [x, buffer(k), n, cols, ...scalars], [rowBytes, rowBytes], n, cols));
        if (k > 0) copyOut(k - 1);
        if (k + 1 < blocks) copyIn(k + 1);
        this.#pool.join();
      }
      copyOut(blocks - 1);
    } finally {
      for (const ptr of buffers) heap.release(ptr);
    }
  }

  /** Threads in all, the calling one included: how many kernel calls may run at once. */
  get threads(): number {
    return this.#pool.threads;
  }

  get workerChunks(): number {
    return this.#pool.workerChunks;
  }

  dispose(): void {
    this.#pool.dispose();
  }
}
