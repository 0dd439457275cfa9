import { oracleSoftmax, seededRandom } from '@softmax/conformance/helpers';
import { expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { expectAccurate } from './helpers.js';

// threads: 2 as well, whose copying calls take two pipeline blocks and whose workers have stacks.
it.each([1, 2])(
  'memory stays bounded over 10,000 calls of random sizes (copying and zero-copy), threads: %i',
  async (threads) => {
    const backend = await createWasmBackend({ threads });
    const next = seededRandom(42);
    const MAX = 100_000; // elements per call
    const initial = backend.memoryBytes;
    let grownAfterHalf = 0;
    let checked = 0;
    for (let call = 0; call < 10_000; call++) {
      const cols = 1 + Math.floor(next() ** 3 * 20_000);
      const rows = Math.max(1, Math.floor(next() * Math.min(64, MAX / cols)));
      const f64 = next() < 0.25;
      const x = f64 ? new Float64Array(rows * cols) : new Float32Array(rows * cols);
      for (let i = 0; i < x.length; i += 97) x[i] = -5 + 10 * next();
      const before = backend.memoryBytes;
      const kind = call % 3;
      if (kind === 0) {
        const y = backend.softmax(x, { cols });
        if (call % 500 === 0) {
          expectAccurate(y, oracleSoftmax(x, { cols }), { rtol: f64 ? 1e-12 : 1e-6 });
          checked++;
        }
      } else if (kind === 1) {
        backend.logSoftmaxBackward(x, x, { cols });
      } else {
        const buf = backend.alloc(x.length, f64 ? 'float64' : 'float32');
        buf.view().set(x);
        backend.softmaxBuffer(buf, { cols });
        buf.free();
      }
      if (call >= 5_000 && backend.memoryBytes > before) grownAfterHalf++;
    }
    // The largest single need is one call's input (MAX elements of float64, 800 kB) next to the 256 KiB
    // scratch block: with freed blocks merged and reused, memory never needs more than a few times that.
    const bound = initial + 3 * (MAX * 8 + 256 * 1024);
    expect(checked).toBeGreaterThan(0);
    expect(backend.memoryBytes).toBeLessThanOrEqual(bound);
    expect(grownAfterHalf).toBeLessThanOrEqual(2);
  },
);

it('a large call and many small ones reuse the same memory', async () => {
  const backend = await createWasmBackend();
  backend.softmax(new Float32Array(1_000_000));
  const afterLarge = backend.memoryBytes;
  for (let i = 0; i < 2_000; i++) backend.softmax(new Float32Array(10 * (10 + (i % 50))), { cols: 10 });
  backend.softmax(new Float32Array(1_000_000));
  expect(backend.memoryBytes).toBe(afterLarge);
});
