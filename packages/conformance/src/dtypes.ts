import type { Dtype, FloatArray } from '@softmax/core';

/** What the suite needs to know about an element type. */
export interface DtypeInfo {
  /** 'float32' or 'float64'. */
  readonly name: Dtype;
  /** Its typed array constructor. */
  readonly ArrayType: Float32ArrayConstructor | Float64ArrayConstructor;
  /** Unit roundoff: the largest relative error of rounding to nearest (2^-24, 2^-53). */
  readonly unitRoundoff: number;
  /** Smallest positive normal number. */
  readonly minNormal: number;
  /** Smallest positive subnormal number. */
  readonly minSubnormal: number;
  /** Largest finite number. */
  readonly max: number;
}

/**
 * What the suite needs to know of each float type: its array, rounding, range and smallest normal.
 *
 * @example
 * ```ts
 * import { DTYPES } from '@softmax/conformance/helpers';
 *
 * const { ArrayType, minNormal } = DTYPES.float32; // Float32Array, 2^-126
 * ```
 */
export const DTYPES: Readonly<Record<Dtype, DtypeInfo>> = {
  float32: {
    name: 'float32',
    ArrayType: Float32Array,
    unitRoundoff: 2 ** -24,
    minNormal: 2 ** -126,
    minSubnormal: 2 ** -149,
    max: 3.4028234663852886e38,
  },
  float64: {
    name: 'float64',
    ArrayType: Float64Array,
    unitRoundoff: 2 ** -53,
    minNormal: 2 ** -1022,
    minSubnormal: 2 ** -1074,
    max: Number.MAX_VALUE,
  },
};

/**
 * Both float types.
 *
 * @example
 * ```ts
 * import { ALL_DTYPES } from '@softmax/conformance/helpers';
 *
 * for (const dtype of ALL_DTYPES) console.log(dtype); // 'float32', 'float64'
 * ```
 */
export const ALL_DTYPES: readonly Dtype[] = ['float32', 'float64'];

/**
 * The float type of a typed array.
 *
 * @example
 * ```ts
 * import { dtypeOf } from '@softmax/conformance/helpers';
 *
 * dtypeOf(new Float32Array(1)); // 'float32'
 * ```
 */
export function dtypeOf(array: FloatArray): Dtype {
  return array instanceof Float32Array ? 'float32' : 'float64';
}

/**
 * hi + lo (|lo| ≤ ulp(hi)/2, hi = fl(hi + lo)) rounded once to float32. Math.fround(hi) is
 * right unless hi sits exactly halfway between two float32 values r and r' = 2·hi − r (then
 * the sign of lo breaks the tie). 2·hi − r is exact (Sterbenz), and it is a float32 value
 * only when hi is such a midpoint: otherwise it lies strictly between r and r's neighbour.
 *
 * @example
 * ```ts
 * import { roundToFloat32 } from '@softmax/conformance/helpers';
 *
 * roundToFloat32(1 + 2 ** -24, 2 ** -80); // 1 + 2^-23: the tie broken by the low word
 * ```
 */
export function roundToFloat32(hi: number, lo: number): number {
  const r = Math.fround(hi);
  if (lo === 0 || r === hi || !Number.isFinite(r)) return r;
  const other = 2 * hi - r;
  if (Math.fround(other) !== other) return r;
  return lo > 0 === other > r ? other : r;
}

const orderView = new DataView(new ArrayBuffer(8));

/** Maps a float to an integer that increases with the float (−0 and +0 both map to 0). */
function orderedBits(value: number, dtype: Dtype): bigint {
  if (dtype === 'float32') {
    orderView.setFloat32(0, value);
    const bits = orderView.getInt32(0);
    return BigInt(bits < 0 ? -(bits & 0x7fffffff) : bits);
  }
  orderView.setFloat64(0, value);
  const bits = orderView.getBigInt64(0);
  return bits < 0n ? -(bits & 0x7fffffffffffffffn) : bits;
}

/**
 * How many representable `dtype` values lie between a and b (0 when equal, 1 for
 * neighbours; across zero counts the subnormals on both sides). NaN against NaN is 0,
 * NaN against a number is Infinity.
 *
 * @example
 * ```ts
 * import { ulpDistance } from '@softmax/conformance/helpers';
 *
 * ulpDistance(1, 1 + 2 ** -23, 'float32'); // 1
 * ```
 */
export function ulpDistance(a: number, b: number, dtype: Dtype = 'float64'): number {
  if (a !== a || b !== b) return a !== a && b !== b ? 0 : Number.POSITIVE_INFINITY;
  if (a === b) return 0;
  const d = orderedBits(a, dtype) - orderedBits(b, dtype);
  return Number(d < 0n ? -d : d);
}

/** %TypedArray%.prototype[Symbol.toStringTag]: the internal tag, undefined (never a throw) for non-typed-arrays. */
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag)
  ?.get as (this: unknown) => string | undefined;

/**
 * 'float32' / 'float64' for a Float32Array / Float64Array of any realm, undefined for anything else.
 *
 * @example
 * ```ts
 * import { floatTagOf } from '@softmax/conformance/helpers';
 *
 * floatTagOf(new Float64Array(1)); // 'float64'; floatTagOf(new Int32Array(1)) is undefined
 * ```
 */
export function floatTagOf(value: unknown): Dtype | undefined {
  const tag = typedArrayTag.call(value);
  return tag === 'Float32Array' ? 'float32' : tag === 'Float64Array' ? 'float64' : undefined;
}

/**
 * The values as a backend that flushes subnormal inputs sees them: every subnormal of `dtype`
 * replaced by a zero of its sign (ConformanceContract.subnormalInputs 'flush').
 *
 * @example
 * ```ts
 * import { flushSubnormals } from '@softmax/conformance/helpers';
 *
 * flushSubnormals([1e-40, 1], 'float32'); // [0, 1]
 * ```
 */
export function flushSubnormals(values: ArrayLike<number>, dtype: Dtype): number[] {
  const { minNormal } = DTYPES[dtype];
  return Array.from(values, (v) => (v !== 0 && Math.abs(v) < minNormal ? (v < 0 ? -0 : 0) : v));
}
