// Choosing and forcing a backend: @softmax/auto picks per call; `backend:` pins one.
import assert from 'node:assert/strict';
import { createSoftmax, defaultInstance, softmax, softmaxSync } from '@softmax/auto';

const logits = new Float32Array([2, 1, 0.1, 3, 3, -1]); // 2 rows of 3

// The module-level functions run on a default instance that measures and picks per shape.
const p = await softmax(logits, { cols: 3 }); // Promise API: every backend
const q = softmaxSync(logits, { cols: 3 }); // sync twin: core, or wasm once loaded
assert.ok(p instanceof Float32Array && q instanceof Float32Array);

// An instance of your own, restricted to the CPU backends.
const cpu = createSoftmax({ backends: ['core', 'wasm'] });
await cpu.ready(); // core and wasm loaded and verified
const r = await cpu.softmax(logits, { cols: 3 });

// `backend:` forces one backend: no measuring, no fallback.
const wasmOnly = createSoftmax({ backend: 'wasm' });
const s = await wasmOnly.softmax(logits, { cols: 3 });
assert.equal(wasmOnly.explain().forced, 'wasm');

// Every backend gives the same answer within its declared bound (wasm's: rtol 1e-6).
for (let i = 0; i < logits.length; i++) {
  assert.ok(Math.abs(r[i] - s[i]) <= 1e-6 * s[i] + 1e-30);
  assert.ok(Math.abs(p[i] - s[i]) <= 2e-6 * s[i] + 1e-30);
}
console.log('row 0:', Array.from(s.subarray(0, 3)));

await defaultInstance().dispose();
await cpu.dispose();
await wasmOnly.dispose();
