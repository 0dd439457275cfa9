import type { Plan } from './plan.js';

/**
 * The host side of the uniform block (Params in common.wgsl): one per chunk of a plan, with the
 * temperature as the words temperature.wgsl needs for its class.
 */

/** What an op's kernels take from the call's options. */
export interface OpParams {
  temperature: number;
  /** fullyMasked: 'zero' (forward ops only). */
  maskedZero: boolean;
  /**
   * An op's own pipeline constants and uniform words beyond Params (crossEntropy's): `variant`
   * names the constants (pipeline cache), `key` the words too (uniform cache); the words follow
   * Params in the uniform block.
   */
  extra?: { variant: string; key: string; constants: Readonly<Record<string, number>>; words: ArrayBuffer };
}

export const PARAM_STRIDE = 256; // minUniformBufferOffsetAlignment is at most 256
export const PARAM_BYTES = 64; // Params in common.wgsl: 16 words (the last, `zero`, stays 0)

const f32 = Math.fround;

/** TEMP in common.wgsl and temperature.wgsl: 0 for T = 1, 1 for 2^-64 ≤ T ≤ 2^64, 2 above, 3 below. */
export function tempClass(temperature: number): 0 | 1 | 2 | 3 {
  if (temperature === 1) return 0;
  if (temperature > 2 ** 64) return 2;
  return temperature < 2 ** -64 ? 3 : 1;
}

/** v·2^e for any integer e, exact where the result is a normal double (2^e alone may overflow). */
function ldexp(v: number, e: number): number {
  while (e > 1000) {
    v *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    v *= 2 ** -1000;
    e += 1000;
  }
  return v * 2 ** e;
}

/** T = τ·2^p with τ in (1/2, 1], exactly, for any positive double T (subnormal ones too). */
export function splitTemperature(T: number): { tau: number; p: number } {
  let p = Math.ceil(Math.log2(T));
  let tau = ldexp(T, -p);
  // log2 rounds near powers of two: step to the exact exponent.
  while (tau > 1) {
    p += 1;
    tau = ldexp(T, -p);
  }
  while (tau <= 0.5) {
    p -= 1;
    tau = ldexp(T, -p);
  }
  return { tau, p };
}

/** 2^e as `n` float32 powers of two that all scale the same way (e clamped to ±n·126). */
export function scaleFactors(e: number, n = 3): number[] {
  const parts: number[] = [];
  let rest = Math.max(-126 * n, Math.min(126 * n, e));
  for (let i = 0; i < n; i++) {
    const part = Math.max(-126, Math.min(126, rest));
    parts.push(2 ** part);
    rest -= part;
  }
  return parts;
}

/**
 * The temperature words of Params: τ, ln 2·τ as hi + lo, 1/τ and the scale factors (see
 * temperature.wgsl). In classes 0–1 τ is T itself; in classes 2–3 T = τ·2^p. Everything is
 * derived from the float64 T: rounding T to float32 first would cost |t|·2^-25, and overflow or
 * flush to zero past float32's range.
 */
export function temperatureWords(temperature: number): number[] {
  const cls = tempClass(temperature);
  const { tau, p } = cls >= 2 ? splitTemperature(temperature) : { tau: temperature, p: 0 };
  // ln 2 · τ as hi + lo, hi rounded to 15 significant bits so that k · hi is exact in float32 for |k| ≤ 160.
  const c = Math.LN2 * tau;
  const step = 2 ** (Math.floor(Math.log2(c)) - 14);
  const hi = Math.round(c / step) * step;
  const lo = f32(c - hi);
  // Class 3 scales by 2^64 before these factors (an exact step of its own: see diff_t).
  const scale = cls === 2 ? scaleFactors(-p) : cls === 3 ? scaleFactors(-p - 64) : [1, 1, 1];
  return [f32(tau), hi, lo, f32(1 / tau), ...scale];
}

/** The uniform block of one chunk (see Params in common.wgsl), then the op's own words, if any. */
export function paramWords(plan: Plan, chunkIndex: number, p: OpParams): ArrayBuffer {
  const chunk = plan.chunks[chunkIndex];
  const data = new ArrayBuffer(PARAM_BYTES + (p.extra?.words.byteLength ?? 0));
  if (p.extra) new Uint8Array(data, PARAM_BYTES).set(new Uint8Array(p.extra.words));
  new Uint32Array(data, 0, 8).set([
    chunk.rows,
    plan.colsV,
    plan.segLenV,
    plan.segs,
    chunk.baseV,
    chunk.rowsBase,
    chunk.gridX,
    p.maskedZero ? 1 : 0,
  ]);
  new Float32Array(data, 32, 7).set(temperatureWords(p.temperature));
  return data; // the last word, `zero`, stays 0
}
