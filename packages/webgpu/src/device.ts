import { SoftmaxError } from '@softmax/core';

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

/** Finds a GPU object: the given one, the browser's, or Dawn through the optional `webgpu` package in Node. */
export async function findGPU(source: DeviceSource): Promise<GPU> {
  if (source.gpu) return source.gpu;
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (!isNode)
    throw unavailable('navigator.gpu is missing (this browser has no WebGPU, or the page is not a secure context)');
  dawn ??= loadDawn();
  return dawn;
}

async function loadDawn(): Promise<GPU> {
  const name = 'webgpu'; // a variable, so bundlers leave the optional peer dependency alone
  let mod: { create: (flags: string[]) => GPU };
  try {
    mod = (await import(/* @vite-ignore */ name)) as typeof mod;
  } catch (error) {
    dawn = undefined; // let a later call try again (e.g. after the package is installed)
    throw unavailable("no navigator.gpu, and the optional peer dependency 'webgpu' (0.6.2) could not be loaded", error);
  }
  return mod.create([]);
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
  const gpu = await findGPU(source);
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(
      source.powerPreference ? { powerPreference: source.powerPreference } : undefined,
    );
  } catch (error) {
    throw unavailable('requestAdapter() failed', error);
  }
  if (!adapter) {
    throw unavailable(
      'requestAdapter() returned null (no usable GPU driver; in Node on Linux set VK_ICD_FILENAMES to a Vulkan driver, e.g. SwiftShader)',
    );
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
