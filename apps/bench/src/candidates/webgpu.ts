import type { Op } from '@softmax/bench-scenarios';
import type { createGpuTimer, EncodeShape, WebGPUBackend } from '@softmax/webgpu';
import webgpuPackage from '@softmax/webgpu/package.json';
import type { Candidate, Prepared, Problem } from '../candidate.js';
import { backendLoaded } from './backend-candidate.js';

const STORAGE = 0x80; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

type Encode = (b: WebGPUBackend, e: GPUCommandEncoder, inputs: GPUBuffer[], out: GPUBuffer, shape: EncodeShape) => void;

const encoders: Record<Op, Encode> = {
  softmax: (b, e, [x], out, s) => b.encodeSoftmax(e, x, out, s),
  logSoftmax: (b, e, [x], out, s) => b.encodeLogSoftmax(e, x, out, s),
  softmaxBackward: (b, e, [y, dy], out, s) => b.encodeSoftmaxBackward(e, y, dy, out, s),
  logSoftmaxBackward: (b, e, [y, dy], out, s) => b.encodeLogSoftmaxBackward(e, y, dy, out, s),
};

/**
 * kernel: inputs already in GPU buffers; one command encoder per call with the encode*() of the
 * op, submitted, until the queue is idle. No upload, no readback: what a GPU pipeline pays.
 */
async function kernelPrepared(backend: WebGPUBackend, p: Problem, makeTimer: typeof createGpuTimer): Promise<Prepared> {
  const { device } = backend;
  const bytes = p.x.byteLength;
  const upload = (data: Float32Array) => {
    const buffer = device.createBuffer({ size: bytes, usage: STORAGE | COPY_DST | COPY_SRC });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
  };
  const inputs = p.inputs.map((a) => upload(a as Float32Array));
  const out = device.createBuffer({ size: bytes, usage: STORAGE | COPY_SRC });
  const shape = { rows: p.rows, cols: p.cols };
  const encode = encoders[p.op];
  await backend.prepare([shape], [p.op]);
  // GPU time: timestamps written at the beginning and end of the op's compute pass.
  const timer = makeTimer(device);
  const timed = timer && { ...shape, timestampWrites: timer.timestampWrites };
  return {
    async: true,
    async run() {
      const encoder = device.createCommandEncoder();
      encode(backend, encoder, inputs, out, shape);
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
    },
    async gpuTime() {
      if (!timer || !timed) return undefined;
      const encoder = device.createCommandEncoder();
      encode(backend, encoder, inputs, out, timed);
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
    'WGSL compute shaders; user: array in → array out (upload, run, readback); kernel: encodeSoftmax on GPU-resident buffers (GPU time: timestamps around its compute pass)',
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
        ops: ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'],
        prepare: (p) => kernelPrepared(backend, p, createGpuTimer),
      },
    });
  },
};
