import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import type { PathResult } from './oracle.js';

const CHROMIUM = process.env.SOFTMAX_CHROMIUM ?? '/usr/bin/chromium';
const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
};

/** A site: each prefix serves one folder (its index page given here or found there) with optional headers. */
export interface Site {
  [prefix: string]: { dir: string; index?: string; headers?: Record<string, string> };
}

/** Serves the built bundles from http://127.0.0.1 (a secure context: navigator.gpu needs one). */
export function serve(site: Site): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    // Chromium asks every new site for one; a 404 would read as a page problem.
    if (path === '/favicon.ico') return void res.writeHead(204).end();
    const [, prefix, ...rest] = path.split('/');
    const route = site[prefix];
    if (!route) return void res.writeHead(404).end();
    const headers = route.headers ?? {};
    const relative = normalize(rest.join('/'));
    if ((relative === '.' || relative === '') && route.index !== undefined) {
      return void res.writeHead(200, { 'content-type': 'text/html', ...headers }).end(route.index);
    }
    const file = join(route.dir, relative === '.' ? 'index.html' : relative);
    if (relative.startsWith('..') || !existsSync(file) || !statSync(file).isFile())
      return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...headers });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ server, url: `http://127.0.0.1:${port}` });
    }),
  );
}

/** Debian's headless Chromium with WebGPU (SwiftShader), launched the way the repo's other browser tests do. */
export async function launch(): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run scripts/setup.sh`);
  const profile = mkdtempSync(join(tmpdir(), 'softmax-packaging-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
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
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface PageRun {
  out: Record<string, PathResult>;
  /** Uncaught errors and console errors of the page (CSP violations are reported there). */
  problems: string[];
}

/** Opens a page, waits for its bundle to set softmaxReady, and runs every path there. */
export async function runPage(
  context: BrowserContext,
  url: string,
  input: { x: number[]; cols: number },
): Promise<PageRun> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console.error: ${message.text()}`);
  });
  try {
    const response = await page.goto(url);
    if (!response?.ok()) throw new Error(`${url}: HTTP ${response?.status()}`);
    await page.waitForFunction('globalThis.softmaxReady === true', undefined, { timeout: 60_000 }).catch(() => {
      throw new Error(`${url}: the bundle never ran (${problems.join('; ') || 'no error reported'})`);
    });
    const out = (await page.evaluate(
      ([x, cols]) =>
        (globalThis as unknown as { softmaxRun: (x: number[], cols: number) => Promise<unknown> }).softmaxRun(x, cols),
      [input.x, input.cols] as const,
    )) as Record<string, PathResult>;
    return { out, problems };
  } finally {
    await page.close();
  }
}
