import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findGPU } from '../src/device.js';
import { createWebGPUBackend } from '../src/index.js';
import { mismatch, random, reference } from './compare.js';
import { COPY_DST, COPY_SRC, gpuBackend, readBack, refuses, STORAGE, upload } from './gpu.js';

// The GPU-resident API must refuse buffers and encoders of other devices with a SoftmaxError
// before Dawn sees them (a report had Dawn crash the process on such misuse).

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const invalidInput = (name: RegExp) =>
  expect.objectContaining({ name: 'SoftmaxError', code: 'INVALID_INPUT', message: expect.stringMatching(name) });

describe('GPU-resident API: buffers and encoders of other devices', () => {
  it('refuses them in a child process that survives (other backends, a second Dawn instance)', async () => {
    // The child runs the built package: a stale build would test old code.
    const built = statSync(join(pkg, 'dist', 'node', 'index.js')).mtimeMs;
    const sources = Math.max(newestMtime(join(pkg, 'src')), newestMtime(join(pkg, 'shaders')));
    expect(built, 'dist/ is older than src/ or shaders/: build first (pnpm exec turbo run build)').toBeGreaterThan(
      sources,
    );
    const result = await new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          [join(here, 'child', 'foreign-device.mjs')],
          { cwd: pkg, timeout: 90_000 },
          (error, stdout, stderr) =>
            resolve({
              code: error ? ((error as { code?: number }).code ?? null) : 0,
              signal: error ? ((error as { signal?: string }).signal ?? null) : null,
              stdout,
              stderr,
            }),
        );
      },
    );
    // A crash inside Dawn shows as a signal (SIGSEGV, SIGABRT) or a non-zero exit.
    expect({ code: result.code, signal: result.signal }, result.stderr).toEqual({ code: 0, signal: null });
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const cases = lines.filter((l) => l.name !== 'after');
    expect(cases.length).toBe(8);
    for (const c of cases) {
      expect(c, c.name).toMatchObject({ error: 'SoftmaxError', code: 'INVALID_INPUT' });
      expect(c.message, c.name).toMatch(/^(input|output|dy|encoder) (belongs to another GPUDevice|was not created)/);
      expect(c.gpuError, c.name).toBeUndefined(); // refused before anything was recorded
    }
    const after = lines.find((l) => l.name === 'after');
    expect(
      mismatch(Float32Array.from(after.result), reference.softmax(Float32Array.from([0, Math.log(3)]), {})),
    ).toBeUndefined();
  });

  it("accepts a caller device's buffers made before the backend, refuses another tracked device's", async () => {
    const gpu = await findGPU({});
    const device = await (await gpu.requestAdapter())!.requestDevice();
    const x = random(4 * 64, 8, 12);
    const early = upload(device, x); // before the backend existed: its origin cannot be recorded
    const backend = await createWebGPUBackend({ device });
    const other = await gpuBackend();
    try {
      const out = device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC });
      const encoder = device.createCommandEncoder();
      backend.encodeSoftmax(encoder, early, out, { rows: 4, cols: 64 });
      device.queue.submit([encoder.finish()]);
      expect(mismatch(await readBack(device, out, x.length), reference.softmax(x, { cols: 64 }))).toBeUndefined();
      const foreign = other.device.createBuffer({ size: x.byteLength, usage: STORAGE | COPY_SRC | COPY_DST });
      await refuses(
        backend,
        (e) => backend.encodeSoftmax(e, foreign, out, { rows: 4, cols: 64 }),
        invalidInput(/^input belongs to another GPUDevice/),
      );
      await refuses(
        backend,
        (e) => backend.encodeSoftmax(e, early, foreign, { rows: 4, cols: 64 }),
        invalidInput(/^output belongs/),
      );
      // And the other way round: the other backend's device created every buffer it may use.
      await refuses(
        other,
        (e) => other.encodeSoftmax(e, early, foreign, { rows: 4, cols: 64 }),
        invalidInput(/^input was not created by this backend's device/),
      );
      for (const b of [early, out, foreign]) b.destroy();
    } finally {
      backend.dispose();
      other.dispose();
      device.destroy();
    }
  });

  it('refuses non-buffers, mapped buffers and buffers without the usage they need', async () => {
    const backend = await gpuBackend();
    try {
      const { device } = backend;
      const shape = { rows: 1, cols: 64 };
      const good = () => device.createBuffer({ size: 256, usage: STORAGE | COPY_SRC | COPY_DST });
      const fake = { size: 256, usage: STORAGE } as unknown as GPUBuffer;
      await refuses(
        backend,
        (e) => backend.encodeSoftmax(e, fake, good(), shape),
        invalidInput(/^input was not created/),
      );
      await refuses(
        backend,
        (e) => backend.encodeSoftmax(e, good(), null as unknown as GPUBuffer, shape),
        invalidInput(/^output must be a GPUBuffer, got null/),
      );
      await refuses(
        backend,
        () => backend.encodeSoftmax({} as GPUCommandEncoder, good(), good(), shape),
        invalidInput(/^encoder must be a GPUCommandEncoder/),
      );
      const mapped = device.createBuffer({ size: 256, usage: STORAGE, mappedAtCreation: true });
      await refuses(backend, (e) => backend.encodeSoftmax(e, mapped, good(), shape), invalidInput(/^input is mapped/));
      const copyOnly = device.createBuffer({ size: 256, usage: COPY_SRC | COPY_DST });
      await refuses(
        backend,
        (e) => backend.encodeSoftmax(e, good(), copyOnly, shape),
        invalidInput(/^output needs usage STORAGE/),
      );
      const noCopy = device.createBuffer({ size: 256, usage: STORAGE });
      await refuses(
        backend,
        (e) => backend.encodeSoftmax(e, noCopy, noCopy, shape),
        invalidInput(/^input needs usage STORAGE \| COPY_SRC/),
      );
    } finally {
      backend.dispose();
    }
  });
});

describe('GPU-resident API: encode(op, ...) applies the same checks', () => {
  it('refuses another device’s buffers and encoders, naming the operand', async () => {
    const backend = await gpuBackend();
    const other = await gpuBackend();
    try {
      const { device } = backend;
      const usage = STORAGE | COPY_SRC | COPY_DST;
      const own = () => device.createBuffer({ size: 1024, usage });
      const foreign = other.device.createBuffer({ size: 1024, usage });
      const shape = { rows: 4, cols: 64 };
      await refuses(
        backend,
        (e) => backend.encode('logSumExp', e, { inputs: [own()], outputs: [foreign] }, shape),
        invalidInput(/^output belongs to another GPUDevice/),
      );
      await refuses(
        backend,
        (e) => backend.encode('logSoftmaxBackward', e, { inputs: [own(), foreign], outputs: [own()] }, shape),
        invalidInput(/^dy belongs to another GPUDevice/),
      );
      await refuses(
        backend,
        () =>
          backend.encode(
            'logSumExp',
            other.device.createCommandEncoder(),
            { inputs: [own()], outputs: [own()] },
            shape,
          ),
        invalidInput(/^encoder belongs to another GPUDevice/),
      );
      const noCopy = device.createBuffer({ size: 1024, usage: STORAGE });
      await refuses(
        backend,
        (e) => backend.encode('logSumExp', e, { inputs: [noCopy], outputs: [noCopy] }, shape),
        invalidInput(/^input needs usage STORAGE \| COPY_SRC/),
      );
      foreign.destroy();
    } finally {
      backend.dispose();
      other.dispose();
    }
  });
});
