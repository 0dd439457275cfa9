import type { Candidate } from '../candidate.js';
import { type OrtLike, ortLoaded } from './ort-common.js';

export const ortWeb: Candidate = {
  id: 'ort-web',
  label: 'onnxruntime-web wasm',
  kind: 'peer',
  description: 'onnxruntime-web, wasm execution provider (SIMD, one thread), one-node Softmax(axis=-1) model',
  async load(ctx) {
    const ort = (await import('onnxruntime-web')) as unknown as OrtLike & {
      env: {
        wasm: { numThreads: number; wasmPaths?: unknown; proxy: boolean };
        logLevel: string;
        versions?: { web?: string };
      };
    };
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    if (ctx.ortWasmPaths) ort.env.wasm.wasmPaths = ctx.ortWasmPaths;
    return ortLoaded(
      ort,
      ort.env.versions?.web ?? 'unknown',
      { executionProviders: ['wasm'], graphOptimizationLevel: 'all' },
      { threads: '1' },
    );
  },
};
