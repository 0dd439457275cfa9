import { SoftmaxError } from '@softmax/core';

/**
 * Reuses GPU buffers between calls. Sizes are rounded up to a power of two (to 1 MiB steps past
 * 64 MiB) so different shapes share buffers; a few idle buffers are kept per size and usage and
 * the rest destroyed, so the number of live buffers stays bounded however many calls run.
 */
export class BufferPool {
  private readonly idle = new Map<string, GPUBuffer[]>();
  private idleBytes = 0;
  /** Set by destroyAll (dispose): buffers of calls still in flight are then destroyed on release. */
  private closed = false;

  constructor(
    private readonly device: GPUDevice,
    private readonly keepPerKey = 4,
    private readonly keepBytes = 256 * 2 ** 20,
  ) {}

  static bucket(size: number): number {
    const MiB = 2 ** 20;
    if (size > 64 * MiB) return Math.ceil(size / MiB) * MiB;
    return Math.max(256, 2 ** Math.ceil(Math.log2(size)));
  }

  acquire(size: number, usage: number): GPUBuffer {
    if (this.closed) throw new SoftmaxError('BACKEND_UNAVAILABLE', 'the WebGPU backend was disposed');
    const bytes = BufferPool.bucket(size);
    const list = this.idle.get(`${usage}:${bytes}`);
    const reused = list?.pop();
    if (reused) {
      this.idleBytes -= bytes;
      return reused;
    }
    return this.device.createBuffer({ size: bytes, usage });
  }

  release(buffer: GPUBuffer): void {
    if (this.closed) {
      buffer.destroy();
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.idle.get(key);
    if (!list) {
      list = [];
      this.idle.set(key, list);
    }
    if (list.length >= this.keepPerKey || this.idleBytes + buffer.size > this.keepBytes) {
      buffer.destroy();
      return;
    }
    list.push(buffer);
    this.idleBytes += buffer.size;
  }

  /** Destroys the idle buffers and every buffer released from now on. */
  destroyAll(): void {
    this.closed = true;
    for (const list of this.idle.values()) for (const b of list) b.destroy();
    this.idle.clear();
    this.idleBytes = 0;
  }
}
