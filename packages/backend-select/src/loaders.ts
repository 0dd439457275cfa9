import { createCoreBackend, SoftmaxError } from '@softmax/core';
import type { Loaded, Loaders, OpName } from './types.js';

/**
 * The default loaders. `@softmax/wasm` and `@softmax/webgpu` are reached only through these import()
 * calls (with literal specifiers, so bundlers split them into chunks fetched on first need):
 * importing `@softmax/auto` compiles no wasm and touches no GPU.
 */

const now = () => performance.now();

/** An adapter that is a CPU rasteriser: it works, but it is not a GPU (and is priced as such). */
const SOFTWARE = /swiftshader|lavapipe|llvmpipe|\bwarp\b|software|microsoft basic render/i;

export const defaultLoaders: Loaders = {
  core: () => ({ backend: createCoreBackend(), details: {}, fingerprint: {} }),

  async wasm({ threads }) {
    const t0 = now();
    // The ABI version lives on the backend authors' subpath; it keys the fingerprint's wasm build.
    const [wasm, abi] = await Promise.all([import('@softmax/wasm'), import('@softmax/wasm/abi')]);
    const t1 = now();
    const backend = await wasm.createWasmBackend({ threads });
    return {
      backend,
      details: { simd: String(backend.simd), threads: String(backend.threads), import: ms(t1 - t0) },
      fingerprint: { wasmBuild: `abi ${abi.ABI_VERSION}, ${backend.simd ? 'simd128' : 'scalar'}` },
      cold: { 'module import': t1 - t0, 'module compile': now() - t1 },
    } as Loaded;
  },

  async webgpu({ device }) {
    const t0 = now();
    const webgpu = await import('@softmax/webgpu');
    const t1 = now();
    const backend = await webgpu.createWebGPUBackend(device ? { device } : {});
    const info = backend.adapterInfo;
    const adapter = [info?.vendor, info?.architecture, info?.device, info?.description].filter(Boolean).join(' / ');
    const features = [...backend.device.features].sort().join(',');
    const software =
      (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true || SOFTWARE.test(adapter);
    return {
      backend: backend as unknown as Loaded['backend'],
      details: { adapter: adapter || 'unknown', software: String(software), features },
      fingerprint: {
        gpuVendor: info?.vendor ?? '',
        gpuArchitecture: info?.architecture ?? '',
        gpuDevice: info?.device || info?.description || '',
        gpuFeatures: features,
      },
      software,
      cold: { 'module import': t1 - t0, 'adapter + device': now() - t1 },
      prepare: (shapes, ops) => backend.prepare(shapes, ops as Parameters<typeof backend.prepare>[1]),
    } as Loaded;
  },
};

const ms = (v: number) => `${v.toFixed(1)} ms`;

/** The ops of the table a WebGPU backend can prepare pipelines for (its declared ops). */
export function preparableOps(loaded: Loaded, op: OpName): OpName[] {
  return loaded.backend.ops[op] ? [op] : [];
}

/** Normalises what a loader threw into a SoftmaxError whose message explain() prints. */
export function loadError(error: unknown): SoftmaxError {
  if (error instanceof SoftmaxError) return error;
  return new SoftmaxError('BACKEND_UNAVAILABLE', `init failed: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}
