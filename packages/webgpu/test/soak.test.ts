import { describeSoak, describeSoakReport, soakCalls, soakProblems } from '@softmax/conformance';
import { afterAll, describe, expect, it } from 'vitest';
import { findGPU } from '../src/device.js';
import { createWebGPUBackend } from '../src/index.js';
import { countLiveBuffers } from './gpu.js';

// Regression tests for per-call leaks: racing every call against one never-settling promise
// (the device-lost signal) left a reaction on it per call, about 315 bytes, without bound.

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
      const report = await soakCalls(() => backend.prepare(shapes, ['softmax']));
      console.log(`prepare(): ${describeSoakReport(report)}`);
      expect(soakProblems(report), describeSoakReport(report)).toEqual([]);
    } finally {
      backend.dispose();
    }
  });
});
