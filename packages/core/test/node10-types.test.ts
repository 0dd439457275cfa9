import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * Every subpath of package.json's "exports" resolves to type declarations under TypeScript's
 * `node10` resolution too, which ignores "exports" (typesVersions maps the subpaths for it).
 * TypeScript's own resolver, from a project that has the package in its node_modules.
 */
const packageDir = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'softmax-node10-'));
mkdirSync(join(work, 'node_modules', '@softmax'), { recursive: true });
symlinkSync(packageDir, join(work, 'node_modules', manifest.name), 'dir');
afterAll(() => rmSync(work, { recursive: true, force: true }));

const subpaths = Object.keys(manifest.exports).filter((key) => !key.endsWith('.json') && !key.endsWith('.wasm'));

describe(`${manifest.name} under moduleResolution node10`, () => {
  it.each(subpaths)('%s resolves to a .d.ts', (subpath) => {
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    const options = { moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS };
    const { resolvedModule } = ts.resolveModuleName(specifier, join(work, 'consumer.ts'), options, ts.sys);
    expect(resolvedModule?.extension, `${specifier} did not resolve`).toMatch(/^\.d\.c?ts$/);
    // the same declarations the "types" condition names for it
    const types = JSON.stringify(manifest.exports[subpath]).match(/"types":"\.\/([^"]+)"/)?.[1];
    expect(resolvedModule?.resolvedFileName.endsWith(types as string)).toBe(true);
  });
});
