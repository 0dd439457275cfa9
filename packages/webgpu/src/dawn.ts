import { SoftmaxError } from '@softmax/core';
import { noNavigatorGpu } from './advice.js';

/**
 * Node's GPU: Dawn through the optional `webgpu` peer. Only the `node` condition of package.json's
 * "exports" gets this file (browser bundles get dawn-browser.ts, with no Node import at all).
 *
 * `webgpu` is a native addon that finds its `dawn.node` next to its own index.js, so it must be
 * loaded from node_modules at run time, never copied into a bundle: webpack keeps an import() it
 * is told to ignore as it is (no empty context, no "Critical dependency" warning), esbuild and
 * Rollup keep one whose specifier is not a literal, and Vite is told by its own comment.
 */
const specifier = 'webgpu';

const unavailable = (reason: string, cause?: unknown) =>
  new SoftmaxError('BACKEND_UNAVAILABLE', `WebGPU backend unavailable: ${reason}`, { cause });

export const runtime = 'node';

export async function loadDawn(): Promise<GPU> {
  const nav = (globalThis as { navigator?: unknown }).navigator;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode) throw unavailable(noNavigatorGpu(nav));
  let mod: { create: (flags: string[]) => GPU };
  try {
    mod = (await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier)) as typeof mod;
  } catch (error) {
    throw unavailable("no navigator.gpu, and the optional peer dependency 'webgpu' (0.6.2) could not be loaded", error);
  }
  return mod.create([]);
}
