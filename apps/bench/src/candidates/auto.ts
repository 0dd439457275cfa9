import autoPackage from '@softmax/auto/package.json';
import type { Candidate } from '../candidate.js';
import { backendLoaded } from './backend-candidate.js';

/**
 * @softmax/auto as an application uses it: one instance, every call through its Promise API, the
 * backend chosen per shape by measurement. Its learning is part of what is measured (the warm-up
 * calls of each shape are its first calls), and explain() is recorded in the details.
 */
export const auto: Candidate = {
  id: 'auto',
  label: '@softmax/auto',
  kind: 'ours',
  description:
    'every call on the candidate (core, wasm 1 thread, wasm every core, webgpu) its measured cost table picks; array in → array out',
  async load(ctx) {
    const { createSoftmax } = await import('@softmax/auto');
    const instance = createSoftmax(ctx.gpu ? {} : { backends: ['core', 'wasm'] });
    await instance.ready();
    const loaded = backendLoaded(instance, autoPackage.version, {
      isAsync: true,
      details: { backends: 'measured per shape' },
    });
    return {
      ...loaded,
      get details() {
        // The choices so far, one line per bucket: what the report's auto section shows.
        const e = instance.explain();
        return Object.fromEntries(e.buckets.map((b) => [`${b.op} ${b.dtype} ${b.shape}`, `${b.chosen} (${b.source})`]));
      },
    };
  },
};
