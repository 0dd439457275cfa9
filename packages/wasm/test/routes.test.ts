import { OPS } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { routeOf, shapeOf } from '../src/routes.js';

// Operands are the op's inputs then its outputs: softmax [x, out], the gradients [y, dy, out].
// `at` holds each one's byte offset in the backend's memory, -1 outside it.

describe('routes: where a copying call puts each operand', () => {
  const forward = shapeOf(OPS.softmax, 'float32');
  const backward = shapeOf(OPS.softmaxBackward, 'float64');

  it('forward: x is copied into the output, which has the one slot', () => {
    expect(routeOf(forward, [-1, -1], false)).toEqual({ slots: [1], copies: [0], place: [1, 1], outs: [1] });
    // x in memory is read where it lies; the output still goes through its slot.
    expect(routeOf(forward, [4096, -1], false)).toEqual({ slots: [1], copies: [], place: [0, 1], outs: [1] });
    // An out in memory takes x's copy itself: no slot, nothing to copy out.
    expect(routeOf(forward, [-1, 4096], true)).toEqual({ slots: [], copies: [0], place: [1, 1], outs: [] });
  });

  it('backward: y takes the output place, dy a slot of its own', () => {
    expect(routeOf(backward, [-1, -1, -1], false)).toEqual({
      slots: [2, 1],
      copies: [0, 1],
      place: [2, 1, 2],
      outs: [2],
    });
    // With y in memory, dy is the one copied into the output's place.
    expect(routeOf(backward, [4096, -1, -1], false)).toEqual({ slots: [2], copies: [1], place: [0, 2, 2], outs: [2] });
  });

  it('an output in memory that is an input there (in place) takes no other input', () => {
    // out === y: dy cannot go where y's data is.
    expect(routeOf(backward, [4096, -1, 4096], true)).toEqual({ slots: [1], copies: [1], place: [0, 1, 2], outs: [] });
    // out elsewhere in memory: dy goes there.
    expect(routeOf(backward, [4096, -1, 8192], true)).toEqual({ slots: [], copies: [1], place: [0, 2, 2], outs: [] });
  });

  it('an input is never copied into an output of another shape', () => {
    // logSumExp's output is one value per row: x needs a slot of its own.
    const lse = { ...forward, matrix: [true, false], routes: [] };
    expect(routeOf(lse, [-1, -1], false)).toEqual({ slots: [1, 0], copies: [0], place: [0, 1], outs: [1] });
  });

  it('routes without an output in memory are computed once per pattern', () => {
    expect(routeOf(backward, [-1, 64, -1], false)).toBe(routeOf(backward, [-1, 128, -1], false));
    expect(routeOf(backward, [-1, 64, 256], true)).not.toBe(routeOf(backward, [-1, 64, 256], true));
  });
});
