import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { type PreviewServer, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../src/results.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const appRoot = path.resolve(here, '..');
const artifacts = path.resolve(appRoot, '../../test-artifacts');
const chromiumPath = '/usr/bin/chromium';

describe('the benchmark page in headless Chromium (WebGPU via SwiftShader)', () => {
  let server: PreviewServer;
  let url: string;

  beforeAll(async () => {
    if (!existsSync(path.join(appRoot, 'dist/web/index.html')))
      throw new Error('dist/web is missing: run the build first (vite build)');
    server = await preview({
      root: appRoot,
      configFile: path.join(appRoot, 'vite.config.ts'),
      preview: { port: 0, host: '127.0.0.1', strictPort: false },
      logLevel: 'warn',
    });
    url = server.resolvedUrls!.local[0];
  });

  afterAll(async () => {
    await server?.close();
  });

  it('runs the quick suite: every available candidate verified, WebGPU included, and saves a screenshot', async () => {
    expect(existsSync(chromiumPath), `${chromiumPath} is required (Debian package chromium)`).toBe(true);
    const profile = mkdtempSync(path.join(os.tmpdir(), 'softmax-bench-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath,
      headless: true,
      args: ['--enable-unsafe-webgpu'],
      viewport: { width: 1280, height: 900 },
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${url}?run=quick`);
      await page.waitForFunction(() => window.__bench?.done === true, undefined, { timeout: 150_000, polling: 500 });
      const state = await page.evaluate(() => window.__bench!);
      mkdirSync(artifacts, { recursive: true });
      await page.screenshot({ path: path.join(artifacts, 'bench-page.png'), fullPage: true });

      expect(state.error).toBeUndefined();
      expect(errors).toEqual([]);
      const result = state.result as RunResult;
      expect(result.machine.crossOriginIsolated).toBe(true);
      const byId = new Map(result.candidates.map((c) => [c.id, c]));
      for (const id of [
        'core',
        'wasm',
        'webgpu',
        'js-3pass',
        'tfjs-cpu',
        'tfjs-wasm',
        'tfjs-webgpu',
        'ort-web',
        'copy',
        'core-unfused',
        'wasm-unfused',
        'webgpu-unfused',
        'js-sort',
        'wasm-softmax+js',
        'js-argmax',
        'webgpu-readback',
      ]) {
        expect(byId.get(id)?.available, `${id}: ${byId.get(id)?.reason}`).toBe(true);
      }
      for (const c of result.candidates.filter((x) => x.available)) {
        const mine = result.scenarios.flatMap((s) => s.results.filter((m) => m.candidate === c.id));
        expect(mine.length, c.id).toBeGreaterThan(0);
        for (const m of mine) expect(`${c.id} ${m.mode}: ${m.status} ${m.error ?? ''}`).toBe(`${c.id} ${m.mode}: ok `);
      }
      // The page shows what it measured: a table row per result and a chart.
      expect(await page.locator('#tables tbody tr').count()).toBe(
        result.scenarios.reduce((n, s) => n + s.results.length, 0),
      );
      expect(await page.locator('#charts svg path').count()).toBeGreaterThan(0);
      // crossEntropy ran (its quick scenario, both calls), and its section shows the fused-vs-unfused pairs.
      expect(result.scenarios.filter((s) => s.op === 'crossEntropy').map((s) => s.variant)).toEqual([
        'loss+grad',
        'in-place',
      ]);
      const ceReport = (await page.locator('#ce-report').textContent()) ?? '';
      expect(ceReport).toMatch(
        /crossEntropy loss\+grad float32 8×2048\s+user\s+core\s+core-unfused\s+\S+ \S+\s+\S+ \S+\s+[\d.]+×/,
      );
      expect(await page.locator('#ce-chart svg rect').count()).toBeGreaterThan(1);
      // sample ran (its quick shape, each call), and its section states the goals and the compared pairs.
      expect(result.scenarios.filter((s) => s.op === 'sample').map((s) => s.variant)).toEqual([
        't0.7-k50-p0.9',
        'p0.95',
        'greedy',
      ]);
      const sampleReport = (await page.locator('#sample-report').textContent()) ?? '';
      expect(sampleReport).toMatch(/greedy core vs one max pass: worst [\d.]+×/);
      expect(sampleReport).toMatch(
        /sample p0\.95 float32 1×2048\s+user\s+core\s+js-sort\s+\S+ \S+\s+\S+ \S+\s+[\d.]+×/,
      );
      // And auto's section: regret per shape against the single candidates, and its explain() table.
      const autoReport = (await page.locator('#auto-report').textContent()) ?? '';
      expect(autoReport).toContain('@softmax/auto against each single candidate');
      expect(autoReport).toMatch(/auto ÷ fastest: median [\d.]+×/);
      expect(autoReport).toContain('explain() after the run:');
      expect(autoReport).toContain('Buckets (median ± spread');
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  }, 200_000);
});
