import { SoftmaxError } from '@softmax/core';
import { noNavigatorGpu } from './advice.js';

/**
 * The GPU fallback of every runtime but Node (package.json's "exports" conditions other than
 * `node`): there is none, so a missing `navigator.gpu` is reported with what navigator said.
 */
export const runtime = 'browser';

export async function loadDawn(): Promise<GPU> {
  const nav = (globalThis as { navigator?: unknown }).navigator;
  throw new SoftmaxError('BACKEND_UNAVAILABLE', `WebGPU backend unavailable: ${noNavigatorGpu(nav)}`);
}
