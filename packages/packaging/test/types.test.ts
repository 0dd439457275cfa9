import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

// consumer/types.ts imports every package (and the subpaths @softmax/wasm/init and
// @softmax/conformance/helpers) and is type-checked as a user's project would be, with
// skipLibCheck: false, so every .d.ts the packages ship is checked too.
const { project } = inject('scratch');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const exec = promisify(execFile);

// Every config has the DOM library: @webgpu/types, which the WebGPU declarations build on (as every
// typed WebGPU library does), is written against it, and so are WebAssembly's types (TypeScript has
// them only in the DOM and worker libraries; @types/node 20 has none).
const CONFIGS = {
  // A Node project, with Node's types.
  node16: { module: 'node16', moduleResolution: 'node16', lib: ['ES2022', 'DOM'] },
  // An app built by a bundler, for the browser.
  bundler: { module: 'esnext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'] },
  // The resolution older TypeScript projects (and `moduleResolution: node`) still use: no `exports`.
  node10: { module: 'commonjs', moduleResolution: 'node10', lib: ['ES2022', 'DOM'], esModuleInterop: true },
};

async function typecheck(name: keyof typeof CONFIGS): Promise<string> {
  const file = `tsconfig.${name}.json`;
  const compilerOptions = { target: 'ES2022', strict: true, skipLibCheck: false, noEmit: true, ...CONFIGS[name] };
  writeFileSync(join(project, file), JSON.stringify({ compilerOptions, files: ['types.ts'] }, null, 2));
  try {
    await exec(process.execPath, [tsc, '-p', file, '--pretty', 'false'], { cwd: project, maxBuffer: 16 << 20 });
    return '';
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    return `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() || e.message;
  }
}

describe('a TypeScript consumer, skipLibCheck: false', () => {
  // The three checks are independent: start them together.
  const results = Object.fromEntries(Object.keys(CONFIGS).map((n) => [n, typecheck(n as keyof typeof CONFIGS)]));
  for (const name of Object.keys(CONFIGS)) {
    it(`moduleResolution ${name}: no errors`, async () => {
      expect(await results[name]).toBe('');
    });
  }
});
