import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type BundleSizes, bundleSizes, kb } from './lib/bundle-size.js';

// The size budgets (min+gzip, esbuild for the browser, the built packages resolved by
// name), measured and printed on every run. Those met are asserted; the others are reported (see
// the root README's size table and the packages' READMEs for what takes the bytes) rather than
// asserted, which would keep the whole test command red until they are met. What the per-runtime
// entries already guarantee is asserted.

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * A chunk on the way to a CPU softmax: auto's implementation, @softmax/wasm's JavaScript and its
 * SIMD build; not WebGPU's, nor the scalar build (loaded only without SIMD).
 */
const cpuChunk = (inputs: string[]) => !inputs.some((input) => /scalar-wasm|webgpu\/dist\//.test(input));

interface Budget {
  what: string;
  bytes: number;
  measure: (s: Record<string, BundleSizes>) => number;
  /** Met, and asserted from now on. */
  met?: true;
}

const BUDGETS: Budget[] = [
  { what: "import { softmax } from '@softmax/core'", bytes: 2_000, measure: (s) => s.core.entry },
  {
    what: "import { createWasmBackend } from '@softmax/wasm', SIMD build included",
    bytes: 16_000,
    measure: (s) => s.wasm.entry,
  },
  {
    what: "import { softmax } from '@softmax/auto', the entry (backends lazy)",
    bytes: 4_000,
    measure: (s) => s.auto.entry,
    met: true,
  },
  { what: '@softmax/auto, all a browser loads for a CPU softmax', bytes: 20_000, measure: (s) => s.auto.loaded },
];

describe('browser bundle sizes', async () => {
  const sizes = {
    core: await bundleSizes("export { softmax } from '@softmax/core';", here),
    wasm: await bundleSizes("export { createWasmBackend } from '@softmax/wasm';", here),
    auto: await bundleSizes("export { softmax } from '@softmax/auto';", here, cpuChunk),
    others: await bundleSizes("export { crossEntropy, sample } from '@softmax/core';", here),
  };

  it('prints each budget beside its measured size', () => {
    const rows = BUDGETS.map((b) => {
      const measured = b.measure(sizes);
      return `${b.what}: ${kb(measured)} (budget ${kb(b.bytes)}${measured <= b.bytes ? ', met' : ', NOT met'})`;
    });
    console.log(`browser bundle sizes, min+gzip:\n  ${rows.join('\n  ')}`);
    for (const b of BUDGETS) expect(b.measure(sizes)).toBeGreaterThan(0);
  });

  it('the budgets met stay met', () => {
    for (const b of BUDGETS.filter((b) => b.met)) expect(b.measure(sizes), b.what).toBeLessThanOrEqual(b.bytes);
  });

  it("core's softmax alone carries no other op: not crossEntropy's or sample's code, nor the steps only they validate with", () => {
    // Strings of their declarations, option readers, kernels and extended validation messages,
    // which minifying keeps: each is in a bundle of crossEntropy and sample, none in softmax's.
    const theirs = [
      'crossEntropy',
      'labelSmoothing',
      'logitBias',
      'topLogprobs',
      'repetitionPenalty',
      'shares memory with',
      'one per row',
    ];
    for (const text of theirs) expect(sizes.others.text, text).toContain(text);
    expect(theirs.filter((text) => sizes.core.text.includes(text))).toEqual([]);
    expect(sizes.core.text).toContain('softmax');
  });

  it("auto's async functions alone carry no implementation: it is an import() chunk, with @softmax/core", () => {
    const statics = staticInputs(sizes.auto);
    expect(statics.filter((input) => /core\/dist\/|backend-select\/dist\/(impl|static)\.js/.test(input))).toEqual([]);
  });

  it("auto's backends are import() chunks of their own, not in its entry", () => {
    expect(staticInputs(sizes.auto).filter((input) => /(wasm|webgpu)\/dist\//.test(input))).toEqual([]);
  });

  it('the wasm browser bundle loads one build: the scalar build is a chunk only a runtime without SIMD imports', () => {
    const chunks = Object.keys(sizes.wasm.files).filter((file) => file.startsWith('scalar-wasm'));
    expect(chunks.length).toBe(1);
    expect(staticInputs(sizes.wasm).filter((input) => /scalar-wasm/.test(input))).toEqual([]);
    expect(sizes.wasm.text).not.toMatch(/node:worker_threads|node:os/);
  });
});

/** The input files of the entry and of every chunk it imports statically: what loads before any import() runs. */
function staticInputs(sizes: BundleSizes): string[] {
  const outputs = sizes.metafile.outputs;
  const entry = Object.keys(outputs).find((file) => outputs[file].entryPoint) as string;
  const statics = new Set<string>();
  const visit = (file: string) => {
    if (statics.has(file)) return;
    statics.add(file);
    for (const i of outputs[file].imports) if (i.kind === 'import-statement' && i.path in outputs) visit(i.path);
  };
  visit(entry);
  return [...statics].flatMap((file) => Object.keys(outputs[file].inputs));
}
