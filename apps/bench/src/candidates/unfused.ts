import type { BenchDtype, Mode, Op } from '@softmax/bench-scenarios';
import { type Backend, createCoreBackend } from '@softmax/core';
import corePackage from '@softmax/core/package.json';
import type { WasmBackend } from '@softmax/wasm';
import wasmPackage from '@softmax/wasm/package.json';
import webgpuPackage from '@softmax/webgpu/package.json';
import {
  arrayOf,
  type Candidate,
  type FloatArray,
  type LoadContext,
  type Loaded,
  type Prepared,
  type Problem,
} from '../candidate.js';
import { sentinelValue } from '../inputs.js';
import { loadWasmBackend } from './wasm.js';
import { loadWebgpuBackend } from './webgpu.js';

/**
 * The project's own crossEntropy without the fused op, on one backend, as code built from the
 * other ops writes it: logSoftmax of the logits (rows × cols), the loss gathered from it on the host
 * (−Σ log p of each kept row's target / D, D = the rows not ignored), a dense one-hot upstream
 * gradient (rows × cols, −1/D at each kept row's target, 0 elsewhere: an ignored row's gradient is
 * then 0), and logSoftmaxBackward of the two (dy − softmax·Σ dy: the gradient). Beside the gradient
 * it writes and reads back two more arrays of the logits' size, which the fused op never makes.
 * It follows the loss + gradient call only ('mean', gradient: true, no weights or smoothing).
 */

const OPTIONS = ['reduction', 'gradient', 'ignoreIndex'];

const follows = (options: Readonly<Record<string, unknown>>): boolean =>
  options.gradient === true &&
  (options.reduction ?? 'mean') === 'mean' &&
  Object.keys(options).every((k) => OPTIONS.includes(k));

/** The host steps of the composition: the gather of the loss and the one-hot upstream gradient. */
function hostSteps(p: Problem) {
  const { rows, cols, dtype } = p;
  const targets = p.inputs[1] as Int32Array;
  const ignored = sentinelValue('crossEntropy', 'ignoreIndex', p.options.ignoreIndex);
  const Loss = dtype === 'float32' ? Float32Array : Float64Array;
  return {
    /** −(1/D)·Σ log p[target] over the kept rows, and 1/D. */
    gather(lp: FloatArray): { loss: FloatArray; scale: number } {
      let sum = 0;
      let kept = 0;
      for (let i = 0; i < rows; i++) {
        const t = targets[i];
        if (t === ignored) continue;
        sum += lp[i * cols + t];
        kept++;
      }
      return { loss: Loss.of(-sum / kept), scale: 1 / kept };
    },
    /** d loss / d log p: −1/D at each kept row's target (dy is all 0 on entry). */
    oneHot(dy: FloatArray, scale: number): FloatArray {
      for (let i = 0; i < rows; i++) if (targets[i] !== ignored) dy[i * cols + targets[i]] = -scale;
      return dy;
    },
    dtype: dtype as BenchDtype,
  };
}

type Maybe<T> = T | Promise<T>;
/** Runs `f` on a value or, for an asynchronous backend, on what its Promise resolves to. */
const then = <T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> => (v instanceof Promise ? v.then(f) : f(v));

/** user: arrays in, arrays out through the backend's public API (each step a call of its own). */
function userPrepared(backend: Backend, p: Problem, isAsync: boolean, memoryBytes?: () => number): Prepared {
  const steps = hostSteps(p);
  const logits = p.inputs[0] as FloatArray;
  const options = { cols: p.cols };
  let last: Maybe<{ loss: FloatArray; grad: FloatArray }> | undefined;
  const step = () =>
    then(backend.logSoftmax(logits, options) as Maybe<FloatArray>, (lp) => {
      const { loss, scale } = steps.gather(lp);
      const dy = steps.oneHot(arrayOf(steps.dtype, lp.length), scale);
      return then(backend.logSoftmaxBackward(lp, dy, options) as Maybe<FloatArray>, (grad) => ({ loss, grad }));
    });
  return {
    async: isAsync,
    run: isAsync
      ? async () => {
          last = await step();
        }
      : () => {
          last = step();
        },
    output: async () => (await last)!,
    ...(memoryBytes ? { memoryBytes } : {}),
    dispose() {},
  };
}

/**
 * kernel (wasm): the same on zero-copy buffers: logSoftmax into a buffer, the loss gathered from
 * its view, the one-hot written into a resident buffer (cleared, then the targets set: it is
 * materialised each call, as the composition needs it), logSoftmaxBackward into the gradient's buffer.
 */
function wasmKernelPrepared(backend: WasmBackend, p: Problem): Prepared {
  const steps = hostSteps(p);
  const n = p.rows * p.cols;
  const [x, lp, dy, grad] = [0, 1, 2, 3].map(() => backend.alloc(n, p.dtype));
  x.view().set(p.inputs[0] as FloatArray);
  const call = backend.bufferCall.bind(backend) as (op: Op, inputs: unknown[], options: object) => unknown;
  let loss: FloatArray | undefined;
  return {
    async: false,
    run() {
      call('logSoftmax', [x], { cols: p.cols, out: lp });
      const gathered = steps.gather(lp.view() as FloatArray);
      loss = gathered.loss;
      const d = dy.view() as FloatArray;
      d.fill(0);
      steps.oneHot(d, gathered.scale);
      call('logSoftmaxBackward', [lp, dy], { cols: p.cols, out: grad });
    },
    output: async () => ({ loss: loss!, grad: grad.view().slice() as FloatArray }),
    memoryBytes: () => backend.memoryBytes,
    dispose() {
      for (const b of [x, lp, dy, grad]) b.free();
    },
  };
}

interface Made {
  backend: Backend;
  version: string;
  isAsync: boolean;
  details?: Record<string, string>;
  memoryBytes?: () => number;
  kernel?: (p: Problem) => Prepared;
}

function unfusedCandidate(
  id: string,
  label: string,
  base: string,
  make: (ctx: LoadContext) => Promise<Made>,
): Candidate {
  return {
    id,
    label,
    kind: 'ours',
    description: `crossEntropy composed from ${base}'s own ops: logSoftmax, the loss gathered on the host, a dense one-hot upstream gradient, logSoftmaxBackward (the fused op's baseline, same backend and options)`,
    async load(ctx): Promise<Loaded> {
      const made = await make(ctx);
      const { backend } = made;
      return {
        version: made.version,
        details: made.details,
        supports(op: Op, dtype: BenchDtype, mode: Mode, options) {
          if (op !== 'crossEntropy' || !follows(options)) return false;
          if (!backend.ops.logSoftmax?.includes(dtype) || !backend.ops.logSoftmaxBackward?.includes(dtype))
            return false;
          return mode === 'user' || made.kernel !== undefined;
        },
        async prepare(p) {
          if (p.mode === 'kernel') return made.kernel!(p);
          return userPrepared(backend, p, made.isAsync, made.memoryBytes);
        },
        dispose: () => backend.dispose(),
      };
    },
  };
}

export const coreUnfused = unfusedCandidate('core-unfused', '@softmax/core unfused', 'core', async () => ({
  backend: createCoreBackend(),
  version: corePackage.version,
  isAsync: false,
}));

/** The same backend as the `wasm` candidate (default options: one thread on a 2-core machine). */
export const wasmUnfused = unfusedCandidate('wasm-unfused', '@softmax/wasm unfused', 'wasm', async () => {
  const { backend, details } = await loadWasmBackend(undefined);
  return {
    backend,
    version: wasmPackage.version,
    isAsync: false,
    details,
    memoryBytes: () => backend.memoryBytes,
    kernel: (p) => wasmKernelPrepared(backend, p),
  };
});

export const webgpuUnfused = unfusedCandidate('webgpu-unfused', '@softmax/webgpu unfused', 'webgpu', async (ctx) => {
  if (!ctx.gpu) throw new Error(ctx.gpuReason ?? 'no WebGPU adapter');
  const { backend, details } = await loadWebgpuBackend(ctx.gpu);
  return { backend, version: webgpuPackage.version, isAsync: true, details };
});
