import { describeConformance } from '@softmax/conformance';
import { expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';

describeConformance('wasm (SIMD128 build)', () => createWasmBackend({ simd: true }), {
  rtol: 1e-6,
  float64: { rtol: 1e-12 },
  scale: 'full',
});

it('the SIMD build is the one under test, and the default where the runtime has SIMD', async () => {
  const forced = await createWasmBackend({ simd: true });
  const chosen = await createWasmBackend();
  expect(forced.simd).toBe(true);
  expect(chosen.simd).toBe(true); // Node 20 validates SIMD128
  expect(forced.name).toBe('wasm');
  expect(forced.dtypes).toEqual(['float32', 'float64']);
});
