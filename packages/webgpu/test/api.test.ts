import { SoftmaxError } from '@softmax/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WebGPUBackend } from '../src/index.js';
import { lseMismatch, mismatch, random, reference } from './compare.js';
import { COPY_SRC, gpuBackend, readBack, refuses, STORAGE, upload } from './gpu.js';

describe('array API', () => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend();
  });
  afterAll(() => backend?.dispose());

  it('is named webgpu and computes float32 only', () => {
    expect(backend.name).toBe('webgpu');
    expect(backend.dtypes).toEqual(['float32']);
  });

  it('rejects Float64Array and number[] with UNSUPPORTED_DTYPE and bad options with core’s codes', async () => {
    await expect(backend.softmax(new Float64Array(4))).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE' });
    await expect(backend.softmax([1, 2, 3])).rejects.toMatchObject({ code: 'UNSUPPORTED_DTYPE' });
    await expect(backend.softmax(new Float32Array(6), { cols: 4 })).rejects.toMatchObject({ code: 'INVALID_SHAPE' });
    await expect(backend.logSoftmax(new Float32Array(4), { temperature: 0 })).rejects.toBeInstanceOf(SoftmaxError);
    await expect(backend.softmaxBackward(new Float32Array(4), new Float32Array(3))).rejects.toMatchObject({
      code: 'INVALID_SHAPE',
    });
  });

  it('returns an empty result for an empty input, fills out, and works in place without touching other inputs', async () => {
    expect(await backend.softmax(new Float32Array(0))).toEqual(new Float32Array(0));
    const x = random(40, 5, 1);
    const copy = x.slice();
    const expected = reference.softmax(x, { cols: 8 });
    const out = new Float32Array(40);
    expect(await backend.softmax(x, { cols: 8, out })).toBe(out);
    expect(x).toEqual(copy);
    expect(mismatch(out, expected)).toBeUndefined();
    expect(await backend.softmax(x, { cols: 8, out: x })).toBe(x);
    expect(mismatch(x, expected)).toBeUndefined();
  });

  it('accepts Float32Arrays over a SharedArrayBuffer as inputs and as out', async () => {
    const shared = (a: Float32Array, offset = 0) => {
      const v = new Float32Array(new SharedArrayBuffer((a.length + offset) * 4), offset * 4, a.length);
      v.set(a);
      return v;
    };
    const x = random(24, 5, 2);
    const dy = random(24, 1, 3);
    const y = reference.softmax(x, { cols: 8 }) as Float32Array;
    expect(
      mismatch(await backend.softmax(shared(x, 3), { cols: 8 }), reference.softmax(x, { cols: 8 })),
    ).toBeUndefined();
    const out = shared(new Float32Array(24), 1);
    expect(await backend.logSoftmax(shared(x), { cols: 8, out })).toBe(out);
    expect(mismatch(out, reference.logSoftmax(x, { cols: 8 }))).toBeUndefined();
    const inPlace = shared(x);
    await backend.softmax(inPlace, { cols: 8, out: inPlace });
    expect(mismatch(inPlace, reference.softmax(x, { cols: 8 }))).toBeUndefined();
    const dx = await backend.softmaxBackward(shared(y), shared(dy, 2), { cols: 8, out: shared(new Float32Array(24)) });
    expect(mismatch(dx, reference.softmaxBackward(y, dy, { cols: 8 }), 2e-6, 4e-7)).toBeUndefined();
  });
});

describe('GPU-resident API', () => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend();
    await backend.prepare([{ rows: 4, cols: 64 }], ['softmax', 'logSoftmax', 'softmaxBackward']);
  });
  afterAll(() => backend?.dispose());

  it('encodes softmax, log-softmax and a gradient into the caller’s encoder over the caller’s buffers', async () => {
    const { device } = backend;
    const rows = 4;
    const cols = 64;
    const x = random(rows * cols, 10, 4);
    const dy = random(rows * cols, 1, 5);
    const bx = upload(device, x);
    const bdy = upload(device, dy);
    const by = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
    const bl = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
    const bdx = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
    const encoder = device.createCommandEncoder();
    backend.encodeSoftmax(encoder, bx, by, { rows, cols, temperature: 0.8 });
    backend.encodeLogSoftmax(encoder, bx, bl, { rows, cols });
    // The gradient reads the softmax output written by the first pass: one pipeline, one submit.
    backend.encodeSoftmaxBackward(encoder, by, bdy, bdx, { rows, cols, temperature: 0.8 });
    device.queue.submit([encoder.finish()]);
    const y = await readBack(device, by, rows * cols);
    expect(mismatch(y, reference.softmax(x, { cols, temperature: 0.8 }))).toBeUndefined();
    expect(mismatch(await readBack(device, bl, rows * cols), reference.logSoftmax(x, { cols }))).toBeUndefined();
    const dx = await readBack(device, bdx, rows * cols);
    expect(mismatch(dx, reference.softmaxBackward(y, dy, { cols, temperature: 0.8 }), 2e-6, 4e-7)).toBeUndefined();
    for (const b of [bx, bdy, by, bl, bdx]) b.destroy();
  });

  it('works in place (input === output) and validates shapes', async () => {
    const { device } = backend;
    const x = random(4 * 64, 10, 6);
    const b = upload(device, x);
    const encoder = device.createCommandEncoder();
    backend.encodeSoftmax(encoder, b, b, { rows: 4, cols: 64 });
    device.queue.submit([encoder.finish()]);
    expect(mismatch(await readBack(device, b, x.length), reference.softmax(x, { cols: 64 }))).toBeUndefined();
    const e2 = device.createCommandEncoder();
    expect(() => backend.encodeSoftmax(e2, b, b, { rows: 5, cols: 64 })).toThrow(
      expect.objectContaining({ code: 'INVALID_SHAPE' }),
    );
    expect(() => backend.encodeSoftmax(e2, b, b, { rows: 4, cols: 64, temperature: -1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION' }),
    );
    b.destroy();
  });

  it('reuses its cached bind groups only for the same shape, temperature and buffers', async () => {
    const { device } = backend;
    const x = random(4096, 12, 21);
    const inputs = [upload(device, x), upload(device, random(4096, 12, 22))];
    const out = device.createBuffer({ size: 4096 * 4, usage: STORAGE | COPY_SRC });
    const calls: Array<[number, number, number, number]> = [
      [0, 4, 1024, 1],
      [0, 1, 4096, 1], // same buffers, another shape (split rows)
      [1, 4, 1024, 1], // another input buffer
      [0, 4, 1024, 0.5], // another temperature (another uniform block)
      [0, 4, 1024, 1], // back to the first: a cache hit
    ];
    for (const [which, rows, cols, temperature] of calls) {
      const encoder = device.createCommandEncoder();
      backend.encodeSoftmax(encoder, inputs[which], out, { rows, cols, temperature });
      device.queue.submit([encoder.finish()]);
      const data = which === 0 ? x : random(4096, 12, 22);
      const expected = reference.softmax(data, { cols, temperature });
      expect(
        mismatch(await readBack(device, out, 4096), expected),
        `${which} ${rows}×${cols} T=${temperature}`,
      ).toBeUndefined();
    }
    for (const b of [...inputs, out]) b.destroy();
  });
});

describe('GPU-resident API: encode(op, encoder, { inputs, outputs }, shape)', () => {
  let backend: WebGPUBackend;
  beforeAll(async () => {
    backend = await gpuBackend();
  });
  afterAll(() => backend?.dispose());

  it('records every op of backend.ops over the caller’s buffers, logSumExp into one value per row', async () => {
    const { device } = backend;
    const rows = 5;
    const cols = 40;
    const x = random(rows * cols, 10, 31);
    const dy = random(rows * cols, 1, 32);
    const y = reference.softmax(x, { cols }) as Float32Array;
    const matrix = () => device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
    const [bx, by, bdy] = [upload(device, x), upload(device, y), upload(device, dy)];
    const outs = {
      softmax: matrix(),
      softmaxBackward: matrix(),
      logSumExp: device.createBuffer({ size: rows * 4, usage: STORAGE | COPY_SRC }),
    };
    const encoder = device.createCommandEncoder();
    backend.encode('softmax', encoder, { inputs: [bx], outputs: [outs.softmax] }, { rows, cols, temperature: 0.5 });
    backend.encode('softmaxBackward', encoder, { inputs: [by, bdy], outputs: [outs.softmaxBackward] }, { rows, cols });
    backend.encode('logSumExp', encoder, { inputs: [bx], outputs: [outs.logSumExp] }, { rows, cols, temperature: 2 });
    device.queue.submit([encoder.finish()]);
    const sm = await readBack(device, outs.softmax, rows * cols);
    expect(mismatch(sm, reference.softmax(x, { cols, temperature: 0.5 }))).toBeUndefined();
    const dx = await readBack(device, outs.softmaxBackward, rows * cols);
    expect(mismatch(dx, reference.softmaxBackward(y, dy, { cols }), 2e-6, 4e-7)).toBeUndefined();
    const lse = await readBack(device, outs.logSumExp, rows);
    expect(lseMismatch(lse, reference.logSumExp(x, { cols, temperature: 2 }))).toBeUndefined();
    for (const b of [bx, by, bdy, ...Object.values(outs)]) b.destroy();
  });

  it('computes logSumExp in place (its output in the input’s first bytes) and over split rows', async () => {
    const { device } = backend;
    for (const [rows, cols] of [
      [3, 64],
      [1, 50_000], // segments: partials, then the merge
    ]) {
      const x = random(rows * cols, 20, cols);
      const b = upload(device, x);
      const encoder = device.createCommandEncoder();
      backend.encode('logSumExp', encoder, { inputs: [b], outputs: [b] }, { rows, cols });
      device.queue.submit([encoder.finish()]);
      const got = await readBack(device, b, rows);
      expect(lseMismatch(got, reference.logSumExp(x, { cols })), `${rows} × ${cols}`).toBeUndefined();
      b.destroy();
    }
  });

  it('refuses unknown ops, wrong buffer lists and an output too small for its operand, recording nothing', async () => {
    const { device } = backend;
    const shape = { rows: 4, cols: 16 };
    const good = () => device.createBuffer({ size: 256, usage: STORAGE | COPY_SRC });
    await refuses(
      backend,
      (e) => backend.encode('sigmoid' as never, e, { inputs: [good()], outputs: [good()] }, shape),
      expect.objectContaining({
        code: 'UNSUPPORTED_OP',
        message: expect.stringMatching(/does not implement "sigmoid"/),
      }),
    );
    await refuses(
      backend,
      (e) => backend.encode('softmaxBackward', e, { inputs: [good()], outputs: [good()] }, shape),
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/takes 2 input buffers \(y, dy\)/),
      }),
    );
    await refuses(
      backend,
      (e) => backend.encode('softmax', e, { inputs: [good()], outputs: [] }, shape),
      expect.objectContaining({
        code: 'INVALID_INPUT',
        message: expect.stringMatching(/takes 1 output buffer \(out\)/),
      }),
    );
    await refuses(
      backend,
      (e) => backend.encode('softmax', e, null as never, shape),
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(/^buffers must be/) }),
    );
    const small = device.createBuffer({ size: 12, usage: STORAGE | COPY_SRC }); // 3 of the 4 rows
    await refuses(
      backend,
      (e) => backend.encode('logSumExp', e, { inputs: [good()], outputs: [small] }, shape),
      expect.objectContaining({
        code: 'INVALID_SHAPE',
        message: expect.stringMatching(/cannot hold 4 float32 values \(one per row\)/),
      }),
    );
    // One value per row is all logSumExp's output needs: 16 bytes for 4 rows are enough.
    const exact = device.createBuffer({ size: 16, usage: STORAGE | COPY_SRC });
    const encoder = device.createCommandEncoder();
    backend.encode('logSumExp', encoder, { inputs: [good()], outputs: [exact] }, shape);
    device.queue.submit([encoder.finish()]);
    await expect(backend.prepare([shape], ['sigmoid' as never])).rejects.toMatchObject({ code: 'UNSUPPORTED_OP' });
  });
});
