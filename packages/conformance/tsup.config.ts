import { defineConfig } from 'tsup';

// Two entries: `index` (the vitest suite + helpers) and `helpers` (no vitest, no fast-check).
// Only helpers is exported as CommonJS: vitest throws when require()d, so dist/index.cjs is
// built but not exported (package.json "exports" and "files").
export default defineConfig({
  entry: { index: 'src/index.ts', helpers: 'src/helpers.ts' },
  external: ['vitest', 'fast-check'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'es2022',
});
