/**
 * `@softmax/auto`: every call on the fastest correct backend of this machine. The functions take
 * `@softmax/core`'s arguments and return its results (as Promises; the *Sync twins return them).
 *
 * @module @softmax/auto
 */
// The async functions, their sync twins and ready(). The ESM build's entry is entry.ts, which
// exports the same (see there); this file gives the package its types and documentation.

export { defaultInstance } from './default-instance.js';
export { type Explain, type ExplainBackend, type ExplainBucket, formatExplain } from './explain.js';
export type { Fingerprint } from './fingerprint.js';
export * from './functions.js';
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
export * from './sync.js';
export type { BackendName, CandidateId, ChoiceSource, Loaded, Loaders } from './types.js';
