// The zero-copy wasm API: keep the data in wasm memory, run ops on buffers, free them yourself.
import assert from 'node:assert/strict';
import { softmax } from '@softmax/core';
import { createWasmBackend } from '@softmax/wasm';

const rows = 2;
const cols = 4;
const logits = new Float32Array([1, 2, 3, 4, 4, 3, 2, 1]);

const wasm = await createWasmBackend();
const buf = wasm.alloc(rows * cols); // a WasmBuffer<'float32'> in the backend's linear memory
buf.view().set(logits); // write straight into wasm memory
wasm.softmaxBuffer(buf, { cols }); // in place: no copy in, no copy out
const probs = buf.view(); // the result, read where it lies (call view() again after any alloc)

const out = wasm.alloc(rows * cols);
wasm.logSoftmaxBuffer(buf, { cols, out }); // into another buffer: log(softmax(x)) here
const lse = wasm.bufferCall('logSumExp', [out], { cols }); // a new buffer, one value per row

const ref = softmax(logits, { cols }); // core, for comparison
for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(probs[i] - ref[i]) <= 1e-6 * ref[i]);
// log Σ exp(log p) = log 1 = 0 in each row.
for (const v of lse.view()) assert.ok(Math.abs(v) < 1e-6);

console.log('probabilities of row 0:', Array.from(buf.view().subarray(0, cols)));
lse.free();
out.free();
buf.free(); // a freed buffer's later use throws SoftmaxError INVALID_INPUT
wasm.dispose();
