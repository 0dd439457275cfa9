import { defineConfig } from 'vitest/config';

// The WebGPU example runs on Dawn (the `webgpu` package) + SwiftShader, found through these. They
// are set here, in the process that spawns the examples, as in packages/webgpu/vitest.config.ts.
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two shared cores: TypeDoc and the examples one file at a time.
    fileParallelism: false,
  },
});
