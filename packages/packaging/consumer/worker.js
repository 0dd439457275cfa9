// A module worker (bundled by esbuild): runs the same paths off the main thread.
import * as auto from '@softmax/auto';
import * as core from '@softmax/core';
import * as wasm from '@softmax/wasm';
import * as webgpu from '@softmax/webgpu';
import { run } from './run.js';

self.onmessage = async (event) => {
  self.postMessage(await run({ core, wasm, webgpu, auto }, event.data.x, event.data.cols));
};
