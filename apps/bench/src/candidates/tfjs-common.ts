import type { BenchDtype, Mode, Op } from '@softmax/bench-scenarios';
import type { Loaded, Output, Prepared, Problem } from '../candidate.js';
import { sentinelValue } from '../inputs.js';

type Tf = typeof import('@tensorflow/tfjs-core');
type Tensor = import('@tensorflow/tfjs-core').Tensor;

/** tfjs-core is CommonJS in Node and ESM in bundles: take whichever namespace has the ops. */
export async function importTfjs(): Promise<Tf> {
  const m = (await import('@tensorflow/tfjs-core')) as Tf & { default?: Tf };
  // tfjs-core registers no gradients (the @tensorflow/tfjs bundle does, with this same module):
  // tf.valueAndGrad of crossEntropy needs them. It is ESM source, bundled into the CLI and the page.
  await import('@tensorflow/tfjs-core/dist/register_all_gradients');
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

/**
 * One tfjs call of an op: its input tensors, made from the problem's arrays (in user mode in every
 * call, as a tfjs user pays it; in kernel mode once), and the op on them.
 */
interface TfjsOp {
  /** Whether tfjs can make the call with these options (default: only with none). */
  takes?(options: Readonly<Record<string, unknown>>): boolean;
  inputs(tf: Tf, p: Problem): Tensor[];
  /** Its one output, or its outputs by name. */
  apply(tf: Tf, inputs: Tensor[]): Tensor | Record<string, Tensor>;
}

const matrix = (tf: Tf, p: Problem) => [tf.tensor2d(p.x as Float32Array, [p.rows, p.cols])];

/** crossEntropy options tfjs can follow: the mean loss over the rows not ignored, and its gradient. */
const CE_OPTIONS = ['reduction', 'gradient', 'ignoreIndex'];

/**
 * The tfjs ops measured: softmax and logSoftmax along the last axis, and crossEntropy as tfjs
 * offers it. It has no float64. tfjs takes no class indices: the labels are tf.oneHot of them (a
 * rows × cols tensor), and ignored rows get weight 0, so the default reduction
 * (SUM_BY_NONZERO_WEIGHTS: Σ w·loss / the count of rows of nonzero weight) is our 'mean'; the
 * gradient is tf.valueAndGrad's, through tfjs's own gradient of softmaxCrossEntropy.
 */
const ops: Partial<Record<Op, TfjsOp>> = {
  softmax: { inputs: matrix, apply: (tf, [t]) => tf.softmax(t) },
  logSoftmax: { inputs: matrix, apply: (tf, [t]) => tf.logSoftmax(t) },
  crossEntropy: {
    takes: (o) =>
      o.gradient === true && (o.reduction ?? 'mean') === 'mean' && Object.keys(o).every((k) => CE_OPTIONS.includes(k)),
    inputs(tf, p) {
      const targets = p.inputs[1] as Int32Array;
      const ignored = sentinelValue('crossEntropy', 'ignoreIndex', p.options.ignoreIndex);
      const weights = Float32Array.from(targets, (t) => (t === ignored ? 0 : 1));
      return tf.tidy(() => [
        tf.tensor2d(p.x as Float32Array, [p.rows, p.cols]),
        tf.oneHot(tf.tensor1d(targets, 'int32'), p.cols),
        tf.tensor1d(weights),
      ]);
    },
    apply: (tf, [logits, labels, weights]) =>
      tf.tidy(() => {
        const { value, grad } = tf.valueAndGrad((x: Tensor) => tf.losses.softmaxCrossEntropy(labels, x, weights))(
          logits,
        );
        return { loss: value, grad };
      }),
  },
};

/** Every tensor of an op's output (one, or by name). */
const tensorsOf = (y: Tensor | Record<string, Tensor>): Tensor[] =>
  y instanceof Object && 'dataSync' in y ? [y as Tensor] : Object.values(y);

/** An op's output read back: its one array, or its arrays by name. */
function readSync(y: Tensor | Record<string, Tensor>): Output {
  if ('dataSync' in y) return (y as Tensor).dataSync() as Float32Array;
  return Object.fromEntries(Object.entries(y).map(([k, t]) => [k, t.dataSync() as Float32Array]));
}

async function read(y: Tensor | Record<string, Tensor>): Promise<Output> {
  if ('dataSync' in y) return (await (y as Tensor).data()) as Float32Array;
  const entries = await Promise.all(Object.entries(y).map(async ([k, t]) => [k, (await t.data()) as Float32Array]));
  return Object.fromEntries(entries);
}

export interface TfjsFlavour {
  backend: 'cpu' | 'wasm' | 'webgpu';
  /** GPU backends: reading back is asynchronous, and the kernel's end must be awaited. */
  gpu: boolean;
  /** Ops of the list above this backend is not measured on. */
  without?: readonly Op[];
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
 * user: the tensors from the arrays (tensor2d; crossEntropy's one-hot labels and weights too), the
 * op, dataSync()/data() of each output back, dispose — what a tfjs user pays.
 * kernel: the input tensors already on the backend; the op alone (GPU: until the queue is idle), no readback.
 */
export function tfjsLoaded(tf: Tf, flavour: TfjsFlavour, version: string, details: Record<string, string>): Loaded {
  const activate = async () => {
    if (tf.getBackend() !== flavour.backend) await tf.setBackend(flavour.backend);
  };
  return {
    version,
    details,
    supports: (op: Op, dtype: BenchDtype, _mode: Mode, options) => {
      const entry = ops[op];
      if (dtype !== 'float32' || entry === undefined || flavour.without?.includes(op)) return false;
      return entry.takes ? entry.takes(options) : Object.keys(options).length === 0;
    },
    async prepare(p: Problem): Promise<Prepared> {
      await activate();
      const op = ops[p.op]!;
      let last: Output | undefined;
      if (p.mode === 'user') {
        return {
          async: flavour.gpu,
          beforeSample: activate,
          run: flavour.gpu
            ? async () => {
                const inputs = op.inputs(tf, p);
                const y = op.apply(tf, inputs);
                last = await read(y);
                for (const t of [...inputs, ...tensorsOf(y)]) t.dispose();
              }
            : () => {
                const inputs = op.inputs(tf, p);
                const y = op.apply(tf, inputs);
                last = readSync(y);
                for (const t of [...inputs, ...tensorsOf(y)]) t.dispose();
              },
          output: async () => last!,
          dispose() {},
        };
      }
      const inputs = op.inputs(tf, p);
      let kept: Tensor | Record<string, Tensor> | undefined;
      const keep = (y: Tensor | Record<string, Tensor>) => {
        if (kept) for (const t of tensorsOf(kept)) t.dispose();
        kept = y;
      };
      return {
        async: flavour.gpu,
        beforeSample: activate,
        run: flavour.gpu
          ? async () => {
              keep(op.apply(tf, inputs));
              await gpuIdle(tf);
            }
          : () => keep(op.apply(tf, inputs)),
        output: async () => read(kept!),
        dispose() {
          if (kept) for (const t of tensorsOf(kept)) t.dispose();
          for (const t of inputs) t.dispose();
        },
      };
    },
    dispose() {},
  };
}
