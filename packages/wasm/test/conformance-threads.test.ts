import { describeConformance } from '@softmax/conformance';
import { createWasmBackend } from '../dist/index.js';
import { SAMPLE_MARGIN, wasmOwnMemory } from './helpers.js';

// The threads build (SIMD128 over shared memory) with a worker, on any machine: its large cases
// (1 × 1,000,000, 4096 × 128) run split between the threads, the rest on the calling thread.
describeConformance('wasm (threads build, 2 threads)', () => createWasmBackend({ threads: 2 }), {
  rtol: 1e-6,
  sampleMargin: SAMPLE_MARGIN.float32,
  float64: { rtol: 1e-12, sampleMargin: SAMPLE_MARGIN.float64 },
  scale: 'full',
  ownMemory: wasmOwnMemory,
});
