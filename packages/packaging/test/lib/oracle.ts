/**
 * The test's own softmax: float64, max subtracted, plain sums (rows are short and positive, so
 * the sum is accurate to a few ulp of float64), then compared with what a package returned.
 */
export function softmaxRows(x: ArrayLike<number>, cols: number): number[] {
  const y: number[] = [];
  for (let r = 0; r < x.length / cols; r++) {
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
    let sum = 0;
    const e: number[] = [];
    for (let c = 0; c < cols; c++) {
      e.push(Math.exp(x[r * cols + c] - max));
      sum += e[c];
    }
    for (const v of e) y.push(v / sum);
  }
  return y;
}

/** Logits with a spread of magnitudes (a small LCG: any seed, nothing copied from the packages). */
export function logits(rows: number, cols: number, seed = 7): { x: number[]; cols: number } {
  let s = seed >>> 0;
  const x: number[] = [];
  for (let i = 0; i < rows * cols; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    // Float32-representable values, so every runtime sees exactly these inputs.
    x.push(Math.fround((s / 2 ** 32 - 0.5) * 16));
  }
  return { x, cols };
}

export interface PathResult {
  type?: string;
  values?: number[];
  error?: string;
}

/**
 * The worst relative error of a float32 result against the float64 softmax, or the reason it is
 * not a result at all. The packages promise float32 softmax within a few ulp; 1e-5 relative
 * (about 80 float32 ulp) still separates a right answer from any wrong one by orders of magnitude.
 */
export function judge(result: PathResult | undefined, x: number[], cols: number): string | undefined {
  if (!result) return 'no result';
  if (result.error) return result.error;
  if (result.type !== '[object Float32Array]') return `returned ${result.type}, not a Float32Array`;
  const want = softmaxRows(x, cols);
  const got = result.values ?? [];
  if (got.length !== want.length) return `${got.length} values, expected ${want.length}`;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / Math.max(want[i], 1e-30);
    if (!(err <= 1e-5)) return `element ${i}: ${got[i]} vs ${want[i]} (relative error ${err.toExponential(2)})`;
  }
  return undefined;
}

/** Every path that must work, judged: { path: reason } for those that failed, {} when all passed. */
export function failures(
  out: Record<string, PathResult>,
  paths: string[],
  x: number[],
  cols: number,
): Record<string, string> {
  const bad: Record<string, string> = {};
  for (const p of paths) {
    const reason = judge(out[p], x, cols);
    if (reason) bad[p] = reason;
  }
  return bad;
}

export const PATHS = ['core', 'wasm', 'webgpu', 'auto', 'auto:core', 'auto:wasm', 'auto:webgpu'];
