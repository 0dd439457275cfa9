import tfjsWasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import tfjsWasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import tfjsWasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { Candidate, LoadContext } from './candidate.js';
import { auto } from './candidates/auto.js';
import { copy } from './candidates/copy.js';
import { core } from './candidates/core.js';
import { jsLoop } from './candidates/js-loop.js';
import { jsArgmax, jsSort } from './candidates/js-sort.js';
import { ortWeb } from './candidates/ort-web.js';
import { wasmSoftmaxTopP } from './candidates/softmax-topp.js';
import { tfjsCpu } from './candidates/tfjs-cpu.js';
import { tfjsWasm } from './candidates/tfjs-wasm.js';
import { tfjsWebgpu } from './candidates/tfjs-webgpu.js';
import { coreUnfused, wasmUnfused, webgpuUnfused } from './candidates/unfused.js';
import { wasm } from './candidates/wasm.js';
import { webgpu } from './candidates/webgpu.js';
import { webgpuReadback } from './candidates/webgpu-readback.js';

/** What the page can run: everything but the Node-only onnxruntime-node. */
export const browserCandidates: Candidate[] = [
  auto,
  core,
  wasm,
  webgpu,
  jsLoop,
  tfjsCpu,
  tfjsWasm,
  tfjsWebgpu,
  ortWeb,
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

export async function browserContext(): Promise<{ context: LoadContext; adapter?: string }> {
  const context: LoadContext = {
    env: 'browser',
    // The bundler renames the binaries: give each library its files by name.
    tfjsWasmPaths: {
      'tfjs-backend-wasm.wasm': tfjsWasmPlain,
      'tfjs-backend-wasm-simd.wasm': tfjsWasmSimd,
      'tfjs-backend-wasm-threaded-simd.wasm': tfjsWasmThreaded,
    },
    // onnxruntime-web's bundle finds its .wasm through new URL(..., import.meta.url), which Vite rewrites.
  };
  if (!navigator.gpu)
    return { context: { ...context, gpuReason: 'navigator.gpu is missing (WebGPU disabled or not a secure context)' } };
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) return { context: { ...context, gpuReason: 'navigator.gpu.requestAdapter() returned null' } };
  const { vendor, architecture, description } = adapter.info;
  return {
    context: { ...context, gpu: navigator.gpu },
    adapter: [vendor, architecture, description].filter(Boolean).join(' / '),
  };
}

export function describeBrowser(adapter: string | undefined): Record<string, unknown> {
  return {
    runtime: navigator.userAgent,
    userAgent: navigator.userAgent,
    cores: navigator.hardwareConcurrency,
    crossOriginIsolated: globalThis.crossOriginIsolated,
    gpu: adapter ?? 'none',
  };
}
