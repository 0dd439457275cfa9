// Run as: SOFTMAX_BACKEND=wasm node docs/examples/force-env.mjs
// SOFTMAX_BACKEND (core | wasm | webgpu) forces the default instance's backend, read when that
// instance is created (at the first call), so a deployment can pin it without a code change.
import assert from 'node:assert/strict';
import { defaultInstance, logSoftmax } from '@softmax/auto';

const forced = process.env.SOFTMAX_BACKEND;
const lp = await logSoftmax([1, 2, 3]); // number[] in: Float64Array out
assert.equal(defaultInstance().explain().forced, forced);

// log-softmax rows exponentiate to probabilities that sum to 1.
const sum = lp.reduce((acc, v) => acc + Math.exp(v), 0);
assert.ok(Math.abs(sum - 1) < 1e-12);
console.log(`forced to ${forced}:`, Array.from(lp));
await defaultInstance().dispose();
