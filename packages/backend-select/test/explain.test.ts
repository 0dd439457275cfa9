import { describe, expect, it } from 'vitest';
import { createSoftmax, type Explain, formatExplain } from '../src/index.js';
import { fakeClock, fakeLoaders, logits } from './fakes.js';

const EXPLAIN: Explain = {
  mode: 'learn',
  verify: true,
  persistence: 'on',
  fingerprint: {} as Explain['fingerprint'],
  backends: [
    {
      id: 'core',
      backend: 'core',
      status: 'available',
      details: {},
      cold: { init: 0.05 },
      model: { fixed: 0.0004, perElement: 25e-6 },
      served: 3,
    },
    {
      id: 'wasm-mt',
      backend: 'wasm',
      threads: 2,
      status: 'unavailable',
      reason: 'threads: 2 is not possible here: SharedArrayBuffer is not available',
      details: {},
      cold: {},
      model: { fixed: 0.003, perElement: 1.6e-6 },
      served: 0,
    },
    {
      id: 'webgpu',
      backend: 'webgpu',
      status: 'excluded',
      reason: 'the canary disagrees with core: softmax float32 [0] is 0.5, core gives 0.25',
      details: { adapter: 'google / swiftshader' },
      cold: { 'adapter + device': 12.5, canary: 800 },
      canary: 'FAILED: softmax float32 [0] is 0.5, core gives 0.25',
      model: { fixed: 0.4, perElement: 20e-6 },
      served: 0,
    },
  ],
  buckets: [
    {
      bucket: 'softmax float32 1×[8, 16)',
      op: 'softmax',
      dtype: 'float32',
      shape: '1×10',
      calls: 7,
      chosen: 'core',
      source: 'measured',
      settled: true,
      explored: 1,
      candidates: [
        {
          id: 'core',
          medianMs: 0.0005,
          spread: 0.1,
          samples: 6,
          source: 'measured',
          predictedMs: 0.0006,
          dropped: false,
        },
        { id: 'webgpu', predictedMs: 0.6, samples: 0, dropped: true },
      ],
    },
  ],
  failures: [{ at: 1, candidate: 'webgpu', op: 'softmax', code: 'DEVICE_LOST', message: 'lost', servedBy: 'core' }],
  demotions: [{ at: 2, candidate: 'webgpu', coolDownMs: 30_000, afterFailures: 3 }],
  profiles: [
    {
      source: 'persisted',
      applied: 0,
      rejected: { field: 'cores', recorded: '8', current: '2' },
      rejectedCandidates: [{ candidate: 'wasm', field: 'wasmBuild', recorded: 'abi 1', current: 'abi 2' }],
    },
  ],
  exploring: { calls: 1, ms: 0.6, excessMs: 0.5995 },
};

describe('formatExplain()', () => {
  it('prints every backend with its status and reason, the buckets, failures, demotions and profiles', () => {
    expect(formatExplain(EXPLAIN).split('\n')).toEqual([
      '@softmax/auto — mode learn, canary on, persistence on',
      '',
      'Backends',
      'candidate            status       cold costs                                   per call (softmax f32)    served  canary / reason',
      'core                 available    init 50.0 µs                                 0.40 µs + 25.00 ns/elem   3       —',
      'wasm-mt (2 threads)  unavailable  —                                            3.00 µs + 1.60 ns/elem    0       threads: 2 is not possible here: SharedArrayBuffer is not available',
      'webgpu               excluded     adapter + device 12.50 ms, canary 800.00 ms  400.0 µs + 20.00 ns/elem  0       the canary disagrees with core: softmax float32 [0] is 0.5, core gives 0.25; FAILED: softmax float32 [0] is 0.5, core gives 0.25; adapter: google / swiftshader',
      '',
      'Buckets (median ± spread of the whole call, per candidate; * chosen)',
      'bucket                calls  chosen  from      core               wasm-mt  webgpu',
      'softmax float32 1×10  7      core    measured  *0.50 µs ±10% n=6           (predicted 600.0 µs)',
      '',
      'Exploring: 1 calls, 600.0 µs (599.5 µs beyond the choice)',
      '',
      'Failures',
      '  webgpu softmax: DEVICE_LOST lost → served by core',
      '  demoted webgpu after 3 failures, cool-down 30000.00 ms',
      '',
      'Profile (persisted): not used: cores differs (recorded 8, here 2)',
      '  wasm entries not used: wasmBuild differs (recorded abi 1, here abi 2)',
    ]);
  });

  it('through an instance: a forced backend, and a throwing candidate with the one that served instead', async () => {
    const clock = fakeClock();
    const forced = createSoftmax({ backend: 'core', clock: clock.now });
    await forced.softmax(logits(10));
    expect(formatExplain(forced.explain()).split('\n')[0]).toBe(
      '@softmax/auto — mode learn, forced to core, canary on, persistence off',
    );
    await forced.dispose();

    const auto = createSoftmax({
      clock: clock.now,
      backends: ['core', 'wasm'],
      threads: 1,
      // No canary, which would exclude this wasm before its first call: the failure is the call's.
      verify: false,
      loaders: fakeLoaders(clock, {
        core: { fixed: 0.01, perElement: 1e-6 },
        wasm: { fixed: 0, perElement: 1e-9, fail: () => new WebAssembly.RuntimeError('unreachable') },
      }),
    });
    await auto.ready();
    // At 1 × 10,000 the priors put wasm first; it throws, and core serves the same call.
    expect(await auto.softmax(logits(10_000))).toBeInstanceOf(Float32Array);
    const text = formatExplain(auto.explain());
    expect(text.split('\n')[0]).toBe('@softmax/auto — mode learn, canary off, persistence off');
    expect(text).toContain('\nFailures\n  wasm softmax: RuntimeError unreachable → served by core');
    // One failure does not move the bucket (3 in a row demote wasm): core's measured time sits
    // beside wasm's prediction, which is still the choice.
    expect(text).toMatch(/\nsoftmax float32 1×10000 +1 +wasm +prior +20\.0 µs ±0% n=1 +\*\(predicted 21\.5 µs\)\n/);
    await auto.dispose();
  });
});
