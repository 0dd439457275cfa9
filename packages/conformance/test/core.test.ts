import { createCoreBackend } from '@softmax/core';
import { OP_NAMES } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { describeConformance } from '../src/index.js';
import { COVERED_OPS } from '../src/suite/coverage.js';

/*
 * Core's declared bound. Core computes in float64 and rounds once:
 *  - float64: e = exp((x − max)/T) carries the rounding of x − max and of the division,
 *    2u·|z| with z = (x − max)/T, plus ~4u for exp, the compensated sum, the division and
 *    the store (u = 2^-53). The suite's inputs keep |z| ≤ 120 wherever the result does not
 *    underflow (random rows in [-30, 30] at T = 0.5), so (2·120 + 4)·u ≈ 2.7e-14 → 3e-14.
 *    Measured worst against the double-double oracle: 3.3e-15 (27 ulp, temperature 0.01).
 *  - float32: the float64 result is within ~3e-14 relative of the exact value, so rounding it
 *    gives the correctly rounded float32 except next to a midpoint, where it can be one ulp
 *    off: 2^-23 relative. Measured: 0 ulp (every float32 result correctly rounded).
 */
describeConformance('core', () => createCoreBackend(), {
  rtol: 2 ** -23,
  float64: { rtol: 3e-14 },
});

describe('the suite covers the op table', () => {
  it('every op of @softmax/core/backend OPS has conformance cases', () => {
    expect([...COVERED_OPS].sort()).toEqual([...OP_NAMES].sort());
  });
});
