// explain(): what auto knows about this machine and why each shape went where it went.
import assert from 'node:assert/strict';
import { createSoftmax, formatExplain } from '@softmax/auto';

const auto = createSoftmax({ backends: ['core', 'wasm'] });
await auto.ready(); // the CPU candidates loaded and verified, so all of them are measured
const x = new Float32Array(8 * 1000).map((_, i) => Math.sin(i));
for (let i = 0; i < 20; i++) await auto.softmax(x, { cols: 1000 });

const e = auto.explain(); // a plain, JSON-serialisable object
const bucket = e.buckets.find((b) => b.op === 'softmax' && b.dtype === 'float32');
assert.ok(bucket && bucket.calls === 20);
assert.ok(e.backends.some((b) => b.id === bucket.chosen)); // the measured choice for 8 × 1000
// One entry per candidate (wasm on one thread and on every core are separate candidates).
assert.ok(e.backends.every((b) => b.backend === 'core' || b.backend === 'wasm'));

console.log(formatExplain(e)); // the same as a table, for people
await auto.dispose();
