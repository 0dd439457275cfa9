import { readFileSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// Dawn (the `webgpu` package) finds a Vulkan driver through these. They are set here, in the
// process that forks the test workers, because the dynamic loader reads LD_LIBRARY_PATH only
// when a process starts. SwiftShader comes with Debian's chromium package.
process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
// Only that driver: no implicit Vulkan layers from whatever the machine has installed (Mesa's
// device_select comes with mesa-vulkan-drivers, for one), so every machine runs the same stack.
process.env.VK_LOADER_LAYERS_DISABLE ??= '~implicit~';

// SOFTMAX_SKIP_WEBGPU=1 opts out of every test that needs a GPU adapter (never set by CI).
const skipGPU = process.env.SOFTMAX_SKIP_WEBGPU === '1';
if (skipGPU) console.warn('SOFTMAX_SKIP_WEBGPU=1: the WebGPU tests are not run (only the planner tests).');

export default defineConfig({
  plugins: [
    {
      name: 'wgsl-text',
      enforce: 'pre',
      load(id) {
        if (id.endsWith('.wgsl')) return `export default ${JSON.stringify(readFileSync(id, 'utf8'))};`;
        return undefined;
      },
    },
  ],
  test: {
    include: skipGPU ? ['test/**/*.cpu.test.ts'] : ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['test/watchdog.ts'],
    pool: 'forks',
    fileParallelism: false,
  },
});
