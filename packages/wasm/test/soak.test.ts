import { describeSoak } from '@softmax/conformance';
import { createWasmBackend, type WasmBackend } from '../dist/index.js';

// The SIMD build on one thread (the default here); the memory it holds must not grow once warm.
describeSoak('wasm (SIMD128 build)', () => createWasmBackend({ simd: true, threads: 1 }), {
  resources: (backend) => (backend as WasmBackend).memoryBytes,
});
