/**
 * `@softmax/core`: the reference implementation of every op (float64 inside), `SoftmaxError` and
 * the types an application uses. What backend authors need is on `@softmax/core/backend`.
 *
 * @module @softmax/core
 */
export {
  createCoreBackend,
  crossEntropy,
  logSoftmax,
  logSoftmaxBackward,
  logSumExp,
  sample,
  softmax,
  softmaxBackward,
} from './api.js';
export type { Backend, OpSupport } from './define-backend.js';
export { SoftmaxError, type SoftmaxErrorCode } from './errors.js';
export type {
  CrossEntropyOptions,
  CrossEntropyResult,
  CrossEntropyTargets,
  GradientMode,
  Reduction,
} from './ops/cross-entropy.js';
export type { LogSumExpOptions } from './ops/log-sum-exp.js';
export type {
  LogitBiasOption,
  PerRowOption,
  SampleHistoryOption,
  SampleOptions,
  SampleResult,
  SampleTop,
} from './ops/sample.js';
export type { OpName } from './ops/table.js';
export type {
  BackwardOptions,
  Dtype,
  FloatArray,
  FullyMasked,
  MaybePromise,
  OutputOf,
  SoftmaxInput,
  SoftmaxOptions,
} from './types.js';
