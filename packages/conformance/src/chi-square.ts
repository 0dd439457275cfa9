/**
 * The chi-square goodness-of-fit test, for the sampler's empirical distribution: the statistic
 * over bins of expected count ≥ 5 (smaller ones pooled), and its p-value from the regularised
 * upper incomplete gamma function Q(df/2, χ²/2) (series below a + 1, Lentz's continued fraction
 * above, both to about 1e-14).
 */

/** ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms: about 1e-15 relative). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = c[0];
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/**
 * Q(a, x) = Γ(a, x) / Γ(a), the regularised upper incomplete gamma function.
 *
 * @example
 * ```ts
 * import { gammaQ } from '@softmax/conformance/helpers';
 *
 * gammaQ(1, 2); // e^-2: the upper regularised incomplete gamma function
 * ```
 */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const front = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // P(a, x) by its series; Q = 1 − P.
    let term = 1 / a;
    let total = term;
    for (let n = 1; n < 10_000 && Math.abs(term) > Math.abs(total) * 1e-16; n++) {
      term *= x / (a + n);
      total += term;
    }
    return 1 - total * Math.exp(front);
  }
  // Q(a, x) by its continued fraction (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(front) * h;
}

/** Pearson's χ² test of observed counts against probabilities. */
export interface ChiSquare {
  /** The χ² statistic. */
  statistic: number;
  /** Degrees of freedom. */
  df: number;
  /** The p-value: Q(df/2, χ²/2). */
  p: number;
  /** Bins after pooling: [expected, observed]. */
  bins: Array<[number, number]>;
}

/**
 * Observed counts against expected probabilities (summing to 1) over n draws. Bins expected
 * below 5 are pooled, in order, until the pool reaches 5 (the last pool joins the previous bin).
 *
 * @example
 * ```ts
 * import { chiSquare } from '@softmax/conformance/helpers';
 *
 * const { statistic, df, p } = chiSquare([480, 520], [0.5, 0.5], 1000); // p ≈ 0.21: consistent
 * ```
 */
export function chiSquare(observed: ArrayLike<number>, probabilities: ArrayLike<number>, n: number): ChiSquare {
  const bins: Array<[number, number]> = [];
  let e = 0;
  let o = 0;
  for (let j = 0; j < probabilities.length; j++) {
    e += probabilities[j] * n;
    o += observed[j];
    if (e >= 5) {
      bins.push([e, o]);
      e = 0;
      o = 0;
    }
  }
  if (e > 0 || o > 0) {
    if (bins.length === 0) bins.push([e, o]);
    else {
      bins[bins.length - 1][0] += e;
      bins[bins.length - 1][1] += o;
    }
  }
  let statistic = 0;
  for (const [expected, seen] of bins) statistic += (seen - expected) ** 2 / expected;
  const df = bins.length - 1;
  return { statistic, df, p: df > 0 ? gammaQ(df / 2, statistic / 2) : 1, bins };
}
