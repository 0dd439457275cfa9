import type { Op } from '@softmax/bench-scenarios';
import { OPS } from '@softmax/core/backend';
import type { BufferDtype, WasmBackend, WasmBuffer } from '@softmax/wasm';
import wasmPackage from '@softmax/wasm/package.json';
import type { Candidate, FloatArray, Output, Prepared, Problem } from '../candidate.js';
import { operandLength, outputPresence, overwrittenInputs } from '../inputs.js';
import { backendLoaded } from './backend-candidate.js';

type BufferCall = (op: Op, inputs: readonly WasmBuffer<BufferDtype>[], options: object) => unknown;

/** The buffers of a kernel-mode call: its inputs (in declaration order) in the kernel's linear memory. */
export function inputBuffers(backend: WasmBackend, p: Problem): WasmBuffer<BufferDtype>[] {
  return p.inputs.map((a, i) => {
    const element = OPS[p.op].inputs[i].element;
    const buffer = backend.alloc(a.length, element === 'float' ? p.dtype : element);
    buffer.view().set(a as never);
    return buffer;
  });
}

/**
 * kernel: the zero-copy API, any op through `bufferCall`: inputs and outputs already in the
 * kernel's linear memory, each output sized from the op's declaration in core's op table. An op of
 * one output writes it to `out`; an op of several (crossEntropy) gets a buffer for each output it
 * computes that has an out option (`gradOut`), and returns the others (its loss) as arrays. An
 * input the call writes over (in place) is put back before each call, untimed.
 */
function kernelPrepared(backend: WasmBackend, p: Problem, isBuffer: (v: unknown) => v is WasmBuffer): Prepared {
  const decl = OPS[p.op];
  const inputs = inputBuffers(backend, p);
  const owned: WasmBuffer<BufferDtype>[] = [...inputs];
  const options: Record<string, unknown> = { ...p.options, cols: p.cols };
  // Each output in its own element type (sample's tokens are int32).
  const alloc = (o: (typeof decl.outputs)[number]) => {
    const type = o.element === 'float' ? ((o.dtype as BufferDtype | undefined) ?? p.dtype) : o.element;
    const b = backend.alloc(operandLength(o.shape, p.rows, p.cols), type as BufferDtype);
    owned.push(b);
    return b;
  };
  let out: WasmBuffer<BufferDtype> | undefined;
  if (decl.outputs.length === 1) {
    out = alloc(decl.outputs[0]);
    options.out = out;
  } else {
    const presence = outputPresence(p.op, p.options);
    decl.outputs.forEach((o, k) => {
      if (presence[k] === 'present' && o.outOption) options[o.outOption] = alloc(o);
    });
  }
  const overwritten = overwrittenInputs(p.op, p.options);
  const call = backend.bufferCall.bind(backend) as BufferCall;
  let last: unknown;
  // A result's buffers that are not ours (an output with no out option): freed once replaced.
  const release = (result: unknown) => {
    if (result === undefined || isBuffer(result)) return;
    for (const v of Object.values(result as object)) if (isBuffer(v) && !owned.includes(v)) v.free();
  };
  const read = (v: unknown): FloatArray => (isBuffer(v) ? (v.view().slice() as FloatArray) : (v as FloatArray));
  return {
    async: false,
    run: out
      ? () => call(p.op, inputs, options)
      : () => {
          release(last);
          last = call(p.op, inputs, options);
        },
    async output(): Promise<Output> {
      if (out) return read(out);
      return Object.fromEntries(Object.entries(last as object).map(([k, v]) => [k, v === undefined ? v : read(v)]));
    },
    ...(overwritten.length > 0
      ? {
          beforeEach() {
            for (const i of overwritten) inputs[i].view().set(p.inputs[i] as never);
          },
        }
      : {}),
    memoryBytes: () => backend.memoryBytes,
    dispose() {
      release(last);
      for (const b of owned) b.free();
    },
  };
}

/** A wasm backend with the given `threads` option (undefined: its default), and how to tell its buffers. */
export async function loadWasmBackend(threads: number | undefined) {
  const { createWasmBackend, WasmBuffer: Buffer } = await import('@softmax/wasm');
  const backend = await createWasmBackend(threads === undefined ? {} : { threads });
  const isBuffer = (v: unknown): v is WasmBuffer => v instanceof Buffer;
  return { backend, isBuffer, details: { simd: String(backend.simd), threads: String(backend.threads) } };
}

/** The wasm backend with the given `threads` option (undefined: its default). */
export function wasmCandidate(id: string, label: string, threads: number | undefined, description: string): Candidate {
  return {
    id,
    label,
    kind: 'ours',
    description,
    async load() {
      const { backend, isBuffer, details } = await loadWasmBackend(threads);
      return backendLoaded(backend, wasmPackage.version, {
        isAsync: false,
        details,
        kernel: {
          // Every op the backend declares runs zero-copy.
          ops: Object.keys(backend.ops) as Op[],
          prepare: async (p) => kernelPrepared(backend, p, isBuffer),
        },
        memoryBytes: () => backend.memoryBytes,
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
