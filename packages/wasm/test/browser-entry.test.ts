import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { oracleSoftmax } from '@softmax/conformance/helpers';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { expectAccurate } from './helpers.js';

// package.json's conditions, through a real bundler: an esbuild browser bundle carries the SIMD
// build and single-threaded code only (no worker pool, no node: modules, no threads build), with
// the scalar build in a chunk of its own that only `simd: false` (or a runtime without SIMD)
// imports; a Node bundle keeps the threads. The browser bundle is then run (here, in Node, which
// runs it as any runtime that is not Node would) to check that it computes, scalar chunk included.

const here = fileURLToPath(new URL('.', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'softmax-wasm-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const pkgDir = fileURLToPath(new URL('..', import.meta.url));

async function bundle(platform: 'browser' | 'node', outdir: string) {
  const result = await build({
    stdin: { contents: "export * from '@softmax/wasm';", resolveDir: here, loader: 'js' },
    absWorkingDir: pkgDir,
    bundle: true,
    format: 'esm',
    platform,
    splitting: true,
    outdir,
    write: true,
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = result.metafile.outputs;
  const textOf = (file: string) => readFileSync(join(pkgDir, file), 'utf8');
  const entry = Object.keys(outputs).find((file) => outputs[file].entryPoint) as string;
  /** The entry and the chunks it imports statically: what loads before any import() runs. */
  const statics = new Set<string>();
  const visit = (file: string) => {
    if (statics.has(file)) return;
    statics.add(file);
    for (const i of outputs[file].imports) if (i.kind === 'import-statement' && i.path in outputs) visit(i.path);
  };
  visit(entry);
  return { inputs: Object.keys(result.metafile.inputs), outputs: Object.keys(outputs), textOf, entry, statics };
}

describe('the browser condition of @softmax/wasm', async () => {
  const browser = await bundle('browser', join(dir, 'browser'));
  const node = await bundle('node', join(dir, 'node'));
  const loadsFirst = (b: typeof browser) => [...b.statics].map(b.textOf).join('\n');

  it('a browser bundle has no worker pool, no threads build, and the scalar build only in a chunk it imports on demand', () => {
    expect(browser.inputs).toContain('dist/browser.js');
    expect(browser.inputs).not.toContain('dist/index.js');
    const all = browser.outputs.map(browser.textOf).join('\n');
    for (const nodeOnly of ['worker_threads', 'availableParallelism', 'THREADS_WASM', 'Atomics.wait']) {
      expect(all, nodeOnly).not.toContain(nodeOnly);
    }
    expect(loadsFirst(browser)).toContain('SIMD_WASM_DEFLATE =');
    expect(loadsFirst(browser)).not.toContain('SCALAR_WASM_BASE64 =');
    const scalar = browser.outputs.filter((file) => browser.textOf(file).includes('SCALAR_WASM_BASE64 ='));
    expect(scalar).toHaveLength(1);
    expect(browser.statics.has(scalar[0])).toBe(false);
  });

  it('a Node bundle keeps the threads (the node condition)', () => {
    expect(node.inputs).toContain('dist/index.js');
    expect(node.inputs).not.toContain('dist/browser.js');
    expect(loadsFirst(node)).toContain('worker_threads');
    expect(loadsFirst(node)).toContain('THREADS_WASM_DEFLATE =');
  });

  it('the browser bundle computes softmax with either build, and refuses threads with the reason', async () => {
    writeFileSync(join(dir, 'browser', 'package.json'), '{"type":"module"}');
    const { createWasmBackend } = await import(pathToFileURL(join(pkgDir, browser.entry)).href);
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 20);
    const want = oracleSoftmax(x, { cols: 1000 });
    for (const simd of [true, false]) {
      const backend = await createWasmBackend({ simd });
      expect(backend.simd).toBe(simd);
      expect(backend.threads).toBe(1);
      expectAccurate(backend.softmax(x), want, { rtol: 1e-6 });
      backend.dispose();
    }
    const refused = await createWasmBackend({ threads: 2 }).catch((error: unknown) => error);
    // The bundle has its own copy of @softmax/core, so its SoftmaxError is another class.
    expect((refused as Error).name).toBe('SoftmaxError');
    expect((refused as { code?: string }).code).toBe('BACKEND_UNAVAILABLE');
    expect((refused as Error).message).toMatch(/threads: 2 .*Node only/);
  });
});
