import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { softmaxBackwardScale, uniform } from '@softmax/conformance/helpers';
import * as core from '@softmax/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../dist/index.js';
import { expectAccurate, failure } from './helpers.js';

// A caller's code that runs during a call (an override of an argument's methods, a getter of its
// options) and calls the backend again shared the running call's scratch block and, on several
// threads, its posted job: the outer call returned wrong rows with no error.

const backends: WasmBackend[] = [];
afterAll(() => {
  for (const b of backends) b.dispose();
});
async function backend(threads: number): Promise<WasmBackend> {
  const b = await createWasmBackend({ threads });
  backends.push(b);
  return b;
}

// 2 MB of float32: several 256 KiB chunks on one thread, two 1 MiB pipeline blocks on two.
const ROWS = 256;
const COLS = 2000;
const x = Float32Array.from(uniform(ROWS * COLS, -10, 10, 5));
const other = Float32Array.from(uniform(ROWS * COLS, -3, 3, 6));
const want = core.softmax(x, { cols: COLS });

const REENTRANT = 'BACKEND_UNAVAILABLE: re-entrant call: this wasm backend is already running a call';

for (const threads of [1, 2]) {
  describe(`threads: ${threads}`, () => {
    it("never calls an argument's own set, subarray or species constructor", async () => {
      const b = await backend(threads);
      let calls = 0;
      const meddle = () => {
        calls++;
        b.softmax(other, { cols: COLS });
      };
      class Sneaky extends Float32Array {
        static get [Symbol.species]() {
          meddle();
          return Float32Array;
        }
        override set(...args: Parameters<Float32Array['set']>) {
          meddle();
          super.set(...args);
        }
      }
      const own = x.slice();
      own.subarray = function (...args) {
        meddle();
        return Float32Array.prototype.subarray.apply(this, args) as Float32Array<ArrayBuffer>;
      };
      const out = new Float32Array(x.length);
      out.set = function (...args: Parameters<Float32Array['set']>) {
        meddle();
        Float32Array.prototype.set.apply(this, args);
      };
      for (let run = 0; run < 3; run++) {
        expectAccurate(b.softmax(own, { cols: COLS, out }), want, { rtol: 1e-6 });
        expectAccurate(b.softmax(Sneaky.from(x), { cols: COLS, out: new Sneaky(x.length) }), want, { rtol: 1e-6 });
        const dy = Sneaky.from(other);
        const ref = core.softmaxBackward(want, other, { cols: COLS });
        const got = b.softmaxBackward(Sneaky.from(want), dy, { cols: COLS, out: new Sneaky(x.length) });
        expectAccurate(got, ref, { rtol: 1e-6, scale: softmaxBackwardScale(want, other, COLS, 1) });
      }
      expect(calls).toBe(0);
    });

    it('a call made while a call runs throws, and the running call is right', async () => {
      const b = await backend(threads);
      const inner: string[] = [];
      const options = {
        cols: COLS,
        get temperature() {
          inner.push(failure(() => b.softmax(other, { cols: COLS })));
          inner.push(failure(() => b.logSoftmaxBackward(other, other, { cols: COLS })));
          inner.push(failure(() => b.alloc(16)));
          return 1;
        },
      };
      expectAccurate(b.softmax(x, options), want, { rtol: 1e-6 });
      expect(inner).toHaveLength(3);
      for (const message of inner) expect(message.startsWith(REENTRANT), message).toBe(true);
      // The backend is unharmed and takes calls again.
      expectAccurate(b.softmax(x, { cols: COLS }), want, { rtol: 1e-6 });
    });

    it('dispose() during a call makes that call throw; later calls are refused', async () => {
      const b = await backend(threads);
      b.softmax(x, { cols: COLS }); // starts the workers on two threads
      const options = {
        cols: COLS,
        get temperature() {
          b.dispose();
          return 1;
        },
      };
      expect(failure(() => b.softmax(x, options))).toBe(
        'BACKEND_UNAVAILABLE: this wasm backend was disposed during the call',
      );
      expect(failure(() => b.softmax(x, { cols: COLS }))).toBe(
        'BACKEND_UNAVAILABLE: this wasm backend has been disposed',
      );
    });

    it('freeing the input buffer during a buffer call is caught before the kernel runs', async () => {
      const b = await backend(threads);
      const buf = b.alloc(x.length);
      buf.view().set(x);
      const out = b.alloc(x.length);
      out.view().fill(5);
      const options = {
        cols: COLS,
        out,
        get temperature() {
          buf.free();
          return 1;
        },
      };
      expect(failure(() => b.softmaxBuffer(buf, options))).toBe(
        'INVALID_INPUT: x has been freed or belongs to another wasm backend',
      );
      expect(out.view().every((v) => v === 5)).toBe(true);
    });
  });
}

it('dispose() during a call on two threads stops the workers once the call ends', async () => {
  const index = fileURLToPath(new URL('../dist/index.js', import.meta.url));
  const script = `
    const { readdirSync } = await import('node:fs');
    const { createWasmBackend } = await import(${JSON.stringify(index)});
    const threads = () => readdirSync('/proc/self/task').length;
    const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
    const b = await createWasmBackend({ threads: 2 });
    const x = new Float32Array(64 * 4000).fill(1);
    for (let i = 0; b.workerChunks === 0 && i < 2000; i++) { b.softmax(x, { cols: 4000 }); if (i % 20 === 0) await sleep(5); }
    const running = threads();
    let error = 'none';
    try { b.softmax(x, { cols: 4000, get temperature() { b.dispose(); return 1; } }); } catch (e) { error = e.code; }
    let after = threads();
    for (let i = 0; i < 100 && after >= running; i++) { await sleep(20); after = threads(); }
    console.log(JSON.stringify({ chunks: b.workerChunks > 0, running, after, error }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    timeout: 60_000,
  });
  const { chunks, running, after, error } = JSON.parse(stdout.trim());
  expect(chunks).toBe(true);
  expect(error).toBe('BACKEND_UNAVAILABLE');
  expect(after).toBeLessThan(running);
});
