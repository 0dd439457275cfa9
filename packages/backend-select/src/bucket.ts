import { OP_NAMES } from '@softmax/core/backend';
import { Samples } from './samples.js';
import type { CandidateId, ChoiceSource, Dtype, OpName } from './types.js';

/**
 * A shape bucket: one op, one dtype, rows and cols each within a power of two. Costs are smooth in
 * the size, so calls in one bucket share their measurements, and the key is a small integer.
 */
export const log2Floor = (n: number): number => (n < 2 ** 31 ? 31 - Math.clz32(n) : Math.floor(Math.log2(n)));

const OP_INDEX = new Map<string, number>(OP_NAMES.map((name, i) => [name, i]));

export function bucketKey(op: OpName, dtype: Dtype, rows: number, cols: number): number {
  return (((OP_INDEX.get(op) ?? 0) * 2 + (dtype === 'float64' ? 1 : 0)) * 64 + log2Floor(rows)) * 64 + log2Floor(cols);
}

/** The readable name of a bucket: `softmax float32 rows 1 cols 8192–16383`. */
export function bucketLabel(op: OpName, dtype: Dtype, rowsLog2: number, colsLog2: number): string {
  const range = (e: number) => (e === 0 ? '1' : `${2 ** e}–${2 ** (e + 1) - 1}`);
  return `${op} ${dtype} rows ${range(rowsLog2)} cols ${range(colsLog2)}`;
}

export class Bucket {
  readonly rowsLog2: number;
  readonly colsLog2: number;
  readonly stats = new Map<CandidateId, Samples>();
  /** The cost-model keys (`candidate op dtype`) of this bucket, built once: record() marks one on every call. */
  readonly lineKeys: Partial<Record<CandidateId, string>> = {};
  /** Candidates measured far slower than the best here: not explored again (except rechecks). */
  readonly dropped = new Set<CandidateId>();
  chosen: CandidateId | undefined;
  source: ChoiceSource = 'prior';
  /** Calls served, calls routed to explore, and what those cost (ms) and cost beyond the choice. */
  calls = 0;
  exploreCalls = 0;
  exploreMs = 0;
  exploreExcessMs = 0;
  /** Exploration is done (or not allowed): the fast path serves `chosen`. */
  settled = false;
  /** The choice or the settling changed since the record was last saved. */
  dirty = false;
  /** The candidates that may serve changed: the next call decides again. */
  stale = false;
  /** The candidates that could serve here, and the instance's state version they were computed at. */
  ready: CandidateId[] = [];
  readySync: CandidateId[] = [];
  readyVersion = -1;

  constructor(
    readonly key: number,
    readonly op: OpName,
    readonly dtype: Dtype,
    /** The first call's shape: what prepare() compiles and what the model places the bucket at. */
    readonly rows: number,
    readonly cols: number,
  ) {
    this.rowsLog2 = log2Floor(rows);
    this.colsLog2 = log2Floor(cols);
  }

  get elements(): number {
    return this.rows * this.cols;
  }

  get label(): string {
    return bucketLabel(this.op, this.dtype, this.rowsLog2, this.colsLog2);
  }

  samples(id: CandidateId): Samples {
    let s = this.stats.get(id);
    if (!s) {
      s = new Samples();
      this.stats.set(id, s);
    }
    return s;
  }
}
