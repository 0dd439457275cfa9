import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DOCS = join(import.meta.dirname, '..');
const EXAMPLES = readdirSync(join(DOCS, 'examples')).filter((f) => f.endsWith('.mjs'));

/** Extra environments an example runs under (each run is a separate process). */
const RUNS: Record<string, Array<Record<string, string>>> = {
  'force-env.mjs': [{ SOFTMAX_BACKEND: 'core' }, { SOFTMAX_BACKEND: 'wasm' }],
};

/**
 * Each example runs as its own `node` process against the built packages (resolved through
 * docs/node_modules, i.e. their dist/), as a reader would run it. The examples assert their own
 * claims against core's float64 reference or an independent computation, so exit status 0 is the
 * check; a WebGPU example without an adapter exits 1 with createWebGPUBackend's reason.
 */
describe('every guide example runs', () => {
  it('has examples', () => expect(EXAMPLES.length).toBeGreaterThanOrEqual(10));
  for (const file of EXAMPLES) {
    for (const env of RUNS[file] ?? [{}]) {
      const label = Object.entries(env)
        .map(([k, v]) => `${k}=${v} `)
        .join('');
      it(`${label}node examples/${file}`, () => {
        const result = spawnSync(process.execPath, [join('examples', file)], {
          cwd: DOCS,
          env: { ...process.env, ...env },
          encoding: 'utf8',
          timeout: 120_000,
        });
        const output = `${result.stdout}\n${result.stderr}`;
        if (file.startsWith('webgpu') && result.status !== 0) {
          throw new Error(
            `the WebGPU example needs an adapter (Dawn 'webgpu' + SwiftShader at ${process.env.VK_ICD_FILENAMES}; ` +
              `install chromium, scripts/setup.sh). Its output:\n${output}`,
          );
        }
        expect(result.error, output).toBeUndefined();
        expect(result.status, output).toBe(0);
        expect(result.stdout.trim().length, 'each example prints what it computed').toBeGreaterThan(0);
      });
    }
  }
});
