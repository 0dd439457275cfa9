import type { BenchDtype, Mode, Op } from '@softmax/bench-scenarios';

export type FloatArray = Float32Array | Float64Array;

/** One measurement problem: the inputs are made (and the oracle computed) by the harness. */
export interface Problem {
  op: Op;
  dtype: BenchDtype;
  mode: Mode;
  rows: number;
  cols: number;
  /** The op's inputs in its declaration's order (core's op table): logits, or y and dy. */
  inputs: FloatArray[];
  /** The first input (the logits, or y): what the copy floor and single-input peers take. */
  x: FloatArray;
}

/** A problem set up on a candidate, ready to be timed. */
export interface Prepared {
  /** The timed call. Returns a Promise only when the candidate is asynchronous. */
  run(): unknown;
  /** True when run() returns a Promise that must be awaited (GPU, async APIs). */
  readonly async: boolean;
  /** The result of one run(), as a host array, for checking against the oracle. */
  output(): Promise<FloatArray>;
  /**
   * Optional: runs the call once more and returns the GPU time of its work in nanoseconds, from
   * timestamp queries (undefined when this device cannot time it). Sampled apart from the wall time.
   */
  gpuTime?(): Promise<number | undefined>;
  /** Called before each batch of samples (e.g. tfjs: make this candidate's backend the active one). */
  beforeSample?(): unknown;
  dispose(): unknown;
}

/** What a candidate can do once loaded. */
export interface Loaded {
  /** Version of the library measured (package version), or a description. */
  version: string;
  /** Extra facts worth recording (adapter, threads, SIMD...). */
  details?: Record<string, string>;
  /** Which (op, dtype, mode) triples it implements. */
  supports(op: Op, dtype: BenchDtype, mode: Mode): boolean;
  prepare(problem: Problem): Promise<Prepared>;
  /** What the candidate learned over the run, recorded once the last scenario ran (auto: explain()). */
  summary?(): unknown;
  dispose(): unknown;
}

export type CandidateKind = 'ours' | 'peer' | 'floor';

/** What a candidate's loader may need from its environment (Node or browser). */
export interface LoadContext {
  env: 'node' | 'browser';
  /** A WebGPU entry point (navigator.gpu, or Dawn's in Node); absent when none could be made. */
  gpu?: GPU;
  /** Why `gpu` is absent. */
  gpuReason?: string;
  /** tfjs-backend-wasm: a directory prefix (Node) or a file → URL map (browser bundles). */
  tfjsWasmPaths?: string | Record<string, string>;
  /** onnxruntime-web: where its .wasm/.mjs files are (a prefix or file → URL map). */
  ortWasmPaths?: string | Record<string, string>;
}

/**
 * A contender. `load` throws (with a readable message) when the candidate cannot run here;
 * the harness then lists it as unavailable with that reason.
 */
export interface Candidate {
  id: string;
  label: string;
  kind: CandidateKind;
  /** One line: what exactly is measured. */
  description: string;
  load(ctx: LoadContext): Promise<Loaded>;
}

/** Fresh output arrays of the problem's dtype. */
export function arrayOf(dtype: BenchDtype, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}
