import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

/**
 * A TypeScript consumer of the built .d.ts with `skipLibCheck: false` and no WebGPU types of its
 * own: the options name GPUDevice, which must come with the package (@webgpu/types, referenced).
 */
const packageDir = resolve(import.meta.dirname, '..');
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
let work: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist', 'index.d.ts'))) throw new Error('dist/index.d.ts is missing: build first');
  work = mkdtempSync(join(tmpdir(), 'softmax-auto-types-'));
  mkdirSync(join(work, 'node_modules', '@softmax'), { recursive: true });
  symlinkSync(packageDir, join(work, 'node_modules', '@softmax', 'auto'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(
    join(work, 'consumer.ts'),
    "import { createSoftmax, softmax } from '@softmax/auto';\nexport const y: Promise<Float32Array> = softmax(new Float32Array([1, 2]));\nexport const s = createSoftmax({});\n",
  );
  const compilerOptions = { strict: true, skipLibCheck: false, noEmit: true, target: 'es2022', lib: ['es2022', 'dom'] };
  const config = {
    compilerOptions: { ...compilerOptions, module: 'node16', moduleResolution: 'node16', types: [] },
    files: ['consumer.ts'],
  };
  writeFileSync(join(work, 'tsconfig.json'), JSON.stringify(config));
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

it('the built types type-check in a consumer with skipLibCheck: false (node16)', () => {
  let output = '';
  try {
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: work, encoding: 'utf8' });
  } catch (error) {
    output = String((error as { stdout?: string }).stdout ?? error);
  }
  expect(output).toBe('');
});
