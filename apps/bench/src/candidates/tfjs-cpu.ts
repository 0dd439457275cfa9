import tfPackage from '@tensorflow/tfjs-core/package.json';
import type { Candidate } from '../candidate.js';
import { importTfjs, quietly, tfjsLoaded } from './tfjs-common.js';

export const tfjsCpu: Candidate = {
  id: 'tfjs-cpu',
  label: 'TensorFlow.js cpu',
  kind: 'peer',
  description: '@tensorflow/tfjs-backend-cpu (plain JS kernels), tf.softmax along the last axis',
  async load() {
    const tf = await importTfjs();
    await import('@tensorflow/tfjs-backend-cpu');
    const ok = await quietly(() => tf.setBackend('cpu'));
    if (!ok) throw new Error('tf.setBackend("cpu") failed');
    // Not crossEntropy: about 2.6 µs an element, 40 s a call at 512 × 32000 (the peers are
    // tfjs-wasm and tfjs-webgpu).
    return tfjsLoaded(tf, { backend: 'cpu', gpu: false, without: ['crossEntropy'] }, tfPackage.version, {});
  },
};
