import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleSizes, kb } from './bundle-size.js';

// The issue's budget (min+gzip, esbuild for the browser): `import { createWasmBackend } from
// '@softmax/wasm'`, the wasm it runs included, ≤ 16 KB (16,000 bytes). The scalar build, a chunk
// that only runtimes without SIMD load, is reported but not counted. Built dist, resolved by name.

const here = fileURLToPath(new URL('.', import.meta.url));
const BUDGET = 16_000;

describe('the browser bundle of @softmax/wasm', async () => {
  const sizes = await bundleSizes("export { createWasmBackend } from '@softmax/wasm';", here);
  const scalar = Object.entries(sizes.files).find(([file]) => file.startsWith('scalar-wasm'));

  it(`createWasmBackend with its SIMD build: ${kb(sizes.entry)} min+gzip (budget ${kb(BUDGET)}; scalar chunk ${kb(scalar?.[1] ?? 0)}, loaded only without SIMD)`, () => {
    console.log(`@softmax/wasm browser bundle: ${kb(sizes.entry)} gzip`, sizes.files);
    expect(sizes.entry).toBeLessThanOrEqual(BUDGET);
  });
});
