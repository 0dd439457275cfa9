import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pnpmPack, publishedPackages } from './workspace.js';

export interface Packed {
  name: string;
  version: string;
  dir: string;
  tarball: string;
  files: string[];
}

export interface Scratch {
  /** Holds the tarballs and the consumer project (outside the workspace, in the OS temp folder). */
  base: string;
  /** The consumer project: the tarballs installed, the files of ../../consumer copied in. */
  project: string;
  packed: Packed[];
}

const CONSUMER = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'consumer');

/**
 * Packs every published package once and installs the tarballs into one consumer project that
 * every test shares. The install is pnpm's, preferring its store (fast, and offline for whatever
 * the store holds). Overrides point the packages' dependencies on each other at the tarballs too:
 * nothing comes from the workspace or from the registry's @softmax packages.
 */
export function prepareScratch(): Scratch {
  const base = mkdtempSync(join(tmpdir(), 'softmax-packaging-'));
  const packs = join(base, 'packs');
  const project = join(base, 'consumer');
  mkdirSync(packs);
  const packed = publishedPackages().map((p) => ({ ...p, ...pnpmPack(p.dir, packs) }));
  cpSync(CONSUMER, project, { recursive: true });
  const tarballs = Object.fromEntries(packed.map((p) => [p.name, `file:${p.tarball}`]));
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify(
      {
        name: 'softmax-consumer',
        private: true,
        type: 'module',
        // What a user installs: the packages, Dawn for WebGPU in Node (the optional peer) and Node's types.
        dependencies: { ...tarballs, webgpu: '0.6.2', '@types/node': '20.19.43' },
      },
      null,
      2,
    )}\n`,
  );
  writeFileSync(
    join(project, 'pnpm-workspace.yaml'),
    [
      'overrides:',
      ...packed.map((p) => `  "${p.name}": "file:${p.tarball}"`),
      // Dawn's install script only prints a notice; pnpm 12 wants every script allowed or refused.
      'allowBuilds:',
      '  webgpu: false',
      '',
    ].join('\n'),
  );
  execFileSync('pnpm', ['install', '--prefer-offline', '--reporter=append-only'], {
    cwd: project,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: '1' },
  });
  return { base, project, packed };
}
