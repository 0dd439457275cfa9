import type { BenchDtype, Mode, Op } from '@softmax/bench-scenarios';
import type { FloatArray, Loaded, Prepared, Problem } from '../candidate.js';
import { softmaxModel } from './onnx-model.js';

/** The part of onnxruntime-web's and onnxruntime-node's API used here (they share it). */
export interface OrtLike {
  Tensor: new (type: 'float32' | 'float64', data: FloatArray, dims: number[]) => { data: unknown; dispose?(): void };
  InferenceSession: {
    create(
      model: Uint8Array,
      options?: Record<string, unknown>,
    ): Promise<{
      run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dispose?(): void }>>;
      release(): Promise<void>;
    }>;
  };
}

const opType: Partial<Record<Op, 'Softmax' | 'LogSoftmax'>> = { softmax: 'Softmax', logSoftmax: 'LogSoftmax' };

/**
 * user: an ort.Tensor over the caller's array (no copy on the JS side), session.run, the output's
 * data. One session per (op, dtype), created once, as an application would. No kernel-only mode:
 * ORT has no way to keep an output on the device between runs from JS on these providers.
 */
export function ortLoaded(
  ort: OrtLike,
  version: string,
  sessionOptions: Record<string, unknown>,
  details: Record<string, string>,
): Loaded {
  const sessions = new Map<string, ReturnType<OrtLike['InferenceSession']['create']>>();
  const sessionFor = (op: 'Softmax' | 'LogSoftmax', dtype: BenchDtype) => {
    const k = `${op}/${dtype}`;
    if (!sessions.has(k)) sessions.set(k, ort.InferenceSession.create(softmaxModel(op, dtype), sessionOptions));
    return sessions.get(k)!;
  };
  return {
    version,
    details,
    supports: (op: Op, _dtype: BenchDtype, mode: Mode) => mode === 'user' && opType[op] !== undefined,
    async prepare(p: Problem): Promise<Prepared> {
      const session = await sessionFor(opType[p.op]!, p.dtype);
      const dims = [p.rows, p.cols];
      let last: FloatArray | undefined;
      return {
        async: true,
        async run() {
          const out = await session.run({ x: new ort.Tensor(p.dtype, p.x, dims) });
          last = out.y.data as FloatArray;
        },
        output: async () => last!,
        dispose() {},
      };
    },
    async dispose() {
      for (const s of sessions.values()) await (await s).release();
    },
  };
}
