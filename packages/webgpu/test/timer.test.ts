import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findGPU } from '../src/device.js';
import { createGpuTimer, type WebGPUBackend } from '../src/index.js';
import { random } from './compare.js';
import { COPY_DST, gpuBackend, STORAGE } from './gpu.js';

describe('createGpuTimer', () => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend();
  });
  afterAll(() => backend?.dispose());

  it('is requested by createWebGPUBackend when the adapter has timestamp-query (SwiftShader and lavapipe do)', () => {
    expect(backend.device.features.has('timestamp-query')).toBe(true);
  });

  it('times an encoded pass: within the wall time of the submit, longer for a larger input', async () => {
    const { device } = backend;
    const timer = createGpuTimer(device)!;
    const measure = async (rows: number, cols: number) => {
      const x = random(rows * cols, 20, rows + cols);
      const input = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_DST });
      device.queue.writeBuffer(input, 0, x.buffer as ArrayBuffer, x.byteOffset, x.byteLength);
      const output = device.createBuffer({ size: x.byteLength, usage: STORAGE });
      await backend.prepare([{ rows, cols }], ['softmax']);
      const times: Array<{ gpu: number; wall: number }> = [];
      for (let i = 0; i < 5; i++) {
        await device.queue.onSubmittedWorkDone();
        const encoder = device.createCommandEncoder();
        backend.encodeSoftmax(encoder, input, output, { rows, cols, timestampWrites: timer.timestampWrites });
        timer.resolve(encoder);
        const t0 = performance.now();
        device.queue.submit([encoder.finish()]);
        await device.queue.onSubmittedWorkDone();
        const wall = (performance.now() - t0) * 1e6;
        times.push({ gpu: await timer.read(), wall });
      }
      input.destroy();
      output.destroy();
      for (const t of times) {
        // ≥ 0, not > 0: SwiftShader's timestamps can read equal around a pass of a few microseconds.
        expect(t.gpu).toBeGreaterThanOrEqual(0);
        expect(t.gpu).toBeLessThanOrEqual(t.wall);
      }
      return Math.min(...times.map((t) => t.gpu));
    };
    const small = await measure(1, 1000);
    const large = await measure(4, 500_000); // milliseconds of work on a software driver
    expect(large).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small);
    await expect(timer.read()).rejects.toThrow(/nothing to read/);
    timer.destroy();
  });

  it('is undefined on a device without timestamp-query', async () => {
    const adapter = await (await findGPU({})).requestAdapter();
    const device = await adapter!.requestDevice();
    expect(device.features.has('timestamp-query')).toBe(false);
    expect(createGpuTimer(device)).toBeUndefined();
    device.destroy();
  });
});
