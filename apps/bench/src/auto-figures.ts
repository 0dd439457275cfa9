import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AutoFigures } from './results.js';
import { summarize } from './stats.js';

const median = (v: number[]): number => summarize(v).median;

/** Where the child processes resolve @softmax/auto and @softmax/wasm from (this app's node_modules). */
const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const X10 = 'Float32Array.from([0.5, -1, 2, 3, 0, 1, -2, 4, 0.25, 1.5])';
const FIRST_CALL = {
  auto: `const t0 = performance.now(); const m = await import('@softmax/auto'); await m.softmax(${X10}, { cols: 10 }); const ms = performance.now() - t0; await m.defaultInstance().dispose(); process.stdout.write(String(ms));`,
  wasm: `const t0 = performance.now(); const m = await import('@softmax/wasm'); const b = await m.createWasmBackend(); b.softmax(${X10}, { cols: 10 }); const ms = performance.now() - t0; await b.dispose(); process.stdout.write(String(ms));`,
};

/** One fresh Node process per sample: module loading is what the first call pays, so it cannot repeat in-process. */
function firstCallMs(which: keyof typeof FIRST_CALL): number {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', FIRST_CALL[which]], {
    cwd: appDir,
    encoding: 'utf8',
    env: { ...process.env, SOFTMAX_BACKEND: '' },
  });
  const ms = Number(child.stdout);
  if (child.status !== 0 || !Number.isFinite(ms)) throw new Error(`first call (${which}): ${child.stderr.trim()}`);
  return ms;
}

/** ns per call of `fn` over `n` calls. */
function timeSync(fn: () => unknown, n: number): number {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) fn();
  return ((performance.now() - t0) * 1e6) / n;
}

async function timeAsync(fn: () => unknown, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return ((performance.now() - t0) * 1e6) / n;
}

/**
 * auto's costs that the scenarios cannot show: the first call in a fresh process (against creating
 * the wasm backend and calling it once), and the dispatch overhead at [1, 10] (auto's call against
 * the backend it chose, called directly, in interleaved rounds so machine load hits both alike).
 */
export async function measureAutoFigures(samples = 5, rounds = 15, callsPerRound = 4000): Promise<AutoFigures> {
  const auto: number[] = [];
  const wasm: number[] = [];
  for (let i = 0; i < samples; i++) {
    auto.push(firstCallMs('auto'));
    wasm.push(firstCallMs('wasm'));
  }

  const { createSoftmax } = await import('@softmax/auto');
  const instance = createSoftmax({ backends: ['core', 'wasm'] });
  await instance.ready();
  const x = new Float32Array([0.5, -1, 2, 3, 0, 1, -2, 4, 0.25, 1.5]);
  const opts = { cols: 10 };
  for (let i = 0; i < 2000; i++) {
    instance.softmaxSync(x, opts);
    await instance.softmax(x, opts);
  }
  const chosen = instance.explain().buckets.find((b) => b.op === 'softmax' && b.dtype === 'float32')?.chosen ?? 'core';
  const direct =
    chosen === 'core'
      ? (await import('@softmax/core')).createCoreBackend()
      : await (await import('@softmax/wasm')).createWasmBackend({
          threads: chosen === 'wasm' ? 1 : Math.min(16, os.availableParallelism()),
        });
  const t = {
    autoSync: [] as number[],
    directSync: [] as number[],
    autoAsync: [] as number[],
    directAsync: [] as number[],
  };
  for (let r = 0; r < rounds; r++) {
    t.autoSync.push(timeSync(() => instance.softmaxSync(x, opts), callsPerRound));
    t.directSync.push(timeSync(() => direct.softmax(x, opts), callsPerRound));
    t.autoAsync.push(await timeAsync(() => instance.softmax(x, opts), callsPerRound));
    t.directAsync.push(await timeAsync(() => direct.softmax(x, opts), callsPerRound));
  }
  await instance.dispose();
  await direct.dispose();
  return {
    firstCallAuto: median(auto) * 1e6,
    firstCallWasm: median(wasm) * 1e6,
    dispatch: {
      chosen,
      autoSync: median(t.autoSync),
      directSync: median(t.directSync),
      autoAsync: median(t.autoAsync),
      directAsync: median(t.directAsync),
    },
  };
}
