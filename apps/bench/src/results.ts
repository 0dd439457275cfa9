import type { BenchDtype, Budget, Mode, Op, OpPlan } from '@softmax/bench-scenarios';
import type { CandidateKind } from './candidate.js';
import type { Stats } from './stats.js';

/** The JSON written to bench/results/*.json (and kept by the page). */
export const SCHEMA = 'softmax-bench/1';

export interface CandidateInfo {
  id: string;
  label: string;
  kind: CandidateKind;
  description: string;
  available: boolean;
  /** Why it is unavailable. */
  reason?: string;
  version?: string;
  details?: Record<string, string>;
  /** Loaded.summary() after the last scenario (auto: its explain() and learning costs). */
  summary?: unknown;
}

export type Status = 'ok' | 'wrong' | 'error';

export interface Measurement {
  candidate: string;
  mode: Mode;
  status: Status;
  /** Oracle check: worst error as a fraction of the tolerance (≤ 1 passes), max relative and absolute errors. */
  check?: { worst: number; relError: number; maxAbsError: number; detail?: string };
  /** Why it failed (status 'error'), or the first wrong element (status 'wrong'). */
  error?: string;
  itersPerSample?: number;
  /** Every sample: nanoseconds per call, each the mean over itersPerSample calls. */
  samples: number[];
  stats?: Stats;
  /** GPU time per call in nanoseconds, from timestamp queries, for candidates that report it. */
  gpuSamples?: number[];
  gpuStats?: Stats;
  nsPerElement?: number;
  gbPerSecond?: number;
  /** Median over the fastest verified candidate's median in the same mode (floor excluded). */
  ratioToFastest?: number;
  /** Median over the median of Float32Array.prototype.set of the same bytes. */
  ratioToCopy?: number;
  /** Memory of one call (scenarios whose op plan asks for it; Node CLI). */
  memory?: MemoryFigure;
}

/**
 * What one call needs beyond what it was given, measured on its first call at the scenario's shape
 * in a fresh process (after warm-up calls at a tiny shape), so no pool of an earlier call hides it.
 * Bytes throughout.
 */
export interface MemoryFigure {
  /** user mode: the peak resident set during the call, above the resident set just before it (Linux VmHWM, reset first). */
  rssPeakDelta?: number;
  /** user mode: bytes of the new rows × cols arrays the call returns (the gradient with gradient: true; 0 in place). */
  returnedBytes?: number;
  /** user mode: rssPeakDelta − returnedBytes: the memory beyond the logits and the gradient. */
  extra?: number;
  /** Growth of the candidate's own memory during the call (a wasm backend's linear memory), where it has one. */
  ownGrowth?: number;
  /** Why it could not be measured. */
  error?: string;
}

export interface ScenarioResult {
  op: Op;
  /** The call measured, for an op measured with options (crossEntropy: 'loss+grad', 'in-place'). */
  variant?: string;
  /** That call's options (besides cols). */
  options?: Readonly<Record<string, unknown>>;
  dtype: BenchDtype;
  rows: number;
  cols: number;
  elements: number;
  /** Bytes a call must read and write at least: inputs plus the outputs it computes. */
  bytes: number;
  results: Measurement[];
}

export interface RunResult {
  schema: typeof SCHEMA;
  startedAt: string;
  finishedAt: string;
  suite: {
    name: string;
    budget: Budget;
    ops: Op[];
    dtypes: BenchDtype[];
    modes: Mode[];
    shapes: { rows: number; cols: number }[];
    /** The plans of the ops measured on shapes or calls of their own. */
    perOp?: Partial<Record<Op, OpPlan>>;
  };
  machine: Record<string, unknown>;
  candidates: CandidateInfo[];
  scenarios: ScenarioResult[];
  /** @softmax/auto's cold and dispatch costs, measured apart from the scenarios (Node CLI only). */
  autoFigures?: AutoFigures;
}

/** Medians of repeated measurements, nanoseconds. */
export interface AutoFigures {
  /** A fresh process: import('@softmax/auto') and one softmax at [1, 10]. */
  firstCallAuto: number;
  /** A fresh process: import('@softmax/wasm'), createWasmBackend() and one softmax at [1, 10]. */
  firstCallWasm: number;
  /** Per call at [1, 10], float32, on a settled bucket: auto's and the backend it chose, called directly. */
  dispatch: { chosen: string; autoSync: number; directSync: number; autoAsync: number; directAsync: number };
}
