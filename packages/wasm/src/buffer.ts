import { type Dtype, SoftmaxError } from '@softmax/core';
import { ARRAY_TYPES, type ArrayOf, type BufferDtype, ELEMENT_BYTES } from './elements.js';
import type { Heap } from './heap.js';

/** The buffer each `view()` belongs to, so that a freed buffer's old views can be told apart. */
const OWNERS = new WeakMap<object, WasmBuffer<BufferDtype>>();

/**
 * Whether `array` is a view that a WasmBuffer handed out and has since been freed. Its memory may
 * already be another buffer's, so the address alone cannot tell (nor for a subarray of it).
 */
export function isFreedView(array: object): boolean {
  return OWNERS.get(array)?.freed === true;
}

/**
 * An array that lives in the kernel's linear memory (the zero-copy API). Write inputs through
 * `view()`, run a `*Buffer` method, read the result through `view()`. Its elements
 * are float32 or float64 (the ops' float operands), or int32 or uint32 (integer operands such as
 * class targets and token ids).
 *
 * Growing linear memory (any allocation may) detaches every typed array over the old buffer; `view()`
 * re-creates its view when that happened, so call `view()` again after allocating rather than
 * keeping a view across allocations.
 *
 * @example
 * ```ts
 * import { createWasmBackend } from '@softmax/wasm';
 *
 * const wasm = await createWasmBackend();
 * const buf = wasm.alloc(2 * 3); // WasmBuffer<'float32'>
 * buf.view().set([1, 2, 3, 4, 5, 6]);
 * wasm.logSoftmaxBuffer(buf, { cols: 3 });
 * console.log(buf.view()); // the result, where it lies
 * buf.free();
 * ```
 */
export class WasmBuffer<D extends BufferDtype = Dtype> {
  /** Its element type: 'float32', 'float64', 'int32' or 'uint32'. */
  readonly dtype: D;
  /** Its length in elements. */
  readonly length: number;
  /** Byte offset of element 0 in linear memory (16-byte aligned). */
  readonly byteOffset: number;
  readonly #heap: Heap;
  readonly #owner: object;
  #view: ArrayOf<D> | undefined;
  #viewBuffer: ArrayBufferLike | undefined;
  #freed = false;

  /** @internal created by `WasmBackend.alloc`. */
  constructor(heap: Heap, owner: object, dtype: D, length: number, what?: string) {
    this.dtype = dtype;
    this.length = length;
    this.#heap = heap;
    this.#owner = owner;
    this.byteOffset = heap.allocUser(length * ELEMENT_BYTES[dtype], what);
  }

  /** A typed array over the buffer's memory; the same object until memory grows. */
  view(): ArrayOf<D> {
    if (this.#freed) throw new SoftmaxError('INVALID_INPUT', 'this WasmBuffer has been freed');
    const buffer = this.#heap.current;
    if (this.#view === undefined || this.#viewBuffer !== buffer) {
      this.#view = new ARRAY_TYPES[this.dtype](buffer, this.byteOffset, this.length) as ArrayOf<D>;
      this.#viewBuffer = buffer;
      OWNERS.set(this.#view, this);
    }
    return this.#view;
  }

  /** Same as `view()`. */
  get array(): ArrayOf<D> {
    return this.view();
  }

  /** Whether `free()` was called (a freed buffer is refused by every call). */
  get freed(): boolean {
    return this.#freed;
  }

  /** Returns the memory to the backend; the buffer can no longer be used. Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    this.#view = undefined;
    this.#heap.release(this.byteOffset);
  }

  /** @internal whether this buffer is live and belongs to `owner`. */
  belongsTo(owner: object): boolean {
    return !this.#freed && this.#owner === owner;
  }
}
