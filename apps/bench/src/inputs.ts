import type { BenchDtype, Op } from '@softmax/bench-scenarios';
import { seededRandom } from '@softmax/conformance/helpers';
import { referenceLogSoftmax, referenceSoftmax } from '@softmax/core';
import { arrayOf, type FloatArray, isBackward } from './candidate.js';

export interface Inputs {
  x: FloatArray;
  dy?: FloatArray;
}

/**
 * Logits uniform in [−8, 8) (a realistic spread: exp values over ~7 decades). For the backward
 * ops x is the forward output the gradient needs (softmax or log-softmax of those logits) and dy
 * is uniform in [−1, 1).
 */
export function makeInputs(op: Op, dtype: BenchDtype, rows: number, cols: number, seed = 1): Inputs {
  const n = rows * cols;
  const next = seededRandom(seed + rows * 31 + cols);
  const logits = arrayOf(dtype, n);
  for (let i = 0; i < n; i++) logits[i] = next() * 16 - 8;
  if (!isBackward(op)) return { x: logits };
  const y = arrayOf(dtype, n);
  const forward = op === 'softmaxBackward' ? referenceSoftmax : referenceLogSoftmax;
  forward({ x: logits, out: y, rows, cols, temperature: 1, fullyMasked: 'nan' });
  const dy = arrayOf(dtype, n);
  for (let i = 0; i < n; i++) dy[i] = next() * 2 - 1;
  return { x: y, dy };
}
