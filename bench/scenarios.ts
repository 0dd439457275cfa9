/**
 * The benchmark's scenarios, shared by the CLI (apps/bench/src/cli.ts) and the web page
 * (apps/bench/web/main.ts). Data only: what to measure, and how long to spend measuring it.
 */

import { OP_NAMES, type OpName } from '@softmax/core/backend';

/** An op of core's op table. */
export type Op = OpName;
export type BenchDtype = 'float32' | 'float64';
/** 'user': array in, array out (what a caller pays). 'kernel': the op on data already resident. */
export type Mode = 'user' | 'kernel';

export interface Shape {
  rows: number;
  cols: number;
}

export interface Budget {
  /** Wall time spent running a candidate before it is sampled (JIT, caches, pipeline compiles). */
  warmupMs: number;
  /** Each sample runs the call enough times to last at least this long (timer resolution). */
  sampleMs: number;
  /** Samples wanted per candidate and scenario; the harness stops earlier only at maxMs. */
  samples: number;
  /** Always take at least this many samples, even past maxMs. */
  minSamples: number;
  /** Time budget for one candidate in one scenario (sampling only). */
  maxMs: number;
  /**
   * A candidate whose checked call took longer than this is reported (verified), not timed: the
   * GPU candidates on a software adapter (SwiftShader) take a minute a call at crossEntropy's shapes.
   */
  maxCallMs?: number;
}

/** One measured call of an op: a name for the report and the options it is called with (besides cols). */
export interface Variant {
  name: string;
  options: Readonly<Record<string, unknown>>;
}

/**
 * What an op is measured on when it has a plan of its own (crossEntropy), in place of the suite's
 * shapes and float types; `--shapes` and `--dtype` still override both.
 */
export interface OpPlan {
  shapes?: Shape[];
  dtypes?: BenchDtype[];
  /** The calls measured at each shape, each a scenario of its own. Default: one call with no options. */
  variants?: Variant[];
  /**
   * Integer operands are made uniform in [0, cols) (an index into the row); one row in `every` (the
   * last of each group of `every`) instead holds the value of option `option`, its default taken
   * from the op's declaration: crossEntropy's ignored rows (ignoreIndex, −100), as padding.
   */
  sentinel?: { operand: string; option: string; every: number };
  /** Measure each call's extra memory (Node CLI: a fresh process per candidate; see memory-node.ts). */
  memory?: boolean;
  /**
   * How the logits are made: 'uniform' (default) in [−8, 8); 'llm', rows that look like a language
   * model's (a long normal tail under a heavy top of a few hundred ids; see apps/bench/src/inputs.ts).
   */
  logits?: 'uniform' | 'llm';
}

export interface Suite {
  name: string;
  shapes: Shape[];
  ops: Op[];
  dtypes: BenchDtype[];
  modes: Mode[];
  budget: Budget;
  /** Ops measured on shapes, float types or calls of their own. */
  perOp?: Partial<Record<Op, OpPlan>>;
}

const shape = (rows: number, cols: number): Shape => ({ rows, cols });

/** The shapes people run softmax on: a tiny row, vocab rows (32k, 128k), a huge row, batches, attention. */
export const defaultShapes: Shape[] = [
  shape(1, 10),
  shape(1, 1000),
  shape(1, 32000),
  shape(1, 128000),
  shape(1, 1_000_000),
  shape(64, 32000),
  shape(1024, 1024),
  shape(4096, 128),
];

/**
 * crossEntropy's measured calls: the loss and its gradient (a training step's), and the same
 * written over the logits ('in-place', which needs no array of the logits' size; candidates that
 * cannot write in place, TensorFlow.js and the unfused composition, skip it).
 */
export const crossEntropyVariants: Variant[] = [
  { name: 'loss+grad', options: { reduction: 'mean', gradient: true } },
  { name: 'in-place', options: { reduction: 'mean', gradient: 'in-place' } },
];

/**
 * sample's measured calls: a chat model's usual settings; top-p alone (no top-k to shrink the set
 * first: the case that drives peers into a full sort of the vocabulary); and greedy, which is
 * measured beside one plain max pass over the logits (the `js-argmax` candidate).
 */
export const sampleVariants: Variant[] = [
  { name: 't0.7-k50-p0.9', options: { temperature: 0.7, topK: 50, topP: 0.9 } },
  { name: 'p0.95', options: { topP: 0.95 } },
  { name: 'greedy', options: { temperature: 0 } },
];

/** Decoding shapes: one sequence over Llama 2's, Llama 3's and Qwen 2's vocabularies, and a batch of 32 on Qwen 2's. */
export const sampleShapes: Shape[] = [shape(1, 32000), shape(1, 128256), shape(1, 151936), shape(32, 151936)];

/**
 * How far (in probability) u may lie from the boundary between two ids' intervals, or top-p's
 * cumulative sum from topP, before a candidate may decide the other way: the same rtol the float
 * results are held to (a float32 cumulative sum over 10^5 terms in plain order drifts by ~1e-4).
 * Nearer than that, the check accepts the id across the boundary (see apps/bench/src/sample-check.ts).
 */
export const sampleMargin: Record<BenchDtype, number> = { float32: 1e-3, float64: 1e-9 };

/** Every eighth row ignored (targets = ignoreIndex): a batch's padding. */
const ignoredRows = { operand: 'targets', option: 'ignoreIndex', every: 8 };

/** Fine-tuning shapes: tokens × vocabulary (Llama 2's 32,000, Llama 3's 128,256, Qwen 2's 151,936). */
export const crossEntropyShapes: Shape[] = [shape(512, 32000), shape(64, 128256), shape(8, 151936)];

export const suites: Record<'full' | 'quick', Suite> = {
  full: {
    name: 'full',
    shapes: defaultShapes,
    ops: ['softmax', 'crossEntropy', 'sample'],
    dtypes: ['float32', 'float64'],
    modes: ['user', 'kernel'],
    budget: { warmupMs: 150, sampleMs: 10, samples: 25, minSamples: 5, maxMs: 1500, maxCallMs: 10_000 },
    perOp: {
      crossEntropy: {
        shapes: crossEntropyShapes,
        dtypes: ['float32'],
        variants: crossEntropyVariants,
        sentinel: ignoredRows,
        memory: true,
      },
      sample: { shapes: sampleShapes, dtypes: ['float32'], variants: sampleVariants, logits: 'llm' },
    },
  },
  // A smoke run: every candidate verified and timed on a few small shapes, in well under a minute.
  quick: {
    name: 'quick',
    shapes: [shape(1, 10), shape(1, 1000), shape(1, 32000), shape(64, 1000)],
    ops: ['softmax', 'crossEntropy', 'sample'],
    dtypes: ['float32', 'float64'],
    modes: ['user', 'kernel'],
    budget: { warmupMs: 15, sampleMs: 2, samples: 7, minSamples: 3, maxMs: 120 },
    perOp: {
      crossEntropy: {
        shapes: [shape(8, 2048)],
        dtypes: ['float32'],
        variants: crossEntropyVariants,
        sentinel: ignoredRows,
      },
      sample: { shapes: [shape(1, 2048)], dtypes: ['float32'], variants: sampleVariants, logits: 'llm' },
    },
  },
};

/** One scenario of a suite: an op, its call (variant), a float type and a shape. */
export interface PlannedScenario extends Shape {
  op: Op;
  dtype: BenchDtype;
  variant?: Variant;
}

/** Every scenario of a suite, in order: op, then call, then float type, then shape. */
export function planOf(suite: Suite): PlannedScenario[] {
  return suite.ops.flatMap((op) => {
    const plan = suite.perOp?.[op];
    const variants: (Variant | undefined)[] = plan?.variants ?? [undefined];
    return variants.flatMap((variant) =>
      (plan?.dtypes ?? suite.dtypes).flatMap((dtype) =>
        (plan?.shapes ?? suite.shapes).map((s) => ({ op, dtype, ...s, ...(variant ? { variant } : {}) })),
      ),
    );
  });
}

/**
 * The suite with `--shapes` or `--dtype` given on the command line: they replace every op's own
 * (an op's plan keeps its calls, sentinel and memory setting).
 */
export function overriding(suite: Suite, over: { shapes?: Shape[]; dtypes?: BenchDtype[] }): Suite {
  const perOp = Object.fromEntries(
    Object.entries(suite.perOp ?? {}).map(([op, plan]) => [
      op,
      { ...plan, shapes: over.shapes ? undefined : plan.shapes, dtypes: over.dtypes ? undefined : plan.dtypes },
    ]),
  );
  return { ...suite, shapes: over.shapes ?? suite.shapes, dtypes: over.dtypes ?? suite.dtypes, perOp };
}

/** Every op of core's table (`--op all`); candidates say which of them they implement. */
export const allOps: Op[] = [...OP_NAMES];

/**
 * What a result must reach before it is timed: |y − ref| ≤ rtol·|ref| + atol·max|ref of the row|.
 * This rejects wrong answers, not merely less accurate ones (the accuracy contract of our backends is
 * the conformance suite's job): a float32 sum of 10^6 terms in plain order legitimately drifts by
 * ~1e-4, so float32 allows 1e-3. Each result's worst error is recorded, so accuracy stays visible.
 */
export const tolerance: Record<BenchDtype, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-3, atol: 1e-5 },
  float64: { rtol: 1e-9, atol: 1e-12 },
};

/** Parses "64x32000,1x10" (also "64×32000"). */
export function parseShapes(text: string): Shape[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const m = /^(\d[\d_]*)\s*[x×]\s*(\d[\d_]*)$/i.exec(s);
      if (!m) throw new Error(`bad shape "${s}": expected ROWSxCOLS, e.g. 64x32000`);
      const rows = Number(m[1].replaceAll('_', ''));
      const cols = Number(m[2].replaceAll('_', ''));
      if (rows < 1 || cols < 1) throw new Error(`bad shape "${s}": rows and cols must be ≥ 1`);
      return { rows, cols };
    });
}

export const shapeLabel = (s: Shape): string => `${s.rows}×${s.cols}`;

/** "softmax float32 64×32000", or with its call's name: "crossEntropy loss+grad float32 512×32000". */
export const scenarioLabel = (s: { op: string; variant?: string; dtype: string; rows: number; cols: number }): string =>
  `${s.op}${s.variant ? ` ${s.variant}` : ''} ${s.dtype} ${shapeLabel(s)}`;
