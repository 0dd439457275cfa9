import type { Candidate } from '../candidate.js';
import { type OrtLike, ortLoaded } from './ort-common.js';

export const ortNode: Candidate = {
  id: 'ort-node',
  label: 'onnxruntime-node',
  kind: 'peer',
  description: 'onnxruntime-node (native CPU execution provider, one intra-op thread), one-node Softmax(axis=-1) model',
  async load(ctx) {
    if (ctx.env !== 'node') throw new Error('onnxruntime-node runs in Node only');
    const m = (await import('onnxruntime-node')) as unknown as OrtLike & { default?: OrtLike };
    const ort = typeof m.InferenceSession?.create === 'function' ? m : m.default!;
    const { createRequire } = await import('node:module');
    const version = (createRequire(import.meta.url)('onnxruntime-node/package.json') as { version: string }).version;
    return ortLoaded(
      ort,
      version,
      { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' },
      { threads: '1' },
    );
  },
};
