import { SoftmaxError } from '@softmax/core';
import { describeValue } from '@softmax/core/backend';
import type { Store } from './store.js';
import { BACKEND_NAMES, type BackendName, type Loaders } from './types.js';

/** The options of `createSoftmax` (every one optional). */
export interface SoftmaxAutoOptions {
  /** Restrict and order the candidates (default: every backend this runtime may have). */
  backends?: readonly BackendName[];
  /** Force one backend: every call goes to it, with no measuring and no fallback. */
  backend?: BackendName;
  /**
   * Threads for wasm. By default auto treats one thread and every core as separate candidates and
   * picks by measurement; a number makes wasm one candidate with that many threads.
   */
  threads?: number;
  /** A GPUDevice for WebGPU to use (otherwise it requests its own adapter in the background). */
  device?: GPUDevice;
  /** Persistence of the measured choices (off unless given): see localStorageStore and jsonFileStore. */
  store?: Store;
  /** Run a canary against core before a backend serves its first call (default true). */
  verify?: boolean;
  /** 'learn' (default) measures real calls; 'profile-only' uses only imported or persisted measurements. */
  mode?: 'learn' | 'profile-only';
  /** Exclude software GPU adapters (SwiftShader, lavapipe) instead of measuring them. Default false. */
  excludeSoftwareGpu?: boolean;
  /** How backends are created (tests, custom builds). */
  loaders?: Partial<Loaders>;
  /** Milliseconds clock (default performance.now): tests pass a fake one. */
  clock?: () => number;
  /** Circuit breaker: failures in a row that demote a backend (default 3) and the first cool-down (default 30 s). */
  breaker?: { failures?: number; coolDownMs?: number };
}

const KNOWN = [
  'backends',
  'backend',
  'threads',
  'device',
  'store',
  'verify',
  'mode',
  'excludeSoftwareGpu',
  'loaders',
  'clock',
  'breaker',
];

function checkName(value: unknown, name: string): BackendName {
  if (!BACKEND_NAMES.includes(value as BackendName)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `${name} must be one of ${BACKEND_NAMES.map((n) => `'${n}'`).join(', ')}, got ${describeValue(value)}`,
    );
  }
  return value as BackendName;
}

/** Checks the options once, at creation, so a typo fails there rather than at the first call. */
export function checkOptions(options: SoftmaxAutoOptions): SoftmaxAutoOptions {
  if (typeof options !== 'object' || options === null) {
    throw new SoftmaxError('INVALID_OPTION', `options must be an object, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!KNOWN.includes(key)) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.${key} is not a known option (expected one of ${KNOWN.join(', ')})`,
      );
    }
  }
  if (options.backend !== undefined) checkName(options.backend, 'options.backend');
  if (options.backends !== undefined) {
    if (!Array.isArray(options.backends) || options.backends.length === 0) {
      throw new SoftmaxError(
        'INVALID_OPTION',
        `options.backends must be a non-empty array, got ${describeValue(options.backends)}`,
      );
    }
    options.backends.forEach((b, i) => {
      checkName(b, `options.backends[${i}]`);
    });
    if (options.backend !== undefined && !options.backends.includes(options.backend)) {
      throw new SoftmaxError('INVALID_OPTION', `options.backend '${options.backend}' is not in options.backends`);
    }
  }
  const { threads, mode } = options;
  if (threads !== undefined && (!Number.isSafeInteger(threads) || threads < 1)) {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.threads must be a positive integer, got ${describeValue(threads)}`,
    );
  }
  if (mode !== undefined && mode !== 'learn' && mode !== 'profile-only') {
    throw new SoftmaxError(
      'INVALID_OPTION',
      `options.mode must be 'learn' or 'profile-only', got ${describeValue(mode)}`,
    );
  }
  return options;
}

/** SOFTMAX_BACKEND=core|wasm|webgpu forces a backend for the default instance (Node). */
export function backendFromEnv(): BackendName | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.SOFTMAX_BACKEND;
  if (value === undefined || value === '') return undefined;
  return checkName(value, 'SOFTMAX_BACKEND');
}
