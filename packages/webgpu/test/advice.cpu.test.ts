import { SoftmaxError } from '@softmax/core';
import { afterEach, describe, expect, it } from 'vitest';
import { loadDawn as loadBrowserFallback } from '../src/dawn-browser.js';
import { createWebGPUBackend } from '../src/index.js';

/**
 * The "no GPU" errors give the advice of the runtime they happen in: a browser user gets the
 * WebGPU flag and chrome://gpu (blocklist), and what navigator.gpu said; a Node user gets the
 * Vulkan driver advice. No adapter is needed: every GPU object here is a stub.
 */
const nullGpu = { requestAdapter: async () => null } as unknown as GPU;
const hadNavigator = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

afterEach(() => {
  if (hadNavigator) Object.defineProperty(globalThis, 'navigator', hadNavigator);
  else delete (globalThis as { navigator?: unknown }).navigator;
});

function setNavigator(value: unknown): void {
  Object.defineProperty(globalThis, 'navigator', { value, configurable: true, writable: true });
}

async function failure(promise: Promise<unknown>): Promise<SoftmaxError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SoftmaxError);
  expect((error as SoftmaxError).code).toBe('BACKEND_UNAVAILABLE');
  return error as SoftmaxError;
}

describe('no adapter: each runtime its own advice', () => {
  it('browser, navigator.gpu.requestAdapter() returned null: the flag and the blocklist (chrome://gpu)', async () => {
    setNavigator({ gpu: nullGpu });
    const { message } = await failure(createWebGPUBackend());
    expect(message).toMatch(/navigator\.gpu\.requestAdapter\(\) returned null/);
    expect(message).toMatch(/chrome:\/\/gpu/);
    expect(message).toMatch(/blocklist/);
    expect(message).toMatch(/enable-unsafe-webgpu/);
    expect(message).not.toMatch(/VK_ICD_FILENAMES|Vulkan/);
  });

  it('browser, no navigator.gpu: says navigator.gpu is undefined, the flag and the secure context', async () => {
    setNavigator({ userAgent: 'test' });
    const { message } = await failure(loadBrowserFallback());
    expect(message).toMatch(/navigator\.gpu is undefined/);
    expect(message).toMatch(/secure context/);
    expect(message).toMatch(/chrome:\/\/flags\/#enable-unsafe-webgpu/);
    expect(message).not.toMatch(/VK_ICD_FILENAMES|Vulkan|'webgpu'/);
  });

  it('browser build, no navigator at all: says so', async () => {
    delete (globalThis as { navigator?: unknown }).navigator;
    const { message } = await failure(loadBrowserFallback());
    expect(message).toMatch(/there is no navigator/);
  });

  it('Node, a GPU object that gives no adapter: the Vulkan driver advice', async () => {
    delete (globalThis as { navigator?: unknown }).navigator;
    const { message } = await failure(createWebGPUBackend({ gpu: nullGpu }));
    expect(message).toMatch(/requestAdapter\(\) returned null/);
    expect(message).toMatch(/VK_ICD_FILENAMES/);
    expect(message).not.toMatch(/chrome:|blocklist/);
  });
});
