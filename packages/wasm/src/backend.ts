import { type Dtype, type FloatArray, type FullyMasked, SoftmaxError } from '@softmax/core';
import {
  BackendBase,
  type BackwardCallOptions,
  describeValue,
  type ForwardCallOptions,
  OPS,
  type OpCall,
  type OpSupport,
  validateCall,
} from '@softmax/core/backend';
import type { KernelExports } from './abi.js';
import { isFreedView, WasmBuffer } from './buffer.js';
import type { BufferDtype } from './elements.js';
import { Heap, heapOf } from './heap.js';
import { bufferOf, byteOffsetOf, copyInto, part } from './intrinsics.js';
import { type BackwardName, type ForwardName, isLarge, ThreadedCalls, type ThreadsSetup } from './threads/calls.js';

/**
 * Copying calls move at most this many bytes through linear memory at a time: whole rows are
 * processed in chunks that stay in the CPU cache between copy-in, kernel and copy-out, and the
 * memory a call needs is bounded by one chunk (or one row, when a row is larger).
 */
const SCRATCH_BYTES = 256 * 1024;

/** On several threads, copying calls move up to this much at a time, so each wake-up buys enough work. */
const THREAD_CHUNK_BYTES = 4 * 1024 * 1024;

const DTYPES: readonly Dtype[] = ['float32', 'float64'];
const BUFFER_DTYPES: readonly BufferDtype[] = [...DTYPES, 'int32', 'uint32'];
const BYTES: Record<Dtype, number> = { float32: 4, float64: 8 };

export interface BufferForwardOptions {
  cols?: number;
  temperature?: number;
  fullyMasked?: FullyMasked;
  /** Where the result goes; default: the input buffer itself (in place). */
  out?: WasmBuffer;
}

export interface BufferBackwardOptions {
  cols?: number;
  temperature?: number;
  /** Where the gradient goes; default: the `dy` buffer itself (in place). */
  out?: WasmBuffer;
}

/**
 * A buffer call's options with `out` replaced by its view, for core's validation (which rejects
 * options that are not an object, so those pass through unchanged). A plain spread, not
 * `{ out, ...rest }`: V8 runs rest-with-exclusions in its runtime, about 1.5 µs a call.
 */
function withOutView(options: unknown, out: WasmBuffer): unknown {
  if (options !== undefined && (typeof options !== 'object' || options === null)) return options;
  return { ...(options as object | undefined), out: out.view() };
}

/** The ops of the table this backend implements, in both float types. */
const OP_SUPPORT: OpSupport = {
  softmax: DTYPES,
  logSoftmax: DTYPES,
  softmaxBackward: DTYPES,
  logSoftmaxBackward: DTYPES,
};

/** The wasm backend: a `Backend` whose calls are synchronous, plus the zero-copy buffer API. */
export class WasmBackend extends BackendBase {
  readonly name = 'wasm';
  readonly ops = OP_SUPPORT;
  readonly returns = 'sync';
  /** Whether the SIMD128 build of the kernel is running (false: the scalar build). */
  readonly simd: boolean;
  /** Threads that share large calls, the calling one included (1: no worker threads). */
  readonly threads: number;
  readonly #kernel: KernelExports;
  readonly #heap: Heap;
  /** Allocated first, so it sits below every other block and never splits the free space. */
  readonly #scratch: number;
  /** Present with more than one thread. */
  readonly #threaded: ThreadedCalls | undefined;
  #disposed = false;
  /** A call is running (see #enter). */
  #busy = false;

  constructor(kernel: KernelExports, threads?: ThreadsSetup) {
    super();
    this.#kernel = kernel;
    this.simd = kernel.simd() === 1;
    this.#heap = new Heap(kernel.memory, kernel.__heap_base.value as number);
    this.#scratch = this.#heap.alloc(SCRATCH_BYTES);
    this.threads = threads?.threads ?? 1;
    if (threads && threads.threads > 1) this.#threaded = new ThreadedCalls(threads, kernel, this.#heap);
  }

  // Every public method brackets its work in #enter() / #leave() (the op methods through begin and
  // end, which BackendBase calls around validation and run): a call made while another runs (from a
  // getter of the options, say) would share the running call's scratch block and, on several
  // threads, overwrite its posted job.

  begin(): void {
    this.#enter();
  }

  end(ok: boolean): void {
    this.#leave();
    if (ok) this.#done(undefined);
  }

  /** One validated call of an op of the table (see @softmax/core/backend). */
  run(call: OpCall): void {
    switch (call.op.name) {
      case 'softmax':
      case 'logSoftmax':
        return this.#forward(call, call.op.name === 'logSoftmax');
      case 'softmaxBackward':
      case 'logSoftmaxBackward':
        return this.#backward(call, call.op.name === 'logSoftmaxBackward');
    }
  }

  /**
   * A zero-copy buffer of `length` elements in the kernel's memory (contents unspecified): float32
   * (the default) or float64 for float operands, int32 or uint32 for integer ones.
   */
  alloc<D extends BufferDtype = 'float32'>(length: number, dtype: D = 'float32' as D): WasmBuffer<D> {
    this.#enter();
    try {
      if (!Number.isSafeInteger(length) || length < 0) {
        throw new SoftmaxError('INVALID_SHAPE', `length must be a non-negative integer, got ${String(length)}`);
      }
      if (!BUFFER_DTYPES.includes(dtype)) {
        throw new SoftmaxError(
          'UNSUPPORTED_DTYPE',
          `dtype must be 'float32', 'float64', 'int32' or 'uint32', got ${String(dtype)}`,
        );
      }
      return new WasmBuffer(this.#heap, this, dtype, length, `alloc(${length}, '${dtype}')`);
    } finally {
      this.#leave();
    }
  }

  /** Softmax of a buffer, written to `options.out` (default: in place). Returns the output buffer. */
  softmaxBuffer<D extends Dtype>(x: WasmBuffer<D>, options?: BufferForwardOptions): WasmBuffer<D> {
    this.#enter();
    try {
      return this.#done(this.#forwardBuffer(x, options, false));
    } finally {
      this.#leave();
    }
  }

  logSoftmaxBuffer<D extends Dtype>(x: WasmBuffer<D>, options?: BufferForwardOptions): WasmBuffer<D> {
    this.#enter();
    try {
      return this.#done(this.#forwardBuffer(x, options, true));
    } finally {
      this.#leave();
    }
  }

  /** Softmax gradient of buffers, written to `options.out` (default: into `dy`). Returns the output buffer. */
  softmaxBackwardBuffer<D extends Dtype>(
    y: WasmBuffer<D>,
    dy: WasmBuffer<D>,
    options?: BufferBackwardOptions,
  ): WasmBuffer<D> {
    this.#enter();
    try {
      return this.#done(this.#backwardBuffer(y, dy, options, false));
    } finally {
      this.#leave();
    }
  }

  logSoftmaxBackwardBuffer<D extends Dtype>(
    y: WasmBuffer<D>,
    dy: WasmBuffer<D>,
    options?: BufferBackwardOptions,
  ): WasmBuffer<D> {
    this.#enter();
    try {
      return this.#done(this.#backwardBuffer(y, dy, options, true));
    } finally {
      this.#leave();
    }
  }

  /** Bytes of linear memory the kernel holds (it grows on demand and is reused, never shrunk). */
  get memoryBytes(): number {
    return this.#heap.byteLength;
  }

  /** Chunks of split calls that worker threads have run so far (0 on one thread): a diagnostic. */
  get workerChunks(): number {
    return this.#threaded?.workerChunks ?? 0;
  }

  /** Ends the backend. Called during a call (from a getter of its options), that call throws. */
  dispose(): void {
    this.#disposed = true;
    // A running call may have a job posted: its workers stop once it returns (#leave).
    if (!this.#busy) this.#threaded?.dispose();
  }

  #enter(): void {
    if (this.#disposed) throw new SoftmaxError('BACKEND_UNAVAILABLE', 'this wasm backend has been disposed');
    if (this.#busy) {
      throw new SoftmaxError(
        'BACKEND_UNAVAILABLE',
        're-entrant call: this wasm backend is already running a call (this one was made from code that call ran, such as a getter of its options); call it again after that call returns',
      );
    }
    this.#busy = true;
  }

  #leave(): void {
    this.#busy = false;
    if (this.#disposed) this.#threaded?.dispose();
  }

  /** A call's result, unless dispose() came while it ran. */
  #done<R>(result: R): R {
    if (this.#disposed) throw new SoftmaxError('BACKEND_UNAVAILABLE', 'this wasm backend was disposed during the call');
    return result;
  }

  #forwardKernel(dtype: Dtype, log: boolean): ForwardName {
    if (dtype === 'float32') return log ? 'log_softmax_f32' : 'softmax_f32';
    return log ? 'log_softmax_f64' : 'softmax_f64';
  }

  #backwardKernel(dtype: Dtype, log: boolean): BackwardName {
    if (dtype === 'float32') return log ? 'log_softmax_backward_f32' : 'softmax_backward_f32';
    return log ? 'log_softmax_backward_f64' : 'softmax_backward_f64';
  }

  /** A forward kernel call, split between threads when there are several and the call is large. */
  #runForward(name: ForwardName, x: number, out: number, rows: number, cols: number, t: number, zm: number): void {
    if (this.#threaded && isLarge(rows, cols)) this.#threaded.forward(name, x, out, rows, cols, t, zm);
    else this.#kernel[name](x, out, rows, cols, t, zm);
  }

  #runBackward(name: BackwardName, y: number, dy: number, out: number, rows: number, cols: number, t: number): void {
    if (this.#threaded && isLarge(rows, cols)) this.#threaded.backward(name, y, dy, out, rows, cols, t);
    else this.#kernel[name](y, dy, out, rows, cols, t);
  }

  /** Bytes a copying call moves through linear memory at a time. */
  #chunkBudget(rows: number, cols: number): number {
    return this.#threaded && isLarge(rows, cols) ? THREAD_CHUNK_BYTES : SCRATCH_BYTES;
  }

  /** A block of `bytes`: the shared scratch block when it is large enough, else a temporary one. */
  #acquire(bytes: number, rows: number, cols: number, dtype: Dtype): number {
    if (bytes <= SCRATCH_BYTES) return this.#scratch;
    return this.#heap.alloc(bytes, `a working block for ${rows} rows of ${cols} ${dtype} elements`);
  }

  #releaseBlock(ptr: number): void {
    if (ptr !== this.#scratch) this.#heap.release(ptr);
  }

  #view(dtype: Dtype): FloatArray {
    return this.#heap.view(dtype);
  }

  /**
   * Byte offset of an argument of `bytes` bytes that is a view of this backend's memory, or -1 for
   * one outside it (a live buffer of another backend is copied like any array). A view of wasm
   * memory that no live WasmBuffer holds, or a freed buffer's own view, is refused: writing there
   * would overwrite the kernel's data, stack or scratch block, or memory a later alloc handed to
   * someone else. Taken before any block is acquired: growth detaches a plain memory's views (shared
   * memory is not detached, and a view made before it grew is found too).
   */
  #address(array: FloatArray, bytes: number, name: string): number {
    const heap = heapOf(bufferOf(array));
    if (heap === undefined) return -1;
    const at = byteOffsetOf(array);
    if (!heap.holds(at, bytes) || isFreedView(array)) {
      throw new SoftmaxError(
        name === 'options.out' ? 'INVALID_OPTION' : 'INVALID_INPUT',
        `${name} is a view of wasm memory at bytes ${at} to ${at + bytes} that no live WasmBuffer holds (the backend's own memory, or a freed buffer's), got ${describeValue(array)}`,
      );
    }
    return heap === this.#heap ? at : -1;
  }

  /**
   * Refuses an `out` in this memory that shares bytes with an input there without being it. Core
   * checks views of one buffer; two views of a shared memory may hold different buffer objects.
   */
  #overlap(outAt: number, inAt: number, bytes: number, name: string): void {
    if (outAt >= 0 && inAt >= 0 && outAt !== inAt && Math.abs(outAt - inAt) < bytes) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.out partially overlaps ${name}: pass ${name} itself for in-place, or a separate array`,
      );
    }
  }

  /**
   * The caller's `out` when it is a view of this memory: the same object, or a new view of the
   * same bytes when acquiring a block grew memory and detached it (shared memory grows in place).
   */
  #reattach(result: FloatArray, at: number, length: number): FloatArray {
    const buffer = bufferOf(result);
    if (buffer === this.#heap.current || buffer instanceof SharedArrayBuffer) return result;
    const Type = result instanceof Float32Array ? Float32Array : Float64Array;
    return new Type(this.#heap.current, at, length);
  }

  #forward(call: OpCall, log: boolean): void {
    const { rows, cols, dtype } = call;
    const { temperature, fullyMasked } = call.options as unknown as ForwardCallOptions;
    const result = call.outputs[0] as FloatArray;
    const kernel = this.#forwardKernel(dtype, log);
    const zeroMasked = fullyMasked === 'zero' ? 1 : 0;
    const input = call.inputs[0] as FloatArray;
    const bytes = rows * cols * BYTES[dtype];
    const xAt = this.#address(input, bytes, 'x');
    // A fresh result is never in this memory; not asking spares V8 materialising its buffer (~200 ns).
    const outAt = call.provided[0] ? this.#address(result, bytes, 'options.out') : -1;
    this.#overlap(outAt, xAt, bytes, 'x');
    // An `out` in this memory is the kernel's destination: the input is copied there (unless it
    // is in this memory too) and transformed in place, with no block acquired and nothing grown.
    if (outAt >= 0) {
      if (xAt < 0) copyInto(result, input, 0);
      this.#runForward(kernel, xAt < 0 ? outAt : xAt, outAt, rows, cols, temperature, zeroMasked);
      return;
    }
    if (this.#threaded?.pipelines(rows, cols * BYTES[dtype]) && isLarge(rows, cols)) {
      this.#threaded.pipelined(this.#heap, kernel, temperature, zeroMasked, input, xAt, result, rows, cols, dtype);
      return;
    }
    const bpe = BYTES[dtype];
    const rowBytes = cols * bpe;
    const chunkRows = Math.max(1, Math.floor(this.#chunkBudget(rows, cols) / rowBytes));
    const ptr = this.#acquire(Math.min(rows, chunkRows) * rowBytes, Math.min(rows, chunkRows), cols, dtype);
    try {
      const heap = this.#view(dtype);
      const at = ptr / bpe;
      for (let r = 0; r < rows; r += chunkRows) {
        const n = Math.min(chunkRows, rows - r);
        const start = r * cols;
        const end = start + n * cols;
        // An input in this memory is read where it lies; the result goes through the block.
        if (xAt < 0) copyInto(heap, n === rows ? input : part(input, dtype, start, end - start), at);
        this.#runForward(kernel, xAt < 0 ? ptr : xAt + start * bpe, ptr, n, cols, temperature, zeroMasked);
        copyInto(result, heap.subarray(at, at + (end - start)), start);
      }
    } finally {
      this.#releaseBlock(ptr);
    }
  }

  #backward(call: OpCall, log: boolean): void {
    const { rows, cols, dtype } = call;
    const { temperature } = call.options as unknown as BackwardCallOptions;
    const [y, dy] = call.inputs as FloatArray[];
    const result = call.outputs[0] as FloatArray;
    const kernel = this.#backwardKernel(dtype, log);
    const bytes = rows * cols * BYTES[dtype];
    const yAt = this.#address(y, bytes, 'y');
    const dyAt = this.#address(dy, bytes, 'dy');
    const outAt = call.provided[0] ? this.#address(result, bytes, 'options.out') : -1;
    this.#overlap(outAt, yAt, bytes, 'y');
    this.#overlap(outAt, dyAt, bytes, 'dy');
    if (yAt >= 0 && dyAt >= 0 && outAt >= 0) {
      this.#runBackward(kernel, yAt, dyAt, outAt, rows, cols, temperature);
      return;
    }
    // Operands outside this memory go through the block, a chunk of rows at a time, each in its
    // slot. dy is copied to where the output goes (the kernel allows out === dy), which is `out`
    // itself when `out` is in this memory, unless that place is y's (out === y).
    let slots = 0;
    const ySlot = yAt < 0 ? slots++ : -1;
    const outSlot = outAt < 0 ? slots++ : -1;
    const dySlot = dyAt < 0 && outAt >= 0 && outAt === yAt ? slots++ : -1;
    const bpe = BYTES[dtype];
    const rowBytes = cols * bpe;
    const chunkRows = slots === 0 ? rows : Math.max(1, Math.floor(this.#chunkBudget(rows, cols) / (slots * rowBytes)));
    const chunkBytes = Math.min(rows, chunkRows) * rowBytes;
    const ptr = this.#acquire(slots * chunkBytes, slots * Math.min(rows, chunkRows), cols, dtype);
    try {
      const heap = this.#view(dtype);
      const slot = (index: number) => ptr + index * chunkBytes;
      for (let r = 0; r < rows; r += chunkRows) {
        const n = Math.min(chunkRows, rows - r);
        const start = r * cols;
        const end = start + n * cols;
        const whole = n === rows;
        const offset = start * bpe;
        const yP = yAt < 0 ? slot(ySlot) : yAt + offset;
        const outP = outAt < 0 ? slot(outSlot) : outAt + offset;
        const dyP = dyAt >= 0 ? dyAt + offset : dySlot >= 0 ? slot(dySlot) : outP;
        if (yAt < 0) copyInto(heap, whole ? y : part(y, dtype, start, end - start), yP / bpe);
        if (dyAt < 0) copyInto(heap, whole ? dy : part(dy, dtype, start, end - start), dyP / bpe);
        this.#runBackward(kernel, yP, dyP, outP, n, cols, temperature);
        if (outAt < 0) copyInto(result, heap.subarray(outP / bpe, outP / bpe + (end - start)), start);
      }
    } finally {
      this.#releaseBlock(ptr);
    }
    if (outAt >= 0) call.outputs[0] = this.#reattach(result, outAt, rows * cols);
  }

  #own(buffer: unknown, name: string): WasmBuffer {
    if (!(buffer instanceof WasmBuffer)) {
      throw new SoftmaxError('INVALID_INPUT', `${name} must be a WasmBuffer from this backend's alloc()`);
    }
    if (!buffer.belongsTo(this)) {
      throw new SoftmaxError('INVALID_INPUT', `${name} has been freed or belongs to another wasm backend`);
    }
    return buffer;
  }

  #forwardBuffer<D extends Dtype>(
    x: WasmBuffer<D>,
    options: BufferForwardOptions | undefined,
    log: boolean,
  ): WasmBuffer<D> {
    this.#own(x, 'x');
    const out = (options?.out === undefined ? x : this.#own(options.out, 'options.out')) as WasmBuffer<D>;
    const req = validateCall(log ? OPS.logSoftmax : OPS.softmax, [x.view(), withOutView(options, out)], DTYPES);
    // Validation ran the options' getters, which may have freed a buffer.
    this.#own(x, 'x');
    this.#own(out, 'options.out');
    if (req.rows > 0) {
      const { temperature, fullyMasked } = req.options as unknown as ForwardCallOptions;
      this.#runForward(
        this.#forwardKernel(req.dtype, log),
        x.byteOffset,
        out.byteOffset,
        req.rows,
        req.cols,
        temperature,
        fullyMasked === 'zero' ? 1 : 0,
      );
    }
    return out;
  }

  #backwardBuffer<D extends Dtype>(
    y: WasmBuffer<D>,
    dy: WasmBuffer<D>,
    options: BufferBackwardOptions | undefined,
    log: boolean,
  ): WasmBuffer<D> {
    this.#own(y, 'y');
    this.#own(dy, 'dy');
    const out = (options?.out === undefined ? dy : this.#own(options.out, 'options.out')) as WasmBuffer<D>;
    const op = log ? OPS.logSoftmaxBackward : OPS.softmaxBackward;
    const req = validateCall(op, [y.view(), dy.view(), withOutView(options, out)], DTYPES);
    // Validation ran the options' getters, which may have freed a buffer.
    this.#own(y, 'y');
    this.#own(dy, 'dy');
    this.#own(out, 'options.out');
    if (req.rows > 0) {
      this.#runBackward(
        this.#backwardKernel(req.dtype, log),
        y.byteOffset,
        dy.byteOffset,
        out.byteOffset,
        req.rows,
        req.cols,
        (req.options as unknown as BackwardCallOptions).temperature,
      );
    }
    return out;
  }
}
