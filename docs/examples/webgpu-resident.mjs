// The GPU-resident WebGPU API: record ops into your own command encoder over your own buffers,
// so a pipeline never leaves the GPU. (In Node, WebGPU comes from Dawn, the optional `webgpu` peer.)
import assert from 'node:assert/strict';
import { softmax } from '@softmax/core';
import { createWebGPUBackend } from '@softmax/webgpu';
import { globals } from 'webgpu';

Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ... as in a browser

// Rejects with SoftmaxError BACKEND_UNAVAILABLE and the reason when there is no usable adapter.
const backend = await createWebGPUBackend();
const { device } = backend; // create your buffers and encoders on the backend's device

const rows = 2;
const cols = 256;
const logits = new Float32Array(rows * cols).map((_, i) => Math.sin(i) * 4);
const bytes = logits.byteLength;

const input = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
const output = device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
const readback = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(input, 0, logits);

const encoder = device.createCommandEncoder();
backend.encodeSoftmax(encoder, input, output, { rows, cols, temperature: 0.8 }); // one compute pass
encoder.copyBufferToBuffer(output, 0, readback, 0, bytes); // your own work, in the same encoder
device.queue.submit([encoder.finish()]);

await readback.mapAsync(GPUMapMode.READ);
const y = new Float32Array(readback.getMappedRange().slice(0));
readback.unmap();

const ref = softmax(Float64Array.from(logits), { cols, temperature: 0.8 });
for (let i = 0; i < y.length; i++) assert.ok(Math.abs(y[i] - ref[i]) <= 2e-6 * ref[i] + 2 ** -126);
console.log(
  `softmax of ${rows} × ${cols} on ${backend.name}, first row sums to`,
  y.subarray(0, cols).reduce((a, b) => a + b),
);

// The buffers are yours: destroy them; dispose() frees the backend's own resources.
for (const b of [input, output, readback]) b.destroy();
await backend.dispose();
