import { copyFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { createLogger, build as viteBuild } from 'vite';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launch, runPage, serve } from './lib/browser.js';
import { esbuildBuild, webpackBuild } from './lib/bundle.js';
import { failures, logits, PATHS } from './lib/oracle.js';

// Browser bundles of the installed tarballs, each built with its tool's defaults (no wasm path, no
// plugin), served from 127.0.0.1 and run in headless Chromium, WebGPU on SwiftShader.
const { project } = inject('scratch');
const input = logits(2, 64, 23);
const CSP = "script-src 'self' 'wasm-unsafe-eval'";
const page = (script: string) =>
  `<!doctype html><meta charset="utf-8"><title>softmax consumer</title><script ${script}></script>`;

let context: BrowserContext;
let close: () => Promise<void>;
let server: Server;
let url: string;
const warnings: Record<string, string[]> = {};

beforeAll(async () => {
  const viteWarnings: string[] = [];
  const viteHints: string[] = [];
  const logger = createLogger('warn');
  // Rollup's chunk-size advice is about the app's bundle as a whole, like webpack's performance
  // hints: printed, not judged here (the packages' own size budgets are tested by their packages).
  logger.warn = (message) =>
    void (/Some chunks are larger than/.test(message) ? viteHints : viteWarnings).push(message);
  logger.warnOnce = logger.warn;
  await viteBuild({
    root: project,
    configFile: false,
    logLevel: 'warn',
    customLogger: logger,
    build: { outDir: join(project, 'out/vite'), emptyOutDir: true },
  });
  warnings.vite = viteWarnings;
  if (viteHints.length)
    console.log(`vite hints, not judged here:\n  ${viteHints.map((h) => h.trim().split('\n')[0]).join('\n  ')}`);
  const web = await webpackBuild(project, { entry: 'browser.js', target: 'web', outDir: 'out/webpack-web' });
  warnings.webpack = web.warnings;
  if (web.hints?.length) console.log(`webpack (web) performance hints, not judged here:\n  ${web.hints.join('\n  ')}`);
  warnings.esbuild = (
    await esbuildBuild(project, {
      entries: ['browser.js', 'worker.js'],
      platform: 'browser',
      outDir: 'out/esbuild-web',
    })
  ).warnings;
  copyFileSync(join(project, 'worker-page.js'), join(project, 'out/esbuild-web/worker-page.js'));
  ({ server, url } = await serve({
    // Vite's page names its assets from the site root (base '/', its default).
    '': { dir: join(project, 'out/vite') },
    assets: { dir: join(project, 'out/vite/assets') },
    webpack: { dir: join(project, 'out/webpack-web'), index: page('src="./main.js"') },
    esbuild: { dir: join(project, 'out/esbuild-web'), index: page('type="module" src="./browser.js"') },
    worker: { dir: join(project, 'out/esbuild-web'), index: page('type="module" src="./worker-page.js"') },
    csp: {
      dir: join(project, 'out/esbuild-web'),
      index: page('type="module" src="./browser.js"'),
      headers: { 'content-security-policy': CSP },
    },
  }));
  ({ context, close } = await launch());
});

afterAll(async () => {
  await close?.();
  server?.close();
});

describe('in headless Chromium, from the packed tarballs', () => {
  it('Vite 6 production build', async () => {
    const run = await runPage(context, `${url}/`, input);
    expect({
      warnings: warnings.vite,
      problems: run.problems,
      failures: failures(run.out, PATHS, input.x, input.cols),
    }).toEqual({ warnings: [], problems: [], failures: {} });
  });

  it('webpack 5 browser bundle (builds without warnings)', async () => {
    const run = await runPage(context, `${url}/webpack/`, input);
    expect({
      warnings: warnings.webpack,
      problems: run.problems,
      failures: failures(run.out, PATHS, input.x, input.cols),
    }).toEqual({ warnings: [], problems: [], failures: {} });
  });

  it('esbuild browser bundle (ESM, split chunks)', async () => {
    const run = await runPage(context, `${url}/esbuild/`, input);
    expect({
      warnings: warnings.esbuild,
      problems: run.problems,
      failures: failures(run.out, PATHS, input.x, input.cols),
    }).toEqual({ warnings: [], problems: [], failures: {} });
  });

  it('a module web worker (the esbuild bundle)', async () => {
    const run = await runPage(context, `${url}/worker/`, input);
    expect({ problems: run.problems, failures: failures(run.out, PATHS, input.x, input.cols) }).toEqual({
      problems: [],
      failures: {},
    });
  });

  it(`a page under the strict CSP ${CSP}`, async () => {
    const run = await runPage(context, `${url}/csp/`, input);
    expect({ problems: run.problems, failures: failures(run.out, PATHS, input.x, input.cols) }).toEqual({
      problems: [],
      failures: {},
    });
  });
});
