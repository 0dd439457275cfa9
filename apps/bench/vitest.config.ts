import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // The CLI and browser runs time things: never run them alongside each other.
    fileParallelism: false,
  },
});
