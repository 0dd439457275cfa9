import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCoreBackend } from '@softmax/core';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Explain } from '../src/index.js';

// The built package in headless Chromium (Debian's, WebGPU on SwiftShader), from a page served over
// http://127.0.0.1 (a secure context, which navigator.gpu requires). @softmax/wasm and
// @softmax/webgpu are reached through auto's own import() calls, resolved by the import map (to
// the entries a bundler picks for the browser: @softmax/wasm's `browser` condition).
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const ROOTS: Record<string, string> = {
  auto: join(here, '..', 'dist'),
  core: dirname(require.resolve('@softmax/core')),
  wasm: dirname(require.resolve('@softmax/wasm')),
  // the browser build: require.resolve would pick the `node` condition's dist/node
  webgpu: join(dirname(require.resolve('@softmax/webgpu/package.json')), 'dist'),
};
const CHROMIUM = process.env.SOFTMAX_CHROMIUM ?? '/usr/bin/chromium';

const PAGE = `<!doctype html><meta charset="utf-8">
<script type="importmap">{ "imports": {
  "@softmax/core": "/core/index.js", "@softmax/core/backend": "/core/backend.js",
  "@softmax/wasm": "/wasm/browser.js", "@softmax/wasm/abi": "/wasm/abi.js", "@softmax/webgpu": "/webgpu/index.js" } }</script>
<script type="module">
  import { createSoftmax, formatExplain } from '/auto/index.js';
  const logits = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 6);
  window.auto = async () => {
    const auto = createSoftmax();
    const x = logits(1000);
    const first = Array.from(await auto.softmax(x, { cols: 1000 }));
    // calibrate() waits for WebGPU (adapter, device, canary, pipelines), which calls never do,
    // so explain() has its cold costs and the buckets where it was plausible enough to measure.
    await auto.calibrate([{ rows: 1, cols: 1000 }, { rows: 64, cols: 32000 }], { budgetMs: 60000 });
    const explain = auto.explain();
    const text = formatExplain(explain);
    await auto.dispose();
    return { x: Array.from(x), first, explain, text, cores: navigator.hardwareConcurrency };
  };
  window.forced = async () => {
    const gpu = createSoftmax({ backend: 'webgpu' });
    const x = logits(4 * 257);
    const y = Array.from(await gpu.softmax(x, { cols: 257 }));
    const l = Array.from(await gpu.logSoftmax(x, { cols: 257, temperature: 0.5 }));
    const explain = gpu.explain();
    await gpu.dispose();
    return { x: Array.from(x), y, l, explain };
  };
  window.ready = true;
</script>`;

function serve(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const [, root, ...rest] = path.split('/');
    const base = ROOTS[root];
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (base && existsSync(join(base, ...rest))) {
      const file = join(base, ...rest);
      res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'application/json' });
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

const core = createCoreBackend();
/** Within WebGPU's float32 bound of core's result (every element; the inputs are finite). */
function expectClose(actual: number[], expected: Float32Array, rtol: number, label: string) {
  expect(actual.length, label).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (Math.abs(actual[i] - e) > rtol * Math.abs(e) + 1.2e-38) {
      expect.fail(`${label}: element ${i} is ${actual[i]}, core gives ${e}`);
    }
  }
}

describe('@softmax/auto in headless Chromium', () => {
  let context: BrowserContext;
  let server: Server;
  let profile: string;
  let url: string;

  beforeAll(async () => {
    for (const [name, dir] of Object.entries(ROOTS)) {
      if (!existsSync(join(dir, 'index.js')))
        throw new Error(`the browser test loads the built packages: run \`pnpm build\` (${name}: ${dir}/index.js)`);
    }
    if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/setup.sh`);
    ({ server, url } = await serve());
    profile = mkdtempSync(join(tmpdir(), 'softmax-auto-chromium-'));
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

  async function page() {
    const p = await context.newPage();
    const errors: string[] = [];
    p.on('pageerror', (e) => errors.push(e.message));
    await p.goto(url);
    await p.waitForFunction('window.ready === true', undefined, { timeout: 30_000 }).catch(() => {
      throw new Error(`the page did not load: ${errors.join('; ')}`);
    });
    return p;
  }

  it("runs, and explain() reports the adapter and WebGPU's measured costs; on a software adapter it prefers wasm", async () => {
    const p = await page();
    const r = (await p.evaluate('window.auto()')) as {
      x: number[];
      first: number[];
      explain: Explain;
      text: string;
      cores: number;
    };
    await p.close();
    expectClose(r.first, core.softmax(Float32Array.from(r.x), { cols: 1000 }) as Float32Array, 1e-6, 'softmax 1×1000');

    const gpu = r.explain.backends.find((b) => b.id === 'webgpu')!;
    expect(gpu.status, `${gpu.reason}`).toBe('available');
    expect(gpu.details.adapter).toMatch(/\S/);
    expect(gpu.canary).toMatch(/^passed/);
    // Pipelines compile only for buckets where WebGPU is plausible (none, on a software adapter, here).
    for (const stage of ['module import', 'adapter + device', 'canary']) {
      expect(gpu.cold[stage], `${stage} in ${JSON.stringify(gpu.cold)}`).toBeGreaterThan(0);
    }
    expect(r.text).toContain(`adapter: ${gpu.details.adapter}`);
    expect(r.text).toContain('adapter + device');

    const wasm = r.explain.backends.find((b) => b.id === 'wasm')!;
    expect(wasm.status).toBe('available');
    // Threads need crossOriginIsolated, which this page is not: the reason is said, not guessed.
    const mt = r.explain.backends.find((b) => b.id === 'wasm-mt');
    if (r.cores > 1) expect(mt && (mt.status === 'available' || /\S/.test(mt.reason ?? ''))).toBe(true);

    const buckets = r.explain.buckets.filter((b) => b.op === 'softmax' && b.dtype === 'float32');
    expect(buckets.map((b) => b.shape).sort()).toEqual(['1×1000', '64×32000']);
    for (const b of buckets) expect(b.settled, b.shape).toBe(true);
    if (gpu.details.software === 'true') {
      // SwiftShader computes on the CPU behind a GPU's fixed costs: wasm is rightly faster.
      for (const b of buckets) expect(b.chosen, b.shape).toMatch(/^wasm/);
    }
  });

  it("an instance forced to backend: 'webgpu' gives correct results, timed as WebGPU's", async () => {
    const p = await page();
    const r = (await p.evaluate('window.forced()')) as { x: number[]; y: number[]; l: number[]; explain: Explain };
    await p.close();
    const x = Float32Array.from(r.x);
    expectClose(r.y, core.softmax(x, { cols: 257 }) as Float32Array, 2e-6, 'softmax');
    expectClose(r.l, core.logSoftmax(x, { cols: 257, temperature: 0.5 }) as Float32Array, 2e-6, 'logSoftmax');
    expect(r.explain.forced).toBe('webgpu');
    expect(r.explain.backends.map((b) => b.id)).toEqual(['webgpu']);
    const served = r.explain.buckets.flatMap((b) => b.candidates.filter((c) => c.id === 'webgpu' && c.medianMs));
    expect(served.length).toBe(2);
    expect(r.explain.failures).toEqual([]);
  });
});
