import os from 'node:os';
import { wasmCandidate } from './wasm.js';

/** Every core this process may use (at most 16): both of a 2-core machine, where the default runs one. */
const allCores = Math.min(16, os.availableParallelism());

/** Node only (the browser page runs @softmax/wasm on one thread). */
export const wasmAllCores = wasmCandidate(
  'wasm-mt',
  '@softmax/wasm (every core)',
  allCores,
  `the same backend with threads: ${allCores} (every core of this machine)`,
);
