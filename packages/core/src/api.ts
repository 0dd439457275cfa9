import {
  type BackwardArgs,
  type ForwardArgs,
  referenceLogSoftmax,
  referenceLogSoftmaxBackward,
  referenceSoftmax,
  referenceSoftmaxBackward,
} from './reference.js';
import type { Backend, BackwardOptions, OutputOf, SoftmaxInput, SoftmaxOptions } from './types.js';
import { allocateResult, checkBackward, checkForward } from './validate.js';

function runForward<T extends SoftmaxInput>(
  kernel: (args: ForwardArgs) => void,
  x: T,
  options: SoftmaxOptions | undefined,
): OutputOf<T> {
  const request = checkForward(x, options);
  const out = allocateResult(request);
  kernel({ ...request, out });
  return out as OutputOf<T>;
}

function runBackward<T extends SoftmaxInput>(
  kernel: (args: BackwardArgs) => void,
  y: T,
  dy: T,
  options: BackwardOptions | undefined,
): OutputOf<T> {
  const request = checkBackward(y, dy, options);
  const out = allocateResult(request);
  kernel({ ...request, out });
  return out as OutputOf<T>;
}

/** softmax(x / temperature) along each row of a rows × cols array. */
export function softmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): OutputOf<T> {
  return runForward(referenceSoftmax, x, options);
}

/** log(softmax(x / temperature)) along each row, computed without forming softmax first. */
export function logSoftmax<T extends SoftmaxInput>(x: T, options?: SoftmaxOptions): OutputOf<T> {
  return runForward(referenceLogSoftmax, x, options);
}

/** Gradient of softmax: dx = y ⊙ (dy − Σ dy·y) / temperature, where y = softmax(x). */
export function softmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): OutputOf<T> {
  return runBackward(referenceSoftmaxBackward, y, dy, options);
}

/**
 * Gradient of log-softmax: dx = (dy − softmax(x) · Σ dy) / temperature. It takes the forward
 * *log-softmax* output y (softmax(x) = exp(y)), which is what a training step already holds.
 */
export function logSoftmaxBackward<T extends SoftmaxInput>(y: T, dy: T, options?: BackwardOptions): OutputOf<T> {
  return runBackward(referenceLogSoftmaxBackward, y, dy, options);
}

/** The reference backend: float64 inside, synchronous, supports float32 and float64. */
export function createCoreBackend(): Backend {
  return {
    name: 'core',
    dtypes: ['float32', 'float64'],
    softmax,
    logSoftmax,
    softmaxBackward,
    logSoftmaxBackward,
    dispose() {},
  };
}
