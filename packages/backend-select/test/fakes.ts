import { createCoreBackend, type Dtype } from '@softmax/core';
import { defineBackend, OP_NAMES, type OpCall, type OpSupport } from '@softmax/core/backend';
import type { Loaded, Loaders } from '../src/index.js';

/** A fake clock: fake backends advance it by their known cost, so timings are exact and instant. */
export function fakeClock() {
  const clock = { t: 0, now: () => clock.t };
  return clock;
}

export interface FakeSpec {
  /** Cost of a call, in ms: fixed + perElement · n. */
  fixed: number;
  perElement: number;
  sync?: boolean;
  dtypes?: Dtype[];
  /** Throws (or rejects) on calls where it returns an Error. */
  fail?: (call: OpCall, n: number) => Error | undefined;
  /** Corrupts results (for canary tests). */
  wrong?: boolean;
  calls?: { n: number };
}

const reference = createCoreBackend();

/** A backend computing with core's kernels and costing what its spec says on the fake clock. */
export function fakeBackend(name: string, spec: FakeSpec, clock: { t: number }) {
  const dtypes = spec.dtypes ?? ['float32', 'float64'];
  const ops: OpSupport = Object.fromEntries(OP_NAMES.map((n) => [n, dtypes]));
  let n = 0;
  const run = (call: OpCall) => {
    n++;
    if (spec.calls) spec.calls.n++;
    clock.t += spec.fixed + spec.perElement * call.rows * call.cols;
    const error = spec.fail?.(call, n);
    if (error) {
      // A half-written result first: a retry must not see it.
      call.outputs[0].fill(Number.NaN);
      throw error;
    }
    call.op.reference(call);
    if (spec.wrong) call.outputs[0][0] += 0.25;
  };
  return spec.sync === false
    ? defineBackend({ name, ops, returns: 'async', run: async (call) => run(call) })
    : defineBackend({ name, ops, returns: 'sync', run });
}

const loaded = (backend: Loaded['backend'], extra: Partial<Loaded> = {}): Loaded => ({
  backend,
  details: {},
  fingerprint: {},
  ...extra,
});

/** Loaders over fake backends: core is core's own (its cost on the fake clock is 0 + its spec). */
export function fakeLoaders(
  clock: { t: number },
  specs: { core?: FakeSpec; wasm?: FakeSpec; wasmMt?: FakeSpec; webgpu?: FakeSpec },
  extra: {
    webgpuInit?: () => Promise<void>;
    wasmInit?: () => Promise<void>;
    gpuFingerprint?: Record<string, string>;
    wasmFingerprint?: Record<string, string>;
  } = {},
): Partial<Loaders> {
  return {
    core: () => loaded(specs.core ? fakeBackend('core', specs.core, clock) : reference),
    wasm: async ({ threads }) => {
      await extra.wasmInit?.();
      const spec = threads > 1 ? specs.wasmMt : specs.wasm;
      if (!spec) throw new Error(`no fake wasm with ${threads} threads`);
      return loaded(fakeBackend('wasm', spec, clock), {
        fingerprint: extra.wasmFingerprint ?? { wasmBuild: 'fake 1' },
      });
    },
    webgpu: async () => {
      await extra.webgpuInit?.();
      if (!specs.webgpu) throw new Error('no fake webgpu');
      return loaded(fakeBackend('webgpu', { ...specs.webgpu, sync: false }, clock), {
        fingerprint: extra.gpuFingerprint ?? {
          gpuVendor: 'fake',
          gpuArchitecture: 'a',
          gpuDevice: 'd',
          gpuFeatures: '',
        },
        prepare: async () => {},
      });
    },
  };
}

export const logits = (n: number, dtype: Dtype = 'float32') =>
  dtype === 'float32'
    ? Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3)
    : Float64Array.from({ length: n }, (_, i) => Math.sin(i) * 3);
