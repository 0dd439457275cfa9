import { arrayOf, type Candidate, type FloatArray } from '../candidate.js';

/**
 * The floor: no arithmetic, only moving the same number of output bytes —
 * TypedArray.prototype.set from the input into a preallocated array. No softmax can beat it
 * by much, so each candidate's ratio to it says how far from memory-bound it is.
 */
export const copy: Candidate = {
  id: 'copy',
  label: 'TypedArray.set (floor)',
  kind: 'floor',
  description: 'Float32Array/Float64Array.prototype.set of the same bytes into a preallocated array',
  async load() {
    return {
      version: 'n/a',
      supports: (_op, _dtype, mode) => mode === 'user',
      async prepare(p) {
        const out: FloatArray = arrayOf(p.dtype, p.x.length);
        return {
          async: false,
          run: () => out.set(p.x as Float32Array & Float64Array),
          output: async () => out,
          dispose() {},
        };
      },
      dispose() {},
    };
  },
};
