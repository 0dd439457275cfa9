/**
 * `@softmax/webgpu`: what an application uses. The planner, the op table and the other internals
 * are not part of the public surface (the package's tests import them from src/).
 *
 * @module @softmax/webgpu
 */
export {
  type CrossEntropyBuffers,
  type CrossEntropyShape,
  createWebGPUBackend,
  type EncodeBuffers,
  type EncodeShape,
  type SampleBuffers,
  type SampleShape,
  type Tuning,
  type WebGPUBackend,
  type WebGPUBackendOptions,
} from './backend.js';
export type { DeviceSource } from './device.js';
export { createGpuTimer, type GpuTimer } from './timer.js';
