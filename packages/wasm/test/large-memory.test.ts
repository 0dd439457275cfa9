import {
  logSoftmaxScale,
  oracleLogSoftmax,
  oracleSoftmax,
  oracleSoftmaxBackward,
  softmaxBackwardScale,
  uniform,
} from '@softmax/conformance/helpers';
import { SoftmaxError } from '@softmax/core';
import { expect, it } from 'vitest';
import { createWasmBackend } from '../dist/index.js';
import { expectAccurate } from './helpers.js';

/**
 * Linear memory past 2 GiB, where int32 arithmetic on addresses wraps. A 2 GiB buffer that is never
 * written costs address space, not RAM: V8 reserves wasm memory up front and the pages of a grown
 * memory are only committed when touched (RSS grows by a few MB here).
 */
it('alloc(2**30) of float32 (4 GiB) is refused with INVALID_SHAPE instead of aliasing the next block', async () => {
  const backend = await createWasmBackend();
  const before = backend.memoryBytes;
  let error: unknown;
  try {
    backend.alloc(2 ** 30);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(SoftmaxError);
  expect((error as SoftmaxError).code).toBe('INVALID_SHAPE');
  expect((error as SoftmaxError).message).toMatch(/alloc\(1073741824, 'float32'\).*4 GiB/);
  expect(backend.memoryBytes).toBe(before);
  const a = backend.alloc(4);
  const b = backend.alloc(4);
  expect(b.byteOffset).toBeGreaterThanOrEqual(a.byteOffset + 16);
});

it('buffers and copying calls work with memory past 2 GiB, and reuse their blocks', async () => {
  const backend = await createWasmBackend();
  const rssBefore = process.memoryUsage().rss;
  const big = backend.alloc(2 ** 29 + 2 ** 16); // 2 GiB + 256 KiB, never written
  expect(big.byteOffset).toBeGreaterThan(0);
  expect(backend.memoryBytes).toBeGreaterThanOrEqual(big.byteOffset + 4 * big.length);
  expect(big.view().length).toBe(big.length);

  // A buffer above 2 GiB: its address, passed to the kernel, is past int32.
  const cols = 1000;
  const small = backend.alloc(4 * cols);
  expect(small.byteOffset).toBeGreaterThanOrEqual(big.byteOffset + 4 * big.length);
  expect(small.byteOffset).toBeGreaterThan(2 ** 31);
  const x = Float32Array.from(uniform(4 * cols, -10, 10, 31));
  small.view().set(x);
  backend.softmaxBuffer(small, { cols });
  expectAccurate(small.view(), oracleSoftmax(x, { cols }), { rtol: 1e-6 });

  // Copying calls whose rows exceed the 256 KiB scratch block take a temporary block above 2 GiB.
  const row = Float32Array.from(uniform(100_000, -10, 10, 32));
  const wide = Float64Array.from(uniform(2 * 50_000, -10, 10, 33));
  const y = oracleSoftmax(wide, { cols: 50_000 }) as Float64Array;
  const dy = Float64Array.from(uniform(y.length, -1, 1, 34));
  const backwardRef = oracleSoftmaxBackward(y, dy, { cols: 50_000 });
  const backwardTolerance = { rtol: 1e-12, scale: softmaxBackwardScale(y, dy, 50_000, 1) };
  let grown = 0;
  const logRef = oracleLogSoftmax(wide, { cols: 50_000 });
  const logTolerance = { rtol: 1e-12, scale: logSoftmaxScale(logRef) };
  for (let round = 0; round < 2; round++) {
    expectAccurate(backend.softmax(row), oracleSoftmax(row), { rtol: 1e-6 });
    expectAccurate(backend.logSoftmax(wide, { cols: 50_000 }), logRef, logTolerance);
    expectAccurate(backend.softmaxBackward(y, dy, { cols: 50_000 }), backwardRef, backwardTolerance);
    if (round === 0) grown = backend.memoryBytes;
  }
  expect(backend.memoryBytes).toBe(grown); // the temporary blocks were released and reused
  expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 2 ** 20);
  small.free();
  big.free();
});
