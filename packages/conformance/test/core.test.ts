import { createCoreBackend } from '@softmax/core';
import { OP_NAMES } from '@softmax/core/backend';
import { describe, expect, it } from 'vitest';
import { describeConformance, describeSoak } from '../src/index.js';
import { COVERED_OPS } from '../src/suite/coverage.js';

/*
 * Core's declared bound. Core computes in float64 and rounds once:
 *  - float64: e = exp((x − max)/T) is formed with the rounding errors of x − max and of the
 *    division put back (reference.ts, expShifted), so its error does not grow with
 *    |z| = |x − max|/T: exp, the correction, the compensated sum, the division and the store
 *    cost a few u (u = 2^-53). Log-softmax rounds z itself, 2u·|z| ≤ 2u·|ref|. The bound stays
 *    the 3e-14 it was when the error grew as 2u·|z| (|z| ≤ 120 then, with ~4u on top).
 *    Measured worst against the double-double oracle: 4.4e-16 (3 ulp, 4096 × 128).
 *  - float32: the float64 result is within ~3e-14 relative of the exact value, so rounding it
 *    gives the correctly rounded float32 except next to a midpoint, where it can be one ulp
 *    off: 2^-23 relative. Measured: 0 ulp (every float32 result correctly rounded).
 */
describeConformance('core', () => createCoreBackend(), {
  rtol: 2 ** -23,
  // sample draws in float64 whatever the logits' type: its boundaries are within ~1e-15 of the oracle's.
  sampleMargin: 1e-12,
  float64: { rtol: 3e-14, sampleMargin: 1e-12 },
});

describe('the suite covers the op table', () => {
  it('every op of @softmax/core/backend OPS has conformance cases', () => {
    expect([...COVERED_OPS].sort()).toEqual([...OP_NAMES].sort());
  });
});
describeSoak('core', () => createCoreBackend());
