import { defineConfig } from 'tsup';

// The CLI is bundled with the shared scenarios (../../bench); the libraries it measures stay
// external so each loads its own files (wasm binaries, native addons) from node_modules.
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: false,
  sourcemap: true,
  external: [/^@tensorflow\/[^/]+$/, /^onnxruntime-(web|node)$/, 'webgpu', /^@softmax\/[^/]+(\/helpers)?$/],
});
