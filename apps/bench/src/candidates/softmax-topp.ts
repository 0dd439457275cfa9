import wasmPackage from '@softmax/wasm/package.json';
import type { Candidate, FloatArray, Problem } from '../candidate.js';
import { argmax, followsSampling, settingsOf, sortedDraw, tokensPrepared } from './js-sort.js';
import { loadWasmBackend } from './wasm.js';

/**
 * The project's own softmax with a JS top-p: what a caller of @softmax/wasm without `sample`
 * writes. @softmax/wasm's softmax of the row with the temperature (one thread, its default on a
 * 2-core machine), then the plain JS full sort, top-k/top-p cut and Math.random() draw of
 * `js-sort`; argmax for temperature 0. Its own generator: checked by the reference's kept set.
 */
export const wasmSoftmaxTopP: Candidate = {
  id: 'wasm-softmax+js',
  label: '@softmax/wasm softmax + JS top-p',
  kind: 'peer',
  description:
    "@softmax/wasm's softmax (with the temperature, one thread), then a JS full sort by probability, the top-k/top-p cut and a Math.random() draw",
  async load() {
    const { backend, details } = await loadWasmBackend(1);
    return {
      version: wasmPackage.version,
      details,
      supports: (op, dtype, mode, options) =>
        op === 'sample' && mode === 'user' && followsSampling(options) && backend.ops.softmax?.includes(dtype) === true,
      async prepare(p: Problem) {
        const s = settingsOf(p.options);
        if (s.temperature === 0) return tokensPrepared(p, (start) => argmax(p.x, start, p.cols));
        let probs: FloatArray | undefined;
        let row = -1;
        return tokensPrepared(p, (start) => {
          // One softmax call for the whole batch (at its first row), as a caller would make it.
          if (start === 0) probs = backend.softmax(p.x, { cols: p.cols, temperature: s.temperature }) as FloatArray;
          row = start;
          return sortedDraw((probs as FloatArray).subarray(row, row + p.cols), s);
        });
      },
      dispose: () => backend.dispose(),
    };
  },
};
