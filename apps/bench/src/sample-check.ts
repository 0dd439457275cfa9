import { type BenchDtype, sampleMargin } from '@softmax/bench-scenarios';
import { OPS, type SampleDraw, type SampleKeep, sampleDraw, sampleKeep, sampleUniform } from '@softmax/core/backend';
import type { FloatArray, Output } from './candidate.js';
import type { Verdict } from './oracle.js';

/**
 * The benchmark's check of `sample`: tokens are not floats near a reference, so they are held to
 * core's reference rules (`sampleKeep`, a float64 full sort of each row, and `sampleDraw`) with the
 * u of each row from the op's repeatable seed (`OPS.sample.repeatable`), the seed every candidate's
 * call is given too:
 * - a candidate drawing with that u must give the reference's token, or the id across the nearer
 *   boundary when u lies within `sampleMargin` of it (its cumulative sums rounded otherwise);
 * - a candidate with a generator of its own (the peers) must give a token of the kept set.
 * Either way a token the reference does not keep is also accepted when top-p's cut lies within
 * `sampleMargin` of topP and the token would be kept under topP + margin: a float32 sum may put
 * the cut one id further (the kept set itself has nothing else to round: top-k and greedy compare
 * the same logits on every backend).
 */

/** The scalar filters of a benchmark call (the scenarios give one value for every row). */
interface Filters {
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
}

/** What one row's token is checked against. */
export interface RowExpectation {
  keep: SampleKeep;
  /** The draw with the row's u (seeded calls). */
  draw: SampleDraw;
  u: number;
}

export interface SampleExpectation {
  rows: RowExpectation[];
  filters: Filters;
  margin: number;
  logits: FloatArray;
  cols: number;
}

/** The options every candidate's sample call is made with: the scenario's, then the op's repeatable ones (seed 0). */
export const repeatableOptions = (options: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> => ({
  ...options,
  ...OPS.sample.repeatable,
});

const scalar = (v: unknown, fallback: number, name: string): number => {
  if (v === undefined) return fallback;
  if (typeof v !== 'number') throw new Error(`the benchmark's sample check takes one ${name} for every row`);
  return v;
};

/** The reference's kept set and draw for every row, for the call's options (seed and step as the call has them). */
export function sampleExpectation(
  logits: FloatArray,
  rows: number,
  cols: number,
  options: Readonly<Record<string, unknown>>,
  dtype: BenchDtype,
): SampleExpectation {
  const filters: Filters = {
    temperature: scalar(options.temperature, 1, 'temperature'),
    topK: scalar(options.topK, 0, 'topK'),
    topP: scalar(options.topP, 1, 'topP'),
    minP: scalar(options.minP, 0, 'minP'),
  };
  const seed = scalar(options.seed, Number.NaN, 'seed');
  if (!Number.isInteger(seed)) throw new Error("the benchmark's sample calls need a seed (OPS.sample.repeatable)");
  const step = scalar(options.step, 0, 'step');
  const expected: RowExpectation[] = [];
  for (let i = 0; i < rows; i++) {
    const keep = sampleKeep(logits.subarray(i * cols, (i + 1) * cols), filters);
    const u = sampleUniform(seed, i, step);
    expected.push({ keep, draw: sampleDraw(keep, u), u });
  }
  return { rows: expected, filters, margin: sampleMargin[dtype], logits, cols };
}

/** Whether `id` is in the ascending `kept`. */
function has(kept: Int32Array, id: number): boolean {
  let lo = 0;
  let hi = kept.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (kept[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo < kept.length && kept[lo] === id;
}

/**
 * Whether `id`, which the reference does not keep, would be kept with topP raised by the margin:
 * inside the top-k set (exact: at most topK − 1 logits above it), and the probability of the ids
 * more probable than it, within the top-k set, below topP + margin. Only when the reference's cut
 * lay within the margin of topP; min-p (off in the benchmark's calls) keeps this from applying.
 */
function nearCut(e: SampleExpectation, row: number, id: number): boolean {
  const { keep } = e.rows[row];
  const f = e.filters;
  // A kept id is no id past the cut: with the call's u, only the reference's token (or its neighbour) is.
  if (keep.greedy || f.minP > 0 || !(keep.margins.topP < e.margin) || has(keep.kept, id)) return false;
  const x = e.logits.subarray(row * e.cols, (row + 1) * e.cols);
  const v = x[id];
  if (!(v > -Infinity)) return false;
  let max = -Infinity;
  let above = 0;
  for (let j = 0; j < x.length; j++) {
    if (x[j] > max) max = x[j];
    if (x[j] > v) above++;
  }
  if (f.topK > 0 && above >= f.topK) return false;
  // The top-k set's threshold: the k-th largest logit (every id of the row when top-k is off).
  let kth = -Infinity;
  if (f.topK > 0 && f.topK < x.length) kth = Float64Array.from(x).sort()[x.length - f.topK];
  let total = 0;
  let before = 0;
  for (let j = 0; j < x.length; j++) {
    if (!(x[j] >= kth)) continue;
    const w = Math.exp((x[j] - max) / f.temperature);
    total += w;
    if (x[j] > v) before += w;
  }
  return before / total < f.topP + e.margin;
}

/** How a row's token passed ('exact', 'kept' for a peer, 'neighbour', 'cut'), or why it fails. */
function rowVerdict(e: SampleExpectation, row: number, token: number, ownRandom: boolean): string {
  const { keep, draw, u } = e.rows[row];
  if (!Number.isInteger(token) || token < 0 || token >= e.cols) return `row ${row}: token ${token} is not an id`;
  if (ownRandom) {
    if (has(keep.kept, token)) return 'kept';
    if (nearCut(e, row, token)) return 'cut';
    return `row ${row}: token ${token} is not in the reference's kept set (${keep.kept.length} ids)`;
  }
  if (token === draw.token) return 'exact';
  const near = draw.margin < e.margin;
  if (near && token === draw.neighbour) return 'neighbour';
  if (nearCut(e, row, token)) return 'cut';
  return `row ${row}: u = ${u} drew ${token}, expected ${draw.token}${near ? ` or ${draw.neighbour} (u within ${draw.margin.toExponential(2)} of their boundary)` : ''}`;
}

const PASSES = ['exact', 'kept', 'neighbour', 'cut'];

/**
 * The verdict on a candidate's sample result: every row's token checked as above. `worst` is the
 * fraction of rows that fail (0 passes); the error columns have nothing to say of tokens and read 0;
 * a passing verdict's detail counts the rows by how they passed.
 */
export function verifySample(actual: Output, e: SampleExpectation, ownRandom: boolean): Verdict {
  const tokens = (actual as { tokens?: unknown }).tokens;
  const fail = (detail: string, worst = Number.POSITIVE_INFINITY): Verdict => ({
    ok: false,
    worst,
    maxRelError: 0,
    maxAbsError: 0,
    detail,
  });
  if (!(tokens instanceof Int32Array)) return fail('expected { tokens: Int32Array }');
  if (tokens.length !== e.rows.length) return fail(`expected ${e.rows.length} tokens, got ${tokens.length}`);
  const verdicts = e.rows.map((_, i) => rowVerdict(e, i, tokens[i], ownRandom));
  const problems = verdicts.filter((v) => !PASSES.includes(v));
  if (problems.length > 0) {
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more rows)` : '';
    return fail(`wrong tokens: ${problems[0]}${more}`, problems.length / e.rows.length);
  }
  // How the rows passed, for the report's check column ("32 exact", "31 exact, 1 neighbour").
  const counts = PASSES.map((p) => [p, verdicts.filter((v) => v === p).length] as const).filter(([, n]) => n > 0);
  return { ok: true, worst: 0, maxRelError: 0, maxAbsError: 0, detail: counts.map(([p, n]) => `${n} ${p}`).join(', ') };
}
