import type { Tuning } from './options.js';
import type { DeviceTraits } from './plan.js';

/**
 * The tuning policy: what the planner (plan.ts) is told about an adapter. Limits come from the
 * device; the layout preferences from the kind of adapter, since CPU emulators and GPUs want
 * opposite layouts; `tuning` overrides each.
 */

/** SwiftShader, llvmpipe/lavapipe and other adapters that run compute shaders on the CPU. */
export function isCpuAdapter(info: GPUAdapterInfo | undefined): boolean {
  if (!info) return false;
  return (
    (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true ||
    /swiftshader|llvmpipe|lavapipe|cpu/i.test(`${info.architecture} ${info.device} ${info.description}`)
  );
}

/** SwiftShader keeps float operations in the order written: compensated sums need no guard there. */
export function isSwiftShader(info: GPUAdapterInfo | undefined): boolean {
  return /swiftshader/i.test(`${info?.architecture} ${info?.device} ${info?.description} ${info?.vendor}`);
}

export function traitsOf(device: GPUDevice, info: GPUAdapterInfo | undefined, tuning: Tuning): DeviceTraits {
  const l = device.limits;
  const sg = info as { subgroupMinSize?: number; subgroupMaxSize?: number } | undefined;
  const sgMax = sg?.subgroupMaxSize ?? 0;
  const sgMin = sg?.subgroupMinSize ?? 0;
  const subgroups = tuning.subgroups !== false && device.features.has('subgroups') && sgMax > 0 && sgMax <= 128;
  const cpu = isCpuAdapter(info);
  const maxWorkgroupSize = Math.min(256, l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX);
  // On CPU adapters a barrier is costly (SwiftShader runs a workgroup with barriers as coroutines)
  // and a workgroup is executed a few lanes at a time anyway: units of one subgroup, reduced by
  // shuffles, and long rows over a few workgroups (about one per core) do best there.
  const cpuUnit = subgroups && sgMin > 0 ? sgMin : 1;
  return {
    maxWorkgroupSize,
    maxWorkgroupsPerDimension: Math.min(
      l.maxComputeWorkgroupsPerDimension,
      tuning.maxWorkgroupsPerDimension ?? Infinity,
    ),
    maxBindingBytes: Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize, tuning.maxBindingBytes ?? Infinity),
    offsetAlignment: l.minStorageBufferOffsetAlignment,
    subgroupMaxSize: subgroups ? sgMax : 0,
    subgroupMinSize: subgroups ? sgMin : 0,
    maxUnitThreads: tuning.maxUnitThreads ?? (cpu ? cpuUnit : maxWorkgroupSize),
    minWorkgroupSize: tuning.minWorkgroupSize ?? (cpu ? 1 : 64),
    targetWorkgroups: tuning.targetWorkgroups ?? (cpu ? 8 : 256),
    minLanesPerThread: tuning.minLanesPerThread ?? 8,
    lanesPerThread: tuning.lanesPerThread ?? (cpu ? 16 : 4),
    guardCompensation: tuning.guardCompensation ?? !isSwiftShader(info),
  };
}
