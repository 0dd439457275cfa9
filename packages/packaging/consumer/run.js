// One softmax through every way a user reaches it: each backend package directly, and @softmax/auto
// (its default instance, and pinned to each backend). The packages come in as arguments, so the
// CommonJS entry passes require()d modules and the bundles pass what the bundler resolved.
// Each path reports its values or its error: the test decides which must succeed.
export async function run(mods, x, cols) {
  const input = Float32Array.from(x);
  const out = {};
  const step = async (name, fn) => {
    try {
      const y = await fn();
      out[name] = { type: Object.prototype.toString.call(y), values: Array.from(y) };
    } catch (error) {
      out[name] = { error: `${error?.code ?? error?.name ?? 'Error'}: ${error?.message ?? String(error)}` };
    }
  };
  await step('core', () => mods.core.softmax(input, { cols }));
  await step('wasm', async () => (await mods.wasm.createWasmBackend()).softmax(input, { cols }));
  await step('webgpu', async () => {
    const backend = await mods.webgpu.createWebGPUBackend();
    try {
      return await backend.softmax(input, { cols });
    } finally {
      backend.dispose();
    }
  });
  await step('auto', () => mods.auto.softmax(input, { cols }));
  for (const backend of ['core', 'wasm', 'webgpu']) {
    await step(`auto:${backend}`, async () => {
      const auto = mods.auto.createSoftmax({ backend });
      try {
        return await auto.softmax(input, { cols });
      } finally {
        await auto.dispose();
      }
    });
  }
  return out;
}
