import backward from '../shaders/backward.wgsl';
import common from '../shaders/common.wgsl';
import forward from '../shaders/forward.wgsl';
import lanesScalar from '../shaders/lanes_scalar.wgsl';
import lanesVec4 from '../shaders/lanes_vec4.wgsl';
import reduceShared from '../shaders/reduce_shared.wgsl';
import reduceShuffle from '../shaders/reduce_shuffle.wgsl';
import reduceSingle from '../shaders/reduce_single.wgsl';
import reduceSubgroup from '../shaders/reduce_subgroup.wgsl';
import temperature from '../shaders/temperature.wgsl';

import type { Reduce } from './plan.js';

export type Op = 'softmax' | 'logSoftmax' | 'softmaxBackward' | 'logSoftmaxBackward';
export type Stage = 'fused' | 'partial' | 'write';

export interface Variant {
  /** Lanes per load: 4 when the row length is a multiple of 4. */
  vec: 1 | 4;
  /** How a unit's threads reduce (see Reduce in plan.ts). */
  reduce: Reduce;
}

/** Which kernel file, entry-point prefix and LOG override each operation uses. */
export const OPS: Record<Op, { backward: boolean; log: boolean }> = {
  softmax: { backward: false, log: false },
  logSoftmax: { backward: false, log: true },
  softmaxBackward: { backward: true, log: false },
  logSoftmaxBackward: { backward: true, log: true },
};

/** The bindings each entry point uses (layout 'auto' keeps only those). */
export const BINDINGS: Record<'forward' | 'backward', Record<Stage, readonly number[]>> = {
  forward: { fused: [0, 2, 4], partial: [0, 2, 3, 4], write: [0, 2, 3, 4] },
  backward: { fused: [0, 1, 2, 4], partial: [0, 1, 3, 4], write: [0, 1, 2, 3, 4] },
};

const REDUCTIONS: Record<Reduce, { source: string; enable: string }> = {
  single: { source: reduceSingle, enable: '' },
  shuffle: { source: reduceShuffle, enable: 'enable subgroups;' },
  subgroup: { source: reduceSubgroup, enable: 'enable subgroups;' },
  shared: { source: reduceShared, enable: '' },
};

export function entryPoint(op: Op, stage: Stage): string {
  return `${OPS[op].backward ? 'bwd' : 'fwd'}_${stage}`;
}

/** The WGSL module for a kernel file and variant: enable directive, lanes, reductions, helpers, temperature, kernels. */
export function moduleSource(backwardKernels: boolean, variant: Variant): string {
  return [
    REDUCTIONS[variant.reduce].enable,
    variant.vec === 4 ? lanesVec4 : lanesScalar,
    REDUCTIONS[variant.reduce].source,
    common,
    temperature,
    backwardKernels ? backward : forward,
  ].join('\n');
}
