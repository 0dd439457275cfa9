import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../src/results.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../dist/cli.js');
const swiftShader = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('softmax-bench --quick (the CLI, end to end)', () => {
  it('verifies and times every available candidate in under a minute, and writes JSON, Markdown and SVG', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'softmax-bench-'));
    const t0 = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, [cli, '--quick', '--out', out], {
      maxBuffer: 64 * 1024 * 1024,
      timeout: 100_000, // a hung child is killed, not left holding the test run's output open
    });
    expect(Date.now() - t0).toBeLessThan(60_000);

    const result = JSON.parse(readFileSync(path.join(out, 'quick.json'), 'utf8')) as RunResult;
    expect(result.schema).toBe('softmax-bench/1');
    expect(result.machine.cores).toBeGreaterThan(0);
    const ids = result.candidates.map((c) => c.id);
    for (const id of [
      'core',
      'wasm',
      'wasm-mt',
      'webgpu',
      'js-3pass',
      'tfjs-cpu',
      'tfjs-wasm',
      'tfjs-webgpu',
      'ort-web',
      'ort-node',
      'copy',
      'core-unfused',
      'wasm-unfused',
      'webgpu-unfused',
      'js-sort',
      'wasm-softmax+js',
      'js-argmax',
      'webgpu-readback',
    ]) {
      expect(ids).toContain(id);
    }
    for (const c of result.candidates) {
      // Unavailable is allowed only with a reason, and never for the CPU candidates.
      if (!c.available) expect(c.reason, c.id).toBeTruthy();
    }
    const mustLoad = [
      'core',
      'wasm',
      'wasm-mt',
      'js-3pass',
      'tfjs-cpu',
      'tfjs-wasm',
      'ort-web',
      'ort-node',
      'copy',
      'core-unfused',
      'wasm-unfused',
      'js-sort',
      'wasm-softmax+js',
      'js-argmax',
    ];
    // With SwiftShader installed (scripts/setup) a WebGPU adapter exists, so the GPU candidates must load.
    if (existsSync(swiftShader)) mustLoad.push('webgpu', 'tfjs-webgpu', 'webgpu-unfused', 'webgpu-readback');
    for (const id of mustLoad) {
      const c = result.candidates.find((x) => x.id === id)!;
      expect(c.available, `${id}: ${c.reason}`).toBe(true);
    }

    for (const c of result.candidates.filter((x) => x.available)) {
      const mine = result.scenarios.flatMap((s) => s.results.filter((m) => m.candidate === c.id));
      expect(mine.length, c.id).toBeGreaterThan(0);
      for (const m of mine) {
        expect(`${c.id} ${m.mode}: ${m.status} ${m.error ?? ''}`).toBe(`${c.id} ${m.mode}: ok `);
        expect(m.check!.worst).toBeLessThanOrEqual(1);
        expect(m.samples.length).toBeGreaterThanOrEqual(result.suite.budget.minSamples);
        expect(m.stats!.median).toBeGreaterThan(0);
      }
    }

    // One small crossEntropy scenario per call: every candidate that can make it is verified and timed.
    const ce = result.scenarios.filter((sc) => sc.op === 'crossEntropy');
    expect(ce.map((sc) => `${sc.variant} ${sc.dtype} ${sc.rows}×${sc.cols}`)).toEqual([
      'loss+grad float32 8×2048',
      'in-place float32 8×2048',
    ]);
    const timed = (sc: (typeof ce)[number]) =>
      sc.results.filter((m) => m.status === 'ok').map((m) => `${m.candidate} ${m.mode}`);
    const ceMust = ['core user', 'core-unfused user', 'wasm-unfused user', 'wasm-unfused kernel', 'tfjs-wasm user'];
    ceMust.push('tfjs-wasm kernel', 'auto user', 'copy user');
    if (existsSync(swiftShader)) ceMust.push('tfjs-webgpu user', 'tfjs-webgpu kernel', 'webgpu-unfused user');
    for (const id of ceMust) expect(timed(ce[0])).toContain(id);
    expect(timed(ce[1])).toEqual(expect.arrayContaining(['core user', 'auto user', 'copy user']));
    expect(timed(ce[1]).filter((m) => /tfjs|unfused/.test(m))).toEqual([]);
    expect(stdout).toContain('crossEntropy loss+grad float32 8×2048');

    const md = readFileSync(path.join(out, 'quick.md'), 'utf8');
    expect(md).toContain('| candidate | mode | median |');
    expect(md).toContain('## crossEntropy: fused against TensorFlow.js and the unfused composition');
    expect(md).toContain('## sample: seeded sampling against the peers');
    expect(md).toMatch(
      /\| sample greedy float32 1×2048 \| user \| core \| js-argmax \| [^|]+ \| [^|]+ \| [\d.]+× \| ≥ 1\.00× (NOT )?met \|/,
    );
    expect(md).toMatch(
      /\| crossEntropy loss\+grad float32 8×2048 \| user \| core \| core-unfused \| [^|]+ \| [^|]+ \| [\d.]+× \|/,
    );
    expect(md).toContain('quick-crossEntropy-speedups.svg');
    expect(readFileSync(path.join(out, 'quick-crossEntropy-speedups.svg'), 'utf8')).toContain('<rect');
    expect(md).toContain('quick-crossEntropy-loss-grad-float32.svg');
    expect(md).toContain('quick-softmax-float32.svg');
    const svg = readFileSync(path.join(out, 'quick-softmax-float32.svg'), 'utf8');
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('<path d="M');
    expect(stdout).toContain('softmax float32 1×32000');

    // `report` renders the same Markdown and charts again from the JSON alone.
    const again = path.join(out, 'again');
    await promisify(execFile)(process.execPath, [cli, 'report', path.join(out, 'quick.json'), '--out', again], {
      timeout: 60_000,
    });
    expect(readFileSync(path.join(again, 'quick.md'), 'utf8')).toBe(md);
    expect(readFileSync(path.join(again, 'quick-softmax-float32.svg'), 'utf8')).toBe(svg);
  });

  it("measures a crossEntropy call's extra memory: none of the logits' size fused or in place, one for the unfused log-softmax", async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'softmax-bench-memory-'));
    const [rows, cols] = [128, 32000];
    const args = ['--quick', '--op', 'crossEntropy', '--shapes', `${rows}x${cols}`, '--mode', 'user'];
    await promisify(execFile)(
      process.execPath,
      [cli, ...args, '--only', 'core,core-unfused', '--memory', '--out', out, '--name', 'm'],
      { maxBuffer: 64 * 1024 * 1024, timeout: 200_000 },
    );
    const result = JSON.parse(readFileSync(path.join(out, 'm.json'), 'utf8')) as RunResult;
    const logits = rows * cols * 4;
    const memory = (variant: string, id: string) =>
      result.scenarios.find((sc) => sc.variant === variant)!.results.find((m) => m.candidate === id)!.memory!;
    const fused = memory('loss+grad', 'core');
    expect(fused.error).toBeUndefined();
    // The peak includes the gradient it returns, which is then not counted as extra.
    expect(fused.returnedBytes).toBe(logits);
    expect(fused.rssPeakDelta).toBeGreaterThan(0.9 * logits);
    expect(fused.extra! / logits).toBeLessThan(0.5);
    expect(memory('in-place', 'core').returnedBytes).toBe(0);
    expect(memory('in-place', 'core').extra! / logits).toBeLessThan(0.5);
    // The composition holds its rows × cols log-softmax beside the gradient.
    expect(memory('loss+grad', 'core-unfused').extra! / logits).toBeGreaterThan(0.9);
    const md = readFileSync(path.join(out, 'm.md'), 'utf8');
    expect(md).toContain('### Memory of one call');
    expect(md).toMatch(/\| crossEntropy in-place float32 128×32000 \| core \| user \| [^|]+ \| 0 B \|/);
  }, 240_000);

  it('compare flags a regression and exits 1', async () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'softmax-bench-compare-'));
    const a = path.join(out, 'a.json');
    const b = path.join(out, 'b.json');
    const stats = (median: number) => ({
      n: 5,
      median,
      min: median,
      max: median,
      p25: median * 0.98,
      p75: median * 1.02,
      mad: 0,
      mean: median,
    });
    const result = (median: number) => ({
      schema: 'softmax-bench/1',
      scenarios: [
        {
          op: 'softmax',
          dtype: 'float32',
          rows: 1,
          cols: 10,
          elements: 10,
          bytes: 80,
          results: [{ candidate: 'core', mode: 'user', status: 'ok', samples: [], stats: stats(median) }],
        },
      ],
    });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(a, JSON.stringify(result(100)));
    writeFileSync(b, JSON.stringify(result(150)));
    const run = (args: string[]) => promisify(execFile)(process.execPath, args, { timeout: 60_000 });
    await expect(run([cli, 'compare', a, b])).rejects.toMatchObject({ code: 1 });
    const same = await run([cli, 'compare', a, a]);
    expect(same.stdout).toContain('0 regressions');
    // The main command's comparison reports the regression and still exits 0.
    const informational = await run([cli, 'compare', '--informational', a, b]);
    expect(informational.stdout).toContain('1 regressions');
    expect(informational.stdout).toContain('No copy floor in both runs');
  });
});
