import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createSoftmax, jsonFileStore, localStorageStore, type Profile, STORE_KEY } from '../src/index.js';
import { fakeClock, fakeLoaders, logits } from './fakes.js';

const SPECS = {
  core: { fixed: 0.0005, perElement: 20e-6 },
  wasm: { fixed: 0.002, perElement: 2e-6 },
  wasmMt: { fixed: 0.004, perElement: 1e-6 },
};
const dir = mkdtempSync(join(tmpdir(), 'softmax-auto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function learned(extra = {}) {
  const clock = fakeClock();
  const auto = createSoftmax({
    clock: clock.now,
    backends: ['core', 'wasm'],
    loaders: fakeLoaders(clock, SPECS),
    ...extra,
  });
  await auto.ready();
  for (let i = 0; i < 20; i++) await auto.softmax(logits(1000));
  return auto;
}

describe('persistence', () => {
  it('round trip through a JSON file: a new instance starts from the record, with no exploring', async () => {
    const path = join(dir, 'profile.json');
    const first = await learned({ store: jsonFileStore(path) });
    await first.dispose();
    const record = JSON.parse(JSON.parse(readFileSync(path, 'utf8'))[STORE_KEY]) as Profile;
    expect(record.buckets[0]).toMatchObject({ op: 'softmax', dtype: 'float32', chosen: 'wasm' });
    const clock = fakeClock();
    const second = createSoftmax({
      clock: clock.now,
      backends: ['core', 'wasm'],
      store: jsonFileStore(path),
      loaders: fakeLoaders(clock, SPECS),
    });
    await second.ready();
    await second.softmax(logits(1000));
    const b = second.explain().buckets[0];
    expect(b.chosen).toBe('wasm');
    expect(b.source).toBe('persisted');
    expect(b.explored).toBe(0);
    await second.dispose();
  });

  it('localStorage store: the same record under the same key', async () => {
    const map = new Map<string, string>();
    const storage = {
      getItem: (k: string) => map.get(k) ?? null,
      setItem: (k: string, v: string) => void map.set(k, v),
    };
    const auto = await learned({ store: localStorageStore(storage) });
    await auto.flush();
    expect(JSON.parse(map.get(STORE_KEY)!).format).toBe('softmax-auto-profile');
    await auto.dispose();
  });

  it('exportProfile / importProfile, and profile-only mode uses only what was imported', async () => {
    const source = await learned();
    const profile = source.exportProfile();
    await source.dispose();
    const clock = fakeClock();
    const target = createSoftmax({
      clock: clock.now,
      backends: ['core', 'wasm'],
      mode: 'profile-only',
      loaders: fakeLoaders(clock, SPECS),
    });
    await target.ready();
    expect(target.importProfile(JSON.stringify(profile))).toMatchObject({ applied: 1, rejectedCandidates: [] });
    for (let i = 0; i < 10; i++) await target.softmax(logits(1000));
    const [b] = target.explain().buckets;
    expect(b).toMatchObject({ chosen: 'wasm', explored: 0 });
    // A bucket the profile lacks: the prediction decides, and nothing is explored.
    for (let i = 0; i < 10; i++) await target.softmax(logits(10));
    expect(target.explain().exploring.calls).toBe(0);
    await target.dispose();
  });

  it('a malformed profile is an error, never silently ignored', async () => {
    const auto = createSoftmax();
    expect(() => auto.importProfile('{"format":"fftw"}')).toThrow(/not a @softmax\/auto profile/);
    expect(() => auto.importProfile('not json')).toThrow(/invalid JSON/);
  });

  const fields: Array<[string, (p: Profile) => void, RegExp]> = [
    [
      'package',
      (p) => {
        p.fingerprint.package = '@softmax/auto 9.9.9';
      },
      /^package$/,
    ],
    [
      'runtimeVersion',
      (p) => {
        p.fingerprint.runtimeVersion = '18.0.0';
      },
      /^runtimeVersion$/,
    ],
    [
      'runtime',
      (p) => {
        p.fingerprint.runtime = 'browser';
      },
      /^runtime$/,
    ],
    [
      'cores',
      (p) => {
        p.fingerprint.cores = '128';
      },
      /^cores$/,
    ],
    [
      'crossOriginIsolated',
      (p) => {
        p.fingerprint.crossOriginIsolated = 'true';
      },
      /^crossOriginIsolated$/,
    ],
  ];
  for (const [name, change, field] of fields) {
    it(`a record whose ${name} differs is not used, and explain() names the field`, async () => {
      const source = await learned();
      const profile = source.exportProfile();
      await source.dispose();
      change(profile);
      const clock = fakeClock();
      const auto = createSoftmax({ clock: clock.now, backends: ['core', 'wasm'], loaders: fakeLoaders(clock, SPECS) });
      await auto.ready();
      const report = auto.importProfile(profile);
      expect(report.rejected?.field).toMatch(field);
      await auto.softmax(logits(1000));
      expect(auto.explain().buckets[0].source).not.toBe('imported');
      expect(auto.explain().profiles[0].rejected?.field).toMatch(field);
      await auto.dispose();
    });
  }

  it('wasm entries whose build differs are not used (the others are), named in explain()', async () => {
    const source = await learned();
    const profile = source.exportProfile();
    await source.dispose();
    profile.fingerprint.wasmBuild = 'fake 2';
    const clock = fakeClock();
    const auto = createSoftmax({ clock: clock.now, backends: ['core', 'wasm'], loaders: fakeLoaders(clock, SPECS) });
    await auto.ready();
    auto.importProfile(profile);
    const report = auto.explain().profiles[0];
    expect(report.rejectedCandidates.map((r) => `${r.candidate}:${r.field}`)).toEqual([
      'wasm:wasmBuild',
      'wasm-mt:wasmBuild',
    ]);
    await auto.dispose();
  });

  it('WebGPU entries are checked against the adapter when WebGPU loads', async () => {
    const clock = fakeClock();
    const specs = { ...SPECS, webgpu: { fixed: 0.1, perElement: 0.2e-6 } };
    const auto = createSoftmax({
      clock: clock.now,
      loaders: fakeLoaders(clock, specs, {
        gpuFingerprint: { gpuVendor: 'other', gpuArchitecture: 'a', gpuDevice: 'd', gpuFeatures: '' },
      }),
    });
    await auto.ready();
    const profile = auto.exportProfile();
    profile.fingerprint = {
      ...profile.fingerprint,
      gpuVendor: 'fake',
      gpuArchitecture: 'a',
      gpuDevice: 'd',
      gpuFeatures: '',
    };
    profile.buckets = [
      {
        op: 'softmax',
        dtype: 'float32',
        rows: 1,
        cols: 1_000_000,
        candidates: { webgpu: { median: 0.3, spread: 0, n: 20 } },
      },
    ];
    auto.importProfile(profile);
    expect(auto.explain().profiles[0].rejectedCandidates).toEqual([]);
    await auto.softmax(logits(1_000_000));
    await new Promise((r) => setTimeout(r, 10));
    expect(auto.explain().profiles[0].rejectedCandidates[0]).toMatchObject({ candidate: 'webgpu', field: 'gpuVendor' });
    await auto.dispose();
  });
});
