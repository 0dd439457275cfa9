import type { Op } from '@softmax/bench-scenarios';
import { OPS, type OperandArray, resultOf, validateCall } from '@softmax/core/backend';
import type { createGpuTimer, EncodeShape, WebGPUBackend } from '@softmax/webgpu';
import webgpuPackage from '@softmax/webgpu/package.json';
import type { Candidate, Output, Prepared, Problem } from '../candidate.js';
import { operandLength, outputPresence, overwrittenInputs } from '../inputs.js';
import { backendLoaded } from './backend-candidate.js';

const STORAGE = 0x80; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

/**
 * kernel: inputs already in GPU buffers; one command encoder per call with the op's encode(),
 * submitted, until the queue is idle. No upload, no readback: what a GPU pipeline pays. Every
 * output the call computes gets a buffer (float32, or one value per row: logSumExp, crossEntropy's
 * per-row loss); an in-place one is its input's, put back before each call, untimed. The result is
 * formed from the read-back outputs by core (crossEntropy reduces its per-row losses there).
 */
async function kernelPrepared(backend: WebGPUBackend, p: Problem, makeTimer: typeof createGpuTimer): Promise<Prepared> {
  const { device } = backend;
  const decl = OPS[p.op];
  const upload = (data: OperandArray) => {
    const buffer = device.createBuffer({ size: data.byteLength, usage: STORAGE | COPY_DST | COPY_SRC });
    device.queue.writeBuffer(buffer, 0, data as Float32Array<ArrayBuffer>);
    return buffer;
  };
  const inputs = p.inputs.map((a) => upload(a));
  const presence = outputPresence(p.op, p.options);
  // The op's outputs in declaration order, each sized by its declaration (4 bytes a value on the GPU).
  const outputs = decl.outputs.map((o, k) =>
    presence[k] === 'present'
      ? device.createBuffer({ size: operandLength(o.shape, p.rows, p.cols) * 4, usage: STORAGE | COPY_SRC })
      : undefined,
  );
  const written = decl.outputs.map((o, k) =>
    presence[k] === 'in-place' ? inputs[o.inPlaceOf ?? 0] : presence[k] === 'present' ? outputs[k] : undefined,
  );
  const buffers = { inputs, outputs: outputs as GPUBuffer[] };
  const shape = { ...p.options, rows: p.rows, cols: p.cols } as EncodeShape;
  const encode = (encoder: GPUCommandEncoder, s: EncodeShape) => backend.encode(p.op, encoder, buffers, s);
  await backend.prepare([{ rows: p.rows, cols: p.cols }], [p.op]);
  // GPU time: timestamps written at the beginning and end of the op's compute pass.
  const timer = makeTimer(device);
  const timed = timer && { ...shape, timestampWrites: timer.timestampWrites };
  const overwritten = overwrittenInputs(p.op, p.options);
  // 4 bytes a value, as the output's element type: float32, or int32 (sample's tokens).
  const readBack = async (buffer: GPUBuffer, bytes: number, element = 'float') => {
    const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
    const encoder = device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(MAP_READ);
    const data = staging.getMappedRange().slice(0);
    const result = element === 'int32' ? new Int32Array(data) : new Float32Array(data);
    staging.destroy();
    return result;
  };
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
    async output(): Promise<Output> {
      if (decl.outputs.length === 1) {
        return (await readBack(outputs[0]!, operandLength(decl.outputs[0].shape, p.rows, p.cols) * 4)) as Output;
      }
      // The call as core sees it (targets checked, D and the scale derived), its outputs the GPU's.
      const call = validateCall(decl, [...p.inputs, { ...p.options, cols: p.cols }]);
      for (const [k, o] of decl.outputs.entries()) {
        const buffer = written[k];
        if (!buffer) continue;
        const values = await readBack(buffer, operandLength(o.shape, p.rows, p.cols) * 4, o.element);
        call.outputs[k] = o.dtype === 'float64' ? Float64Array.from(values) : values;
      }
      return resultOf(call) as Output;
    },
    ...(overwritten.length > 0
      ? {
          async beforeEach() {
            for (const i of overwritten)
              device.queue.writeBuffer(inputs[i], 0, p.inputs[i] as Float32Array<ArrayBuffer>);
            await device.queue.onSubmittedWorkDone();
          },
        }
      : {}),
    dispose() {
      for (const b of [...inputs, ...outputs]) b?.destroy();
      timer?.destroy();
    },
  };
}

/** A WebGPU backend on the context's GPU, and what the report says of its adapter. */
export async function loadWebgpuBackend(gpu: GPU) {
  const { createWebGPUBackend, createGpuTimer } = await import('@softmax/webgpu');
  const backend = await createWebGPUBackend({ gpu });
  const info = backend.adapterInfo;
  return {
    backend,
    createGpuTimer,
    details: {
      adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unknown',
      'GPU time': backend.device.features.has('timestamp-query') ? 'timestamp-query' : 'unavailable',
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
    const { backend, createGpuTimer, details } = await loadWebgpuBackend(ctx.gpu);
    return backendLoaded(backend, webgpuPackage.version, {
      isAsync: true,
      details,
      kernel: {
        // encode() records every op the backend implements.
        ops: Object.keys(backend.ops) as Op[],
        prepare: (p) => kernelPrepared(backend, p, createGpuTimer),
      },
    });
  },
};
