import { createRequire } from 'node:module';
import path from 'node:path';
import type { Candidate, LoadContext } from './candidate.js';
import { auto } from './candidates/auto.js';
import { copy } from './candidates/copy.js';
import { core } from './candidates/core.js';
import { jsLoop } from './candidates/js-loop.js';
import { jsArgmax, jsSort } from './candidates/js-sort.js';
import { ortNode } from './candidates/ort-node.js';
import { ortWeb } from './candidates/ort-web.js';
import { wasmSoftmaxTopP } from './candidates/softmax-topp.js';
import { tfjsCpu } from './candidates/tfjs-cpu.js';
import { tfjsWasm } from './candidates/tfjs-wasm.js';
import { tfjsWebgpu } from './candidates/tfjs-webgpu.js';
import { coreUnfused, wasmUnfused, webgpuUnfused } from './candidates/unfused.js';
import { wasm } from './candidates/wasm.js';
import { wasmAllCores } from './candidates/wasm-all-cores.js';
import { webgpu } from './candidates/webgpu.js';
import { webgpuReadback } from './candidates/webgpu-readback.js';
import { nodeGpu } from './node-gpu.js';

/** Every candidate the CLI knows, ours first, then the peers, then the floor; then the unfused compositions. */
export const nodeCandidates: Candidate[] = [
  auto,
  core,
  wasm,
  wasmAllCores,
  webgpu,
  jsLoop,
  tfjsCpu,
  tfjsWasm,
  tfjsWebgpu,
  ortWeb,
  ortNode,
  copy,
  // crossEntropy only. Last, so every other candidate keeps its place (and its colour in the charts).
  coreUnfused,
  wasmUnfused,
  webgpuUnfused,
  // sample only: the peers' samplers, one max pass (greedy's floor) and the GPU readback path.
  jsSort,
  wasmSoftmaxTopP,
  jsArgmax,
  webgpuReadback,
];

export async function nodeContext(): Promise<{ context: LoadContext; adapter?: string }> {
  const require = createRequire(import.meta.url);
  const tfjsWasmDir =
    path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep;
  const { gpu, reason, adapter } = await nodeGpu();
  return { context: { env: 'node', gpu, gpuReason: reason, tfjsWasmPaths: tfjsWasmDir }, adapter };
}
