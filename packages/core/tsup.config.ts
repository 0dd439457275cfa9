import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/backend.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  // One copy of each module for both entries (root and /backend), in CJS too: one SoftmaxError class.
  splitting: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
