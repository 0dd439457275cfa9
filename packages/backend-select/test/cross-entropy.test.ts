import { createCoreBackend } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { createSoftmax } from '../src/index.js';
import { fakeClock, fakeLoaders } from './fakes.js';

/*
 * crossEntropy through auto, which has no code of its own for it: a call goes to a candidate that
 * declares the op (fallback by capability), and the result is core's { loss, grad?, lse? }.
 */

const core = createCoreBackend();
const COLS = 8;
const logits = Float32Array.from({ length: 4 * COLS }, (_, i) => Math.sin(i * 0.7) * 3);
const targets = Int32Array.from([3, -100, 0, 7]);
const options = { cols: COLS, labelSmoothing: 0.1, zLoss: 1e-3, gradient: true, returnLse: true } as const;

describe('crossEntropy through @softmax/auto', () => {
  it('the real wasm backend declares the op: auto serves it from a candidate that has it, async and sync', async () => {
    const auto = createSoftmax({ backends: ['core', 'wasm'], threads: 1 });
    await auto.ready();
    const expected = core.crossEntropy(logits, targets, options);
    const wasm = auto.explain().backends.find((b) => b.id === 'wasm');
    expect(wasm?.status, `wasm: ${wasm?.reason}`).toBe('available');
    // Core computes in float64 and rounds once; wasm's float32 result is within a few float32 ulps.
    const close = (got: ArrayLike<number>, want: ArrayLike<number>) => {
      expect(got.length).toBe(want.length);
      for (let i = 0; i < want.length; i++)
        expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * (1 + Math.abs(want[i])));
    };
    for (const r of [
      await auto.crossEntropy(logits, targets, options),
      auto.crossEntropySync(logits, targets, options),
    ]) {
      expect(Object.keys(r).sort()).toEqual(['grad', 'loss', 'lse']);
      close(r.loss, expected.loss);
      close(r.grad, expected.grad);
      close(r.lse, expected.lse);
    }
    const bucket = auto.explain().buckets.find((b) => b.op === 'crossEntropy');
    expect(bucket?.candidates.map((c) => c.id)).toContain('wasm');
    // In place through auto: the logits array comes back as grad.
    const x = logits.slice();
    const inPlace = await auto.crossEntropy(x, targets, { ...options, gradient: 'in-place' });
    expect(inPlace.grad).toBe(x);
    close(x, expected.grad);
    // Bad input is core's error, once.
    await expect(auto.crossEntropy(logits, [0, 1, 9, 2], { cols: COLS })).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
    await auto.dispose();
  });

  it('sample, which the real wasm backend declares too: its canary passes, core’s tokens, async and sync', async () => {
    const auto = createSoftmax({ backends: ['core', 'wasm'], threads: 1 });
    await auto.ready();
    const sampleOptions = { cols: COLS, seed: 7, topK: 3 } as const;
    const expected = core.sample(logits, sampleOptions);
    for (const r of [await auto.sample(logits, sampleOptions), auto.sampleSync(logits, sampleOptions)]) {
      expect(Array.from(r.tokens)).toEqual(Array.from(expected.tokens));
    }
    const bucket = auto.explain().buckets.find((b) => b.op === 'sample');
    expect(bucket?.candidates.map((c) => c.id)).toEqual(['core', 'wasm']);
    await auto.dispose();
  });

  it('a candidate that declares the op passes the canary (built from the declaration) and serves it', async () => {
    const clock = fakeClock();
    const calls = { n: 0 };
    const auto = createSoftmax({
      clock: clock.now,
      threads: 1,
      backends: ['core', 'wasm'],
      loaders: fakeLoaders(clock, {
        core: { fixed: 1, perElement: 1e-3 },
        wasm: { fixed: 0.001, perElement: 1e-7, calls },
      }),
    });
    await auto.ready();
    const expected = core.crossEntropy(logits, targets, { ...options, reduction: 'none' });
    for (let i = 0; i < 40; i++) {
      const r = await auto.crossEntropy(logits, targets, { ...options, reduction: 'none' });
      expect(Array.from(r.loss)).toEqual(Array.from(expected.loss));
    }
    const e = auto.explain();
    expect(e.backends.find((b) => b.id === 'wasm')?.status).toBe('available');
    expect(e.buckets.find((b) => b.op === 'crossEntropy')?.chosen).toBe('wasm');
    expect(calls.n).toBeGreaterThan(0);
    await auto.dispose();
  });
});
