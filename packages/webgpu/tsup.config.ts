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
    dts: true,
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
