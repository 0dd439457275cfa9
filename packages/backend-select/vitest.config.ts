import { defineConfig } from 'vitest/config';

// Dawn (the `webgpu` package) finds SwiftShader through these; they are set in the process that
// forks the workers, since the dynamic loader reads LD_LIBRARY_PATH only when a process starts.
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores shared: one file at a time keeps the timings that the learning tests read honest.
    fileParallelism: false,
  },
});
