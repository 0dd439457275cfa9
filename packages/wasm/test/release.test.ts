import { describe, expect, it } from 'vitest';
import { KERNEL_FUNCTIONS, type KernelExports, type KernelFunctions } from '../src/abi.js';
import { WasmBackend } from '../src/backend.js';

/**
 * A kernel stand-in whose functions trap (as a Rust panic does: `unreachable`), to check that a copying
 * call gives back its temporary block however it ends.
 */
function trappingKernel(): KernelExports {
  const trap = () => {
    throw new WebAssembly.RuntimeError('unreachable');
  };
  const functions = Object.fromEntries(Object.keys(KERNEL_FUNCTIONS).map((name) => [name, trap]));
  return {
    ...(functions as unknown as KernelFunctions),
    memory: new WebAssembly.Memory({ initial: 2 }),
    __heap_base: new WebAssembly.Global({ value: 'i32', mutable: false }, 65712),
    abi_version: () => 1,
    simd: () => 1,
  };
}

describe('copying calls release their temporary block when they throw', () => {
  const row = new Float32Array(200_000); // 800 kB: larger than the scratch block
  const calls = {
    softmax: (b: WasmBackend) => b.softmax(row),
    logSoftmax: (b: WasmBackend) => b.logSoftmax(row),
    softmaxBackward: (b: WasmBackend) => b.softmaxBackward(row, row),
    logSoftmaxBackward: (b: WasmBackend) => b.logSoftmaxBackward(row, row),
    logSumExp: (b: WasmBackend) => b.logSumExp(row, { cols: 1 }),
  };
  for (const [name, call] of Object.entries(calls)) {
    it(name, () => {
      const backend = new WasmBackend(trappingKernel());
      expect(() => call(backend)).toThrow(WebAssembly.RuntimeError);
      const afterOne = backend.memoryBytes;
      for (let i = 0; i < 5; i++) expect(() => call(backend)).toThrow(WebAssembly.RuntimeError);
      expect(backend.memoryBytes).toBe(afterOne); // a leaked block would push the next one higher
    });
  }
});

describe('a buffer call frees the output buffer it made when the kernel throws', () => {
  it('logSumExp without out', () => {
    const backend = new WasmBackend(trappingKernel());
    const x = backend.alloc(200_000); // rows of one: the result is 800 kB too
    const call = () => backend.bufferCall('logSumExp', [x], { cols: 1 });
    expect(call).toThrow(WebAssembly.RuntimeError);
    const afterOne = backend.memoryBytes;
    for (let i = 0; i < 5; i++) expect(call).toThrow(WebAssembly.RuntimeError);
    expect(backend.memoryBytes).toBe(afterOne); // a leaked result would push the next one higher
  });
});
