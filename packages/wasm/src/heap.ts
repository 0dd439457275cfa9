import { SoftmaxError } from '@softmax/core';
import { ARRAY_TYPES, type ArrayOf, type BufferDtype } from './elements.js';

/**
 * The JavaScript side owns the kernel's linear memory above `__heap_base`: a first-fit allocator
 * with coalescing over 16-byte-aligned blocks. Memory only grows when no free block fits, and
 * freed neighbours merge, so a workload's memory stays bounded by its largest simultaneous need.
 *
 * Addresses go up to 4 GiB, so every computation here is plain float arithmetic: JavaScript's
 * bitwise operators work on int32 and would wrap at 2 GiB.
 */

const ALIGN = 16;
const PAGE = 65536;
/** wasm32 addresses 65536 pages, 4 GiB; the module declares no lower maximum. */
export const MAX_MEMORY_BYTES = 65536 * PAGE;

/** What the heap needs of a `WebAssembly.Memory` (tests pass a stand-in). */
export type LinearMemory = Pick<WebAssembly.Memory, 'buffer' | 'grow'>;

type Views = { [D in BufferDtype]: ArrayOf<D> };

interface Block {
  ptr: number;
  size: number;
}

/**
 * Every buffer a heap's memory has had, mapped to that heap: an array whose buffer is here is a
 * view of some backend's linear memory. A shared memory's older buffers are kept too, since
 * growing it does not detach them (they still alias the memory); a plain memory's are detached.
 */
const HEAPS = new WeakMap<ArrayBufferLike, Heap>();

/** The heap whose linear memory `buffer` is (or was, before it grew), if any. */
export function heapOf(buffer: ArrayBufferLike): Heap | undefined {
  return HEAPS.get(buffer);
}

export class Heap {
  readonly memory: LinearMemory;
  /** Free blocks sorted by address, never adjacent (adjacent ones are merged). */
  private readonly free: Block[] = [];
  /** Sizes of live blocks by address. */
  private readonly live = new Map<number, number>();
  /** Requested bytes of live user blocks (WasmBuffers) by address, and their addresses sorted. */
  private readonly userBytes = new Map<number, number>();
  private readonly userStarts: number[] = [];
  /** First byte above every block handed out so far. */
  private top: number;
  /**
   * The memory's current ArrayBuffer. Only `alloc` grows the memory (the kernel has no allocator),
   * so it is re-read after growing rather than through the `buffer` getter on every call.
   */
  current: ArrayBuffer;
  private viewBuffer: ArrayBuffer | undefined;
  /** Set by `refresh`, which the first `view` runs (viewBuffer starts undefined). */
  private views: Views | undefined;

  constructor(memory: LinearMemory, heapBase: number) {
    this.memory = memory;
    this.top = roundUp(heapBase);
    this.current = memory.buffer;
    HEAPS.set(this.current, this);
  }

  /** A block for a WasmBuffer: like `alloc`, and recorded as the user's (see `holds`). */
  allocUser(bytes: number, what?: string): number {
    const ptr = this.alloc(bytes, what);
    this.userBytes.set(ptr, bytes);
    this.userStarts.splice(this.userIndex(ptr), 0, ptr);
    return ptr;
  }

  /**
   * Whether bytes [at, at + bytes) lie inside one live user block: a map lookup for a buffer's own
   * view, a binary search for a view of part of one. Everything else in the memory (the kernel's
   * data and stack, the scratch block, freed or reused memory) belongs to the backend.
   */
  holds(at: number, bytes: number): boolean {
    const exact = this.userBytes.get(at);
    if (exact !== undefined) return bytes <= exact;
    const i = this.userIndex(at + 1) - 1; // the last block starting at or below `at`
    if (i < 0) return false;
    const start = this.userStarts[i];
    return at + bytes <= start + (this.userBytes.get(start) as number);
  }

  /** Index of the first user block at or above `ptr`. */
  private userIndex(ptr: number): number {
    const starts = this.userStarts;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (starts[mid] < ptr) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * A block of at least `bytes` bytes, 16-byte aligned. `what` names the request in the error
   * thrown when it cannot fit: INVALID_SHAPE, since it is the array's size this backend cannot hold.
   */
  alloc(bytes: number, what = `a block of ${bytes} bytes`): number {
    const size = roundUp(Math.max(bytes, ALIGN));
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i];
      if (block.size < size) continue;
      const ptr = block.ptr;
      if (block.size === size) this.free.splice(i, 1);
      else {
        block.ptr += size;
        block.size -= size;
      }
      this.live.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    const end = ptr + size;
    if (end > MAX_MEMORY_BYTES) {
      throw new SoftmaxError(
        'INVALID_SHAPE',
        `${what} needs ${size} bytes of wasm memory with ${ptr} bytes already in use; wasm32 memory is limited to 4 GiB (${MAX_MEMORY_BYTES} bytes)`,
      );
    }
    const have = this.current.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
        this.current = this.memory.buffer;
        HEAPS.set(this.current, this);
      } catch (error) {
        // The engine or the machine refused the memory (browsers may cap it below 4 GiB).
        throw new SoftmaxError(
          'INVALID_SHAPE',
          `${what} needs wasm memory to grow from ${have} to ${end} bytes, which the runtime refused: ${String(error)}`,
          { cause: error },
        );
      }
    }
    this.top = end;
    this.live.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) return;
    this.live.delete(ptr);
    if (this.userBytes.delete(ptr)) this.userStarts.splice(this.userIndex(ptr), 1);
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.free[mid].ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    const block: Block = { ptr, size };
    this.free.splice(lo, 0, block);
    const next = this.free[lo + 1];
    if (next && block.ptr + block.size === next.ptr) {
      block.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev.ptr + prev.size === block.ptr) {
      prev.size += block.size;
      this.free.splice(lo, 1);
    }
    // A free block at the top goes back to the untouched region.
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  /** Bytes held by live blocks (for tests and diagnostics). */
  get liveBytes(): number {
    let total = 0;
    for (const size of this.live.values()) total += size;
    return total;
  }

  /**
   * The whole memory as elements of `type` (a float type, or an integer one for integer operands:
   * class targets, token ids), re-created when growth replaced the buffer.
   */
  view<D extends BufferDtype>(type: D): ArrayOf<D> {
    if (this.current !== this.viewBuffer) this.refresh();
    const views = this.views as Views;
    // Named loads: views[type] would be a keyed load, megamorphic across the calls of every op.
    if (type === 'float32') return views.float32 as ArrayOf<D>;
    if (type === 'float64') return views.float64 as ArrayOf<D>;
    return (type === 'int32' ? views.int32 : views.uint32) as ArrayOf<D>;
  }

  /** Bytes of linear memory (it never shrinks). */
  get byteLength(): number {
    return this.current.byteLength;
  }

  private refresh(): void {
    const buffer = this.current;
    this.viewBuffer = buffer;
    this.views = {
      float32: new ARRAY_TYPES.float32(buffer),
      float64: new ARRAY_TYPES.float64(buffer),
      int32: new ARRAY_TYPES.int32(buffer),
      uint32: new ARRAY_TYPES.uint32(buffer),
    };
  }
}

/** n rounded up to a multiple of ALIGN, exact for every n below 2^53. */
function roundUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
