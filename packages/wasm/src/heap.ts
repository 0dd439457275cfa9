/**
 * The JavaScript side owns the kernel's linear memory above `__heap_base`: a first-fit allocator
 * with coalescing over 16-byte-aligned blocks. Memory only grows when no free block fits, and
 * freed neighbours merge, so a workload's memory stays bounded by its largest simultaneous need.
 */

const ALIGN = 16;
const PAGE = 65536;

interface Block {
  ptr: number;
  size: number;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  /** Free blocks sorted by address, never adjacent (adjacent ones are merged). */
  private readonly free: Block[] = [];
  /** Sizes of live blocks by address. */
  private readonly live = new Map<number, number>();
  /** First byte above every block handed out so far. */
  private top: number;
  private buffer: ArrayBuffer;
  private f32View: Float32Array;
  private f64View: Float64Array;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.top = roundUp(heapBase);
    this.buffer = memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.f64View = new Float64Array(this.buffer);
  }

  /** A block of at least `bytes` bytes, 16-byte aligned. */
  alloc(bytes: number): number {
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
    const have = this.memory.buffer.byteLength;
    if (end > have) this.memory.grow(Math.ceil((end - have) / PAGE));
    this.top = end;
    this.live.set(ptr, size);
    return ptr;
  }

  release(ptr: number): void {
    const size = this.live.get(ptr);
    if (size === undefined) return;
    this.live.delete(ptr);
    let lo = 0;
    let hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
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

  /** A Float32Array over the whole memory, re-created when growth replaced the buffer. */
  f32(): Float32Array {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.f32View;
  }

  f64(): Float64Array {
    if (this.memory.buffer !== this.buffer) this.refresh();
    return this.f64View;
  }

  /** Bytes of linear memory (it never shrinks). */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  private refresh(): void {
    this.buffer = this.memory.buffer;
    this.f32View = new Float32Array(this.buffer);
    this.f64View = new Float64Array(this.buffer);
  }
}

function roundUp(n: number): number {
  return (n + ALIGN - 1) & ~(ALIGN - 1);
}
