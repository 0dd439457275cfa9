// The entry of the browser bundles (Vite, webpack, esbuild): the page's test calls softmaxRun.
import * as auto from '@softmax/auto';
import * as core from '@softmax/core';
import * as wasm from '@softmax/wasm';
import * as webgpu from '@softmax/webgpu';
import { run } from './run.js';

globalThis.softmaxRun = (x, cols) => run({ core, wasm, webgpu, auto }, x, cols);
globalThis.softmaxReady = true;
