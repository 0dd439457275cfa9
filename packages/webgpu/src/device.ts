import { SoftmaxError } from '@softmax/core';
import { noAdapter } from './advice.js';
import { loadDawn, runtime } from './dawn.js';

/** Options of createWebGPUBackend that decide where the device comes from. */
export interface DeviceSource {
  /** Use this device (never replaced: if it is lost, later calls reject with DEVICE_LOST). */
  device?: GPUDevice;
  /** Request adapters from this GPU object (e.g. `navigator.gpu`, or `create([])` of the `webgpu` package). */
  gpu?: GPU;
  /** Passed to `requestAdapter`. */
  powerPreference?: GPUPowerPreference;
}

export interface Acquired {
  device: GPUDevice;
  adapterInfo: GPUAdapterInfo | undefined;
  /** Whether the backend may request a replacement after a loss. */
  replaceable: boolean;
}

const unavailable = (reason: string, cause?: unknown) =>
  new SoftmaxError('BACKEND_UNAVAILABLE', `WebGPU backend unavailable: ${reason}`, { cause });

/** The limits the kernels rely on, with the least each needs. */
const REQUIRED_LIMITS: Record<string, number> = {
  maxComputeInvocationsPerWorkgroup: 64,
  maxComputeWorkgroupSizeX: 64,
  maxStorageBuffersPerShaderStage: 4,
  maxComputeWorkgroupStorageSize: 2048,
  maxComputeWorkgroupsPerDimension: 1024,
  maxStorageBufferBindingSize: 1024,
};

/**
 * One Dawn instance for the whole process. Each instance holds a Vulkan instance and its driver's
 * threads, and is torn down only when garbage-collected: one per backend made every backend pay
 * for starting one and left their teardowns to run at random times, beside other devices' work.
 */
let dawn: Promise<GPU> | undefined;

/** Where a GPU object came from: it decides the advice when it gives no adapter. */
type Origin = 'option' | 'navigator' | 'dawn';

async function findGPUWithOrigin(source: DeviceSource): Promise<{ gpu: GPU; origin: Origin }> {
  if (source.gpu) return { gpu: source.gpu, origin: 'option' };
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, origin: 'navigator' };
  dawn ??= loadDawn().catch((error) => {
    dawn = undefined; // let a later call try again (e.g. after the package is installed)
    throw error;
  });
  return { gpu: await dawn, origin: 'dawn' };
}

/** Finds a GPU object: the given one, the browser's, or (in Node) Dawn through the optional `webgpu` package. */
export async function findGPU(source: DeviceSource): Promise<GPU> {
  return (await findGPUWithOrigin(source)).gpu;
}

/** Whether an adapter actually executes work: Dawn's 'null' backend accepts everything and runs nothing. */
function nullAdapterReason(info: GPUAdapterInfo | undefined): string | undefined {
  if (!info) return undefined;
  const text = `${info.device ?? ''} ${info.description ?? ''} ${info.architecture ?? ''}`;
  if (/\bnull\b|null-backend/i.test(text))
    return `the adapter is Dawn's null backend (${text.trim()}), which executes nothing`;
  return undefined;
}

export async function acquireDevice(source: DeviceSource): Promise<Acquired> {
  if (source.device) {
    const info = (source.device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
    const reason = nullAdapterReason(info);
    if (reason) throw unavailable(reason);
    checkLimits(source.device.limits);
    return { device: source.device, adapterInfo: info, replaceable: false };
  }
  const { gpu, origin } = await findGPUWithOrigin(source);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(
      source.powerPreference ? { powerPreference: source.powerPreference } : undefined,
    );
  } catch (error) {
    throw unavailable('requestAdapter() failed', error);
  }
  if (!adapter) {
    throw unavailable(noAdapter(origin === 'option' ? runtime : origin === 'navigator' ? 'browser' : 'node'));
  }
  const info = adapter.info;
  const reason = nullAdapterReason(info);
  if (reason) throw unavailable(reason);
  checkLimits(adapter.limits);
  const features: GPUFeatureName[] = [];
  for (const f of ['subgroups', 'timestamp-query'] as GPUFeatureName[]) if (adapter.features.has(f)) features.push(f);
  const requiredLimits: Record<string, number> = {};
  for (const name of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeInvocationsPerWorkgroup',
    'maxComputeWorkgroupSizeX',
  ]) {
    const value = (adapter.limits as unknown as Record<string, number>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
  } catch (error) {
    throw unavailable('requestDevice() failed', error);
  }
  return { device, adapterInfo: info, replaceable: true };
}

function checkLimits(limits: GPUSupportedLimits): void {
  for (const [name, least] of Object.entries(REQUIRED_LIMITS)) {
    const value = (limits as unknown as Record<string, number>)[name];
    if (typeof value !== 'number' || value < least) {
      throw unavailable(`the device's limit ${name} is ${value ?? 'missing'}, the kernels need at least ${least}`);
    }
  }
}
