import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this package is packages/packaging). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

export interface Published {
  name: string;
  version: string;
  dir: string;
}

/** Every package of the workspace that is published: under packages/, apps/ or bench/, not private. */
export function publishedPackages(root = ROOT): Published[] {
  const found: Published[] = [];
  for (const group of ['packages', 'apps']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const entry of readdirSync(base)) {
      const manifest = join(base, entry, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      if (pkg.private !== true) found.push({ name: pkg.name, version: pkg.version, dir: join(base, entry) });
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name));
}

/** `pnpm pack` of one package into dest; returns the tarball's path and the files pnpm listed. */
export function pnpmPack(dir: string, dest: string): { tarball: string; files: string[] } {
  const raw = execFileSync('pnpm', ['pack', '--pack-destination', dest, '--json'], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const report = JSON.parse(raw) as { filename: string; files: Array<{ path: string }> };
  return { tarball: report.filename, files: report.files.map((f) => f.path) };
}

/** The environment that gives Dawn (the `webgpu` package) SwiftShader, Debian chromium's Vulkan driver. */
export function dawnEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? '/usr/lib/chromium/vk_swiftshader_icd.json',
    LD_LIBRARY_PATH: ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
    VK_LOADER_LAYERS_DISABLE: process.env.VK_LOADER_LAYERS_DISABLE ?? '~implicit~',
  };
}
