import type { BenchDtype, Mode, Op } from '@softmax/bench-scenarios';
import type { Loaded, Prepared, Problem } from '../candidate.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

/** tfjs-core is CommonJS in Node and ESM in bundles: take whichever namespace has the ops. */
export async function importTfjs(): Promise<Tf> {
  const m = (await import('@tensorflow/tfjs-core')) as Tf & { default?: Tf };
  return typeof m.softmax === 'function' ? m : m.default!;
}

/** Runs `fn` with console.warn/log silenced (tfjs greets Node users on stdout). */
export async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  const { log, warn } = console;
  console.log = () => {};
  console.warn = () => {};
  try {
    return await fn();
  } finally {
    Object.assign(console, { log, warn });
  }
}

/** The tfjs ops measured: its softmax and logSoftmax along the last axis. It has no float64. */
const ops: Partial<Record<Op, (tf: Tf, t: Tensor) => Tensor>> = {
  softmax: (tf, t) => tf.softmax(t),
  logSoftmax: (tf, t) => tf.logSoftmax(t),
};

export interface TfjsFlavour {
  backend: 'cpu' | 'wasm' | 'webgpu';
  /** GPU backends: reading back is asynchronous, and the kernel's end must be awaited. */
  gpu: boolean;
}

/** Waits for the GPU work the webgpu backend has queued (tfjs batches commands until a flush). */
async function gpuIdle(tf: Tf): Promise<void> {
  const b = tf.backend() as unknown as {
    commandEncoder?: GPUCommandEncoder | null;
    endComputePassEncoder(): void;
    submitQueue(): void;
    queue: GPUQueue;
  };
  // Its own flush sequence (as before a readback): close the open pass, submit the encoder.
  if (b.commandEncoder) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
  await b.queue.onSubmittedWorkDone();
}

/**
 * user: tensor2d from the array, the op, dataSync()/data() back, dispose — what a tfjs user pays.
 * kernel: the input tensor already on the backend; the op alone (GPU: until the queue is idle), no readback.
 */
export function tfjsLoaded(tf: Tf, flavour: TfjsFlavour, version: string, details: Record<string, string>): Loaded {
  const activate = async () => {
    if (tf.getBackend() !== flavour.backend) await tf.setBackend(flavour.backend);
  };
  return {
    version,
    details,
    supports: (op: Op, dtype: BenchDtype, _mode: Mode) => dtype === 'float32' && ops[op] !== undefined,
    async prepare(p: Problem): Promise<Prepared> {
      await activate();
      const op = ops[p.op]!;
      const shape: [number, number] = [p.rows, p.cols];
      let last: Float32Array | undefined;
      if (p.mode === 'user') {
        return {
          async: flavour.gpu,
          beforeSample: activate,
          run: flavour.gpu
            ? async () => {
                const t = tf.tensor2d(p.x as Float32Array, shape);
                const y = op(tf, t);
                last = (await y.data()) as Float32Array;
                t.dispose();
                y.dispose();
              }
            : () => {
                const t = tf.tensor2d(p.x as Float32Array, shape);
                const y = op(tf, t);
                last = y.dataSync() as Float32Array;
                t.dispose();
                y.dispose();
              },
          output: async () => last!,
          dispose() {},
        };
      }
      const input = tf.tensor2d(p.x as Float32Array, shape);
      let kept: Tensor | undefined;
      const keep = (y: Tensor) => {
        kept?.dispose();
        kept = y;
      };
      return {
        async: flavour.gpu,
        beforeSample: activate,
        run: flavour.gpu
          ? async () => {
              keep(op(tf, input));
              await gpuIdle(tf);
            }
          : () => keep(op(tf, input)),
        output: async () => (await kept!.data()) as Float32Array,
        dispose() {
          kept?.dispose();
          input.dispose();
        },
      };
    },
    dispose() {},
  };
}
