import { Breaker } from './breaker.js';
import type { CanaryResult } from './canary.js';
import { coreCount } from './fingerprint.js';
import type { Runnable } from './invoke.js';
import type { SoftmaxAutoOptions } from './options.js';
import type { BackendName, CandidateId, Loaded } from './types.js';

/** Where a candidate stands: explain() prints it, the selection uses only 'ready' ones. */
export type SlotStatus = 'not loaded' | 'loading' | 'ready' | 'unavailable' | 'excluded';

/** One candidate's state in an instance. */
export interface Slot {
  readonly id: CandidateId;
  readonly backend: BackendName;
  /** wasm's threads option (undefined: wasm's own default). */
  readonly threads?: number;
  status: SlotStatus;
  /** Why it is unavailable or excluded (the loader's error, the canary's mismatch, ...). */
  reason?: string;
  loaded?: Loaded;
  runnable?: Runnable;
  sync: boolean;
  loading?: Promise<void>;
  /** Cold costs (ms) by stage: module import and compile, adapter and device, pipelines, canary. */
  readonly cold: Record<string, number>;
  canary?: CanaryResult;
  readonly breaker: Breaker;
  /** Buckets whose pipelines are compiled (WebGPU), and those being compiled. */
  readonly prepared: Set<number>;
  readonly preparing: Set<number>;
  /** Clock time after which a failed (not unavailable) init may be tried again. */
  retryAt?: number;
  served: number;
}

/** The most threads `@softmax/wasm` starts. */
const MAX_THREADS = 16;

/**
 * The candidates of an instance, in order: core, wasm on one thread, wasm on every core (where
 * there is more than one), webgpu — restricted by `backends`, pinned by `backend`.
 */
export function slotsFor(options: SoftmaxAutoOptions, forced: BackendName | undefined): Slot[] {
  const breaker = () => new Breaker(options.breaker?.failures ?? 3, options.breaker?.coolDownMs ?? 30_000);
  const slot = (id: CandidateId, backend: BackendName, threads?: number): Slot => ({
    id,
    backend,
    threads,
    status: 'not loaded',
    sync: false,
    cold: {},
    breaker: breaker(),
    prepared: new Set(),
    preparing: new Set(),
    served: 0,
  });
  const names = forced ? [forced] : (options.backends ?? ['core', 'wasm', 'webgpu']);
  const slots: Slot[] = [];
  for (const name of names) {
    if (name !== 'wasm') {
      slots.push(slot(name, name));
    } else if (options.threads !== undefined || forced) {
      slots.push(slot('wasm', 'wasm', options.threads));
    } else {
      slots.push(slot('wasm', 'wasm', 1));
      const cores = Math.min(MAX_THREADS, coreCount());
      if (cores > 1) slots.push(slot('wasm-mt', 'wasm', cores));
    }
  }
  return slots;
}
