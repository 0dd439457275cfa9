import common from '../shaders/common.wgsl';
import lanesScalar from '../shaders/lanes_scalar.wgsl';
import lanesVec4 from '../shaders/lanes_vec4.wgsl';
import reduceShared from '../shaders/reduce_shared.wgsl';
import reduceShuffle from '../shaders/reduce_shuffle.wgsl';
import reduceSingle from '../shaders/reduce_single.wgsl';
import reduceSubgroup from '../shaders/reduce_subgroup.wgsl';
import rowStats from '../shaders/row_stats.wgsl';
import temperature from '../shaders/temperature.wgsl';

import type { Reduce } from './plan.js';

export interface Variant {
  /** Lanes per load: 4 when the row length is a multiple of 4. */
  vec: 1 | 4;
  /** How a unit's threads reduce (see Reduce in plan.ts). */
  reduce: Reduce;
}

const REDUCTIONS: Record<Reduce, { source: string; enable: string }> = {
  single: { source: reduceSingle, enable: '' },
  shuffle: { source: reduceShuffle, enable: 'enable subgroups;' },
  subgroup: { source: reduceSubgroup, enable: 'enable subgroups;' },
  shared: { source: reduceShared, enable: '' },
};

/**
 * The WGSL module of a kernel file (an op's, see ops.ts) in a variant: the enable directive, the
 * lanes, the reductions, the shared helpers, temperature and row statistics, then the kernels.
 */
export function moduleSource(kernel: string, variant: Variant): string {
  return [
    REDUCTIONS[variant.reduce].enable,
    variant.vec === 4 ? lanesVec4 : lanesScalar,
    REDUCTIONS[variant.reduce].source,
    common,
    temperature,
    rowStats,
    kernel,
  ].join('\n');
}
