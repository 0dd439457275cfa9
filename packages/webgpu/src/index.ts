export {
  createWebGPUBackend,
  type EncodeBuffers,
  type EncodeShape,
  type Tuning,
  type WebGPUBackend,
  type WebGPUBackendOptions,
} from './backend.js';
export type { DeviceSource } from './device.js';
export { type Chunk, type DeviceTraits, type Plan, planFor } from './plan.js';
export { createGpuTimer, type GpuTimer } from './timer.js';
