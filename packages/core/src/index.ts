export { createCoreBackend, logSoftmax, logSoftmaxBackward, softmax, softmaxBackward } from './api.js';
export { describeValue, SoftmaxError, type SoftmaxErrorCode } from './errors.js';
export {
  type BackwardArgs,
  type ForwardArgs,
  referenceLogSoftmax,
  referenceLogSoftmaxBackward,
  referenceSoftmax,
  referenceSoftmaxBackward,
} from './reference.js';
export type {
  Backend,
  BackwardOptions,
  Dtype,
  FloatArray,
  FullyMasked,
  MaybePromise,
  OutputOf,
  SoftmaxInput,
  SoftmaxOptions,
} from './types.js';
export {
  allocateResult,
  type BackwardRequest,
  checkBackward,
  checkForward,
  checkLayout,
  type ForwardRequest,
  type LayoutRequest,
} from './validate.js';
