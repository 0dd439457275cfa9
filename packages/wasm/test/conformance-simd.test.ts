import { describeConformance } from '@softmax/conformance';
import { expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { SAMPLE_MARGIN, wasmOwnMemory } from './helpers.js';

// threads: 1 keeps this on the SIMD build over its own memory; conformance-threads.test.ts runs
// the threads build (shared memory).
describeConformance('wasm (SIMD128 build)', () => createWasmBackend({ simd: true, threads: 1 }), {
  rtol: 1e-6,
  sampleMargin: SAMPLE_MARGIN.float32,
  float64: { rtol: 1e-12, sampleMargin: SAMPLE_MARGIN.float64 },
  scale: 'full',
  ownMemory: wasmOwnMemory,
});

it('the SIMD build is the one under test, and the default where the runtime has SIMD', async () => {
  const forced = await createWasmBackend({ simd: true, threads: 1 });
  const chosen = await createWasmBackend();
  expect(forced.simd).toBe(true);
  expect(forced.threads).toBe(1);
  expect(chosen.simd).toBe(true); // Node 20 validates SIMD128
  expect(forced.name).toBe('wasm');
  expect(forced.dtypes).toEqual(['float32', 'float64']);
});
