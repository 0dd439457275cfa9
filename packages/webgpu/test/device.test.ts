import { SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { create } from 'webgpu';
import { findGPU } from '../src/device.js';
import { createWebGPUBackend } from '../src/index.js';
import { mismatch, random, reference } from './compare.js';
import { countLiveBuffers, gpuBackend } from './gpu.js';

// The process's Dawn instance, as the backends get it, and one on Dawn's null backend (kept
// referenced for the whole file: a collected instance takes its adapters down).
const dawn = await findGPU({});
const dawnNull = create(['backend=null']);

describe('device acquisition', () => {
  it("refuses Dawn's null backend, which executes nothing", async () => {
    const error = await createWebGPUBackend({ gpu: dawnNull }).catch((e) => e);
    expect(error).toBeInstanceOf(SoftmaxError);
    expect(error.code).toBe('BACKEND_UNAVAILABLE');
    expect(error.message).toMatch(/null backend/);
  });

  it('rejects with BACKEND_UNAVAILABLE and the reason when there is no adapter', async () => {
    const gpu = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createWebGPUBackend({ gpu })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/returned null/),
    });
  });

  it('shares one Dawn instance between the backends of a process', async () => {
    expect(await findGPU({})).toBe(dawn);
    expect(await findGPU({ gpu: dawnNull })).toBe(dawnNull); // a given GPU object is used as it is
  });

  it('names a missing limit', async () => {
    const real = await dawn.requestAdapter();
    expect(real).not.toBeNull();
    const adapter = new Proxy(real!, {
      get: (target, key) =>
        key === 'limits'
          ? {
              ...Object.fromEntries(Object.keys(REQUIRED).map((k) => [k, 1 << 20])),
              maxComputeInvocationsPerWorkgroup: 32,
            }
          : Reflect.get(target, key, target),
    });
    const gpu = { requestAdapter: async () => adapter } as unknown as GPU;
    await expect(createWebGPUBackend({ gpu })).rejects.toMatchObject({
      code: 'BACKEND_UNAVAILABLE',
      message: expect.stringMatching(/maxComputeInvocationsPerWorkgroup/),
    });
  });
});

describe('device limits', () => {
  it("rejects an input larger than the device's maxBufferSize with INVALID_SHAPE, naming the limit", async () => {
    // No required limits: the device gets WebGPU's default maxBufferSize, 256 MiB.
    const device = await (await dawn.requestAdapter())!.requestDevice();
    const backend = await createWebGPUBackend({ device });
    try {
      const limit = device.limits.maxBufferSize;
      const cols = 1024;
      const rows = Math.floor(limit / 4 / cols) + 1; // one row past the limit (lazily zeroed memory)
      await expect(backend.softmax(new Float32Array(rows * cols), { cols })).rejects.toMatchObject({
        code: 'INVALID_SHAPE',
        message: expect.stringContaining(`maxBufferSize ${limit} bytes`),
      });
      // The backend is still usable for inputs that fit.
      const x = random(2 * cols, 5, 3);
      expect(mismatch(await backend.softmax(x, { cols }), reference.softmax(x, { cols }))).toBeUndefined();
    } finally {
      backend.dispose();
      device.destroy();
    }
  });
});

const REQUIRED = {
  maxComputeInvocationsPerWorkgroup: 0,
  maxComputeWorkgroupSizeX: 0,
  maxStorageBuffersPerShaderStage: 0,
  maxComputeWorkgroupStorageSize: 0,
  maxComputeWorkgroupsPerDimension: 0,
  maxStorageBufferBindingSize: 0,
};

describe('device lifetime', () => {
  it('rejects calls in flight with DEVICE_LOST when the device is destroyed, then recovers on a new device', async () => {
    const backend = await gpuBackend();
    try {
      const x = random(4 * 16, 5, 2);
      const expected = reference.softmax(x, { cols: 16 });
      await backend.softmax(x, { cols: 16 }); // compiled and warm
      const first = backend.device;
      // Compiled pipelines: each call submits before it returns, so all 20 are in flight here.
      const inFlight = Array.from({ length: 20 }, () => backend.softmax(x, { cols: 16 }));
      first.destroy();
      const settled = await Promise.allSettled(inFlight);
      const rejected = settled.filter((s) => s.status === 'rejected');
      expect(rejected.length).toBeGreaterThan(0);
      for (const r of rejected) expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'DEVICE_LOST' });
      for (const s of settled) if (s.status === 'fulfilled') expect(mismatch(s.value, expected)).toBeUndefined();
      const after = await backend.softmax(x, { cols: 16 });
      expect(backend.device).not.toBe(first);
      expect(mismatch(after, expected)).toBeUndefined();
    } finally {
      backend.dispose();
    }
  });

  it('returns correct results for 1,000 concurrent calls of mixed shapes', async () => {
    const backend = await gpuBackend();
    try {
      const shapes = [
        [1, 7],
        [3, 8],
        [2, 64],
        [5, 300],
      ];
      const calls = Array.from({ length: 1000 }, (_, i) => {
        const [rows, cols] = shapes[i % shapes.length];
        const op = i % 3 === 0 ? 'logSoftmax' : 'softmax';
        const x = random(rows * cols, 20, i);
        return { op, x, cols, run: backend[op](x, { cols }) } as const;
      });
      const results = await Promise.all(calls.map((c) => c.run));
      calls.forEach((c, i) => {
        expect(mismatch(results[i], reference[c.op](c.x, { cols: c.cols })), `call ${i}`).toBeUndefined();
      });
    } finally {
      backend.dispose();
    }
  });

  it('keeps the number of live GPU buffers bounded over 10,000 calls', async () => {
    const adapter = await dawn.requestAdapter();
    const device = await adapter!.requestDevice();
    const buffers = countLiveBuffers(device);
    const backend = await createWebGPUBackend({ device });
    const x = random(2 * 8, 5, 1);
    const expected = reference.softmax(x, { cols: 8 });
    let peak = 0;
    for (let batch = 0; batch < 200; batch++) {
      const cols = batch % 2 === 0 ? 8 : 4; // two shapes, two buffer sizes
      const results = await Promise.all(Array.from({ length: 50 }, () => backend.softmax(x, { cols })));
      if (cols === 8) expect(mismatch(results[0], expected)).toBeUndefined();
      peak = Math.max(peak, buffers.live);
    }
    expect(peak).toBeLessThan(250); // 50 calls in flight × 3 buffers + pooled + uniforms
    const beforeDispose = buffers.live;
    backend.dispose();
    expect(buffers.live).toBeLessThan(beforeDispose);
    expect(buffers.live).toBe(0);
    device.destroy();
  });
});
