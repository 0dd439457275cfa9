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
}

export interface Suite {
  name: string;
  shapes: Shape[];
  ops: Op[];
  dtypes: BenchDtype[];
  modes: Mode[];
  budget: Budget;
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

export const suites: Record<'full' | 'quick', Suite> = {
  full: {
    name: 'full',
    shapes: defaultShapes,
    ops: ['softmax'],
    dtypes: ['float32', 'float64'],
    modes: ['user', 'kernel'],
    budget: { warmupMs: 150, sampleMs: 10, samples: 25, minSamples: 5, maxMs: 1500 },
  },
  // A smoke run: every candidate verified and timed on a few small shapes, in well under a minute.
  quick: {
    name: 'quick',
    shapes: [shape(1, 10), shape(1, 1000), shape(1, 32000), shape(64, 1000)],
    ops: ['softmax'],
    dtypes: ['float32', 'float64'],
    modes: ['user', 'kernel'],
    budget: { warmupMs: 15, sampleMs: 2, samples: 7, minSamples: 3, maxMs: 120 },
  },
};

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
