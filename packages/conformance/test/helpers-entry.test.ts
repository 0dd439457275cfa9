import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `@softmax/conformance/helpers` without vitest and fast-check installed: both are optional peers,
 * and the built helpers entry (with every chunk it loads) imports neither. The temp project has a
 * copy of the package (files as published) and @softmax/core, and nothing else.
 */
const packageDir = resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
const coreDir = dirname(
  execFileSync(process.execPath, ['-p', "require.resolve('@softmax/core/package.json')"], {
    cwd: packageDir,
    encoding: 'utf8',
  }).trim(),
);
// softmax([0, ln 2, ln 3]) = [1, 2, 3] / 6, computed here.
const USE = `const y = Array.from(oracleSoftmax([0, Math.log(2), Math.log(3)]));
console.log(JSON.stringify(y));`;
const SCRIPTS: Record<string, string> = {
  'helpers.mjs': `import { oracleSoftmax } from '@softmax/conformance/helpers';\n${USE}`,
  'helpers.cjs': `const { oracleSoftmax } = require('@softmax/conformance/helpers');\n${USE}`,
  'root.cjs': `const { oracleSoftmax } = require('@softmax/conformance');\n${USE}`,
  'suite.mjs': `import { describeConformance } from '@softmax/conformance';\nconsole.log(typeof describeConformance);`,
};

let work: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist', 'helpers.js'))) throw new Error('dist/ is missing: build first');
  work = mkdtempSync(join(tmpdir(), 'softmax-conformance-helpers-'));
  const installed = join(work, 'node_modules', '@softmax', 'conformance');
  mkdirSync(join(installed, 'dist'), { recursive: true });
  cpSync(join(packageDir, 'package.json'), join(installed, 'package.json'));
  cpSync(join(packageDir, 'dist'), join(installed, 'dist'), { recursive: true });
  symlinkSync(coreDir, join(work, 'node_modules', '@softmax', 'core'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'app', private: true }));
  for (const [name, text] of Object.entries(SCRIPTS)) writeFileSync(join(work, name), text);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

const run = (script: string) =>
  execFileSync(process.execPath, [script], { cwd: work, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

describe('the helpers entry needs neither vitest nor fast-check', () => {
  it('declares both as optional peers', () => {
    for (const peer of ['vitest', 'fast-check']) {
      expect(manifest.peerDependencies).toHaveProperty(peer);
      expect(manifest.peerDependenciesMeta?.[peer]).toEqual({ optional: true });
    }
  });

  it.each(['helpers.mjs', 'helpers.cjs', 'root.cjs'])('%s loads and runs without them', (script) => {
    const y = JSON.parse(run(script)) as number[];
    for (const [j, v] of y.entries()) expect(Math.abs(v - (j + 1) / 6)).toBeLessThan(1e-15);
  });

  it('while the suite entry does need vitest (so the project above really lacks it)', () => {
    expect(() => run('suite.mjs')).toThrow(/vitest/);
  });
});
