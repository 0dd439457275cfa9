import { crossEntropyVariants, planOf, suites } from '@softmax/bench-scenarios';
import { seededRandom } from '@softmax/conformance/helpers';
import { describe, expect, it } from 'vitest';
import {
  bytesMoved,
  makeInputs,
  outputPresence,
  overwrittenInputs,
  returnedMatrixBytes,
  sentinelValue,
} from '../src/inputs.js';

const ignoredRows = { operand: 'targets', option: 'ignoreIndex', every: 8 };
const [lossGrad, inPlace] = crossEntropyVariants;

describe('makeInputs for an integer operand (crossEntropy)', () => {
  const rows = 20;
  const cols = 37;
  const [logits, targets] = makeInputs('crossEntropy', 'float32', rows, cols, 1, { sentinel: ignoredRows });

  it('gives the logits as before and class indices in [0, cols), one per row, as an Int32Array', () => {
    // The same generator and order as every other op: the logits first, uniform in [−8, 8).
    const next = seededRandom(1 + rows * 31 + cols);
    const expected = Float32Array.from({ length: rows * cols }, () => next() * 16 - 8);
    expect(logits).toEqual(expected);
    expect(targets).toBeInstanceOf(Int32Array);
    expect(targets.length).toBe(rows);
    const kept = [...targets].filter((_, i) => i % 8 !== 7);
    for (const t of kept) expect(Number.isInteger(t) && t >= 0 && t < cols).toBe(true);
    // Not one class repeated: the indices spread over the row.
    expect(new Set(kept).size).toBeGreaterThan(kept.length / 2);
  });

  it('marks every eighth row with the declaration default of ignoreIndex, −100 (PyTorch ignore_index)', () => {
    expect([...targets].flatMap((t, i) => (t === -100 ? [i] : []))).toEqual([7, 15]);
    expect(sentinelValue('crossEntropy', 'ignoreIndex')).toBe(-100);
    expect(sentinelValue('crossEntropy', 'ignoreIndex', 7)).toBe(7);
  });

  it('is deterministic from the seed, and differs with the seed or the shape', () => {
    const again = makeInputs('crossEntropy', 'float32', rows, cols, 1, { sentinel: ignoredRows });
    expect(again[1]).toEqual(targets);
    expect(makeInputs('crossEntropy', 'float32', rows, cols, 2)[1]).not.toEqual(targets);
    expect(makeInputs('crossEntropy', 'float32', rows, cols + 1)[1]).not.toEqual(targets);
  });

  it('leaves every row a class index without a sentinel plan', () => {
    const [, plain] = makeInputs('crossEntropy', 'float64', rows, cols);
    expect([...plain].every((t) => t >= 0 && t < cols)).toBe(true);
  });

  it('keeps the other ops exactly as they were (y is softmax of the logits, dy uniform in [−1, 1))', () => {
    const [y, dy] = makeInputs('softmaxBackward', 'float64', 3, 5);
    const next = seededRandom(1 + 3 * 31 + 5);
    const x = Array.from({ length: 15 }, () => next() * 16 - 8);
    const d = Array.from({ length: 15 }, () => next() * 2 - 1);
    expect([...dy]).toEqual(d);
    for (let r = 0; r < 3; r++) {
      const row = x.slice(r * 5, r * 5 + 5);
      const m = Math.max(...row);
      const sum = row.reduce((s, v) => s + Math.exp(v - m), 0);
      for (const [j, v] of row.entries()) expect(y[r * 5 + j]).toBeCloseTo(Math.exp(v - m) / sum, 14);
    }
  });
});

describe("a call's outputs, from the declaration and the options", () => {
  it('knows which outputs a crossEntropy call computes and which input it overwrites', () => {
    expect(outputPresence('crossEntropy', lossGrad.options)).toEqual(['present', 'present', 'absent']);
    expect(outputPresence('crossEntropy', inPlace.options)).toEqual(['present', 'in-place', 'absent']);
    expect(outputPresence('crossEntropy', {})).toEqual(['present', 'absent', 'absent']);
    expect(overwrittenInputs('crossEntropy', inPlace.options)).toEqual([0]);
    expect(overwrittenInputs('crossEntropy', lossGrad.options)).toEqual([]);
    expect(overwrittenInputs('softmax')).toEqual([]);
  });

  it('counts the bytes a call moves: logits, targets, row losses (float64) and the gradient', () => {
    const [rows, cols] = [8, 1000];
    const expected = rows * cols * 4 + rows * 4 + rows * 8 + rows * cols * 4;
    expect(bytesMoved('crossEntropy', 'float32', rows, cols, lossGrad.options)).toBe(expected);
    // In place it is the same traffic: the gradient is written, over the logits.
    expect(bytesMoved('crossEntropy', 'float32', rows, cols, inPlace.options)).toBe(expected);
    expect(bytesMoved('crossEntropy', 'float32', rows, cols)).toBe(rows * cols * 4 + rows * 12);
    // The other ops as before: input(s) plus output.
    expect(bytesMoved('softmax', 'float64', 2, 3)).toBe(2 * 6 * 8);
    expect(bytesMoved('softmaxBackward', 'float32', 2, 3)).toBe(3 * 6 * 4);
    expect(bytesMoved('logSumExp', 'float32', 2, 3)).toBe(6 * 4 + 2 * 4);
  });

  it('counts the new gradient a call returns, and none in place', () => {
    expect(returnedMatrixBytes('crossEntropy', 'float32', 8, 100, lossGrad.options)).toBe(3200);
    expect(returnedMatrixBytes('crossEntropy', 'float64', 8, 100, lossGrad.options)).toBe(6400);
    expect(returnedMatrixBytes('crossEntropy', 'float32', 8, 100, inPlace.options)).toBe(0);
  });
});

describe('the suites', () => {
  it('measure crossEntropy at the issue shapes in float32, both calls, with memory; quick at one small shape', () => {
    const full = planOf(suites.full).filter((s) => s.op === 'crossEntropy');
    expect(full.map((s) => `${s.variant?.name} ${s.dtype} ${s.rows}x${s.cols}`)).toEqual([
      'loss+grad float32 512x32000',
      'loss+grad float32 64x128256',
      'loss+grad float32 8x151936',
      'in-place float32 512x32000',
      'in-place float32 64x128256',
      'in-place float32 8x151936',
    ]);
    expect(suites.full.perOp?.crossEntropy?.memory).toBe(true);
    const quick = planOf(suites.quick).filter((s) => s.op === 'crossEntropy');
    expect(new Set(quick.map((s) => `${s.rows}x${s.cols}`)).size).toBe(1);
    expect(quick[0].rows * quick[0].cols).toBeLessThanOrEqual(32768);
    // softmax keeps its shapes and both float types.
    expect(planOf(suites.quick).filter((s) => s.op === 'softmax')).toHaveLength(8);
  });
});
