import { type Dtype, SoftmaxError } from '@softmax/core';
import { describeValue, type OpCall, type OperandArray } from '@softmax/core/backend';
import type { KernelExports, KernelName } from './abi.js';
import { isFreedView } from './buffer.js';
import { ARRAY_TYPES, type BufferDtype } from './elements.js';
import { type Heap, heapOf } from './heap.js';
import { bufferOf, byteOffsetOf, copyInto, copyOut, part } from './intrinsics.js';
import { invoke } from './kernels.js';
import { type CallShape, NOWHERE, perRow, type Route, routeOf, shapeOf } from './routes.js';
import type { ThreadedCalls } from './threads/calls.js';
import { isLarge } from './threads/large.js';

/**
 * Copying calls move at most this many bytes through linear memory at a time: whole rows are
 * processed in chunks that stay in the CPU cache between copy-in, kernel and copy-out, and the
 * memory a call needs is bounded by one chunk (or one row, when a row is larger).
 */
export const SCRATCH_BYTES = 256 * 1024;

/** Bytes of a kernel scratch block's header (crate/src/sample.rs HEADER): the slot count and the slots' flags. */
const SCRATCH_HEADER_BYTES = 256;

/** On several threads, copying calls move up to this much at a time, so each wake-up buys enough work. */
const THREAD_CHUNK_BYTES = 4 * 1024 * 1024;

/** Initial length of the reused per-call arrays (operands and extras: up to 6; the arrays grow if an op has more). */
const MAX_OPERANDS = 8;

/**
 * Runs the calls of core's op table on the kernel, "operands in, outputs out", driven by the op's
 * declaration (routes.ts): operands in this memory are used where they lie, the others are copied
 * through a working block a chunk of rows at a time, each into its place, and the kernel runs on
 * each chunk.
 */
export class Marshaller {
  readonly #kernel: KernelExports;
  readonly #heap: Heap;
  readonly #scratch: number;
  readonly #threaded: ThreadedCalls | undefined;
  // Per-call arrays, reused: calls never overlap (the backend refuses re-entrant ones), and a
  // small call spends less on them than on allocating them.
  /** Each operand's byte offset in this memory, or -1 outside it. */
  readonly #at: number[] = new Array(MAX_OPERANDS).fill(-1);
  /** Each operand's bytes per row: its pointer's stride. */
  readonly #strides: number[] = new Array(MAX_OPERANDS).fill(0);
  readonly #pointers: number[] = new Array(MAX_OPERANDS).fill(0);

  /** `scratch`: a block of SCRATCH_BYTES, reused by every call that fits it. */
  constructor(kernel: KernelExports, heap: Heap, scratch: number, threaded: ThreadedCalls | undefined) {
    this.#kernel = kernel;
    this.#heap = heap;
    this.#scratch = scratch;
    this.#threaded = threaded;
  }

  /** One validated call of at least one row on arrays anywhere: fills `call.outputs`. */
  run(call: OpCall): void {
    const { rows, cols } = call;
    const shape = shapeOf(call.op, call.dtype, call.forms);
    if (shape.small && this.#small(call, shape)) return;
    const { inputs, count, bytes, matrix, names } = shape;
    const at = this.#at;
    const strides = this.#strides;
    let inside = 0;
    for (let i = 0; i < inputs; i++) {
      strides[i] = matrix[i] ? cols * bytes[i] : bytes[i];
      at[i] = this.#address(call.inputs[i], rows * strides[i], names[i]);
      if (at[i] >= 0) inside++;
    }
    let outputInside = false;
    for (let k = inputs; k < count; k++) {
      if (!call.present[k - inputs]) {
        // Not computed: the kernel gets a null pointer, the same for every row.
        at[k] = NOWHERE;
        strides[k] = 0;
        inside++;
        continue;
      }
      strides[k] = perRow(shape, k, cols, call.options) * bytes[k];
      // A fresh result is never in this memory; not asking spares V8 materialising its buffer (~200 ns).
      at[k] = call.provided[k - inputs] ? this.#address(call.outputs[k - inputs], rows * strides[k], names[k]) : -1;
      if (at[k] < 0) continue;
      inside++;
      outputInside = true;
      for (let i = 0; i < inputs; i++) this.#overlap(shape, k, i, rows);
    }
    const scalars = shape.kernel.scalars(call);
    if (shape.extras > 0) {
      this.#withExtras(call, shape, () => this.#route(call, shape, inside, outputInside, scalars));
      return;
    }
    this.#route(call, shape, inside, outputInside, scalars);
  }

  /**
   * The most common call, as a few direct steps: inputs and one output all of the call's shape and
   * type, none in this memory, together fitting the scratch block. Each input is copied into a
   * slot of the block, the kernel runs there in place over the first (every kernel allows an
   * output to be one of its inputs), and that slot is copied out; a small call spends more on the
   * general route's bookkeeping than on its kernel. Returns false for any other call.
   */
  #small(call: OpCall, shape: CallShape): boolean {
    const { rows, cols } = call;
    const n = rows * cols;
    const bytes = n * shape.bytes[0];
    const inputs = shape.inputs;
    // Slots 16-byte aligned, as #chunk's.
    const slot = Math.ceil(bytes / 16) * 16;
    if (slot * inputs > SCRATCH_BYTES || (this.#threaded !== undefined && isLarge(rows, cols))) return false;
    for (let i = 0; i < inputs; i++) if (this.#address(call.inputs[i], bytes, shape.names[i]) >= 0) return false;
    const output = call.outputs[0];
    if (call.provided[0] && this.#address(output, bytes, shape.names[inputs]) >= 0) return false;
    const view = this.#heap.view(call.dtype);
    const pointers = this.#pointers;
    for (let i = 0; i < inputs; i++) {
      pointers[i] = this.#scratch + i * slot;
      copyInto(view, call.inputs[i], pointers[i] / shape.bytes[0]);
    }
    pointers[inputs] = this.#scratch;
    invoke(this.#kernel, shape.name, pointers, inputs + 1, rows, cols, shape.kernel.scalars(call));
    copyOut(output, 0, view, this.#scratch / shape.bytes[0], n);
    return true;
  }

  /** The kernel call on the operands at `this.#at`: where they lie, pipelined, or through a working block. */
  #route(call: OpCall, shape: CallShape, inside: number, outputInside: boolean, scalars: readonly number[]): void {
    const { rows, cols } = call;
    const at = this.#at;
    const strides = this.#strides;
    if (inside === shape.count) {
      this.#invoke(shape.name, at, strides, shape.count + shape.extras, rows, cols, scalars);
      return;
    }
    if (shape.pipelines && at[1] < 0 && this.#threaded?.pipelines(rows, strides[0]) && isLarge(rows, cols)) {
      const [input, output] = [call.inputs[0], call.outputs[0]];
      this.#threaded.pipelined(this.#heap, shape.name, scalars, input, at[0], output, rows, cols, shape.types[0]);
      return;
    }
    this.#chunked(call, shape, routeOf(shape, at, outputInside), scalars);
  }

  /** A validated call of at least one row whose operands all lie in this memory, at `pointers` (0: an output not computed). */
  runAt(call: OpCall, pointers: readonly number[]): void {
    const { rows, cols } = call;
    const shape = shapeOf(call.op, call.dtype, call.forms);
    if (shape.extras === 0 && (this.#threaded === undefined || !isLarge(rows, cols))) {
      // One thread and nothing to add: the kernel at once (strides are for splitting rows).
      invoke(this.#kernel, shape.name, pointers, shape.count, rows, cols, shape.kernel.scalars(call));
      return;
    }
    const strides = this.#strides;
    const at = this.#at;
    for (let k = 0; k < shape.count; k++) {
      at[k] = pointers[k];
      strides[k] = pointers[k] === NOWHERE ? 0 : perRow(shape, k, cols, call.options) * shape.bytes[k];
    }
    const scalars = shape.kernel.scalars(call);
    const n = shape.count + shape.extras;
    // No closure for the common call without extras: a small call pays for every allocation.
    if (shape.extras > 0)
      this.#withExtras(call, shape, () => this.#invoke(shape.name, at, strides, n, rows, cols, scalars));
    else this.#invoke(shape.name, at, strides, n, rows, cols, scalars);
  }

  /**
   * Runs `body` with the kernel's extras (OpKernel.extras: arrays of the call's options, such as
   * class weights) copied into one block of this memory, their pointers after the operands' in
   * `this.#at` (stride 0: every row and thread reads the same array; 0 for an absent one). The
   * block may grow memory, detaching the caller's views of it: outputs there are reattached.
   */
  #withExtras(call: OpCall, shape: CallShape, body: () => void): void {
    const { kernel } = shape;
    const getters = kernel.extras ?? [];
    const arrays = getters.map((get) => get(call));
    let bytes = 0;
    for (const array of arrays) if (array) bytes += Math.ceil(array.length / 2) * 16;
    // The kernel's scratch: a header (the slot count, then a free flag per slot), then one slot
    // for each thread that may run a piece of the call at once.
    const slots = this.#threaded ? this.#threaded.threads : 1;
    const slotBytes = kernel.scratch ? Math.ceil(kernel.scratch(call, this.#kernel) / 16) * 16 : 0;
    const scratchAt = bytes;
    if (kernel.scratch) bytes += SCRATCH_HEADER_BYTES + slots * slotBytes;
    const block = bytes > 0 ? this.#heap.alloc(bytes, `the ${call.op.name} options' arrays (${bytes} bytes)`) : NOWHERE;
    try {
      let offset = block;
      const floats = this.#heap.view('float64');
      for (let e = 0; e < arrays.length; e++) {
        const array = arrays[e];
        this.#at[shape.count + e] = array ? offset : NOWHERE;
        this.#strides[shape.count + e] = array ? (kernel.extraStrides?.[e]?.(call) ?? 0) : 0;
        if (!array) continue;
        copyInto(floats, array, offset / 8);
        offset += Math.ceil(array.length / 2) * 16;
      }
      if (kernel.scratch) {
        const at = block + scratchAt;
        const header = this.#heap.view('uint32');
        header.fill(0, at / 4, (at + SCRATCH_HEADER_BYTES) / 4);
        header[at / 4] = slots;
        this.#at[shape.count + arrays.length] = at;
        this.#strides[shape.count + arrays.length] = 0;
      }
      if (block !== NOWHERE) this.#reattachAll(call, shape);
      body();
    } finally {
      if (block !== NOWHERE) this.#heap.release(block);
    }
  }

  /**
   * A kernel call on `n` operands in this memory (`pointers`: their byte offsets, `strides`: their
   * bytes per row), split between threads when there are several and the call is large.
   */
  #invoke(
    name: KernelName,
    pointers: readonly number[],
    strides: readonly number[],
    n: number,
    rows: number,
    cols: number,
    scalars: readonly number[],
  ): void {
    if (this.#threaded && isLarge(rows, cols)) {
      this.#threaded.rows(name, pointers.slice(0, n), strides.slice(0, n), rows, cols, scalars);
    } else {
      invoke(this.#kernel, name, pointers, n, rows, cols, scalars);
    }
  }

  /**
   * Byte offset of an operand of `bytes` bytes that is a view of this backend's memory, or -1 for
   * one outside it (a live buffer of another backend is copied like any array). A view of wasm
   * memory that no live WasmBuffer holds, or a freed buffer's own view, is refused: writing there
   * would overwrite the kernel's data, stack or scratch block, or memory a later alloc handed to
   * someone else. Taken before any block is acquired: growth detaches a plain memory's views (shared
   * memory is not detached, and a view made before it grew is found too).
   */
  #address(array: OperandArray, bytes: number, name: string): number {
    const heap = heapOf(bufferOf(array));
    if (heap === undefined) return -1;
    const at = byteOffsetOf(array);
    if (!heap.holds(at, bytes) || isFreedView(array)) {
      throw new SoftmaxError(
        name.startsWith('options.') ? 'INVALID_OPTION' : 'INVALID_INPUT',
        `${name} is a view of wasm memory at bytes ${at} to ${at + bytes} that no live WasmBuffer holds (the backend's own memory, or a freed buffer's), got ${describeValue(array)}`,
      );
    }
    return heap === this.#heap ? at : -1;
  }

  /**
   * Refuses output `k` in this memory when it shares bytes with input `i` there without being it.
   * Core checks views of one buffer; two views of a shared memory may hold different buffer objects.
   */
  #overlap(shape: CallShape, k: number, i: number, rows: number): void {
    const [outAt, inAt] = [this.#at[k], this.#at[i]];
    const [outBytes, inBytes] = [rows * this.#strides[k], rows * this.#strides[i]];
    if (outAt < 0 || inAt < 0 || (outAt === inAt && outBytes === inBytes)) return;
    if (outAt < inAt + inBytes && inAt < outAt + outBytes) {
      const name = shape.names[i];
      throw new SoftmaxError(
        'INVALID_OPTION',
        `${shape.names[k]} partially overlaps ${name}: pass ${name} itself for in-place, or a separate array`,
      );
    }
  }

  /**
   * The copying path: a chunk of rows at a time, each operand in its place (see routes.ts), the
   * places of the operands outside this memory in a working block. A call whose chunk is all of it
   * and fits the scratch block (every small call) runs once, with nothing acquired.
   */
  #chunked(call: OpCall, shape: CallShape, route: Route, scalars: readonly number[]): void {
    const { rows, cols } = call;
    const { slots } = route;
    const strides = this.#strides;
    let blockRowBytes = 0;
    for (let j = 0; j < slots.length; j++) blockRowBytes += strides[slots[j]];
    // Up to 15 bytes of alignment after each slot (see #chunk).
    const padding = 16 * slots.length;
    if (rows * blockRowBytes + padding <= SCRATCH_BYTES) {
      this.#chunk(call, shape, route, scalars, this.#scratch, rows, 0, rows);
      return;
    }
    const budget = this.#threaded && isLarge(rows, cols) ? THREAD_CHUNK_BYTES : SCRATCH_BYTES;
    const chunkRows = Math.min(rows, Math.max(1, Math.floor((budget - padding) / blockRowBytes)));
    const ptr = this.#acquire(chunkRows * blockRowBytes + padding, chunkRows, cols, call.dtype);
    try {
      for (let r = 0; r < rows; r += chunkRows) {
        this.#chunk(call, shape, route, scalars, ptr, chunkRows, r, Math.min(chunkRows, rows - r));
      }
    } finally {
      if (ptr !== this.#scratch) this.#heap.release(ptr);
    }
    // Acquiring the block may have grown memory, detaching the caller's views of it.
    this.#reattachAll(call, shape);
  }

  /** The call's outputs in this memory, each reattached (see #reattach) after memory may have grown. */
  #reattachAll(call: OpCall, shape: CallShape): void {
    const { rows, cols } = call;
    const { inputs, count, types } = shape;
    const at = this.#at;
    for (let k = inputs; k < count; k++) {
      if (at[k] < 0 || at[k] === NOWHERE) continue;
      const length = rows * perRow(shape, k, cols, call.options);
      call.outputs[k - inputs] = this.#reattach(call.outputs[k - inputs], types[k], at[k], length);
    }
  }

  /**
   * Rows [r, r + n) of a copying call: the slots lie in the block at `block` (`blockRows` rows
   * long), inputs outside this memory are copied into their places, the kernel runs, and outputs
   * outside it are copied out of their slots.
   */
  #chunk(
    call: OpCall,
    shape: CallShape,
    route: Route,
    scalars: readonly number[],
    block: number,
    blockRows: number,
    r: number,
    n: number,
  ): void {
    const { count, inputs, types, bytes, extras } = shape;
    const { slots, copies, place, outs } = route;
    const at = this.#at;
    const strides = this.#strides;
    const pointers = this.#pointers;
    for (let k = 0; k < count + extras; k++) if (at[k] >= 0) pointers[k] = at[k] + r * strides[k];
    let offset = block;
    for (let j = 0; j < slots.length; j++) {
      pointers[slots[j]] = offset;
      // Each slot 16-byte aligned: slots of 4-byte elements (sample's tokens) may precede float64s.
      offset += Math.ceil((blockRows * strides[slots[j]]) / 16) * 16;
    }
    // The memory's view is taken after the block was acquired, which may have grown it.
    const floats = this.#heap.view(call.dtype);
    for (let j = 0; j < copies.length; j++) {
      const i = copies[j];
      pointers[i] = pointers[place[i]];
      const per = perRow(shape, i, call.cols, call.options);
      const input = call.inputs[i];
      const source = n === call.rows ? input : part(input, types[i], r * per, n * per);
      copyInto(types[i] === call.dtype ? floats : this.#heap.view(types[i]), source, pointers[i] / bytes[i]);
    }
    this.#invoke(shape.name, pointers, strides, count + extras, n, call.cols, scalars);
    for (let j = 0; j < outs.length; j++) {
      const k = outs[j];
      const per = perRow(shape, k, call.cols, call.options);
      const start = pointers[k] / bytes[k];
      // The memory's own view: its subarray runs no caller code.
      const view = types[k] === call.dtype ? floats : this.#heap.view(types[k]);
      copyOut(call.outputs[k - inputs], r * per, view, start, n * per);
    }
  }

  /** A block of `bytes`: the shared scratch block when it is large enough, else a temporary one. */
  #acquire(bytes: number, rows: number, cols: number, dtype: Dtype): number {
    if (bytes <= SCRATCH_BYTES) return this.#scratch;
    return this.#heap.alloc(bytes, `a working block for ${rows} rows of ${cols} ${dtype} elements`);
  }

  /**
   * The caller's output when it is a view of this memory: the same object, or a new view of the
   * same bytes when acquiring a block grew memory and detached it (shared memory grows in place).
   */
  #reattach(result: OperandArray, type: BufferDtype, at: number, length: number): OperandArray {
    const buffer = bufferOf(result);
    if (buffer === this.#heap.current || buffer instanceof SharedArrayBuffer) return result;
    return new ARRAY_TYPES[type](this.#heap.current, at, length);
  }
}
