import type { Op } from '@softmax/bench-scenarios';
import { OPS } from '@softmax/core/backend';
import type { createGpuTimer, EncodeShape, WebGPUBackend } from '@softmax/webgpu';
import webgpuPackage from '@softmax/webgpu/package.json';
import type { Candidate, Prepared, Problem } from '../candidate.js';
import { backendLoaded } from './backend-candidate.js';

const STORAGE = 0x80; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

/**
 * kernel: inputs already in GPU buffers; one command encoder per call with the op's encode(),
 * submitted, until the queue is idle. No upload, no readback: what a GPU pipeline pays.
 */
async function kernelPrepared(backend: WebGPUBackend, p: Problem, makeTimer: typeof createGpuTimer): Promise<Prepared> {
  const { device } = backend;
  const upload = (data: Float32Array) => {
    const buffer = device.createBuffer({ size: data.byteLength, usage: STORAGE | COPY_DST | COPY_SRC });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
  };
  const inputs = p.inputs.map((a) => upload(a as Float32Array));
  // The op's one output, sized by its declaration: rows × cols values, or one per row (logSumExp).
  const bytes = (OPS[p.op].outputs[0].shape === 'matrix' ? p.rows * p.cols : p.rows) * 4;
  const out = device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC });
  const buffers = { inputs, outputs: [out] };
  const shape = { rows: p.rows, cols: p.cols };
  const encode = (encoder: GPUCommandEncoder, s: EncodeShape) => backend.encode(p.op, encoder, buffers, s);
  await backend.prepare([shape], [p.op]);
  // GPU time: timestamps written at the beginning and end of the op's compute pass.
  const timer = makeTimer(device);
  const timed = timer && { ...shape, timestampWrites: timer.timestampWrites };
  return {
    async: true,
    async run() {
      const encoder = device.createCommandEncoder();
      encode(encoder, shape);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    async gpuTime() {
      if (!timer || !timed) return undefined;
      const encoder = device.createCommandEncoder();
      encode(encoder, timed);
      timer.resolve(encoder);
      device.queue.submit([encoder.finish()]);
      return timer.read();
    },
    async output() {
      const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(out, 0, staging, 0, bytes);
      device.queue.submit([encoder.finish()]);
      await staging.mapAsync(MAP_READ);
      const result = new Float32Array(staging.getMappedRange().slice(0));
      staging.destroy();
      return result;
    },
    dispose() {
      for (const b of [...inputs, out]) b.destroy();
      timer?.destroy();
    },
  };
}

export const webgpu: Candidate = {
  id: 'webgpu',
  label: '@softmax/webgpu',
  kind: 'ours',
  description:
    'WGSL compute shaders; user: array in → array out (upload, run, readback); kernel: encode(op) on GPU-resident buffers (GPU time: timestamps around its compute pass)',
  async load(ctx) {
    if (!ctx.gpu) throw new Error(ctx.gpuReason ?? 'no WebGPU adapter');
    const { createWebGPUBackend, createGpuTimer } = await import('@softmax/webgpu');
    const backend = await createWebGPUBackend({ gpu: ctx.gpu });
    const info = backend.adapterInfo;
    return backendLoaded(backend, webgpuPackage.version, {
      isAsync: true,
      details: {
        adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unknown',
        'GPU time': backend.device.features.has('timestamp-query') ? 'timestamp-query' : 'unavailable',
      },
      kernel: {
        // encode() records every op the backend implements.
        ops: Object.keys(backend.ops) as Op[],
        prepare: (p) => kernelPrepared(backend, p, createGpuTimer),
      },
    });
  },
};
