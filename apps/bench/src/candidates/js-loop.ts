import type { Op } from '@softmax/bench-scenarios';
import { arrayOf, type Candidate, type FloatArray, type Problem } from '../candidate.js';

/**
 * What a person writes by hand: three passes per row (max, exp and sum, scale), in the input's
 * own precision, Math.exp, a new output array per call. No special-value handling.
 */
type Kernel = (x: FloatArray, dy: FloatArray | undefined, out: FloatArray, rows: number, cols: number) => void;

/** The ops written by hand (a peer implements what it implements). */
const kernels: Partial<Record<Op, Kernel>> = {
  softmax(x, _dy, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const e = Math.exp(x[o + j] - max);
        out[o + j] = e;
        sum += e;
      }
      const inv = 1 / sum;
      for (let j = 0; j < cols; j++) out[o + j] *= inv;
    }
  },
  logSoftmax(x, _dy, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = Number.NEGATIVE_INFINITY;
      for (let j = 0; j < cols; j++) if (x[o + j] > max) max = x[o + j];
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j] - max);
      const shift = max + Math.log(sum);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j] - shift;
    }
  },
  softmaxBackward(y, dy, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += y[o + j] * dy![o + j];
      for (let j = 0; j < cols; j++) out[o + j] = y[o + j] * (dy![o + j] - dot);
    }
  },
  logSoftmaxBackward(y, dy, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let total = 0;
      for (let j = 0; j < cols; j++) total += dy![o + j];
      for (let j = 0; j < cols; j++) out[o + j] = dy![o + j] - Math.exp(y[o + j]) * total;
    }
  },
};

export const jsLoop: Candidate = {
  id: 'js-3pass',
  label: 'plain JS 3-pass',
  kind: 'peer',
  description: 'hand-written loops (max, exp+sum, scale) with Math.exp, new typed array per call',
  async load() {
    return {
      version: 'n/a',
      supports: (op, _dtype, mode) => mode === 'user' && kernels[op] !== undefined,
      async prepare(p: Problem) {
        const kernel = kernels[p.op] as Kernel;
        let last: FloatArray | undefined;
        return {
          async: false,
          run() {
            const out = arrayOf(p.dtype, p.x.length);
            kernel(p.x, p.inputs[1] as FloatArray | undefined, out, p.rows, p.cols);
            last = out;
          },
          output: async () => last!,
          dispose() {},
        };
      },
      dispose() {},
    };
  },
};
