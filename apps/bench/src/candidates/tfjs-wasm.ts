import tfPackage from '@tensorflow/tfjs-core/package.json';
import type { Candidate } from '../candidate.js';
import { importTfjs, quietly, tfjsLoaded } from './tfjs-common.js';

export const tfjsWasm: Candidate = {
  id: 'tfjs-wasm',
  label: 'TensorFlow.js wasm',
  kind: 'peer',
  description:
    '@tensorflow/tfjs-backend-wasm (XNNPACK, SIMD, one thread), tf.softmax along the last axis; crossEntropy: tf.losses.softmaxCrossEntropy of tf.oneHot labels, its gradient by tf.valueAndGrad',
  async load(ctx) {
    const tf = await importTfjs();
    const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as typeof import('@tensorflow/tfjs-backend-wasm') & {
      default?: typeof import('@tensorflow/tfjs-backend-wasm');
    };
    const setWasmPaths = wasm.setWasmPaths ?? wasm.default!.setWasmPaths;
    if (!ctx.tfjsWasmPaths) throw new Error('no location for the tfjs wasm binaries was given');
    setWasmPaths(ctx.tfjsWasmPaths as string);
    // One thread, like every other candidate here (the threaded build would take every core).
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    const ok = await quietly(() => tf.setBackend('wasm'));
    if (!ok) throw new Error('tf.setBackend("wasm") failed');
    const simd = String(tf.env().getBool('WASM_HAS_SIMD_SUPPORT'));
    return tfjsLoaded(tf, { backend: 'wasm', gpu: false }, tfPackage.version, { simd, threads: '1' });
  },
};
