import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { esbuildBuild, webpackBuild } from './lib/bundle.js';
import { runNode } from './lib/node-run.js';
import { failures, logits, PATHS } from './lib/oracle.js';

// Node, from the installed tarballs: plain ESM and CJS, and the webpack and esbuild Node bundles.
// WebGPU runs through Dawn on SwiftShader; a path with no adapter fails with its reason.
const { project } = inject('scratch');
const exec = promisify(execFile);
const input = logits(3, 40, 11);

// The CJS entry reports both the softmax and the dual-package check: one process for both tests.
let cjs: ReturnType<typeof runNode> | undefined;
const runCjs = () => {
  cjs ??= runNode(project, 'node-cjs.cjs', input);
  return cjs;
};

describe('Node, from the packed tarballs', () => {
  it('ESM: every package and @softmax/auto give the softmax', async () => {
    const out = await runNode(project, 'node-esm.mjs', input);
    expect(failures(out, PATHS, input.x, input.cols)).toEqual({});
  });

  it('CJS: every package through require() gives the softmax', async () => {
    const out = await runCjs();
    expect(failures(out, PATHS, input.x, input.cols)).toEqual({});
  });

  it('CJS and ESM together: SoftmaxError from one build is instanceof the other', async () => {
    const out = await runCjs();
    expect(out.dualPackage).toEqual({
      esmCode: 'INVALID_SHAPE',
      cjsCode: 'INVALID_SHAPE',
      esmErrorIsCjsClass: true,
      cjsErrorIsEsmClass: true,
    });
  });

  it("installing the packages brings neither vitest nor fast-check (@softmax/conformance's peers are optional)", async () => {
    const store = readdirSync(join(project, 'node_modules', '.pnpm'));
    expect(store.filter((d) => /^(vitest|fast-check)@/.test(d))).toEqual([]);
    // And its helpers load without them, through import and require.
    const { stdout } = await exec(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "import { createRequire } from 'node:module'; const h = await import('@softmax/conformance/helpers'); const c = createRequire(process.cwd() + '/')('@softmax/conformance'); console.log(typeof h.oracleSoftmax, typeof c.oracleSoftmax);",
      ],
      { cwd: project },
    );
    expect(stdout.trim()).toBe('function function');
  });

  it('webpack 5 --target node bundle: builds without warnings, finds Dawn and gives the softmax', async () => {
    const built = await webpackBuild(project, { entry: 'node-bundle.js', target: 'node', outDir: 'out/webpack-node' });
    const out = await runNode(project, 'out/webpack-node/main.cjs', input);
    expect({ warnings: built.warnings, failures: failures(out, PATHS, input.x, input.cols) }).toEqual({
      warnings: [],
      failures: {},
    });
  });

  it('esbuild --platform=node bundle: builds without warnings, finds Dawn and gives the softmax', async () => {
    const built = await esbuildBuild(project, {
      entries: ['node-bundle.js'],
      platform: 'node',
      outDir: 'out/esbuild-node',
    });
    const out = await runNode(project, 'out/esbuild-node/node-bundle.mjs', input);
    expect({ warnings: built.warnings, failures: failures(out, PATHS, input.x, input.cols) }).toEqual({
      warnings: [],
      failures: {},
    });
  });
});
