import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  // The options name GPUDevice: it comes from @webgpu/types (a dependency with no JavaScript), so
  // a consumer type-checks with no setup, skipLibCheck off too.
  dts: { banner: '/// <reference types="@webgpu/types" />' },
  clean: true,
  sourcemap: true,
  target: 'es2022',
  // The backends stay separate modules, loaded by import() only when a call needs them, so a
  // bundle that never needs WebGPU never downloads its code.
  external: ['@softmax/core', '@softmax/wasm', '@softmax/webgpu', 'webgpu'],
});
