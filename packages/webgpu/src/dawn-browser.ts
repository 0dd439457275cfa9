import { SoftmaxError } from '@softmax/core';

/**
 * The GPU fallback of every runtime but Node (package.json's "exports" conditions other than
 * `node`): there is none, so a missing `navigator.gpu` is all there is to report.
 */
export async function loadDawn(): Promise<GPU> {
  throw new SoftmaxError(
    'BACKEND_UNAVAILABLE',
    'WebGPU backend unavailable: navigator.gpu is missing (this browser has no WebGPU, or the page is not a secure context)',
  );
}
