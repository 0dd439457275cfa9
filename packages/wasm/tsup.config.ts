import { defineConfig } from 'tsup';

export default defineConfig({
  // index (Node) and browser (the rest) embed the wasm builds (src/generated/*-wasm.js; the scalar
  // one is imported on demand, a chunk of its own in ESM); init embeds none; abi is the kernel's C
  // ABI table, for tooling.
  entry: ['src/index.ts', 'src/browser.ts', 'src/init.ts', 'src/abi.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
