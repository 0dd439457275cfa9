import { SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { findGPU } from '../src/device.js';
import { createGpuTimer, createWebGPUBackend, type WebGPUBackend } from '../src/index.js';
import { mismatch, random, reference } from './compare.js';
import { COPY_DST, COPY_SRC, countLiveBuffers, gpuBackend, readBack, STORAGE, upload } from './gpu.js';

// Regression tests for the lifetime of inputs, buffers and the backend itself.

async function ownDevice(): Promise<GPUDevice> {
  const adapter = await (await findGPU({})).requestAdapter(); // the process's Dawn instance
  if (!adapter) throw new Error('no Dawn adapter (SwiftShader): see test/gpu.ts');
  return adapter.requestDevice();
}

const isBackendUnavailable = (e: unknown) => e instanceof SoftmaxError && e.code === 'BACKEND_UNAVAILABLE';

describe('inputs are captured when the call is made', () => {
  const check = async (backend: WebGPUBackend, label: string) => {
    const x = Float32Array.from([1, 2, 3, 4, -1, 0.5, 7, 2]);
    const y = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0.25, 0.25, 0.25, 0.25]);
    const dy = Float32Array.from([1, -2, 0.5, 3, 2, 1, 0, -1]);
    const expected = {
      softmax: reference.softmax(x.slice(), { cols: 4 }),
      logSoftmax: reference.logSoftmax(x.slice(), { cols: 4, temperature: 2 }),
      softmaxBackward: reference.softmaxBackward(y.slice(), dy.slice(), { cols: 4 }),
      logSoftmaxBackward: reference.logSoftmaxBackward(y.slice(), dy.slice(), { cols: 4 }),
    };
    const pending = {
      softmax: backend.softmax(x, { cols: 4 }),
      logSoftmax: backend.logSoftmax(x, { cols: 4, temperature: 2 }),
      softmaxBackward: backend.softmaxBackward(y, dy, { cols: 4 }),
      logSoftmaxBackward: backend.logSoftmaxBackward(y, dy, { cols: 4 }),
    };
    // The caller reuses its arrays as soon as the calls return their promises.
    x.fill(0);
    y.fill(0);
    dy.fill(0);
    for (const op of Object.keys(pending) as Array<keyof typeof pending>) {
      expect(mismatch(await pending[op], expected[op], 2e-6, 1e-7), `${label}: ${op}`).toBeUndefined();
    }
  };

  it('computes on the values at call time, whether the pipelines are compiled yet or not', async () => {
    const backend = await gpuBackend();
    try {
      await check(backend, 'first calls (pipelines compiling)');
      await check(backend, 'warm calls');
    } finally {
      backend.dispose();
    }
  });

  it('also while the device is being replaced after a loss', async () => {
    const backend = await gpuBackend();
    try {
      await backend.softmax(new Float32Array(4));
      const first = backend.device;
      first.destroy();
      await first.lost;
      await check(backend, 'after a loss');
      expect(backend.device).not.toBe(first);
    } finally {
      backend.dispose();
    }
  });
});

describe('dispose()', () => {
  it('leaves no GPU buffer alive on a caller-supplied device, even with calls in flight', async () => {
    const device = await ownDevice();
    const buffers = countLiveBuffers(device);
    const backend = await createWebGPUBackend({ device });
    const x = random(2 * 8, 5, 1);
    await backend.softmax(x, { cols: 8 }); // compiled, with pooled buffers and a uniform block
    const calls = [
      ...Array.from({ length: 8 }, () => ({ op: 'softmax' as const, cols: 8, temperature: 1 })), // submitted at once
      ...Array.from({ length: 4 }, (_, i) => ({ op: 'logSoftmax' as const, cols: 4, temperature: 1 + i })), // compiling
      { op: 'softmax' as const, cols: 16, temperature: 0.5 },
    ].map((c) => ({ ...c, run: backend[c.op](x, { cols: c.cols, temperature: c.temperature }) }));
    backend.dispose();
    const settled = await Promise.allSettled(calls.map((c) => c.run));
    settled.forEach((s, i) => {
      const { op, cols, temperature } = calls[i];
      if (s.status === 'rejected') expect(isBackendUnavailable(s.reason), `call ${i}: ${s.reason}`).toBe(true);
      else expect(mismatch(s.value, reference[op](x, { cols, temperature })), `call ${i}`).toBeUndefined();
    });
    // Both kinds of calls in flight were there: submitted ones finish, compiling ones stop.
    expect(settled.filter((s) => s.status === 'fulfilled').length).toBeGreaterThan(0);
    expect(settled.filter((s) => s.status === 'rejected').length).toBeGreaterThan(0);
    // Let any stray completion run before counting.
    await device.queue.onSubmittedWorkDone();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(buffers.live).toBe(0);
    device.destroy();
  });

  it('makes every later call fail with BACKEND_UNAVAILABLE, and calls in flight resolve or fail so', async () => {
    const backend = await gpuBackend();
    const x = random(4 * 16, 5, 2);
    await backend.softmax(x, { cols: 16 });
    const device = backend.device;
    const input = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_DST });
    const inFlight = Array.from({ length: 10 }, (_, i) => backend.softmax(x, { cols: 16, temperature: 1 + (i % 3) }));
    backend.dispose(); // destroys the device it created: the calls in flight cannot finish
    for (const s of await Promise.allSettled(inFlight)) {
      expect(s.status).toBe('rejected');
      if (s.status === 'rejected') expect(isBackendUnavailable(s.reason), String(s.reason)).toBe(true);
    }
    for (const call of [
      () => backend.softmax(x),
      () => backend.logSoftmax(x),
      () => backend.softmaxBackward(x, x),
      () => backend.logSoftmaxBackward(x, x),
      () => backend.prepare(),
    ]) {
      await expect(call()).rejects.toSatisfy(isBackendUnavailable);
    }
    expect(() => backend.encodeSoftmax(device.createCommandEncoder(), input, input, { rows: 4, cols: 16 })).toThrow(
      expect.objectContaining({ name: 'SoftmaxError', code: 'BACKEND_UNAVAILABLE' }),
    );
  });
});

describe('GPU-resident API', () => {
  it('keeps a recorded uniform block valid until the caller submits, however many others are cached since', async () => {
    const backend = await gpuBackend();
    try {
      const { device } = backend;
      const rows = 4;
      const cols = 64;
      const x = random(rows * cols, 10, 3);
      const input = upload(device, x);
      const first = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
      const other = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
      const held = device.createCommandEncoder();
      backend.encodeSoftmax(held, input, first, { rows, cols, temperature: 0.75 });
      // More distinct (shape, temperature) uniform blocks than the cache keeps.
      for (let i = 0; i < 1025; i++) {
        const encoder = device.createCommandEncoder();
        backend.encodeSoftmax(encoder, input, other, { rows, cols, temperature: 1 + i / 64 });
        device.queue.submit([encoder.finish()]);
      }
      device.pushErrorScope('validation');
      device.queue.submit([held.finish()]);
      const error = await device.popErrorScope();
      expect(error?.message).toBeUndefined();
      const y = await readBack(device, first, rows * cols);
      expect(mismatch(y, reference.softmax(x, { cols, temperature: 0.75 }))).toBeUndefined();
      for (const b of [input, first, other]) b.destroy();
    } finally {
      backend.dispose();
    }
  });

  it("validates its options with @softmax/core's checkLayout (unknown keys, rows 0)", async () => {
    const backend = await gpuBackend();
    try {
      const { device } = backend;
      const b = device.createBuffer({ size: 4 * 64 * 4, usage: STORAGE | COPY_SRC | COPY_DST });
      const encoder = device.createCommandEncoder();
      const encode = (shape: unknown) => () =>
        backend.encodeSoftmax(encoder, b, b, shape as { rows: number; cols: number });
      expect(encode({ rows: 4, cols: 64, colums: 64 })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/options\.colums/) }),
      );
      expect(encode({ rows: 4, cols: 64, temperature: Number.NaN })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION', message: expect.stringMatching(/options\.temperature/) }),
      );
      expect(encode({ rows: 4, cols: 64, fullyMasked: 'yes' })).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTION' }),
      );
      expect(encode({ rows: 4 })).toThrow(expect.objectContaining({ code: 'INVALID_SHAPE' }));
      expect(encode(undefined)).toThrow(expect.objectContaining({ code: 'INVALID_SHAPE' }));
      expect(encode({ rows: 5, cols: 64 })).toThrow(
        expect.objectContaining({ code: 'INVALID_SHAPE', message: expect.stringMatching(/1024 bytes/) }),
      );
      // Zero rows: nothing to compute, nothing recorded.
      expect(encode({ rows: 0, cols: 64 })).not.toThrow();
      device.pushErrorScope('validation');
      device.queue.submit([encoder.finish()]);
      expect((await device.popErrorScope())?.message).toBeUndefined();
      b.destroy();
    } finally {
      backend.dispose();
    }
  });
});

describe('createGpuTimer', () => {
  it('reports misuse with SoftmaxError', async () => {
    const backend = await gpuBackend();
    try {
      const timer = createGpuTimer(backend.device);
      expect(timer).toBeDefined();
      await expect(timer!.read()).rejects.toSatisfy(
        (e: unknown) => e instanceof SoftmaxError && e.code === 'INVALID_INPUT' && /nothing to read/.test(e.message),
      );
      timer!.resolve(backend.device.createCommandEncoder());
      expect(() => timer!.resolve(backend.device.createCommandEncoder())).toThrow(
        expect.objectContaining({ name: 'SoftmaxError', code: 'INVALID_INPUT' }),
      );
      timer!.destroy();
    } finally {
      backend.dispose();
    }
  });
});
