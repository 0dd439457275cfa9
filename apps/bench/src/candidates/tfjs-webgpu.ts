import tfPackage from '@tensorflow/tfjs-core/package.json';
import type { Candidate } from '../candidate.js';
import { importTfjs, quietly, tfjsLoaded } from './tfjs-common.js';

export const tfjsWebgpu: Candidate = {
  id: 'tfjs-webgpu',
  label: 'TensorFlow.js webgpu',
  kind: 'peer',
  description: '@tensorflow/tfjs-backend-webgpu, tf.softmax along the last axis',
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
    const info = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo;
    return tfjsLoaded(tf, { backend: 'webgpu', gpu: true }, tfPackage.version, {
      adapter: [info?.vendor, info?.architecture].filter(Boolean).join(' ') || 'unknown',
    });
  },
};
