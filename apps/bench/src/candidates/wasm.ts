import type { Op } from '@softmax/bench-scenarios';
import { OPS } from '@softmax/core/backend';
import type { WasmBackend } from '@softmax/wasm';
import wasmPackage from '@softmax/wasm/package.json';
import type { Candidate, Prepared, Problem } from '../candidate.js';
import { operandLength } from '../inputs.js';
import { backendLoaded } from './backend-candidate.js';

/**
 * kernel: the zero-copy API, any op through `bufferCall`: inputs and output already in the
 * kernel's linear memory, the output sized from the op's declaration in core's op table.
 */
function kernelPrepared(backend: WasmBackend, p: Problem): Prepared {
  const inputs = p.inputs.map((a) => {
    const buffer = backend.alloc(a.length, p.dtype);
    buffer.view().set(a);
    return buffer;
  });
  const out = backend.alloc(operandLength(OPS[p.op].outputs[0].shape, p.rows, p.cols), p.dtype);
  const options = { cols: p.cols, out };
  return {
    async: false,
    run: () => backend.bufferCall(p.op, inputs, options),
    output: async () => out.view().slice(),
    dispose() {
      for (const b of [...inputs, out]) b.free();
    },
  };
}

/** The wasm backend with the given `threads` option (undefined: its default). */
export function wasmCandidate(id: string, label: string, threads: number | undefined, description: string): Candidate {
  return {
    id,
    label,
    kind: 'ours',
    description,
    async load() {
      const { createWasmBackend } = await import('@softmax/wasm');
      const backend = await createWasmBackend(threads === undefined ? {} : { threads });
      return backendLoaded(backend, wasmPackage.version, {
        isAsync: false,
        details: { simd: String(backend.simd), threads: String(backend.threads) },
        kernel: {
          // Every op the backend declares runs zero-copy.
          ops: Object.keys(backend.ops) as Op[],
          prepare: async (p) => kernelPrepared(backend, p),
        },
      });
    },
  };
}

export const wasm = wasmCandidate(
  'wasm',
  '@softmax/wasm',
  undefined,
  'Rust SIMD128 kernel in WebAssembly, default options (in Node: half the cores, rounded up, share calls of 65,536+ elements); user: array in → array out; kernel: the zero-copy WasmBuffer API',
);
