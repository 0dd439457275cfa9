import {
  type CrossEntropyOptions,
  type Dtype,
  type FullyMasked,
  type SampleOptions,
  SoftmaxError,
} from '@softmax/core';
import {
  BackendBase,
  describeValue,
  OPS,
  type OpCall,
  type OpDecl,
  type OperandArray,
  type OpName,
  resultOf,
  validateCall,
  validatePlaced,
} from '@softmax/core/backend';
import type { KernelExports } from './abi.js';
import { WasmBuffer } from './buffer.js';
import type { ArrayOf, BufferDtype, IndexDtype } from './elements.js';
import { Heap } from './heap.js';
import { OP_SUPPORT } from './kernels.js';
import { Marshaller, SCRATCH_BYTES } from './marshal.js';
import { NOWHERE, shapeOf } from './routes.js';
import type { ThreadedCalls } from './threads/calls.js';

const DTYPES: readonly Dtype[] = ['float32', 'float64'];
const BUFFER_DTYPES: readonly BufferDtype[] = [...DTYPES, 'int32', 'uint32'];

/** The options of `bufferCall`: the op's own (as for its array call), with `out` a buffer. */
export interface BufferCallOptions {
  /** Row length; default: the whole buffer is one row. */
  cols?: number;
  /** T > 0; default 1. */
  temperature?: number;
  /** For the forward ops. */
  fullyMasked?: FullyMasked;
  /** Where the result goes (see `bufferCall` for the default). */
  out?: WasmBuffer;
}

/** The options of `softmaxBuffer` and `logSoftmaxBuffer`. */
export interface BufferForwardOptions {
  /** Row length; default: the whole buffer is one row. */
  cols?: number;
  /** T > 0; default 1. */
  temperature?: number;
  /** What a row of only −Infinity gives: 'nan' (default) or 'zero'. */
  fullyMasked?: FullyMasked;
  /** Where the result goes; default: the input buffer itself (in place). */
  out?: WasmBuffer;
}

/** The options of `softmaxBackwardBuffer` and `logSoftmaxBackwardBuffer`. */
export interface BufferBackwardOptions {
  /** Row length, as in the forward call. */
  cols?: number;
  /** The forward call's temperature. */
  temperature?: number;
  /** Where the gradient goes; default: the `dy` buffer itself (in place). */
  out?: WasmBuffer;
}

/** crossEntropy's options for buffers: as for arrays (see `@softmax/core`), with `gradOut` a buffer. */
export type CrossEntropyBufferOptions = Omit<CrossEntropyOptions, 'gradOut'> & {
  /** Where the gradient goes with `gradient: true`; default: a new buffer, which the caller frees. */
  gradOut?: WasmBuffer;
};

/**
 * What a crossEntropy buffer call returns: the loss as an array (as for arrays: length rows for
 * 'none', else 1), and the gradient and log-sum-exp as buffers when asked (new ones are the
 * caller's to free; with `gradient: 'in-place'` the gradient is the logits buffer).
 */
export interface CrossEntropyBufferResult<D extends Dtype> {
  /** The loss: one value for 'mean' and 'sum', one per row for 'none'. */
  loss: ArrayOf<D>;
  /** d loss / d logits, with `gradient: true` or `in-place`. */
  grad?: WasmBuffer<D>;
  /** Each row's log-sum-exp, with `returnLse: true`. */
  lse?: WasmBuffer<D>;
}

/**
 * What a sample buffer call returns: the tokens (and the log-probabilities, and the top ids and
 * theirs, when asked) in new buffers, which the caller frees. A row without a token is a
 * SoftmaxError, as for arrays.
 */
export interface SampleBufferResult {
  /** One token per row. */
  tokens: WasmBuffer<'int32'>;
  /** Each token's log-probability under the processed distribution, with `logprobs: true`. */
  logprobs?: WasmBuffer<'float32'>;
  /** With `topLogprobs: n`: rows × n ids, most probable first (−1 past the kept set), and their log-probabilities. */
  top?: { ids: WasmBuffer<'int32'>; logprobs: WasmBuffer<'float32'> };
}

/** What a buffer call of an op needs: one lookup by name, where a small call would otherwise pay for several. */
interface BufferOp {
  readonly op: OpDecl;
  /** Its float types here. */
  readonly dtypes: readonly Dtype[];
  /** Its operands' names, inputs then outputs (`options.out`), for messages. */
  readonly names: readonly string[];
}

/**
 * How a backend on several threads starts its pool (load-node.ts passes it): the backend itself
 * never imports the pool, so a browser bundle carries no worker-thread code.
 */
export interface ThreadsStart {
  /** Threads in all, the calling one included (> 1). */
  threads: number;
  /** The pool's calls over this kernel, taking the workers' stacks from `heap`. */
  start(kernel: KernelExports, heap: Heap): ThreadedCalls;
}

/**
 * The wasm backend: a `Backend` whose calls are synchronous, plus the zero-copy buffer API.
 *
 * @example
 * ```ts
 * import { createWasmBackend } from '@softmax/wasm';
 *
 * const wasm = await createWasmBackend(); // a WasmBackend
 * wasm.softmax(new Float32Array([1, 2, 3])); // synchronous
 * const buf = wasm.alloc(3);
 * buf.view().set([1, 2, 3]);
 * wasm.softmaxBuffer(buf); // zero-copy, in place
 * buf.free();
 * wasm.dispose();
 * ```
 */
export class WasmBackend extends BackendBase {
  /** Always 'wasm'. */
  readonly name = 'wasm';
  /** Every op of the table, in float32 and float64. */
  readonly ops = OP_SUPPORT;
  /** Every call is synchronous. */
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
  /** The running buffer call's operand names, for #viewOf's message. */
  #names: readonly string[] = [];
  /**
   * A buffer call's operand as core's validation reads it: its view, taken after the options'
   * getters ran, one of which may have freed it (refused by name, as before the call).
   */
  readonly #viewOf = (buffer: WasmBuffer, i: number): OperandArray => this.#live(buffer, this.#names[i]).view();
  /** Each op's buffer-call record, made on its first buffer call. */
  readonly #bufferOps: Partial<Record<string, BufferOp>> = Object.create(null);

  constructor(kernel: KernelExports, threads?: ThreadsStart) {
    super();
    this.simd = kernel.simd() === 1;
    this.#heap = new Heap(kernel.memory, kernel.__heap_base.value as number);
    // Allocated first, so it sits below every other block and never splits the free space.
    const scratch = this.#heap.alloc(SCRATCH_BYTES);
    this.threads = threads?.threads ?? 1;
    if (threads && threads.threads > 1) this.#threaded = threads.start(kernel, this.#heap);
    this.#marshaller = new Marshaller(kernel, this.#heap, scratch, this.#threaded);
  }

  // Every public method brackets its work in #enter() / #leave() (the op methods through beforeCall
  // and afterCall, which BackendBase calls around validation and run): a call made while another runs (from a
  // getter of the options, say) would share the running call's scratch block and, on several
  // threads, overwrite its posted job.

  beforeCall(): void {
    this.#enter();
  }

  /** BackendBase's hook after each call (ends the call's guard; not for callers). */
  afterCall(ok: boolean): void {
    this.#leave();
    if (ok) this.#done(undefined);
  }

  /** One validated call of an op of the table (see `@softmax/core/backend`). */
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
    op: 'crossEntropy',
    inputs: readonly [WasmBuffer<D>, WasmBuffer<D | IndexDtype>],
    options?: CrossEntropyBufferOptions,
  ): CrossEntropyBufferResult<D>;
  bufferCall<D extends Dtype>(
    op: 'sample',
    inputs: readonly [WasmBuffer<D>],
    options?: SampleOptions,
  ): SampleBufferResult;
  bufferCall<D extends Dtype>(
    op: OpName,
    inputs: readonly WasmBuffer<D | IndexDtype>[],
    options?: BufferCallOptions,
  ): WasmBuffer<D>;
  bufferCall(op: OpName, inputs: readonly WasmBuffer[], options?: object): unknown {
    this.#enter();
    try {
      const route = this.#opOf(op, inputs);
      if (route.op.outputs.length > 1) return this.#done(this.#resultsCall(route, inputs, options));
      return this.#done(this.#bufferCall(route, inputs, options as BufferCallOptions | undefined));
    } finally {
      this.#leave();
    }
  }

  /**
   * Cross-entropy of buffers (class indices in an int32 or uint32 buffer, or probabilities in one of
   * the logits' type): `bufferCall('crossEntropy', [logits, targets], options)`.
   */
  crossEntropyBuffer<D extends Dtype>(
    logits: WasmBuffer<D>,
    targets: WasmBuffer<D | IndexDtype>,
    options?: CrossEntropyBufferOptions,
  ): CrossEntropyBufferResult<D> {
    return this.bufferCall('crossEntropy', [logits, targets], options);
  }

  /** Tokens drawn from a buffer of logits, into new buffers: `bufferCall('sample', [logits], options)`. */
  sampleBuffer<D extends Dtype>(logits: WasmBuffer<D>, options?: SampleOptions): SampleBufferResult {
    return this.bufferCall('sample', [logits], options);
  }

  /** Softmax of a buffer, written to `options.out` (default: in place). Returns the output buffer. */
  softmaxBuffer<D extends Dtype>(x: WasmBuffer<D>, options?: BufferForwardOptions): WasmBuffer<D> {
    return this.bufferCall('softmax', [x], options);
  }

  /** Log-softmax of a buffer: in place, or into `options.out`. Returns the output buffer. */
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

  /**
   * The log-softmax gradient from buffers `y` and `dy`: into `dy`, or into `options.out`. Returns the output buffer.
   */
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
    return this.#live(buffer, name);
  }

  /** A buffer known to be a WasmBuffer, checked to be one of this backend's, not freed. */
  #live(buffer: WasmBuffer, name: string): WasmBuffer {
    if (!buffer.belongsTo(this)) {
      throw new SoftmaxError('INVALID_INPUT', `${name} has been freed or belongs to another wasm backend`);
    }
    return buffer;
  }

  /** The op's buffer-call record, and its input buffers checked for their number. */
  #opOf(name: OpName, inputs: readonly unknown[]): BufferOp {
    const route = this.#bufferOps[name] ?? this.#bufferOp(name);
    const n = route.op.inputs.length;
    if (!Array.isArray(inputs) || inputs.length !== n) {
      const got = Array.isArray(inputs) ? buffers(inputs.length) : describeValue(inputs);
      const list = route.names.slice(0, n).join(', ');
      throw new SoftmaxError('INVALID_INPUT', `${name} takes an array of ${buffers(n)} (${list}), got ${got}`);
    }
    return route;
  }

  #bufferOp(name: OpName): BufferOp {
    const op = Object.hasOwn(OPS, name) ? (OPS[name] as OpDecl) : undefined;
    const dtypes = op && Object.hasOwn(this.ops, name) ? this.ops[name] : undefined;
    if (op === undefined || dtypes === undefined) {
      throw new SoftmaxError('UNSUPPORTED_OP', `the wasm backend does not implement ${String(name)}`);
    }
    const route: BufferOp = { op, dtypes, names: shapeOf(op, 'float32').names };
    this.#bufferOps[name] = route;
    return route;
  }

  #bufferCall(route: BufferOp, inputs: readonly unknown[], options: BufferCallOptions | undefined): WasmBuffer {
    const { op, dtypes, names } = route;
    const name = op.name;
    const n = op.inputs.length;
    // The operands for core's validation: the inputs, then the output (validated as `out`, in
    // place of the options' own out value, the buffer) when it has a place before the call.
    const placed: WasmBuffer[] = new Array(n + 1);
    for (let i = 0; i < n; i++) placed[i] = this.#own(inputs[i], names[i]);
    const given = options?.out;
    const out = given === undefined ? inPlace(op, placed) : this.#own(given, names[n]);
    if (out === undefined) placed.length = n;
    else placed[n] = out;
    this.#names = names;
    const call = validatePlaced(op, placed, options, dtypes, this.#viewOf);
    // Validation ran the options' getters, which may have freed a buffer.
    const pointers = this.#bufferPointers;
    for (let i = 0; i < n; i++) pointers[i] = this.#live(placed[i], names[i]).byteOffset;
    if (out !== undefined) this.#live(out, names[n]);
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

  /**
   * A buffer call of an op of several outputs (crossEntropy): each output the call computes goes
   * into the caller's buffer for its `out` option, into its input when in place, or into a new
   * buffer (also made before validation where the options ask for the output, so that core
   * allocates no array of its size); the result is the op's, formed by core from the outputs, with
   * each output it returns given back as its buffer. New buffers it does not return are freed.
   */
  #resultsCall(route: BufferOp, inputs: readonly unknown[], options: unknown): unknown {
    const { op, dtypes, names } = route;
    const name = op.name;
    const n = op.inputs.length;
    const own = inputs.map((b, i) => this.#own(b, names[i]));
    // One read of each option (a getter runs once), then the out options' buffers as their views.
    const copy =
      options !== undefined && typeof options === 'object' && options !== null
        ? { ...(options as Record<string, unknown>) }
        : undefined;
    const given: (WasmBuffer<BufferDtype> | undefined)[] = [];
    const created: WasmBuffer<BufferDtype>[] = [];
    try {
      op.outputs.forEach((o, k) => {
        const value = o.outOption && copy ? copy[o.outOption] : undefined;
        if (value === undefined && o.outOption && copy && this.#wanted(op, k, copy, own)) {
          // A matrix output the call computes: a buffer of its input's size, passed as its `out`.
          const input = own[o.inPlaceOf ?? 0];
          const made = new WasmBuffer(this.#heap, this, input.dtype, input.length, `the ${o.name} of ${name}`);
          created.push(made);
          given[k] = made;
        } else if (value !== undefined && o.outOption && copy) {
          given[k] = this.#own(value, `options.${o.outOption}`);
        }
      });
      // The views are taken after the allocations above, which may have grown (detached) memory.
      const args: unknown[] = own.map((b) => b.view());
      op.outputs.forEach((o, k) => {
        const b = given[k];
        if (b && o.outOption && copy) copy[o.outOption] = b.view();
      });
      args[n] = copy ?? options;
      const call = validateCall(op, args, dtypes);
      // Validation ran no getter (the options were copied), but the buffers may have been freed before.
      const pointers: number[] = own.map((b, i) => this.#own(b, names[i]).byteOffset);
      const results: (WasmBuffer<BufferDtype> | undefined)[] = op.outputs.map((o, k) => {
        if (!call.present[k]) return undefined;
        if (given[k]) return this.#own(given[k], `options.${o.outOption}`);
        if (call.outputs[k] === call.inputs[o.inPlaceOf ?? 0] && call.provided[k]) return own[o.inPlaceOf ?? 0];
        const type = (o.element === 'float' ? (o.dtype ?? call.dtype) : o.element) as BufferDtype;
        const made = new WasmBuffer(this.#heap, this, type, call.outputs[k].length, `the ${o.name} of ${name}`);
        created.push(made);
        return made;
      });
      results.forEach((b, k) => {
        pointers[n + k] = b ? b.byteOffset : NOWHERE;
      });
      if (call.rows > 0) this.#marshaller.runAt(call, pointers);
      // Core forms the result from views of the outputs (taken after every allocation).
      results.forEach((b, k) => {
        if (b) call.outputs[k] = b.view();
      });
      const result = resultOf(call) as Record<string, unknown>;
      for (let k = 0; k < results.length; k++) {
        const b = results[k];
        if (b === undefined) continue;
        if (!replaceView(result, call.outputs[k], b) && created.includes(b)) b.free();
      }
      return result;
    } catch (error) {
      for (const b of created) b.free();
      throw error;
    }
  }

  /**
   * Whether a call with these (copied) options computes output `k` as a new array of its input's
   * size: an output with an `out` option, rows × cols like input `inPlaceOf`, whose presence option
   * reads 'present'. A value its reader refuses is left to validation, which reports it.
   */
  #wanted(op: OpDecl, k: number, copy: Record<string, unknown>, own: readonly WasmBuffer[]): boolean {
    const o = op.outputs[k];
    const input = op.inputs[o.inPlaceOf ?? 0];
    if (o.shape !== 'matrix' || input.shape !== 'matrix' || own[o.inPlaceOf ?? 0] === undefined) return false;
    if (!o.when) return true;
    const key = o.whenOption;
    if (key === undefined) return false;
    try {
      const read = op.options[key];
      const value = read ? read(copy[key], `options.${key}`, { dtype: 'float32', rows: 0, cols: 0 }) : copy[key];
      return o.when({ [key]: value }) === 'present';
    } catch {
      return false;
    }
  }
}

/**
 * Replaces `view` by its buffer where the result holds it: as a property, or as a property of an
 * object property (sample's `top: { ids, logprobs }`). False when the result does not return it.
 */
function replaceView(result: Record<string, unknown>, view: unknown, buffer: WasmBuffer<BufferDtype>): boolean {
  for (const key of Object.keys(result)) {
    const value = result[key];
    if (value === view) {
      result[key] = buffer;
      return true;
    }
    if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !(value instanceof WasmBuffer)) {
      if (replaceView(value as Record<string, unknown>, view, buffer)) return true;
    }
  }
  return false;
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
