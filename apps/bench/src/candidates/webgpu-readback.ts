import type { Backend } from '@softmax/core';
import { createCoreBackend } from '@softmax/core';
import webgpuPackage from '@softmax/webgpu/package.json';
import type { Candidate, Output, Prepared, Problem } from '../candidate.js';
import { argsOf } from './backend-candidate.js';
import { loadWasmBackend } from './wasm.js';
import { loadWebgpuBackend } from './webgpu.js';

const STORAGE = 0x80; // GPUBufferUsage.STORAGE
const COPY_SRC = 0x04;
const COPY_DST = 0x08;
const MAP_READ = 0x01;

/**
 * What a WebGPU app does without a GPU sampler: the logits, on the GPU, read back to the host
 * (rows × cols × 4 bytes, where GPU-resident sampling reads 4 bytes a row), then sampled on the
 * CPU by the project's own CPU sampler (@softmax/wasm's when it declares sample, otherwise
 * @softmax/core's), with the call's seed. user: uploaded first (as `webgpu`'s user mode uploads
 * them); kernel: already resident (as `webgpu`'s kernel mode has them). Same adapter as `webgpu`.
 */
export const webgpuReadback: Candidate = {
  id: 'webgpu-readback',
  label: 'WebGPU readback + CPU sample',
  kind: 'ours',
  description:
    "logits in a GPU buffer (user: uploaded first; kernel: resident) read back to the host, then sampled on the CPU by @softmax/wasm (or @softmax/core where wasm does not declare sample) with the call's seed",
  async load(ctx) {
    if (!ctx.gpu) throw new Error(ctx.gpuReason ?? 'no WebGPU adapter');
    const { backend: gpu, details } = await loadWebgpuBackend(ctx.gpu);
    let cpu: Backend = createCoreBackend();
    let cpuName = '@softmax/core';
    try {
      const { backend: wasm } = await loadWasmBackend(1);
      if (wasm.ops.sample?.includes('float32')) {
        cpu = wasm;
        cpuName = '@softmax/wasm (1 thread)';
      } else wasm.dispose();
    } catch {}
    const { device } = gpu;
    return {
      version: webgpuPackage.version,
      details: { ...details, 'CPU sampler': cpuName },
      supports: (op, dtype) => op === 'sample' && dtype === 'float32' && cpu.ops.sample?.includes(dtype) === true,
      async prepare(p: Problem): Promise<Prepared> {
        const bytes = p.x.byteLength;
        const logits = device.createBuffer({ size: bytes, usage: STORAGE | COPY_DST | COPY_SRC });
        device.queue.writeBuffer(logits, 0, p.x as Float32Array<ArrayBuffer>);
        const staging = device.createBuffer({ size: bytes, usage: MAP_READ | COPY_DST });
        await device.queue.onSubmittedWorkDone();
        let last: unknown;
        return {
          async: true,
          async run() {
            if (p.mode === 'user') device.queue.writeBuffer(logits, 0, p.x as Float32Array<ArrayBuffer>);
            const encoder = device.createCommandEncoder();
            encoder.copyBufferToBuffer(logits, 0, staging, 0, bytes);
            device.queue.submit([encoder.finish()]);
            await staging.mapAsync(MAP_READ);
            // The host copy a CPU sampler can take (the mapped range is detached at unmap).
            const host = new Float32Array(staging.getMappedRange().slice(0));
            staging.unmap();
            const [, options] = argsOf(p, [host]);
            last = cpu.sample(host, options as never);
          },
          output: async () => (await last) as Output,
          dispose() {
            logits.destroy();
            staging.destroy();
          },
        };
      },
      dispose() {
        gpu.dispose();
        cpu.dispose();
      },
    };
  },
};
