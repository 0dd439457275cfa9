/** Summary of samples (each sample: nanoseconds per call). */
export interface Stats {
  n: number;
  median: number;
  min: number;
  max: number;
  p25: number;
  p75: number;
  /** Median absolute deviation from the median. */
  mad: number;
  mean: number;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function summarize(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const deviations = sorted.map((s) => Math.abs(s - median)).sort((a, b) => a - b);
  return {
    n: sorted.length,
    median,
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
    p25: quantile(sorted, 0.25),
    p75: quantile(sorted, 0.75),
    mad: quantile(deviations, 0.5),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
  };
}

/** Half the interquartile range: the "±" printed next to a median. */
export const spread = (s: Stats): number => (s.p75 - s.p25) / 2;
