import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The published package as a user gets it: `pnpm pack` (the tarball pnpm publish would upload),
 * installed with npm into a project outside the workspace (offline: @softmax/core has no
 * dependencies), then imported from a plain ESM script and required from a CJS script. Runs
 * after `build` (turbo's test task depends on it).
 */
const packageDir = resolve(import.meta.dirname, '..');
const FIGURES = [0.6590011388859679, 0.2424329707047139, 0.09856589040931818];

const SCRIPTS = {
  'esm.mjs': `import { softmax, SoftmaxError, createCoreBackend } from '@softmax/core';
import { defineBackend } from '@softmax/core/backend';
const same = ((b) => { try { b.softmax([1]); } catch (e) { return e instanceof SoftmaxError && e.code === 'UNSUPPORTED_OP'; } })(defineBackend({ name: 'none', ops: {}, returns: 'sync', run() {} }));
let code;
try { softmax([1], { temperature: 0 }); } catch (e) { code = e instanceof SoftmaxError && e.code; }
console.log(JSON.stringify({ y: Array.from(softmax([2, 1, 0.1])), f32: softmax(new Float32Array([1])) instanceof Float32Array, code, same, name: createCoreBackend().name }));`,
  'cjs.cjs': `const { softmax, SoftmaxError, createCoreBackend } = require('@softmax/core');
const { defineBackend } = require('@softmax/core/backend');
const same = ((b) => { try { b.softmax([1]); } catch (e) { return e instanceof SoftmaxError && e.code === 'UNSUPPORTED_OP'; } })(defineBackend({ name: 'none', ops: {}, returns: 'sync', run() {} }));
let code;
try { softmax([1], { temperature: 0 }); } catch (e) { code = e instanceof SoftmaxError && e.code; }
console.log(JSON.stringify({ y: Array.from(softmax([2, 1, 0.1])), f32: softmax(new Float32Array([1])) instanceof Float32Array, code, same, name: createCoreBackend().name }));`,
};

let work: string;
let app: string;

beforeAll(() => {
  for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts']) {
    if (!existsSync(join(packageDir, 'dist', file)))
      throw new Error(`dist/${file} is missing: build @softmax/core first`);
  }
  work = mkdtempSync(join(tmpdir(), 'softmax-pack-'));
  execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: packageDir, stdio: 'pipe' });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`pnpm pack wrote no tarball into ${work}`);
  app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, version: '1.0.0' }));
  execFileSync(
    'npm',
    ['install', join(work, tarball), '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock'],
    { cwd: app, stdio: 'pipe' },
  );
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(app, name), text);
}, 60_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed @softmax/core', () => {
  it('ships only dist (ESM, CJS and both type files), the README, the LICENSE and package.json', () => {
    const installed = join(app, 'node_modules', '@softmax', 'core');
    expect(readdirSync(installed).sort()).toEqual(['LICENSE', 'README.md', 'dist', 'package.json']);
    expect(readdirSync(join(installed, 'dist'))).toEqual(
      expect.arrayContaining([
        'index.js',
        'index.cjs',
        'index.d.ts',
        'index.d.cts',
        'backend.js',
        'backend.cjs',
        'backend.d.ts',
        'backend.d.cts',
      ]),
    );
  });

  it.each(Object.keys(SCRIPTS))("%s gives the worked example's values", (script) => {
    const output = execFileSync(process.execPath, [script], { cwd: app, encoding: 'utf8' });
    const result = JSON.parse(output) as { y: number[]; f32: boolean; code: string; same: boolean; name: string };
    expect(result.y).toHaveLength(3);
    // The figures are float64 printouts: within one ulp (2^-52 relative) of the true values.
    result.y.forEach((v, j) => {
      expect(Math.abs(v - FIGURES[j]) / FIGURES[j]).toBeLessThanOrEqual(2 ** -51);
    });
    // `same`: an error thrown through @softmax/core/backend is the root's SoftmaxError (one class).
    expect(result).toMatchObject({ f32: true, code: 'INVALID_OPTION', same: true, name: 'core' });
  });
});
