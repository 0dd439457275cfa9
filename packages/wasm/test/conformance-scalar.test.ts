import { describeConformance } from '@softmax/conformance';
import { expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { SAMPLE_MARGIN, wasmOwnMemory } from './helpers.js';

describeConformance('wasm (scalar build)', () => createWasmBackend({ simd: false }), {
  rtol: 1e-6,
  sampleMargin: SAMPLE_MARGIN.float32,
  float64: { rtol: 1e-12, sampleMargin: SAMPLE_MARGIN.float64 },
  scale: 'full',
  ownMemory: wasmOwnMemory,
});

it('simd: false gives the scalar build', async () => {
  expect((await createWasmBackend({ simd: false })).simd).toBe(false);
});
