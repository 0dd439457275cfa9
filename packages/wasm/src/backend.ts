import { type Dtype, type FullyMasked, SoftmaxError } from '@softmax/core';
import {
  BackendBase,
  describeValue,
  OPS,
  type OpCall,
  type OpDecl,
  type OpName,
  validateCall,
} from '@softmax/core/backend';
import type { KernelExports } from './abi.js';
import { WasmBuffer } from './buffer.js';
import type { BufferDtype, IndexDtype } from './elements.js';
import { Heap } from './heap.js';
import { OP_SUPPORT } from './kernels.js';
import { Marshaller, SCRATCH_BYTES } from './marshal.js';
import { shapeOf } from './routes.js';
import { ThreadedCalls, type ThreadsSetup } from './threads/calls.js';

const DTYPES: readonly Dtype[] = ['float32', 'float64'];
const BUFFER_DTYPES: readonly BufferDtype[] = [...DTYPES, 'int32', 'uint32'];

/** The options of `bufferCall`: the op's own (as for its array call), with `out` a buffer. */
export interface BufferCallOptions {
  cols?: number;
  temperature?: number;
  /** For the forward ops. */
  fullyMasked?: FullyMasked;
  /** Where the result goes (see `bufferCall` for the default). */
  out?: WasmBuffer;
}

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
  // Per-call arrays of buffer calls, reused: calls never overlap (#enter refuses re-entrant ones).
  readonly #bufferPointers: number[] = new Array(8).fill(0);
  readonly #outViews: unknown[] = [undefined];

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

  // Every public method brackets its work in #enter() / #leave() (the op methods through beforeCall
  // and afterCall, which BackendBase calls around validation and run): a call made while another runs (from a
  // getter of the options, say) would share the running call's scratch block and, on several
  // threads, overwrite its posted job.

  beforeCall(): void {
    this.#enter();
  }

  afterCall(ok: boolean): void {
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

  /**
   * A call of `op` on buffers of this backend: its inputs in declaration order (x; or y and dy),
   * the output written to `options.out`. Without `out`, a matrix output goes in place into the last
   * input of its shape and type (x, or dy), and an output of one value per row (logSumExp) into a
   * new buffer, which the caller frees. Returns the output buffer. Options as for the op's array
   * call (cols, temperature, fullyMasked), validated the same way.
   */
  bufferCall<D extends Dtype>(
    op: OpName,
    inputs: readonly WasmBuffer<D | IndexDtype>[],
    options?: BufferCallOptions,
  ): WasmBuffer<D> {
    this.#enter();
    try {
      return this.#done(this.#bufferCall(op, inputs, options) as WasmBuffer<D>);
    } finally {
      this.#leave();
    }
  }

  /** Softmax of a buffer, written to `options.out` (default: in place). Returns the output buffer. */
  softmaxBuffer<D extends Dtype>(x: WasmBuffer<D>, options?: BufferForwardOptions): WasmBuffer<D> {
    return this.bufferCall('softmax', [x], options);
  }

  logSoftmaxBuffer<D extends Dtype>(x: WasmBuffer<D>, options?: BufferForwardOptions): WasmBuffer<D> {
    return this.bufferCall('logSoftmax', [x], options);
  }

  /** Softmax gradient of buffers, written to `options.out` (default: into `dy`). Returns the output buffer. */
  softmaxBackwardBuffer<D extends Dtype>(
    y: WasmBuffer<D>,
    dy: WasmBuffer<D>,
    options?: BufferBackwardOptions,
  ): WasmBuffer<D> {
    return this.bufferCall('softmaxBackward', [y, dy], options);
  }

  logSoftmaxBackwardBuffer<D extends Dtype>(
    y: WasmBuffer<D>,
    dy: WasmBuffer<D>,
    options?: BufferBackwardOptions,
  ): WasmBuffer<D> {
    return this.bufferCall('logSoftmaxBackward', [y, dy], options);
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

  /** `out`'s view, for validation in place of the options' `out` (the buffer itself). */
  #outView(out: WasmBuffer): readonly unknown[] {
    this.#outViews[0] = out.view();
    return this.#outViews;
  }

  #bufferCall(name: OpName, inputs: readonly unknown[], options: BufferCallOptions | undefined): WasmBuffer {
    const op = OPS[name];
    const dtypes = this.ops[name];
    if (op === undefined || dtypes === undefined) {
      throw new SoftmaxError('UNSUPPORTED_OP', `the wasm backend does not implement ${String(name)}`);
    }
    const { names } = shapeOf(op, 'float32');
    const n = op.inputs.length;
    if (!Array.isArray(inputs) || inputs.length !== n) {
      const got = Array.isArray(inputs) ? buffers(inputs.length) : describeValue(inputs);
      const list = names.slice(0, n).join(', ');
      throw new SoftmaxError('INVALID_INPUT', `${name} takes an array of ${buffers(n)} (${list}), got ${got}`);
    }
    // The operands for core's validation: the inputs' views, then the options with `out`'s view.
    const args: unknown[] = new Array(n + 1);
    for (let i = 0; i < n; i++) args[i] = this.#own(inputs[i], names[i]).view();
    const given = options?.out;
    const out = given === undefined ? inPlace(op, inputs as WasmBuffer[]) : this.#own(given, names[n]);
    args[n] = options;
    // `out` is validated as its view; the options' own `out` (the buffer) is read but not used.
    const call = validateCall(op, args, dtypes, out === undefined ? undefined : this.#outView(out));
    this.#outViews[0] = undefined;
    // Validation ran the options' getters, which may have freed a buffer.
    const pointers = this.#bufferPointers;
    for (let i = 0; i < n; i++) pointers[i] = this.#own(inputs[i], names[i]).byteOffset;
    if (out !== undefined) this.#own(out, names[n]);
    const result = out ?? new WasmBuffer(this.#heap, this, call.dtype, call.outputs[0].length, `the result of ${name}`);
    if (call.rows > 0) {
      pointers[n] = result.byteOffset;
      try {
        this.#marshaller.runAt(call, pointers);
      } catch (error) {
        if (out === undefined) result.free();
        throw error;
      }
    }
    return result;
  }
}

const buffers = (n: number) => `${n} buffer${n === 1 ? '' : 's'}`;

/**
 * The default output of a buffer call, in place: the last input of the output's shape and type
 * (x for the forward ops, dy for the gradients). None for an output of another shape.
 */
function inPlace(op: OpDecl, inputs: readonly WasmBuffer[]): WasmBuffer | undefined {
  const decl = op.outputs[0];
  for (let i = op.inputs.length - 1; i >= 0; i--) {
    const input = op.inputs[i];
    if (input.shape === decl.shape && input.element === decl.element) return inputs[i];
  }
  return undefined;
}
