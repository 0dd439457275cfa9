import { describe, expect, it } from 'vitest';
import { createSoftmax, type Loaders } from '../src/index.js';
import { fakeClock, fakeLoaders, logits } from './fakes.js';

const SPECS = {
  core: { fixed: 0.0005, perElement: 20e-6 },
  wasm: { fixed: 0.002, perElement: 2e-6 },
  webgpu: { fixed: 0.1, perElement: 0.2e-6 },
};

/** Fake loaders whose WebGPU reports a software adapter (as SwiftShader does). */
function softwareGpu(clock: { t: number }): Partial<Loaders> {
  const loaders = fakeLoaders(clock, SPECS);
  return {
    ...loaders,
    webgpu: async (o) => ({
      ...(await loaders.webgpu!(o)),
      software: true,
      details: { adapter: 'google / swiftshader', software: 'true' },
    }),
  };
}

describe('excludeSoftwareGpu', () => {
  it('excludes a software adapter, with the adapter named, and serves from the CPU backends', async () => {
    const clock = fakeClock();
    const auto = createSoftmax({
      clock: clock.now,
      backends: ['core', 'wasm', 'webgpu'],
      threads: 1,
      loaders: softwareGpu(clock),
      excludeSoftwareGpu: true,
    });
    await auto.calibrate([{ rows: 1, cols: 1_000_000 }]);
    const e = auto.explain();
    const gpu = e.backends.find((b) => b.id === 'webgpu')!;
    expect(gpu.status).toBe('excluded');
    expect(gpu.reason).toBe('a software adapter (google / swiftshader), and excludeSoftwareGpu is set');
    expect(gpu.served).toBe(0);
    expect(e.buckets[0].chosen).toBe('wasm');
    await auto.dispose();
  });

  it('without it, the same adapter is verified and kept, priced as the slow CPU it is (never tried at 1 × 1,000,000)', async () => {
    const clock = fakeClock();
    const auto = createSoftmax({
      clock: clock.now,
      backends: ['core', 'wasm', 'webgpu'],
      threads: 1,
      loaders: softwareGpu(clock),
    });
    await auto.calibrate([{ rows: 1, cols: 1_000_000 }]);
    const e = auto.explain();
    const gpu = e.backends.find((b) => b.id === 'webgpu')!;
    expect(gpu.status).toBe('available');
    expect(gpu.canary).toMatch(/^passed/);
    const bucket = e.buckets[0];
    expect(bucket.chosen).toBe('wasm');
    const wasm = bucket.candidates.find((c) => c.id === 'wasm')!;
    const webgpu = bucket.candidates.find((c) => c.id === 'webgpu');
    // The software prior (0.4 ms + 20 ns/element: 20.4 ms) is about ten times wasm's measured cost here.
    expect(webgpu?.medianMs).toBeUndefined();
    expect(auto.bucketOf('softmax', 'float32', 1, 1_000_000)!.stats.get('webgpu')?.size ?? 0).toBe(0);
    expect(wasm.medianMs! * 5).toBeLessThan(20.4);
    expect(await auto.softmax(logits(1_000_000))).toHaveLength(1_000_000);
    await auto.dispose();
  });
});
