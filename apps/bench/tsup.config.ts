import { defineConfig } from 'tsup';

// The CLI is bundled with the shared scenarios (@softmax/bench-scenarios, TypeScript source); the libraries it measures stay
// external so each loads its own files (wasm binaries, native addons) from node_modules.
export default defineConfig({
  entry: { cli: 'src/cli.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  clean: false,
  sourcemap: true,
  noExternal: ['@softmax/bench-scenarios'],
  external: [
    /^@tensorflow\/[^/]+$/,
    /^onnxruntime-(web|node)$/,
    'webgpu',
    /^@softmax\/(?!bench-scenarios)[^/]+(\/helpers|\/backend)?$/,
  ],
});
