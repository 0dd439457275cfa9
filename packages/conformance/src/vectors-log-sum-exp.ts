/**
 * logSumExp's special values, one row each, written by hand from its rules: log of the row's sum
 * of exp(x / T). NaN anywhere → NaN; any +Infinity → +Infinity; only −Infinity → −Infinity (the
 * log of an empty sum); −Infinity entries add nothing. Non-finite values must match exactly,
 * the others within the backend's bound (they are float64 values within 1 ulp of the truth).
 */
const inf = Number.POSITIVE_INFINITY;

export interface LogSumExpVector {
  name: string;
  x: number[];
  cols?: number;
  temperature?: number;
  expected: number[];
}

export const LOG_SUM_EXP_VECTORS: readonly LogSumExpVector[] = [
  { name: 'NaN makes the row NaN', x: [1, Number.NaN, inf], expected: [Number.NaN] },
  { name: '+Infinity gives +Infinity', x: [inf, 1, -inf], expected: [inf] },
  { name: 'only −Infinity gives −Infinity', x: [-inf, -inf, -inf], expected: [-inf] },
  { name: '−Infinity entries add nothing', x: [-inf, 0, 0, -inf], expected: [Math.LN2] },
  { name: 'equal entries: max + log n', x: [3, 3, 3, 3], temperature: 2, expected: [1.5 + Math.log(4)] },
  {
    name: 'one row each rule',
    x: [Number.NaN, 0, inf, 0, -inf, -inf, 5, -inf],
    cols: 2,
    expected: [Number.NaN, inf, -inf, 5],
  },
  // Far below the max the terms vanish: the result is the max itself (exp(−1000) ≪ 2^-53).
  { name: 'a dominant logit', x: [1000, 0, -5], expected: [1000] },
];
