import type { Op } from '@softmax/bench-scenarios';
import type { WasmBackend, WasmBuffer } from '@softmax/wasm';
import wasmPackage from '@softmax/wasm/package.json';
import type { Candidate, FloatArray, Prepared, Problem } from '../candidate.js';
import { backendLoaded } from './backend-candidate.js';

type Call = (b: WasmBackend, inputs: WasmBuffer[], out: WasmBuffer, cols: number) => void;

const calls: Record<Op, Call> = {
  softmax: (b, [x], out, cols) => b.softmaxBuffer(x, { cols, out }),
  logSoftmax: (b, [x], out, cols) => b.logSoftmaxBuffer(x, { cols, out }),
  softmaxBackward: (b, [y, dy], out, cols) => b.softmaxBackwardBuffer(y, dy, { cols, out }),
  logSoftmaxBackward: (b, [y, dy], out, cols) => b.logSoftmaxBackwardBuffer(y, dy, { cols, out }),
};

/** kernel: the zero-copy API: inputs and output already in the kernel's linear memory. */
function kernelPrepared(backend: WasmBackend, p: Problem): Prepared {
  const inputs = p.inputs.map((a) => {
    const buffer = backend.alloc(a.length, p.dtype);
    buffer.view().set(a);
    return buffer;
  });
  const out = backend.alloc(p.x.length, p.dtype);
  const call = calls[p.op];
  return {
    async: false,
    run: () => call(backend, inputs, out, p.cols),
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
          ops: ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'],
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
