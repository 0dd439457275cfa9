import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mismatch, random, reference } from './compare.js';

// The built package runs in headless Chromium (Debian's, SwiftShader WebGPU) from a page served
// over http://127.0.0.1 (a secure context, which navigator.gpu requires).
const here = dirname(fileURLToPath(import.meta.url));
const webgpuDist = join(here, '..', 'dist');
const coreDist = dirname(createRequire(import.meta.url).resolve('@softmax/core'));
const CHROMIUM = process.env.SOFTMAX_CHROMIUM ?? '/usr/bin/chromium';

const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">
  { "imports": { "@softmax/core": "/core/index.js", "@softmax/core/backend": "/core/backend.js" } }
</script>
<script type="module">
  import { createWebGPUBackend } from '/webgpu/index.js';
  window.run = async (cases, tuning) => {
    const backend = await createWebGPUBackend({ tuning });
    const out = [];
    for (const c of cases) {
      const args = c.inputs.map((a) => Float32Array.from(a));
      const y = await backend[c.op](...args, c.options);
      out.push(Array.from(y, (v) => (Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Inf' : v === -Infinity ? '-Inf' : v)));
    }
    const info = backend.adapterInfo;
    backend.dispose();
    return { out, adapter: info && info.description + ' ' + info.architecture, secure: isSecureContext };
  };
  window.ready = true;
</script>`;

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.map': 'application/json' };

function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const [, root, ...rest] = path.split('/');
    const base = root === 'webgpu' ? webgpuDist : root === 'core' ? coreDist : undefined;
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (base && existsSync(join(base, ...rest))) {
      const file = join(base, ...rest);
      res.writeHead(200, { 'content-type': TYPES[file.slice(file.lastIndexOf('.'))] ?? 'text/plain' });
      res.end(readFileSync(file));
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const address = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${address.port}/` });
    }),
  );
}

const decode = (a: Array<number | string>) =>
  Float32Array.from(a, (v) =>
    v === 'NaN' ? Number.NaN : v === 'Inf' ? Infinity : v === '-Inf' ? -Infinity : (v as number),
  );
// Inputs travel as JSON, so these cases hold finite values only (the next test builds NaN/Inf in the page).
const encode = (a: Float32Array) => Array.from(a);

describe('in headless Chromium', () => {
  let context: BrowserContext;
  let server: Server;
  let profile: string;
  let url: string;

  beforeAll(async () => {
    if (!existsSync(join(webgpuDist, 'index.js'))) {
      throw new Error(
        `the browser test loads the built package: run \`pnpm build\` first (${webgpuDist}/index.js is missing)`,
      );
    }
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium not found at ${CHROMIUM}: run scripts/setup.sh, or set SOFTMAX_SKIP_WEBGPU=1 to skip the WebGPU tests`,
      );
    }
    ({ server, url } = await serve());
    profile = mkdtempSync(join(tmpdir(), 'softmax-webgpu-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--enable-unsafe-webgpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await context?.close();
    server?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('computes every operation, special values and split rows like the reference', async () => {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction('window.ready === true');
    const x = random(3 * 40, 30, 1);
    const special = Float32Array.from([1, 2, 1e30, 4, -1e30, 0, -0, 3]);
    const y = reference.softmax(x, { cols: 40 }) as Float32Array;
    const dy = random(3 * 40, 1, 2);
    const long = random(2 * 4096, 20, 3);
    const cases = [
      { op: 'softmax', inputs: [encode(x)], options: { cols: 40, temperature: 0.6 } },
      { op: 'logSoftmax', inputs: [encode(x)], options: { cols: 40 } },
      { op: 'softmaxBackward', inputs: [encode(y), encode(dy)], options: { cols: 40 } },
      { op: 'logSoftmaxBackward', inputs: [encode(x.map((v) => -Math.abs(v))), encode(dy)], options: { cols: 40 } },
      { op: 'softmax', inputs: [encode(special)], options: { cols: 4 } },
      { op: 'logSoftmax', inputs: [encode(long)], options: { cols: 4096, temperature: 2 } },
      // The extreme temperature classes (past 2^±64) compile and run in Chromium too.
      {
        op: 'softmax',
        inputs: [encode(Float32Array.from([1e38, -1e38, 3e38, -3e38]))],
        options: { temperature: 3.5e38 },
      },
      {
        op: 'logSoftmax',
        inputs: [encode(Float32Array.from([0, -1, 1e-40, -3e-39]))],
        options: { temperature: 1e-40 },
      },
      { op: 'softmaxBackward', inputs: [encode(y), encode(dy)], options: { cols: 40, temperature: 1e-50 } },
      // logSumExp (one value per row): whole rows, and long rows merged from segments.
      { op: 'logSumExp', inputs: [encode(x)], options: { cols: 40, temperature: 0.6 } },
      { op: 'logSumExp', inputs: [encode(long)], options: { cols: 4096, temperature: 1e-40 } },
    ] as const;
    const result = await page.evaluate(
      ([c, tuning]) => (window as unknown as { run: (c: unknown, t: unknown) => Promise<unknown> }).run(c, tuning),
      [cases, { targetWorkgroups: 16, minLanesPerThread: 1 }] as const,
    );
    const { out, adapter, secure } = result as { out: Array<Array<number | string>>; adapter: string; secure: boolean };
    expect(secure).toBe(true);
    expect(adapter).toMatch(/swiftshader/i);
    cases.forEach((c, i) => {
      const inputs = c.inputs.map((a) => Float32Array.from(a));
      const expected = (reference[c.op] as (...a: unknown[]) => Float32Array)(...inputs, c.options);
      const temperature = (c.options as { temperature?: number }).temperature ?? 1;
      // logSumExp's bound is rtol·(|ref| + 1), as log-softmax's in the conformance suite.
      const atol = c.op.endsWith('Backward') ? 4e-7 / temperature : c.op === 'logSumExp' ? 2e-6 : undefined;
      expect(mismatch(decode(out[i]), expected, 2e-6, atol), `${c.op} #${i}`).toBeUndefined();
    });
  });

  it('runs the special-value rules in the browser (NaN, +Inf, fully masked)', async () => {
    const page = await context.newPage();
    await page.goto(url);
    await page.waitForFunction('window.ready === true');
    // JSON cannot carry NaN/Inf, so the page builds these inputs from tokens.
    const result = await page.evaluate(async () => {
      const w = window as unknown as { run: (c: unknown) => Promise<{ out: unknown }> };
      return w.run([
        {
          op: 'softmax',
          inputs: [[1, Number.NaN, 2, 3, 1, Infinity, Infinity, 0, -Infinity, -Infinity, -Infinity, -Infinity]],
          options: { cols: 4 },
        },
        {
          op: 'logSoftmax',
          inputs: [[1, Number.NaN, 2, 3, 1, Infinity, Infinity, 0, -Infinity, -Infinity, -Infinity, -Infinity]],
          options: { cols: 4, fullyMasked: 'zero' },
        },
      ]);
    });
    const out = (result as { out: Array<Array<number | string>> }).out;
    const x = Float32Array.from([
      1,
      Number.NaN,
      2,
      3,
      1,
      Infinity,
      Infinity,
      0,
      -Infinity,
      -Infinity,
      -Infinity,
      -Infinity,
    ]);
    expect(mismatch(decode(out[0]), reference.softmax(x, { cols: 4 }))).toBeUndefined();
    expect(mismatch(decode(out[1]), reference.logSoftmax(x, { cols: 4, fullyMasked: 'zero' }))).toBeUndefined();
  });
});
