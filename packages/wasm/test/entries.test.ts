import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The package's entries: the root and `init` export what an application uses; the kernel's C ABI
// (for tooling) is on `@softmax/wasm/abi` alone. Resolved through package.json's exports, by name.

const require = createRequire(import.meta.url);
const APP = ['WasmBuffer', 'runtimeHasSimd'];

describe('the entries of @softmax/wasm', () => {
  it('the root and init export the application API, ESM and CJS alike', async () => {
    const root = await import('@softmax/wasm');
    expect(Object.keys(root).sort()).toEqual([...APP, 'createWasmBackend'].sort());
    const init = await import('@softmax/wasm/init');
    expect(Object.keys(init).sort()).toEqual([...APP, 'init'].sort());
    expect(Object.keys(require('@softmax/wasm')).sort()).toEqual(Object.keys(root).sort());
    expect(Object.keys(require('@softmax/wasm/init')).sort()).toEqual(Object.keys(init).sort());
  });

  it('@softmax/wasm/abi holds the ABI table and its version', async () => {
    const abi = await import('@softmax/wasm/abi');
    expect(Object.keys(abi).sort()).toEqual(['ABI_VERSION', 'KERNEL_FUNCTIONS', 'KERNEL_GLOBALS', 'THREADS_GLOBALS']);
    expect(require('@softmax/wasm/abi').ABI_VERSION).toBe(abi.ABI_VERSION);
    const backend = await (await import('@softmax/wasm')).createWasmBackend({ threads: 1 });
    expect(backend.ops.logSumExp).toEqual(['float32', 'float64']);
    backend.dispose();
  });

  it("every file package.json's exports name exists, and the types leave the ABI out of the root", () => {
    const dir = fileURLToPath(new URL('..', import.meta.url));
    const { exports } = JSON.parse(readFileSync(`${dir}package.json`, 'utf8'));
    const files: string[] = [];
    const collect = (entry: unknown) => {
      if (typeof entry === 'string') files.push(entry);
      else for (const value of Object.values(entry as object)) collect(value);
    };
    collect(exports);
    for (const file of files) expect(existsSync(`${dir}${file}`), file).toBe(true);
    expect(exports['./abi'].import.types).toBe('./dist/abi.d.ts');
    for (const dts of ['dist/index.d.ts', 'dist/init.d.ts']) {
      expect(readFileSync(`${dir}${dts}`, 'utf8'), dts).not.toMatch(/ABI_VERSION|KernelExports/);
    }
    expect(readFileSync(`${dir}dist/abi.d.ts`, 'utf8')).toMatch(/KernelExports/);
  });
});
