/**
 * `@softmax/core/backend`: what backend authors need. The op table, the one validation, the
 * reference kernels, and `defineBackend` / `BackendBase`, which give a backend the public
 * method of every op with validation, result allocation and dispatch written once.
 *
 * @module @softmax/core/backend
 */
export {
  type Backend,
  BackendBase,
  type BackendDefinition,
  defineBackend,
  functionsOf,
  type OpSupport,
} from './define-backend.js';
export { describeValue } from './errors.js';
export type { BackwardCallOptions } from './ops/backward.js';
export {
  CROSS_ENTROPY_OUTPUTS,
  type CrossEntropyCall,
  type CrossEntropyCallOptions,
  type CrossEntropyParams,
  probabilityTolerance,
} from './ops/cross-entropy.js';
export type {
  CallShape,
  ElementKind,
  IndexArray,
  OpCall,
  OpDecl,
  OperandArray,
  OperandDecl,
  OperandForm,
  OperandRead,
  OptionReader,
  OutputDecl,
  OutputPresence,
  ShapeKind,
  ValidationSteps,
} from './ops/declaration.js';
export { fullyMasked, temperature } from './ops/options.js';
export type { Async, Either, ReturnMode, Returns, Sync } from './ops/returns.js';
export {
  SAMPLE_OUTPUTS,
  type SampleCall,
  type SampleCallOptions,
  type SampleParams,
} from './ops/sample.js';
export type { SampleBias, SampleHistory, SampleMask } from './ops/sample-options.js';
export type { ForwardCallOptions } from './ops/softmax.js';
export { OP_NAMES, OPS, type OpMethods, type OpName } from './ops/table.js';
export { mulhi32, philox4x32, sampleCounter, sampleKey, sampleUniform } from './random/philox.js';
export {
  type BackwardArgs,
  type ForwardArgs,
  type RowStatArgs,
  referenceLogSoftmax,
  referenceLogSoftmaxBackward,
  referenceLogSumExp,
  referenceSoftmax,
  referenceSoftmaxBackward,
} from './reference.js';
export { type CrossEntropyArgs, referenceCrossEntropy } from './reference-cross-entropy.js';
export {
  countHistory,
  keepProcessed,
  processRow,
  type RowProcessing,
  referenceSample,
  SAMPLE_NO_TOKEN,
  type SampleArgs,
  type SampleDraw,
  type SampleFilters,
  type SampleKeep,
  type SampleMargins,
  type SampleRowOptions,
  sampleDraw,
  sampleKeep,
} from './reference-sample.js';
export { resultOf } from './result.js';
export { checkLayout, type LayoutRequest, type PlacedOperand, validateCall, validatePlaced } from './validate.js';
