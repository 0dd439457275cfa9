import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { SoftmaxError } from '@softmax/core';
import { describe, expect, it } from 'vitest';
import { init } from '../dist/init.js';
import { scalarBytes, simdBytes } from './helpers.js';

const x = new Float32Array([1, 2, 3, 4]);

describe('@softmax/wasm/init', () => {
  it('accepts bytes of either build', async () => {
    const simd = await init({ bytes: simdBytes() });
    const scalar = await init({ bytes: scalarBytes() });
    expect(simd.simd).toBe(true);
    expect(scalar.simd).toBe(false);
    expect(simd.softmax(x)).toEqual(scalar.softmax(x));
  });

  it('accepts a compiled WebAssembly.Module', async () => {
    const module = await WebAssembly.compile(simdBytes());
    const backend = await init({ module });
    expect(backend.name).toBe('wasm');
    expect(backend.softmax(x)[3]).toBeCloseTo(0.6439142, 6);
  });

  it('fetches a URL', async () => {
    const bytes = simdBytes();
    const server = createServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/wasm' });
      res.end(bytes);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const backend = await init({ url: `http://127.0.0.1:${port}/softmax_wasm_bg.wasm` });
      expect(backend.logSoftmax(x)[3]).toBeCloseTo(-0.4401897, 6);
    } finally {
      server.close();
    }
  });

  it('rejects no source, two sources, and bytes that are not a kernel', async () => {
    for (const source of [{}, { bytes: simdBytes(), url: 'http://x/y.wasm' }]) {
      await expect(init(source as never)).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    }
    const error = await init({ bytes: new Uint8Array([1, 2, 3]) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SoftmaxError);
    expect((error as SoftmaxError).code).toBe('BACKEND_UNAVAILABLE');
  });
});

describe('the default entry', () => {
  it('needs no paths in CommonJS either (embedded bytes)', async () => {
    const require = createRequire(import.meta.url);
    const cjs = require('../dist/index.cjs') as typeof import('../dist/index.js');
    const backend = await cjs.createWasmBackend();
    expect(backend.softmax(x)[0]).toBeCloseTo(0.0320586, 6);
    expect(typeof require('../dist/init.cjs').init).toBe('function');
  });
});
