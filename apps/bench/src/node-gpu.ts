/**
 * WebGPU in Node: Dawn from the `webgpu` package. Without a GPU, SwiftShader (Vulkan on the CPU,
 * shipped with Debian's chromium) serves as the adapter; cli.ts sets the environment it needs.
 */
export interface NodeGpu {
  gpu?: GPU;
  reason?: string;
  adapter?: string;
}

export async function nodeGpu(): Promise<NodeGpu> {
  let webgpu: typeof import('webgpu');
  try {
    webgpu = await import('webgpu');
  } catch (e) {
    return { reason: `the webgpu package (Dawn) did not load: ${(e as Error).message}` };
  }
  // Browser globals (GPUBufferUsage, GPUMapMode, ...) that WebGPU code expects.
  for (const [name, value] of Object.entries(webgpu.globals)) {
    if (!(name in globalThis)) Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
  }
  // Dawn rounds timestamps down to 65.536 µs (a timing-attack guard meant for browsers) unless
  // told not to: the GPU-time column needs them exact.
  const gpu = webgpu.create(['disable-dawn-features=timestamp_quantization']);
  const adapter = await gpu.requestAdapter();
  if (!adapter) {
    return {
      reason:
        'no WebGPU adapter: Dawn found no usable Vulkan driver (for SwiftShader set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json LD_LIBRARY_PATH=/usr/lib/chromium)',
    };
  }
  const { vendor, architecture, description } = adapter.info;
  return { gpu, adapter: [vendor, architecture, description].filter(Boolean).join(' / ') };
}
