import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, inject, it } from 'vitest';

// publint (every level, suggestions included) on the tarball pnpm packed, and
// @arethetypeswrong/cli --pack on each package folder (its own npm pack, and any .attw.json there).
const { packed } = inject('scratch');
const require = createRequire(import.meta.url);
// The CLI's bin (its package exports no path to it).
const attw = join(dirname(require.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js');
const exec = promisify(execFile);

interface AttwProblem {
  kind: string;
  entrypoint?: string;
  resolutionKind?: string;
  resolutionOption?: string;
  moduleSpecifier?: string;
}

/** attw's verdict on one package folder: its exit code and its problems, one line each. */
async function runAttw(dir: string): Promise<{ exitCode: number; problems: string[] }> {
  let stdout = '';
  let exitCode = 0;
  try {
    ({ stdout } = await exec(process.execPath, [attw, '--pack', '.', '--format', 'json'], {
      cwd: dir,
      maxBuffer: 64 << 20,
    }));
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    stdout = e.stdout ?? '';
    exitCode = e.code ?? 1;
    if (!stdout.trim().startsWith('{')) return { exitCode, problems: [`attw failed: ${e.stderr ?? ''}`] };
  }
  const report = JSON.parse(stdout) as { problems?: Record<string, AttwProblem[]> };
  const problems = Object.values(report.problems ?? {})
    .flat()
    .map((p) =>
      [p.kind, p.entrypoint, p.resolutionKind ?? p.resolutionOption, p.moduleSpecifier].filter(Boolean).join(' '),
    );
  return { exitCode, problems };
}

// Each attw run is a process of its own, mostly waiting on npm pack: start them all at once.
const attwRuns = new Map(packed.map((p) => [p.name, runAttw(p.dir)]));

describe.each(packed)('$name', (pkg) => {
  it('publint reports nothing', async () => {
    const tarball = readFileSync(pkg.tarball);
    const { messages, pkg: manifest } = await publint({
      pack: { tarball: tarball.buffer.slice(tarball.byteOffset, tarball.byteOffset + tarball.byteLength) },
      level: 'suggestion',
    });
    expect(messages.map((m) => `${m.type}: ${formatMessage(m, manifest) ?? m.code}`)).toEqual([]);
  });

  it('attw --pack reports nothing', async () => {
    expect(await attwRuns.get(pkg.name)).toEqual({ exitCode: 0, problems: [] });
  });
});
