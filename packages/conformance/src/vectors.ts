import type { FullyMasked, SoftmaxErrorCode } from '@softmax/core';
import type { DtypeInfo } from './dtypes.js';

/**
 * Test vectors as data. Inputs that depend on the dtype (subnormals, the largest finite
 * value) are functions of its DtypeInfo; everything else is plain numbers, converted to the
 * dtype under test before the call (the oracle then sees exactly what the backend sees).
 */

/**
 * The worked example, with its independently computed figures (float64 printouts).
 *
 * @example
 * ```ts
 * import { softmax } from '@softmax/core';
 * import { WORKED_EXAMPLE } from '@softmax/conformance/helpers';
 *
 * softmax(WORKED_EXAMPLE.x); // ≈ WORKED_EXAMPLE.softmax
 * ```
 */
export const WORKED_EXAMPLE = {
  x: [2, 1, 0.1],
  softmax: [0.6590011388859679, 0.2424329707047139, 0.09856589040931818],
} as const;

/**
 * A small seeded generator (mulberry32), so the vectors are the same on every run.
 *
 * @example
 * ```ts
 * import { seededRandom } from '@softmax/conformance/helpers';
 *
 * const next = seededRandom(42);
 * const x = Float32Array.from({ length: 1000 }, () => next() * 20 - 10); // the same on every run
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * n values from U(lo, hi) with a fixed seed.
 *
 * @example
 * ```ts
 * import { uniform } from '@softmax/conformance/helpers';
 *
 * const logits = new Float32Array(uniform(4 * 1000, -10, 10, 7)); // 4 rows of U(-10, 10)
 * ```
 */
export function uniform(n: number, lo: number, hi: number, seed: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** A forward case checked against the oracle. */
export interface ForwardVector {
  /** A readable name, printed by the suite. */
  name: string;
  /** The logits, for a dtype (some depend on its range). */
  x: (d: DtypeInfo) => number[];
  /** Row length; default: one row. */
  cols?: number;
  /** T; default 1. */
  temperature?: number;
  /** What a row of only −Infinity gives; default 'nan'. */
  fullyMasked?: FullyMasked;
}

const ln = Math.log;
const THIRD_PI = Math.PI / 3;

/**
 * Vectors checked against the oracle, for softmax and for log-softmax.
 *
 * @example
 * ```ts
 * import { DTYPES, FORWARD_VECTORS, oracleSoftmax } from '@softmax/conformance/helpers';
 *
 * for (const v of FORWARD_VECTORS) {
 *   const x = v.x(DTYPES.float32);
 *   const expected = oracleSoftmax(x, { cols: v.cols, temperature: v.temperature, dtype: 'float32' });
 * }
 * ```
 */
export const FORWARD_VECTORS: readonly ForwardVector[] = [
  { name: 'the worked example [2, 1, 0.1]', x: () => [2, 1, 0.1] },
  // A naive exp(x) overflows float32 from 88.7 on; the max must be subtracted first.
  { name: 'rows from U(90, 100), 64 × 1000', x: () => uniform(64_000, 90, 100, 1), cols: 1000 },
  { name: 'rows from U(-100, -90), 16 × 300', x: () => uniform(4800, -100, -90, 2), cols: 300 },
  {
    name: 'magnitudes ±1e30',
    x: () => [1e30, -1e30, 0, 5e29, -1e30, -1e30, -9.99e29, -1e30, 1e30, 1e30, 1, -1e30],
    cols: 4,
  },
  {
    name: 'magnitudes ±3.4e38 (float32 limit)',
    x: () => [3.4e38, -3.4e38, 0, 1, 3.4e38, 3.4e38, -3.4e38, 0, -3.4e38, -3.4e38, -1.7e38, -3.4e38],
    cols: 4,
  },
  { name: 'magnitudes ±3.4e38, temperature 0.5', x: () => [3.4e38, -3.4e38, 1e38, 3.4e38], temperature: 0.5 },
  { name: 'magnitudes ±1e38, temperature 1e37', x: () => [1e38, -1e38, 5e37, 9.9e37], temperature: 1e37 },
  {
    name: 'the largest finite values',
    x: (d) => [d.max, -d.max, d.max, 0, -d.max, -d.max, -d.max, d.max / 2],
    cols: 4,
  },
  // x − max overflows the dtype, but the true z = (x − max)/T is finite: log-softmax must stay finite.
  {
    name: 'largest finite values, temperature 10',
    x: (d) => [d.max, -d.max, d.max / 2, -d.max / 2],
    temperature: 10,
  },
  {
    name: 'subnormal inputs',
    x: (d) => [d.minSubnormal, 0, -d.minSubnormal, 3 * d.minSubnormal, d.minNormal / 2, -d.minNormal / 4, 0, 0],
    cols: 4,
  },
  {
    // exp(z) lands in the subnormal range or just below it: |y − ref| ≤ atol applies there.
    name: 'subnormal and underflowing results',
    x: (d) => [0, ln(d.minNormal) - 5, ln(d.minSubnormal) + 1, ln(d.minSubnormal) - 0.5, ln(d.minNormal) + 2, -1e4],
  },
  { name: 'log-softmax entries close to 0', x: () => [0, -40, 0, -20, 0, -17.5, -60, 0, 1, -25, -30, -35], cols: 3 },
  { name: 'ties', x: () => [3, 3, 3, 3, 1, 1, 0, 1, -2, 7, 7, -2], cols: 4 },
  { name: 'a single column', x: () => [1, -5, 1e30, 0, -3.4e38], cols: 1 },
  { name: '-Infinity entries (masked)', x: () => [-Infinity, 0, 1, -Infinity, 2, -Infinity, 0.5, -1], cols: 4 },
  { name: '-Infinity entries with temperature 3', x: () => [-Infinity, 0, 1, -Infinity], temperature: 3 },
  { name: 'temperature 0.25', x: () => uniform(170, -4, 4, 3), cols: 17, temperature: 0.25 },
  { name: 'temperature 2', x: () => uniform(170, -20, 20, 4), cols: 17, temperature: 2 },
  { name: 'temperature 100', x: () => uniform(170, -300, 300, 5), cols: 17, temperature: 100 },
  { name: 'temperature 0.01', x: () => uniform(170, 0, 0.3, 6), cols: 17, temperature: 0.01 },
  { name: 'temperature 1e-30', x: () => [1e-30, 0, -2e-30, 3e-30], temperature: 1e-30 },
  // exp turns an absolute error δ in z = (x − max)/T into a relative error δ, and float64's exp(z)
  // stays normal down to z ≈ −708: x − max and the division must not be rounded plainly there.
  // `uniform` values lie on a coarse grid (their differences are exact), so these are multiplied
  // by π/3, which fills their mantissas. (float32 rows: integers, whose differences are exact, or
  // |z| < 4, so a float32 kernel's own ε·|z| stays within its bound.)
  { name: 'x − max ≈ −671 (a result near 1e-292)', x: () => [4.459351023873012, -666.5012658697093] },
  {
    name: 'rows from U(-740, 0): |z| up to 740',
    x: (d) => uniform(600, -706, 0, 7).map((v) => (d.name === 'float32' ? Math.round(v) : v * THIRD_PI)),
    cols: 60,
  },
  {
    name: 'rows from U(-2000, 0), temperature 2.7',
    x: (d) => uniform(600, d.name === 'float32' ? -10 : -1910, 0, 8).map((v) => v * THIRD_PI),
    cols: 60,
    temperature: 2.7,
  },
];

/** A special-value case, with its expected softmax and log-softmax written by hand. */
export interface SpecialVector {
  /** A readable name, printed by the suite. */
  name: string;
  /** The logits, for a dtype (some depend on its range). */
  x: (d: DtypeInfo) => number[];
  /** Row length; default: one row. */
  cols?: number;
  /** T; default 1. */
  temperature?: number;
  /** What a row of only −Infinity gives; default 'nan'. */
  fullyMasked?: FullyMasked;
  /** Written by hand from the rules: NaN, ±Infinity and 0 must match exactly, other values within rtol. */
  softmax: number[];
  /** The same for log-softmax. */
  logSoftmax: number[];
}

const NaN3 = [Number.NaN, Number.NaN, Number.NaN];
const inf = Number.POSITIVE_INFINITY;

/**
 * The special-value rules, one row each, with hand-written expectations (independent of the oracle).
 *
 * @example
 * ```ts
 * import { softmax } from '@softmax/core';
 * import { DTYPES, SPECIAL_VECTORS } from '@softmax/conformance/helpers';
 *
 * for (const v of SPECIAL_VECTORS) {
 *   const y = softmax(new Float32Array(v.x(DTYPES.float32)), { cols: v.cols, fullyMasked: v.fullyMasked });
 *   // NaN, ±Infinity and 0 in v.softmax must match y exactly
 * }
 * ```
 */
export const SPECIAL_VECTORS: readonly SpecialVector[] = [
  { name: 'NaN makes the row NaN', x: () => [Number.NaN, 1, 2], softmax: NaN3, logSoftmax: NaN3 },
  { name: 'NaN beats +Infinity', x: () => [1, Number.NaN, inf], softmax: NaN3, logSoftmax: NaN3 },
  { name: 'NaN beats -Infinity', x: () => [-inf, Number.NaN, -inf], softmax: NaN3, logSoftmax: NaN3 },
  { name: 'one +Infinity takes everything', x: () => [inf, 1, -inf], softmax: [1, 0, 0], logSoftmax: [0, -inf, -inf] },
  {
    name: 'two +Infinity share 1/2',
    x: (d) => [inf, 1, inf, -inf, d.max],
    softmax: [0.5, 0, 0.5, 0, 0],
    logSoftmax: [-ln(2), -inf, -ln(2), -inf, -inf],
  },
  {
    name: '3 +Infinity share 1/3, temperature 0.5',
    x: () => [inf, inf, 0, inf, 1e30],
    temperature: 0.5,
    softmax: [1 / 3, 1 / 3, 0, 1 / 3, 0],
    logSoftmax: [-ln(3), -ln(3), -inf, -ln(3), -inf],
  },
  {
    name: '-Infinity → exactly 0 (log: -Infinity)',
    x: () => [-inf, 0, -inf, 0],
    softmax: [0, 0.5, 0, 0.5],
    logSoftmax: [-inf, -ln(2), -inf, -ln(2)],
  },
  { name: 'fully masked row, default', x: () => [-inf, -inf, -inf], softmax: NaN3, logSoftmax: NaN3 },
  {
    name: "fully masked row, fullyMasked 'nan'",
    x: () => [-inf, -inf, -inf],
    fullyMasked: 'nan',
    softmax: NaN3,
    logSoftmax: NaN3,
  },
  {
    name: "fully masked row, fullyMasked 'zero'",
    x: () => [-inf, -inf, -inf],
    fullyMasked: 'zero',
    softmax: [0, 0, 0],
    logSoftmax: [-inf, -inf, -inf],
  },
  { name: 'a single -Infinity', x: () => [-inf], softmax: [Number.NaN], logSoftmax: [Number.NaN] },
  { name: 'a single +Infinity', x: () => [inf], softmax: [1], logSoftmax: [0] },
  { name: 'a single finite value', x: (d) => [-d.max], softmax: [1], logSoftmax: [0] },
  {
    name: 'equal entries',
    x: () => [7.25, 7.25, 7.25, 7.25],
    softmax: [0.25, 0.25, 0.25, 0.25],
    logSoftmax: Array(4).fill(-ln(4)),
  },
  {
    name: 'each row follows its own rule',
    x: () => [Number.NaN, 0, 0, 5, 5, 5, inf, 0, 0, -inf, -inf, -inf, 0, -inf, 0],
    cols: 3,
    fullyMasked: 'zero',
    softmax: [...NaN3, 1 / 3, 1 / 3, 1 / 3, 1, 0, 0, 0, 0, 0, 0.5, 0, 0.5],
    logSoftmax: [...NaN3, -ln(3), -ln(3), -ln(3), 0, -inf, -inf, -inf, -inf, -inf, -ln(2), -inf, -ln(2)],
  },
  { name: 'empty input', x: () => [], softmax: [], logSoftmax: [] },
  { name: 'empty input with cols', x: () => [], cols: 4, softmax: [], logSoftmax: [] },
];

/** A batch shape the suite checks. */
export interface Shape {
  /** Rows. */
  rows: number;
  /** Row length. */
  cols: number;
  /** The shape used with scale 'small' (slow devices); the same when absent. */
  small?: { rows: number; cols: number };
}

/**
 * Batches checked against the oracle (values from U(-10, 10)), with row sums.
 *
 * @example
 * ```ts
 * import { SHAPES, uniform } from '@softmax/conformance/helpers';
 *
 * for (const { rows, cols } of SHAPES) myBackend.softmax(new Float32Array(uniform(rows * cols, -10, 10, 1)), { cols });
 * ```
 */
export const SHAPES: readonly Shape[] = [
  { rows: 1, cols: 1_000_000, small: { rows: 1, cols: 65_537 } },
  { rows: 4096, cols: 128, small: { rows: 256, cols: 128 } },
  { rows: 2, cols: 65_537, small: { rows: 2, cols: 4099 } },
  { rows: 1000, cols: 1 },
  { rows: 3, cols: 333 },
  { rows: 17, cols: 1024 },
  { rows: 1, cols: 1 },
];

/**
 * Row lengths 1..130: for each, every position of the maximum (see the suite for the two row families).
 *
 * @example
 * ```ts
 * import { ROW_LENGTHS } from '@softmax/conformance/helpers';
 *
 * for (const cols of ROW_LENGTHS) {
 *   for (let at = 0; at < cols; at++) console.log(`a row of ${cols} with its maximum at ${at}`);
 * }
 * ```
 */
export const ROW_LENGTHS: readonly number[] = Array.from({ length: 130 }, (_, i) => i + 1);

/** One bad call: what is passed, which code it must fail with, what the message must name. */
export interface BadInput {
  /** A readable name, printed by the suite. */
  name: string;
  /** Which ops it is passed to. */
  kind: 'forward' | 'backward';
  /** Builds the arguments from a constructor of the backend's first listed dtype. */
  args: (A: Float32ArrayConstructor | Float64ArrayConstructor) => unknown[];
  /** The SoftmaxError code it must fail with. */
  code: SoftmaxErrorCode;
  /** Substrings the message must contain (the argument and the offending value). */
  message: string[];
}

/**
 * Bad calls every backend must refuse with the same code, the message naming the argument and the value.
 *
 * @example
 * ```ts
 * import { BAD_INPUTS } from '@softmax/conformance/helpers';
 *
 * for (const bad of BAD_INPUTS.filter((b) => b.kind === 'forward')) {
 *   try {
 *     myBackend.softmax(...(bad.args(Float32Array) as [Float32Array]));
 *   } catch (error) {
 *     console.assert((error as { code: string }).code === bad.code, bad.name);
 *   }
 * }
 * ```
 */
export const BAD_INPUTS: readonly BadInput[] = [
  { name: 'x is a string', kind: 'forward', args: () => ['abc'], code: 'INVALID_INPUT', message: ['x', '"abc"'] },
  { name: 'x is null', kind: 'forward', args: () => [null], code: 'INVALID_INPUT', message: ['x', 'null'] },
  {
    name: 'x is undefined',
    kind: 'forward',
    args: () => [undefined],
    code: 'INVALID_INPUT',
    message: ['x', 'undefined'],
  },
  {
    name: 'x is an object',
    kind: 'forward',
    args: () => [{ length: 3 }],
    code: 'INVALID_INPUT',
    message: ['x', 'Object'],
  },
  {
    name: 'x holds a string',
    kind: 'forward',
    args: () => [[1, '2', 3]],
    code: 'INVALID_INPUT',
    message: ['x[1]', '"2"'],
  },
  {
    name: 'x is an Int32Array',
    kind: 'forward',
    args: () => [new Int32Array(3)],
    code: 'UNSUPPORTED_DTYPE',
    message: ['x', 'Int32Array'],
  },
  {
    name: 'x is a Uint8Array',
    kind: 'forward',
    args: () => [new Uint8Array(3)],
    code: 'UNSUPPORTED_DTYPE',
    message: ['x', 'Uint8Array'],
  },
  {
    name: 'cols 0',
    kind: 'forward',
    args: (A) => [new A(4), { cols: 0 }],
    code: 'INVALID_SHAPE',
    message: ['options.cols', '0'],
  },
  {
    name: 'cols -2',
    kind: 'forward',
    args: (A) => [new A(4), { cols: -2 }],
    code: 'INVALID_SHAPE',
    message: ['options.cols', '-2'],
  },
  {
    name: 'cols 2.5',
    kind: 'forward',
    args: (A) => [new A(5), { cols: 2.5 }],
    code: 'INVALID_SHAPE',
    message: ['options.cols', '2.5'],
  },
  {
    name: "cols '2'",
    kind: 'forward',
    args: (A) => [new A(4), { cols: '2' }],
    code: 'INVALID_SHAPE',
    message: ['options.cols', '"2"'],
  },
  {
    name: 'cols NaN',
    kind: 'forward',
    args: (A) => [new A(4), { cols: Number.NaN }],
    code: 'INVALID_SHAPE',
    message: ['options.cols', 'NaN'],
  },
  {
    name: 'length not a multiple of cols',
    kind: 'forward',
    args: (A) => [new A(5), { cols: 2 }],
    code: 'INVALID_SHAPE',
    message: ['x.length', '5', '2'],
  },
  {
    name: 'temperature 0',
    kind: 'forward',
    args: (A) => [new A(3), { temperature: 0 }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', '0'],
  },
  {
    name: 'temperature -1',
    kind: 'forward',
    args: (A) => [new A(3), { temperature: -1 }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', '-1'],
  },
  {
    name: 'temperature NaN',
    kind: 'forward',
    args: (A) => [new A(3), { temperature: Number.NaN }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', 'NaN'],
  },
  {
    name: 'temperature Infinity',
    kind: 'forward',
    args: (A) => [new A(3), { temperature: inf }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', 'Infinity'],
  },
  {
    name: "temperature '1'",
    kind: 'forward',
    args: (A) => [new A(3), { temperature: '1' }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', '"1"'],
  },
  {
    name: "fullyMasked 'yes'",
    kind: 'forward',
    args: (A) => [new A(3), { fullyMasked: 'yes' }],
    code: 'INVALID_OPTION',
    message: ['options.fullyMasked', '"yes"'],
  },
  {
    name: 'an unknown option',
    kind: 'forward',
    args: (A) => [new A(3), { axis: 1 }],
    code: 'INVALID_OPTION',
    message: ['options.axis'],
  },
  {
    name: 'options is a number',
    kind: 'forward',
    args: (A) => [new A(3), 5],
    code: 'INVALID_OPTION',
    message: ['options', '5'],
  },
  {
    name: 'out of the wrong type',
    kind: 'forward',
    args: (A) => [new A(3), { out: A === Float32Array ? new Float64Array(3) : new Float32Array(3) }],
    code: 'INVALID_OPTION',
    message: ['options.out'],
  },
  {
    name: 'out of the wrong length',
    kind: 'forward',
    args: (A) => [new A(3), { out: new A(4) }],
    code: 'INVALID_OPTION',
    message: ['options.out', '4'],
  },
  {
    name: 'out partially overlapping x',
    kind: 'forward',
    args: (A) => {
      const buffer = new A(5);
      return [buffer.subarray(0, 4), { out: buffer.subarray(1, 5) }];
    },
    code: 'INVALID_OPTION',
    message: ['options.out', 'overlaps', 'x'],
  },
  {
    name: 'dy is a string',
    kind: 'backward',
    args: (A) => [new A(3), 'abc'],
    code: 'INVALID_INPUT',
    message: ['dy', '"abc"'],
  },
  { name: 'y is null', kind: 'backward', args: (A) => [null, new A(3)], code: 'INVALID_INPUT', message: ['y', 'null'] },
  {
    name: 'y is an Int16Array',
    kind: 'backward',
    args: (A) => [new Int16Array(3), new A(3)],
    code: 'UNSUPPORTED_DTYPE',
    message: ['y', 'Int16Array'],
  },
  {
    name: 'y and dy of different types',
    kind: 'backward',
    args: (A) => [new A(3), A === Float32Array ? new Float64Array(3) : new Float32Array(3)],
    code: 'UNSUPPORTED_DTYPE',
    message: ['y', 'dy'],
  },
  {
    name: 'y and dy of different lengths',
    kind: 'backward',
    args: (A) => [new A(3), new A(4)],
    code: 'INVALID_SHAPE',
    message: ['dy', '3', '4'],
  },
  {
    name: 'backward cols 4 of length 6',
    kind: 'backward',
    args: (A) => [new A(6), new A(6), { cols: 4 }],
    code: 'INVALID_SHAPE',
    message: ['y.length', '6', '4'],
  },
  {
    name: 'backward temperature -0.5',
    kind: 'backward',
    args: (A) => [new A(3), new A(3), { temperature: -0.5 }],
    code: 'INVALID_OPTION',
    message: ['options.temperature', '-0.5'],
  },
  {
    name: 'fullyMasked is not a backward option',
    kind: 'backward',
    args: (A) => [new A(3), new A(3), { fullyMasked: 'zero' }],
    code: 'INVALID_OPTION',
    message: ['options.fullyMasked'],
  },
  {
    name: 'out partially overlapping dy',
    kind: 'backward',
    args: (A) => {
      const buffer = new A(5);
      return [new A(4), buffer.subarray(0, 4), { out: buffer.subarray(1, 5) }];
    },
    code: 'INVALID_OPTION',
    message: ['options.out', 'overlaps', 'dy'],
  },
];

/** A gradient case: logits, upstream gradient and shape, checked against the oracle. */
export interface BackwardCase {
  /** A readable name, printed by the suite. */
  name: string;
  /** Rows. */
  rows: number;
  /** Row length. */
  cols: number;
  /** The shape used with scale 'small'; the same when absent. */
  small?: { rows: number; cols: number };
  /** T; default 1. */
  temperature?: number;
  /** Logits from U(-spread, spread); y is the oracle's forward result of them. */
  spread: number;
  /** 'uniform': dy from U(-1, 1); 'ones': dy = 1, where Σ dy·y ≈ 1 cancels dy_j exactly in the limit. */
  dy: 'uniform' | 'ones';
  /** Every third logit is −Infinity (masked): y = 0 (log: −Infinity) there. */
  masked?: boolean;
}

/**
 * The gradient cases of the suite (both gradients, every dtype).
 *
 * @example
 * ```ts
 * import { BACKWARD_CASES } from '@softmax/conformance/helpers';
 *
 * for (const c of BACKWARD_CASES) console.log(c.name, `${c.rows}×${c.cols}`, c.dy);
 * ```
 */
export const BACKWARD_CASES: readonly BackwardCase[] = [
  { name: '4 × 10', rows: 4, cols: 10, spread: 3, dy: 'uniform' },
  { name: '3 × 333, temperature 0.5', rows: 3, cols: 333, spread: 2, temperature: 0.5, dy: 'uniform' },
  { name: '64 × 257, temperature 2', rows: 64, cols: 257, spread: 20, temperature: 2, dy: 'uniform' },
  { name: 'dy all ones (the sum cancels)', rows: 8, cols: 50, spread: 5, dy: 'ones' },
  { name: 'masked logits', rows: 4, cols: 16, spread: 5, dy: 'uniform', masked: true },
  { name: '1 × 1,000,000', rows: 1, cols: 1_000_000, small: { rows: 1, cols: 65_537 }, spread: 10, dy: 'uniform' },
  { name: '4096 × 128', rows: 4096, cols: 128, small: { rows: 256, cols: 128 }, spread: 10, dy: 'uniform' },
];
