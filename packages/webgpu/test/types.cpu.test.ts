import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * A TypeScript consumer of the built .d.ts with `skipLibCheck: false` and no WebGPU setup of its
 * own (no @webgpu/types in its tsconfig, no @types at all): the package's types must bring what
 * they name (GPUDevice, GPUBuffer, ...). The consumer links @softmax/webgpu into its
 * node_modules, as an install does; TypeScript then resolves the package's own dependencies.
 */
const packageDir = resolve(import.meta.dirname, '..');
const require = createRequire(import.meta.url);
const tsc = join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc');

const CONSUMER = `import { createWebGPUBackend, type WebGPUBackend, type WebGPUBackendOptions } from '@softmax/webgpu';
export async function make(device?: GPUDevice): Promise<WebGPUBackend> {
  const options: WebGPUBackendOptions = device ? { device } : {};
  return createWebGPUBackend(options);
}
`;

let work: string;

beforeAll(() => {
  if (!existsSync(join(packageDir, 'dist', 'index.d.ts'))) throw new Error('dist/index.d.ts is missing: build first');
  work = mkdtempSync(join(tmpdir(), 'softmax-webgpu-types-'));
  mkdirSync(join(work, 'node_modules', '@softmax'), { recursive: true });
  symlinkSync(packageDir, join(work, 'node_modules', '@softmax', 'webgpu'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  writeFileSync(join(work, 'consumer.ts'), CONSUMER);
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the built types type-check in a consumer with skipLibCheck: false', () => {
  it.each([
    ['node16', 'node16'],
    ['bundler', 'esnext'],
  ])('moduleResolution %s', (moduleResolution, module) => {
    const config = {
      compilerOptions: {
        strict: true,
        skipLibCheck: false,
        noEmit: true,
        target: 'es2022',
        lib: ['es2022', 'dom'],
        module,
        moduleResolution,
        types: [],
      },
      files: ['consumer.ts'],
    };
    writeFileSync(join(work, `tsconfig.${moduleResolution}.json`), JSON.stringify(config));
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', `tsconfig.${moduleResolution}.json`], { cwd: work, encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
  });

  it('what the types need is a dependency, and a types-only one (zero runtime dependencies)', () => {
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    expect(manifest.dependencies).toHaveProperty('@webgpu/types');
    for (const name of Object.keys(manifest.dependencies)) {
      if (name.startsWith('@softmax/')) continue;
      const dep = JSON.parse(readFileSync(require.resolve(`${name}/package.json`, { paths: [packageDir] }), 'utf8'));
      // no JavaScript entry: nothing of it is loaded at run time
      expect([dep.name, dep.main ?? '', dep.exports, dep.module]).toEqual([name, '', undefined, undefined]);
    }
  });
});
