// The vitest suite (ESM only: vitest cannot be require()d) plus every helper.
export * from './helpers.js';
export { describeConformance } from './suite/describe.js';
