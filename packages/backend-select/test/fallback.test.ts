import { createCoreBackend, SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { createSoftmax } from '../src/index.js';
import { fakeClock, fakeLoaders, logits } from './fakes.js';

const core = createCoreBackend();
const expected = (x: Float32Array | Float64Array) => Array.from(core.softmax(x) as ArrayLike<number>);
const values = (y: Float32Array | Float64Array) => Array.from(y);
/** core as a candidate that costs 20 ns per element on the fake clock. */
const CORE = { fixed: 0.0005, perElement: 20e-6 };

describe('fallback: every failure gives a correct result and a recorded reason', () => {
  it('an init failure: the call is served by another candidate', async () => {
    const clock = fakeClock();
    const loaders = fakeLoaders(clock, { wasm: { fixed: 0.001, perElement: 1e-7 } });
    const auto = createSoftmax({
      clock: clock.now,
      threads: 1,
      backends: ['core', 'wasm'],
      loaders: { ...loaders, wasm: async () => Promise.reject(new Error('wasm compile failed: out of memory')) },
    });
    const x = logits(1000);
    expect(values(await auto.softmax(x))).toEqual(expected(x));
    await auto.ready();
    const e = auto.explain();
    expect(e.backends.find((b) => b.id === 'wasm')).toMatchObject({ status: 'unavailable' });
    expect(e.backends.find((b) => b.id === 'wasm')!.reason).toMatch(/out of memory/);
    expect(e.failures[0]).toMatchObject({ candidate: 'wasm', op: 'init' });
    await auto.dispose();
  });

  it('device lost mid-call: retried on the CPU, pipelines prepared again', async () => {
    const clock = fakeClock();
    const lost = new SoftmaxError('DEVICE_LOST', 'the GPU device was lost (unknown): test');
    let lose = false;
    const auto = createSoftmax({
      clock: clock.now,
      backends: ['core', 'webgpu'],
      loaders: fakeLoaders(clock, {
        core: CORE,
        webgpu: {
          fixed: 0,
          perElement: 1e-9,
          fail: () => {
            if (!lose) return undefined;
            lose = false;
            return lost;
          },
        },
      }),
    });
    const x = logits(100_000);
    for (let i = 0; i < 3; i++) await auto.softmax(x);
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 20; i++) await auto.softmax(x);
    expect(auto.explain().buckets[0].chosen).toBe('webgpu');
    lose = true;
    expect(values(await auto.softmax(x))).toEqual(expected(x));
    expect(lose).toBe(false);
    const e = auto.explain();
    expect(e.failures).toHaveLength(1);
    expect(e.failures[0]).toMatchObject({ candidate: 'webgpu', code: 'DEVICE_LOST', servedBy: 'core' });
    // The pipelines went with the device: prepared again in the background, then WebGPU is back.
    await auto.softmax(x);
    await new Promise((r) => setTimeout(r, 10));
    for (let i = 0; i < 5; i++) await auto.softmax(x);
    expect(auto.explain().buckets[0].chosen).toBe('webgpu');
    await auto.dispose();
  });

  it('a kernel that keeps throwing is demoted, and tried again after its cool-down', async () => {
    const clock = fakeClock();
    let broken = false;
    const auto = createSoftmax({
      clock: clock.now,
      threads: 1,
      backends: ['core', 'wasm'],
      breaker: { failures: 3, coolDownMs: 1000 },
      loaders: fakeLoaders(clock, {
        core: CORE,
        wasm: {
          fixed: 0,
          perElement: 1e-7,
          fail: () => (broken ? new RangeError('wasm trap: unreachable') : undefined),
        },
      }),
    });
    await auto.ready();
    broken = true;
    // In place: the failing kernel writes NaN over the input first; the retry must see the caller's values.
    for (let i = 0; i < 30; i++) {
      const x = logits(1000);
      const want = expected(x);
      expect(values(await auto.softmax(x, { out: x }))).toEqual(want);
    }
    let e = auto.explain();
    expect(e.demotions).toHaveLength(1);
    expect(e.demotions[0]).toMatchObject({ candidate: 'wasm', afterFailures: 3 });
    expect(e.failures.slice(0, 3).every((f) => f.servedBy === 'core' && /trap/.test(f.message))).toBe(true);
    expect(e.backends.find((b) => b.id === 'wasm')!.status).toBe('demoted');
    broken = false;
    clock.t += 1001;
    for (let i = 0; i < 40; i++) await auto.softmax(logits(1000));
    e = auto.explain();
    expect(e.backends.find((b) => b.id === 'wasm')!.status).toBe('available');
    expect(e.buckets[0].chosen).toBe('wasm');
    await auto.dispose();
  });

  it('a canary mismatch excludes the backend, says why, and calls stay correct', async () => {
    const clock = fakeClock();
    const auto = createSoftmax({
      clock: clock.now,
      threads: 1,
      backends: ['core', 'wasm'],
      loaders: fakeLoaders(clock, { core: CORE, wasm: { fixed: 0, perElement: 1e-9, wrong: true } }),
    });
    await auto.ready();
    const x = logits(1000);
    for (let i = 0; i < 10; i++) expect(values(await auto.softmax(x))).toEqual(expected(x));
    const wasm = auto.explain().backends.find((b) => b.id === 'wasm')!;
    expect(wasm.status).toBe('excluded');
    expect(wasm.reason).toMatch(/canary disagrees with core: softmax float32/);
    await auto.dispose();
  });

  it('bad input is rejected once, up front, with core error, and no backend runs', async () => {
    const clock = fakeClock();
    const calls = { n: 0 };
    const auto = createSoftmax({
      clock: clock.now,
      threads: 1,
      backends: ['core', 'wasm'],
      verify: false,
      loaders: fakeLoaders(clock, { wasm: { fixed: 0, perElement: 1e-9, calls } }),
    });
    await auto.ready();
    let coreError: unknown;
    try {
      core.softmax(new Float32Array(6), { cols: 4 });
    } catch (e) {
      coreError = e;
    }
    await expect(auto.softmax(new Float32Array(6), { cols: 4 })).rejects.toEqual(coreError);
    expect(() => auto.softmaxSync(new Float32Array(6), { cols: 4 })).toThrow((coreError as Error).message);
    expect(calls.n).toBe(0);
    expect(auto.explain().failures).toHaveLength(0);
    await auto.dispose();
  });
});
