import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describeSoak } from '@softmax/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { findGPU } from '../src/device.js';
import { createWebGPUBackend } from '../src/index.js';
import { countLiveBuffers } from './gpu.js';

// Regression tests for per-call leaks: racing every call against one never-settling promise
// (the device-lost signal) left a reaction on it per call, about 315 bytes, without bound.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * The heap after gc(): the least of three readings a turn of the event loop apart, since what the
 * test runner has in flight at one reading (its messages to the main process) is gone at the next.
 */
async function heapAfterGC(): Promise<number> {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    await new Promise(setImmediate);
    gc();
    gc(); // a second pass collects what the first one's finalizers released
    least = Math.min(least, process.memoryUsage().heapUsed);
  }
  return least;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return num / den;
}

/**
 * Runs `calls` calls in batches of `batch` concurrent ones, after `warmup` calls (pipelines, pools and
 * caches filled), and samples the heap after gc() and `resources()` between batches.
 */
async function soak(
  call: () => Promise<unknown>,
  options: { calls: number; warmup: number; batch: number; samples: number; resources?: () => number },
) {
  const { calls, warmup, batch, samples } = options;
  for (let i = 0; i < warmup; i += batch) await Promise.all(Array.from({ length: batch }, call));
  const at: number[] = [];
  const heap: number[] = [];
  const resources: number[] = [];
  const every = Math.ceil(calls / samples / batch) * batch;
  for (let done = 0; done <= calls; done += batch) {
    if (done % every === 0) {
      at.push(done);
      heap.push(await heapAfterGC());
      if (options.resources) resources.push(options.resources());
    }
    if (done < calls) await Promise.all(Array.from({ length: batch }, call));
  }
  return { bytesPerCall: slope(at, heap), first: heap[0], last: heap[heap.length - 1], resources };
}

// The leak was 315 bytes per call, 31 MB over 100,000 calls. Without it, heap samples after gc()
// in a vitest worker still wander by about ±0.5 MB (the runner's own buffers), which gave fitted
// slopes within ±9 bytes per call; a plain Node process stays within 0.05 MB over 800,000 calls.
// 32 bytes per call is 10 times below the leak and well above that noise.
const MAX_BYTES_PER_CALL = 32;

// 100,000 mixed array calls (every op, out and in place, bad input among them) through the shared
// soak of @softmax/conformance: the heap after gc() and the device's live GPU buffers must not grow.
let device: GPUDevice | undefined;
let buffers: { readonly live: number } | undefined;
describeSoak(
  'webgpu (Dawn, SwiftShader)',
  async () => {
    const adapter = await (await findGPU({})).requestAdapter();
    if (!adapter) throw new Error('no Dawn adapter (SwiftShader): see test/gpu.ts');
    device = await adapter.requestDevice();
    buffers = countLiveBuffers(device);
    return createWebGPUBackend({ device });
  },
  { resources: () => buffers?.live ?? 0, timeout: 900_000 },
);
afterAll(() => device?.destroy());

describe('soak: no per-call growth', () => {
  it('keeps the heap flat over 100,000 prepare() calls', { timeout: 300_000 }, async () => {
    const backend = await createWebGPUBackend();
    try {
      const shapes = [{ rows: 1, cols: 10 }];
      const r = await soak(() => backend.prepare(shapes, ['softmax']), {
        calls: 100_000,
        warmup: 2_000,
        batch: 8,
        samples: 20,
      });
      console.log(`prepare(): ${r.bytesPerCall.toFixed(2)} bytes per call`);
      expect(r.bytesPerCall).toBeLessThan(MAX_BYTES_PER_CALL);
    } finally {
      backend.dispose();
    }
  });
});
