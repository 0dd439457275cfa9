import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleSizes, kb } from './bundle-size.js';

// The issue's budgets (min+gzip, esbuild for the browser), for `import { softmax } from
// '@softmax/auto'` with the backends loaded lazily: ≤ 4 KB for the entry (what loads before any
// import() runs), and ≤ 20 KB for everything a browser loads to run a CPU softmax: the entry and
// the chunks its import() of @softmax/wasm brings (not WebGPU's, nor the scalar wasm build, which
// runtimes with SIMD never load). Built dist, resolved by name.

const here = fileURLToPath(new URL('.', import.meta.url));
const ENTRY_BUDGET = 4_000;
const CPU_BUDGET = 20_000;

/** A chunk of @softmax/wasm's JavaScript or its SIMD build, not of WebGPU or the scalar build. */
const wasmChunk = (inputs: string[]) =>
  inputs.some((input) => /wasm\/dist\//.test(input)) &&
  !inputs.some((input) => /scalar-wasm|webgpu\/dist\//.test(input));

describe('the browser bundle of @softmax/auto', async () => {
  const sizes = await bundleSizes("export { softmax } from '@softmax/auto';", here, wasmChunk);

  it(`the entry, backends lazy: ${kb(sizes.entry)} min+gzip (budget ${kb(ENTRY_BUDGET)})`, () => {
    console.log(`@softmax/auto entry: ${kb(sizes.entry)} gzip; files:`, sizes.files);
    expect(sizes.entry).toBeLessThanOrEqual(ENTRY_BUDGET);
  });

  it(`a CPU softmax, entry + wasm chunks: ${kb(sizes.loaded)} min+gzip (budget ${kb(CPU_BUDGET)})`, () => {
    console.log(`@softmax/auto CPU softmax: ${kb(sizes.loaded)} gzip`);
    expect(sizes.loaded).toBeLessThanOrEqual(CPU_BUDGET);
  });

  it('the backends are chunks of their own, not in the entry', () => {
    const outputs = sizes.metafile.outputs;
    const entry = Object.keys(outputs).find((file) => outputs[file].entryPoint) as string;
    expect(Object.keys(outputs[entry].inputs).filter((input) => /(wasm|webgpu)\/dist\//.test(input))).toEqual([]);
  });
});
