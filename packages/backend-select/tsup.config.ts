import { defineConfig, type Options } from 'tsup';

const common: Options = {
  // The options name GPUDevice: it comes from @webgpu/types (a dependency with no JavaScript), so
  // a consumer type-checks with no setup, skipLibCheck off too.
  dts: { entry: { index: 'src/index.ts' }, banner: '/// <reference types="@webgpu/types" />' },
  sourcemap: true,
  target: 'es2022',
  // The backends stay separate modules, loaded by import() only when a call needs them, so a
  // bundle that never needs WebGPU never downloads its code.
  external: ['@softmax/core', '@softmax/wasm', '@softmax/webgpu', 'webgpu'],
};

/**
 * The ESM build is three files that import each other (index.js, static.js, impl.js), not one
 * bundle: a page's bundler sees the implementation as a file that only the async functions'
 * import() and static.js reach, and splits it into a chunk of its own (see src/static.ts).
 */
const separateFiles: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'separate-files',
  setup(build) {
    build.onResolve({ filter: /^\.\/(static|impl)\.js$/ }, (args) => ({ path: args.path, external: true }));
  },
};

export default defineConfig([
  {
    ...common,
    entry: { index: 'src/entry.ts', static: 'src/static.ts', impl: 'src/impl.ts' },
    format: ['esm'],
    esbuildPlugins: [separateFiles],
    clean: true,
  },
  // CommonJS: one file (require() has no chunks to load lazily).
  { ...common, entry: { index: 'src/index.ts' }, format: ['cjs'] },
]);
