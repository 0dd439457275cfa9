// Cross-entropy for fine-tuning: loss and gradient in one fused op, the gradient in place.
import assert from 'node:assert/strict';
import { crossEntropy } from '@softmax/core';
import { createWasmBackend } from '@softmax/wasm';

const rows = 3;
const cols = 5; // the vocabulary
const logits = new Float32Array(rows * cols).map((_, i) => Math.sin(i));
const targets = new Int32Array([2, -100, 4]); // -100 (ignoreIndex): a padding row, not counted

// Loss and d loss / d logits ('mean' over the counted rows, as PyTorch).
const { loss, grad } = crossEntropy(logits, targets, { cols, gradient: true, labelSmoothing: 0.1 });
assert.equal(loss.length, 1);
assert.ok(grad.subarray(cols, 2 * cols).every((g) => g === 0)); // the ignored row

// The gradient checked by central differences on one logit (float64 copy for precision).
const x64 = Float64Array.from(logits);
/** @param {Float64Array} x */
const f = (x) => crossEntropy(x, targets, { cols, labelSmoothing: 0.1 }).loss[0];
const j = 2 * cols + 1;
const h = 1e-6;
const plus = x64.slice();
const minus = x64.slice();
plus[j] += h;
minus[j] -= h;
assert.ok(Math.abs((f(plus) - f(minus)) / (2 * h) - grad[j]) < 1e-5);

// A training step on a backend: 'in-place' writes the gradient over the logits (no array of their
// size is allocated), gradScale folds in the learning rate, zLoss keeps log Σ exp near 0.
const wasm = await createWasmBackend();
const params = logits.slice(); // stands in for the last layer's output in a real model
let before = Infinity;
for (let step = 0; step < 5; step++) {
  const work = params.slice();
  const { loss: l } = wasm.crossEntropy(work, targets, { cols, gradient: 'in-place', gradScale: 0.5, zLoss: 1e-4 });
  for (let i = 0; i < params.length; i++) params[i] -= work[i]; // SGD with learning rate 0.5
  assert.ok(l[0] < before); // the loss goes down
  before = l[0];
}
console.log('loss after 5 steps:', before);
wasm.dispose();
