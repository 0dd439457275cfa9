import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const DOCS = join(import.meta.dirname, '..');
const TYPEDOC = join(dirname(createRequire(import.meta.url).resolve('typedoc/package.json')), 'bin', 'typedoc');

/** The parts of TypeDoc's JSON output that these checks read. */
interface Reflection {
  name: string;
  kind: number;
  comment?: { summary: unknown[]; blockTags?: Array<{ tag: string }> };
  signatures?: Reflection[];
  children?: Reflection[];
  type?: { type: string; declaration?: Reflection };
  sources?: Array<{ fileName: string; line: number; character: number }>;
  inheritedFrom?: unknown;
}

// TypeDoc's ReflectionKind values (typedoc/dist/lib/models/kind.js).
const KIND = { Variable: 32, Function: 64, Class: 128, Interface: 256, Property: 1024, TypeAlias: 2097152 };

let modules: Reflection[] = [];
let typedoc: { status: number | null; output: string };

beforeAll(() => {
  // typedoc.json: every public entry point, validation on (notExported, invalidLink, notDocumented),
  // treatWarningsAsErrors. Here warnings are let through to the output so that the JSON is written
  // too (dist/api/api.json): the first test fails on any warning, the others read the JSON.
  const run = spawnSync(
    process.execPath,
    [TYPEDOC, '--treatWarningsAsErrors', 'false', '--treatValidationWarningsAsErrors', 'false'],
    { cwd: DOCS, encoding: 'utf8', timeout: 240_000 },
  );
  const colours = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');
  typedoc = { status: run.status, output: `${run.stdout}\n${run.stderr}`.replace(colours, '') };
  modules = JSON.parse(readFileSync(join(DOCS, 'dist/api/api.json'), 'utf8')).children;
});

const hasExample = (r: Reflection) =>
  [r, ...(r.signatures ?? []), ...(r.type?.declaration?.signatures ?? [])].some((x) =>
    x.comment?.blockTags?.some((t) => t.tag === '@example'),
  );

/**
 * Every property of an exported interface, class or object type alias, as `module.Owner.prop`
 * (the members of an inline object type are described by their property's comment).
 */
function properties(module: Reflection): Array<[string, Reflection]> {
  const found: Array<[string, Reflection]> = [];
  const visit = (owner: Reflection, path: string) => {
    const members = owner.children ?? owner.type?.declaration?.children ?? [];
    // A mapped type's members all come from one source position (its template): nothing to document each.
    const at = (m: Reflection) =>
      m.sources?.[0] ? `${m.sources[0].fileName}:${m.sources[0].line}:${m.sources[0].character}` : '';
    const count = new Map<string, number>();
    for (const m of members) count.set(at(m), (count.get(at(m)) ?? 0) + 1);
    for (const m of members) {
      if (m.kind !== KIND.Property || m.inheritedFrom || count.get(at(m))! > 1) continue;
      found.push([`${path}.${m.name}`, m]);
    }
  };
  // Not the members of a constant's inferred type: a data table is documented as a whole.
  for (const r of module.children ?? []) {
    if ([KIND.Interface, KIND.Class, KIND.TypeAlias].includes(r.kind)) visit(r, `${module.name}.${r.name}`);
  }
  return found;
}

describe('the API reference (TypeDoc over every public entry point)', () => {
  it('builds with no warning: every export documented, every link resolved, nothing referenced but unexported', () => {
    expect(typedoc.status, typedoc.output).toBe(0);
    expect(typedoc.output).not.toMatch(/\[(warning|error)\]/);
  });

  it("covers every public entry point: each subpath of each published package's exports", () => {
    // A subpath added to a package.json without a TypeDoc entry point (typedoc.json, and its path in
    // tsconfig.typedoc.json) fails here. The .wasm subpaths are files, not modules.
    const packages = join(DOCS, '..', 'packages');
    const expected: string[] = [];
    for (const dir of readdirSync(packages)) {
      const manifest = JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8'));
      if (manifest.private) continue;
      for (const key of Object.keys(manifest.exports ?? {})) {
        if (key === './package.json' || key.endsWith('.wasm')) continue;
        expected.push(key === '.' ? manifest.name : `${manifest.name}/${key.slice(2)}`);
      }
    }
    expect(expected.length).toBeGreaterThanOrEqual(9);
    expect(modules.map((m) => m.name).sort()).toEqual(expected.sort());
  });

  it('has an @example on every exported function, class and constant', () => {
    expect(modules.length).toBe(9);
    const missing: string[] = [];
    for (const m of modules) {
      for (const r of m.children ?? []) {
        if (![KIND.Function, KIND.Class, KIND.Variable].includes(r.kind)) continue;
        if (!hasExample(r)) missing.push(`${m.name}.${r.name}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('documents every property of every exported interface, class and type', () => {
    expect(modules.length).toBe(9);
    const missing: string[] = [];
    for (const m of modules) {
      for (const [path, p] of properties(m)) {
        if (!((p.comment?.summary.length ?? 0) > 0)) missing.push(path);
      }
    }
    expect(missing).toEqual([]);
  });
});
