/**
 * @softmax/auto: every call on the fastest correct backend of this machine. The functions take
 * @softmax/core's arguments and return its results (as Promises; the *Sync twins return them).
 */
import { ops } from './functions.js';

// One name per op of core's table (test/exports.test.ts fails when core gains an op not listed).
export const {
  softmax,
  logSoftmax,
  softmaxBackward,
  logSoftmaxBackward,
  logSumExp,
  crossEntropy,
  sample,
  softmaxSync,
  logSoftmaxSync,
  softmaxBackwardSync,
  logSoftmaxBackwardSync,
  logSumExpSync,
  crossEntropySync,
  sampleSync,
} = ops;

export { type Explain, type ExplainBackend, type ExplainBucket, formatExplain } from './explain.js';
export type { Fingerprint } from './fingerprint.js';
export { defaultInstance, ready } from './functions.js';
export {
  type AsyncOps,
  AutoSoftmax,
  type CalibrateOptions,
  createSoftmax,
  type DemotionEntry,
  type FailureEntry,
  type ProfileReport,
  type SyncOps,
} from './instance.js';
export type { SoftmaxAutoOptions } from './options.js';
export type { Profile, ProfileBucket, ProfileEntry } from './profile.js';
export { jsonFileStore, localStorageStore, STORE_KEY, type Store } from './store.js';
export type { BackendName, CandidateId, ChoiceSource, Loaded, Loaders } from './types.js';
