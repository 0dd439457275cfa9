import type { FloatArray, FullyMasked } from '@softmax/core';
import type { DtypeInfo } from './dtypes.js';
import { EXTREME_TEMPERATURES } from './hostile-inputs.js';
import { oracleLogSoftmax, oracleSoftmax } from './oracle.js';

/**
 * Seeded differential fuzzing: random shapes, adversarial value patterns, all four functions and
 * temperatures from a sane log range plus every extreme. Case `i` of seed `s` is the same on every
 * run and machine, so a failure is reproduced from the two numbers in its message.
 */

/**
 * Cases per dtype in an ordinary run (a few seconds); SOFTMAX_FUZZ_CASES asks for more.
 *
 * @example
 * ```ts
 * import { FUZZ_CASES, FUZZ_SEED, DTYPES, fuzzCase } from '@softmax/conformance/helpers';
 *
 * for (let i = 0; i < FUZZ_CASES; i++) fuzzCase(FUZZ_SEED, i, DTYPES.float32);
 * ```
 */
export const FUZZ_CASES = 500;
/**
 * The seed of an ordinary fuzz run; SOFTMAX_FUZZ_SEED picks another.
 *
 * @example
 * ```ts
 * import { FUZZ_SEED, DTYPES, fuzzCase } from '@softmax/conformance/helpers';
 *
 * const first = fuzzCase(FUZZ_SEED, 0, DTYPES.float32); // the same case on every run
 * ```
 */
export const FUZZ_SEED = 0x5eed_2024;

/**
 * splitmix32 (the 32-bit variant of Steele, Lea and Flood's SplitMix: a Weyl sequence through a
 * two-multiply finaliser). Uniform in [0, 1); every seed gives a full-period stream.
 *
 * @example
 * ```ts
 * import { splitmix32 } from '@softmax/conformance/helpers';
 *
 * const next = splitmix32(1);
 * const u = next(); // in [0, 1), the same sequence for the same seed
 * ```
 */
export function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let t = state ^ (state >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    return (t >>> 0) / 4294967296;
  };
}

/** The ops the fuzzer calls. */
export type FuzzMethod = 'softmax' | 'logSoftmax' | 'softmaxBackward' | 'logSoftmaxBackward';

/**
 * Row patterns of logits, each aimed at a way a kernel goes wrong.
 *
 * @example
 * ```ts
 * import { LOGIT_PATTERNS } from '@softmax/conformance/helpers';
 *
 * LOGIT_PATTERNS.includes('all equal'); // true
 * ```
 */
export const LOGIT_PATTERNS = [
  'uniform',
  'all equal',
  'one huge outlier',
  'alternating ±Infinity',
  'NaN payload',
  'huge and tiny',
  '−Infinity mask',
  'subnormal',
  'ties',
  'large |z|',
] as const;
/** The name of a logit pattern. */
export type LogitPattern = (typeof LOGIT_PATTERNS)[number];

/**
 * Patterns of the upstream gradient dy.
 *
 * @example
 * ```ts
 * import { UPSTREAM_PATTERNS } from '@softmax/conformance/helpers';
 *
 * for (const p of UPSTREAM_PATTERNS) console.log(p); // 'uniform', 'ones', ...
 * ```
 */
export const UPSTREAM_PATTERNS = ['uniform', 'ones', 'mixed magnitudes', 'one huge', 'subnormal'] as const;
/** The name of an upstream-gradient pattern. */
export type UpstreamPattern = (typeof UPSTREAM_PATTERNS)[number];

/** One generated case: the op, the shape, the options and the arrays. */
export interface FuzzCase {
  /** The run's seed. */
  seed: number;
  /** The case's index in the run. */
  index: number;
  /** The op called. */
  method: FuzzMethod;
  /** Rows. */
  rows: number;
  /** Row length. */
  cols: number;
  /** T. */
  temperature: number;
  /** For the forward ops. */
  fullyMasked?: FullyMasked;
  /** Each row's pattern (the logits', and for a backward case dy's after a slash). */
  patterns: string[];
  /** The inputs: [x], or [y, dy] with y the forward output (in the oracle) of generated logits. */
  inputs: FloatArray[];
}

type Random = () => number;

const pick = <T>(next: Random, items: readonly T[]): T => items[Math.floor(next() * items.length)];
const between = (next: Random, lo: number, hi: number) => lo + (hi - lo) * next();
const logUniform = (next: Random, lo: number, hi: number) => 10 ** between(next, Math.log10(lo), Math.log10(hi));
const signed = (next: Random, v: number) => (next() < 0.5 ? -v : v);

/** A NaN of the dtype with a random payload (quiet or signalling, either sign), written by its bits. */
function nanWithPayload(next: Random, array: FloatArray, index: number): void {
  const view = new DataView(array.buffer, array.byteOffset, array.byteLength);
  const sign = next() < 0.5 ? 0x8000_0000 : 0;
  if (array.BYTES_PER_ELEMENT === 4) {
    // Exponent all ones, a nonzero 23-bit fraction.
    view.setUint32(index * 4, (sign | 0x7f80_0000 | (1 + Math.floor(next() * 0x7f_ffff))) >>> 0, true);
  } else {
    view.setUint32(index * 8, Math.floor(next() * 2 ** 32) >>> 0, true);
    view.setUint32(index * 8 + 4, (sign | 0x7ff0_0000 | (1 + Math.floor(next() * 0xf_ffff))) >>> 0, true);
  }
}

/** One row of logits for `pattern`, written at `offset` of `x`. */
function logitRow(
  next: Random,
  d: DtypeInfo,
  pattern: LogitPattern,
  x: FloatArray,
  offset: number,
  cols: number,
  T: number,
) {
  const set = (j: number, v: number) => {
    x[offset + j] = v;
  };
  const s = logUniform(next, 1e-3, 1e3);
  const huge = () => signed(next, pick(next, [1e4, 1e15, 1e30, d.max / 3, d.max]));
  const tiny = () => signed(next, pick(next, [1e-30, d.minNormal, d.minSubnormal * 3, 0]));
  for (let j = 0; j < cols; j++) {
    switch (pattern) {
      case 'uniform':
        set(j, between(next, -s, s));
        break;
      case 'all equal':
        set(j, j === 0 ? pick(next, [0, 1, -7.5, 1e30, -d.max, d.max / 2]) : x[offset]);
        break;
      case 'one huge outlier':
        set(j, between(next, -3, 3));
        break;
      case 'alternating ±Infinity':
        set(j, j % 3 === 2 ? between(next, -5, 5) : j % 2 === 0 ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY);
        break;
      case 'NaN payload':
        set(j, between(next, -10, 10));
        break;
      case 'huge and tiny':
        set(j, next() < 0.5 ? huge() : tiny());
        break;
      case '−Infinity mask':
        set(j, next() < 0.5 ? Number.NEGATIVE_INFINITY : between(next, -20, 20));
        break;
      case 'subnormal':
        set(j, pick(next, [0, -0, d.minSubnormal, -d.minSubnormal, d.minNormal / 3, -d.minNormal / 7, 1e-30, -1]));
        break;
      case 'ties':
        set(j, pick(next, [0, 1, 2, 2]));
        break;
      case 'large |z|':
        // z = (x − max)/T spread over (−750, 0]: exp(z) from 1 down past float64's subnormals.
        set(j, -between(next, 0, 750) * T);
        break;
    }
  }
  if (pattern === 'one huge outlier') set(Math.floor(next() * cols), signed(next, pick(next, [1e4, 1e30, d.max])));
  if (pattern === 'NaN payload') nanWithPayload(next, x, offset + Math.floor(next() * cols));
  if (pattern === '−Infinity mask' && next() < 0.3) for (let j = 0; j < cols; j++) set(j, Number.NEGATIVE_INFINITY);
}

/** One row of dy for `pattern`; the entry at `keep` (the row's largest y) stays a normal number. */
function upstreamRow(
  next: Random,
  d: DtypeInfo,
  pattern: UpstreamPattern,
  dy: FloatArray,
  offset: number,
  cols: number,
  keep: number,
) {
  for (let j = 0; j < cols; j++) {
    let v: number;
    switch (pattern) {
      case 'uniform':
        v = between(next, -1, 1);
        break;
      case 'ones':
        v = 1;
        break;
      case 'mixed magnitudes':
        v = signed(next, logUniform(next, 1e-6, 1e6));
        break;
      case 'one huge':
        v = between(next, -2, 2);
        break;
      case 'subnormal':
        v =
          next() < 0.5 && j !== keep
            ? signed(next, pick(next, [d.minSubnormal, d.minNormal / 5, 0]))
            : between(next, -1, 1);
        break;
    }
    dy[offset + j] = v;
  }
  if (pattern === 'one huge') dy[offset + Math.floor(next() * cols)] = signed(next, 1e20);
}

/**
 * Scales a row of dy (by a power of two) so that the gradients' condition-aware scale, at most
 * 2·Σ|dy|/T, stays inside the dtype's range. Beyond it the bound allows any finite value, and an
 * exact result that overflows may come out finite from a correct float computation (dy_j − Σ dy
 * rounded to 0, say): no implementation could be held to ±Infinity there.
 */
function fitUpstream(d: DtypeInfo, dy: FloatArray, offset: number, cols: number, temperature: number): void {
  let total = 0;
  for (let j = 0; j < cols; j++) total += Math.abs(dy[offset + j]);
  const limit = (d.max / 4) * temperature;
  if (!(total > limit)) return;
  const f = 2 ** Math.floor(Math.log2(limit / total));
  for (let j = 0; j < cols; j++) dy[offset + j] *= f;
}

function temperatureOf(next: Random): number {
  const r = next();
  if (r < 0.6) return logUniform(next, 1e-2, 1e2);
  if (r < 0.75) return 1;
  return pick(next, EXTREME_TEMPERATURES);
}

function shapeOf(next: Random): { rows: number; cols: number } {
  const r = next();
  const cols =
    r < 0.6 ? 1 + Math.floor(next() * 16) : r < 0.9 ? 17 + Math.floor(next() * 284) : 301 + Math.floor(next() * 1700);
  const rows = 1 + Math.floor(next() * (cols <= 16 ? 8 : 3));
  return { rows, cols };
}

/**
 * The seed of case `index`: the run's seed mixed with the index (golden-ratio increments).
 *
 * @example
 * ```ts
 * import { caseSeed, FUZZ_SEED } from '@softmax/conformance/helpers';
 *
 * caseSeed(FUZZ_SEED, 17); // the seed of case 17: reproduce one failing case alone
 * ```
 */
export function caseSeed(seed: number, index: number): number {
  return (seed ^ Math.imul(index + 1, 0x9e3779b9)) | 0;
}

/**
 * Case `index` of the run seeded with `seed`, for dtype `d`.
 *
 * @example
 * ```ts
 * import { DTYPES, fuzzCase } from '@softmax/conformance/helpers';
 *
 * const c = fuzzCase(0x5eed_2024, 3, DTYPES.float64);
 * console.log(c.method, c.rows, c.cols, c.temperature);
 * ```
 */
export function fuzzCase(seed: number, index: number, d: DtypeInfo): FuzzCase {
  const next = splitmix32(caseSeed(seed, index));
  const method = pick(next, ['softmax', 'logSoftmax', 'softmaxBackward', 'logSoftmaxBackward'] as const);
  const { rows, cols } = shapeOf(next);
  const temperature = temperatureOf(next);
  const backward = method === 'softmaxBackward' || method === 'logSoftmaxBackward';
  const A = d.ArrayType;
  const x = new A(rows * cols);
  const patterns: string[] = [];
  // The gradient oracles take finite inputs: no NaN rows, and fully masked rows give 0 (log: −Infinity).
  const logitPatterns = backward ? LOGIT_PATTERNS.filter((p) => p !== 'NaN payload') : LOGIT_PATTERNS;
  for (let r = 0; r < rows; r++) {
    const pattern = pick(next, logitPatterns);
    patterns.push(pattern);
    logitRow(next, d, pattern, x, r * cols, cols, temperature);
  }
  const fullyMasked: FullyMasked = backward || next() < 0.5 ? 'zero' : 'nan';
  if (!backward) return { seed, index, method, rows, cols, temperature, fullyMasked, patterns, inputs: [x] };
  const forward = method === 'softmaxBackward' ? oracleSoftmax : oracleLogSoftmax;
  const y = forward(x, { cols, temperature, fullyMasked });
  const dy = new A(rows * cols);
  for (let r = 0; r < rows; r++) {
    // Subnormal dy below T = 1 would be magnified past what float64 (or the oracle) can keep exact.
    const choices = temperature < 1 ? UPSTREAM_PATTERNS.filter((p) => p !== 'subnormal') : UPSTREAM_PATTERNS;
    const pattern = pick(next, choices);
    patterns[r] += ` / ${pattern}`;
    let keep = r * cols;
    for (let j = 1; j < cols; j++) if (y[r * cols + j] > y[keep]) keep = r * cols + j;
    upstreamRow(next, d, pattern, dy, r * cols, cols, keep - r * cols);
    fitUpstream(d, dy, r * cols, cols, temperature);
  }
  return { seed, index, method, rows, cols, temperature, patterns, inputs: [y, dy] };
}
