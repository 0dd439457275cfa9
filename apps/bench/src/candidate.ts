import type { BenchDtype, Mode, Op } from '@softmax/bench-scenarios';
import type { OperandArray } from '@softmax/core/backend';

export type FloatArray = Float32Array | Float64Array;
export type { OperandArray };

/**
 * What one call gives back, as the op's result: its one array (softmax...), or its outputs by name
 * (crossEntropy: { loss, grad }), each a host array.
 */
export type Output = FloatArray | Readonly<Record<string, FloatArray | Int32Array | undefined>>;

/** One measurement problem: the inputs are made (and the oracle computed) by the harness. */
export interface Problem {
  op: Op;
  dtype: BenchDtype;
  mode: Mode;
  rows: number;
  cols: number;
  /**
   * The op's inputs in its declaration's order (core's op table): logits; y and dy; logits and
   * class indices (Int32Array). Shared by every candidate: one that writes over an input (in place)
   * works on its own copy.
   */
  inputs: OperandArray[];
  /** The first input (the logits, or y): what the copy floor and single-input peers take. */
  x: FloatArray;
  /** The call's options besides cols (its variant's, {} for none, plus the op's repeatable ones: sample's seed). */
  options: Readonly<Record<string, unknown>>;
  /** The variant's name (absent for an op measured with no options). */
  variant?: string;
}

/** A problem set up on a candidate, ready to be timed. */
export interface Prepared {
  /** The timed call. Returns a Promise only when the candidate is asynchronous. */
  run(): unknown;
  /** True when run() returns a Promise that must be awaited (GPU, async APIs). */
  readonly async: boolean;
  /** The result of one run(), as host arrays, for checking against the oracle. */
  output(): Promise<Output>;
  /**
   * Optional: called before every call, untimed (each call is then timed alone): puts back what an
   * in-place call wrote over its input, so every call starts from the same logits.
   */
  beforeEach?(): unknown;
  /** Optional: bytes of memory the candidate itself holds (a wasm backend's linear memory), for the memory figures. */
  memoryBytes?(): number;
  /**
   * Optional: runs the call once more and returns the GPU time of its work in nanoseconds, from
   * timestamp queries (undefined when this device cannot time it). Sampled apart from the wall time.
   */
  gpuTime?(): Promise<number | undefined>;
  /**
   * sample: the tokens come from a generator of the candidate's own (a peer's Math.random), not from
   * the call's seed, so they are checked against the reference's kept set only (sample-check.ts).
   */
  readonly ownRandom?: boolean;
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
  /** Which (op, dtype, mode) triples it implements, with these options (a variant's; {} for none). */
  supports(op: Op, dtype: BenchDtype, mode: Mode, options: Readonly<Record<string, unknown>>): boolean;
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
  /** Why its memory is not measured (the memory probe skips it), when it is not. */
  noMemoryProbe?: string;
  load(ctx: LoadContext): Promise<Loaded>;
}

/** Fresh output arrays of the problem's dtype. */
export function arrayOf(dtype: BenchDtype, length: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(length) : new Float64Array(length);
}

/** Whether an Output is one array (not a record of outputs by name). */
export const isArray = (o: Output): o is FloatArray => ArrayBuffer.isView(o);
