import { describe, expect, it } from 'vitest';
import { Heap, type LinearMemory, MAX_MEMORY_BYTES } from '../src/heap.js';
import { thrown } from './helpers.js';

const PAGE = 65536;
const GiB = 2 ** 30;
const BASE = 65712; // the kernel's __heap_base

/**
 * A stand-in for WebAssembly.Memory that only counts bytes, so the heap's arithmetic can be driven
 * to 4 GiB without committing any memory. `limit` plays the engine refusing to grow.
 */
class CountingMemory implements LinearMemory {
  bytes = 2 * PAGE;
  readonly grows: number[] = [];
  constructor(readonly limit = MAX_MEMORY_BYTES) {}
  get buffer(): ArrayBuffer {
    return { byteLength: this.bytes } as ArrayBuffer;
  }
  grow(pages: number): number {
    if (this.bytes + pages * PAGE > this.limit)
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    const old = this.bytes / PAGE;
    this.bytes += pages * PAGE;
    this.grows.push(pages);
    return old;
  }
}

describe('Heap past 2 GiB', () => {
  it('sizes and addresses stay exact above 2^31 (no int32 wrap)', () => {
    const memory = new CountingMemory();
    const heap = new Heap(memory, BASE);
    const a = heap.alloc(2 * GiB); // (n + 15) & ~15 made this -2^31
    const b = heap.alloc(GiB + 1);
    const c = heap.alloc(16);
    expect(a).toBe(BASE);
    expect(b).toBe(a + 2 * GiB);
    expect(c).toBe(b + GiB + 16);
    expect(heap.liveBytes).toBe(2 * GiB + GiB + 16 + 16);
    expect(memory.bytes).toBeGreaterThanOrEqual(c + 16);
    expect(memory.bytes % PAGE).toBe(0);
  });

  it('a 4 GiB request (alloc(2**30) of float32) is refused, not rounded to 0 and aliased', () => {
    const memory = new CountingMemory();
    const heap = new Heap(memory, BASE);
    const error = thrown(() => heap.alloc(4 * GiB, "alloc(1073741824, 'float32')"));
    expect(error.code).toBe('INVALID_SHAPE');
    expect(error.message).toMatch(/alloc\(1073741824, 'float32'\)/);
    expect(error.message).toMatch(/4 GiB \(4294967296 bytes\)/);
    expect(memory.grows).toEqual([]); // refused before growing
    const next = heap.alloc(64);
    expect(next).toBe(BASE); // nothing was handed out
    expect(heap.alloc(64)).toBe(next + 64);
  });

  it('a block that would end past 4 GiB is refused without growing, and freed space is reused', () => {
    const memory = new CountingMemory();
    const heap = new Heap(memory, BASE);
    const a = heap.alloc(3 * GiB);
    const grown = memory.bytes;
    expect(thrown(() => heap.alloc(1.5 * GiB)).code).toBe('INVALID_SHAPE');
    expect(memory.bytes).toBe(grown);
    heap.release(a);
    expect(heap.alloc(1.5 * GiB)).toBe(a); // the freed block, first fit
    expect(heap.alloc(1.5 * GiB)).toBe(a + 1.5 * GiB); // the rest of it
    expect(memory.bytes).toBe(grown);
  });

  it('frees and merges blocks above 2 GiB', () => {
    const heap = new Heap(new CountingMemory(), BASE);
    const blocks = [heap.alloc(GiB), heap.alloc(GiB), heap.alloc(GiB), heap.alloc(16)];
    expect(blocks[3]).toBeGreaterThan(2 ** 31 + GiB);
    heap.release(blocks[2]);
    heap.release(blocks[1]);
    expect(heap.alloc(2 * GiB)).toBe(blocks[1]); // the two neighbours merged
    expect(heap.liveBytes).toBe(3 * GiB + 16);
  });

  it('a runtime that refuses to grow gives SoftmaxError INVALID_SHAPE and leaves the heap as it was', () => {
    const memory = new CountingMemory(GiB); // e.g. a browser capping wasm memory at 1 GiB
    const heap = new Heap(memory, BASE);
    const small = heap.alloc(100);
    const error = thrown(() => heap.alloc(GiB, 'a row of 268435456 float32 elements'));
    expect(error.code).toBe('INVALID_SHAPE');
    expect(error.message).toMatch(/a row of 268435456 float32 elements/);
    expect(error.cause).toBeInstanceOf(RangeError);
    expect(heap.alloc(16)).toBe(small + 112); // the top did not move
    expect(heap.liveBytes).toBe(112 + 16);
  });
});

describe('Heap.holds: which bytes belong to live user blocks', () => {
  it('answers for exact, interior and straddling ranges, and forgets released blocks', () => {
    const heap = new Heap(new CountingMemory(), BASE);
    const internal = heap.alloc(1000); // like the scratch block: never the user's
    const a = heap.allocUser(100);
    const b = heap.allocUser(64);
    const c = heap.allocUser(0);
    expect(heap.holds(internal, 16)).toBe(false);
    expect(heap.holds(a, 100)).toBe(true);
    expect(heap.holds(a, 101)).toBe(false); // the rounding to 16 bytes is not the user's to write
    expect(heap.holds(a + 40, 60)).toBe(true);
    expect(heap.holds(a + 40, 61)).toBe(false);
    expect(heap.holds(a - 4, 8)).toBe(false);
    expect(heap.holds(b + 60, 4)).toBe(true);
    expect(heap.holds(b + 60, 8)).toBe(false); // runs into c's block
    expect(heap.holds(c, 0)).toBe(true);
    expect(heap.holds(c, 4)).toBe(false);
    heap.release(a);
    expect(heap.holds(a, 100)).toBe(false);
    expect(heap.holds(a + 40, 4)).toBe(false);
    expect(heap.holds(b, 64)).toBe(true);
    // The freed memory reused for an internal block stays refused.
    expect(heap.alloc(100)).toBe(a);
    expect(heap.holds(a, 4)).toBe(false);
  });
});

describe('Heap.view: the memory as each element type', () => {
  it('float and integer views alias the same bytes, and are re-created when memory grows', () => {
    const heap = new Heap(new WebAssembly.Memory({ initial: 2 }), BASE);
    const at = heap.alloc(16);
    heap.view('int32')[at / 4] = -1;
    expect(heap.view('uint32')[at / 4]).toBe(2 ** 32 - 1);
    expect(Number.isNaN(heap.view('float32')[at / 4])).toBe(true); // 0xffffffff is a NaN
    heap.view('float64')[at / 8 + 1] = 1;
    expect(heap.view('uint32')[at / 4 + 3]).toBe(0x3ff00000); // the high word of 1.0
    const before = { int32: heap.view('int32'), uint32: heap.view('uint32') };
    heap.alloc(4 * PAGE); // grows: every old view is detached
    for (const type of ['int32', 'uint32'] as const) {
      expect(before[type].length).toBe(0);
      const after = heap.view(type);
      expect(after).toBeInstanceOf(type === 'int32' ? Int32Array : Uint32Array);
      expect(after.byteLength).toBe(heap.byteLength);
      expect(after[at / 4]).toBe(type === 'int32' ? -1 : 2 ** 32 - 1);
    }
  });
});
