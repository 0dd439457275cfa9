import type { Dtype } from '@softmax/core';
import { DTYPES } from './dtypes.js';

/** An accuracy bound: |y − ref| ≤ rtol·scale + atol, atol counting only where |ref| is below the smallest normal. */
export interface AccuracyBound {
  rtol: number;
  /** Default: the dtype's smallest normal number, which allows flushing subnormal results to zero. */
  atol?: number;
}

/** What a backend declares; `describeConformance` asserts it. */
export interface ConformanceContract extends AccuracyBound {
  /** The float64 bound; required when `backend.dtypes` includes 'float64'. */
  float64?: AccuracyBound;
  /** 'small' trims the largest shapes (1 × 1,000,000 and 4096 × 128) for very slow devices. Default 'full'. */
  scale?: 'full' | 'small';
  /**
   * The backend dispatches each call to one of several member backends (as @softmax/auto does):
   * the results of two calls may come from different members, each within this bound. The "with
   * out" cases then check a call with `out` and the same call without it each against the oracle
   * instead of against each other (two correct float implementations may differ by an ulp).
   */
  dispatcher?: true;
}

/** A dtype's bound as the suite uses it; `dispatcher` rides along into the suite's context. */
export type SuiteBound = Required<AccuracyBound> & Pick<ConformanceContract, 'dispatcher'>;

/** The bound for one dtype, with atol filled in. */
export function boundFor(contract: ConformanceContract, dtype: Dtype): SuiteBound {
  const bound = dtype === 'float64' ? contract.float64 : contract;
  if (!bound || !(bound.rtol >= 0)) {
    throw new Error(
      `conformance contract: the backend lists ${dtype} but the contract has no ${dtype === 'float64' ? 'float64.rtol' : 'rtol'}`,
    );
  }
  const atol = bound.atol ?? DTYPES[dtype].minNormal;
  return contract.dispatcher ? { rtol: bound.rtol, atol, dispatcher: true } : { rtol: bound.rtol, atol };
}
