import { describe, expect, it } from 'vitest';
import { createSoftmax } from '../src/index.js';
import { fakeClock, fakeLoaders, logits } from './fakes.js';

const SPECS = {
  core: { fixed: 0.0005, perElement: 20e-6 },
  wasm: { fixed: 0.002, perElement: 2e-6 },
};

describe('a coarse clock (browsers without cross-origin isolation: 100 µs steps)', () => {
  it('calls that read 0 ms do not spoil the predictions of other buckets', async () => {
    const clock = fakeClock();
    const coarse = () => Math.floor(clock.t / 0.1) * 0.1;
    const auto = createSoftmax({ clock: coarse, loaders: fakeLoaders(clock, SPECS), backends: ['core', 'wasm'] });
    await auto.ready();
    // 1 × 1000 costs 0.004 ms on wasm: almost every call reads 0 on this clock.
    const small = logits(1000);
    for (let i = 0; i < 20; i++) await auto.softmax(small);
    // 64 × 32000 costs 4 ms on wasm and 41 ms on core: wasm must be predicted, tried and chosen.
    const large = logits(64 * 32000);
    for (let i = 0; i < 10; i++) await auto.softmax(large, { cols: 32000 });
    const e = auto.explain();
    const wasm = e.backends.find((b) => b.id === 'wasm')!;
    expect(Number.isFinite(wasm.model.fixed) && Number.isFinite(wasm.model.perElement)).toBe(true);
    const bucket = e.buckets.find((b) => b.shape === '64×32000')!;
    for (const c of bucket.candidates) expect(Number.isFinite(c.predictedMs), c.id).toBe(true);
    expect(bucket.chosen).toBe('wasm');
    await auto.dispose();
  });
});
