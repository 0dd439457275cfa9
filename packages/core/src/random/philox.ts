/**
 * Philox4x32-R (Salmon, Moraes, Dror, Shaw: "Parallel Random Numbers: As Easy as 1, 2, 3", SC'11),
 * the counter-based generator cuRAND, JAX and PyTorch use, written with 32-bit integer operations
 * only, as a WGSL kernel must (WGSL has no 64-bit integers): every backend can reproduce each word
 * bit for bit. `sample` draws its u from it (see `sampleUniform` and the core README).
 */

/** The round multipliers and the Weyl key increments of Philox4x32. */
const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/**
 * The high 32 bits of the 64-bit product of two 32-bit words, from 16-bit halves: every partial
 * product is below 2^32 and every sum below 2^33 here (exact in a double) and below 2^32 where a
 * u32 kernel needs it, since the carry word t < 3·2^16 and the true high word < 2^32.
 *
 * @example
 * ```ts
 * import { mulhi32 } from '@softmax/core/backend';
 *
 * mulhi32(0xffffffff, 0xffffffff); // 0xfffffffe: the high word of (2^32 − 1)²
 * ```
 */
export function mulhi32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = a0 * b0;
  const m1 = a1 * b0;
  const m2 = a0 * b1;
  const t = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + (t >>> 16)) >>> 0;
}

/**
 * Philox4x32 with `rounds` rounds (10 is Philox4x32-10, the standard): the four output words for
 * a counter of four 32-bit words and a key of two. Each round maps (c0, c1, c2, c3) to
 * (hi(M1·c2) ⊕ c1 ⊕ k0, lo(M1·c2), hi(M0·c0) ⊕ c3 ⊕ k1, lo(M0·c0)); the key gains (W0, W1)
 * (mod 2^32) between rounds.
 *
 * @example
 * ```ts
 * import { philox4x32 } from '@softmax/core/backend';
 *
 * const [x0, x1, x2, x3] = philox4x32([0, 0, 0, 0], [0, 0]); // Philox4x32-10 of counter 0, key 0
 * ```
 */
export function philox4x32(
  counter: ArrayLike<number>,
  key: ArrayLike<number>,
  rounds = 10,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array {
  let c0 = counter[0] >>> 0;
  let c1 = counter[1] >>> 0;
  let c2 = counter[2] >>> 0;
  let c3 = counter[3] >>> 0;
  let k0 = key[0] >>> 0;
  let k1 = key[1] >>> 0;
  for (let r = 0; r < rounds; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

const TWO_32 = 2 ** 32;

/**
 * `sample`'s key: a seed in [0, 2^53) as (its low 32 bits, its high 21 bits).
 *
 * @example
 * ```ts
 * import { sampleKey } from '@softmax/core/backend';
 *
 * sampleKey(2 ** 32 + 5); // [5, 1]
 * ```
 */
export function sampleKey(seed: number): [number, number] {
  return [(seed % TWO_32) >>> 0, Math.floor(seed / TWO_32) >>> 0];
}

/**
 * `sample`'s counter for a row and a step in [0, 2^53): (row, step's low 32 bits, step's high 21
 * bits, 0). Word 3 is 0 for sample; other uses of the generator take other values there, so
 * their streams never meet sample's.
 *
 * @example
 * ```ts
 * import { sampleCounter } from '@softmax/core/backend';
 *
 * sampleCounter(3, 7); // [3, 7, 0, 0]: row 3, step 7
 * ```
 */
export function sampleCounter(row: number, step: number): [number, number, number, number] {
  return [row >>> 0, (step % TWO_32) >>> 0, Math.floor(step / TWO_32) >>> 0, 0];
}

/**
 * u ∈ [0, 1) for (seed, row, step): the top 24 bits of Philox4x32-10's first output word times
 * 2^-24. That is k·2^-24 with k < 2^24, exactly a float32 (and a float64), so a WGSL kernel
 * (`f32(x0 >> 8u) * 0x1p-24f`) and a float64 one hold the very same u. Finer than 2^-24 would be
 * lost in a float32 kernel's u × total anyway; the cost is that each id's chance of being drawn
 * differs from its probability by less than 2^-24.
 *
 * @example
 * ```ts
 * import { sampleUniform } from '@softmax/core/backend';
 *
 * const u = sampleUniform(1234, 0, 0); // the u that sample({ seed: 1234, step: 0 }) draws row 0 with, in [0, 1)
 * ```
 */
export function sampleUniform(seed: number, row: number, step: number): number {
  const word = philox4x32(sampleCounter(row, step), sampleKey(seed))[0];
  return (word >>> 8) * 2 ** -24;
}
