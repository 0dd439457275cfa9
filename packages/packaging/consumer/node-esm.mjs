import * as auto from '@softmax/auto';
import * as core from '@softmax/core';
import * as wasm from '@softmax/wasm';
import * as webgpu from '@softmax/webgpu';
import { run } from './run.js';

const { x, cols } = JSON.parse(process.argv[2]);
const out = await run({ core, wasm, webgpu, auto }, x, cols);
process.stdout.write(`${JSON.stringify(out)}\n`);
