import { SoftmaxError } from '@softmax/core';
import { describeValue } from '@softmax/core/backend';
import type { DeviceSource } from './device.js';

/** Knobs for tuning and for tests (e.g. forcing chunked or 2-D dispatches on small inputs). */
export interface Tuning {
  /** Workgroups a call aims for: long rows split into segments below it. Default 256 (8 on CPU adapters). */
  targetWorkgroups?: number;
  /** Fewest lanes (vec4 or scalar) per thread in a segment of a split row. Default 8. */
  minLanesPerThread?: number;
  /** Lanes (vec4 or scalar) per thread that sets the threads per row. Default 4 (16 on CPU adapters). */
  lanesPerThread?: number;
  /** Cap on the bytes bound at once, at least 1024 (default: the device's maxStorageBufferBindingSize). */
  maxBindingBytes?: number;
  /** Cap on workgroups per dispatch dimension (default: the device's limit). */
  maxWorkgroupsPerDimension?: number;
  /** Set false to use workgroup-memory reductions even where subgroups exist. */
  subgroups?: boolean;
  /** Cap on the threads that share one row or segment, a power of two. Default 256 (the subgroup size, or 1, on CPU adapters). */
  maxUnitThreads?: number;
  /** Fewest threads per workgroup, a power of two. Default 64 (1 on CPU adapters). */
  minWorkgroupSize?: number;
  /**
   * Keep the shader compiler from cancelling the terms of compensated sums (TwoSum, Kahan), at
   * one integer OR each. Default on, except on SwiftShader, which keeps float order as written;
   * Mesa's lavapipe does not (it rewrites (a + b) − a as b).
   */
  guardCompensation?: boolean;
}

export interface WebGPUBackendOptions extends DeviceSource {
  /** Layout knobs (tests, tuning): see `Tuning`. */
  tuning?: Tuning;
}

const invalid = (name: string, rule: string, value: unknown) =>
  new SoftmaxError('INVALID_OPTION', `${name} must be ${rule}, got ${describeValue(value)}`);

const isPow2 = (v: number) => Number.isSafeInteger(v) && v >= 1 && (v & (v - 1)) === 0 && v <= 2 ** 30;

/** Each numeric knob's rule: the planner loops or builds invalid kernels outside it. */
const NUMBER_RULES: Record<string, { rule: string; ok: (v: number) => boolean }> = {
  targetWorkgroups: { rule: 'a positive integer', ok: (v) => Number.isSafeInteger(v) && v >= 1 },
  minLanesPerThread: { rule: 'a positive integer', ok: (v) => Number.isSafeInteger(v) && v >= 1 },
  lanesPerThread: { rule: 'a positive integer', ok: (v) => Number.isSafeInteger(v) && v >= 1 },
  maxBindingBytes: { rule: 'an integer ≥ 1024', ok: (v) => Number.isSafeInteger(v) && v >= 1024 },
  maxWorkgroupsPerDimension: { rule: 'a positive integer', ok: (v) => Number.isSafeInteger(v) && v >= 1 },
  // Kernels take G (threads per unit) and the workgroup size to be powers of two, one a multiple of the other.
  maxUnitThreads: { rule: 'a power of two (1, 2, 4, …)', ok: isPow2 },
  minWorkgroupSize: { rule: 'a power of two (1, 2, 4, …)', ok: isPow2 },
};
const BOOLEAN_KNOBS = ['subgroups', 'guardCompensation'];
const TUNING_KEYS = [...Object.keys(NUMBER_RULES), ...BOOLEAN_KNOBS];
const OPTION_KEYS = ['device', 'gpu', 'powerPreference', 'tuning'];
const POWER_PREFERENCES = ['low-power', 'high-performance'];

function readObject(value: unknown, name: string, allowed: readonly string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(name, 'an object', value);
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `${name}.${key} is not a known option (expected one of ${allowed.join(', ')})`,
      );
    }
  }
  return value as Record<string, unknown>;
}

const hasMethods = (value: unknown, names: string[]) =>
  typeof value === 'object' &&
  value !== null &&
  names.every((n) => typeof (value as Record<string, unknown>)[n] === 'function');

/**
 * Validates createWebGPUBackend's options: every key known, every value of its type and range, and
 * no source that would be ignored (`gpu` or `powerPreference` beside `device`). A key set to
 * undefined counts as absent. Throws SoftmaxError INVALID_OPTION naming the option.
 */
export function checkBackendOptions(options: unknown): WebGPUBackendOptions {
  if (options === undefined) return {};
  const opts = readObject(options, 'options', OPTION_KEYS);
  const { device, gpu, powerPreference, tuning } = opts;
  if (device !== undefined) {
    if (!hasMethods(device, ['createBuffer', 'createCommandEncoder', 'createComputePipeline', 'destroy'])) {
      throw invalid('options.device', 'a GPUDevice', device);
    }
    const ignored = ['gpu', 'powerPreference'].find((k) => opts[k] !== undefined);
    if (ignored) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.${ignored} cannot be combined with options.device (the device is used as it is)`,
      );
    }
  }
  if (gpu !== undefined && !hasMethods(gpu, ['requestAdapter'])) throw invalid('options.gpu', 'a GPU object', gpu);
  if (powerPreference !== undefined && !POWER_PREFERENCES.includes(powerPreference as string)) {
    throw invalid('options.powerPreference', "'low-power' or 'high-performance'", powerPreference);
  }
  if (tuning !== undefined) {
    const t = readObject(tuning, 'options.tuning', TUNING_KEYS);
    for (const [key, value] of Object.entries(t)) {
      if (value === undefined) continue;
      const name = `options.tuning.${key}`;
      if (BOOLEAN_KNOBS.includes(key)) {
        if (typeof value !== 'boolean') throw invalid(name, 'a boolean', value);
      } else {
        const { rule, ok } = NUMBER_RULES[key];
        if (typeof value !== 'number' || !ok(value)) throw invalid(name, rule, value);
      }
    }
  }
  // A copy: the backend reads the source and the tuning again whenever it replaces a lost device.
  return { ...opts, ...(tuning === undefined ? {} : { tuning: { ...(tuning as Tuning) } }) } as WebGPUBackendOptions;
}
