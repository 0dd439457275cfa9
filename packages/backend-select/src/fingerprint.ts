import type { CandidateId } from './types.js';
import { VERSION } from './version.js';

/**
 * What a measurement is valid for. A persisted or imported record whose fingerprint differs from
 * this machine's is not used, and explain() names the field that differed. Host fields gate every
 * candidate; the wasm build and the GPU adapter gate only their own candidates, and are compared
 * when those load (no GPU is touched to read a record).
 */
export type Fingerprint = Record<string, string>;

export const HOST_FIELDS = ['package', 'runtime', 'runtimeVersion', 'cores', 'crossOriginIsolated'] as const;

export const CANDIDATE_FIELDS: Record<CandidateId, readonly string[]> = {
  core: [],
  wasm: ['wasmBuild'],
  'wasm-mt': ['wasmBuild'],
  webgpu: ['gpuVendor', 'gpuArchitecture', 'gpuDevice', 'gpuFeatures'],
};

interface Host {
  process?: { versions?: Record<string, string>; getBuiltinModule?(name: string): unknown };
  navigator?: { userAgent?: string; hardwareConcurrency?: number };
  crossOriginIsolated?: boolean;
  Deno?: { version?: { deno?: string } };
  Bun?: { version?: string };
}

/** Logical processors this process may use. */
export function coreCount(): number {
  const g = globalThis as Host;
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?(): number } | undefined;
  return Math.max(1, os?.availableParallelism?.() ?? g.navigator?.hardwareConcurrency ?? 1);
}

export function hostFingerprint(): Fingerprint {
  const g = globalThis as Host;
  const [runtime, runtimeVersion] = g.Bun
    ? ['bun', g.Bun.version ?? '']
    : g.Deno
      ? ['deno', g.Deno.version?.deno ?? '']
      : g.process?.versions?.node
        ? ['node', g.process.versions.node]
        : ['browser', g.navigator?.userAgent ?? ''];
  return {
    package: `@softmax/auto ${VERSION}`,
    runtime,
    runtimeVersion,
    cores: String(coreCount()),
    crossOriginIsolated: String(g.crossOriginIsolated ?? false),
  };
}

export interface Mismatch {
  field: string;
  recorded: string;
  current: string;
}

/** The first of `fields` whose recorded value differs from the current one. */
export function firstDifference(
  recorded: Fingerprint,
  current: Fingerprint,
  fields: readonly string[],
): Mismatch | undefined {
  for (const field of fields) {
    if ((recorded[field] ?? '') !== (current[field] ?? '')) {
      return { field, recorded: recorded[field] ?? '(absent)', current: current[field] ?? '(absent)' };
    }
  }
  return undefined;
}
