import type { Backend, Dtype, FloatArray } from '@softmax/core';
import { DTYPES } from './dtypes.js';

/** An accuracy bound: |y − ref| ≤ rtol·scale + atol, atol counting only where |ref| is below the smallest normal. */
export interface AccuracyBound {
  /** Relative tolerance. */
  rtol: number;
  /** Default: the dtype's smallest normal number, which allows flushing subnormal results to zero. */
  atol?: number;
  /**
   * sample: how close u may come to the boundary between two ids' intervals (in probability)
   * before the backend may draw the other id, its cumulative sums being rounded otherwise than
   * the oracle's. Default 256 · rtol.
   */
  sampleMargin?: number;
}

/** What a backend declares; `describeConformance` asserts it. */
export interface ConformanceContract extends AccuracyBound {
  /** The float64 bound; required when `backend.dtypes` includes 'float64'. */
  float64?: AccuracyBound;
  /** 'small' trims the largest shapes (1 × 1,000,000 and 4096 × 128) for very slow devices. Default 'full'. */
  scale?: 'full' | 'small';
  /**
   * What the backend does with subnormal *inputs*: 'preserve' (default) computes on them as they
   * are; 'flush' treats them as zeros of the same sign (as GPUs may). With 'flush' the expected
   * results are the oracle's on the inputs with every subnormal replaced by ±0 — still checked.
   */
  subnormalInputs?: 'preserve' | 'flush';
  /**
   * What the gradients do with an intermediate *result* below the dtype's smallest normal (a
   * product y·dy, a row sum): 'preserve' (default), or 'flush' to zero before the division by T, as
   * GPUs may. With 'flush' each gradient element is allowed an extra absolute error of
   * (2 + max(|y_j|, e^{y_j})·(cols + 1))·minNormal / T: at most cols + 1 flushed terms (the row
   * sum's and the element's own), each below minNormal times its factor, then divided by T.
   */
  gradientIntermediates?: 'preserve' | 'flush';
  /**
   * For a backend whose callers can hold views of its own memory (wasm's `alloc(n).view()`): how
   * to make one. The hostile-input suite then passes such views as inputs and `out`; the promise
   * is a correct result or a SoftmaxError, and the backend still correct on the next normal call.
   */
  ownMemory?: (backend: Backend) => OwnMemory;
  /**
   * The backend dispatches each call to one of several member backends (as `@softmax/auto` does):
   * the results of two calls may come from different members, each within this bound. The "with
   * out" cases then check a call with `out` and the same call without it each against the oracle
   * instead of against each other (two correct float implementations may differ by an ulp).
   */
  dispatcher?: true;
}

/** Views of a backend's own memory, for the hostile-input suite (see `ConformanceContract.ownMemory`). */
export interface OwnMemory {
  /** A view of `length` elements of `dtype` in the backend's memory, live (contents unspecified). */
  view(length: number, dtype: Dtype): FloatArray;
  /** A view of memory the backend no longer gives the caller (e.g. of a freed buffer), if it has such a thing. */
  stale?(length: number, dtype: Dtype): FloatArray;
}

/**
 * The bound for one dtype, with atol filled in.
 *
 * @example
 * ```ts
 * import { boundFor } from '@softmax/conformance/helpers';
 *
 * boundFor({ rtol: 1e-6, float64: { rtol: 1e-12 } }, 'float64'); // rtol 1e-12, atol float64's smallest normal
 * ```
 */
export function boundFor(contract: ConformanceContract, dtype: Dtype): Required<AccuracyBound> {
  const bound = dtype === 'float64' ? contract.float64 : contract;
  if (!bound || !(bound.rtol >= 0)) {
    throw new Error(
      `conformance contract: the backend lists ${dtype} but the contract has no ${dtype === 'float64' ? 'float64.rtol' : 'rtol'}`,
    );
  }
  return {
    rtol: bound.rtol,
    atol: bound.atol ?? DTYPES[dtype].minNormal,
    sampleMargin: bound.sampleMargin ?? 256 * bound.rtol,
  };
}
