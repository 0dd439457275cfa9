import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { oracleSoftmax, uniform } from '@softmax/conformance/helpers';
import { type FloatArray, SoftmaxError } from '@softmax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../dist/index.js';
import { expectAccurate, expectSame } from './helpers.js';

const one = await createWasmBackend({ threads: 1 });
const two = await createWasmBackend({ threads: 2 });
afterAll(() => {
  one.dispose();
  two.dispose();
});

const code = async (f: () => unknown) => {
  try {
    await f();
  } catch (error) {
    expect(error).toBeInstanceOf(SoftmaxError);
    return `${(error as SoftmaxError).code}: ${(error as SoftmaxError).message}`;
  }
  return 'no error';
};

describe('the threads option', () => {
  it('is validated, and refused where threads cannot run', async () => {
    for (const bad of [0, 1.5, 17, -1, Number.NaN, '2']) {
      expect(await code(() => createWasmBackend({ threads: bad as number }))).toMatch(
        /^INVALID_OPTION: threads must be an integer from 1 to 16, got /,
      );
    }
    expect(await code(() => createWasmBackend({ simd: false, threads: 2 }))).toMatch(
      /^BACKEND_UNAVAILABLE: threads: 2 is not possible here: threads run the SIMD build/,
    );
    expect((await createWasmBackend({ simd: false })).threads).toBe(1);
  });

  it('defaults to half the processors Node offers, rounded up (at most 8)', async () => {
    const { availableParallelism } = await import('node:os');
    const backend = await createWasmBackend();
    expect(backend.threads).toBe(Math.min(Math.ceil(availableParallelism() / 2), 8));
    backend.dispose();
  });
});

type Dtype = 'float32' | 'float64';
const make = (dtype: Dtype, values: number[]): FloatArray =>
  dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);

/** Shapes above the 65,536-element threshold: many rows, a few long rows, rows that do not divide evenly. */
const SHAPES: [number, number][] = [
  [64, 2000],
  [3, 40_000],
  [257, 300],
  [3, 200_000], // rows too long for the pipeline's 1 MiB blocks
];

describe('rows split between threads give the single-thread bits', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [rows, cols] of SHAPES) {
      it(`${dtype} ${rows}×${cols}: forward and backward, copying and zero-copy`, () => {
        const n = rows * cols;
        const x = make(dtype, uniform(n, -30, 30, rows));
        const dy = make(dtype, uniform(n, -1, 1, cols));
        const options = { cols, temperature: 0.8 };
        for (const op of ['softmax', 'logSoftmax'] as const) {
          const want = one[op](x, options);
          expectSame(two[op](x, options), want);
          // Into a caller's array, and from an input that already lies in the threads' memory.
          const out = make(dtype, new Array(n).fill(0));
          two[op](x, { ...options, out });
          expectSame(out, want);
          const buf = two.alloc(n, dtype);
          buf.view().set(x);
          expectSame(two[op](buf.view(), options), want);
          // Zero-copy: a separate out buffer, then in place.
          const outBuf = two.alloc(n, dtype);
          two[`${op}Buffer`](buf, { ...options, out: outBuf });
          expectSame(outBuf.view(), want);
          two[`${op}Buffer`](buf, options);
          expectSame(buf.view(), want);
          buf.free();
          outBuf.free();
        }
        for (const op of ['softmaxBackward', 'logSoftmaxBackward'] as const) {
          const y = op === 'softmaxBackward' ? one.softmax(x, options) : one.logSoftmax(x, options);
          const want = one[op](y, dy, options);
          expectSame(two[op](y, dy, options), want);
          const [yb, dyb] = [two.alloc(n, dtype), two.alloc(n, dtype)];
          yb.view().set(y);
          dyb.view().set(dy);
          two[`${op}Buffer`](yb, dyb, options);
          expectSame(dyb.view(), want);
          yb.free();
          dyb.free();
        }
      });
    }
  }
});

describe('one long float32 softmax row split into pieces', () => {
  const cols = 300_000;

  it('is within the contract, near the single-thread result, and the same on every call', () => {
    const x = Float32Array.from(uniform(cols, -40, 40, 11));
    for (const temperature of [1, 0.37, 3]) {
      const got = two.softmax(x, { temperature });
      expectAccurate(got, oracleSoftmax(x, { temperature }), { rtol: 1e-6 });
      const single = one.softmax(x, { temperature });
      let worst = 0;
      for (let i = 0; i < cols; i++) {
        // Entries far below the max are flushed to 0 by both (the same constants).
        if (got[i] !== single[i]) worst = Math.max(worst, Math.abs(got[i] - single[i]) / single[i]);
      }
      expect(worst).toBeLessThan(1e-6);
      // The pieces' sums are added in piece order, whichever thread ran them.
      for (let k = 0; k < 5; k++) expectSame(two.softmax(x, { temperature }), got);
    }
  });

  /** Rows the pieces cannot handle: the whole-row kernel runs instead, so the bits are the single thread's. */
  const nan = (at: number, bits: number) => (x: Float32Array) => {
    new Uint32Array(x.buffer, x.byteOffset, x.length)[at] = bits;
  };
  const special: [string, (x: Float32Array) => void, object][] = [
    ['a NaN in the last piece', (x) => (x[cols - 5] = Number.NaN), {}],
    ['a NaN in the first piece', nan(5, 0x7fc00000), {}],
    // NaNs whose payload the exp pass's integer add could turn into finite values.
    ['a NaN 0x7fc00001 in the first piece', nan(5, 0x7fc00001), {}],
    ['a NaN 0x7fffffff in a middle piece', nan(cols / 2, 0x7fffffff), {}],
    ['a NaN 0xffffffff in the first piece', nan(0, 0xffffffff), {}],
    ['a signalling NaN 0x7f800001 in the first piece', nan(100, 0x7f800001), {}],
    ['+Infinity in a middle piece', (x) => (x[cols / 2] = Number.POSITIVE_INFINITY), {}],
    ['every entry −Infinity', (x) => x.fill(Number.NEGATIVE_INFINITY), {}],
    ['every entry −Infinity, fullyMasked zero', (x) => x.fill(Number.NEGATIVE_INFINITY), { fullyMasked: 'zero' }],
    ['a temperature below the fast path', () => {}, { temperature: 1e-13 }],
    ['a max too large for the fast path', (x) => (x[7] = 1e6), {}],
  ];
  for (const [name, edit, options] of special) {
    it(`${name}: the single-thread bits, copying and in place`, () => {
      const x = Float32Array.from(uniform(cols, -40, 40, 12));
      edit(x);
      const want = one.softmax(x, options);
      expectSame(two.softmax(x, options), want);
      const buf = two.alloc(cols);
      buf.view().set(x);
      two.softmaxBuffer(buf, options);
      expectSame(buf.view(), want);
      buf.free();
    });
  }
});

describe('worker threads', () => {
  it('take chunks of large calls', () => {
    const backend = two;
    const x = Float32Array.from(uniform(64 * 4000, -5, 5, 3));
    // Workers start on the first large call and join once running: give them a few seconds.
    const t0 = Date.now();
    while (backend.workerChunks === 0 && Date.now() - t0 < 10_000) backend.softmax(x, { cols: 4000 });
    expect(backend.workerChunks, 'no worker thread ever ran a chunk').toBeGreaterThan(0);
    expect(one.workerChunks).toBe(0);
  });

  it('a backward call into an out view of shared memory returns that view', async () => {
    const backend = await createWasmBackend({ threads: 2 });
    const [rows, cols] = [8, 100_000];
    const y = Float32Array.from(uniform(rows * cols, 0, 1, 4));
    const dy = Float32Array.from(uniform(rows * cols, -1, 1, 5));
    const out = backend.alloc(rows * cols);
    const view = out.view();
    const before = backend.memoryBytes;
    const result = backend.softmaxBackward(y, dy, { cols, out: view });
    expect(backend.memoryBytes, 'the call should have grown memory').toBeGreaterThan(before);
    expect(result).toBe(view); // shared memory grows in place: the caller's view stays valid
    expectSame(result, one.softmaxBackward(y, dy, { cols }));
    backend.dispose();
  });
});

describe('worker lifetime', () => {
  const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const run = async (script: string, flags: string[] = []) => {
    const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--input-type=module', '-e', script], {
      timeout: 60_000,
    });
    return stdout.trim();
  };

  it('a process that never disposes its backend still exits', async () => {
    const t0 = Date.now();
    const out = await run(`
      const { createWasmBackend } = await import(${JSON.stringify(index)});
      const b = await createWasmBackend({ threads: 2 });
      let s = 0;
      for (let i = 0; i < 20; i++) s += b.softmax(new Float32Array(200000).fill(i), { cols: 1000 })[0];
      console.log('done', s.toFixed(3));`);
    expect(out).toBe('done 0.020');
    expect(Date.now() - t0).toBeLessThan(30_000);
  });

  // Threads of the process, counted by Linux (/proc), which CI runs on.
  it('dispose() stops the workers, and so does dropping the backend', async () => {
    const out = await run(
      `
      const { readdirSync } = await import('node:fs');
      const { createWasmBackend } = await import(${JSON.stringify(index)});
      const threads = () => readdirSync('/proc/self/task').length;
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const busy = async (b) => {
        const x = new Float32Array(64 * 4000).fill(1);
        for (let i = 0; b.workerChunks === 0 && i < 2000; i++) { b.softmax(x, { cols: 4000 }); if (i % 20 === 0) await sleep(5); }
        return b.workerChunks > 0;
      };
      const settle = async (want) => { for (let i = 0; i < 100 && threads() > want; i++) { globalThis.gc(); await sleep(20); } return threads(); };
      const warm = await createWasmBackend({ threads: 2 });
      await busy(warm);
      warm.dispose();
      const base = await settle(0);
      // Made in a function, so that no variable of this (async) module scope holds a backend.
      const start = async () => { const b = await createWasmBackend({ threads: 2 }); if (!(await busy(b))) throw new Error('a worker never ran'); return b; };
      let backends = [];
      for (let i = 0; i < 4; i++) backends.push(await start());
      const running = threads();
      for (const b of backends.slice(0, 2)) b.dispose();
      const afterDispose = await settle(running - 2);
      backends = null;
      const afterDrop = await settle(base);
      console.log(JSON.stringify({ base, running, afterDispose, afterDrop }));`,
      ['--expose-gc'],
    );
    const { base, running, afterDispose, afterDrop } = JSON.parse(out);
    expect(running).toBeGreaterThanOrEqual(base + 4); // one worker per backend
    expect(afterDispose).toBeLessThanOrEqual(running - 2);
    expect(afterDrop).toBeLessThanOrEqual(base);
  });

  it("threads > 1 are refused where Node's permission model forbids workers", async () => {
    const flag = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';
    const out = await run(
      `
      const { createWasmBackend } = await import(${JSON.stringify(index)});
      const one = await createWasmBackend();
      const two = await createWasmBackend({ threads: 2 }).then(() => 'created', (e) => e.code + ': ' + e.message);
      console.log(one.threads + ' | ' + two);`,
      [flag, '--allow-fs-read=*'],
    );
    expect(out).toMatch(/^1 \| BACKEND_UNAVAILABLE: threads: 2 is not possible here: Node's permission model/);
  });

  it('dispose() is idempotent, and the backend then refuses calls', async () => {
    const backend: WasmBackend = await createWasmBackend({ threads: 2 });
    backend.softmax(new Float32Array(200_000), { cols: 1000 });
    backend.dispose();
    backend.dispose();
    expect(await code(() => backend.softmax(new Float32Array(4)))).toMatch(/^BACKEND_UNAVAILABLE: /);
  });
});
