import {
  logSoftmaxBackwardScale,
  logSoftmaxScale,
  oracleLogSoftmax,
  oracleLogSoftmaxBackward,
  oracleSoftmax,
  oracleSoftmaxBackward,
  softmaxBackwardScale,
  uniform,
} from '@softmax/conformance/helpers';
import { describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend, type WasmBuffer } from '../dist/index.js';
import { expectAccurate, expectSame } from './helpers.js';

/**
 * Copying calls given views of the backend's own memory (a WasmBuffer's view()): the rows here are
 * larger than the 256 KiB scratch block, so any block the call acquires grows memory, which
 * detaches every view over the old memory. Each case runs on a fresh backend so that it does.
 */
const ROWS = 3;
const COLS = 40_000; // 320 kB of float64 per row

type Place = 'plain' | 'view';
const PLACES: readonly Place[] = ['plain', 'view'];

/**
 * `data` as a plain array, or copied into a WasmBuffer of `backend`. `array()` is its current view
 * (allocating may grow memory and detach older views, so arguments are taken after every alloc).
 */
function place(backend: WasmBackend, data: Float64Array, where: Place): { array(): Float64Array; inWasm: boolean } {
  if (where === 'plain') {
    const copy = data.slice();
    return { array: () => copy, inWasm: false };
  }
  const buffer: WasmBuffer<'float64'> = backend.alloc(data.length, 'float64');
  buffer.view().set(data);
  return { array: () => buffer.view(), inWasm: true };
}

const logits = Float64Array.from(uniform(ROWS * COLS, -8, 8, 21));
const upstream = Float64Array.from(uniform(ROWS * COLS, -1, 1, 22));

const FORWARD = [
  { op: 'softmax', oracle: oracleSoftmax, scale: undefined },
  { op: 'logSoftmax', oracle: oracleLogSoftmax, scale: logSoftmaxScale },
] as const;

describe('forward calls on views of wasm memory', () => {
  for (const { op, oracle, scale } of FORWARD) {
    const ref = oracle(logits, { cols: COLS, temperature: 0.9 });
    const tolerance = { rtol: 1e-12, scale: scale?.(ref) };
    for (const xAt of PLACES) {
      for (const outAt of ['none', 'plain', 'view', 'x'] as const) {
        it(`${op}: x ${xAt}, out ${outAt}`, async () => {
          const backend = await createWasmBackend();
          const x = place(backend, logits, xAt);
          const out =
            outAt === 'x' ? x : outAt === 'none' ? undefined : place(backend, new Float64Array(logits.length), outAt);
          const outArray = out?.array();
          const result = backend[op](x.array(), { cols: COLS, temperature: 0.9, ...(outArray && { out: outArray }) });
          expectAccurate(result, ref, tolerance);
          if (out) expectAccurate(out.array(), ref, tolerance);
          if (outArray) expect(result).toBe(outArray); // no block acquired, so nothing was detached
          if (outAt !== 'x') expectSame(x.array(), logits); // the input is untouched
        });
      }
    }
  }
});

const BACKWARD = [
  { op: 'softmaxBackward', forward: oracleSoftmax, oracle: oracleSoftmaxBackward, scale: softmaxBackwardScale },
  {
    op: 'logSoftmaxBackward',
    forward: oracleLogSoftmax,
    oracle: oracleLogSoftmaxBackward,
    scale: logSoftmaxBackwardScale,
  },
] as const;

describe('backward calls on views of wasm memory', () => {
  for (const { op, forward, oracle, scale } of BACKWARD) {
    const y = forward(logits, { cols: COLS }) as Float64Array;
    const ref = oracle(y, upstream, { cols: COLS, temperature: 1.3 });
    const tolerance = { rtol: 1e-12, scale: scale(y, upstream, COLS, 1.3) };
    for (const yAt of PLACES) {
      for (const dyAt of PLACES) {
        for (const outAt of ['none', 'plain', 'view', 'y', 'dy'] as const) {
          it(`${op}: y ${yAt}, dy ${dyAt}, out ${outAt}`, async () => {
            const backend = await createWasmBackend();
            const yy = place(backend, y, yAt);
            const dy = place(backend, upstream, dyAt);
            const out =
              outAt === 'y'
                ? yy
                : outAt === 'dy'
                  ? dy
                  : outAt === 'none'
                    ? undefined
                    : place(backend, new Float64Array(y.length), outAt);
            const outArray = out?.array();
            const options = { cols: COLS, temperature: 1.3, ...(outArray && { out: outArray }) };
            const result = backend[op](yy.array(), dy.array(), options);
            expectAccurate(result, ref, tolerance);
            if (out) expectAccurate(out.array(), ref, tolerance);
            // out itself, or, where acquiring a block grew memory and detached it, a view of the same bytes
            if (out && !out.inWasm) expect(result).toBe(outArray);
            if (out?.inWasm) expect(result.buffer).toBe(out.array().buffer);
            if (outAt !== 'y') expectSame(yy.array(), y);
            if (outAt !== 'dy') expectSame(dy.array(), upstream);
          });
        }
      }
    }
  }
});

it('an out in wasm memory with an input outside it needs no block: memory does not grow', async () => {
  const backend = await createWasmBackend();
  const out = backend.alloc(ROWS * COLS, 'float64');
  const view = out.view();
  const before = backend.memoryBytes;
  expect(backend.softmax(logits, { cols: COLS, out: view })).toBe(view);
  expect(backend.memoryBytes).toBe(before);
  expect(out.view()).toBe(view); // still attached
  expectAccurate(view, oracleSoftmax(logits, { cols: COLS }), { rtol: 1e-12 });
});
