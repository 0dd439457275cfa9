// A TypeScript consumer, checked with skipLibCheck: false under node16, bundler and node10.
import { softmax as autoSoftmax, createSoftmax } from '@softmax/auto';
import type { checkAgainstOracle } from '@softmax/conformance/helpers';
import { SoftmaxError, softmax } from '@softmax/core';
import { createWasmBackend } from '@softmax/wasm';
import type { init } from '@softmax/wasm/init';
import { createWebGPUBackend, type WebGPUBackend } from '@softmax/webgpu';

// A type that fails to resolve turns into `any` when skipLibCheck hides the error: refuse that.
type IsAny<T> = 0 extends 1 & T ? true : false;
const deviceIsTyped: IsAny<WebGPUBackend['device']> = false;
const initIsTyped: IsAny<typeof init> = false;
const checkIsTyped: IsAny<typeof checkAgainstOracle> = false;

export async function main(): Promise<number> {
  const x = new Float32Array([1, 2, 3, 4]);
  const y: Float32Array = softmax(x, { cols: 2 });
  // @ts-expect-error softmax takes arrays of numbers
  softmax('not an array');
  const wasm = await createWasmBackend();
  const w: Float32Array = wasm.softmax(x, { cols: 2 });
  const gpu: WebGPUBackend = await createWebGPUBackend();
  const g: Float32Array = await gpu.softmax(x, { cols: 2 });
  const a: Float32Array = await autoSoftmax(x, { cols: 2 });
  const pinned = createSoftmax({ backend: 'wasm' });
  const p: Float32Array = await pinned.softmax(x, { cols: 2 });
  const err: unknown = new SoftmaxError('INVALID_SHAPE', 'example');
  return (
    y[0] +
    w[0] +
    g[0] +
    a[0] +
    p[0] +
    Number(err instanceof SoftmaxError) +
    Number(deviceIsTyped) +
    Number(initIsTyped) +
    Number(checkIsTyped)
  );
}
