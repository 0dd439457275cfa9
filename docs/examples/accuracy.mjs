// The accuracy contract: each backend declares a bound that the conformance suite asserts on every
// element: |y − ref| ≤ rtol·|ref| + atol (atol only below the smallest normal number).
import assert from 'node:assert/strict';
import { softmax } from '@softmax/core';
import { createWasmBackend } from '@softmax/wasm';

const cols = 32000;
const logits = new Float32Array(4 * cols).map((_, i) => 8 * Math.sin(i * 0.37));

// core computes in float64 and rounds once: the reference (float64 in, float64 out).
const ref = softmax(Float64Array.from(logits), { cols });

const wasm = await createWasmBackend();
const y = wasm.softmax(logits, { cols }); // Float32Array in, Float32Array out

const rtol = 1e-6; // wasm's declared float32 rtol (core's is 2^-23, WebGPU's 2e-6)
const atol = 2 ** -126; // only matters for results below the smallest normal float32
let worst = 0;
for (let i = 0; i < y.length; i++) {
  const err = Math.abs(y[i] - ref[i]);
  assert.ok(err <= rtol * Math.abs(ref[i]) + atol, `element ${i}: ${y[i]} vs ${ref[i]}`);
  if (ref[i] > atol) worst = Math.max(worst, err / ref[i]);
}
console.log(`worst relative error of wasm float32 over ${y.length} elements: ${worst.toExponential(2)}`);
wasm.dispose();
