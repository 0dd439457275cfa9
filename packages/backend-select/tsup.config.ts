import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // The backends stay separate modules, loaded by import() only when a call needs them, so a
  // bundle that never needs WebGPU never downloads its code.
  external: ['@softmax/core', '@softmax/wasm', '@softmax/webgpu', 'webgpu'],
});
