/**
 * Philox4x32-R and sample's u, written independently of `@softmax/core` with BigInt arithmetic
 * (the exact 64-bit products, no 16-bit halves), so the suite can hold a backend's draws to the
 * spec rather than to core's code. Checked against Random123's known answers in
 * test/sample-oracle.test.ts.
 */

const MASK = 0xffffffffn;
const M = [0xd2511f53n, 0xcd9e8d57n] as const;
const W = [0x9e3779b9n, 0xbb67ae85n] as const;

/**
 * The four output words of Philox4x32 with `rounds` rounds.
 *
 * @example
 * ```ts
 * import { philox4x32 } from '@softmax/core/backend';
 * import { oraclePhilox4x32 } from '@softmax/conformance/helpers';
 *
 * oraclePhilox4x32([0, 0, 0, 0], [0, 0]); // must equal Array.from(philox4x32([0, 0, 0, 0], [0, 0]))
 * ```
 */
export function oraclePhilox4x32(counter: readonly number[], key: readonly number[], rounds = 10): number[] {
  let c = counter.map((w) => BigInt(w >>> 0));
  let k = key.map((w) => BigInt(w >>> 0));
  for (let r = 0; r < rounds; r++) {
    if (r > 0) k = [(k[0] + W[0]) & MASK, (k[1] + W[1]) & MASK];
    const p0 = M[0] * c[0];
    const p1 = M[1] * c[2];
    c = [(p1 >> 32n) ^ c[1] ^ k[0], p1 & MASK, (p0 >> 32n) ^ c[3] ^ k[1], p0 & MASK];
  }
  return c.map(Number);
}

/**
 * sample's u for (seed, row, step): key (seed mod 2^32, ⌊seed / 2^32⌋), counter (row, step mod
 * 2^32, ⌊step / 2^32⌋, 0), u = (first word >> 8) / 2^24.
 *
 * @example
 * ```ts
 * import { sampleUniform } from '@softmax/core/backend';
 * import { oracleUniform } from '@softmax/conformance/helpers';
 *
 * oracleUniform(1234, 0, 7) === sampleUniform(1234, 0, 7); // true: BigInt arithmetic, written independently
 * ```
 */
export function oracleUniform(seed: number, row: number, step: number): number {
  const s = BigInt(seed);
  const t = BigInt(step);
  const key = [Number(s & MASK), Number(s >> 32n)];
  const counter = [row, Number(t & MASK), Number(t >> 32n), 0];
  return Number(BigInt(oraclePhilox4x32(counter, key)[0]) >> 8n) / 2 ** 24;
}
