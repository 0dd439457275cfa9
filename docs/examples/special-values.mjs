// Special values: one rule for every backend (NaN, ±Infinity, fully masked rows, empty input).
import assert from 'node:assert/strict';
import { logSoftmax, softmax } from '@softmax/core';
import { createWasmBackend } from '@softmax/wasm';

const wasm = await createWasmBackend();
for (const run of [softmax, wasm.softmax.bind(wasm)]) {
  // k entries equal to +Infinity share the mass (the limit); every other entry is 0.
  assert.deepEqual(Array.from(run([Infinity, 1, Infinity])), [0.5, 0, 0.5]);
  // A NaN anywhere makes the whole row NaN.
  assert.ok(Array.from(run([1, NaN, 2])).every(Number.isNaN));
  // −Infinity entries (a mask) are exactly 0.
  assert.deepEqual(Array.from(run([0, -Infinity, 0])), [0.5, 0, 0.5]);
  // A row of only −Infinity: NaN by default (as PyTorch and JAX), 0 with fullyMasked: 'zero'.
  assert.ok(Array.from(run([-Infinity, -Infinity])).every(Number.isNaN));
  assert.deepEqual(Array.from(run([-Infinity, -Infinity], { fullyMasked: 'zero' })), [0, 0]);
  // Nothing in, nothing out.
  assert.equal(run(new Float32Array(0)).length, 0);
}

// log-softmax: −log k for the +Infinity entries, −Infinity for the others.
assert.deepEqual(Array.from(logSoftmax([Infinity, 0, Infinity])), [-Math.LN2, -Infinity, -Math.LN2]);
console.log('softmax([Infinity, 1, Infinity]) =', Array.from(softmax([Infinity, 1, Infinity])));
wasm.dispose();
