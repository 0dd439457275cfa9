// The entry of the webpack and esbuild Node bundles: the packages are bundled, `webgpu` (Dawn, a
// native addon) stays external as a native package must.
import * as auto from '@softmax/auto';
import * as core from '@softmax/core';
import * as wasm from '@softmax/wasm';
import * as webgpu from '@softmax/webgpu';
import { run } from './run.js';

const { x, cols } = JSON.parse(process.argv[2]);
run({ core, wasm, webgpu, auto }, x, cols).then((out) => {
  process.stdout.write(`${JSON.stringify(out)}\n`);
});
