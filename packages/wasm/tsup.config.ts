import { defineConfig } from 'tsup';

export default defineConfig({
  // index embeds the wasm bytes (src/generated/wasm-base64.js); init does not; abi is the kernel's
  // C ABI table, for tooling.
  entry: ['src/index.ts', 'src/init.ts', 'src/abi.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
