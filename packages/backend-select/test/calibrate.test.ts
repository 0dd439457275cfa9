import { describe, expect, it } from 'vitest';
import { createSoftmax } from '../src/index.js';
import { fakeClock, fakeLoaders } from './fakes.js';

const SPECS = {
  core: { fixed: 0.0005, perElement: 20e-6 },
  wasm: { fixed: 0.002, perElement: 2e-6 },
  wasmMt: { fixed: 0.004, perElement: 1e-6 },
  webgpu: { fixed: 0.1, perElement: 0.2e-6 },
};

describe('calibrate()', () => {
  it('measures each shape until its bucket settles, waiting for WebGPU (which calls never do)', async () => {
    const clock = fakeClock();
    const auto = createSoftmax({ clock: clock.now, loaders: fakeLoaders(clock, SPECS) });
    await auto.calibrate([
      { rows: 1, cols: 10 },
      { rows: 1, cols: 1_000_000 },
    ]);
    const e = auto.explain();
    const at = (shape: string) => e.buckets.find((b) => b.shape === shape)!;
    expect(at('1×10')).toMatchObject({ op: 'softmax', dtype: 'float32', chosen: 'core', settled: true });
    // WebGPU was loaded and prepared by calibrate itself, so it competed and won the large bucket.
    expect(at('1×1000000')).toMatchObject({ chosen: 'webgpu', settled: true, source: 'measured' });
    expect(e.backends.find((b) => b.id === 'webgpu')!.status).toBe('available');
    await auto.dispose();
  });

  it('takes the ops and dtypes to calibrate', async () => {
    const clock = fakeClock();
    const auto = createSoftmax({ clock: clock.now, loaders: fakeLoaders(clock, SPECS), backends: ['core', 'wasm'] });
    await auto.calibrate([{ rows: 4, cols: 1000 }], { ops: ['logSoftmax', 'softmaxBackward'], dtypes: ['float64'] });
    const buckets = auto.explain().buckets.map((b) => `${b.op} ${b.dtype} ${b.shape} ${b.settled}`);
    expect(buckets.sort()).toEqual(['logSoftmax float64 4×1000 true', 'softmaxBackward float64 4×1000 true']);
    await auto.dispose();
  });

  it('stops once its budget is spent', async () => {
    const clock = fakeClock();
    const auto = createSoftmax({ clock: clock.now, loaders: fakeLoaders(clock, SPECS), backends: ['core', 'wasm'] });
    await auto.ready();
    const t0 = clock.t;
    // A call of 1 × 100,000 costs 0.2 ms (wasm) to 2 ms (core) on the fake clock: a 0.5 ms budget
    // ends calibration within the first shape, before the second shape's bucket is made.
    await auto.calibrate(
      [
        { rows: 1, cols: 100_000 },
        { rows: 1, cols: 10 },
      ],
      { budgetMs: 0.5 },
    );
    expect(clock.t - t0).toBeLessThanOrEqual(0.5 + 2.0005);
    const buckets = auto.explain().buckets;
    expect(buckets.map((b) => b.shape)).toEqual(['1×100000']);
    expect(buckets[0].calls).toBeGreaterThan(0);
    expect(buckets[0].settled).toBe(false);
    await auto.dispose();
  });
});
