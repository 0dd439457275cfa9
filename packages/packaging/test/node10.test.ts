import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';
import { publishedPackages } from './lib/workspace.js';

/**
 * Every subpath of every published package's "exports" resolves to its type declarations under
 * TypeScript's `node10` resolution too, which ignores "exports" (typesVersions maps the subpaths
 * for it): TypeScript's own resolver, from a project that has the packages in its node_modules.
 */
const work = mkdtempSync(join(tmpdir(), 'softmax-node10-'));
mkdirSync(join(work, 'node_modules', '@softmax'), { recursive: true });
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cases = publishedPackages().flatMap(({ name, dir }) => {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  symlinkSync(dir, join(work, 'node_modules', name), 'dir');
  return Object.keys(manifest.exports)
    .filter((key) => !key.endsWith('.json') && !key.endsWith('.wasm'))
    .map((subpath) => ({ name, subpath, exports: manifest.exports[subpath] }));
});

describe('the published packages under moduleResolution node10', () => {
  it.each(cases)('$name $subpath resolves to a .d.ts', ({ name, subpath, exports }) => {
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    const options = { moduleResolution: ts.ModuleResolutionKind.Node10, module: ts.ModuleKind.CommonJS };
    const { resolvedModule } = ts.resolveModuleName(specifier, join(work, 'consumer.ts'), options, ts.sys);
    expect(resolvedModule?.extension, `${specifier} did not resolve`).toMatch(/^\.d\.c?ts$/);
    // the declarations a "types" condition of that subpath names
    const types = [...JSON.stringify(exports).matchAll(/"types":"\.\/([^"]+)"/g)].map((m) => m[1]);
    expect(types.some((file) => resolvedModule?.resolvedFileName.endsWith(file))).toBe(true);
  });
});
