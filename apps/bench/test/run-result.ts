import type { Measurement, RunResult } from '../src/results.js';

/** A result file of one softmax float32 scenario, 1 × cols, with these measurements (for compare and pool tests). */
export const runOf = (results: Measurement[], cols = 10): RunResult => ({
  schema: 'softmax-bench/1',
  startedAt: '',
  finishedAt: '',
  suite: { name: 't', budget: {} as RunResult['suite']['budget'], ops: [], dtypes: [], modes: ['user'], shapes: [] },
  machine: {},
  candidates: [],
  scenarios: [{ op: 'softmax', dtype: 'float32', rows: 1, cols, elements: cols, bytes: 8 * cols, results }],
});
