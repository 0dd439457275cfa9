import { type Dtype, type FullyMasked, SoftmaxError } from '@softmax/core';
import { BackendBase, OPS, type OpCall, validateCall } from '@softmax/core/backend';
import type { KernelExports } from './abi.js';
import { WasmBuffer } from './buffer.js';
import type { BufferDtype } from './elements.js';
import { Heap } from './heap.js';
import { OP_SUPPORT } from './kernels.js';
import { Marshaller, SCRATCH_BYTES } from './marshal.js';
import { ThreadedCalls, type ThreadsSetup } from './threads/calls.js';

const DTYPES: readonly Dtype[] = ['float32', 'float64'];
const BUFFER_DTYPES: readonly BufferDtype[] = [...DTYPES, 'int32', 'uint32'];

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

/** The wasm backend: a `Backend` whose calls are synchronous, plus the zero-copy buffer API. */
export class WasmBackend extends BackendBase {
  readonly name = 'wasm';
  readonly ops = OP_SUPPORT;
  readonly returns = 'sync';
  /** Whether the SIMD128 build of the kernel is running (false: the scalar build). */
  readonly simd: boolean;
  /** Threads that share large calls, the calling one included (1: no worker threads). */
  readonly threads: number;
  readonly #heap: Heap;
  readonly #marshaller: Marshaller;
  /** Present with more than one thread. */
  readonly #threaded: ThreadedCalls | undefined;
  #disposed = false;
  /** A call is running (see #enter). */
  #busy = false;

  constructor(kernel: KernelExports, threads?: ThreadsSetup) {
    super();
    this.simd = kernel.simd() === 1;
    this.#heap = new Heap(kernel.memory, kernel.__heap_base.value as number);
    // Allocated first, so it sits below every other block and never splits the free space.
    const scratch = this.#heap.alloc(SCRATCH_BYTES);
    this.threads = threads?.threads ?? 1;
    if (threads && threads.threads > 1) this.#threaded = new ThreadedCalls(threads, kernel, this.#heap);
    this.#marshaller = new Marshaller(kernel, this.#heap, scratch, this.#threaded);
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
    this.#marshaller.run(call);
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
    if (req.rows > 0) this.#marshaller.runAt(req, [x.byteOffset, out.byteOffset]);
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
    if (req.rows > 0) this.#marshaller.runAt(req, [y.byteOffset, dy.byteOffset, out.byteOffset]);
    return out;
  }
}
