import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import webpack from 'webpack';

/**
 * The built package (dist/, through package.json's "exports") bundled for Node as an application
 * would bundle it, with no bundler configuration for `webgpu`: the bundle must still find the
 * optional peer at run time (a native addon, loaded from node_modules) and run a softmax on it.
 * The temp project links @softmax/webgpu and webgpu into its node_modules, like an install does.
 */
const packageDir = resolve(import.meta.dirname, '..');
const RUN = `let result;
try {
  const backend = await createWebGPUBackend();
  result = { y: Array.from(await backend.softmax(new Float32Array([1, 2, 3]))) };
  backend.dispose();
} catch (error) {
  result = { error: String(error && error.message) };
}
console.log(JSON.stringify(result));`;
const ENTRIES = {
  'entry.mjs': `import { createWebGPUBackend } from '@softmax/webgpu';\n${RUN}\n`,
  'entry.cjs': `const { createWebGPUBackend } = require('@softmax/webgpu');\n(async () => {\n${RUN}\n})();\n`,
};
// exp(i - 3) / (e^-2 + e^-1 + 1), computed here in float64: the oracle, not the code under test.
const EXPECTED = [1, 2, 3].map((x) => Math.exp(x - 3) / (Math.exp(-2) + Math.exp(-1) + 1));

let work: string;

beforeAll(() => {
  for (const file of ['node/index.js', 'node/index.cjs', 'index.js'])
    if (!existsSync(join(packageDir, 'dist', file)))
      throw new Error(`dist/${file} is missing: build @softmax/webgpu first`);
  work = mkdtempSync(join(tmpdir(), 'softmax-webgpu-bundle-'));
  mkdirSync(join(work, 'node_modules', '@softmax'), { recursive: true });
  symlinkSync(packageDir, join(work, 'node_modules', '@softmax', 'webgpu'), 'dir');
  symlinkSync(realpathSync(join(packageDir, 'node_modules', 'webgpu')), join(work, 'node_modules', 'webgpu'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  for (const [name, text] of Object.entries(ENTRIES)) writeFileSync(join(work, name), text);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

function runBundle(file: string): { y?: number[]; error?: string } {
  return JSON.parse(execFileSync(process.execPath, [file], { cwd: work, encoding: 'utf8', timeout: 60_000 }));
}

function expectSoftmax(result: { y?: number[]; error?: string }): void {
  expect(result.error).toBeUndefined();
  expect(result.y).toHaveLength(3);
  // float32 results: within 2^-20 relative of the float64 values (a few float32 ulps).
  for (const [j, v] of (result.y ?? []).entries())
    expect(Math.abs(v - EXPECTED[j]) / EXPECTED[j]).toBeLessThan(2 ** -20);
}

describe('@softmax/webgpu bundled for Node finds the optional webgpu peer', () => {
  it('webpack 5 (--target node): no warnings, and the bundle loads Dawn', async () => {
    const stats = await new Promise<webpack.Stats>((done, fail) => {
      const compiler = webpack({
        mode: 'production',
        target: 'node',
        context: work,
        entry: './entry.mjs',
        output: { path: join(work, 'webpack'), filename: 'main.cjs' },
        optimization: { minimize: false }, // the warnings and the resolution do not depend on it
      });
      compiler.run((error, result) => {
        compiler.close(() => {});
        if (error || !result) fail(error ?? new Error('webpack gave no stats'));
        else done(result);
      });
    });
    const { errors, warnings } = stats.toJson({ all: false, errors: true, warnings: true });
    expect(errors?.map((e) => e.message)).toEqual([]);
    expect(warnings?.map((w) => w.message)).toEqual([]);
    expectSoftmax(runBundle(join(work, 'webpack', 'main.cjs')));
  });

  it.each(['esm', 'cjs'] as const)(
    'esbuild (platform node, %s): no warnings, and the bundle loads Dawn',
    async (format) => {
      const outfile = join(work, 'esbuild', format === 'esm' ? 'main.mjs' : 'main.cjs');
      const result = await esbuild.build({
        absWorkingDir: work,
        entryPoints: [format === 'esm' ? 'entry.mjs' : 'entry.cjs'],
        bundle: true,
        platform: 'node',
        format,
        outfile,
        logLevel: 'silent',
      });
      expect(result.errors).toEqual([]);
      expect(result.warnings.map((w) => w.text)).toEqual([]);
      expectSoftmax(runBundle(outfile));
    },
  );

  it('a browser bundle (esbuild, platform browser) carries no Node import', async () => {
    const result = await esbuild.build({
      absWorkingDir: work,
      stdin: { contents: "export { createWebGPUBackend } from '@softmax/webgpu';", resolveDir: work },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    const text = result.outputFiles[0].text;
    expect(text).toContain('navigator.gpu');
    expect(text).not.toMatch(/webgpu['"]\s*\)|import\(|node:|process\.versions/);
    expect(readFileSync(join(packageDir, 'dist', 'index.js'), 'utf8')).not.toMatch(/import\(/);
  });
});
