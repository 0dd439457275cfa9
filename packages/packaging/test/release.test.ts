import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publishedPackages, ROOT } from './lib/workspace.js';

// The release as CI would run it, on a scratch copy of the repository (its files as git sees them,
// plus the packages' build output): `changeset version`, then `pnpm publish -r --dry-run`, whose
// summary lists each tarball's files.
const changeset = join(dirname(createRequire(import.meta.url).resolve('@changesets/cli/package.json')), 'bin.js');
const copy = mkdtempSync(join(tmpdir(), 'softmax-release-'));
afterAll(() => rmSync(copy, { recursive: true, force: true }));

/** Files a tarball must never carry: tests, fixtures (and their maps), build scripts and configs. */
const FORBIDDEN = [
  /(^|\/)(test|tests|__tests__|fixtures?|scripts|crate)\//,
  /\.(test|spec|bench)\.[cm]?[jt]s(\.map)?$/,
  /(^|\/)(tsup|vitest|vite|webpack)\.config\./,
  /(^|\/)tsconfig[^/]*\.json$/,
  /(^|\/)Cargo\.(toml|lock)$/,
  /(^|\/)build\.[cm]?js$/,
  /\.tgz$/,
];

/** Every file the manifest points at (main, module, types, exports' targets), without wildcards. */
function namedFiles(manifest: Record<string, unknown>): string[] {
  const found = new Set<string>();
  const walk = (v: unknown) => {
    if (typeof v === 'string') {
      if (v.startsWith('./') && !v.includes('*')) found.add(v.slice(2));
    } else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const key of ['main', 'module', 'types']) {
    const v = manifest[key];
    if (typeof v === 'string') found.add(v.replace(/^\.\//, ''));
  }
  walk(manifest.exports);
  return [...found];
}

interface Summary {
  publishedPackages: Array<{ name: string; version: string; files: Array<{ path: string }> }>;
}

function dryRun(): { before: Map<string, string>; summary: Summary } {
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && existsSync(join(ROOT, f)));
  for (const file of listed) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file));
  }
  const published = publishedPackages();
  for (const p of published) {
    for (const out of ['dist', 'pkg']) {
      const from = join(p.dir, out);
      if (existsSync(from)) cpSync(from, join(copy, relative(ROOT, p.dir), out), { recursive: true });
    }
  }
  // changeset's changelog generator is resolved from the repository's root, as in a checkout.
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  // What `pnpm install` gives each package for its workspace dependencies: links to the copy's
  // own packages, so packing rewrites `workspace:` ranges to the versions changeset just wrote.
  const copies = publishedPackages(copy);
  const byName = new Map(copies.map((p) => [p.name, p.dir]));
  for (const p of copies) {
    const manifest = JSON.parse(readFileSync(join(p.dir, 'package.json'), 'utf8'));
    for (const field of ['dependencies', 'devDependencies', 'peerDependencies']) {
      for (const dep of Object.keys(manifest[field] ?? {})) {
        const target = byName.get(dep);
        const link = join(p.dir, 'node_modules', dep);
        if (!target || existsSync(link)) continue;
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(target, link);
      }
    }
  }
  execFileSync(process.execPath, [changeset, 'version'], { cwd: copy, stdio: 'pipe' });
  execFileSync('pnpm', ['publish', '-r', '--dry-run', '--no-git-checks', '--report-summary'], {
    cwd: copy,
    stdio: 'pipe',
  });
  const summary = JSON.parse(readFileSync(join(copy, 'pnpm-publish-summary.json'), 'utf8')) as Summary;
  return { before: new Map(published.map((p) => [p.name, p.version])), summary };
}

describe('release dry run: changeset version, then pnpm publish -r --dry-run', () => {
  const { before, summary } = dryRun();
  const after = new Map(publishedPackages(copy).map((p) => [p.name, p]));
  console.log(
    `versions after changeset version:\n${[...before]
      .map(([name, version]) => `  ${name} ${version} -> ${after.get(name)?.version}`)
      .join('\n')}`,
  );

  it('publishes every public package at the version changeset wrote', () => {
    expect(summary.publishedPackages.map((p) => `${p.name}@${p.version}`).sort()).toEqual(
      [...after.values()].map((p) => `${p.name}@${p.version}`).sort(),
    );
  });

  describe.each([...after.values()])('$name', (pkg) => {
    const files = summary.publishedPackages.find((p) => p.name === pkg.name)?.files.map((f) => f.path) ?? [];
    const manifest = JSON.parse(readFileSync(join(pkg.dir, 'package.json'), 'utf8'));

    it('carries dist, README, LICENSE and every file its manifest names', () => {
      const missing = ['package.json', 'README.md', 'LICENSE', ...namedFiles(manifest)].filter(
        (f) => !files.includes(f),
      );
      expect({ missing, dist: files.some((f) => f.startsWith('dist/') && f.endsWith('.js')) }).toEqual({
        missing: [],
        dist: true,
      });
    });

    it('carries no tests, fixtures, test source maps, build scripts or configs', () => {
      expect(files.filter((f) => FORBIDDEN.some((re) => re.test(f)))).toEqual([]);
    });

    if (pkg.name === '@softmax/wasm') {
      it('carries the wasm modules', () => {
        expect(files.filter((f) => f.endsWith('.wasm')).length).toBeGreaterThan(0);
        expect(files).toContain('pkg/softmax_wasm_bg.wasm');
      });
    }
  });
});
