import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleSizes, kb } from './bundle-size.js';

// The issue's budget (min+gzip, esbuild for the browser): `import { softmax } from
// '@softmax/core'` ≤ 2 KB (2,000 bytes). Built dist, resolved by name.

const here = fileURLToPath(new URL('.', import.meta.url));
const BUDGET = 2_000;

describe('the browser bundle of @softmax/core', async () => {
  const sizes = await bundleSizes("export { softmax } from '@softmax/core';", here);

  it(`import { softmax }: ${kb(sizes.entry)} min+gzip (budget ${kb(BUDGET)})`, () => {
    console.log(`@softmax/core softmax bundle: ${kb(sizes.entry)} gzip`);
    expect(sizes.entry).toBeLessThanOrEqual(BUDGET);
  });
});
