import tfPackage from '@tensorflow/tfjs-core/package.json';
import type { Candidate, Loaded } from '../candidate.js';
import { importTfjs, quietly, tfjsLoaded } from './tfjs-common.js';

type Tf = Awaited<ReturnType<typeof importTfjs>>;

/**
 * Kernel mode gains GPU time: tf.time()'s kernelMs, the sum of the timestamp queries tfjs writes
 * around each of its programs (each in its own compute pass while timed). tfjs reports 0 when the
 * device lacks 'timestamp-query': that is reported as unavailable, not as 0.
 */
function withGpuTime(tf: Tf, loaded: Loaded, timestamps: boolean): Loaded {
  if (!timestamps) return loaded;
  return {
    ...loaded,
    async prepare(p) {
      const prepared = await loaded.prepare(p);
      if (p.mode !== 'kernel') return prepared;
      return {
        ...prepared,
        async gpuTime() {
          let done: unknown;
          const info = await tf.time(() => {
            done = prepared.run(); // dispatches synchronously; the Promise waits for the queue
          });
          await done;
          const ms = info.kernelMs;
          return typeof ms === 'number' && ms > 0 ? ms * 1e6 : undefined;
        },
      };
    },
  };
}

export const tfjsWebgpu: Candidate = {
  id: 'tfjs-webgpu',
  label: 'TensorFlow.js webgpu',
  kind: 'peer',
  description:
    '@tensorflow/tfjs-backend-webgpu, tf.softmax along the last axis; crossEntropy: tf.losses.softmaxCrossEntropy of tf.oneHot labels, its gradient by tf.valueAndGrad (GPU time: tf.time() kernelMs, kernel mode)',
  async load(ctx) {
    if (!ctx.gpu) throw new Error(ctx.gpuReason ?? 'no WebGPU adapter');
    const nav = globalThis.navigator as Navigator | undefined;
    // The backend looks for navigator.gpu when it is imported: in Node, give it Dawn's.
    if (!nav?.gpu)
      Object.defineProperty(globalThis, 'navigator', { value: { ...nav, gpu: ctx.gpu }, configurable: true });
    const tf = await importTfjs();
    await import('@tensorflow/tfjs-backend-webgpu');
    const ok = await quietly(() => tf.setBackend('webgpu'));
    if (!ok) throw new Error('tf.setBackend("webgpu") failed');
    const b = tf.backend() as unknown as {
      adapterInfo?: { vendor?: string; architecture?: string };
      supportTimestampQuery?: boolean;
    };
    const info = b.adapterInfo;
    const timestamps = b.supportTimestampQuery === true;
    const loaded = tfjsLoaded(tf, { backend: 'webgpu', gpu: true }, tfPackage.version, {
      adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unknown',
      'GPU time': timestamps ? 'timestamp-query' : 'unavailable',
    });
    return withGpuTime(tf, loaded, timestamps);
  },
};
