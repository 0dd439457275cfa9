/**
 * A slow, exact-enough reference in BigInt fixed point (P = 1400 fractional bits) used only to
 * test the double-double oracle: softmax and log-softmax of a few small rows, converted to
 * float64 with one correct rounding. Nothing here shares code with the oracle.
 */
const P = 1400n;
const ONE = 1n << P;

function abs(v: bigint): bigint {
  return v < 0n ? -v : v;
}

function bitLength(v: bigint): number {
  return abs(v).toString(2).length;
}

/** The exact value of a float64 as fixed point (x · 2^P, which is an integer for |x| ≥ 2^-1074 when P ≥ 1074). */
export function toFixed(x: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exponent = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n);
  const shift = BigInt((exponent === 0 ? 1 : exponent) - 1075) + P;
  const value = shift >= 0n ? mantissa << shift : mantissa >> -shift;
  return negative ? -value : value;
}

/** Fixed point to the nearest float64 (one rounding: 61 leading bits plus a sticky bit). */
export function fromFixed(v: bigint): number {
  if (v === 0n) return 0;
  const negative = v < 0n;
  const a = abs(v);
  const b = bitLength(a);
  const drop = b - 61;
  let top = drop > 0 ? a >> BigInt(drop) : a << BigInt(-drop);
  if (drop > 0 && top << BigInt(drop) !== a) top |= 1n;
  const e = drop - Number(P);
  // Scale in two steps so that a normal result never passes through an underflowed 2^e.
  const value = e < -1000 ? Number(top) * 2 ** (e + 200) * 2 ** -200 : Number(top) * 2 ** e;
  return negative ? -value : value;
}

/** ln 2 = 2·atanh(1/3) = 2 Σ 1 / ((2k+1) 3^(2k+1)). */
const LN2: bigint = (() => {
  let sum = 0n;
  let power = ONE / 3n;
  for (let k = 1n; power > 0n; k += 2n) {
    sum += power / k;
    power /= 9n;
  }
  return 2n * sum;
})();

/** exp(v / 2^P) · 2^P. */
export function expFixed(v: bigint): bigint {
  const k = (v + LN2 / 2n) / LN2 - (v + LN2 / 2n < 0n && (v + LN2 / 2n) % LN2 !== 0n ? 1n : 0n);
  const r = v - k * LN2;
  let term = ONE;
  let sum = ONE;
  for (let n = 1n; abs(term) > 0n; n++) {
    term = (term * r) / ONE / n;
    sum += term;
  }
  return k >= 0n ? sum << k : sum >> -k;
}

/** log(v / 2^P) · 2^P for v > 0: v = 2^m · s with s in [1, 2), log s = 2 atanh((s−1)/(s+1)). */
export function logFixed(v: bigint): bigint {
  const m = BigInt(bitLength(v)) - 1n - P;
  const s = m >= 0n ? v >> m : v << -m;
  const t = ((s - ONE) * ONE) / (s + ONE);
  const t2 = (t * t) / ONE;
  let power = t;
  let sum = 0n;
  for (let k = 1n; power > 0n; k += 2n) {
    sum += power / k;
    power = (power * t2) / ONE;
  }
  return m * LN2 + 2n * sum;
}

/** Softmax, log-softmax and log-sum-exp of one finite row, each value rounded once to float64. */
export function exactRow(
  x: readonly number[],
  temperature = 1,
): { softmax: number[]; logSoftmax: number[]; logSumExp: number } {
  const max = Math.max(...x);
  const tFixed = toFixed(temperature);
  const z = x.map((v) => ((toFixed(v) - toFixed(max)) * ONE) / tFixed);
  const e = z.map(expFixed);
  const sum = e.reduce((a, b) => a + b, 0n);
  const logSum = logFixed(sum);
  return {
    softmax: e.map((v) => fromFixed((v * ONE) / sum)),
    logSoftmax: z.map((v) => fromFixed(v - logSum)),
    logSumExp: fromFixed((toFixed(max) * ONE) / tFixed + logSum),
  };
}
