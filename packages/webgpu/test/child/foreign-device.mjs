// Run by ownership.test.ts in its own process, so that a crash inside Dawn fails that test
// instead of killing the test runner: the GPU-resident API is handed the buffers and encoders
// of other devices (another backend's, and one of a second Dawn instance) and must refuse each
// with a SoftmaxError before Dawn sees it. Prints one JSON line per case.
import { create } from 'webgpu';
// Node's build (package.json's `node` condition), the one that loads Dawn.
import { createWebGPUBackend } from '../../dist/node/index.js';

const STORAGE = 0x80;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const usage = STORAGE | COPY_SRC | COPY_DST;
const size = 4 * 64 * 4;

const backend = await createWebGPUBackend();
const other = await createWebGPUBackend(); // same Dawn instance, another device
// A second Dawn instance, referenced until the process exits: Dawn 0.6.2 aborts the process when
// an instance is garbage-collected while one of its devices or buffers is alive.
const secondDawn = create([]);
const foreignDevice = await (await secondDawn.requestAdapter()).requestDevice();

const own = () => backend.device.createBuffer({ size, usage });
const shape = { rows: 4, cols: 64 };
const cases = {
  "another backend's input": (e) => backend.encodeSoftmax(e, other.device.createBuffer({ size, usage }), own(), shape),
  "another backend's output": (e) =>
    backend.encodeLogSoftmax(e, own(), other.device.createBuffer({ size, usage }), shape),
  "another backend's buffer in place": (e) => {
    const b = other.device.createBuffer({ size, usage });
    backend.encodeSoftmax(e, b, b, shape);
  },
  "another backend's dy": (e) =>
    backend.encodeSoftmaxBackward(e, own(), other.device.createBuffer({ size, usage }), own(), shape),
  "another Dawn instance's input": (e) =>
    backend.encodeSoftmax(e, foreignDevice.createBuffer({ size, usage }), own(), shape),
  "another Dawn instance's buffer in place": (e) => {
    const b = foreignDevice.createBuffer({ size, usage });
    backend.encodeSoftmax(e, b, b, shape);
  },
  "another backend's encoder": () => backend.encodeSoftmax(other.device.createCommandEncoder(), own(), own(), shape),
  "another Dawn instance's encoder": () =>
    backend.encodeSoftmax(foreignDevice.createCommandEncoder(), own(), own(), shape),
};

const device = backend.device;
for (const [name, run] of Object.entries(cases)) {
  const encoder = device.createCommandEncoder();
  device.pushErrorScope('validation');
  let thrown;
  try {
    run(encoder);
  } catch (error) {
    thrown = error;
  }
  device.queue.submit([encoder.finish()]); // nothing was recorded: a valid, empty command buffer
  const gpuError = await device.popErrorScope();
  console.log(
    JSON.stringify({
      name,
      error: thrown?.name,
      code: thrown?.code,
      message: thrown?.message,
      gpuError: gpuError?.message,
    }),
  );
}
// The backend still computes.
const y = await backend.softmax(Float32Array.from([0, Math.log(3)]));
console.log(JSON.stringify({ name: 'after', result: Array.from(y) }));
backend.dispose();
other.dispose();
foreignDevice.destroy();
