// Demo: the worked example and a small batch through every backend that loads here.
import { createCoreBackend } from '@softmax/core';
import { createWasmBackend } from '@softmax/wasm';
import { createWebGPUBackend } from '@softmax/webgpu';

const factories = [
  ['core', async () => createCoreBackend()],
  ['wasm', () => createWasmBackend()],
  ['webgpu', () => createWebGPUBackend()],
];

const example = new Float32Array([2, 1, 0.1]);
const batch = Float32Array.from({ length: 4 * 8 }, (_, i) => Math.sin(i) * 4);

for (const [name, create] of factories) {
  let backend;
  try {
    backend = await create();
  } catch (error) {
    console.log(`${name}: unavailable (${error.message})`);
    continue;
  }
  const y = await backend.softmax(example);
  console.log(`${name}: softmax([2, 1, 0.1]) = [${Array.from(y, (v) => v.toFixed(7)).join(', ')}]`);
  const rows = await backend.softmax(batch, { cols: 8 });
  for (let r = 0; r < 4; r++) {
    const row = rows.subarray(r * 8, r * 8 + 8);
    console.log(`  row ${r}: [${Array.from(row, (v) => v.toFixed(4)).join(' ')}]`);
  }
  await backend.dispose();
}
