import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OP_NAMES } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.js');
const cjs = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'index.cjs');
const node = (code: string, env: Record<string, string> = {}) =>
  execFileSync(process.execPath, ['--input-type=module', '-e', code], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });

describe('the package entry (built)', () => {
  it('exports an async function and a sync twin for every op of core table', async () => {
    const mod = (await import(dist)) as Record<string, unknown>;
    for (const name of OP_NAMES) {
      expect(typeof mod[name], name).toBe('function');
      expect(typeof mod[`${name}Sync`], `${name}Sync`).toBe('function');
    }
  });

  it('the ESM build (three files, see tsup.config.ts) and the CommonJS build export the same', async () => {
    const kinds = (mod: Record<string, unknown>) =>
      Object.fromEntries(
        Object.keys(mod)
          .filter((k) => k !== 'default' && k !== 'module.exports')
          .sort()
          .map((k) => [k, typeof mod[k]]),
      );
    const esm = kinds((await import(dist)) as Record<string, unknown>);
    expect(Object.keys(esm).length).toBeGreaterThan(2 * OP_NAMES.length);
    expect(kinds(createRequire(import.meta.url)(cjs))).toEqual(esm);
  });

  it.each([
    ['ESM', dist],
    ['CommonJS', cjs],
  ])(
    '%s: the async functions load the default instance the sync twins use; bad input is rejected with SoftmaxError first',
    (_, file) => {
      const out = node(`
      const auto = await import(${JSON.stringify(file)});
      const { SoftmaxError } = await import('@softmax/core');
      const bad = await auto.softmax([1, 'a']).catch((e) => e);
      const y = await auto.softmax(new Float32Array([1, 2, 3]));
      const z = auto.softmaxSync(new Float32Array([1, 2, 3]));
      const buckets = auto.defaultInstance().explain().buckets.map((b) => b.op + ' ' + b.dtype + ' ' + b.calls);
      console.log(JSON.stringify({ bad: [bad instanceof SoftmaxError, bad.code], y: Array.from(y), z: Array.from(z), buckets }));
      await auto.defaultInstance().dispose();
    `);
      const r = JSON.parse(out);
      expect(r.bad).toEqual([true, 'INVALID_INPUT']);
      expect(r.y).toEqual(r.z);
      // the async calls and the sync call landed in one bucket of one instance
      expect(r.buckets).toEqual(['softmax float32 2']);
    },
  );

  it('importing does no work: no wasm compiled or instantiated, nothing put on globalThis, no timers left', () => {
    const out = node(`
      const compile = WebAssembly.compile, instantiate = WebAssembly.instantiate;
      let wasm = 0; WebAssembly.compile = (...a) => (wasm++, compile(...a)); WebAssembly.instantiate = (...a) => (wasm++, instantiate(...a));
      const before = new Set(Object.keys(globalThis));
      await import(${JSON.stringify(dist)});
      await new Promise((r) => setTimeout(r, 50));
      console.log(JSON.stringify({ wasm, globals: Object.keys(globalThis).filter((k) => !before.has(k)) }));
    `);
    expect(JSON.parse(out)).toEqual({ wasm: 0, globals: [] });
  });

  it('the first call compiles wasm in the background and returns core result at once; sync twins work', () => {
    const out = node(`
      const auto = await import(${JSON.stringify(dist)});
      const y = auto.softmaxSync([1, 2, 3]);
      const z = await auto.softmax(new Float32Array([1, 2, 3]));
      await auto.ready();
      const b = auto.defaultInstance().explain().backends.map((b) => b.id + ':' + b.status);
      console.log(JSON.stringify({ y: Array.from(y), z: Array.from(z), b }));
      await auto.defaultInstance().dispose();
    `);
    const r = JSON.parse(out);
    expect(r.y[2]).toBeCloseTo(0.6652409557748219, 15);
    expect(r.z[2]).toBeCloseTo(0.6652409557748219, 6);
    expect(r.b).toContain('wasm:available');
  });

  it('SOFTMAX_BACKEND forces the default instance; a bad value is an error that says the choices', () => {
    const code = `
      const auto = await import(${JSON.stringify(dist)});
      try { await auto.softmax(new Float32Array(2000)); } catch (e) { console.log(JSON.stringify({ error: e.code + ' ' + e.message })); process.exit(0); }
      const e = auto.defaultInstance().explain();
      console.log(JSON.stringify({ forced: e.forced, ids: e.backends.map((b) => b.id), source: e.buckets[0].source }));
      await auto.defaultInstance().dispose();
    `;
    expect(JSON.parse(node(code, { SOFTMAX_BACKEND: 'wasm' }))).toEqual({
      forced: 'wasm',
      ids: ['wasm'],
      source: 'forced',
    });
    expect(JSON.parse(node(code, { SOFTMAX_BACKEND: 'core' }))).toEqual({
      forced: 'core',
      ids: ['core'],
      source: 'forced',
    });
    expect(JSON.parse(node(code, { SOFTMAX_BACKEND: 'gpu' })).error).toMatch(
      /^INVALID_OPTION SOFTMAX_BACKEND must be one of 'core', 'wasm', 'webgpu'/,
    );
  });
});
