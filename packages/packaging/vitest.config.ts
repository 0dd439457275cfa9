import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 240_000,
    // Each file starts its own children (node, bundlers, Chromium): one file at a time on small machines.
    fileParallelism: false,
    pool: 'forks',
  },
});
