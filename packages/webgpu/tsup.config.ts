import { resolve } from 'node:path';
import { defineConfig, type Options } from 'tsup';

const common: Options = {
  format: ['esm', 'cjs'],
  sourcemap: true,
  target: 'es2022',
  loader: { '.wgsl': 'text' },
};

// Two builds of one source: dist/node (package.json's `node` condition) loads Dawn through the
// optional `webgpu` peer; dist/ (every other runtime: browsers, workers) has dawn.ts replaced by
// dawn-browser.ts, so no bundler ever sees a Node import in a browser build.
export default defineConfig([
  {
    ...common,
    entry: { index: 'src/index.ts' },
    // The public types name GPUDevice, GPUBuffer and friends: they come from @webgpu/types (a
    // dependency with no JavaScript), so a consumer type-checks with no setup, skipLibCheck off too.
    dts: { banner: '/// <reference types="@webgpu/types" />' },
    clean: true,
    platform: 'browser',
    esbuildPlugins: [
      {
        name: 'browser-dawn',
        setup(build) {
          build.onResolve({ filter: /^\.\/dawn\.js$/ }, (args) => ({
            path: resolve(args.resolveDir, 'dawn-browser.ts'),
          }));
        },
      },
    ],
  },
  {
    ...common,
    entry: { 'node/index': 'src/index.ts' },
    platform: 'node',
  },
]);
