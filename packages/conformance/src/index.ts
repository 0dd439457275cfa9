/**
 * The vitest suite (ESM only: vitest cannot be require()d) plus every helper.
 *
 * @module @softmax/conformance
 */
export * from './helpers.js';
export { describeConformance } from './suite/describe.js';
export {
  describeSoak,
  describeSoakReport,
  type SoakOptions,
  type SoakReport,
  soakBackend,
  soakCalls,
  soakProblems,
} from './suite/soak.js';
