import type { Backend, Dtype, OpName } from '@softmax/core';

/** The backends auto chooses between. */
export type BackendName = 'core' | 'wasm' | 'webgpu';
export const BACKEND_NAMES: readonly BackendName[] = ['core', 'wasm', 'webgpu'];

/**
 * A candidate: one backend with one configuration. wasm on one thread and on every core are two
 * candidates, because which is faster depends on the shape and the machine, and is measured.
 */
export type CandidateId = 'core' | 'wasm' | 'wasm-mt' | 'webgpu';

/** Where a bucket's choice came from (explain() prints it). */
export type ChoiceSource = 'prior' | 'measured' | 'persisted' | 'imported' | 'forced' | 'fallback';

/** What a loader hands back: the backend and the facts explain() and the fingerprint use. */
export interface Loaded {
  /** The backend created. */
  backend: Backend;
  /** Facts worth printing (simd, threads, adapter, ...). */
  details: Record<string, string>;
  /** Fingerprint fields only this backend knows (the wasm build, the GPU adapter). */
  fingerprint: Record<string, string>;
  /** A software adapter (SwiftShader, lavapipe, WARP): a CPU pretending to be a GPU. */
  software?: boolean;
  /** Cold costs of creating it, in ms, by stage (module compile, adapter and device). */
  cold?: Record<string, number>;
  /** Compiles the pipelines of these shapes and ops (WebGPU): in the background, before a call uses them. */
  prepare?(shapes: ReadonlyArray<{ rows: number; cols: number }>, ops: readonly OpName[]): Promise<void>;
}

/**
 * How each backend is created. The defaults import `@softmax/wasm` and `@softmax/webgpu` when first
 * needed; tests and custom builds pass their own (fake backends of known cost, a failing init).
 */
export interface Loaders {
  /** Creates core (synchronous). */
  core(): Loaded;
  /** Creates wasm with this many threads. */
  wasm(options: { threads: number }): Promise<Loaded>;
  /** Creates WebGPU (on this device, if given). */
  webgpu(options: { device?: GPUDevice }): Promise<Loaded>;
}

export type { Backend, Dtype, OpName };
